// host/observe/prometheus.cpp — RenderPrometheus: the snapshot in the Prometheus text
// exposition format 0.0.4 (what /metrics serves; `promtool check metrics` clean).
//
// Each family is written once, HELP and TYPE first, then all its series; label values are
// escaped (\\, \", \n). Counters come from the run history the snapshot read (see RunHistory);
// series without a meaningful value (no success yet, never caught up) are left out rather
// than reported as 0, which Prometheus would read as "1970" or "no lag".
#include <set>
#include <sstream>

#include "observe/observe.hpp"
#include "observe/observe_internal.hpp"

namespace weir::host {
namespace {

using observe_internal::FormatNumber;

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

/// A metric name from a plugin's or the daemon's counter name ("collector.events_accepted"):
/// every character outside [a-zA-Z0-9_] becomes '_', runs of '_' collapse, and the ends are
/// trimmed, so "sdk-source..x" is "sdk_source_x".
std::string SanitizeName(std::string_view raw) {
  std::string out;
  for (char c : raw) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (ok) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

class Writer {
 public:
  /// Starts family `name`; false (and nothing written) if it was already written, so a
  /// collision of sanitized names can never produce a duplicate family.
  bool Family(const std::string& name, const std::string& type, const std::string& help) {
    if (!families_.insert(name).second) return false;
    out_ << "# HELP " << name << " " << EscapeHelp(help) << "\n";
    out_ << "# TYPE " << name << " " << type << "\n";
    return true;
  }
  void Sample(const std::string& name, const Labels& labels, double value) {
    out_ << name;
    if (!labels.empty()) {
      out_ << "{";
      for (size_t i = 0; i < labels.size(); ++i) {
        out_ << (i ? "," : "") << labels[i].first << "=\"" << EscapeLabelValue(labels[i].second)
             << "\"";
      }
      out_ << "}";
    }
    out_ << " " << FormatNumber(value) << "\n";
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::set<std::string> families_;
};

Labels Base(const PipelineStatus& ps) {
  return {{"pipeline", ps.pipeline.name}, {"project", ps.pipeline.project}};
}

Labels With(Labels l, const std::string& name, const std::string& value) {
  l.emplace_back(name, value);
  return l;
}

void PipelineFamilies(const StatusSnapshot& snap, Writer& w) {
  const auto& ps_all = snap.pipelines;
  w.Family("weir_runs_total", "counter",
           "Runs in the run history read for this snapshot, by kind and final status "
           "(running included).");
  for (const auto& ps : ps_all) {
    for (const auto& [key, n] : ps.history.runs) {
      w.Sample("weir_runs_total", With(With(Base(ps), "kind", key.first), "status", key.second),
               static_cast<double>(n));
    }
  }
  w.Family("weir_rows_exported_total", "counter",
           "Rows committed to the destination by the runs of the history window.");
  for (const auto& ps : ps_all) {
    w.Sample("weir_rows_exported_total", Base(ps), static_cast<double>(ps.history.rows));
  }
  w.Family("weir_bytes_exported_total", "counter",
           "Bytes committed to the destination by the runs of the history window.");
  for (const auto& ps : ps_all) {
    w.Sample("weir_bytes_exported_total", Base(ps), static_cast<double>(ps.history.bytes));
  }
  w.Family("weir_batches_exported_total", "counter",
           "Batches committed by the runs of the history window.");
  for (const auto& ps : ps_all) {
    w.Sample("weir_batches_exported_total", Base(ps), static_cast<double>(ps.history.batches));
  }
  w.Family("weir_retries_total", "counter",
           "Retried plugin calls (run metric host.retries) in the runs of the history window.");
  for (const auto& ps : ps_all) w.Sample("weir_retries_total", Base(ps), ps.history.retries);

  w.Family("weir_run_duration_seconds", "histogram",
           "Wall time of the finished runs of the history window.");
  for (const auto& ps : ps_all) {
    const RunHistory& h = ps.history;
    for (size_t i = 0; i < kRunDurationBucketCount; ++i) {
      w.Sample("weir_run_duration_seconds_bucket",
               With(Base(ps), "le", FormatNumber(kRunDurationBuckets[i])),
               static_cast<double>(h.duration_buckets[i]));
    }
    w.Sample("weir_run_duration_seconds_bucket", With(Base(ps), "le", "+Inf"),
             static_cast<double>(h.duration_count));
    w.Sample("weir_run_duration_seconds_sum", Base(ps), h.duration_sum_seconds);
    w.Sample("weir_run_duration_seconds_count", Base(ps), static_cast<double>(h.duration_count));
  }

  w.Family("weir_last_success_timestamp_seconds", "gauge",
           "End of the latest succeeded or no_data run (Unix time); absent if none.");
  for (const auto& ps : ps_all) {
    if (ps.last_success_ms > 0) {
      w.Sample("weir_last_success_timestamp_seconds", Base(ps),
               static_cast<double>(ps.last_success_ms) / 1000.0);
    }
  }
  w.Family("weir_watermark_lag_seconds", "gauge",
           "Seconds since the latest run that ended caught up; absent if none ever did.");
  for (const auto& ps : ps_all) {
    if (ps.lag_ms >= 0) {
      w.Sample("weir_watermark_lag_seconds", Base(ps), static_cast<double>(ps.lag_ms) / 1000.0);
    }
  }
  w.Family("weir_next_run_timestamp_seconds", "gauge",
           "When the schedule fires next (Unix time); absent for manual schedules.");
  for (const auto& ps : ps_all) {
    if (ps.next_run_ms > 0) {
      w.Sample("weir_next_run_timestamp_seconds", Base(ps),
               static_cast<double>(ps.next_run_ms) / 1000.0);
    }
  }
  w.Family("weir_committed_rows", "gauge",
           "Rows of all committed incremental batches, from the pipeline's state.");
  for (const auto& ps : ps_all) {
    w.Sample("weir_committed_rows", Base(ps), static_cast<double>(ps.committed_rows));
  }
  w.Family("weir_pending_batch", "gauge",
           "1 when a batch was recorded but not committed (the next run replays it).");
  for (const auto& ps : ps_all) {
    w.Sample("weir_pending_batch", Base(ps), ps.pending_batch ? 1 : 0);
  }
  w.Family("weir_pipeline_phase", "gauge",
           "1 for the pipeline's current phase (new, catching-up, incremental), 0 for the others.");
  for (const auto& ps : ps_all) {
    for (const char* phase : {"new", "catching-up", "incremental"}) {
      w.Sample("weir_pipeline_phase", With(Base(ps), "phase", phase), ps.phase == phase ? 1 : 0);
    }
  }
  w.Family("weir_backfill_windows", "gauge", "Backfill ledger windows (calendar days) by status.");
  for (const auto& ps : ps_all) {
    if (ps.backfill.empty()) continue;
    std::map<std::string, int> by_status{
        {"pending", 0}, {"running", 0}, {"done", 0}, {"failed", 0}, {"redo", 0}};
    for (const auto& win : ps.backfill) ++by_status[win.status];
    for (const auto& [status, n] : by_status) {
      w.Sample("weir_backfill_windows", With(Base(ps), "status", status), n);
    }
  }
}

void ServeFamilies(const StatusSnapshot& snap, Writer& w) {
  w.Family("weir_serve_up", "gauge", "1 when this snapshot comes from a running weir serve.");
  w.Sample("weir_serve_up", {}, snap.serve ? 1 : 0);
  w.Family("weir_snapshot_errors", "gauge",
           "Pipeline files that did not load and state that could not be read.");
  w.Sample("weir_snapshot_errors", {}, static_cast<double>(snap.errors.size()));
  if (!snap.serve) return;
  const ServeLive& live = *snap.serve;
  w.Family("weir_serve_running_steps", "gauge", "Steps (child processes) running now.");
  w.Sample("weir_serve_running_steps", {}, static_cast<double>(live.running.size()));
  w.Family("weir_serve_queued_steps", "gauge", "Pipelines waiting for their project's slot.");
  w.Sample("weir_serve_queued_steps", {}, static_cast<double>(live.queued.size()));
  if (live.started_at_ms > 0) {
    w.Family("weir_serve_start_time_seconds", "gauge", "When weir serve started (Unix time).");
    w.Sample("weir_serve_start_time_seconds", {}, static_cast<double>(live.started_at_ms) / 1000.0);
  }
  // The daemon's own counters: "serve.steps_started" -> weir_serve_steps_started_total.
  for (const auto& [raw, value] : live.counters) {
    std::string name = SanitizeName(raw);
    if (name.empty()) continue;
    name = "weir_" + name;
    if (!EndsWith(name, "_total")) name += "_total";
    if (w.Family(name, "counter", "weir serve counter " + raw + ".")) w.Sample(name, {}, value);
  }
  // Hosted services. "service.<plugin>.up" and ".restarts" are per service (a label), the
  // plugins' own counters are cumulative ("collector.events_accepted" ->
  // weir_service_collector_events_accepted_total).
  std::map<std::string, double> up;
  std::map<std::string, double> restarts;
  std::map<std::string, double> counters;
  for (const auto& [raw, value] : live.service_metrics) {
    if (raw.rfind("service.", 0) == 0 && EndsWith(raw, ".up")) {
      up[raw.substr(8, raw.size() - 8 - 3)] = value;
    } else if (raw.rfind("service.", 0) == 0 && EndsWith(raw, ".restarts")) {
      restarts[raw.substr(8, raw.size() - 8 - 9)] = value;
    } else {
      counters[raw] = value;
    }
  }
  if (!up.empty()) {
    w.Family("weir_service_up", "gauge", "1 while the hosted service's process runs.");
    for (const auto& [service, v] : up) w.Sample("weir_service_up", {{"service", service}}, v);
  }
  if (!restarts.empty()) {
    w.Family("weir_service_restarts_total", "counter", "Restarts of the hosted service.");
    for (const auto& [service, v] : restarts) {
      w.Sample("weir_service_restarts_total", {{"service", service}}, v);
    }
  }
  for (const auto& [raw, value] : counters) {
    std::string name = SanitizeName(raw);
    if (name.empty()) continue;
    name = "weir_service_" + name;
    if (!EndsWith(name, "_total")) name += "_total";
    if (w.Family(name, "counter", "Hosted service counter " + raw + ".")) {
      w.Sample(name, {}, value);
    }
  }
}

}  // namespace

std::string RenderPrometheus(const StatusSnapshot& snapshot) {
  Writer w;
  PipelineFamilies(snapshot, w);
  ServeFamilies(snapshot, w);
  return w.str();
}

}  // namespace weir::host
