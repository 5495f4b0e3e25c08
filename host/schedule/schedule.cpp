// host/schedule/schedule.cpp — schedule arithmetic with Howard Hinnant's date/tz.
//
// The rules (docs/operating.md, "Schedules and daylight saving"):
//   - every: elapsed time, on multiples of the period since 1970-01-01T00:00Z. The zone does
//     not move these instants: "every 1h" fires every 60 real minutes, 23 times on a
//     spring-forward day and 25 times on a fall-back day.
//   - daily "HH:MM": once per local calendar day in the zone. A local time that does not
//     exist that day (a spring-forward gap) fires at the instant the gap ends, the next valid
//     instant; one that occurs twice (fall-back) fires at its first occurrence only.
#include "schedule/schedule.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <exception>
#include <string>

namespace weir::host {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Result<const date::time_zone*> Zone(const std::string& name) {
  if (name.empty() || name.find("..") != std::string::npos) {
    return Status::InvalidConfig("$.schedule.timezone: unknown time zone \"" + name + "\"");
  }
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return Status::InvalidConfig("$.schedule.timezone: unknown time zone \"" + name +
                                 "\": expected an IANA name from the system tzdata such as "
                                 "\"UTC\", \"Europe/London\" or \"America/New_York\"");
  }
}

Result<minutes> ParseHhMm(const std::string& s) {
  const bool shape = s.size() == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' &&
                     s[1] <= '9' && s[3] >= '0' && s[3] <= '9' && s[4] >= '0' && s[4] <= '9';
  if (shape) {
    const int h = (s[0] - '0') * 10 + (s[1] - '0');
    const int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h < 24 && m < 60) return minutes(h * 60 + m);
  }
  return Status::InvalidConfig("$.schedule.daily: expected \"HH:MM\" (24-hour), found \"" + s +
                               "\"");
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

/// The UTC instant of local `day` + `at` in `tz`: a gap resolves to its end, an overlap to
/// its first occurrence.
date::sys_seconds Resolve(const date::time_zone* tz, date::local_days day, minutes at) {
  const date::local_seconds local{day + at};
  const date::local_info info = tz->get_info(local);
  switch (info.result) {
    case date::local_info::nonexistent:
      return info.second.begin;
    case date::local_info::ambiguous:
    case date::local_info::unique:
    default:
      return date::sys_seconds{local.time_since_epoch() - info.first.offset};
  }
}

}  // namespace

Status ValidateSchedule(const Schedule& schedule) {
  switch (schedule.kind) {
    case Schedule::Kind::kNone:
      return Status::OK();
    case Schedule::Kind::kEvery:
      if (schedule.every_seconds < 1 || schedule.every_seconds > 23 * 3600) {
        return Status::InvalidConfig("$.schedule.every: the period must be from 1s to 23h, not " +
                                     std::to_string(schedule.every_seconds) + "s");
      }
      break;
    case Schedule::Kind::kDaily: {
      auto at = ParseHhMm(schedule.daily_at);
      if (!at.ok()) return at.status();
      break;
    }
  }
  auto tz = Zone(schedule.timezone);
  return tz.ok() ? Status::OK() : tz.status();
}

Result<std::optional<int64_t>> NextFire(const Schedule& schedule, int64_t after_ms) {
  WEIR_RETURN_NOT_OK(ValidateSchedule(schedule));
  switch (schedule.kind) {
    case Schedule::Kind::kNone:
      return std::optional<int64_t>();
    case Schedule::Kind::kEvery: {
      const int64_t period = schedule.every_seconds * 1000;
      return std::optional<int64_t>((FloorDiv(after_ms, period) + 1) * period);
    }
    case Schedule::Kind::kDaily:
      break;
  }
  WEIR_ASSIGN_OR_RETURN(const date::time_zone* tz, Zone(schedule.timezone));
  WEIR_ASSIGN_OR_RETURN(minutes at, ParseHhMm(schedule.daily_at));
  const date::sys_time<milliseconds> after{milliseconds(after_ms)};
  const auto local_today =
      date::floor<date::days>(tz->to_local(date::floor<seconds>(after)));
  // The day before covers a fire that lands after `after` although its local date is
  // earlier (never with real zones, but cheap); four days cover any gap.
  for (int d = -1; d <= 3; ++d) {
    const date::sys_seconds fire = Resolve(tz, local_today + date::days(d), at);
    const int64_t fire_ms = duration_cast<milliseconds>(fire.time_since_epoch()).count();
    if (fire_ms > after_ms) return std::optional<int64_t>(fire_ms);
  }
  return Status::Error("NextFire: no fire time within 4 days of " + std::to_string(after_ms));
}

