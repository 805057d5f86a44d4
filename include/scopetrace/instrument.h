// scopetrace/instrument.h
//
// The instrumentation API: RAII scopes, instants and counters, from any thread.
//
// Example:
//
//   void Forward(const Batch& batch) {
//     SCOPETRACE_SCOPE("forward");                              // category "host"
//     SCOPETRACE_SCOPE("conv2d", "shape", "1x3x224x224", "batch", batch.size);
//     SCOPETRACE_SCOPE_CAT("model", "attention");              // explicit category
//     SCOPETRACE_SCOPE_DYNAMIC(layer.name);                    // runtime name, copied
//     SCOPETRACE_INSTANT("cache_miss");
//     SCOPETRACE_COUNTER("queue_depth", queue.size());        // int or double
//   }
//   scopetrace::set_thread_name("decoder");
//
// Names, categories and arg keys given to SCOPETRACE_SCOPE / _CAT / _INSTANT / _COUNTER
// must be string literals (or otherwise outlive the process's profiling): they are
// stored as pointers. Arg values may be integers, doubles, bools, string literals and
// std::string_view / std::string (copied at the scope's start).
//
// Cost: while no capture is active (before start(), in WAIT steps) a macro is a relaxed
// atomic load and a branch. While capturing, a scope without args is two clock reads and
// one 24-byte record into the thread's ring; args and dynamic names add their bytes.
// Under OverheadPolicy::kSampleHottest a site may keep only 1 in N of its events (the
// trace's metadata says which and from when).
// Nothing on this path locks, allocates or makes a system call (a thread's first event
// allocates its ring once). Defining SCOPETRACE_DISABLE compiles every macro to nothing.

#ifndef SCOPETRACE_INSTRUMENT_H_
#define SCOPETRACE_INSTRUMENT_H_

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "scopetrace/internal/ring.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif
#include <time.h>

