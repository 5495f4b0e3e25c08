// host/serve/scheduler.cpp — due times, per-project FIFO queues, the concurrency limit.
#include "serve/scheduler.hpp"

#include <algorithm>

#include "run/runner.hpp"

namespace weir::host::serve {

const char* StepKindName(StepKind kind) {
  return kind == StepKind::kBackfill ? "backfill step" : "scheduled run";
}

Scheduler::Scheduler(SchedulerOptions options, ScheduleStateAccess* state, StepLauncher* launcher,
                     NextFireFn next_fire, SchedulerLogFn log)
    : options_(options),
      state_(state),
      launcher_(launcher),
      next_fire_(std::move(next_fire)),
      log_(std::move(log)) {
  if (options_.project_concurrency < 1) options_.project_concurrency = 1;
  for (const char* c : {"serve.steps_started", "serve.steps_succeeded", "serve.steps_more_to_do",
                        "serve.steps_failed", "serve.children_crashed", "serve.fires"}) {
    counters_[c] = 0;
  }
}

void Scheduler::Log(int level, const std::string& message) const {
  if (log_) log_(level, message);
}

void Scheduler::ComputeNextDue(Entry& e) {
  e.next_due_ms.reset();
  if (e.spec.schedule.kind == Schedule::Kind::kNone) return;
  if (e.last_fire_ms <= 0) {  // never fired: due now
    e.next_due_ms = 0;
    return;
  }
  auto next = next_fire_(e.spec.schedule, e.last_fire_ms);
  if (!next.ok()) {
    Log(3, "pipeline '" + e.spec.name + "': cannot compute its next fire time (" +
               e.spec.schedule.ToString() + "): " + next.status().message() +
               "; it is not fired until that is fixed");
    return;
  }
  e.next_due_ms = *next;
}

void Scheduler::SetPipelines(const std::vector<PipelineSpec>& pipelines, int64_t now_ms) {
  (void)now_ms;
  std::map<std::string, bool> seen;
  for (const auto& spec : pipelines) {
    seen[spec.name] = true;
    auto it = entries_.find(spec.name);
    if (it == entries_.end()) {
      Entry e;
      e.spec = spec;
      if (spec.schedule.kind != Schedule::Kind::kNone) {
        auto resume = state_->ResumeOnStart(spec.name);
        if (resume.ok() && *resume) {
          e.continue_incremental = true;
          Log(1, "pipeline '" + spec.name + "' was interrupted while catching up: it resumes now");
        } else if (!resume.ok()) {
          Log(2, "pipeline '" + spec.name +
                     "': cannot read its last run: " + resume.status().message());
        }
      }
      it = entries_.emplace(spec.name, std::move(e)).first;
    } else if (it->second.spec.project != spec.project) {
      Entry& e = it->second;
      // A queued pipeline moves to its new project's queue, at the back.
      if (e.state == State::kQueued) {
        auto& q = queues_[e.spec.project];
        q.erase(std::remove(q.begin(), q.end(), spec.name), q.end());
        queues_[spec.project].push_back(spec.name);
      }
      if (e.state == State::kRunning) {
        --running_per_project_[e.spec.project];
        ++running_per_project_[spec.project];
      }
    }
    Entry& e = it->second;
    e.spec = spec;
    e.removed = false;
    auto last = state_->GetLastFire(spec.name);
    if (last.ok()) {
      e.last_fire_ms = std::max(e.last_fire_ms, *last);
    } else if (!warned_last_fire_) {
      warned_last_fire_ = true;
      Log(2, "the state store keeps no last fire time (" + last.status().message() +
                 "); using this daemon's memory only");
    }
    ComputeNextDue(e);
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (seen.count(it->first) != 0U) {
      ++it;
      continue;
    }
    Entry& e = it->second;
    if (e.state == State::kQueued) {
      auto& q = queues_[e.spec.project];
      q.erase(std::remove(q.begin(), q.end(), it->first), q.end());
    }
    if (e.state == State::kRunning) {
      Log(1, "pipeline '" + it->first + "' was removed; its running step finishes first");
      e.removed = true;
      ++it;
    } else {
      Log(1, "pipeline '" + it->first + "' was removed");
      it = entries_.erase(it);
    }
  }
}

bool Scheduler::DueIncremental(const Entry& e, int64_t now_ms) const {
  return e.continue_incremental || (e.next_due_ms.has_value() && *e.next_due_ms <= now_ms);
}

bool Scheduler::WantsBackfill(Entry& e) {
  if (e.continue_backfill) return true;
  auto pending = state_->BackfillPending(e.spec.name, e.spec.stream);
  if (!pending.ok()) {
    if (!warned_backfill_) {
      warned_backfill_ = true;
      Log(2, "cannot read the backfill ledger (" + pending.status().message() +
                 "); backfills are not run by this daemon until it can");
    }
    return false;
  }
  return *pending;
}

void Scheduler::Enqueue(Entry& e) {
  e.state = State::kQueued;
  queues_[e.spec.project].push_back(e.spec.name);
}

void Scheduler::Tick(int64_t now_ms) {
  if (stopping_) return;
  for (auto& [name, e] : entries_) {
    if (e.state != State::kIdle || e.removed || now_ms < e.retry_after_ms) continue;
    if (DueIncremental(e, now_ms) || WantsBackfill(e)) Enqueue(e);
  }
  StartWhatFits(now_ms);
}

void Scheduler::StartWhatFits(int64_t now_ms) {
  for (auto& [project, queue] : queues_) {
    int& running = running_per_project_[project];
    while (running < options_.project_concurrency && !queue.empty()) {
      const std::string name = queue.front();
      queue.pop_front();
      auto it = entries_.find(name);
      if (it == entries_.end()) continue;
      Entry& e = it->second;
      // What to run is decided now, not at enqueue time: the ledger may have changed while
      // the pipeline waited. When both kinds are wanted they take turns.
      const bool inc = DueIncremental(e, now_ms);
      const bool bf = WantsBackfill(e);
      if (!inc && !bf) {
        e.state = State::kIdle;
        continue;
      }
      StepKind kind = bf ? StepKind::kBackfill : StepKind::kIncremental;
      if (inc && bf && e.last_kind == StepKind::kBackfill) kind = StepKind::kIncremental;
      auto pid = launcher_->Launch(StepRequest{name, kind});
      if (!pid.ok()) {
        ++e.failures;
        e.retry_after_ms =
            now_ms + std::min(options_.retry_max_ms,
                              options_.retry_initial_ms << std::min(e.failures - 1, 20));
        e.state = State::kIdle;
        Log(3, "pipeline '" + name + "': cannot start its " + StepKindName(kind) + ": " +
                   pid.status().message());
        continue;
      }
      if (kind == StepKind::kIncremental && e.next_due_ms.has_value() && *e.next_due_ms <= now_ms) {
        // A fire is consumed now, and counted from now (not from the missed slot): a daemon
        // that was down across several slots runs the pipeline once, not once per slot.
        e.last_fire_ms = now_ms;
        Status s = state_->SetLastFire(name, now_ms);
        if (!s.ok() && !warned_last_fire_) {
          warned_last_fire_ = true;
          Log(2, "cannot record the last fire of '" + name + "': " + s.message());
        }
        ComputeNextDue(e);
        counters_["serve.fires"] += 1;
      }
      e.state = State::kRunning;
      e.pid = *pid;
      e.running_kind = kind;
      e.last_kind = kind;
      ++running;
      counters_["serve.steps_started"] += 1;
      Log(1, "pipeline '" + name + "' (project '" + project + "'): " + StepKindName(kind) +
                 " started, pid " + std::to_string(*pid));
    }
  }
}

bool Scheduler::OnStepExit(int64_t pid, const ChildExit& exit, int64_t now_ms) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& kv) {
    return kv.second.state == State::kRunning && kv.second.pid == pid;
  });
  if (it == entries_.end()) return false;
  Entry& e = it->second;
  const std::string name = it->first;
  --running_per_project_[e.spec.project];
  e.state = State::kIdle;
  e.pid = 0;
  bool& cont = e.running_kind == StepKind::kBackfill ? e.continue_backfill : e.continue_incremental;
  const std::string what = std::string(StepKindName(e.running_kind)) + " of '" + name + "' (pid " +
                           std::to_string(pid) + ")";
  if (!exit.signaled && exit.code == kExitOk) {
    cont = false;
    e.failures = 0;
    counters_["serve.steps_succeeded"] += 1;
    Log(1, what + " finished: caught up");
  } else if (!exit.signaled && exit.code == kExitMoreToDo) {
    cont = true;
    e.failures = 0;
    counters_["serve.steps_more_to_do"] += 1;
    Log(0, what + " finished with more to do: queued again");
    if (!stopping_ && !e.removed) Enqueue(e);
  } else if (stopping_ && !exit.signaled && exit.code == kExitCancelled) {
    Log(1, what + " stopped for shutdown; the next serve resumes it");
  } else {
    counters_["serve.steps_failed"] += 1;
    if (exit.signaled) counters_["serve.children_crashed"] += 1;
    ++e.failures;
    const int64_t backoff =
        std::min(options_.retry_max_ms, options_.retry_initial_ms << std::min(e.failures - 1, 20));
    e.retry_after_ms = now_ms + backoff;
    cont = true;  // try again after the backoff, not only at the next slot
    std::string reason = exit.Describe();
    if (!exit.signaled) {
      switch (exit.code) {
        case kExitRunFailed:
          reason += " (the run failed)";
          break;
        case kExitUsage:
          reason += " (usage or config error)";
          break;
        case kExitPlugin:
          reason += " (plugin missing or refused)";
          break;
        case kExitState:
          reason += " (state store error)";
          break;
        case kExitBusy:
          reason += " (the pipeline is running in another process)";
          break;
        default:
          break;
      }
    }
    auto marked = state_->FailRunsOfProcess(pid, reason);
    Log(3, what + " " + reason + (marked.ok() && *marked > 0 ? "; its run is marked failed" : "") +
               "; retried in " + std::to_string(backoff / 1000) + " s");
    if (!marked.ok()) {
      Log(2, "cannot mark the runs of pid " + std::to_string(pid) +
                 " failed: " + marked.status().message());
    }
  }
  if (e.removed) entries_.erase(it);
  StartWhatFits(now_ms);
  return true;
}

void Scheduler::Stop() {
  stopping_ = true;
  for (auto& [project, q] : queues_) {
    for (const auto& name : q) {
      auto it = entries_.find(name);
      if (it != entries_.end() && it->second.state == State::kQueued) {
        it->second.state = State::kIdle;
      }
    }
    q.clear();
  }
}

std::vector<int64_t> Scheduler::RunningPids() const {
  std::vector<int64_t> out;
  for (const auto& [name, e] : entries_) {
    if (e.state == State::kRunning) out.push_back(e.pid);
  }
  return out;
}

std::map<std::string, std::string> Scheduler::Running() const {
  std::map<std::string, std::string> out;
  for (const auto& [name, e] : entries_) {
    if (e.state == State::kRunning) out[name] = StepKindName(e.running_kind);
  }
  return out;
}

std::vector<std::string> Scheduler::Queued() const {
  std::vector<std::string> out;
  for (const auto& [project, q] : queues_) out.insert(out.end(), q.begin(), q.end());
  return out;
}

std::optional<int64_t> Scheduler::NextDue(const std::string& pipeline) const {
  auto it = entries_.find(pipeline);
  if (it == entries_.end()) return std::nullopt;
  return it->second.next_due_ms;
}

}  // namespace weir::host::serve