Result<std::vector<int64_t>> NextFires(const Schedule& schedule, int64_t after_ms, int count) {
  std::vector<int64_t> out;
  int64_t t = after_ms;
  for (int i = 0; i < count; ++i) {
    WEIR_ASSIGN_OR_RETURN(std::optional<int64_t> next, NextFire(schedule, t));
    if (!next) break;
    out.push_back(*next);
    t = *next;
  }
  return out;
}

Result<std::string> FormatInZone(int64_t ms, const std::string& time_zone) {
  WEIR_ASSIGN_OR_RETURN(const date::time_zone* tz, Zone(time_zone));
  const date::sys_seconds t = date::floor<seconds>(date::sys_time<milliseconds>{milliseconds(ms)});
  try {
    return date::format("%F %T %Z", date::zoned_seconds{tz, t});
  } catch (const std::exception& e) {
    return Status::Error(std::string("FormatInZone: ") + e.what());
  }
}

std::string DstNote(const Schedule& schedule, int64_t fire_ms) {
  if (schedule.kind != Schedule::Kind::kDaily) return "";
  auto tz = Zone(schedule.timezone);
  auto at = ParseHhMm(schedule.daily_at);
  if (!tz.ok() || !at.ok()) return "";
  const date::sys_seconds fire = date::floor<seconds>(date::sys_time<milliseconds>{milliseconds(fire_ms)});
  const auto day = date::floor<date::days>((*tz)->to_local(fire));
  const date::local_info info = (*tz)->get_info(date::local_seconds{day + *at});
  const std::string when = schedule.daily_at + " on " + date::format("%F", day);
  if (info.result == date::local_info::nonexistent) {
    return when + " does not exist (clocks go forward): runs when the gap ends";
  }
  if (info.result == date::local_info::ambiguous) {
    return when + " occurs twice (clocks go back): runs at the first, once";
  }
  return "";
}

Result<int64_t> ParseInstant(const std::string& text) {
  auto bad = [&]() {
    return Status::InvalidConfig("'" + text +
                                 "': expected a UTC instant such as 2026-03-08T06:00:00Z, "
                                 "2026-03-08T01:00:00-05:00 or a date 2026-03-08");
  };
  size_t i = 0;
  // Reads exactly `width` digits.
  auto num = [&](size_t width, int* out) {
    if (i + width > text.size()) return false;
    int v = 0;
    for (size_t k = 0; k < width; ++k) {
      const char c = text[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    i += width;
    *out = v;
    return true;
  };
  auto lit = [&](char c) {
    if (i < text.size() && text[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!num(4, &y) || !lit('-') || !num(2, &mo) || !lit('-') || !num(2, &d)) return bad();
  const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                 date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return bad();
  int64_t offset_s = 0;
  if (i < text.size()) {
    if (!(lit('T') || lit(' ')) || !num(2, &h) || !lit(':') || !num(2, &mi)) return bad();
    if (lit(':') && !num(2, &sec)) return bad();
    if (h > 23 || mi > 59 || sec > 60) return bad();
    if (!lit('Z')) {
      const bool minus = i < text.size() && text[i] == '-';
      if (!(lit('+') || lit('-'))) return bad();
      int oh = 0, om = 0;
      if (!num(2, &oh) || !lit(':') || !num(2, &om) || oh > 23 || om > 59) return bad();
      offset_s = (minus ? -1 : 1) * (int64_t{oh} * 3600 + om * 60);
    }
    if (i != text.size()) return bad();
  }
  const date::sys_seconds t = date::sys_days(ymd) + std::chrono::hours(h) + minutes(mi) +
                              seconds(sec) - seconds(offset_s);
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

Result<std::string> UtcOffsetInZone(int64_t ms, const std::string& time_zone) {
  WEIR_ASSIGN_OR_RETURN(const date::time_zone* tz, Zone(time_zone));
  const date::sys_seconds t = date::floor<seconds>(date::sys_time<milliseconds>{milliseconds(ms)});
  return date::format("%Ez", date::zoned_seconds{tz, t});
}

}  // namespace weir::host
