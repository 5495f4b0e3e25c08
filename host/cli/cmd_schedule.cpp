// host/cli/cmd_schedule.cpp — `weir schedule PIPELINE [--next N] [--after TIME] [--json]`.
//
// Prints when the pipeline's schedule fires next, in the pipeline's zone and in UTC, with a
// note on fires that daylight saving moves (host/schedule/schedule.hpp has the rules).
#include <chrono>
#include <iostream>

#include "cli/commands.hpp"
#include "pipeline/pipeline.hpp"
#include "run/runner.hpp"
#include "schedule/schedule.hpp"

namespace weir::host::cli {

int CmdSchedule(const Globals& g, const std::vector<std::string>& args) {
  po::options_description desc("weir schedule");
  desc.add_options()("pipeline", po::value<std::string>()->required(),
                     "pipeline name (or a path to its file)")(
      "next,n", po::value<int>()->default_value(10), "how many fire times to print (1-1000)")(
      "after", po::value<std::string>(),
      "list the fires after this UTC instant instead of now: 2026-03-08T06:00:00Z, "
      "2026-03-08T01:00:00-05:00 or 2026-03-08")(
      "json", "one JSON object per fire time instead of the table");
  po::positional_options_description pos;
  pos.add("pipeline", 1);
  po::variables_map vm;
  if (!ParseSub(
          args, desc, pos, vm,
          "Usage: weir schedule PIPELINE [--next N] [--after TIME] [--json]\n"
          "The next fire times of a pipeline's schedule, in its time zone and in UTC.\n"
          "'every' fires on multiples of the period since 00:00 UTC, whatever the zone;\n"
          "'daily' fires once per local day: a time that daylight saving skips runs when\n"
          "the gap ends, a time that occurs twice runs at the first occurrence only.\n"
          "`weir serve` fires these; a pipeline still catching up runs batch after batch\n"
          "in between (docs/operating.md).\n\nExamples:\n"
          "  weir schedule demo-events --next 5\n"
          "  weir schedule nightly --after 2026-03-07 --next 3 --json")) {
    return kExitOk;
  }
  const int n = vm["next"].as<int>();
  if (n < 1 || n > 1000) {
    return Fail(kExitUsage, "--next: expected a number from 1 to 1000, found " + std::to_string(n));
  }
  auto p = FindPipeline(g.pipelines_dir, vm["pipeline"].as<std::string>(), ProcessEnv());
  if (!p.ok()) return Fail(kExitUsage, p.status().message());
  const Schedule& s = p->schedule;
  if (Status v = ValidateSchedule(s); !v.ok()) {
    return Fail(kExitUsage, p->file.string() + ": " + v.message());
  }
  int64_t after = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  if (vm.count("after") != 0U) {
    auto t = ParseInstant(vm["after"].as<std::string>());
    if (!t.ok()) return Fail(kExitUsage, "--after " + t.status().message());
    after = *t;
  }
  auto fires = NextFires(s, after, n);
  if (!fires.ok()) return Fail(kExitUsage, p->file.string() + ": " + fires.status().message());
  const bool json = vm.count("json") != 0U;
  if (s.kind == Schedule::Kind::kNone) {
    if (!json) {
      std::cout << p->name << ": no schedule (manual): `weir serve` does not fire it; run it "
                << "with `weir run " << p->name << "`\n";
    }
    return kExitOk;
  }
  if (!json) {
    std::cout << p->name << ": " << s.ToString() << "\n"
              << "next " << fires->size() << " after " << FormatUtcMs(after) << ":\n";
  }
  for (int64_t t : *fires) {
    auto local = FormatInZone(t, s.timezone);
    auto offset = UtcOffsetInZone(t, s.timezone);
    if (!local.ok()) return Fail(kExitUsage, local.status().message());
    const std::string note = DstNote(s, t);
    if (json) {
      std::cout << "{\"pipeline\":" << JsonQuote(p->name) << ",\"fire_ms\":" << t
                << ",\"utc\":" << JsonQuote(FormatUtcMs(t))
                << ",\"local\":" << JsonQuote(*local)
                << ",\"timezone\":" << JsonQuote(s.timezone)
                << ",\"utc_offset\":" << JsonQuote(offset.ok() ? *offset : "")
                << ",\"note\":" << JsonQuote(note) << "}\n";
    } else {
      std::string line = "  " + *local + " (" + (offset.ok() ? *offset : "?") + ")   " +
                         FormatUtcMs(t);
      if (!note.empty()) line += "   " + note;
      std::cout << line << "\n";
    }
  }
  return kExitOk;
}

}  // namespace weir::host::cli
