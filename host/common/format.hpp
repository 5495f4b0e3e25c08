// host/common/format.hpp — how the host writes times and byte counts for people: the run
// loop's progress line, the CLI's tables and the status page all use these, so they agree.
#ifndef WEIR_HOST_COMMON_FORMAT_HPP
#define WEIR_HOST_COMMON_FORMAT_HPP

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace weir::host {

/// "2026-12-06 03:26:02Z" (UTC, seconds), or "-" for ms <= 0.
inline std::string FormatUtcMs(int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

/// "1.2 MB" style (decimal units: kB, MB, GB).
inline std::string HumanBytes(double b) {
  char buf[32];
  if (b >= 1e9) {
    std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  } else if (b >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  } else if (b >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f B", b);
  }
  return buf;
}

}  // namespace weir::host

#endif  // WEIR_HOST_COMMON_FORMAT_HPP
