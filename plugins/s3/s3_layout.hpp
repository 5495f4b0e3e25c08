// plugins/s3/s3_layout.hpp — where each record of a batch goes: partitions and object keys.
//
// The layout is Mixpanel's JSON pipelines' (DESIGN.md §6, docs/s3.md):
//
//   <prefix>/<project>/mp_master_event/<YYYY>/<MM>/<DD>/<HH>/<pipeline>-<seq:12>-<part:4><ext>
//   <prefix>/<project>/mp_master_event/<YYYY>/<MM>/<DD>/<pipeline>-<seq:12>-<part:4><ext>  (daily)
//   <prefix>/<project>/mp_people_data/<pipeline>-<seq:12>-<part:4><ext>
//   <prefix>/<project>/mp_identity_mappings_data/<pipeline>-<seq:12>-<part:4><ext>
//
// Events go to the partition of their own event time (the batch's per-record event_time_ms,
// no JSON parsing) in the configured time zone, so a late event lands in its event-time hour.
// Users and identities are not partitioned: each batch adds incremental files whose names sort
// in export order. Keys depend only on (prefix, project, stream, pipeline, batch_seq, the
// records and the layout settings), so replaying a batch yields exactly the same keys.
//
//   WEIR_ASSIGN_OR_RETURN(auto partitioner, Partitioner::Make(Granularity::kHourly, "UTC"));
//   WEIR_ASSIGN_OR_RETURN(auto spans, RecordSpans::Of(batch));
//   WEIR_ASSIGN_OR_RETURN(auto plans, PlanObjects(spec, &partitioner, spans,
//   batch.raw()->event_time_ms));
#ifndef WEIR_S3_S3_LAYOUT_HPP
#define WEIR_S3_S3_LAYOUT_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "s3_config.hpp"
#include "weir/plugin.hpp"

namespace date {
class time_zone;
}

namespace weir::s3 {

/// A calendar partition: local year, month, day and (hourly) hour. Ordered by time.
struct PartitionId {
  int32_t year = 0;
  uint32_t month = 0, day = 0, hour = 0;
  /// A single sortable number (yyyymmddhh), for grouping.
  int64_t Packed() const {
    return ((static_cast<int64_t>(year) * 100 + month) * 100 + day) * 100 + hour;
  }
};

/// Maps event times to partitions in one IANA time zone. Not thread-safe (it caches the last
/// partition's UTC interval, which makes time-ordered records cost two comparisons each).
class Partitioner {
 public:
  /// Fails (WEIR_INVALID_CONFIG) for an unknown zone name.
  static Result<Partitioner> Make(Granularity granularity, const std::string& time_zone);

  /// The partition of an event time (ms since the epoch, UTC).
  PartitionId Of(int64_t event_time_ms);
  /// "2026/11/22/10" (hourly) or "2026/11/22" (daily).
  std::string Label(const PartitionId& id) const;
  Granularity granularity() const { return granularity_; }

 private:
  Partitioner(Granularity granularity, const date::time_zone* zone)
      : granularity_(granularity), zone_(zone) {}
  void Fill(int64_t event_time_ms);

  Granularity granularity_;
  const date::time_zone* zone_;  ///< nullptr: UTC, plain arithmetic
  // Cache: every time in [cached_begin_, cached_end_) (UTC ms) maps to cached_.
  int64_t cached_begin_ = 1, cached_end_ = 0;
  PartitionId cached_;
};

/// Record boundaries of a batch: record i spans data[offsets[i], offsets[i+1]). Taken from the
/// batch when it carries offsets, else found by scanning for '\n'.
struct RecordSpans {
  std::string_view data;
  std::vector<size_t> offsets;  ///< count + 1 entries
  size_t count() const { return offsets.size() - 1; }
  /// Bytes of record i including its newline (one is added on output when missing).
  uint64_t Bytes(size_t i) const;
  /// Fails (not retryable) when the offsets or the record count are inconsistent.
  static Result<RecordSpans> Of(const BatchView& batch);
};

/// The folder of a stream below the project: "mp_master_event", "mp_people_data",
/// "mp_identity_mappings_data"; empty for an unknown stream.
std::string_view StreamFolder(std::string_view stream);

/// A run of consecutive records [begin, end) of the batch.
struct RecordRun {
  size_t begin = 0, end = 0;
};

/// One object to write: its key and the records it holds, in batch order.
struct ObjectPlan {
  std::string key;
  std::vector<RecordRun> runs;
  uint64_t bytes = 0;  ///< uncompressed, newlines included
  size_t records = 0;
};

/// Everything besides the records that decides the keys.
struct LayoutSpec {
  std::string prefix;    ///< "a/b" or "" (no leading or trailing '/')
  std::string project;   ///< one key segment
  std::string stream;    ///< "events", "users" or "identities"
  std::string pipeline;  ///< one key segment
  uint64_t batch_seq = 0;
  std::string extension;  ///< ".json.gz", ".json.zst" or ".json"
  uint64_t max_object_bytes = kDefaultMaxObjectBytes;
};

/// "<pipeline>-<batch_seq:12>-<part:4><extension>".
std::string ObjectName(std::string_view pipeline, uint64_t batch_seq, uint64_t part,
                       std::string_view extension);

/// Splits the batch into objects: events by partition (in time order of the partitions), then
/// every group into parts of at most max_object_bytes at record boundaries (a single larger
/// record gets an object of its own), balanced so a group of B bytes becomes
/// ceil(B / max_object_bytes) parts of similar size. Records keep their batch order within an
/// object. `partitioner` is used for events only (may be null otherwise). Deterministic.
Result<std::vector<ObjectPlan>> PlanObjects(const LayoutSpec& spec, Partitioner* partitioner,
                                            const RecordSpans& spans, const int64_t* event_time_ms);

}  // namespace weir::s3

#endif  // WEIR_S3_S3_LAYOUT_HPP
