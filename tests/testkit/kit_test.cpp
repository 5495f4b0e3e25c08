// tests/testkit/kit_test.cpp — the conformance kit must fail non-conformant plugins, naming the
// right checks, and must survive crashes and hangs; plus its JSON scanner and report format.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "json_scan.hpp"
#include "test_util.hpp"
#include "weir/testkit.hpp"

namespace weir::testkit_test {
namespace {

using testkit::CheckResult;
using testkit::Outcome;

std::map<std::string, CheckResult> ByName(const std::vector<CheckResult>& results) {
  std::map<std::string, CheckResult> m;
  for (const auto& r : results) m.emplace(r.name, r);
  return m;
}

std::set<std::string> Failed(const std::vector<CheckResult>& results) {
  std::set<std::string> names;
  for (const auto& r : results) {
    if (r.outcome == Outcome::kFail) names.insert(r.name);
  }
  return names;
}

TEST(Testkit, FlagsDestinationThatAcceptsGarbageConfig) {
  testkit::Options options;
  options.destination_config = "{}";
  const auto results = testkit::RunConformance(WEIR_BAD_GARBAGE_SO, options);
  SCOPED_TRACE(testkit::FormatResults(results));
  EXPECT_EQ(Failed(results),
            (std::set<std::string>{"destination_rejects_garbage_config", "error_release_twice"}));
  const auto m = ByName(results);
  EXPECT_NE(m.at("destination_rejects_garbage_config").detail.find("returned WEIR_OK"),
            std::string::npos);
  // The rest of the plugin is fine, and the kit says so.
  EXPECT_EQ(m.at("destination_write_flush").outcome, Outcome::kPass);
  EXPECT_EQ(m.at("destination_replay_same_key").outcome, Outcome::kPass);
  EXPECT_EQ(m.at("destination_cancellation").outcome, Outcome::kPass);  // the wrapper stops it
  EXPECT_EQ(m.at("source_read_batch_consistent").outcome, Outcome::kSkip);
  EXPECT_FALSE(testkit::AllPassed(results));
}

TEST(Testkit, ReportsCrashesAndBadErrorsWithoutDying) {
  testkit::Options options;
  options.destination_config = "{}";
  const auto results = testkit::RunConformance(WEIR_BAD_CRASH_SO, options);
  SCOPED_TRACE(testkit::FormatResults(results));
  EXPECT_EQ(Failed(results),
            (std::set<std::string>{"negotiation_refuses_unknown_minor",
                                   "destination_rejects_garbage_config", "error_release_twice",
                                   "destination_write_flush", "destination_replay_same_key",
                                   "destination_cancellation"}));
  const auto m = ByName(results);
  EXPECT_NE(m.at("negotiation_refuses_unknown_minor").detail.find("returned WEIR_OK"),
            std::string::npos);
  EXPECT_NE(m.at("destination_rejects_garbage_config").detail.find("struct_size 0"),
            std::string::npos);
  const std::string& crash = m.at("destination_write_flush").detail;
  EXPECT_NE(crash.find("crashed with SIGSEGV"), std::string::npos) << crash;
  EXPECT_NE(crash.find("during: write of 3 records"), std::string::npos) << crash;
  EXPECT_EQ(m.at("destination_open_check_close").outcome, Outcome::kPass);
  EXPECT_EQ(m.at("descriptor_valid").outcome, Outcome::kPass);
}

TEST(Testkit, ReportsHangsAsTimeouts) {
  testkit::Options options;
  options.source_config = "{}";
  options.timeout_ms = 300;
  const auto results = testkit::RunConformance(WEIR_BAD_HANG_SO, options);
  SCOPED_TRACE(testkit::FormatResults(results));
  const std::set<std::string> reading = {"source_read_batch_consistent", "source_read_limits",
                                         "source_read_deterministic",    "source_replay_to_wm",
                                         "batch_release_twice",          "source_cancellation"};
  EXPECT_EQ(Failed(results), reading);
  const auto m = ByName(results);
  for (const std::string& name : reading) {
    EXPECT_NE(m.at(name).detail.find("timed out after 300 ms during: read("), std::string::npos)
        << name << ": " << m.at(name).detail;
  }
  EXPECT_EQ(m.at("negotiation_refuses_unknown_minor").outcome, Outcome::kPass);
  EXPECT_EQ(m.at("source_rejects_garbage_config").outcome, Outcome::kPass);
  EXPECT_EQ(m.at("source_open_check_close").outcome, Outcome::kPass);
}

TEST(Testkit, GoodPluginsPassEveryApplicableCheck) {
  TempDir dir;
  WriteFile(dir / "e.ndjson", "{\"event\":\"a\",\"time\":1}\n{\"event\":\"b\",\"time\":2}\n");
  testkit::Options options;
  options.source_config = "{\"path\": " + JsonString(dir / "e.ndjson") + "}";
  const auto source = testkit::RunConformance(WEIR_FILE_SOURCE_SO, options);
  EXPECT_TRUE(testkit::AllPassed(source)) << testkit::FormatResults(source);
  EXPECT_EQ(ByName(source).at("source_read_limits").outcome, Outcome::kPass);

  options.destination_config = "{\"dir\": " + JsonString(dir / "out") + "}";
  const auto destination = testkit::RunConformance(WEIR_FILE_DESTINATION_SO, options);
  EXPECT_TRUE(testkit::AllPassed(destination)) << testkit::FormatResults(destination);
  // The destination checks really wrote: two fresh keys (write_flush, replay) of 3 events.
  EXPECT_EQ(ListDir(dir / "out/events").size(), 2u);
}

TEST(Testkit, SkipsChecksWithoutConfigAndSaysWhy) {
  const auto results = testkit::RunConformance(WEIR_FILE_SOURCE_SO, testkit::Options{});
  const auto m = ByName(results);
  EXPECT_EQ(m.at("source_open_check_close").outcome, Outcome::kSkip);
  EXPECT_NE(m.at("source_open_check_close").detail.find("no source config"), std::string::npos);
  EXPECT_EQ(m.at("destination_write_flush").outcome, Outcome::kSkip);
  EXPECT_NE(m.at("destination_write_flush").detail.find("not a destination"), std::string::npos);
  // Config-independent checks still run.
  EXPECT_EQ(m.at("source_rejects_garbage_config").outcome, Outcome::kPass);
}

TEST(Testkit, UnknownStreamOptionFails) {
  TempDir dir;
  WriteFile(dir / "e.ndjson", "{\"time\":1}\n");
  testkit::Options options;
  options.source_config = "{\"path\": " + JsonString(dir / "e.ndjson") + "}";
  options.stream = "no_such_stream";
  const auto r = testkit::RunCheck(WEIR_FILE_SOURCE_SO, options, "source_open_check_close");
  EXPECT_EQ(r.outcome, Outcome::kFail);
  EXPECT_NE(r.detail.find("'no_such_stream' is not declared"), std::string::npos) << r.detail;
}

TEST(Testkit, MissingFileFailsEveryCheckWithTheLoadError) {
  const auto results = testkit::RunConformance("/nonexistent/libweir-nothing.so", {});
  for (const auto& r : results) {
    EXPECT_EQ(r.outcome, Outcome::kFail) << r.name;
    EXPECT_NE(r.detail.find("/nonexistent/libweir-nothing.so"), std::string::npos) << r.detail;
  }
}

TEST(Testkit, UnknownCheckNameFails) {
  const auto r = testkit::RunCheck(WEIR_FILE_SOURCE_SO, {}, "no_such_check");
  EXPECT_EQ(r.outcome, Outcome::kFail);
  EXPECT_NE(r.detail.find("no_such_check"), std::string::npos);
}

TEST(Testkit, FormatResultsEndsWithCounts) {
  const std::vector<CheckResult> results = {{"a", Outcome::kPass, ""},
                                            {"b", Outcome::kFail, "broken"},
                                            {"c", Outcome::kSkip, "no config"},
                                            {"d", Outcome::kPass, "note"}};
  EXPECT_EQ(testkit::FormatResults(results),
            "PASS a\nFAIL b: broken\nSKIP c: no config\nPASS d: note\n"
            "2 passed, 1 failed, 1 skipped\n");
}

TEST(Testkit, CheckNamesAreStableIdentifiers) {
  const auto names = testkit::CheckNames();
  ASSERT_GE(names.size(), 18u);
  EXPECT_EQ(names.front(), "entry_symbol");
  for (const auto& n : names) {
    EXPECT_EQ(n.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string::npos) << n;
  }
}

TEST(TestkitJsonScan, AcceptsValidJson) {
  using testkit::internal::IsJson;
  for (const char* ok : {"{}", " {\"a\": [1, -2.5e+3, true, false, null, \"x\\u00e9\\n\"]} ",
                         "{\"nested\":{\"deep\":[[[]]]}}", "[]", "0", "\"s\""}) {
    std::string why;
    EXPECT_TRUE(IsJson(ok, false, &why)) << ok << ": " << why;
  }
  EXPECT_TRUE(IsJson("{\"k\":1}", true, nullptr));
}

TEST(TestkitJsonScan, RejectsInvalidJsonSayingWhere) {
  using testkit::internal::IsJson;
  std::string why;
  EXPECT_FALSE(IsJson("{\"a\" 1}", false, &why));
  EXPECT_EQ(why, "at byte 5: expected ':' after an object key");
  for (const char* bad : {"", "{", "{\"a\":1,}", "[1,]", "01", "1.", "\"\\x\"", "{a:1}", "nul",
                          "{} {}", "\"tab\there\"", "-", "1e"}) {
    EXPECT_FALSE(IsJson(bad, false, nullptr)) << bad;
  }
  EXPECT_FALSE(IsJson("[1]", true, &why));
  EXPECT_NE(why.find("expected a JSON object"), std::string::npos);
  EXPECT_FALSE(IsJson(std::string(600, '[') + std::string(600, ']'), false, &why));
  EXPECT_NE(why.find("nesting"), std::string::npos);
}

TEST(TestkitFakeHost, RecordsLogsMetricsAndSecrets) {
  testkit::FakeHost host;
  const weir_host_services* s = host.services();
  s->log(s->host_data, WEIR_LOG_WARN, "careful", 7);
  s->metric(s->host_data, "x.count", WEIR_METRIC_COUNTER, 2);
  s->metric(s->host_data, "x.count", WEIR_METRIC_COUNTER, 3);
  s->metric(s->host_data, "x.gauge", WEIR_METRIC_GAUGE, 7);
  s->metric(s->host_data, "x.gauge", WEIR_METRIC_GAUGE, 4);
  EXPECT_EQ(host.Logs(), "WARN careful\n");
  EXPECT_EQ(host.Metric("x.count"), 5);
  EXPECT_EQ(host.Metric("x.gauge"), 4);
  EXPECT_EQ(s->is_cancelled(s->host_data), 0);
  host.SetCancelled(true);
  EXPECT_EQ(s->is_cancelled(s->host_data), 1);
  ::setenv("WEIR_TESTKIT_TEST_SECRET", "hunter2", 1);
  const char* value = nullptr;
  size_t len = 0;
  ASSERT_EQ(s->get_secret(s->host_data, "WEIR_TESTKIT_TEST_SECRET", &value, &len), WEIR_OK);
  EXPECT_EQ(std::string(value, len), "hunter2");
  EXPECT_EQ(s->get_secret(s->host_data, "WEIR_TESTKIT_NO_SUCH_SECRET_XYZ", &value, &len),
            WEIR_ERROR);
}

}  // namespace
}  // namespace weir::testkit_test