namespace scopetrace {

// Names the calling thread in traces (copied). Works whether or not a capture is active.
void set_thread_name(std::string_view name);

namespace internal {

// Non-zero while a capture (WARMUP or RECORD step) is active.
extern std::atomic<uint32_t> g_capture_enabled;
// Non-zero while args are recorded (ProfilerOptions::record_args).
extern std::atomic<uint32_t> g_record_args;
// Whether Ticks() reads the invariant TSC (true) or CLOCK_MONOTONIC ns (false). Set once
// at load time, before main().
extern bool g_ticks_from_tsc;

extern thread_local ThreadRing* t_ring;
// The thread's first event: creates and registers its ring. Null after thread exit.
ThreadRing* RegisterCurrentThread();

inline bool CaptureEnabled() {
  return __builtin_expect(g_capture_enabled.load(std::memory_order_relaxed) != 0, 0);
}

inline uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

inline uint64_t Ticks() {
#if defined(__x86_64__) || defined(__i386__)
  if (__builtin_expect(g_ticks_from_tsc, 1)) return __rdtsc();
#endif
  return MonotonicNs();
}

// Out of line: only sites the budget policy samples get here. Counts the calling
// thread's events of `site` and keeps every `every`-th.
bool KeepSampled(const Site* site, uint32_t every);

// Whether this event of `site` is recorded: yes unless the budget policy sampled the site.
// Checked only once capture is on, so the disabled path stays a load and a branch; on
// the enabled path it is one relaxed load of the site (in a line the event is about to
// name anyway) and a predictable branch.
inline bool Keep(const Site* site) {
  const uint32_t every = site->sample_every.load(std::memory_order_relaxed);
  if (__builtin_expect(every <= 1, 1)) return true;
  return KeepSampled(site, every);
}

inline ThreadRing* Ring() {
  ThreadRing* ring = t_ring;
  if (__builtin_expect(ring == nullptr, 0)) ring = RegisterCurrentThread();
  return ring;
}

// --- Payload (args, dynamic names) -----------------------------------------------------

template <typename T>
constexpr bool kIsStringLike = std::is_convertible_v<const T&, std::string_view>;

template <typename T>
size_t ArgBytes(const T& value) {
  if constexpr (kIsStringLike<T>) {
    return 1 + sizeof(const char*) + sizeof(uint32_t) + std::string_view(value).size();
  } else {
    static_assert(std::is_arithmetic_v<T>,
                  "scopetrace arg values are integers, doubles, bools or strings");
    return 1 + sizeof(const char*) + 8;
  }
}

inline size_t ArgsBytes() { return 0; }
template <typename K, typename V, typename... Rest>
size_t ArgsBytes(const K&, const V& value, const Rest&... rest) {
  return ArgBytes(value) + ArgsBytes(rest...);
}

inline void WriteName(ThreadRing* ring, std::string_view name) {
  const uint8_t type = kPayloadName;
  const uint32_t size = static_cast<uint32_t>(name.size());
  ring->WritePayload(&type, 1);
  ring->WritePayload(&size, sizeof(size));
  ring->WritePayload(name.data(), name.size());
}

template <typename T>
void WriteArg(ThreadRing* ring, const char* key, const T& value) {
  uint8_t type;
  uint64_t bits = 0;
  if constexpr (kIsStringLike<T>) {
    const std::string_view text(value);
    const uint32_t size = static_cast<uint32_t>(text.size());
    type = kPayloadString;
    ring->WritePayload(&type, 1);
    ring->WritePayload(&key, sizeof(key));
    ring->WritePayload(&size, sizeof(size));
    ring->WritePayload(text.data(), text.size());
    return;
  } else if constexpr (std::is_same_v<T, bool>) {
    type = kPayloadBool;
    bits = value ? 1 : 0;
  } else if constexpr (std::is_floating_point_v<T>) {
    type = kPayloadDouble;
    const double d = static_cast<double>(value);
    std::memcpy(&bits, &d, sizeof(bits));
  } else if constexpr (std::is_unsigned_v<T>) {
    type = kPayloadUint;
    bits = static_cast<uint64_t>(value);
  } else {
    type = kPayloadInt;
    bits = static_cast<uint64_t>(static_cast<int64_t>(value));
  }
  ring->WritePayload(&type, 1);
  ring->WritePayload(&key, sizeof(key));
  ring->WritePayload(&bits, sizeof(bits));
}

inline void WriteArgs(ThreadRing*) {}
template <typename K, typename V, typename... Rest>
void WriteArgs(ThreadRing* ring, const K& key, const V& value, const Rest&... rest) {
  static_assert(std::is_convertible_v<const K&, const char*>,
                "scopetrace arg keys are string literals");
  WriteArg(ring, static_cast<const char*>(key), value);
  WriteArgs(ring, rest...);
}

// Writes a record with payload; `name` is empty for static names.
template <typename... Args>
bool EmitWithPayload(uintptr_t tag, uint64_t ts, const Site* site, std::string_view name,
                     const Args&... args) {
  ThreadRing* ring = Ring();
  if (ring == nullptr) return false;
  const bool with_args = sizeof...(Args) > 0 && g_record_args.load(std::memory_order_relaxed) != 0;
  const size_t name_bytes = site->name == nullptr ? 1 + sizeof(uint32_t) + name.size() : 0;
  const size_t bytes = name_bytes + (with_args ? ArgsBytes(args...) : 0);
  if (!ring->BeginWithPayload(tag, ts, site, bytes)) return false;
  if (site->name == nullptr) WriteName(ring, name);
  if (with_args) WriteArgs(ring, args...);
  ring->FinishWithPayload();
  return true;
}

// A scope with a static name and no args: one complete record at its end.
class Scope {
 public:
  explicit Scope(const Site* site) {
    if (CaptureEnabled() && Keep(site)) {
      site_ = site;
      begin_ = Ticks();
    }
  }
  ~Scope() {
    if (site_ != nullptr) {
      const uint64_t end = Ticks();
      if (ThreadRing* ring = Ring()) ring->PushComplete(begin_, end, site_);
    }
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const Site* site_ = nullptr;
  uint64_t begin_ = 0;
};

// A scope with args and/or a dynamic name: the payload is copied at its start (an open
// record) and its end is a close record, so temporaries passed as args are safe.
class PayloadScope {
 public:
  template <typename... Args>
  PayloadScope(const Site* site, std::string_view name, const Args&... args) {
    static_assert(sizeof...(Args) % 2 == 0, "scopetrace args come in key, value pairs");
    if (CaptureEnabled() && Keep(site)) {
      open_ = EmitWithPayload(kTagOpen, Ticks(), site, name, args...);
    }
  }
  ~PayloadScope() {
    if (open_) t_ring->PushClose(Ticks());
  }
  PayloadScope(const PayloadScope&) = delete;
  PayloadScope& operator=(const PayloadScope&) = delete;

