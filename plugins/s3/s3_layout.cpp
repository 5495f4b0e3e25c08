// plugins/s3/s3_layout.cpp — partitions (Howard Hinnant's date/tz over the OS tz database) and
// the object plan of a batch.
#include "s3_layout.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <map>

namespace weir::s3 {
namespace {

constexpr int64_t kHourMs = 3600000;
constexpr int64_t kDayMs = 86400000;
// Event times are clamped to years 0001..9999 so every label has four digits and the tz
// library is never asked about absurd instants (a corrupt time still lands somewhere).
constexpr int64_t kMinTimeMs = -62135596800000;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimeMs = 253402300799999;  // 9999-12-31T23:59:59.999Z

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t SecondsToMs(int64_t s) {
  if (s <= std::numeric_limits<int64_t>::min() / 1000) return std::numeric_limits<int64_t>::min();
  if (s >= std::numeric_limits<int64_t>::max() / 1000) return std::numeric_limits<int64_t>::max();
  return s * 1000;
}

}  // namespace

Result<Partitioner> Partitioner::Make(Granularity granularity, const std::string& time_zone) {
  if (time_zone == "UTC" || time_zone == "Etc/UTC") return Partitioner(granularity, nullptr);
  try {
    return Partitioner(granularity, date::locate_zone(time_zone));
  } catch (const std::exception&) {
    // ParseExportConfig calls this too and words the message (with a safe echo of the value);
    // here the value is not repeated.
    return Status::InvalidConfig(
        "config.partition_timezone: unknown time zone (not in the IANA tz database)");
  }
}

void Partitioner::Fill(int64_t t) {
  const int64_t unit = granularity_ == Granularity::kHourly ? kHourMs : kDayMs;
  int64_t offset_ms = 0;
  int64_t info_begin = std::numeric_limits<int64_t>::min();
  int64_t info_end = std::numeric_limits<int64_t>::max();
  if (zone_ != nullptr) {
    const date::sys_info info =
        zone_->get_info(date::sys_seconds{std::chrono::seconds{FloorDiv(t, 1000)}});
    offset_ms = static_cast<int64_t>(info.offset.count()) * 1000;
    info_begin = SecondsToMs(info.begin.time_since_epoch().count());
    info_end = SecondsToMs(info.end.time_since_epoch().count());
  }
  const int64_t local = t + offset_ms;
  const int64_t local_start = FloorDiv(local, unit) * unit;
  // The interval of UTC times sharing this local partition under this offset; a DST change
  // inside the partition just ends the interval early (the next lookup refills it).
  cached_begin_ = std::max(info_begin, local_start - offset_ms);
  cached_end_ = std::min(info_end, local_start + unit - offset_ms);
  const int64_t days = FloorDiv(local_start, kDayMs);
  const date::year_month_day ymd{date::sys_days{date::days{days}}};
  cached_.year = static_cast<int>(ymd.year());
  cached_.month = static_cast<unsigned>(ymd.month());
  cached_.day = static_cast<unsigned>(ymd.day());
  cached_.hour = static_cast<uint32_t>((local_start - days * kDayMs) / kHourMs);
}

PartitionId Partitioner::Of(int64_t event_time_ms) {
  const int64_t t = std::clamp(event_time_ms, kMinTimeMs, kMaxTimeMs);
  if (t < cached_begin_ || t >= cached_end_) Fill(t);
  return cached_;
}

std::string Partitioner::Label(const PartitionId& id) const {
  char buf[32];
  if (granularity_ == Granularity::kHourly) {
    std::snprintf(buf, sizeof buf, "%04d/%02u/%02u/%02u", static_cast<int>(id.year), id.month,
                  id.day, id.hour);
  } else {
    std::snprintf(buf, sizeof buf, "%04d/%02u/%02u", static_cast<int>(id.year), id.month, id.day);
  }
  return buf;
}

uint64_t RecordSpans::Bytes(size_t i) const {
  const size_t begin = offsets[i], end = offsets[i + 1];
  const bool has_newline = end > begin && data[end - 1] == '\n';
  return end - begin + (has_newline ? 0 : 1);
}

Result<RecordSpans> RecordSpans::Of(const BatchView& batch) {
  RecordSpans spans;
  spans.data = batch.data();
  const size_t count = batch.count();
  spans.offsets.reserve(count + 1);
  if (batch.has_offsets()) {
    const size_t* offsets = batch.raw()->offsets;
    for (size_t i = 0; i <= count; ++i) {
      if (offsets[i] > spans.data.size() || (i > 0 && offsets[i] < offsets[i - 1])) {
        return Status::Error("s3: the batch's record offsets are inconsistent at record " +
                             std::to_string(i) + " (offset " + std::to_string(offsets[i]) +
                             ", batch of " + std::to_string(spans.data.size()) + " bytes)");
      }
      spans.offsets.push_back(offsets[i]);
    }
  } else {
    size_t at = 0;
    spans.offsets.push_back(0);
    while (at < spans.data.size()) {
      const void* nl = std::memchr(spans.data.data() + at, '\n', spans.data.size() - at);
      at = nl == nullptr
               ? spans.data.size()
               : static_cast<size_t>(static_cast<const char*>(nl) - spans.data.data()) + 1;
      spans.offsets.push_back(at);
    }
    if (spans.offsets.size() != count + 1) {
      return Status::Error("s3: the batch says " + std::to_string(count) + " records but its " +
                           std::to_string(spans.data.size()) + " bytes hold " +
                           std::to_string(spans.offsets.size() - 1) + " lines");
    }
  }
  return spans;
}

std::string_view StreamFolder(std::string_view stream) {
  if (stream == "events") return "mp_master_event";
  if (stream == "users") return "mp_people_data";
  if (stream == "identities") return "mp_identity_mappings_data";
  return {};
}

std::string ObjectName(std::string_view pipeline, uint64_t batch_seq, uint64_t part,
                       std::string_view extension) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "-%012llu-%04llu", static_cast<unsigned long long>(batch_seq),
                static_cast<unsigned long long>(part));
  std::string name(pipeline);
  name += buf;
  name += extension;
  return name;
}

