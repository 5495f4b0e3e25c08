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
/// every: multiples of the period since the UTC epoch (the zone does not move them).
/// daily: HH:MM local time once per local day; a time in a spring-forward gap fires when the
/// gap ends, a time that occurs twice fires at its first occurrence only.
Result<std::optional<int64_t>> NextFire(const Schedule& schedule, int64_t after_ms);

/// Up to `count` successive fire times after `after_ms` (empty for a manual schedule).
Result<std::vector<int64_t>> NextFires(const Schedule& schedule, int64_t after_ms, int count);

/// "2026-03-08 03:00:00 EDT" in `time_zone`.
Result<std::string> FormatInZone(int64_t ms, const std::string& time_zone);

/// For a daily fire whose local time differs from the schedule's (a spring-forward gap) or
/// that is the first of two occurrences (fall-back), a sentence saying so; otherwise "".
std::string DstNote(const Schedule& schedule, int64_t fire_ms);

/// "2026-03-08T06:00:00Z", "2026-03-08T01:00:00-05:00", "2026-03-08 06:00Z" or "2026-03-08"
/// (midnight UTC) as UTC ms.
Result<int64_t> ParseInstant(const std::string& text);

/// The zone's UTC offset at `ms`: "-04:00", "+10:30".
Result<std::string> UtcOffsetInZone(int64_t ms, const std::string& time_zone);

}  // namespace weir::host

#endif  // WEIR_HOST_SCHEDULE_SCHEDULE_HPP
