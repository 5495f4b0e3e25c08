// tests/schedule/schedule_test.cpp — NextFire across daylight saving, in several zones.
//
// The clock is a parameter: each case asks for the fires after an instant the test picks.
// Expected instants are UTC, written out from `zdump -v -c 2026,2027 ZONE` (the transitions
// are quoted beside each case), never computed with the code under test.
#include <date/date.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "schedule/schedule.hpp"

namespace {

using weir::host::DstNote;
using weir::host::FormatInZone;
using weir::host::NextFire;
using weir::host::NextFires;
using weir::host::ParseInstant;
using weir::host::Schedule;
using weir::host::UtcOffsetInZone;
using weir::host::ValidateSchedule;

/// UTC ms of y-m-d h:mi:s UTC (independent of the schedule code).
int64_t Utc(int y, unsigned m, unsigned d, int h, int mi, int s = 0) {
  const auto day = date::sys_days(date::year{y} / m / d);
  const auto t = day + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(s);
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Schedule Daily(const std::string& at, const std::string& zone) {
  Schedule s;
  s.kind = Schedule::Kind::kDaily;
  s.daily_at = at;
  s.timezone = zone;
  return s;
}

Schedule Every(int64_t seconds, const std::string& zone = "UTC") {
  Schedule s;
  s.kind = Schedule::Kind::kEvery;
  s.every_seconds = seconds;
  s.timezone = zone;
  return s;
}

std::vector<int64_t> Fires(const Schedule& s, int64_t after, int n) {
  auto r = NextFires(s, after, n);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : std::vector<int64_t>{};
}

std::string Local(int64_t ms, const std::string& zone) {
  auto r = FormatInZone(ms, zone);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : "";
}

// America/New_York: Sun Mar 8 07:00:00 2026 UT = 03:00:00 EDT (02:00-03:00 local is skipped).
TEST(NextFire, NewYorkSpringForwardRunsAtTheEndOfTheGap) {
  const Schedule s = Daily("02:30", "America/New_York");
  const auto f = Fires(s, Utc(2026, 3, 6, 12, 0), 3);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], Utc(2026, 3, 7, 7, 30));  // 02:30 EST
  EXPECT_EQ(f[1], Utc(2026, 3, 8, 7, 0));   // 02:30 does not exist: 03:00 EDT
  EXPECT_EQ(f[2], Utc(2026, 3, 9, 6, 30));  // 02:30 EDT
  EXPECT_EQ(Local(f[1], s.timezone), "2026-03-08 03:00:00 EDT");
  EXPECT_NE(DstNote(s, f[1]).find("does not exist"), std::string::npos) << DstNote(s, f[1]);
  EXPECT_EQ(DstNote(s, f[0]), "");
  EXPECT_EQ(DstNote(s, f[2]), "");
}

// America/New_York: Sun Nov 1 06:00:00 2026 UT = 01:00:00 EST (01:00-02:00 occurs twice).
TEST(NextFire, NewYorkFallBackRunsOnceAtTheFirstOccurrence) {
  const Schedule s = Daily("01:30", "America/New_York");
  const auto f = Fires(s, Utc(2026, 10, 31, 12, 0), 2);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], Utc(2026, 11, 1, 5, 30));  // 01:30 EDT, the first 01:30
  // Not 06:30Z (the second 01:30, EST) on the same day: the next fire is a day later.
  EXPECT_EQ(f[1], Utc(2026, 11, 2, 6, 30));  // 01:30 EST
  EXPECT_NE(DstNote(s, f[0]).find("occurs twice"), std::string::npos) << DstNote(s, f[0]);
  // Asked from between the two 01:30s, the answer is still the next day.
  auto between = NextFire(s, Utc(2026, 11, 1, 6, 0));
  ASSERT_TRUE(between.ok());
  EXPECT_EQ(**between, Utc(2026, 11, 2, 6, 30));
}

// 02:30 on the fall-back day is not ambiguous (only 01:00-02:00 repeats): 02:30 EST.
TEST(NextFire, NewYorkFallBackDayAfterTheOverlapIsOrdinary) {
  const Schedule s = Daily("02:30", "America/New_York");
  auto f = NextFire(s, Utc(2026, 10, 31, 12, 0));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(**f, Utc(2026, 11, 1, 7, 30));
  EXPECT_EQ(DstNote(s, **f), "");
}

