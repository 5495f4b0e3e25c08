// host/serve/serve.hpp — the `weir serve` daemon loop: lock, pipelines, services, scheduler,
// child processes, signals and HTTP (DESIGN.md §7, §8).
//
// RunServe() holds an exclusive flock on the serve lock file (its pid written into it; a second
// daemon on the same data dir is refused with exit 5 naming that pid), loads the pipeline files
// (files that fail are logged and shown on /status, not fatal), starts the hosted services,
// and then loops: every tick it lets the scheduler start due steps, each as a child
// `weir run P --kind scheduled --max-batches N` or `weir backfill P --step`. Signals arrive
// through a signalfd (blocked in every thread; nothing runs in a signal handler):
//   SIGTERM / SIGINT  stop firing, forward SIGTERM to the running steps (each finishes its
//                     current batch and commits), wait for them, stop the services, exit 0;
//                     a second one sends SIGKILL to the steps (still safe: a pending batch is
//                     replayed by the next run with the same idempotency key).
//   SIGHUP            reload the pipeline files; running steps finish first.
//
//   ServeConfig c; c.exe = "/usr/local/bin/weir"; c.child_args = {"--data-dir", "/var/lib/weir"};
//   c.data_dir = "/var/lib/weir"; c.pipelines_dir = "/etc/weir/pipelines";
//   return RunServe(c);
#ifndef WEIR_HOST_SERVE_SERVE_HPP
#define WEIR_HOST_SERVE_SERVE_HPP

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "serve/services.hpp"

namespace weir::host::serve {

struct ServeConfig {
  std::filesystem::path exe;            ///< the weir binary the children run
  std::vector<std::string> child_args;  ///< global options for every child (Globals::ChildArgs)
  std::filesystem::path data_dir;
  std::filesystem::path state_db;  ///< the SQLite state database
  std::filesystem::path pipelines_dir;
  std::filesystem::path lock_file;      ///< Globals::serve_lock()
  std::string http = "127.0.0.1:9464";  ///< ADDR:PORT, or "off"
  int project_concurrency = 1;
  uint64_t max_batches_per_step = 20;
  int64_t tick_ms = 500;
  std::vector<ServiceSpec> services;
  bool quiet = false;
};

/// Runs the daemon until SIGTERM/SIGINT; returns the process exit code (0 after a clean stop,
/// 5 when another serve holds the lock, 2 for a bad --http address, 4 for a state store error).
int RunServe(const ServeConfig& config);

}  // namespace weir::host::serve

#endif  // WEIR_HOST_SERVE_SERVE_HPP
