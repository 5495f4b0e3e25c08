// host/schedule/day_windows.hpp — backfill's calendar-day windows in a pipeline's time zone.
#ifndef WEIR_HOST_SCHEDULE_DAY_WINDOWS_HPP
#define WEIR_HOST_SCHEDULE_DAY_WINDOWS_HPP

#include <cstdint>
#include <string>
#include <vector>

#include "weir/plugin.hpp"

namespace weir::host {

/// One calendar day in a zone: [start_ms, end_ms) between two local midnights (23 or 25
/// hours long on daylight-saving days).
struct DayWindow {
  std::string day;  ///< "YYYY-MM-DD"
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

/// The days from `from_day` to `to_day` inclusive ("YYYY-MM-DD") in `time_zone`.
Result<std::vector<DayWindow>> PlanDayWindows(const std::string& time_zone,
                                              const std::string& from_day,
                                              const std::string& to_day);

}  // namespace weir::host

#endif  // WEIR_HOST_SCHEDULE_DAY_WINDOWS_HPP
