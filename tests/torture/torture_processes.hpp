// tests/torture/torture_processes.hpp — the processes the torture test starts, kills and
// restarts: a standalone `weir-collector` (on the same loopback port after every restart, so
// clients simply retry the URL they know; another free port only if that one was taken
// meanwhile) and `weir serve`, whose run children are found through /proc. The destructor
// SIGKILLs whatever is still running, including run children orphaned by a killed daemon, so
// nothing outlives the test on any path.
//
//   Processes p(work_dir, {.weir = WEIR_BINARY, .collector = WEIR_COLLECTOR_BINARY, ...});
//   p.StartCollector(&error); p.StartServe(&error);
//   p.KillCollector(); p.KillRunChild(rng);
#ifndef WEIR_TESTS_TORTURE_TORTURE_PROCESSES_HPP
#define WEIR_TESTS_TORTURE_TORTURE_PROCESSES_HPP

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "weir_process.hpp"

namespace weir::torture {

struct Binaries {
  std::string weir;
  std::string collector;
  std::string plugins_dir;
};

class Processes {
 public:
  /// `dir` holds data/, pipelines/, collector.json and every process's output.
  Processes(std::filesystem::path dir, Binaries binaries, std::string collector_config_template);
  ~Processes();
  Processes(const Processes&) = delete;
  Processes& operator=(const Processes&) = delete;

  /// The collector's port, 0 while it is down (read by the clients before every attempt).
  int collector_port() const { return collector_port_.load(); }

  bool StartCollector(std::string* error);
  pid_t KillCollector();  ///< SIGKILL and reap; returns the pid killed (0: none ran)
  int StopCollector();    ///< SIGTERM, wait; the exit code
  bool collector_running() const { return collector_.pid > 0; }

  bool StartServe(std::string* error);
  /// SIGKILL the daemon (and, with `with_children`, every run child it had at that moment,
  /// as when the whole host dies). Returns the daemon's pid and the children killed.
  std::pair<pid_t, int> KillServe(bool with_children);
  int StopServe();  ///< SIGTERM (running batches finish and commit), wait up to 120 s
  bool serve_running() const { return serve_.pid > 0; }
  /// The daemon's run children now (`weir run …` / `weir backfill …` processes).
  std::vector<pid_t> RunChildren();
  /// SIGKILL one run child; its pid, or 0 if none was running.
  pid_t KillRunChild(std::mt19937_64& rng);

  /// Tail of the daemon's log and the last collector's stderr, for failure messages.
  std::string LogTails() const;

 private:
  void TrackChildren();

  std::filesystem::path dir_;
  Binaries bin_;
  std::string collector_config_template_;  ///< "{...\"listen\":\"127.0.0.1:%PORT%\"...}"
  int fixed_port_ = 0;
  std::atomic<int> collector_port_{0};
  weir::test::Process collector_;
  weir::test::Process serve_;
  std::mutex mu_;
  std::set<pid_t> seen_children_;  ///< every run child ever seen (orphans are stopped at the end)
};

}  // namespace weir::torture

#endif  // WEIR_TESTS_TORTURE_TORTURE_PROCESSES_HPP
