// tests/sdk_source/plugin/main.cpp — sdk_source_plugin_test's main: fills a real store in a
// temp dir (events, profile operations, identity mappings), registers the conformance kit once
// per stream against libweir-sdk-source.so reading it, then runs every test.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "plugin_test_util.hpp"
#include "weir/testkit_gtest.hpp"

int main(int argc, char** argv) {
  using weir::sdksource::ProfileOp;
  using weir::sdksource::Record;
  namespace t = weir::sdksource_test;
  testing::InitGoogleTest(&argc, argv);

  weir::testkit_test::TempDir dir;
  {
    auto store = t::OpenWriter(dir / "conformance");
    std::vector<Record> records;
    for (int i = 1; i <= 5; ++i) {
      records.push_back(Record::Event(t::EventJson(i, 1700000000000 + i), 1700000000000 + i));
      records.push_back(Record::Identity(t::IdentityJson(i, 1700000000000 + i), 1700000000000 + i));
      records.push_back(Record::Profile(
          "user-" + std::to_string(i),
          {t::Op(ProfileOp::Kind::kSet, R"({"plan":"free","n":)" + std::to_string(i) + "}")},
          1700000000000 + i));
    }
    t::Append(*store, std::move(records));
  }

  const std::pair<const char*, const char*> suites[] = {
      {"events", "SdkSourcePluginConformanceEvents"},
      {"users", "SdkSourcePluginConformanceUsers"},
      {"identities", "SdkSourcePluginConformanceIdentities"}};
  for (const auto& [stream, suite] : suites) {
    weir::testkit::Options options;
    options.source_config = t::SourceConfigJson(dir.path(), "conformance");
    options.stream = stream;
    weir::testkit::RegisterConformanceTests(suite, WEIR_SDK_SOURCE_SO, options);
  }
  return RUN_ALL_TESTS();
}
