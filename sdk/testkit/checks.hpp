// sdk/testkit/checks.hpp — the conformance checks, as a table of named bodies.
//
// Each body runs inside a forked child (see isolate.hpp): it may load the plugin, call into
// it, and crash; it calls the entry function at most once (the ABI allows one call per
// process). The table's order is the order RunConformance() reports. README.md beside this
// file says what each check asserts; keep the two in step.
#ifndef WEIR_SDK_TESTKIT_CHECKS_HPP
#define WEIR_SDK_TESTKIT_CHECKS_HPP

#include <string>
#include <vector>

#include "isolate.hpp"
#include "weir/plugin.h"
#include "weir/testkit.hpp"

namespace weir::testkit::internal {

struct CheckDef {
  const char* name;
  Verdict (*run)(const std::string& so_path, const Options& options, const StepFn& step);
};

/// Every check, in report order.
const std::vector<CheckDef>& AllChecks();

/// dlopen()s `so_path` (RTLD_NOW | RTLD_LOCAL) and returns its entry function without calling
/// it, or nullptr with `*error` set.
weir_plugin_entry_fn LoadEntry(const std::string& so_path, std::string* error);

}  // namespace weir::testkit::internal

#endif  // WEIR_SDK_TESTKIT_CHECKS_HPP
