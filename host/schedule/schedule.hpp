// host/schedule/schedule.hpp — when a pipeline's schedule fires, and backfill's day windows.
//
// Pure functions of time: every "now" is a parameter, so tests control the clock.
// Backfill's calendar-day windows are in day_windows.hpp.
#ifndef WEIR_HOST_SCHEDULE_SCHEDULE_HPP
#define WEIR_HOST_SCHEDULE_SCHEDULE_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/pipeline.hpp"
#include "weir/plugin.hpp"

namespace weir::host {

/// Checks the schedule's zone exists in the system tzdata and its values are in range.
/// Errors are WEIR_INVALID_CONFIG and name the field: "$.schedule.timezone: unknown ...".
Status ValidateSchedule(const Schedule& schedule);

/// The first fire time strictly after `after_ms` (UTC ms); nullopt for a manual schedule.
Result<std::optional<int64_t>> NextFire(const Schedule& schedule, int64_t after_ms);

/// "2026-03-08 03:00:00 EDT" in `time_zone`.
Result<std::string> FormatInZone(int64_t ms, const std::string& time_zone);

}  // namespace weir::host

#endif  // WEIR_HOST_SCHEDULE_SCHEDULE_HPP
