// host/cli/cmd_status.cpp — `weir status` and `weir metrics PIPELINE` (host/observe).
//
// Both read the state store only (never write it) and work whether or not `weir serve` runs;
// `status` says whether it does. `status --json` is the same document as serve's /status.json.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "observe/observe.hpp"
#include "pipeline/pipeline.hpp"
#include "run/runner.hpp"
#include "schedule/schedule.hpp"

namespace weir::host::cli {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Prints rows of cells as left-aligned columns, two spaces apart. Widths count UTF-8
/// characters, not bytes, so "…" and zone names line up.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
  };
  std::vector<size_t> w;
  for (const auto& r : rows) {
    if (w.size() < r.size()) w.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], width(r[i]));
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(w[i] - width(r[i]) + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

std::string ShortWatermark(const std::string& hex) {
  if (hex.empty()) return "(start)";
  return hex.size() <= 16 ? hex : hex.substr(0, 16) + "\u2026";
}

std::string NextRunText(const PipelineStatus& ps, int64_t now_ms) {
  const Schedule& s = ps.pipeline.schedule;
  if (s.kind == Schedule::Kind::kNone) return "manual";
  if (ps.next_run_ms <= 0) return "unknown";
  if (ps.next_run_ms <= now_ms) return "due now";
  std::string utc = FormatUtcMs(ps.next_run_ms);
  if (s.timezone != "UTC") {
    auto local = FormatInZone(ps.next_run_ms, s.timezone);
    if (local.ok()) return *local + " (" + utc + ")";
  }
  return utc;
}

std::string LastRunText(const PipelineStatus& ps, int64_t now_ms) {
  if (!ps.last_run) return "never";
  const RunRecord& r = *ps.last_run;
  return r.status + " " + FormatUtcMs(r.started_at_ms) + " (" +
         HumanDuration(now_ms - r.started_at_ms) + " ago)";
}

/// "▁▂▃▄▅▆▇█" scaled from 0 to the largest value.
std::string Sparkline(const std::vector<double>& values) {
  static const char* kBars[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                "\u2585", "\u2586", "\u2587", "\u2588"};
  double max = 0;
  for (double v : values) max = std::max(max, v);
  std::string out;
  for (double v : values) {
    int level = max <= 0 ? 0 : static_cast<int>(std::lround(v / max * 7));
    out += kBars[std::clamp(level, 0, 7)];
  }
  return out;
}

}  // namespace

int CmdStatus(const Globals& g, const std::vector<std::string>& args) {
  po::options_description desc("weir status");
  desc.add_options()("json", "the whole status as one JSON object (as serve's /status.json)");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!ParseSub(args, desc, pos, vm,
                "Usage: weir status [--json]\n"
                "Every pipeline of the pipelines directory: its phase (new, catching-up,\n"
                "incremental), committed watermark, lag (time since the latest run that ended\n"
                "caught up), last run, next scheduled run and backfill progress, and whether\n"
                "`weir serve` is running. Pipeline files that do not load are listed as\n"
                "errors (exit 2). Reads the state store only.\n\n"
                "Example:\n  weir --pipelines-dir /etc/weir/pipelines status")) {
    return kExitOk;
  }
  auto scan = LoadPipelineDir(g.pipelines_dir, ProcessEnv());
  if (!scan.ok()) return Fail(kExitUsage, scan.status().message());
  auto store = OpenStore(g);
  if (!store.ok()) return Fail(kExitState, store.status().message());
  const int64_t now = NowMs();
  auto snap = BuildSnapshot(**store, scan->pipelines, now, SnapshotOptions{});
  if (!snap.ok()) return Fail(kExitState, snap.status().message());
  snap->errors.insert(snap->errors.begin(), scan->errors.begin(), scan->errors.end());
  const std::optional<pid_t> serve = ServeRunning(g);
  const int code = scan->errors.empty() ? kExitOk : kExitUsage;
  if (vm.count("json") != 0U) {
    if (serve) {
      ServeLive live;
      live.pid = *serve;
      snap->serve = live;
    }
    std::cout << RenderStatusJson(*snap);
    return code;
  }
  if (!g.quiet) {
    if (serve) {
      std::cout << "weir serve is running (pid " << *serve
                << "): scheduled runs and backfills proceed\n\n";
    } else {
      std::cout << "weir serve is not running: nothing runs on a schedule until it starts\n\n";
    }
  }
  std::vector<std::vector<std::string>> rows = {
      {"PIPELINE", "PROJECT", "PHASE", "WATERMARK", "LAG", "LAST RUN", "NEXT RUN", "BACKFILL"}};
  for (const auto& ps : snap->pipelines) {
    rows.push_back({ps.pipeline.name, ps.pipeline.project, ps.phase,
                    ShortWatermark(ps.watermark_hex),
                    ps.lag_ms >= 0 ? HumanDuration(ps.lag_ms) : "-", LastRunText(ps, now),
                    NextRunText(ps, now), BackfillProgress(ps)});
  }
  if (snap->pipelines.empty()) {
    std::cout << "no pipelines in " << g.pipelines_dir.string() << "\n";
  } else {
    PrintTable(rows);
  }
  for (const auto& ps : snap->pipelines) {
    if (ps.pending_batch) {
      std::cout << "note: '" << ps.pipeline.name
                << "' has a batch pending: its next run replays it first\n";
    }
  }
  for (const auto& e : snap->errors) std::cerr << "weir: " << e << "\n";
  return code;
}

