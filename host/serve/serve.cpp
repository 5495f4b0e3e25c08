// host/serve/serve.cpp — the `weir serve` daemon loop (see serve.hpp).
#include "serve/serve.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>

#include "observe/observe.hpp"
#include "pipeline/pipeline.hpp"
#include "run/runner.hpp"
#include "schedule/schedule.hpp"
#include "serve/scheduler.hpp"
#include "state/state_store.hpp"

namespace weir::host::serve {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The schedule state in the real state store.
class StoreScheduleAccess final : public ScheduleStateAccess {
 public:
  StoreScheduleAccess(StateStore* store, uint64_t max_batches)
      : store_(store), max_batches_(max_batches) {}
  Result<int64_t> GetLastFire(const std::string& pipeline) override {
    return store_->GetLastFire(pipeline);
  }
  Status SetLastFire(const std::string& pipeline, int64_t fired_at_ms) override {
    return store_->SetLastFire(pipeline, fired_at_ms);
  }
  Result<bool> BackfillPending(const std::string& pipeline, const std::string& stream) override {
    WEIR_ASSIGN_OR_RETURN(auto windows, store_->ListBackfill(pipeline, stream));
    for (const auto& w : windows) {
      if (w.status != "done") return true;
    }
    return false;
  }
  Result<bool> ResumeOnStart(const std::string& pipeline) override {
    WEIR_ASSIGN_OR_RETURN(auto runs, store_->ListRuns(pipeline, 1));
    if (runs.empty()) return false;
    const RunRecord& r = runs.front();
    if (r.status == "running" || r.status == "cancelled" || r.status == "interrupted" ||
        r.status == "failed") {
      return true;
    }
    // A step that ended exactly at its limit may have left more behind (exit 6, not recorded
    // in the row); one more step costs at most a no_data run.
    return r.kind == "scheduled" && r.status == "succeeded" && r.batches >= max_batches_;
  }
  Result<int> FailRunsOfProcess(int64_t pid, const std::string& error) override {
    return store_->FinishRunsOfProcess(pid, "failed", error);
  }

 private:
  StateStore* store_;
  uint64_t max_batches_;
};

/// Starts each step as `weir <globals> run|backfill P ...`, output into one children log.
class ChildStepLauncher final : public StepLauncher {
 public:
  ChildStepLauncher(const ServeConfig& config, std::filesystem::path log)
      : config_(config), log_(std::move(log)) {}
  Result<int64_t> Launch(const StepRequest& step) override {
    std::vector<std::string> argv{config_.exe.string()};
    argv.insert(argv.end(), config_.child_args.begin(), config_.child_args.end());
    if (step.kind == StepKind::kBackfill) {
      argv.insert(argv.end(), {"backfill", step.pipeline, "--step", "--no-progress"});
    } else {
      argv.insert(argv.end(), {"run", step.pipeline, "--kind", "scheduled", "--max-batches",
                               std::to_string(config_.max_batches_per_step), "--no-progress"});
    }
    WEIR_ASSIGN_OR_RETURN(pid_t pid, SpawnChild(argv, log_));
    return static_cast<int64_t>(pid);
  }

 private:
  const ServeConfig& config_;
  std::filesystem::path log_;
};

/// The exclusive flock on the serve lock file, holding our pid as text.
class ServeLock {
 public:
  static Result<std::unique_ptr<ServeLock>> Take(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Status::Error("cannot open the serve lock " + path.string() + ": " +
                           std::strerror(errno));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char buf[32] = {0};
      const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      ::close(fd);
      if (err == EWOULDBLOCK) {
        const long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
        return Status::Error("weir serve is already running for this data dir (pid " +
                             std::to_string(pid) + ", lock " + path.string() + ")");
      }
      return Status::Error("cannot lock " + path.string() + ": " + std::strerror(err));
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      const int err = errno;
      ::close(fd);
      return Status::Error("cannot write the serve lock " + path.string() + ": " +
                           std::strerror(err));
    }
    return std::unique_ptr<ServeLock>(new ServeLock(fd));
  }
  ~ServeLock() {
    (void)!::ftruncate(fd_, 0);
    ::close(fd_);  // releases the flock
  }
  ServeLock(const ServeLock&) = delete;
  ServeLock& operator=(const ServeLock&) = delete;

 private:
  explicit ServeLock(int fd) : fd_(fd) {}
  int fd_;
};

/// What the HTTP thread reads: pipelines, file errors and the live view, under one mutex.
struct SharedView {
  std::mutex mu;
  std::vector<Pipeline> pipelines;
  std::vector<std::string> errors;
  ServeLive live;
};

