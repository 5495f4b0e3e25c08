// tests/torture/torture_processes.cpp — starting, killing and restarting the collector and
// `weir serve` (see torture_processes.hpp).
#include "torture_processes.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "torture_util.hpp"

namespace weir::torture {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::string Tail(const fs::path& path, size_t bytes) {
  std::string s = weir::test::ReadWholeFile(path);
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

/// Waits up to `timeout` for the child to exit; true if it did (and was reaped).
bool WaitExit(weir::test::Process& p, milliseconds timeout, int* code) {
  const auto until = steady_clock::now() + timeout;
  while (steady_clock::now() < until) {
    int status = 0;
    const pid_t r = ::waitpid(p.pid, &status, WNOHANG);
    if (r == p.pid || r < 0) {
      if (code != nullptr) {
        *code = r < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      p.pid = -1;
      return true;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

void KillAndReap(weir::test::Process& p) {
  if (p.pid <= 0) return;
  ::kill(p.pid, SIGKILL);
  ::waitpid(p.pid, nullptr, 0);
  p.pid = -1;
}

}  // namespace

Processes::Processes(fs::path dir, Binaries binaries, std::string collector_config_template)
    : dir_(std::move(dir)),
      bin_(std::move(binaries)),
      collector_config_template_(std::move(collector_config_template)) {
  fs::create_directories(dir_ / "logs");
}

Processes::~Processes() {
  KillAndReap(serve_);
  KillAndReap(collector_);
  // Run children orphaned by a killed daemon belong to init now: signal, do not reap.
  std::lock_guard<std::mutex> lock(mu_);
  for (pid_t pid : seen_children_) {
    if (AliveWithCmdline(pid, dir_.string())) ::kill(pid, SIGKILL);
  }
}

bool Processes::StartCollector(std::string* error) {
  // The first start takes any free port; restarts come back on it, as a real collector behind
  // a fixed URL does. Only if that port was taken meanwhile does it move (clients follow).
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int port = attempt == 0 ? fixed_port_ : 0;
    std::string config = collector_config_template_;
    config.replace(config.find("%PORT%"), 6, std::to_string(port));
    std::ofstream(dir_ / "collector.json", std::ios::trunc) << config;
    const fs::path port_file = dir_ / "collector.port";
    fs::remove(port_file);
    collector_ = weir::test::StartProcess(
        {bin_.collector, "--config", (dir_ / "collector.json").string(), "--port-file",
         port_file.string()},
        dir_ / "logs");
    if (collector_.pid <= 0) {
      *error = collector_.start_error;
      return false;
    }
    const auto until = steady_clock::now() + std::chrono::seconds(30);
    while (steady_clock::now() < until) {
      std::ifstream in(port_file);
      int bound = 0;
      if (in >> bound && bound > 0) {
        fixed_port_ = bound;
        collector_port_ = bound;
        return true;
      }
      int code = 0;
      if (WaitExit(collector_, milliseconds(0), &code)) break;  // address in use, …
      std::this_thread::sleep_for(milliseconds(10));
    }
    if (collector_.pid > 0) KillAndReap(collector_);
  }
  *error = "weir-collector did not start; its stderr:\n" + Tail(collector_.err, 3000);
  return false;
}

pid_t Processes::KillCollector() {
  const pid_t pid = collector_.pid;
  collector_port_ = 0;
  KillAndReap(collector_);
  return pid > 0 ? pid : 0;
}

int Processes::StopCollector() {
  collector_port_ = 0;
  if (collector_.pid <= 0) return -1;
  ::kill(collector_.pid, SIGTERM);
  int code = -1;
  if (!WaitExit(collector_, milliseconds(60000), &code)) {
    KillAndReap(collector_);
    return -1;
  }
  return code;
}

bool Processes::StartServe(std::string* error) {
  serve_ = weir::test::StartProcess(
      weir::test::WeirCommand(bin_.weir, dir_, bin_.plugins_dir,
                              {"serve", "--http", "off", "--tick-ms", "100",
                               "--project-concurrency", "4", "--max-batches-per-step", "4"}),
      dir_ / "logs");
  if (serve_.pid <= 0) {
    *error = serve_.start_error;
    return false;
  }
  if (!weir::test::WaitForStderr(serve_, "weir serve started", std::chrono::seconds(60))) {
    *error = "weir serve did not start; its stderr:\n" + Tail(serve_.err, 3000);
    KillAndReap(serve_);
    return false;
  }
  return true;
}

void Processes::TrackChildren() {
  if (serve_.pid <= 0) return;
  std::vector<pid_t> kids = ChildrenOf(serve_.pid);
  std::lock_guard<std::mutex> lock(mu_);
  seen_children_.insert(kids.begin(), kids.end());
}

std::vector<pid_t> Processes::RunChildren() {
  if (serve_.pid <= 0) return {};
  TrackChildren();
  return ChildrenOf(serve_.pid);
}

std::pair<pid_t, int> Processes::KillServe(bool with_children) {
  const pid_t pid = serve_.pid;
  if (pid <= 0) return {0, 0};
  std::vector<pid_t> kids = RunChildren();
  ::kill(pid, SIGKILL);
  int killed = 0;
  if (with_children) {
    for (pid_t k : kids) {
      if (AliveWithCmdline(k, dir_.string()) && ::kill(k, SIGKILL) == 0) ++killed;
    }
  }
  ::waitpid(pid, nullptr, 0);
  serve_.pid = -1;
  return {pid, killed};
}

int Processes::StopServe() {
  if (serve_.pid <= 0) return -1;
  TrackChildren();
  ::kill(serve_.pid, SIGTERM);
  int code = -1;
  if (!WaitExit(serve_, milliseconds(120000), &code)) {
    KillAndReap(serve_);
    return -1;
  }
  return code;
}

pid_t Processes::KillRunChild(std::mt19937_64& rng) {
  std::vector<pid_t> kids = RunChildren();
  if (kids.empty()) return 0;
  const pid_t victim = kids[std::uniform_int_distribution<size_t>(0, kids.size() - 1)(rng)];
  // Only a process of this test: a pid read from /proc may have exited and been recycled.
  if (!AliveWithCmdline(victim, dir_.string())) return 0;
  return ::kill(victim, SIGKILL) == 0 ? victim : 0;
}

std::string Processes::LogTails() const {
  return "--- serve.log (tail) ---\n" + Tail(dir_ / "data" / "logs" / "serve.log", 4000) +
         "\n--- collector stderr (tail) ---\n" + Tail(collector_.err, 2000);
}

}  // namespace weir::torture