int CmdMetrics(const Globals& g, const std::vector<std::string>& args) {
  po::options_description desc("weir metrics");
  desc.add_options()("pipeline", po::value<std::string>()->required(), "pipeline name")(
      "limit", po::value<int>()->default_value(30), "how many of the newest runs")(
      "json", "one JSON object per run (oldest first)")(
      "sparkline", "print the sparklines even when stdout is not a terminal");
  po::positional_options_description pos;
  pos.add("pipeline", 1);
  po::variables_map vm;
  if (!ParseSub(args, desc, pos, vm,
                "Usage: weir metrics PIPELINE [--limit N] [--json] [--sparkline]\n"
                "Rows and bytes per run over time, oldest first and newest last, from the run\n"
                "history. On a terminal (or with --sparkline) a sparkline of rows and of bytes\n"
                "per run follows (\u2581 = none, \u2588 = the most in these runs). --json\n"
                "prints one JSON object per run, with the run's metrics (retries, plugin\n"
                "counters).\n\nExamples:\n  weir metrics demo-events --limit 50\n"
                "  weir metrics demo-events --json | jq .rows")) {
    return kExitOk;
  }
  const std::string name = vm["pipeline"].as<std::string>();
  const int limit = vm["limit"].as<int>();
  if (limit < 1) {
    return Fail(kExitUsage, "--limit: expected a number >= 1, found " + std::to_string(limit));
  }
  // The history outlives the file: a pipeline whose file was removed still has its runs.
  auto p = FindPipeline(g.pipelines_dir, name, ProcessEnv());
  std::string pipeline = p.ok() ? p->name : name;
  if (!p.ok() && !IsValidPipelineName(name)) return Fail(kExitUsage, p.status().message());
  auto store = OpenStore(g);
  if (!store.ok()) return Fail(kExitState, store.status().message());
  auto runs = (*store)->ListRuns(pipeline, limit);
  if (!runs.ok()) return Fail(kExitState, runs.status().message());
  if (!p.ok() && runs->empty()) {
    return Fail(kExitUsage,
                p.status().message() + " (and no runs are recorded for '" + name + "')");
  }
  std::reverse(runs->begin(), runs->end());  // newest last
  if (vm.count("json") != 0U) {
    for (const auto& r : *runs) {
      std::cout << "{\"id\":" << r.id << ",\"pipeline\":" << JsonQuote(r.pipeline)
                << ",\"kind\":" << JsonQuote(r.kind) << ",\"status\":" << JsonQuote(r.status)
                << ",\"started_at_ms\":" << r.started_at_ms << ",\"ended_at_ms\":" << r.ended_at_ms
                << ",\"duration_ms\":" << (r.ended_at_ms > 0 ? r.ended_at_ms - r.started_at_ms : -1)
                << ",\"rows\":" << r.rows << ",\"bytes\":" << r.bytes
                << ",\"batches\":" << r.batches << ",\"metrics\":{";
      bool first = true;
      for (const auto& [k, v] : r.metrics) {
        if (!std::isfinite(v)) continue;
        char num[32];
        std::snprintf(num, sizeof num, "%.17g", v);
        std::cout << (first ? "" : ",") << JsonQuote(k) << ":" << num;
        first = false;
      }
      std::cout << "}}\n";
    }
    return kExitOk;
  }
  if (runs->empty()) {
    std::cout << "no runs of '" << pipeline << "' yet\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"RUN", "STARTED", "KIND", "STATUS", "ROWS", "BYTES", "DURATION"}};
  uint64_t total_rows = 0;
  uint64_t total_bytes = 0;
  std::vector<double> row_values;
  std::vector<double> byte_values;
  for (const auto& r : *runs) {
    rows.push_back(
        {std::to_string(r.id), FormatUtcMs(r.started_at_ms), r.kind, r.status,
         std::to_string(r.rows), HumanBytes(static_cast<double>(r.bytes)),
         r.ended_at_ms > 0 ? HumanDuration(r.ended_at_ms - r.started_at_ms) : "running"});
    total_rows += r.rows;
    total_bytes += r.bytes;
    row_values.push_back(static_cast<double>(r.rows));
    byte_values.push_back(static_cast<double>(r.bytes));
  }
  PrintTable(rows);
  std::cout << runs->size() << " runs: " << total_rows << " rows, "
            << HumanBytes(static_cast<double>(total_bytes)) << "\n";
  if (vm.count("sparkline") != 0U || isatty(STDOUT_FILENO) != 0) {
    const double max_rows = *std::max_element(row_values.begin(), row_values.end());
    const double max_bytes = *std::max_element(byte_values.begin(), byte_values.end());
    std::cout << "rows  " << Sparkline(row_values) << "  max " << static_cast<uint64_t>(max_rows)
              << "\nbytes " << Sparkline(byte_values) << "  max " << HumanBytes(max_bytes) << "\n";
  }
  return kExitOk;
}

}  // namespace weir::host::cli