HttpResponse Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpHandler MakeHandler(const std::shared_ptr<SharedView>& view,
                        const std::shared_ptr<StateStore>& store,
                        const std::shared_ptr<spdlog::logger>& logger) {
  auto store_mu = std::make_shared<std::mutex>();
  return [view, store, store_mu, logger](const std::string& method,
                                         const std::string& target) -> HttpResponse {
    std::string path = target.substr(0, target.find('?'));
    const bool known = path == "/healthz" || path == "/metrics" || path == "/status" ||
                       path == "/status.json" || path == "/";
    if (!known) return Text(404, "not found: " + path + " (try /status, /metrics, /healthz)\n");
    if (method != "GET" && method != "HEAD") return Text(405, "method not allowed\n");
    if (path == "/healthz") return Text(200, "ok\n");
    if (path == "/") path = "/status";
    std::vector<Pipeline> pipelines;
    std::vector<std::string> errors;
    ServeLive live;
    {
      std::lock_guard<std::mutex> lock(view->mu);
      pipelines = view->pipelines;
      errors = view->errors;
      live = view->live;
    }
    std::lock_guard<std::mutex> lock(*store_mu);
    auto snap = BuildSnapshot(*store, pipelines, NowMs(), SnapshotOptions{});
    if (!snap.ok()) {
      logger->error("http {}: cannot build the status snapshot: {}", path, snap.status().message());
      return Text(500, "cannot build the status snapshot: " + snap.status().message() + "\n");
    }
    snap->errors.insert(snap->errors.end(), errors.begin(), errors.end());
    snap->serve = live;
    HttpResponse r;
    if (path == "/metrics") {
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = RenderPrometheus(*snap);
    } else if (path == "/status") {
      r.content_type = "text/html; charset=utf-8";
      r.body = RenderStatusHtml(*snap);
    } else {
      r.content_type = "application/json";
      r.body = RenderStatusJson(*snap);
    }
    return r;
  };
}

std::shared_ptr<spdlog::logger> MakeLogger(const ServeConfig& config, std::string* error) {
  std::vector<spdlog::sink_ptr> sinks;
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  if (config.quiet) console->set_level(spdlog::level::warn);
  sinks.push_back(console);
  try {
    sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(
        (config.data_dir / "logs" / "serve.log").string()));
  } catch (const std::exception& e) {
    *error = std::string("cannot open the serve log: ") + e.what();
  }
  auto logger = std::make_shared<spdlog::logger>("serve", sinks.begin(), sinks.end());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l [%n] %v", spdlog::pattern_time_type::utc);
  logger->flush_on(spdlog::level::info);
  logger->set_level(spdlog::level::debug);
  return logger;
}

SchedulerLogFn LogTo(const std::shared_ptr<spdlog::logger>& logger) {
  return [logger](int level, const std::string& m) {
    switch (level) {
      case 0:
        logger->debug("{}", m);
        break;
      case 1:
        logger->info("{}", m);
        break;
      case 2:
        logger->warn("{}", m);
        break;
      default:
        logger->error("{}", m);
        break;
    }
  };
}

/// Loads the pipeline files; errors are logged and kept for /status.
void LoadPipelines(const ServeConfig& config, spdlog::logger& logger, std::vector<Pipeline>* out,
                   std::vector<std::string>* errors) {
  out->clear();
  errors->clear();
  auto scan = LoadPipelineDir(config.pipelines_dir, ProcessEnv());
  if (!scan.ok()) {
    errors->push_back(scan.status().message());
  } else {
    *out = std::move(scan->pipelines);
    *errors = std::move(scan->errors);
  }
  for (auto it = out->begin(); it != out->end();) {
    Status s = ValidateSchedule(it->schedule);
    if (!s.ok()) {
      errors->push_back(it->file.string() + ": " + s.message());
      it = out->erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& e : *errors) logger.error("pipeline file not loaded: {}", e);
}

std::vector<PipelineSpec> Specs(const std::vector<Pipeline>& pipelines) {
  std::vector<PipelineSpec> out;
  out.reserve(pipelines.size());
  for (const auto& p : pipelines) out.push_back({p.name, p.project, p.stream, p.schedule});
  return out;
}

}  // namespace

