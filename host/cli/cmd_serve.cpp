// host/cli/cmd_serve.cpp — `weir serve`: the daemon (host/serve).
#include "cli/commands.hpp"
#include "run/runner.hpp"

namespace weir::host::cli {

int CmdServe(const Globals& g, const std::vector<std::string>& args) {
  (void)g, (void)args;
  return Fail(kExitUsage, "weir serve: not built yet");
}

}  // namespace weir::host::cli
