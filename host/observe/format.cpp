// host/observe/format.cpp — time, number and HTML formatting shared by the observe renderings.
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "observe/observe.hpp"
#include "observe/observe_internal.hpp"

namespace weir::host::observe_internal {

std::string FormatDuration(int64_t ms) {
  if (ms < 0) ms = 0;
  const int64_t s = ms / 1000;
  char buf[48];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "ms", ms);
  } else if (s < 60) {
    std::snprintf(buf, sizeof buf, "%" PRId64 ".%01" PRId64 "s", s, (ms % 1000) / 100);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "h%02" PRId64 "m", s / 3600, (s % 3600) / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRId64 "d%02" PRId64 "h", s / 86400, (s % 86400) / 3600);
  }
  return buf;
}

std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

double Metric(const RunRecord& run, const std::string& name, double fallback) {
  auto it = run.metrics.find(name);
  return it == run.metrics.end() ? fallback : it->second;
}

bool EndedCaughtUp(const RunRecord& run) {
  if (run.ended_at_ms <= 0) return false;
  if (run.status != "succeeded" && run.status != "no_data") return false;
  return Metric(run, "host.caught_up", 1) != 0;
}

bool RunFailed(const RunRecord& run) {
  return run.status == "failed" || run.status == "interrupted";
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace weir::host::observe_internal

namespace weir::host {

std::string BackfillProgress(const PipelineStatus& status) {
  if (status.backfill_total == 0) return "-";
  return std::to_string(status.backfill_done) + "/" + std::to_string(status.backfill_total) +
         " days";
}

}  // namespace weir::host