// Europe/London: Sun Mar 29 01:00:00 2026 UT = 02:00:00 BST (01:00-02:00 GMT skipped);
// Sun Oct 25 01:00:00 2026 UT = 01:00:00 GMT (01:00-02:00 occurs twice).
TEST(NextFire, LondonBothTransitions) {
  const Schedule s = Daily("01:30", "Europe/London");
  auto spring = Fires(s, Utc(2026, 3, 28, 12, 0), 2);
  ASSERT_EQ(spring.size(), 2u);
  EXPECT_EQ(spring[0], Utc(2026, 3, 29, 1, 0));   // the gap's end: 02:00 BST
  EXPECT_EQ(spring[1], Utc(2026, 3, 30, 0, 30));  // 01:30 BST
  EXPECT_EQ(Local(spring[0], s.timezone), "2026-03-29 02:00:00 BST");
  auto autumn = Fires(s, Utc(2026, 10, 24, 12, 0), 2);
  ASSERT_EQ(autumn.size(), 2u);
  EXPECT_EQ(autumn[0], Utc(2026, 10, 25, 0, 30));  // the first 01:30, BST
  EXPECT_EQ(autumn[1], Utc(2026, 10, 26, 1, 30));  // 01:30 GMT next day
  // An ordinary London evening: 18:00 GMT in winter is 18:00Z, in summer 17:00Z.
  auto winter = NextFire(Daily("18:00", "Europe/London"), Utc(2026, 1, 10, 0, 0));
  auto summer = NextFire(Daily("18:00", "Europe/London"), Utc(2026, 7, 10, 0, 0));
  ASSERT_TRUE(winter.ok() && summer.ok());
  EXPECT_EQ(**winter, Utc(2026, 1, 10, 18, 0));
  EXPECT_EQ(**summer, Utc(2026, 7, 10, 17, 0));
}

// Australia/Lord_Howe shifts by 30 minutes:
//   Sat Apr 4 15:00:00 2026 UT = Sun Apr 5 01:30:00 +1030 (01:30-02:00 occurs twice);
//   Sat Oct 3 15:30:00 2026 UT = Sun Oct 4 02:30:00 +11 (02:00-02:30 skipped).
TEST(NextFire, LordHoweHalfHourShift) {
  const Schedule overlap = Daily("01:45", "Australia/Lord_Howe");
  auto a = Fires(overlap, Utc(2026, 4, 4, 0, 0), 2);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0], Utc(2026, 4, 4, 14, 45));  // 01:45 +11, the first
  EXPECT_EQ(a[1], Utc(2026, 4, 5, 15, 15));  // 01:45 +1030 on Apr 6
  EXPECT_NE(DstNote(overlap, a[0]).find("occurs twice"), std::string::npos);

  const Schedule gap = Daily("02:15", "Australia/Lord_Howe");
  auto b = Fires(gap, Utc(2026, 10, 3, 0, 0), 2);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0], Utc(2026, 10, 3, 15, 30));  // 02:15 does not exist: 02:30 +11
  EXPECT_EQ(b[1], Utc(2026, 10, 4, 15, 15));  // 02:15 +11 on Oct 5
  auto off = UtcOffsetInZone(b[0], "Australia/Lord_Howe");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, "+11:00");
  auto off_winter = UtcOffsetInZone(a[1], "Australia/Lord_Howe");
  ASSERT_TRUE(off_winter.ok());
  EXPECT_EQ(*off_winter, "+10:30");
}

// Asia/Kolkata: +05:30 all year, no daylight saving.
TEST(NextFire, KolkataHalfHourOffsetNoDst) {
  const Schedule s = Daily("09:00", "Asia/Kolkata");
  const auto f = Fires(s, Utc(2026, 3, 7, 0, 0), 3);
  ASSERT_EQ(f.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(f[static_cast<size_t>(i)], Utc(2026, 3, 7 + static_cast<unsigned>(i), 3, 30));
  }
  EXPECT_EQ(Local(f[0], s.timezone), "2026-03-07 09:00:00 IST");
  // Just before and exactly at a fire: strictly after means the same fire, then the next.
  auto before = NextFire(s, Utc(2026, 3, 7, 3, 29, 59));
  auto at = NextFire(s, Utc(2026, 3, 7, 3, 30));
  ASSERT_TRUE(before.ok() && at.ok());
  EXPECT_EQ(**before, Utc(2026, 3, 7, 3, 30));
  EXPECT_EQ(**at, Utc(2026, 3, 8, 3, 30));
}

// `every` is elapsed time on UTC multiples: the zone changes nothing, so a New York local day
// holds 23 hourly fires in spring and 25 in autumn.
TEST(NextFire, EveryIsElapsedTimeAcrossDst) {
  const Schedule s = Every(3600, "America/New_York");
  // Local Nov 1 runs from 04:00Z (00:00 EDT) to 05:00Z Nov 2 (00:00 EST): 25 hours.
  const auto fall = Fires(s, Utc(2026, 11, 1, 4, 0) - 1, 30);
  int in_day = 0;
  for (int64_t t : fall) in_day += (t >= Utc(2026, 11, 1, 4, 0) && t < Utc(2026, 11, 2, 5, 0));
  EXPECT_EQ(in_day, 25);
  // Local Mar 8 runs from 05:00Z (00:00 EST) to 04:00Z Mar 9 (00:00 EDT): 23 hours.
  const auto spring = Fires(s, Utc(2026, 3, 8, 5, 0) - 1, 30);
  in_day = 0;
  for (int64_t t : spring) in_day += (t >= Utc(2026, 3, 8, 5, 0) && t < Utc(2026, 3, 9, 4, 0));
  EXPECT_EQ(in_day, 23);
  for (size_t i = 1; i < fall.size(); ++i) EXPECT_EQ(fall[i] - fall[i - 1], 3'600'000);
}

