// ReadPerfetto: .pftrace / .pftrace.zst into the Trace model.
//
// The file is a concatenation of `Trace.packet` fields (0A, varint length, TracePacket),
// read through a bounded window: plain or zstd-decompressed bytes come in blocks, every
// complete packet in the window is decoded (perfetto_decoder.h), and the incomplete tail
// waits for the next block. What cannot be read is handled the way a user can act on:
// - not a Perfetto trace at all (first byte is not 0A, nothing decodes): an error;
// - a cut or damaged end after good packets: the good part is returned with
//   metadata().truncated = true and the reason (TP also drops only the cut packet);
// - a scopetrace file whose final metadata packet is missing: truncated as well.
//
// Events are paired into slices as they are decoded, which needs each track's BEGIN and END
// events in time order in the file (scopetrace and the Perfetto SDK write them so); a file where
// they are not is read a second time with the events buffered and sorted per track.
//
// Two helper threads take what is not decoding off this one: zstd decompression runs ahead
// in PerfettoInput's read-ahead thread, and the model's fresh slice pages are mapped ahead
// by the decoder's PagePopulator (together up to two thirds of a single-threaded read's CPU).

#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exporters/perfetto_decoder.h"
#include "exporters/perfetto_input.h"
#include "exporters/proto_wire.h"
#include "exporters/trace_io.h"

