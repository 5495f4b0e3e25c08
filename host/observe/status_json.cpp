// host/observe/status_json.cpp — RenderStatusJson: the snapshot as one JSON object
// (/status.json and `weir status --json`). Plugin configs are never included.
#include <cmath>

#include "observe/observe.hpp"
#include "observe/observe_internal.hpp"

namespace weir::host {
namespace {

using observe_internal::FormatNumber;

void Key(std::string& out, std::string_view k) {
  AppendJsonString(out, k);
  out.push_back(':');
}

void Str(std::string& out, std::string_view k, std::string_view v) {
  Key(out, k);
  AppendJsonString(out, v);
  out.push_back(',');
}

void Int(std::string& out, std::string_view k, int64_t v) {
  Key(out, k);
  out += std::to_string(v);
  out.push_back(',');
}

void UInt(std::string& out, std::string_view k, uint64_t v) {
  Key(out, k);
  out += std::to_string(v);
  out.push_back(',');
}

/// JSON has no NaN or infinity: those become null.
void Num(std::string& out, std::string_view k, double v) {
  Key(out, k);
  out += std::isfinite(v) ? FormatNumber(v) : "null";
  out.push_back(',');
}

void Bool(std::string& out, std::string_view k, bool v) {
  Key(out, k);
  out += v ? "true," : "false,";
}

/// Replaces the trailing ',' of the last member with `close`.
void Close(std::string& out, char close) {
  if (!out.empty() && out.back() == ',') {
    out.back() = close;
  } else {
    out.push_back(close);
  }
}

void Run(std::string& out, const RunRecord& r) {
  out.push_back('{');
  Int(out, "id", r.id);
  Str(out, "kind", r.kind);
  Str(out, "status", r.status);
  Int(out, "started_at_ms", r.started_at_ms);
  Int(out, "ended_at_ms", r.ended_at_ms);
  Int(out, "duration_ms", r.ended_at_ms > 0 ? r.ended_at_ms - r.started_at_ms : -1);
  UInt(out, "rows", r.rows);
  UInt(out, "bytes", r.bytes);
  UInt(out, "batches", r.batches);
  Str(out, "error", r.error);
  Key(out, "metrics");
  out.push_back('{');
  for (const auto& [name, value] : r.metrics) Num(out, name, value);
  Close(out, '}');
  out.push_back(',');
  Close(out, '}');
}

void Window(std::string& out, const BackfillWindow& w) {
  out.push_back('{');
  Str(out, "day", w.day);
  Str(out, "status", w.status);
  Int(out, "window_start_ms", w.window_start_ms);
  Int(out, "window_end_ms", w.window_end_ms);
  UInt(out, "rows", w.rows);
  UInt(out, "bytes", w.bytes);
  UInt(out, "batches", w.batches);
  Int(out, "duration_ms", w.duration_ms);
  Int(out, "attempts", w.attempts);
  Int(out, "redo_count", w.redo_count);
  Int(out, "run_id", w.run_id);
  Str(out, "error", w.error);
  Close(out, '}');
}

void Pipeline1(std::string& out, const PipelineStatus& ps) {
  const Pipeline& p = ps.pipeline;
  out.push_back('{');
  Str(out, "name", p.name);
  Str(out, "project", p.project);
  Str(out, "stream", p.stream);
  Str(out, "source", p.source.plugin);
  Str(out, "destination", p.destination.plugin);
  Str(out, "schedule", p.schedule.ToString());
  Str(out, "timezone", p.schedule.timezone);
  Str(out, "phase", ps.phase);
  Str(out, "watermark_hex", ps.watermark_hex);
  UInt(out, "committed_rows", ps.committed_rows);
  UInt(out, "committed_batches", ps.committed_batches);
  Bool(out, "pending_batch", ps.pending_batch);
  Int(out, "lag_ms", ps.lag_ms);
  Int(out, "last_success_ms", ps.last_success_ms);
  Int(out, "next_run_ms", ps.next_run_ms);
  Key(out, "last_run");
  if (ps.last_run) {
    Run(out, *ps.last_run);
    out.push_back(',');
  } else {
    out += "null,";
  }
  Key(out, "backfill");
  out.push_back('{');
  Int(out, "done", ps.backfill_done);
  Int(out, "total", ps.backfill_total);
  Str(out, "progress", BackfillProgress(ps));
  Key(out, "windows");
  out.push_back('[');
  for (const auto& w : ps.backfill) {
    Window(out, w);
    out.push_back(',');
  }
  Close(out, ']');
  out.push_back(',');
  Close(out, '}');
  out.push_back(',');
  Key(out, "recent_runs");
  out.push_back('[');
  for (const auto& r : ps.recent_runs) {
    Run(out, r);
    out.push_back(',');
  }
  Close(out, ']');
  out.push_back(',');
  const RunHistory& h = ps.history;
  Key(out, "history");
  out.push_back('{');
  UInt(out, "runs_counted", h.runs_counted);
  Bool(out, "truncated", h.truncated);
  UInt(out, "rows", h.rows);
  UInt(out, "bytes", h.bytes);
  UInt(out, "batches", h.batches);
  Num(out, "retries", h.retries);
  Key(out, "runs");
  out.push_back('[');
  for (const auto& [key, n] : h.runs) {
    out.push_back('{');
    Str(out, "kind", key.first);
    Str(out, "status", key.second);
    UInt(out, "count", n);
    Close(out, '}');
    out.push_back(',');
  }
  Close(out, ']');
  out.push_back(',');
  Close(out, '}');
  out.push_back(',');
  Str(out, "error", ps.error);
  Close(out, '}');
}

}  // namespace

std::string RenderStatusJson(const StatusSnapshot& snapshot) {
  std::string out = "{";
  Int(out, "now_ms", snapshot.now_ms);
  Key(out, "serve");
  if (snapshot.serve) {
    const ServeLive& s = *snapshot.serve;
    out.push_back('{');
    Int(out, "pid", s.pid);
    Int(out, "started_at_ms", s.started_at_ms);
    Key(out, "running");
    out.push_back('{');
    for (const auto& [p, what] : s.running) Str(out, p, what);
    Close(out, '}');
    out.push_back(',');
    Key(out, "queued");
    out.push_back('[');
    for (const auto& q : s.queued) {
      AppendJsonString(out, q);
      out.push_back(',');
    }
    Close(out, ']');
    out.push_back(',');
    Key(out, "service_metrics");
    out.push_back('{');
    for (const auto& [k, v] : s.service_metrics) Num(out, k, v);
    Close(out, '}');
    out.push_back(',');
    Key(out, "counters");
    out.push_back('{');
    for (const auto& [k, v] : s.counters) Num(out, k, v);
    Close(out, '}');
    out.push_back(',');
    Close(out, '}');
    out.push_back(',');
  } else {
    out += "null,";
  }
  Key(out, "errors");
  out.push_back('[');
  for (const auto& e : snapshot.errors) {
    AppendJsonString(out, e);
    out.push_back(',');
  }
  Close(out, ']');
  out.push_back(',');
  Key(out, "pipelines");
  out.push_back('[');
  for (const auto& ps : snapshot.pipelines) {
    Pipeline1(out, ps);
    out.push_back(',');
  }
  Close(out, ']');
  out += "}\n";
  return out;
}

}  // namespace weir::host
