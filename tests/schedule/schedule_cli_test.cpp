// tests/schedule/schedule_cli_test.cpp — `weir schedule` and schedule validation through the
// real binary: the table in the zone and UTC, --json, --after, and the errors a user sees.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "weir_process.hpp"

namespace {

namespace fs = std::filesystem;
using weir::test::ProcessResult;

class ScheduleCli : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "pipelines");
    fs::create_directories(dir_.path() / "data");
  }

  void WritePipeline(const std::string& name, const std::string& schedule) {
    std::ofstream(dir_.path() / "pipelines" / (name + ".json"))
        << R"({"name":")" << name << R"(","project":"demo","stream":"events",
      "source":{"plugin":"file-source","config":{"path":"/nonexistent"}},
      "destination":{"plugin":"file-destination","config":{"dir":"/nonexistent"}})"
        << (schedule.empty() ? "" : ",\"schedule\":" + schedule) << "}";
  }

  ProcessResult Weir(const std::vector<std::string>& rest) {
    return weir::test::WaitProcess(weir::test::StartProcess(
        weir::test::WeirCommand(WEIR_BINARY, dir_.path(), WEIR_PLUGINS_DIR, rest), dir_.path()));
  }

  static std::vector<std::string> Lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string l;
    while (std::getline(in, l)) out.push_back(l);
    return out;
  }

  weir::test::TempDir dir_{"weir-schedule-cli"};
};

TEST_F(ScheduleCli, PrintsFiresInTheZoneAndUtcWithDstNotes) {
  WritePipeline("nightly", R"({"daily":"02:30","timezone":"America/New_York"})");
  ProcessResult r = Weir({"schedule", "nightly", "--after", "2026-03-06T12:00:00Z", "--next", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0], "nightly: daily at 02:30 America/New_York");
  EXPECT_EQ(lines[1], "next 3 after 2026-03-06 12:00:00Z:");
  EXPECT_EQ(lines[2].rfind("  2026-03-07 02:30:00 EST (-05:00)   2026-03-07 07:30:00Z", 0), 0u)
      << lines[2];
  EXPECT_EQ(lines[3].rfind("  2026-03-08 03:00:00 EDT (-04:00)   2026-03-08 07:00:00Z", 0), 0u)
      << lines[3];
  EXPECT_NE(lines[3].find("02:30 on 2026-03-08 does not exist"), std::string::npos) << lines[3];
  EXPECT_EQ(lines[4].rfind("  2026-03-09 02:30:00 EDT (-04:00)   2026-03-09 06:30:00Z", 0), 0u)
      << lines[4];
}

TEST_F(ScheduleCli, JsonIsOneObjectPerFire) {
  WritePipeline("hourly", R"({"every":"1h","timezone":"Australia/Lord_Howe"})");
  ProcessResult r = Weir({"schedule", "hourly", "--after", "2026-10-03T14:10:00Z", "-n", "2",
                          "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  simdjson::dom::parser parser;
  simdjson::dom::element a = parser.parse(lines[0]);
  EXPECT_EQ(std::string(a["utc"].get_string().value()), "2026-10-03 15:00:00Z");
  EXPECT_EQ(std::string(a["local"].get_string().value()), "2026-10-04 01:30:00 +1030");
  EXPECT_EQ(std::string(a["utc_offset"].get_string().value()), "+10:30");
  simdjson::dom::parser parser2;
  simdjson::dom::element b = parser2.parse(lines[1]);
  // 15:30Z is the shift: 02:00 +1030 becomes 02:30 +11; the hourly fire at 16:00Z is 03:00.
  EXPECT_EQ(std::string(b["local"].get_string().value()), "2026-10-04 03:00:00 +11");
  EXPECT_EQ(b["fire_ms"].get_int64().value() - a["fire_ms"].get_int64().value(), 3'600'000);
}

TEST_F(ScheduleCli, ManualPipelineSaysSo) {
  WritePipeline("adhoc", "");
  ProcessResult r = Weir({"schedule", "adhoc"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("no schedule (manual)"), std::string::npos) << r.out;
}

TEST_F(ScheduleCli, BadInputIsAUsageErrorNamingWhatIsWrong) {
  WritePipeline("mars", R"({"daily":"02:00","timezone":"Mars/Olympus_Mons"})");
  ProcessResult zone = Weir({"schedule", "mars"});
  EXPECT_EQ(zone.code, 2);
  EXPECT_NE(zone.err.find("$.schedule.timezone: unknown time zone \"Mars/Olympus_Mons\""),
            std::string::npos)
      << zone.err;
  // `weir validate` rejects the same file (validation happens at load).
  ProcessResult validate = Weir({"pipeline", "validate", "--no-check", "mars"});
  EXPECT_NE(validate.code, 0);
  EXPECT_NE((validate.out + validate.err).find("unknown time zone"), std::string::npos)
      << validate.out << validate.err;

  WritePipeline("ok", R"({"every":"6h"})");
  ProcessResult after = Weir({"schedule", "ok", "--after", "tomorrow"});
  EXPECT_EQ(after.code, 2);
  EXPECT_NE(after.err.find("--after 'tomorrow': expected a UTC instant"), std::string::npos)
      << after.err;
  ProcessResult next = Weir({"schedule", "ok", "--next", "0"});
  EXPECT_EQ(next.code, 2);
  EXPECT_NE(next.err.find("--next: expected a number from 1 to 1000"), std::string::npos)
      << next.err;
  ProcessResult missing = Weir({"schedule", "nope"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("nope"), std::string::npos) << missing.err;
}

}  // namespace
