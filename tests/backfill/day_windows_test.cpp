// tests/backfill/day_windows_test.cpp — PlanDayWindows: local midnights to UTC, 23/25-hour
// daylight-saving days, a nonexistent midnight, and bad input.
#include "schedule/day_windows.hpp"

#include <gtest/gtest.h>

#include <string>

namespace weir::host {
namespace {

constexpr int64_t kHour = 3'600'000;

TEST(DayWindows, UtcDaysAre24HoursFromMidnight) {
  auto w = PlanDayWindows("UTC", "2024-02-28", "2024-03-01");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_EQ(w->size(), 3u);  // leap day included
  EXPECT_EQ((*w)[0].day, "2024-02-28");
  EXPECT_EQ((*w)[1].day, "2024-02-29");
  EXPECT_EQ((*w)[0].start_ms, 1'709'078'400'000);  // 2024-02-28T00:00Z
  for (size_t i = 0; i < w->size(); ++i) {
    EXPECT_EQ((*w)[i].end_ms - (*w)[i].start_ms, 24 * kHour);
    if (i > 0) {
      EXPECT_EQ((*w)[i].start_ms, (*w)[i - 1].end_ms);
    }
  }
}

TEST(DayWindows, DaylightSavingDaysAreWhole23And25HourDays) {
  auto spring = PlanDayWindows("America/New_York", "2024-03-09", "2024-03-11");
  ASSERT_TRUE(spring.ok()) << spring.status().ToString();
  EXPECT_EQ((*spring)[0].start_ms, 1'709'960'400'000);  // 2024-03-09T05:00Z (EST)
  EXPECT_EQ((*spring)[0].end_ms - (*spring)[0].start_ms, 24 * kHour);
  EXPECT_EQ((*spring)[1].end_ms - (*spring)[1].start_ms, 23 * kHour);
  EXPECT_EQ((*spring)[2].start_ms, 1'710'129'600'000);  // 2024-03-11T04:00Z (EDT)
  auto autumn = PlanDayWindows("Europe/Berlin", "2024-10-27", "2024-10-27");
  ASSERT_TRUE(autumn.ok());
  EXPECT_EQ((*autumn)[0].start_ms, 1'729'980'000'000);  // 2024-10-26T22:00Z (CEST)
  EXPECT_EQ((*autumn)[0].end_ms - (*autumn)[0].start_ms, 25 * kHour);
}

TEST(DayWindows, NonexistentMidnightStartsWhenTheGapEnds) {
  // Chile springs forward at 24:00 on 2024-09-07: 2024-09-08T00:00 local never happens.
  auto w = PlanDayWindows("America/Santiago", "2024-09-07", "2024-09-08");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ((*w)[1].start_ms, 1'725'768'000'000);  // 2024-09-08T04:00Z = 01:00 -03
  EXPECT_EQ((*w)[0].end_ms, (*w)[1].start_ms);
  EXPECT_EQ((*w)[0].end_ms - (*w)[0].start_ms, 24 * kHour);
  EXPECT_EQ((*w)[1].end_ms - (*w)[1].start_ms, 23 * kHour);
}

TEST(DayWindows, BadInputIsNamed) {
  auto msg = [](const std::string& tz, const std::string& a, const std::string& b) {
    auto r = PlanDayWindows(tz, a, b);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(msg("UTC", "2024-3-01", "2024-03-02").find("--from '2024-3-01'"), std::string::npos);
  EXPECT_NE(msg("UTC", "2024-02-30", "2024-03-02").find("no such calendar day"),
            std::string::npos);
  EXPECT_NE(msg("UTC", "2024-03-02", "2024-03-01").find("is after --to"), std::string::npos);
  EXPECT_NE(msg("UTC", "2000-01-01", "2024-03-01").find("at most 3660 days"), std::string::npos);
  EXPECT_NE(msg("Mars/Olympus", "2024-03-01", "2024-03-01").find("time zone 'Mars/Olympus'"),
            std::string::npos);
}

}  // namespace
}  // namespace weir::host