 private:
  bool open_ = false;
};

template <typename... Args>
inline void EmitInstant(const Site* site, std::string_view name, const Args&... args) {
  static_assert(sizeof...(Args) % 2 == 0, "scopetrace args come in key, value pairs");
  if (!CaptureEnabled() || !Keep(site)) return;
  const uint64_t ts = Ticks();
  if (sizeof...(Args) == 0 && site->name != nullptr) {
    if (ThreadRing* ring = Ring()) ring->PushValue(kTagInstant, ts, 0, site);
    return;
  }
  EmitWithPayload(kTagInstant, ts, site, name, args...);
}

template <typename T>
inline void EmitCounter(const Site* site, T value) {
  static_assert(std::is_arithmetic_v<T>, "SCOPETRACE_COUNTER takes an int or a double");
  if (!CaptureEnabled() || !Keep(site)) return;
  const uint64_t ts = Ticks();
  ThreadRing* ring = Ring();
  if (ring == nullptr) return;
  if constexpr (std::is_floating_point_v<T>) {
    uint64_t bits;
    const double d = static_cast<double>(value);
    std::memcpy(&bits, &d, sizeof(bits));
    ring->PushValue(kTagCounterDouble, ts, bits, site);
  } else {
    ring->PushValue(kTagCounterInt, ts, static_cast<uint64_t>(static_cast<int64_t>(value)), site);
  }
}

// Picks the cheaper scope form at compile time: no args → Scope.
template <typename... Args>
struct ScopeFor {
  using type = PayloadScope;
};
template <>
struct ScopeFor<> {
  using type = Scope;
};

template <typename... Args>
auto MakeScope(const Site* site, const Args&... args) -> typename ScopeFor<Args...>::type {
  if constexpr (sizeof...(Args) == 0) {
    return Scope(site);
  } else {
    return PayloadScope(site, std::string_view(), args...);
  }
}

}  // namespace internal
}  // namespace scopetrace

#define SCOPETRACE_CONCAT_INNER(a, b) a##b
#define SCOPETRACE_CONCAT(a, b) SCOPETRACE_CONCAT_INNER(a, b)
#define SCOPETRACE_UID(prefix) SCOPETRACE_CONCAT(prefix, __LINE__)

#if defined(SCOPETRACE_DISABLE)

#define SCOPETRACE_SCOPE(name, ...) static_cast<void>(0)
#define SCOPETRACE_SCOPE_CAT(category, name, ...) static_cast<void>(0)
#define SCOPETRACE_SCOPE_DYNAMIC(name, ...) static_cast<void>(0)
#define SCOPETRACE_INSTANT(name, ...) static_cast<void>(0)
#define SCOPETRACE_COUNTER(name, value) static_cast<void>(0)

#else

// The call site's identity: a Site in static storage, named by an immediately invoked
// lambda so that each macro is a single declaration (usable as the body of a `for`).
#define SCOPETRACE_SITE(name, category, kind)                                            \
  []() -> const ::scopetrace::internal::Site* {                                          \
    static constexpr ::scopetrace::internal::Site scopetrace_site{name, category, kind}; \
    return &scopetrace_site;                                                             \
  }()

// A slice from here to the end of the enclosing block, category "host".
#define SCOPETRACE_SCOPE(name, ...) SCOPETRACE_SCOPE_CAT("host", name __VA_OPT__(, ) __VA_ARGS__)

// The same with an explicit category.
#define SCOPETRACE_SCOPE_CAT(category, name, ...)        \
  const auto SCOPETRACE_UID(scopetrace_scope_) =         \
      ::scopetrace::internal::MakeScope(SCOPETRACE_SITE( \
          name, category, ::scopetrace::internal::SiteKind::kScope) __VA_OPT__(, ) __VA_ARGS__)

// A slice whose name is only known at run time (copied at the scope's start).
#define SCOPETRACE_SCOPE_DYNAMIC(name, ...)                                              \
  const ::scopetrace::internal::PayloadScope SCOPETRACE_UID(scopetrace_scope_)(          \
      SCOPETRACE_SITE(nullptr, "host", ::scopetrace::internal::SiteKind::kDynamicScope), \
      std::string_view(name) __VA_OPT__(, ) __VA_ARGS__)

// A point event, with optional key/value args.
#define SCOPETRACE_INSTANT(name, ...)                                            \
  ::scopetrace::internal::EmitInstant(                                           \
      SCOPETRACE_SITE(name, "host", ::scopetrace::internal::SiteKind::kInstant), \
      std::string_view() __VA_OPT__(, ) __VA_ARGS__)

// One sample of the counter `name` (an int or a double).
#define SCOPETRACE_COUNTER(name, value) \
  ::scopetrace::internal::EmitCounter(  \
      SCOPETRACE_SITE(name, "counter", ::scopetrace::internal::SiteKind::kCounter), (value))

#endif  // SCOPETRACE_DISABLE

#endif  // SCOPETRACE_INSTRUMENT_H_
