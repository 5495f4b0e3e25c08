// host/schedule/day_windows.cpp — calendar-day windows with Howard Hinnant's date/tz.
#include "schedule/day_windows.hpp"

namespace weir::host {

Result<std::vector<DayWindow>> PlanDayWindows(const std::string& time_zone,
                                              const std::string& from_day,
                                              const std::string& to_day) {
  (void)time_zone, (void)from_day, (void)to_day;
  return Status::NotImplemented("PlanDayWindows: not built yet");
}

}  // namespace weir::host
