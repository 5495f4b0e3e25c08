// host/cli/cmd_backfill.cpp — `weir backfill PIPELINE --from DATE --to DATE | --status | --redo`.
#include "cli/commands.hpp"
#include "run/runner.hpp"

namespace weir::host::cli {

int CmdBackfill(const Globals& g, const std::vector<std::string>& args) {
  (void)g, (void)args;
  return Fail(kExitUsage, "weir backfill: not built yet");
}

}  // namespace weir::host::cli