namespace {

/// The records of one folder (a partition, or a whole users/identities batch).
struct Group {
  std::string folder;  ///< key prefix up to and including the last '/'
  std::vector<RecordRun> runs;
  uint64_t bytes = 0;
  size_t records = 0;

  void Add(size_t i, uint64_t record_bytes) {
    if (!runs.empty() && runs.back().end == i) {
      ++runs.back().end;
    } else {
      runs.push_back({i, i + 1});
    }
    bytes += record_bytes;
    ++records;
  }
};

/// Splits a group into objects (see PlanObjects) and appends them to `out`.
void SplitGroup(const Group& group, const LayoutSpec& spec, const RecordSpans& spans,
                std::vector<ObjectPlan>* out) {
  const uint64_t max = spec.max_object_bytes;
  const uint64_t parts = std::max<uint64_t>(1, (group.bytes + max - 1) / max);
  const uint64_t target = (group.bytes + parts - 1) / parts;
  uint64_t part = 0;
  ObjectPlan current;
  auto close = [&] {
    current.key = group.folder + ObjectName(spec.pipeline, spec.batch_seq, part++, spec.extension);
    out->push_back(std::move(current));
    current = ObjectPlan();
  };
  for (const RecordRun& run : group.runs) {
    for (size_t i = run.begin; i < run.end; ++i) {
      const uint64_t b = spans.Bytes(i);
      if (current.records > 0 && (current.bytes + b > max || current.bytes >= target)) close();
      if (!current.runs.empty() && current.runs.back().end == i) {
        ++current.runs.back().end;
      } else {
        current.runs.push_back({i, i + 1});
      }
      current.bytes += b;
      ++current.records;
    }
  }
  if (current.records > 0) close();
}

}  // namespace

Result<std::vector<ObjectPlan>> PlanObjects(const LayoutSpec& spec, Partitioner* partitioner,
                                            const RecordSpans& spans,
                                            const int64_t* event_time_ms) {
  const std::string_view folder = StreamFolder(spec.stream);
  if (folder.empty()) {
    return Status::NotImplemented("s3: stream '" + spec.stream +
                                  "' is not supported (events, users, identities)");
  }
  std::string base = spec.prefix.empty() ? "" : spec.prefix + "/";
  base += spec.project + "/" + std::string(folder) + "/";

  std::vector<ObjectPlan> plans;
  const size_t count = spans.count();
  if (count == 0) return plans;
  if (spec.stream == "events") {
    if (partitioner == nullptr || event_time_ms == nullptr) {
      return Status::Error("s3: an events batch needs per-record event times");
    }
    std::map<int64_t, Group> groups;  // ordered by partition time
    int64_t last_packed = -1;
    Group* last = nullptr;  // records mostly arrive in time order: skip the map lookup
    for (size_t i = 0; i < count; ++i) {
      const PartitionId id = partitioner->Of(event_time_ms[i]);
      const int64_t packed = id.Packed();
      if (last == nullptr || packed != last_packed) {
        auto [it, inserted] = groups.try_emplace(packed);
        if (inserted) it->second.folder = base + partitioner->Label(id) + "/";
        last = &it->second;
        last_packed = packed;
      }
      last->Add(i, spans.Bytes(i));
    }
    for (const auto& [packed, group] : groups) SplitGroup(group, spec, spans, &plans);
  } else {
    Group all;
    all.folder = base;
    for (size_t i = 0; i < count; ++i) all.Add(i, spans.Bytes(i));
    SplitGroup(all, spec, spans, &plans);
  }
  return plans;
}

}  // namespace weir::s3
