// tests/s3/plugin/main.cpp — s3_plugin_test's main: registers the conformance kit against the
// s3 plugin with file:// configs (one suite per stream), then runs every test.
#include <gtest/gtest.h>

#include <string>

#include "test_util.hpp"
#include "weir/testkit_gtest.hpp"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  // Lives until the process exits, so the suites' configs stay valid while they run.
  static weir::s3_test::TempDir dir;
  for (const char* stream : {"events", "users", "identities"}) {
    weir::testkit::Options options;
    options.stream = stream;
    options.destination_config =
        "{\"url\": " + weir::s3_test::JsonString("file://" + dir / stream) + "}";
    std::string suite = std::string("S3PluginConformance_") + stream;
    weir::testkit::RegisterConformanceTests(suite, WEIR_S3_SO, options);
  }
  return RUN_ALL_TESTS();
}
