// host/schedule/schedule.cpp — schedule arithmetic with Howard Hinnant's date/tz.
#include "schedule/schedule.hpp"

namespace weir::host {

Status ValidateSchedule(const Schedule& schedule) {
  (void)schedule;
  return Status::OK();
}

Result<std::optional<int64_t>> NextFire(const Schedule& schedule, int64_t after_ms) {
  (void)schedule, (void)after_ms;
  return Status::NotImplemented("NextFire: not built yet");
}

Result<std::string> FormatInZone(int64_t ms, const std::string& time_zone) {
  (void)ms, (void)time_zone;
  return Status::NotImplemented("FormatInZone: not built yet");
}

}  // namespace weir::host
