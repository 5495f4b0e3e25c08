// sdk/testkit/isolate.hpp — run one conformance check in a forked child with a time limit.
//
// The child runs the check body and sends progress notes and its verdict back over a pipe;
// the parent never executes plugin code. A child that dies by a signal, exits without a
// verdict, or overruns the limit (it is then killed with SIGKILL) yields a failure that says
// so and names the last step the check reported ("crashed with SIGSEGV during: write #1").
//
//   CheckResult r = RunIsolated("destination_write_flush", 30000,
//                               [&](const StepFn& step) { step("open"); return Verdict::Pass(); });
#ifndef WEIR_SDK_TESTKIT_ISOLATE_HPP
#define WEIR_SDK_TESTKIT_ISOLATE_HPP

#include <functional>
#include <string>

#include "weir/testkit.hpp"

namespace weir::testkit::internal {

/// A check body's verdict.
struct Verdict {
  Outcome outcome = Outcome::kPass;
  std::string detail;

  static Verdict Pass(std::string note = {}) { return {Outcome::kPass, std::move(note)}; }
  static Verdict Fail(std::string why) { return {Outcome::kFail, std::move(why)}; }
  static Verdict Skip(std::string why) { return {Outcome::kSkip, std::move(why)}; }
};

/// Reports the step a check is about to take (shown if the child crashes or hangs in it).
using StepFn = std::function<void(const std::string&)>;
using CheckBody = std::function<Verdict(const StepFn&)>;

/// Forks, runs `body` in the child, and turns what happened into a CheckResult named `name`.
CheckResult RunIsolated(const std::string& name, int timeout_ms, const CheckBody& body);

}  // namespace weir::testkit::internal

#endif  // WEIR_SDK_TESTKIT_ISOLATE_HPP