TEST(NextFire, EveryAlignsToMultiplesOfThePeriod) {
  auto six = Fires(Every(6 * 3600, "Asia/Kolkata"), Utc(2026, 5, 1, 7, 15), 3);
  ASSERT_EQ(six.size(), 3u);
  EXPECT_EQ(six[0], Utc(2026, 5, 1, 12, 0));
  EXPECT_EQ(six[1], Utc(2026, 5, 1, 18, 0));
  EXPECT_EQ(six[2], Utc(2026, 5, 2, 0, 0));
  EXPECT_EQ(Local(six[0], "Asia/Kolkata"), "2026-05-01 17:30:00 IST");
  auto fifteen = NextFire(Every(15 * 60), Utc(2026, 5, 1, 7, 15));
  ASSERT_TRUE(fifteen.ok());
  EXPECT_EQ(**fifteen, Utc(2026, 5, 1, 7, 30));  // strictly after
  auto seconds = NextFire(Every(5), Utc(2026, 5, 1, 7, 15, 3));
  ASSERT_TRUE(seconds.ok());
  EXPECT_EQ(**seconds, Utc(2026, 5, 1, 7, 15, 5));
}

// A daemon that was down for days: NextFire of the last fire is one instant in the past,
// which `serve` runs once; the fire after "now" is the next slot, not a queue of missed ones.
TEST(NextFire, MissedFiresCollapseToOne) {
  const Schedule s = Daily("02:00", "Europe/London");
  const int64_t last_fire = Utc(2026, 6, 1, 1, 0);  // 02:00 BST
  const int64_t now = Utc(2026, 6, 5, 12, 0);
  auto due = NextFire(s, last_fire);
  ASSERT_TRUE(due.ok());
  EXPECT_LT(**due, now);  // due: run once
  auto after_run = NextFire(s, now);
  ASSERT_TRUE(after_run.ok());
  EXPECT_EQ(**after_run, Utc(2026, 6, 6, 1, 0));
}

TEST(NextFire, ManualScheduleNeverFires) {
  Schedule none;
  auto f = NextFire(none, Utc(2026, 1, 1, 0, 0));
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->has_value());
  EXPECT_TRUE(Fires(none, 0, 5).empty());
}

TEST(ValidateSchedule, RejectsUnknownZonesAndBadValues) {
  EXPECT_TRUE(ValidateSchedule(Daily("02:00", "Australia/Lord_Howe")).ok());
  weir::Status z = ValidateSchedule(Daily("02:00", "Mars/Olympus_Mons"));
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.message().find("$.schedule.timezone: unknown time zone \"Mars/Olympus_Mons\""),
            std::string::npos)
      << z.message();
  EXPECT_FALSE(ValidateSchedule(Daily("02:00", "../../etc/passwd")).ok());
  EXPECT_FALSE(ValidateSchedule(Daily("2:00", "UTC")).ok());
  EXPECT_FALSE(ValidateSchedule(Daily("24:00", "UTC")).ok());
  EXPECT_FALSE(ValidateSchedule(Every(0)).ok());
  EXPECT_FALSE(ValidateSchedule(Every(24 * 3600)).ok());
  auto f = NextFire(Daily("02:00", "Nowhere/City"), 0);
  EXPECT_FALSE(f.ok());
}

TEST(ParseInstant, AcceptsUtcOffsetsAndDates) {
  auto z = ParseInstant("2026-03-08T06:00:00Z");
  auto off = ParseInstant("2026-03-08T01:00:00-05:00");
  auto plus = ParseInstant("2026-03-08T11:30+05:30");
  auto day = ParseInstant("2026-03-08");
  auto space = ParseInstant("2026-03-08 06:00Z");
  ASSERT_TRUE(z.ok() && off.ok() && plus.ok() && day.ok() && space.ok());
  EXPECT_EQ(*z, Utc(2026, 3, 8, 6, 0));
  EXPECT_EQ(*off, Utc(2026, 3, 8, 6, 0));
  EXPECT_EQ(*plus, Utc(2026, 3, 8, 6, 0));
  EXPECT_EQ(*space, Utc(2026, 3, 8, 6, 0));
  EXPECT_EQ(*day, Utc(2026, 3, 8, 0, 0));
  for (const char* bad : {"2026-02-30", "2026-03-08T06:00", "yesterday", "2026-03-08T25:00Z",
                          "2026-03-08T06:00:00Zjunk", ""}) {
    auto r = ParseInstant(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("expected a UTC instant"), std::string::npos);
    }
  }
}

}  // namespace
