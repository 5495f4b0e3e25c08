// sdk/include/weir/testkit_gtest.hpp — the conformance kit as GoogleTest tests.
//
// RegisterConformanceTests() registers one test per conformance check (weir::testkit::
// CheckNames()) in the given suite, so a plugin's own test binary reports each check by name;
// a skipped check becomes GTEST_SKIP with the reason, a failed one a failure with the detail.
// Call it from main() before RUN_ALL_TESTS() (registration must happen before gtest lists or
// runs tests, which also keeps gtest_discover_tests working). Link weir::testkit_gtest.
//
//   int main(int argc, char** argv) {
//     testing::InitGoogleTest(&argc, argv);
//     weir::testkit::Options options;
//     options.destination_config = R"({"dir": "/tmp/my-dest-test"})";
//     weir::testkit::RegisterConformanceTests("MyDestinationConformance",
//                                             MY_DESTINATION_SO_PATH, options);
//     return RUN_ALL_TESTS();
//   }
#ifndef WEIR_TESTKIT_GTEST_HPP
#define WEIR_TESTKIT_GTEST_HPP

#include <string>

#include "weir/testkit.hpp"

namespace weir::testkit {

/// Registers suite_name.<check> for every check, each running RunCheck(so_path, options, check)
/// when the test runs (the plugin is not loaded at registration). `options` is copied.
/// The source-side checks (source_*, batch_*) are registered only when options.source_config is
/// set, the destination-side ones only when options.destination_config is set.
void RegisterConformanceTests(const std::string& suite_name, const std::string& so_path,
                              const Options& options);

}  // namespace weir::testkit

#endif  // WEIR_TESTKIT_GTEST_HPP
