// host/cli/cmd_backfill.cpp — `weir backfill PIPELINE [--from DATE --to DATE] [--redo DATE]
// [--status [--json]] [--step] [--wait] [--no-progress]`: plans calendar-day windows in the
// pipeline's schedule zone and exports them (here, or by a running `weir serve`).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "pipeline/pipeline.hpp"
#include "run/backfill.hpp"
#include "run/runner.hpp"
#include "schedule/day_windows.hpp"

namespace weir::host::cli {
namespace {

int PrintStatus(const Pipeline& p, const std::vector<BackfillWindow>& ledger, bool json) {
  uint64_t rows = 0, bytes = 0;
  int64_t duration = 0;
  int done = 0;
  for (const auto& w : ledger) {
    rows += w.rows;
    bytes += w.bytes;
    duration += w.duration_ms;
    done += w.status == "done";
  }
  if (json) {
    std::ostringstream o;
    o << "{\"pipeline\":" << JsonQuote(p.name) << ",\"stream\":" << JsonQuote(p.stream)
      << ",\"time_zone\":" << JsonQuote(p.schedule.timezone) << ",\"days\":[";
    for (size_t i = 0; i < ledger.size(); ++i) {
      const auto& w = ledger[i];
      o << (i ? "," : "") << "{\"day\":" << JsonQuote(w.day) << ",\"status\":"
        << JsonQuote(w.status) << ",\"window_start_ms\":" << w.window_start_ms
        << ",\"window_end_ms\":" << w.window_end_ms << ",\"rows\":" << w.rows
        << ",\"bytes\":" << w.bytes << ",\"batches\":" << w.batches
        << ",\"duration_ms\":" << w.duration_ms << ",\"attempts\":" << w.attempts
        << ",\"redo_count\":" << w.redo_count << ",\"run_id\":" << w.run_id
        << ",\"error\":" << JsonQuote(w.error) << "}";
    }
    o << "],\"totals\":{\"days\":" << ledger.size() << ",\"done\":" << done
      << ",\"rows\":" << rows << ",\"bytes\":" << bytes << ",\"duration_ms\":" << duration
      << "}}\n";
    std::cout << o.str();
    return kExitOk;
  }
  if (ledger.empty()) {
    std::cout << "no backfill planned for pipeline " << p.name
              << " (weir backfill " << p.name << " --from YYYY-MM-DD --to YYYY-MM-DD)\n";
    return kExitOk;
  }
  std::printf("%-10s  %-7s  %12s  %10s  %9s  %8s  %s\n", "DAY", "STATUS", "ROWS", "BYTES",
              "DURATION", "ATTEMPTS", "ERROR");
  for (const auto& w : ledger) {
    std::printf("%-10s  %-7s  %12llu  %10s  %9s  %8d  %s\n", w.day.c_str(), w.status.c_str(),
                static_cast<unsigned long long>(w.rows),
                HumanBytes(static_cast<double>(w.bytes)).c_str(),
                w.duration_ms > 0 ? HumanDuration(w.duration_ms).c_str() : "-", w.attempts,
                w.error.c_str());
  }
  std::printf("total: %llu rows, %s in %s; %d of %zu days done (zone %s)\n",
              static_cast<unsigned long long>(rows), HumanBytes(static_cast<double>(bytes)).c_str(),
              HumanDuration(duration).c_str(), done, ledger.size(),
              p.schedule.timezone.c_str());
  return kExitOk;
}

/// Why this pipeline cannot be backfilled, or "" if it can.
Result<std::string> Refusal(const Pipeline& p, StateStore& store) {
  WEIR_ASSIGN_OR_RETURN(std::optional<StartCut> cut, store.GetStartCut(p.name, p.stream));
  const std::string why = "pipeline '" + p.name +
                          "' starts at the beginning: its incremental export already covers "
                          "all history, so there is nothing to backfill";
  if (cut) return cut->watermark.empty() ? why : "";
  if (p.start != "now") return why + " (backfill needs \"start\": \"now\" in " + p.file.string() + ")";
  WEIR_ASSIGN_OR_RETURN(PipelineState st, store.LoadPipeline(p.name, p.stream));
  if (st.next_batch_seq > 1 || st.pending) {
    return why + " (it has exported batches already, so its start cut is the beginning)";
  }
  return std::string();
}

}  // namespace

int CmdBackfill(const Globals& g, const std::vector<std::string>& args) {
  po::options_description desc("weir backfill");
  desc.add_options()("pipeline", po::value<std::string>()->required(), "pipeline name or file")(
      "from", po::value<std::string>(), "first day to export, YYYY-MM-DD (pipeline's zone)")(
      "to", po::value<std::string>(), "last day to export, YYYY-MM-DD (inclusive)")(
      "redo", po::value<std::vector<std::string>>(), "export a done day again (repeatable)")(
      "status", "show the ledger: per-day status, rows, bytes, duration, attempts")(
      "json", "with --status: print JSON")(
      "step", "export one window, then exit 6 if windows remain (0 when all are done)")(
      "wait", "when weir serve runs the windows: follow until they are done")(
      "no-progress", "no live progress line even on a terminal");
  po::positional_options_description pos;
  pos.add("pipeline", 1);
  po::variables_map vm;
  if (!ParseSub(args, desc, pos, vm,
                "Usage: weir backfill PIPELINE --from YYYY-MM-DD --to YYYY-MM-DD\n"
                "       weir backfill PIPELINE [--redo YYYY-MM-DD] [--step]   (resume / redo)\n"
                "       weir backfill PIPELINE --status [--json]\n"
                "Exports the history before the pipeline's start cut by calendar day in its\n"
                "schedule time zone (a pipeline with \"start\": \"now\"; its first run or\n"
                "backfill fixes the cut, and records after it are the incremental export's).\n"
                "Each day is a window in a ledger: an interrupted backfill resumes at the first\n"
                "unfinished day, finished days are never redone unless --redo names them.\n"
                "A running `weir serve` runs the windows; otherwise they run here.\n\n"
                "Examples:\n"
                "  weir backfill demo-events --from 2026-11-01 --to 2026-11-30\n"
                "  weir backfill demo-events                      # resume after an interruption\n"
                "  weir backfill demo-events --status\n"
                "  weir backfill demo-events --redo 2026-11-07")) {
    return kExitOk;
  }
  auto p = FindPipeline(g.pipelines_dir, vm["pipeline"].as<std::string>(), ProcessEnv());
  if (!p.ok()) return Fail(kExitUsage, p.status().message());
  const bool has_from = vm.count("from") != 0U, has_to = vm.count("to") != 0U;
  if (has_from != has_to) return Fail(kExitUsage, "--from and --to go together");
  auto store_r = OpenStore(g);
  if (!store_r.ok()) return Fail(kExitState, store_r.status().message());
  StateStore& store = **store_r;
  auto ledger = store.ListBackfill(p->name, p->stream);
  if (!ledger.ok()) return Fail(kExitState, ledger.status().message());
  if (vm.count("status") != 0U) return PrintStatus(*p, *ledger, vm.count("json") != 0U);

  // Validate the dates before anything changes.
  std::vector<BackfillWindow> plan;
  if (has_from) {
    auto days = PlanDayWindows(p->schedule.timezone, vm["from"].as<std::string>(),
                               vm["to"].as<std::string>());
    if (!days.ok()) return Fail(kExitUsage, days.status().message());
    for (const DayWindow& d : *days) {
      BackfillWindow w;
      w.pipeline = p->name;
      w.stream = p->stream;
      w.day = d.day;
      w.window_start_ms = d.start_ms;
      w.window_end_ms = d.end_ms;
      plan.push_back(std::move(w));
    }
  }
  std::vector<std::string> redo;
  if (vm.count("redo") != 0U) redo = vm["redo"].as<std::vector<std::string>>();
  for (const std::string& day : redo) {
    auto one = PlanDayWindows(p->schedule.timezone, day, day);
    if (!one.ok()) return Fail(kExitUsage, "--redo: " + one.status().message());
    bool found = false;
    for (const auto& w : *ledger) found = found || w.day == day;
    for (const auto& w : plan) found = found || w.day == day;
    if (!found) {
      return Fail(kExitUsage, "--redo " + day + ": that day is not in the backfill ledger of " +
                                  p->name + " (see weir backfill " + p->name + " --status)");
    }
  }
  auto refusal = Refusal(*p, store);
  if (!refusal.ok()) return Fail(kExitState, refusal.status().message());
  if (!refusal->empty()) return Fail(kExitUsage, *refusal);
  if (!plan.empty()) {
    auto added = store.PlanBackfill(plan);
    if (!added.ok()) return Fail(kExitState, added.status().message());
    if (!g.quiet) {
      std::cerr << "weir: planned " << *added << " new day(s) of " << p->name << " ("
                << plan.size() - static_cast<size_t>(*added) << " already in the ledger), zone "
                << p->schedule.timezone << "\n";
    }
  }
  ledger = store.ListBackfill(p->name, p->stream);
  if (!ledger.ok()) return Fail(kExitState, ledger.status().message());
  for (const std::string& day : redo) {
    for (BackfillWindow w : *ledger) {
      if (w.day != day) continue;
      if (w.status != "done") {
        std::cerr << "weir: --redo " << day << ": window is " << w.status
                  << ", not done yet; it is exported normally\n";
        continue;
      }
      w.status = "redo";
      Status s = store.UpdateBackfillWindow(w);
      if (!s.ok()) return Fail(kExitState, s.message());
    }
  }
  if (ledger->empty()) {
    return Fail(kExitUsage, "nothing to backfill for " + p->name +
                                ": give --from YYYY-MM-DD --to YYYY-MM-DD");
  }

  // `weir serve` runs the windows itself (it calls `weir backfill P --step`, which runs here).
  if (vm.count("step") == 0U) {
    if (auto serve = ServeRunning(g)) {
      std::cout << "weir serve (pid " << *serve << ") is running and will export the windows; "
                << "follow with: weir backfill " << p->name << " --status\n";
      if (vm.count("wait") == 0U) return kExitOk;
      InstallSignalHandlers();
      while (!g_cancel.load()) {
        auto now = store.ListBackfill(p->name, p->stream);
        if (!now.ok()) return Fail(kExitState, now.status().message());
        int done = 0, failed = 0;
        for (const auto& w : *now) {
          done += w.status == "done";
          failed += w.status == "failed";
        }
        if (done == static_cast<int>(now->size())) {
          std::cout << done << " of " << now->size() << " days done\n";
          return kExitOk;
        }
        if (failed > 0 && done + failed == static_cast<int>(now->size())) {
          return Fail(kExitRunFailed, std::to_string(failed) + " day(s) failed; see weir backfill " +
                                          p->name + " --status");
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      return kExitCancelled;
    }
  }

  PluginRegistry reg = LoadRegistry(g);
  InstallSignalHandlers(/*graceful=*/true);
  BackfillOptions opt;
  opt.run.logs_dir = g.logs_dir();
  opt.run.progress = vm.count("no-progress") == 0U && isatty(STDERR_FILENO) != 0 && !g.quiet;
  opt.run.echo_logs = !g.quiet;
  opt.run.cancel = &g_cancel;
  opt.run.stop = &g_stop;
  opt.max_windows = vm.count("step") != 0U ? 1 : 0;
  const size_t total = ledger->size();
  int done_before = 0;
  for (const auto& w : *ledger) done_before += w.status == "done";
  int ended = 0;
  const bool progress = opt.run.progress;
  // On a terminal: " [########------------] 14/30 days 2026-11-14" before the live rows of the
  // window being exported; a line of its own only for a window that did not finish.
  auto bar = [&](const std::string& day) {
    constexpr int kWidth = 24;
    const int done = done_before + ended;
    const int filled = total == 0 ? 0 : static_cast<int>(done * kWidth / static_cast<int>(total));
    return " [" + std::string(static_cast<size_t>(filled), '#') +
           std::string(static_cast<size_t>(kWidth - filled), '-') + "] " + std::to_string(done) +
           "/" + std::to_string(total) + " days" + (day.empty() ? "" : " " + day);
  };
  if (progress) opt.window_label = [&](const BackfillWindow& w) { return bar(w.day); };
  opt.on_window = [&](const BackfillWindow& w) {
    if (w.status == "done") ++ended;
    if (!progress) return;
    if (w.status == "done") {
      std::fprintf(stderr, "\r\033[K%s%s done, %llu rows", p->name.c_str(), bar(w.day).c_str(),
                   static_cast<unsigned long long>(w.rows));
    } else {
      std::fprintf(stderr, "\r\033[K%s: %s %s%s%s\n", p->name.c_str(), w.day.c_str(),
                   w.status.c_str(), w.error.empty() ? "" : ": ", w.error.c_str());
    }
  };
  BackfillOutcome out = RunBackfill(*p, reg, store, opt);
  if (out.run.run_id == 0) return Fail(out.run.exit_code, out.run.error.message());
  if (!out.run.error.ok()) {
    std::cerr << "weir: backfill run " << out.run.run_id << " " << out.run.status << ": "
              << out.run.error.ToString() << "\nweir: full log: weir logs " << out.run.run_id
              << "\n";
  } else if (!g.quiet) {
    std::cout << "backfill run " << out.run.run_id << " " << out.run.status << ": "
              << out.run.rows << " rows, " << out.run.batches << " batches; "
              << out.windows_total - out.windows_left << " of " << out.windows_total
              << " days done\n";
  }
  return out.run.exit_code;
}

}  // namespace weir::host::cli
