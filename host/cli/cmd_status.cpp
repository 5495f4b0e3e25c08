// host/cli/cmd_status.cpp — `weir status` and `weir metrics PIPELINE` (host/observe).
#include "cli/commands.hpp"
#include "run/runner.hpp"

namespace weir::host::cli {

int CmdStatus(const Globals& g, const std::vector<std::string>& args) {
  (void)g, (void)args;
  return Fail(kExitUsage, "weir status: not built yet");
}

int CmdMetrics(const Globals& g, const std::vector<std::string>& args) {
  (void)g, (void)args;
  return Fail(kExitUsage, "weir metrics: not built yet");
}

}  // namespace weir::host::cli
