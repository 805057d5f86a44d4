#include "exporters/perfetto_metadata.h"

#include "proto/perfetto_trace.pb.h"

namespace scopetrace::exporters {

namespace pb = ::perfetto::protos;

std::string EncodeMetadata(const TraceMetadata& m, bool complete) {
  pb::ScopetraceMetadata out;
  out.set_producer(m.producer);
  out.set_complete(complete);
  if (complete) {
    out.set_worker(m.worker);
    out.set_pid(m.pid);
    out.set_cycle(m.cycle);
    out.set_first_step(m.first_step);
    out.set_last_step(m.last_step);
    out.set_schedule_set(m.has_schedule);
    pb::ScopetraceSchedule* s = out.mutable_schedule();
    s->set_skip_first(m.schedule.skip_first);
    s->set_wait(m.schedule.wait);
    s->set_warmup(m.schedule.warmup);
    s->set_active(m.schedule.active);
    s->set_repeat(m.schedule.repeat);
    out.set_start_ns(m.start_ns);
    out.set_end_ns(m.end_ns);
    out.set_wall_clock_ns(m.wall_clock_ns);
    for (const ThreadDrops& d : m.dropped) {
      pb::ScopetraceThreadDrops* o = out.add_dropped();
      o->set_tid(d.tid);
      o->set_thread_name(d.thread_name);
      o->set_dropped_events(d.dropped_events);
    }
    out.set_dropped_events(m.dropped_events);
    out.set_device_records_late(m.device_records_late);
    out.set_host_events_late(m.host_events_late);
    out.set_device_records_missing(m.device_records_missing);
    for (const ClockFit& f : m.clock_fits) {
      pb::ScopetraceClockFit* o = out.add_clock_fits();
      o->set_device(f.device);
      o->set_tick_rate_hz(f.tick_rate_hz);
      o->set_reference_ticks(f.reference_ticks);
      o->set_offset_ns(f.offset_ns);
      o->set_slope_ns_per_tick(f.slope_ns_per_tick);
      o->set_drift_ppm(f.drift_ppm);
      o->set_pairs(f.pairs);
      o->set_max_residual_ns(f.max_residual_ns);
      o->set_max_half_bracket_ns(f.max_half_bracket_ns);
      o->set_error_bound_ns(f.error_bound_ns);
    }
    const OverheadReport& r = m.overhead;
    pb::ScopetraceOverhead* o = out.mutable_overhead();
    o->set_scope_cost_ns(r.scope_cost_ns);
    o->set_instant_cost_ns(r.instant_cost_ns);
    o->set_counter_cost_ns(r.counter_cost_ns);
    o->set_total_ns(r.total_ns);
    o->set_percent(r.percent);
    o->set_budget_percent(r.budget_percent);
    o->set_over_budget(r.over_budget);
    for (const ThreadOverhead& t : r.threads) {
      pb::ScopetraceThreadOverhead* ot = o->add_threads();
      ot->set_tid(t.tid);
      ot->set_thread_name(t.thread_name);
      ot->set_events(t.events);
      ot->set_overhead_ns(t.overhead_ns);
      ot->set_percent(t.percent);
    }
    for (const std::string& s : r.top_scopes) o->add_top_scopes(s);
    for (const std::string& s : r.policy_decisions) o->add_policy_decisions(s);
    out.set_truncated(m.truncated);
    out.set_truncation_reason(m.truncation_reason);
  }
  return out.SerializeAsString();
}

bool DecodeMetadata(std::string_view bytes, TraceMetadata& m, bool& complete) {
  pb::ScopetraceMetadata in;
  if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  complete = in.complete();
  m.producer = in.producer();
  if (!complete) return true;
  m.worker = in.worker();
  m.pid = in.pid();
  m.cycle = in.cycle();
  m.first_step = in.first_step();
  m.last_step = in.last_step();
  m.has_schedule = in.schedule_set();
  m.schedule = Schedule{.skip_first = in.schedule().skip_first(),
                        .wait = in.schedule().wait(),
                        .warmup = in.schedule().warmup(),
                        .active = in.schedule().active(),
                        .repeat = in.schedule().repeat()};
  m.start_ns = in.start_ns();
  m.end_ns = in.end_ns();
  m.wall_clock_ns = in.wall_clock_ns();
  m.dropped.clear();
  for (const pb::ScopetraceThreadDrops& d : in.dropped()) {
    m.dropped.push_back(ThreadDrops{
        .tid = d.tid(), .thread_name = d.thread_name(), .dropped_events = d.dropped_events()});
  }
  m.dropped_events = in.dropped_events();
  m.device_records_late = in.device_records_late();
  m.host_events_late = in.host_events_late();
  m.device_records_missing = in.device_records_missing();
  m.clock_fits.clear();
  for (const pb::ScopetraceClockFit& f : in.clock_fits()) {
    m.clock_fits.push_back(ClockFit{.device = f.device(),
                                    .tick_rate_hz = f.tick_rate_hz(),
                                    .reference_ticks = f.reference_ticks(),
                                    .offset_ns = f.offset_ns(),
                                    .slope_ns_per_tick = f.slope_ns_per_tick(),
                                    .drift_ppm = f.drift_ppm(),
                                    .pairs = f.pairs(),
                                    .max_residual_ns = f.max_residual_ns(),
                                    .max_half_bracket_ns = f.max_half_bracket_ns(),
                                    .error_bound_ns = f.error_bound_ns()});
  }
  const pb::ScopetraceOverhead& o = in.overhead();
  OverheadReport& r = m.overhead;
  r = OverheadReport{};
  r.scope_cost_ns = o.scope_cost_ns();
  r.instant_cost_ns = o.instant_cost_ns();
  r.counter_cost_ns = o.counter_cost_ns();
  r.total_ns = o.total_ns();
  r.percent = o.percent();
  r.budget_percent = o.budget_percent();
  r.over_budget = o.over_budget();
  for (const pb::ScopetraceThreadOverhead& t : o.threads()) {
    r.threads.push_back(ThreadOverhead{.tid = t.tid(),
                                       .thread_name = t.thread_name(),
                                       .events = t.events(),
                                       .overhead_ns = t.overhead_ns(),
                                       .percent = t.percent()});
  }
  r.top_scopes.assign(o.top_scopes().begin(), o.top_scopes().end());
  r.policy_decisions.assign(o.policy_decisions().begin(), o.policy_decisions().end());
  m.truncated = in.truncated();
  m.truncation_reason = in.truncation_reason();
  return true;
}

}  // namespace scopetrace::exporters
