// host/schedule/day_windows.cpp — calendar-day windows with Howard Hinnant's date/tz.
//
// A day's window runs from its local midnight to the next day's local midnight, converted to
// UTC with the zone's rules for that instant, so daylight-saving days are 23 or 25 hours long
// and stay whole. Where a midnight does not exist (a zone that springs forward at 00:00), the
// day starts at the instant the gap ends; where it is ambiguous, at its first occurrence.
#include "schedule/day_windows.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <exception>
#include <string>
#include <vector>

namespace weir::host {
namespace {

constexpr int kMaxDays = 3660;

Result<date::sys_days> ParseDay(const std::string& text, const char* what) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidConfig(std::string(what) + " '" + text + "': " + why);
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return bad("expected a date YYYY-MM-DD");
  }
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return bad("expected a date YYYY-MM-DD");
  }
  const int y = std::stoi(text.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(text.substr(5, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(text.substr(8, 2)));
  const date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
  if (!ymd.ok()) return bad("no such calendar day");
  return date::sys_days(ymd);
}

int64_t LocalMidnightMs(const date::time_zone* tz, date::local_days day) {
  const date::local_seconds local{day};
  const date::local_info info = tz->get_info(local);
  date::sys_seconds utc;
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:  // the first occurrence
      utc = date::sys_seconds{local.time_since_epoch() - info.first.offset};
      break;
    case date::local_info::nonexistent:  // the instant the gap ends
    default:
      utc = info.second.begin;
      break;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(utc.time_since_epoch()).count();
}

}  // namespace

Result<std::vector<DayWindow>> PlanDayWindows(const std::string& time_zone,
                                              const std::string& from_day,
                                              const std::string& to_day) {
  WEIR_ASSIGN_OR_RETURN(date::sys_days from, ParseDay(from_day, "--from"));
  WEIR_ASSIGN_OR_RETURN(date::sys_days to, ParseDay(to_day, "--to"));
  if (from > to) {
    return Status::InvalidConfig("--from " + from_day + " is after --to " + to_day);
  }
  const auto days = (to - from).count() + 1;
  if (days > kMaxDays) {
    return Status::InvalidConfig("--from " + from_day + " --to " + to_day + " spans " +
                                 std::to_string(days) + " days; at most " +
                                 std::to_string(kMaxDays) + " days per backfill");
  }
  const date::time_zone* tz = nullptr;
  try {
    tz = date::locate_zone(time_zone);
  } catch (const std::exception& e) {
    return Status::InvalidConfig("time zone '" + time_zone + "': " + e.what());
  }
  std::vector<DayWindow> out;
  out.reserve(static_cast<size_t>(days));
  for (date::sys_days d = from; d <= to; d += date::days{1}) {
    const date::local_days local{d.time_since_epoch()};
    DayWindow w;
    w.day = date::format("%F", d);
    w.start_ms = LocalMidnightMs(tz, local);
    w.end_ms = LocalMidnightMs(tz, local + date::days{1});
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace weir::host