namespace scopetrace::exporters {
namespace {

constexpr size_t kInitialWindow = 1 << 20;
// Once this much is decoded, the model's vectors are reserved for the whole file. Not
// sooner: the extrapolation is capped (ReserveForWholeFile), and from a smaller sample it
// falls short on large files, whose vectors then grow by copying.
constexpr uint64_t kReserveAfterBytes = 4 << 20;
// No packet we can meaningfully read is larger; a bigger length is corruption.
constexpr uint64_t kMaxPacketBytes = 256ull << 20;

std::string Hex(uint8_t b) {
  static const char kDigits[] = "0123456789ABCDEF";
  return std::string{kDigits[b >> 4], kDigits[b & 15]};
}

// One pass over the file. With kStreaming, sets *out_of_order (and returns no trace) if
// the file needs kBuffered.
absl::StatusOr<Trace> ReadPass(const std::string& path, PerfettoDecoder::Pairing pairing,
                               bool* out_of_order) {
  absl::StatusOr<std::unique_ptr<PerfettoInput>> input =
      PerfettoInput::Open(path, /*read_ahead=*/true);
  if (!input.ok()) return input.status();
  PerfettoDecoder decoder(pairing);
  bool reserved = false;

  size_t cap = kInitialWindow;
  std::unique_ptr<uint8_t[]> buf(new uint8_t[cap]);
  size_t begin = 0, end = 0;
  uint64_t offset = 0;  // stream offset of buf[begin]
  uint64_t packets = 0;
  bool eof = false;
  std::string cut;  // why reading stopped early, if it did
  bool stop = false;

  while (!stop) {
    // Decode every complete top-level field in the window.
    while (begin < end) {
      const uint8_t* p = buf.get() + begin;
      const size_t avail = end - begin;
      if (offset == 0 && packets == 0 && p[0] != 0x0A) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": not a Perfetto protobuf trace (starts with byte 0x", Hex(p[0]),
                         ", expected 0x0A)"));
      }
      // Nearly every packet: tag 0A and a one-byte length. A tight loop over those that lie
      // whole in the window; the general framing below for everything else.
      const uint8_t* q = p;
      const uint8_t* const limit = buf.get() + end;
      bool corrupt = false;
      while (limit - q >= 2 && q[0] == 0x0A && q[1] < 0x80 && limit - q - 2 >= q[1]) {
        if (!decoder.Decode(std::string_view(reinterpret_cast<const char*>(q + 2), q[1]))) {
          corrupt = true;
          break;
        }
        ++packets;
        q += 2 + q[1];
      }
      if (q != p || corrupt) {
        begin += static_cast<size_t>(q - p);
        offset += static_cast<uint64_t>(q - p);
        // Once out of order, Decode skips what follows: checking once per window is enough.
        if (decoder.out_of_order()) {
          *out_of_order = true;
          return absl::AbortedError("events out of time order: read again, buffered");
        }
        if (corrupt) {
          cut = absl::StrCat("corrupt packet at offset ", offset);
          stop = true;
          break;
        }
        continue;
      }
      uint64_t key = 0;
      const size_t k = wire::ReadVarintPrefix(p, avail, key);
      if (k == 0) {
        if (avail >= 10) {
          cut = absl::StrCat("corrupt data at offset ", offset);
          stop = true;
        }
        break;
      }
      const uint32_t type = static_cast<uint32_t>(key & 7);
      size_t field_size = 0;
      size_t header = k;
      uint64_t len = 0;
      if (type == wire::kLen) {
        const size_t l = wire::ReadVarintPrefix(p + k, avail - k, len);
        if (l == 0) {
          if (avail - k >= 10) {
            cut = absl::StrCat("corrupt packet length at offset ", offset);
            stop = true;
          }
          break;
        }
        if (len > kMaxPacketBytes) {
          cut = absl::StrCat("corrupt packet length ", len, " at offset ", offset);
          stop = true;
          break;
        }
        header += l;
        field_size = header + len;
      } else if (type == wire::kVarint) {
        uint64_t ignored;
        const size_t l = wire::ReadVarintPrefix(p + k, avail - k, ignored);
        if (l == 0) {
          if (avail - k >= 10) {
            cut = absl::StrCat("corrupt data at offset ", offset);
            stop = true;
          }
          break;
        }
        field_size = k + l;
      } else if (type == wire::kFixed64 || type == wire::kFixed32) {
        field_size = k + (type == wire::kFixed64 ? 8 : 4);
      } else {
        cut = absl::StrCat("corrupt data at offset ", offset);
        stop = true;
        break;
      }
      if (field_size > avail) break;  // wait for more bytes
      // Top-level fields other than `packet` (1) are skipped, as trace_processor does.
      if (key == 0x0A) {
        const std::string_view packet(reinterpret_cast<const char*>(p + header), len);
        if (!decoder.Decode(packet)) {
          cut = absl::StrCat("corrupt packet at offset ", offset);
          stop = true;
          break;
        }
        if (decoder.out_of_order()) {
          *out_of_order = true;
          return absl::AbortedError("events out of time order: read again, buffered");
        }
        ++packets;
      }
      begin += field_size;
      offset += field_size;
    }
    if (stop || eof) break;
    if (!reserved && offset >= kReserveAfterBytes) {
      decoder.ReserveForWholeFile((*input)->fraction_read());
      reserved = true;
    }
    if (begin > 0) {  // keep the incomplete tail at the front
      std::memmove(buf.get(), buf.get() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    if (end == cap) {
      // A packet larger than the window. Widen step by step as its bytes actually
      // arrive, so a corrupt length cannot make us allocate more than the file holds.
      std::unique_ptr<uint8_t[]> grown(new uint8_t[cap * 2]);
      std::memcpy(grown.get(), buf.get(), end);
      buf = std::move(grown);
      cap *= 2;
    }
    absl::StatusOr<size_t> n = (*input)->Read(buf.get() + end, cap - end);
    if (!n.ok()) {
      if (!absl::IsDataLoss(n.status())) return n.status();
      cut = std::string(n.status().message());
      eof = true;
      continue;  // decode what is buffered, then stop
    }
    if (*n == 0) eof = true;
    end += *n;
  }

  if (cut.empty() && end > begin) {
    cut = absl::StrCat("file ends in the middle of a packet (", end - begin, " bytes at offset ",
                       offset, ")");
  }
  if (packets == 0) {
    if (cut.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": empty trace"));
    return absl::DataLossError(absl::StrCat(path, ": no readable packet: ", cut));
  }
  if (cut.empty() && decoder.saw_marker() && !decoder.saw_metadata()) {
    cut = "the final metadata packet is missing (the writer did not finish)";
  }
  Trace trace = decoder.Finish();
  if (!cut.empty()) {
    TraceMetadata& m = trace.mutable_metadata();
    m.truncated = true;
    m.truncation_reason = absl::StartsWith(cut, path) ? cut : absl::StrCat(path, ": ", cut);
  }
  return trace;
}

}  // namespace

absl::StatusOr<Trace> ReadPerfetto(const std::string& path) {
  bool out_of_order = false;
  absl::StatusOr<Trace> trace = ReadPass(path, PerfettoDecoder::Pairing::kStreaming, &out_of_order);
  if (!out_of_order) return trace;
  return ReadPass(path, PerfettoDecoder::Pairing::kBuffered, &out_of_order);
}

}  // namespace scopetrace::exporters
