// host/observe/observe_internal.hpp — helpers shared by the observe renderings (not installed).
//
// Time and number formatting, the "ended caught up" rule of the snapshot, and HTML escaping,
// kept in one place so /status, /status.json, /metrics and `weir status` agree.
#ifndef WEIR_HOST_OBSERVE_OBSERVE_INTERNAL_HPP
#define WEIR_HOST_OBSERVE_OBSERVE_INTERNAL_HPP

#include <cstdint>
#include <string>
#include <string_view>

#include "common/format.hpp"
#include "state/state_store.hpp"

namespace weir::host::observe_internal {

using weir::host::FormatUtcMs;  // common/format.hpp
/// "850ms", "12.3s", "3m12s", "2h05m", "3d04h"; for durations and lags (negative = 0).
std::string FormatDuration(int64_t ms);
/// Shortest text that reads back as `v` ("3", "0.25", "1e+20"); "NaN", "+Inf", "-Inf".
std::string FormatNumber(double v);
/// Bytes as lower-case hex (watermarks are opaque bytes).
std::string Hex(std::string_view bytes);

/// The run's metric `name`, or `fallback` when it did not record it.
double Metric(const RunRecord& run, const std::string& name, double fallback);
/// True when the run finished with everything exported: succeeded or no_data, and its
/// host.caught_up metric is absent or non-zero (a bounded step that stopped at its limit
/// records 0).
bool EndedCaughtUp(const RunRecord& run);
/// A run that ended badly: failed, or interrupted (its process died). Cancelled is not.
bool RunFailed(const RunRecord& run);

/// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view s);

}  // namespace weir::host::observe_internal

#endif  // WEIR_HOST_OBSERVE_OBSERVE_INTERNAL_HPP
