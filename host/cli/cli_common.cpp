// host/cli/cli_common.cpp — helpers shared by the `weir` subcommands (commands.hpp).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "pipeline/pipeline.hpp"

namespace weir::host::cli {

std::atomic<bool> g_cancel{false};
std::atomic<bool> g_stop{false};

namespace {
std::atomic<bool> g_graceful{false};
void OnSignal(int) {
  // Graceful commands: the first signal asks to stop after the current batch, a second one
  // cancels at once (plugins see is_cancelled()). Only atomic stores here.
  if (g_graceful.load() && !g_stop.exchange(true)) return;
  g_stop.store(true);
  g_cancel.store(true);
}
}  // namespace

void InstallSignalHandlers(bool graceful) {
  g_graceful.store(graceful);
  struct sigaction sa {};
  sa.sa_handler = &OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and notice the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::vector<std::string> Globals::ChildArgs() const {
  std::vector<std::string> out{"--data-dir", data_dir.string(), "--pipelines-dir",
                               pipelines_dir.string()};
  if (!plugins_dir.empty()) {
    out.push_back("--plugins-dir");
    out.push_back(plugins_dir);
  }
  if (quiet) out.push_back("--quiet");
  return out;
}

int Fail(int code, const std::string& message) {
  std::cerr << "weir: " << message << "\n";
  return code;
}

std::string HumanDuration(int64_t ms) {
  if (ms < 0) ms = 0;
  int64_t s = ms / 1000;
  char buf[48];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%" PRId64 ".%01" PRId64 "s", s, (ms % 1000) / 100);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "h%02" PRId64 "m", s / 3600, (s % 3600) / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRId64 "d%02" PRId64 "h", s / 86400, (s % 86400) / 3600);
  }
  return buf;
}

bool ParseSub(const std::vector<std::string>& args, po::options_description& desc,
              po::positional_options_description& pos, po::variables_map& vm,
              const std::string& usage) {
  desc.add_options()("help,h", "show this help");
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  if (vm.count("help") != 0U) {
    std::cout << usage << "\n" << desc << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

PluginRegistry LoadRegistry(const Globals& g) {
  // g.plugins_dir already holds --plugins-dir, else WEIR_PLUGINS_DIR (program_options merged it).
  return PluginRegistry::Scan(DefaultPluginDirs(g.exe, g.plugins_dir, nullptr));
}

Result<std::unique_ptr<StateStore>> OpenStore(const Globals& g) {
  return OpenSqliteStateStore(g.state_db());
}

/// ${ENV} references are resolved as in a pipeline file, so a secret never has to be typed
/// (or land in the shell history): "password": "${SNOWFLAKE_PASSWORD}". `flag` names the
/// option in errors. An empty value stays empty (no config given) if `optional`.
Result<std::string> ReadConfigArg(const std::string& v, const std::string& flag, bool optional) {
  if (v.empty() && optional) return v;
  std::string text = v;
  std::string origin = flag;
  if (v[0] == '@') {
    origin = v.substr(1);
    std::ifstream in(origin, std::ios::binary);
    if (!in) {
      return Status::InvalidConfig(flag + ": cannot read config file " + origin + ": " +
                                   std::strerror(errno));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  return ResolveConfigJson(text, origin, ProcessEnv());
}

std::optional<pid_t> ServeRunning(const Globals& g) {
  int fd = ::open(g.serve_lock().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<pid_t> out;
  // A shared lock succeeds only when no serve holds its exclusive one.
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    char buf[32] = {0};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    long pid = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
    out = static_cast<pid_t>(pid > 0 ? pid : 0);
  }
  ::close(fd);
  return out;
}

}  // namespace weir::host::cli
