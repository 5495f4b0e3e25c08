// tests/serve/scheduler_test.cpp — the serve scheduler's queue and due-time logic, driven with
// a controlled clock, an in-memory schedule state and a launcher that records what it starts.
#include "serve/scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace weir::host::serve {
namespace {

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kT0 = 1'800'000'900'000;  // a fixed "now", 15 min past an hour

/// Every N hours on UTC hour boundaries: enough of a schedule for the queue logic.
Result<std::optional<int64_t>> FakeNextFire(const Schedule& s, int64_t after_ms) {
  if (s.kind == Schedule::Kind::kNone) return std::optional<int64_t>();
  const int64_t period = s.every_seconds * 1000;
  return std::optional<int64_t>((after_ms / period + 1) * period);
}

class FakeState : public ScheduleStateAccess {
 public:
  Result<int64_t> GetLastFire(const std::string& p) override {
    auto it = last_fire.find(p);
    return it == last_fire.end() ? 0 : it->second;
  }
  Status SetLastFire(const std::string& p, int64_t ms) override {
    last_fire[p] = ms;
    ++set_last_fire_calls;
    return Status::OK();
  }
  Result<bool> BackfillPending(const std::string& p, const std::string&) override {
    return backfill_pending.count(p) != 0U;
  }
  Result<bool> ResumeOnStart(const std::string& p) override { return resume.count(p) != 0U; }
  Result<int> FailRunsOfProcess(int64_t pid, const std::string& error) override {
    failed[pid] = error;
    return 1;
  }
  std::map<std::string, int64_t> last_fire;
  std::set<std::string> backfill_pending;
  std::set<std::string> resume;
  std::map<int64_t, std::string> failed;
  int set_last_fire_calls = 0;
};

class FakeLauncher : public StepLauncher {
 public:
  Result<int64_t> Launch(const StepRequest& step) override {
    const int64_t pid = next_pid++;
    launches.push_back(step);
    pids[pid] = step.pipeline;
    return pid;
  }
  int64_t PidOf(const std::string& pipeline) const {
    int64_t last = 0;
    for (const auto& [pid, p] : pids) {
      if (p == pipeline) last = pid;
    }
    return last;
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const auto& l : launches) out.push_back(l.pipeline);
    return out;
  }
  int64_t next_pid = 100;
  std::vector<StepRequest> launches;
  std::map<int64_t, std::string> pids;
};

Schedule EveryHours(int h) {
  Schedule s;
  s.kind = Schedule::Kind::kEvery;
  s.every_seconds = int64_t{h} * 3600;
  return s;
}

PipelineSpec Spec(const std::string& name, const std::string& project, Schedule s = EveryHours(1)) {
  return PipelineSpec{name, project, "events", s};
}

struct Fixture {
  explicit Fixture(int concurrency = 1)
      : scheduler(SchedulerOptions{concurrency, 5000, 600000}, &state, &launcher, FakeNextFire,
                  [this](int, const std::string& m) { log.push_back(m); }) {}
  /// The step of `pipeline` that runs now ends with `exit`.
  void Exit(const std::string& pipeline, ChildExit exit, int64_t now) {
    const int64_t pid = launcher.PidOf(pipeline);
    ASSERT_TRUE(scheduler.OnStepExit(pid, exit, now)) << pipeline;
  }
  FakeState state;
  FakeLauncher launcher;
  std::vector<std::string> log;
  Scheduler scheduler;
};

TEST(ServeScheduler, NeverFiredPipelineIsDueNowAndRecordsTheFire) {
  Fixture f;
  f.scheduler.SetPipelines({Spec("a1", "A")}, kT0);
  f.scheduler.Tick(kT0);
  ASSERT_EQ(f.launcher.launches.size(), 1U);
  EXPECT_EQ(f.launcher.launches[0].kind, StepKind::kIncremental);
  EXPECT_EQ(f.state.last_fire["a1"], kT0);
  EXPECT_EQ(f.scheduler.NextDue("a1"), (kT0 / kHour + 1) * kHour);
  f.scheduler.Tick(kT0 + 10);  // running: not started twice
  EXPECT_EQ(f.launcher.launches.size(), 1U);
}

