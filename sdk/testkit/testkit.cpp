// sdk/testkit/testkit.cpp — RunConformance(), RunCheck(), FormatResults(): the kit's front door.
#include "weir/testkit.hpp"

#include <string>
#include <vector>

#include "checks.hpp"
#include "isolate.hpp"

namespace weir::testkit {

std::vector<std::string> CheckNames() {
  std::vector<std::string> names;
  for (const internal::CheckDef& c : internal::AllChecks()) names.emplace_back(c.name);
  return names;
}

CheckResult RunCheck(const std::string& so_path, const Options& options,
                     const std::string& check_name) {
  for (const internal::CheckDef& c : internal::AllChecks()) {
    if (check_name != c.name) continue;
    const int timeout_ms = options.timeout_ms > 0 ? options.timeout_ms : 30000;
    return internal::RunIsolated(c.name, timeout_ms, [&](const internal::StepFn& step) {
      return c.run(so_path, options, step);
    });
  }
  return {check_name, Outcome::kFail, "no conformance check is named '" + check_name + "'"};
}

std::vector<CheckResult> RunConformance(const std::string& so_path, const Options& options) {
  std::vector<CheckResult> results;
  for (const internal::CheckDef& c : internal::AllChecks()) {
    results.push_back(RunCheck(so_path, options, c.name));
  }
  return results;
}

std::string FormatResults(const std::vector<CheckResult>& results) {
  std::string out;
  int passed = 0, failed = 0, skipped = 0;
  for (const CheckResult& r : results) {
    switch (r.outcome) {
      case Outcome::kPass:
        ++passed;
        out += "PASS " + r.name;
        break;
      case Outcome::kFail:
        ++failed;
        out += "FAIL " + r.name;
        break;
      case Outcome::kSkip:
        ++skipped;
        out += "SKIP " + r.name;
        break;
    }
    if (!r.detail.empty()) out += ": " + r.detail;
    out += "\n";
  }
  out += std::to_string(passed) + " passed, " + std::to_string(failed) + " failed, " +
         std::to_string(skipped) + " skipped\n";
  return out;
}

bool AllPassed(const std::vector<CheckResult>& results) {
  for (const CheckResult& r : results) {
    if (r.outcome == Outcome::kFail) return false;
  }
  return true;
}

}  // namespace weir::testkit
