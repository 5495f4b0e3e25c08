// host/cli/cmd_schedule.cpp — `weir schedule PIPELINE --next N`.
#include "cli/commands.hpp"
#include "run/runner.hpp"

namespace weir::host::cli {

int CmdSchedule(const Globals& g, const std::vector<std::string>& args) {
  (void)g, (void)args;
  return Fail(kExitUsage, "weir schedule: not built yet");
}

}  // namespace weir::host::cli