TEST(ServeScheduler, OneRunningStepPerProjectOtherProjectsRunConcurrently) {
  Fixture f;
  f.scheduler.SetPipelines({Spec("a1", "A"), Spec("a2", "A"), Spec("b1", "B")}, kT0);
  f.scheduler.Tick(kT0);
  EXPECT_EQ(f.launcher.Names(), (std::vector<std::string>{"a1", "b1"}));
  EXPECT_EQ(f.scheduler.Queued(), (std::vector<std::string>{"a2"}));
  auto running = f.scheduler.Running();
  EXPECT_EQ(running.size(), 2U);
  EXPECT_EQ(running.count("a2"), 0U);
  // a1 ends: a2 gets the slot right away, in the same call.
  f.Exit("a1", ChildExit::Exited(0), kT0 + 1000);
  EXPECT_EQ(f.launcher.Names(), (std::vector<std::string>{"a1", "b1", "a2"}));
}

TEST(ServeScheduler, MoreToDoGoesToTheBackSoPipelinesTakeTurns) {
  Fixture f;
  f.scheduler.SetPipelines({Spec("a1", "A"), Spec("a2", "A"), Spec("a3", "A")}, kT0);
  int64_t now = kT0;
  f.scheduler.Tick(now);
  // Every step says "more to do": the three pipelines must alternate, none starves.
  std::vector<std::string> order;
  for (int i = 0; i < 9; ++i) {
    now += 100;
    const std::string running = f.scheduler.Running().begin()->first;
    ASSERT_EQ(f.scheduler.Running().size(), 1U);
    order.push_back(running);
    f.Exit(running, ChildExit::Exited(6), now);
    f.scheduler.Tick(now);
  }
  EXPECT_EQ(order,
            (std::vector<std::string>{"a1", "a2", "a3", "a1", "a2", "a3", "a1", "a2", "a3"}));
  // The catch-up continuation is not a new fire: the fire was recorded once per pipeline.
  EXPECT_EQ(f.state.set_last_fire_calls, 3);
}

