// tests/serve/serve_test.cpp — `weir serve` end to end: the real binary, real child processes,
// the real SQLite state store, HTTP on 127.0.0.1 free ports, the file test plugins and the
// crash-destination test plugin (tests/serve/plugin).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "host/state/state_store.hpp"
#include "serve_test_util.hpp"

namespace weir::test::serve {
namespace {

using std::chrono::seconds;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool AllExportedOnce(const fs::path& out, const std::string& tag, int n) {
  auto ids = ExportedIds(out);
  if (static_cast<int>(ids.size()) != n) return false;
  for (int i = 0; i < n; ++i) {
    auto it = ids.find(tag + "-" + std::to_string(i));
    if (it == ids.end() || it->second != 1) return false;
  }
  return true;
}

int CountRuns(const std::vector<RunRow>& runs, const std::string& pipeline,
              const std::string& status = "") {
  return static_cast<int>(std::count_if(runs.begin(), runs.end(), [&](const RunRow& r) {
    return r.pipeline == pipeline && (status.empty() || r.status == status);
  }));
}

bool Overlap(const RunRow& a, const RunRow& b) {
  return a.started < b.ended && b.started < a.ended;
}

/// SIGTERM, then the exit code (fails the test if the daemon does not stop within 30 s).
int StopServe(Daemon& d) {
  Signal(d.process, SIGTERM);
  if (!WaitUntil([&] { return Exited(d.process); }, seconds(30))) {
    ADD_FAILURE() << "weir serve did not stop within 30 s of SIGTERM";
    Signal(d.process, SIGKILL);
  }
  return WaitProcess(d.process).code;
}

TEST(Serve, OneStepPerProjectAtATimeWhileOtherProjectsRunConcurrently) {
  TempDir dir("weir-serve");
  constexpr int kEvents = 60;  // 6 batches of 10; 2 batches per step -> 3+ steps each
  constexpr int kMore = 15;    // arrives after the catch-up: the schedule exports it
  constexpr int kPeriodS = 3;  // "every": "3s"
  for (const char* name : {"a1", "a2", "b1"}) {
    WriteEvents(dir.path() / (std::string(name) + ".ndjson"), name, kEvents);
    PipelineFile p = FilePipeline(dir.path(), name, name[0] == 'a' ? "A" : "B", 60);
    p.schedule = "{\"every\": \"" + std::to_string(kPeriodS) + "s\"}";
    WritePipeline(dir.path(), p);
  }
  Daemon d = StartServe(dir.path(), {"--max-batches-per-step", "2"});
  ProcessGuard guard(d.process);
  ASSERT_GT(d.port, 0) << ReadWholeFile(d.process.err);
  auto all_exported = [&](int n) {
    return WaitUntil(
        [&] {
          for (const char* name : {"a1", "a2", "b1"}) {
            if (!AllExportedOnce(dir.path() / ("out-" + std::string(name)), name, n)) {
              return false;
            }
          }
          auto runs = ListRuns(dir.path());
          return std::none_of(runs.begin(), runs.end(),
                              [](const RunRow& r) { return r.status == "running"; });
        },
        seconds(50));
  };
  ASSERT_TRUE(all_exported(kEvents)) << ReadWholeFile(d.process.err);
  // Caught up: new records wait for the next fire of the short schedule, then go out.
  const int64_t caught_up_at = NowMs();
  const size_t runs_at_catch_up = ListRuns(dir.path()).size();
  for (const char* name : {"a1", "a2", "b1"}) {
    WriteEvents(dir.path() / (std::string(name) + ".ndjson"), name, kEvents + kMore);
  }
  ASSERT_TRUE(all_exported(kEvents + kMore)) << ReadWholeFile(d.process.err);
  // Two more periods: a caught-up pipeline runs once per fire, not batch after batch.
  std::this_thread::sleep_for(seconds(2 * kPeriodS));
  const int64_t stopped_at = NowMs();
  guard.Release();
  EXPECT_EQ(StopServe(d), 0);
  {
    auto runs = ListRuns(dir.path());
    EXPECT_GT(runs.size(), runs_at_catch_up) << "nothing ran on the schedule after catch-up";
    for (const char* name : {"a1", "a2", "b1"}) {
      int after = 0;
      for (const auto& r : runs) after += r.pipeline == name && r.started >= caught_up_at;
      // The new records need one fire (kMore > max_records may take a second step); the idle
      // periods add at most one run per period.
      const int max_runs = static_cast<int>((stopped_at - caught_up_at) / (kPeriodS * 1000)) + 3;
      EXPECT_GE(after, 1) << name;
      EXPECT_LE(after, max_runs) << name << " ran more often than its schedule allows";
    }
  }

  auto runs = ListRuns(dir.path());
  std::vector<RunRow> a, b;
  for (const auto& r : runs) {
    EXPECT_TRUE(r.status == "succeeded" || r.status == "no_data") << r.pipeline << " " << r.status;
    EXPECT_EQ(r.kind, "scheduled");
    (r.pipeline == "b1" ? b : a).push_back(r);
  }
  // Bounded steps: every pipeline needed several runs to catch up.
  EXPECT_GE(CountRuns(runs, "a1"), 3);
  EXPECT_GE(CountRuns(runs, "a2"), 3);
  EXPECT_GE(CountRuns(runs, "b1"), 3);
  for (const auto& x : a) {
    for (const auto& y : a) {
      if (x.id < y.id) {
        EXPECT_FALSE(Overlap(x, y)) << "runs " << x.id << " (" << x.pipeline << ") and " << y.id
                                    << " (" << y.pipeline << ") of project A overlapped";
      }
    }
  }
  bool concurrent = false;
  for (const auto& x : a) {
    for (const auto& y : b) concurrent = concurrent || Overlap(x, y);
  }
  EXPECT_TRUE(concurrent) << "project B never ran while project A did";
  // Fairness: A's pipelines took turns (a1 did not catch up completely before a2 started).
  int64_t a1_last = 0, a2_first = INT64_MAX;
  for (const auto& r : a) {
    if (r.pipeline == "a1") a1_last = std::max(a1_last, r.started);
    if (r.pipeline == "a2") a2_first = std::min(a2_first, r.started);
  }
  EXPECT_LT(a2_first, a1_last) << "a2 waited until a1 had caught up: no turn taking";
}

TEST(Serve, SegfaultingDestinationFailsOnlyItsOwnPipeline) {
  TempDir dir("weir-serve");
  constexpr int kEvents = 30;
  for (const char* name : {"good1", "good2", "bad"}) {
    WriteEvents(dir.path() / (std::string(name) + ".ndjson"), name, kEvents);
  }
  WritePipeline(dir.path(), FilePipeline(dir.path(), "good1", "A"));
  WritePipeline(dir.path(), FilePipeline(dir.path(), "good2", "B"));
  PipelineFile bad = FilePipeline(dir.path(), "bad", "A");
  bad.destination = "{\"plugin\":\"crash-destination\",\"config\":{\"dir\":\"" +
                    (dir.path() / "out-bad").string() + "\",\"segfault_on_write\":true}}";
  WritePipeline(dir.path(), bad);
  Daemon d = StartServe(dir.path(), {});
  ProcessGuard guard(d.process);
  ASSERT_GT(d.port, 0) << ReadWholeFile(d.process.err);
  const bool done = WaitUntil(
      [&] {
        auto runs = ListRuns(dir.path());
        return AllExportedOnce(dir.path() / "out-good1", "good1", kEvents) &&
               AllExportedOnce(dir.path() / "out-good2", "good2", kEvents) &&
               CountRuns(runs, "bad", "failed") >= 1;
      },
      seconds(40));
  ASSERT_TRUE(done) << ReadWholeFile(d.process.err);
  EXPECT_FALSE(Exited(d.process)) << "the daemon died with its child";
  HttpResult health = HttpGet(d.port, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  EXPECT_EQ(HttpGet(d.port, "/nope").status, 404);
  EXPECT_EQ(HttpRequest(d.port, "POST", "/metrics").status, 405);
  HttpResult metrics = HttpGet(d.port, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_FALSE(metrics.body.empty());
  HttpResult status = HttpGet(d.port, "/status");
  EXPECT_EQ(status.status, 200);
  EXPECT_NE(status.body.find("bad"), std::string::npos);
  guard.Release();
  EXPECT_EQ(StopServe(d), 0);

  auto runs = ListRuns(dir.path());
  for (const auto& r : runs) {
    if (r.pipeline == "bad") {
      EXPECT_EQ(r.status, "failed");
      EXPECT_NE(r.error.find("killed by signal 11 (SIGSEGV)"), std::string::npos) << r.error;
    } else {
      EXPECT_TRUE(r.status == "succeeded" || r.status == "no_data") << r.pipeline << r.status;
    }
  }
  EXPECT_TRUE(ExportedIds(dir.path() / "out-bad").empty());
  const std::string log = ReadWholeFile(dir.path() / "data" / "logs" / "serve.log");
  EXPECT_NE(log.find("killed by signal 11 (SIGSEGV)"), std::string::npos) << log;
}

TEST(Serve, SigtermMidBatchStopsCleanlyAndTheNextServeResumesExactlyOnce) {
  TempDir dir("weir-serve");
  constexpr int kEvents = 80;  // 8 batches, each write held 300 ms
  WriteEvents(dir.path() / "slow.ndjson", "slow", kEvents);
  WritePipeline(dir.path(), FilePipeline(dir.path(), "slow", "A", 0, 300));
  Daemon d = StartServe(dir.path(), {"--max-batches-per-step", "3"}, /*http=*/false);
  ProcessGuard guard(d.process);
  // Strike once a batch is committed and the next one is being written.
  ASSERT_TRUE(WaitUntil([&] { return !ExportedIds(dir.path() / "out-slow").empty(); }, seconds(30)))
      << ReadWholeFile(d.process.err);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  guard.Release();
  EXPECT_EQ(StopServe(d), 0) << ReadWholeFile(d.process.err);
  auto runs = ListRuns(dir.path());
  ASSERT_FALSE(runs.empty());
  for (const auto& r : runs) EXPECT_NE(r.status, "running") << "run " << r.id;
  const auto partial = ExportedIds(dir.path() / "out-slow");
  EXPECT_LT(static_cast<int>(partial.size()), kEvents) << "SIGTERM landed after the end";
  for (const auto& [id, n] : partial) EXPECT_EQ(n, 1) << id;
  // The batch in flight finished and committed: no pending batch, and the committed rows are
  // exactly what reached the destination.
  ProcessResult show = WaitProcess(StartProcess(
      WeirCommand(WEIR_BINARY, dir.path(), kPlugins, {"pipeline", "show", "slow"}), dir.path()));
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_EQ(show.out.find("pending"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("state:       " + std::to_string(partial.size()) + " rows in "),
            std::string::npos)
      << show.out;

  Daemon again = StartServe(dir.path(), {"--max-batches-per-step", "3"}, /*http=*/false);
  ProcessGuard guard2(again.process);
  ASSERT_TRUE(WaitUntil([&] { return AllExportedOnce(dir.path() / "out-slow", "slow", kEvents); },
                        seconds(40)))
      << ReadWholeFile(again.process.err);
  guard2.Release();
  EXPECT_EQ(StopServe(again), 0);
  for (const auto& r : ListRuns(dir.path())) EXPECT_NE(r.status, "running") << "run " << r.id;
  EXPECT_TRUE(AllExportedOnce(dir.path() / "out-slow", "slow", kEvents));
}

TEST(Serve, MissedFireRunsOnceOnStart) {
  TempDir dir("weir-serve");
  WriteEvents(dir.path() / "p.ndjson", "p", 5);
  WritePipeline(dir.path(), FilePipeline(dir.path(), "p", "A"));  // every 1h
  {
    // The daemon was down for five hourly slots.
    auto store = host::OpenSqliteStateStore(dir.path() / "data" / "state.db");
    ASSERT_TRUE(store.ok()) << store.status().message();
    ASSERT_TRUE((*store)->SetLastFire("p", NowMs() - 5 * 3600 * 1000).ok());
  }
  const int64_t before = NowMs();
  Daemon d = StartServe(dir.path(), {}, /*http=*/false);
  ProcessGuard guard(d.process);
  ASSERT_TRUE(WaitUntil([&] { return CountRuns(ListRuns(dir.path()), "p", "succeeded") >= 1; },
                        seconds(30)))
      << ReadWholeFile(d.process.err);
  std::this_thread::sleep_for(seconds(2));  // 20 ticks: time for a second fire, if one came
  guard.Release();
  EXPECT_EQ(StopServe(d), 0);
  EXPECT_EQ(CountRuns(ListRuns(dir.path()), "p"), 1) << "a missed fire ran more than once";
  auto store = host::OpenSqliteStateStore(dir.path() / "data" / "state.db");
  ASSERT_TRUE(store.ok());
  auto last = (*store)->GetLastFire("p");
  ASSERT_TRUE(last.ok()) << last.status().message();
  EXPECT_GE(*last, before) << "the fire must be recorded at its real time, not the slot";

  // Restarted within the hour: nothing is due.
  Daemon d2 = StartServe(dir.path(), {}, /*http=*/false);
  ProcessGuard guard2(d2.process);
  std::this_thread::sleep_for(seconds(2));
  guard2.Release();
  EXPECT_EQ(StopServe(d2), 0);
  EXPECT_EQ(CountRuns(ListRuns(dir.path()), "p"), 1);
}

TEST(Serve, SighupPicksUpANewPipelineFile) {
  TempDir dir("weir-serve");
  WriteEvents(dir.path() / "first.ndjson", "first", 5);
  WriteEvents(dir.path() / "second.ndjson", "second", 5);
  WritePipeline(dir.path(), FilePipeline(dir.path(), "first", "A"));
  Daemon d = StartServe(dir.path(), {}, /*http=*/false);
  ProcessGuard guard(d.process);
  ASSERT_TRUE(WaitUntil([&] { return AllExportedOnce(dir.path() / "out-first", "first", 5); },
                        seconds(30)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(CountRuns(ListRuns(dir.path()), "second"), 0);
  WritePipeline(dir.path(), FilePipeline(dir.path(), "second", "B"));
  // A broken file next to it is reported, not fatal.
  WriteText(dir.path() / "pipelines" / "broken.json", "{\"name\": 1}");
  Signal(d.process, SIGHUP);
  ASSERT_TRUE(WaitUntil([&] { return AllExportedOnce(dir.path() / "out-second", "second", 5); },
                        seconds(30)))
      << ReadWholeFile(d.process.err);
  EXPECT_FALSE(Exited(d.process));
  guard.Release();
  EXPECT_EQ(StopServe(d), 0);
  const std::string log = ReadWholeFile(dir.path() / "data" / "logs" / "serve.log");
  EXPECT_NE(log.find("SIGHUP: reloaded 2 pipelines (1 files not loaded)"), std::string::npos)
      << log;
  EXPECT_NE(log.find("broken.json"), std::string::npos);
}

TEST(Serve, SecondServeOnTheSameDataDirIsRefused) {
  TempDir dir("weir-serve");
  fs::create_directories(dir.path() / "pipelines");
  Daemon d = StartServe(dir.path(), {}, /*http=*/false);
  ProcessGuard guard(d.process);
  ASSERT_FALSE(Exited(d.process)) << ReadWholeFile(d.process.err);
  ProcessResult second = WaitProcess(StartProcess(
      WeirCommand(WEIR_BINARY, dir.path(), kPlugins, {"serve", "--http", "off"}), dir.path()));
  EXPECT_EQ(second.code, 5);
  EXPECT_NE(second.err.find("already running"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("pid " + std::to_string(d.process.pid)), std::string::npos)
      << second.err;
  guard.Release();
  EXPECT_EQ(StopServe(d), 0);
}

TEST(Serve, BadOptionsAreUsageErrors) {
  TempDir dir("weir-serve");
  fs::create_directories(dir.path() / "pipelines");
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {{"serve", "--http", "localhost"}, 2, "--http"},
      {{"serve", "--project-concurrency", "0"}, 2, "--project-concurrency"},
      {{"serve", "--tick-ms", "1"}, 2, "--tick-ms"},
      {{"serve", "--service", "nope"}, 2, "--service"},
      {{"serve", "--service", "no-such-plugin=@x.json"}, 3, "no-such-plugin"},
      {{"serve", "--service", "file-source=@x.json"}, 3, "offers no service"},
      {{"serve", "--service", "sdk-source=@/nonexistent/c.json"}, 2, "/nonexistent/c.json"},
  };
  for (const auto& c : cases) {
    ProcessResult r = WaitProcess(
        StartProcess(WeirCommand(WEIR_BINARY, dir.path(), kPlugins, c.args), dir.path()));
    EXPECT_EQ(r.code, c.code) << c.args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
  }
}

TEST(Serve, HostsTheCollectorServiceAndRestartsItWhenItDies) {
  TempDir dir("weir-serve");
  fs::create_directories(dir.path() / "pipelines");
  WriteText(dir.path() / "collector.json",
            "{\"data_dir\":\"" + (dir.path() / "collected").string() +
                "\",\"listen\":\"127.0.0.1:0\",\"projects\":{\"demo\":{\"tokens\":[\"t0k\"]}}}");
  Daemon d = StartServe(dir.path(),
                        {"--service", "sdk-source=@" + (dir.path() / "collector.json").string()});
  ProcessGuard guard(d.process);
  ASSERT_GT(d.port, 0) << ReadWholeFile(d.process.err);
  const fs::path metrics_file = dir.path() / "data" / "serve" / "service-1-sdk-source.metrics.json";
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(metrics_file); }, seconds(20)))
      << ReadWholeFile(d.process.err);
  // The collector's ingest counters reach the metrics file through the host's metric().
  const fs::path service_log = dir.path() / "data" / "logs" / "service-1-sdk-source.log";
  const std::string listening = "collector listening on 127.0.0.1:";
  ASSERT_TRUE(WaitUntil(
      [&] { return ReadWholeFile(service_log).find(listening) != std::string::npos; }, seconds(20)))
      << ReadWholeFile(service_log);
  const std::string slog = ReadWholeFile(service_log);
  const auto cport =
      static_cast<uint16_t>(std::atoi(slog.c_str() + slog.find(listening) + listening.size()));
  const std::string event =
      "{\"event\":\"Signup\",\"time\":1700000000123,\"distinct_id\":\"u1\","
      "\"insert_id\":\"n-1\",\"properties\":{}}\n";
  EXPECT_EQ(HttpRequest(cport, "POST", "/v1/events",
                        {"Authorization: Bearer t0k", "Content-Type: application/x-ndjson"}, event)
                .status,
            200);
  EXPECT_EQ(
      HttpRequest(cport, "POST", "/v1/events",
                  {"Authorization: Bearer wrong", "Content-Type: application/x-ndjson"}, event)
              .status /
          100,
      4);
  std::string counters;
  EXPECT_TRUE(WaitUntil(
      [&] {
        counters = ReadWholeFile(metrics_file);
        return counters.find("\"collector.events_accepted\":1") != std::string::npos &&
               counters.find("\"collector.rejected\":1") != std::string::npos &&
               counters.find("\"collector.requests\":2") != std::string::npos;
      },
      seconds(10)))
      << counters;
  // Find the service child's pid in the serve log, kill it, and see it come back.
  const std::string marker = "service 'sdk-source' started, pid ";
  std::string log = ReadWholeFile(dir.path() / "data" / "logs" / "serve.log");
  const size_t at = log.find(marker);
  ASSERT_NE(at, std::string::npos) << log;
  const pid_t pid = static_cast<pid_t>(std::atoi(log.c_str() + at + marker.size()));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(WaitUntil(
      [&] {
        log = ReadWholeFile(dir.path() / "data" / "logs" / "serve.log");
        return CountOccurrences(log, marker) >= 2;
      },
      seconds(20)))
      << log;
  EXPECT_NE(log.find("killed by signal 9 (SIGKILL); restarting"), std::string::npos) << log;
  HttpResult metrics = HttpGet(d.port, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  guard.Release();
  EXPECT_EQ(StopServe(d), 0);
  log = ReadWholeFile(dir.path() / "data" / "logs" / "serve.log");
  EXPECT_NE(log.find("service 'sdk-source' stopped"), std::string::npos) << log;
}

}  // namespace
}  // namespace weir::test::serve
