// tests/testkit/main.cpp — testkit_test's main: registers the conformance suites for the good
// file plugins (with real configs in a fresh temp dir), then runs every test.
#include <gtest/gtest.h>

#include <string>

#include "test_util.hpp"
#include "weir/testkit_gtest.hpp"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  weir::testkit_test::TempDir dir;
  const std::string events = dir / "events.ndjson";
  std::string lines;
  for (int i = 1; i <= 5; ++i) {
    const std::string n = std::to_string(i);
    lines += R"({"event":"page_view","time":170000000)" + n + R"(000,"distinct_id":"u)" + n +
             R"(","insert_id":"i)" + n + R"(","properties":{"n":)" + n + "}}\n";
  }
  weir::testkit_test::WriteFile(events, lines);

  weir::testkit::Options source;
  source.source_config = "{\"path\": " + weir::testkit_test::JsonString(events) + "}";
  source.stream = "events";
  weir::testkit::RegisterConformanceTests("FileSourceConformance", WEIR_FILE_SOURCE_SO, source);

  weir::testkit::Options destination;
  destination.destination_config = "{\"dir\": " + weir::testkit_test::JsonString(dir / "out") + "}";
  weir::testkit::RegisterConformanceTests("FileDestinationConformance", WEIR_FILE_DESTINATION_SO,
                                          destination);
  return RUN_ALL_TESTS();
}