TEST(ServeScheduler, ConcurrencyTwoRunsTwoOfAProject) {
  Fixture f(2);
  f.scheduler.SetPipelines({Spec("a1", "A"), Spec("a2", "A"), Spec("a3", "A")}, kT0);
  f.scheduler.Tick(kT0);
  EXPECT_EQ(f.launcher.Names(), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(f.scheduler.Queued(), (std::vector<std::string>{"a3"}));
}

TEST(ServeScheduler, MissedFiresRunOnceAndCountFromNow) {
  Fixture f;
  // The daemon was down for five hourly slots.
  f.state.last_fire["a1"] = kT0 - 5 * kHour;
  f.scheduler.SetPipelines({Spec("a1", "A")}, kT0);
  f.scheduler.Tick(kT0);
  ASSERT_EQ(f.launcher.launches.size(), 1U);
  f.Exit("a1", ChildExit::Exited(0), kT0 + 2000);
  for (int64_t t = kT0 + 2000; t < (kT0 / kHour + 1) * kHour; t += 60000) f.scheduler.Tick(t);
  EXPECT_EQ(f.launcher.launches.size(), 1U) << "a missed fire ran more than once";
  EXPECT_EQ(f.state.last_fire["a1"], kT0);  // now, not the missed slot
  // The next slot fires once more.
  f.scheduler.Tick((kT0 / kHour + 1) * kHour);
  EXPECT_EQ(f.launcher.launches.size(), 2U);
}

TEST(ServeScheduler, InterruptedCatchUpResumesOnStartWithoutANewFire) {
  Fixture f;
  f.state.last_fire["a1"] = kT0 - 60000;  // fired a minute ago, then the daemon stopped
  f.state.last_fire["a2"] = kT0 - 60000;
  f.state.last_fire["m"] = kT0 - 60000;
  f.state.resume = {"a1", "m"};
  f.scheduler.SetPipelines({Spec("a1", "A"), Spec("a2", "B"), Spec("m", "C", Schedule{})}, kT0);
  f.scheduler.Tick(kT0);
  // a1 resumes; a2 (caught up) waits for its slot; m is manual: serve never runs it.
  EXPECT_EQ(f.launcher.Names(), (std::vector<std::string>{"a1"}));
  f.Exit("a1", ChildExit::Exited(0), kT0 + 10);
  f.scheduler.Tick(kT0 + 20);
  EXPECT_EQ(f.launcher.launches.size(), 1U);
  EXPECT_EQ(f.state.set_last_fire_calls, 0);
}

TEST(ServeScheduler, CaughtUpPipelineWaitsForItsNextSlot) {
  Fixture f;
  f.scheduler.SetPipelines({Spec("a1", "A", EveryHours(2))}, kT0);
  f.scheduler.Tick(kT0);
  f.Exit("a1", ChildExit::Exited(0), kT0 + 10);
  const int64_t next = (kT0 / (2 * kHour) + 1) * 2 * kHour;
  f.scheduler.Tick(next - 1);
  EXPECT_EQ(f.launcher.launches.size(), 1U);
  f.scheduler.Tick(next);
  EXPECT_EQ(f.launcher.launches.size(), 2U);
}

TEST(ServeScheduler, ManualScheduleIsNotFiredButItsBackfillRuns) {
  Fixture f;
  f.scheduler.SetPipelines({Spec("m", "A", Schedule{})}, kT0);
  f.scheduler.Tick(kT0);
  EXPECT_TRUE(f.launcher.launches.empty());
  f.state.backfill_pending.insert("m");
  f.scheduler.Tick(kT0 + 1);
  ASSERT_EQ(f.launcher.launches.size(), 1U);
  EXPECT_EQ(f.launcher.launches[0].kind, StepKind::kBackfill);
  f.Exit("m", ChildExit::Exited(6), kT0 + 2);  // more windows: again right away
  ASSERT_EQ(f.launcher.launches.size(), 2U);
  EXPECT_EQ(f.launcher.launches[1].kind, StepKind::kBackfill);
  f.state.backfill_pending.clear();
  f.Exit("m", ChildExit::Exited(0), kT0 + 3);
  f.scheduler.Tick(kT0 + 4);
  EXPECT_EQ(f.launcher.launches.size(), 2U);
  EXPECT_EQ(f.state.set_last_fire_calls, 0);
}

TEST(ServeScheduler, BackfillAndIncrementalTakeTurns) {
  Fixture f;
  f.state.backfill_pending.insert("a1");
  f.scheduler.SetPipelines({Spec("a1", "A")}, kT0);
  f.scheduler.Tick(kT0);
  std::vector<StepKind> kinds;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(f.launcher.launches.size(), static_cast<size_t>(i + 1));
    kinds.push_back(f.launcher.launches.back().kind);
    f.Exit("a1", ChildExit::Exited(6), kT0 + i + 1);
  }
  EXPECT_EQ(kinds, (std::vector<StepKind>{StepKind::kBackfill, StepKind::kIncremental,
                                          StepKind::kBackfill, StepKind::kIncremental}));
}

TEST(ServeScheduler, CrashedStepFailsItsRunAndIsRetriedAfterBackoff) {
  Fixture f;
  f.scheduler.SetPipelines({Spec("bad", "A"), Spec("good", "B")}, kT0);
  f.scheduler.Tick(kT0);
  const int64_t bad_pid = f.launcher.PidOf("bad");
  f.Exit("bad", ChildExit::Killed(11), kT0 + 100);
  ASSERT_EQ(f.state.failed.count(bad_pid), 1U);
  EXPECT_NE(f.state.failed[bad_pid].find("killed by signal 11 (SIGSEGV)"), std::string::npos)
      << f.state.failed[bad_pid];
  EXPECT_EQ(f.scheduler.counters().at("serve.children_crashed"), 1);
  // The other project's step is untouched and still running.
  EXPECT_EQ(f.scheduler.Running().count("good"), 1U);
  f.scheduler.Tick(kT0 + 4000);
  EXPECT_EQ(f.launcher.launches.size(), 2U) << "retried before the backoff";
  f.scheduler.Tick(kT0 + 5200);
  EXPECT_EQ(f.launcher.launches.size(), 3U);
  EXPECT_EQ(f.launcher.launches.back().pipeline, "bad");
  // A second crash doubles the backoff.
  f.Exit("bad", ChildExit::Killed(11), kT0 + 5300);
  f.scheduler.Tick(kT0 + 5300 + 9000);
  EXPECT_EQ(f.launcher.launches.size(), 3U);
  f.scheduler.Tick(kT0 + 5300 + 10100);
  EXPECT_EQ(f.launcher.launches.size(), 4U);
}