int RunServe(const ServeConfig& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir / "logs", ec);
  std::filesystem::create_directories(config.data_dir / "serve", ec);
  auto lock = ServeLock::Take(config.lock_file);
  if (!lock.ok()) {
    std::cerr << "weir: " << lock.status().message() << "\n";
    return kExitBusy;
  }
  std::string log_error;
  auto logger = MakeLogger(config, &log_error);
  if (!log_error.empty()) logger->warn("{}", log_error);

  auto store_or = OpenSqliteStateStore(config.state_db);
  if (!store_or.ok()) {
    logger->error("cannot open the state store: {}", store_or.status().message());
    return kExitState;
  }
  std::unique_ptr<StateStore> store = std::move(store_or).value();

  // Block the signals in this thread before any other thread exists, so every thread inherits
  // the mask and they are only ever delivered through the signalfd.
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&mask, sig);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  const int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    logger->error("signalfd: {}", std::strerror(errno));
    return kExitRunFailed;
  }

  auto view = std::make_shared<SharedView>();
  std::vector<Pipeline> pipelines;
  std::vector<std::string> errors;
  LoadPipelines(config, *logger, &pipelines, &errors);

  std::unique_ptr<HttpServer> http;
  if (config.http != "off") {
    auto http_store = OpenSqliteStateStore(config.state_db);
    if (!http_store.ok()) {
      logger->error("cannot open the state store: {}", http_store.status().message());
      ::close(sfd);
      return kExitState;
    }
    std::shared_ptr<StateStore> shared_store(std::move(http_store).value().release());
    auto server = HttpServer::Start(config.http, MakeHandler(view, shared_store, logger));
    if (!server.ok()) {
      logger->error("--http {}: {}", config.http, server.status().message());
      ::close(sfd);
      return server.status().code() == WEIR_INVALID_CONFIG ? kExitUsage : kExitRunFailed;
    }
    http = std::move(server).value();
    const std::string host = config.http.substr(0, config.http.rfind(':'));
    std::cout << "weir serve: http://" << host << ":" << http->port() << "/status" << std::endl;
  }

  const int64_t started = NowMs();
  StoreScheduleAccess access(store.get(), config.max_batches_per_step);
  ChildStepLauncher launcher(config, config.data_dir / "logs" / "serve-children.log");
  SchedulerOptions sopt;
  sopt.project_concurrency = config.project_concurrency;
  Scheduler scheduler(sopt, &access, &launcher, &NextFire, LogTo(logger));
  scheduler.SetPipelines(Specs(pipelines), started);
  ServiceSupervisor services(config.exe, config.child_args, config.data_dir / "logs",
                             config.data_dir / "serve", LogTo(logger));
  for (const auto& s : config.services) services.Add(s);
  std::map<std::string, double> own_counters{{"serve.reloads", 0}};

  logger->info(
      "weir serve started (pid {}): {} pipelines, {} files not loaded, {} services, "
      "at most {} running steps per project, {} batches per step",
      ::getpid(), pipelines.size(), errors.size(), config.services.size(),
      config.project_concurrency, config.max_batches_per_step);

  bool stopping = false;
  int stop_signals = 0;
  while (true) {
    pollfd pfd{sfd, POLLIN, 0};
    const int pr = ::poll(&pfd, 1, static_cast<int>(config.tick_ms));
    if (pr < 0 && errno != EINTR) logger->warn("poll: {}", std::strerror(errno));
    signalfd_siginfo si{};
    bool reload = false;
    while (::read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      const int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGTERM || sig == SIGINT) {
        ++stop_signals;
        if (!stopping) {
          stopping = true;
          scheduler.Stop();
          const auto pids = scheduler.RunningPids();
          logger->info("{}: stopping; waiting for {} running steps to finish their batch",
                       SignalName(sig), pids.size());
          for (int64_t pid : pids) ::kill(static_cast<pid_t>(pid), SIGTERM);
        } else if (stop_signals >= 2) {
          logger->warn(
              "{} again: killing the running steps (their pending batch is replayed "
              "by the next run)",
              SignalName(sig));
          for (int64_t pid : scheduler.RunningPids()) ::kill(static_cast<pid_t>(pid), SIGKILL);
        }
      } else if (sig == SIGHUP) {
        reload = true;
      }
    }
    const int64_t now = NowMs();
    // Reap every ended child: steps and services are this daemon's only children.
    while (true) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      const ChildExit exit = ChildExit::FromWaitStatus(status);
      if (!scheduler.OnStepExit(pid, exit, now) && !services.OnExit(pid, exit, now)) {
        logger->debug("reaped unknown child {} ({})", pid, exit.Describe());
      }
    }
    if (reload && !stopping) {
      LoadPipelines(config, *logger, &pipelines, &errors);
      scheduler.SetPipelines(Specs(pipelines), now);
      own_counters["serve.reloads"] += 1;
      logger->info("SIGHUP: reloaded {} pipelines ({} files not loaded)", pipelines.size(),
                   errors.size());
    }
    if (stopping && scheduler.RunningPids().empty()) break;
    if (!stopping) {
      services.Tick(now);
      scheduler.Tick(now);
    }
    ServeLive live;
    live.pid = ::getpid();
    live.started_at_ms = started;
    live.running = scheduler.Running();
    live.queued = scheduler.Queued();
    live.service_metrics = services.Metrics();
    live.counters = scheduler.counters();
    for (const auto& [k, v] : own_counters) live.counters[k] = v;
    std::lock_guard<std::mutex> guard(view->mu);
    view->pipelines = pipelines;
    view->errors = errors;
    view->live = std::move(live);
  }
  logger->info("steps finished; stopping services");
  services.StopAll(10000);
  if (http) http->Stop();
  ::close(sfd);
  logger->info("weir serve stopped");
  return kExitOk;
}

}  // namespace weir::host::serve
