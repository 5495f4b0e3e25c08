// host/cli/commands.hpp — what the `weir` subcommands share: global options, the state store
// and plugin registry they open, error and time formatting, and the signal flag.
//
// Each command is `int CmdX(const Globals&, const std::vector<std::string>& args)` returning
// a process exit code (run/runner.hpp ExitCode, docs/cli.md); main.cpp dispatches to them.
//
//   int CmdFoo(const Globals& g, const std::vector<std::string>& args) {
//     po::options_description desc("weir foo");
//     po::positional_options_description pos;
//     po::variables_map vm;
//     if (!ParseSub(args, desc, pos, vm, "Usage: weir foo")) return kExitOk;
//     auto store = OpenStore(g);
//     if (!store.ok()) return Fail(kExitState, store.status().message());
//     ...
//   }
#ifndef WEIR_HOST_CLI_COMMANDS_HPP
#define WEIR_HOST_CLI_COMMANDS_HPP

#include <sys/types.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/format.hpp"
#include "plugin/loader.hpp"
#include "state/state_store.hpp"
#include "weir/plugin.hpp"

namespace weir::host::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

struct Globals {
  fs::path exe;                 ///< this weir binary (/proc/self/exe): serve re-executes it
  fs::path data_dir;
  std::string plugins_dir;      ///< as given (may hold ':'-separated dirs); empty = defaults
  fs::path pipelines_dir;
  std::string config_file;      ///< --config as given (empty = none): passed on to children
  bool quiet = false;

  fs::path state_db() const { return data_dir / "state.db"; }
  fs::path logs_dir() const { return data_dir / "logs"; }
  /// Held (flock) by a running `weir serve`; holds its pid as text.
  fs::path serve_lock() const { return data_dir / "serve.lock"; }
  /// The global options that make a child `weir` see the same data, plugins and pipelines.
  std::vector<std::string> ChildArgs() const;
};

/// Set by SIGINT/SIGTERM once InstallSignalHandlers() ran. With `graceful`, the first signal
/// sets only g_stop (finish the current batch, commit, then stop) and a second one g_cancel
/// (stop now); without it, the first sets both.
extern std::atomic<bool> g_cancel;
extern std::atomic<bool> g_stop;
void InstallSignalHandlers(bool graceful = false);

/// Prints "weir: MESSAGE" on stderr and returns `code`.
int Fail(int code, const std::string& message);
using weir::host::FormatUtcMs;  // common/format.hpp
using weir::host::HumanBytes;
/// "3m12s" style, for durations and lags.
std::string HumanDuration(int64_t ms);

/// Parses a subcommand's options; prints `usage` and the options and returns false on --help.
/// Throws po::error on bad options (main turns it into exit code 2).
bool ParseSub(const std::vector<std::string>& args, po::options_description& desc,
              po::positional_options_description& pos, po::variables_map& vm,
              const std::string& usage);

PluginRegistry LoadRegistry(const Globals& g);
Result<std::unique_ptr<StateStore>> OpenStore(const Globals& g);

/// A plugin config given on the command line as JSON text or @FILE, ${ENV} resolved.
Result<std::string> ReadConfigArg(const std::string& v, const std::string& flag,
                                  bool optional = true);

/// The pid of the `weir serve` holding g.serve_lock(), nullopt when none runs.
std::optional<pid_t> ServeRunning(const Globals& g);

// The commands (one file each beside main.cpp).
int CmdSchedule(const Globals& g, const std::vector<std::string>& args);  // cmd_schedule.cpp
int CmdBackfill(const Globals& g, const std::vector<std::string>& args);  // cmd_backfill.cpp
int CmdServe(const Globals& g, const std::vector<std::string>& args);     // cmd_serve.cpp
int CmdStatus(const Globals& g, const std::vector<std::string>& args);    // cmd_status.cpp
int CmdMetrics(const Globals& g, const std::vector<std::string>& args);   // cmd_status.cpp

}  // namespace weir::host::cli

#endif  // WEIR_HOST_CLI_COMMANDS_HPP