TEST(ServeScheduler, StopClearsTheQueueAndFiresNothing) {
  Fixture f;
  f.scheduler.SetPipelines({Spec("a1", "A"), Spec("a2", "A")}, kT0);
  f.scheduler.Tick(kT0);
  f.scheduler.Stop();
  EXPECT_TRUE(f.scheduler.Queued().empty());
  EXPECT_EQ(f.scheduler.RunningPids().size(), 1U);
  f.Exit("a1", ChildExit::Exited(6), kT0 + 10);  // more to do, but stopping
  f.scheduler.Tick(kT0 + 20);
  EXPECT_EQ(f.launcher.launches.size(), 1U);
  EXPECT_TRUE(f.scheduler.RunningPids().empty());
  EXPECT_TRUE(f.state.failed.empty());
}

TEST(ServeScheduler, CancelledAtShutdownIsNotAFailure) {
  Fixture f;
  f.scheduler.SetPipelines({Spec("a1", "A")}, kT0);
  f.scheduler.Tick(kT0);
  f.scheduler.Stop();
  f.Exit("a1", ChildExit::Exited(130), kT0 + 10);
  EXPECT_TRUE(f.state.failed.empty());
  EXPECT_EQ(f.scheduler.counters().at("serve.steps_failed"), 0);
}

TEST(ServeScheduler, ReloadAddsRemovesAndMovesPipelines) {
  Fixture f;
  f.scheduler.SetPipelines({Spec("a1", "A"), Spec("a2", "A")}, kT0);
  f.scheduler.Tick(kT0);  // a1 runs, a2 queued
  // a1 is removed while running, a2 moves to project B, c1 is new in project A.
  f.scheduler.SetPipelines({Spec("a2", "B"), Spec("c1", "A")}, kT0 + 10);
  f.scheduler.Tick(kT0 + 20);
  auto running = f.scheduler.Running();
  EXPECT_EQ(running.count("a1"), 1U);            // finishes first
  EXPECT_EQ(running.count("a2"), 1U);            // project B had a free slot
  EXPECT_EQ(running.count("c1"), 0U);            // project A's slot is still a1's
  f.Exit("a1", ChildExit::Exited(6), kT0 + 30);  // removed: not queued again
  EXPECT_EQ(f.scheduler.Running().count("c1"), 1U);
  EXPECT_EQ(f.scheduler.Running().count("a1"), 0U);
  EXPECT_FALSE(f.scheduler.NextDue("a1").has_value());
}

TEST(ServeScheduler, BrokenScheduleIsNotFiredAndSaysWhy) {
  Fixture f;
  f.state.last_fire["x"] = kT0 - kHour;
  Scheduler s(
      SchedulerOptions{}, &f.state, &f.launcher,
      [](const Schedule&, int64_t) -> Result<std::optional<int64_t>> {
        return Status::InvalidConfig("unknown time zone 'Mars/Olympus'");
      },
      [&](int, const std::string& m) { f.log.push_back(m); });
  s.SetPipelines({Spec("x", "A")}, kT0);
  s.Tick(kT0);
  EXPECT_TRUE(f.launcher.launches.empty());
  ASSERT_FALSE(f.log.empty());
  EXPECT_NE(f.log[0].find("Mars/Olympus"), std::string::npos) << f.log[0];
}

TEST(ServeChildExit, DescribesSignalsByName) {
  EXPECT_EQ(ChildExit::Killed(11).Describe(), "killed by signal 11 (SIGSEGV)");
  EXPECT_EQ(ChildExit::Killed(9).Describe(), "killed by signal 9 (SIGKILL)");
  EXPECT_EQ(ChildExit::Exited(3).Describe(), "exited with code 3");
}

}  // namespace
}  // namespace weir::host::serve
