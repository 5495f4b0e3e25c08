// plugins/sdk-source/store/store.hpp — the durable event store behind the sdk-source plugin.
//
// One Store per project, in its own directory. Three append-only streams, each a series of
// segment files:
//   events      canonical events, as the collector normalized them (DESIGN.md §2)
//   users       full profile snapshots: every applied profile operation appends the profile's
//               complete new state {"distinct_id","updated_at","properties":{…}} (or a delete
//               marker {"distinct_id","updated_at","deleted":true}), so the stream is an
//               immutable log and the same (from, to] always yields the same records
//   identities  {"distinct_id","user_id","time"} mappings from identify/alias calls
// Every record gets an ingest sequence from ONE counter shared by the three streams (monotonic
// per store; a stream's seqs have gaps), its ingest time, and its event time (for users: the
// operation's time; it becomes updated_at). Event and ingest time sit in the record header, so
// reading never parses JSON.
//
// Durability: Append() returns only after the records are fsync'd; concurrent appenders share
// one fsync (group commit). On Open() a torn tail (a record cut by a crash, a bad checksum) is
// detected and cut; everything acknowledged survives.
//
//   auto store = Store::Open({.dir = "/var/lib/weir/sdk-source/demo"});
//   auto seqs = (*store)->Append({Record::Event(json, time_ms)});   // durable on return
//   ReadResult out;
//   (*store)->Read(Stream::kEvents, {.after_seq = 0, .max_records = 1000}, out);
//
// The on-disk format, recovery rules and guarantees are in docs/sdk-source-store.md;
// store/store_stats.hpp exposes counters (fsyncs, group commits, torn tails cut, ...).
#ifndef WEIR_SDK_SOURCE_STORE_STORE_HPP
#define WEIR_SDK_SOURCE_STORE_STORE_HPP

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weir/plugin.hpp"

namespace weir::sdksource {

/// The one rule for project names, shared by the collector's and the source's configs: a project
/// names its store's directory (data_dir/<project>), so a name is 1 to 128 bytes of
/// [A-Za-z0-9_.-] and not "." or "..".
inline bool IsValidProjectName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name == "." || name == "..") return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}
/// IsValidProjectName's rule as error messages say it: "… is not a project name (<rule>)".
inline constexpr const char* kProjectNameRule =
    "it names a directory: 1 to 128 letters, digits, '_', '-' or '.', not '.' or '..'";

enum class Stream : uint8_t { kEvents = 0, kUsers = 1, kIdentities = 2 };
inline constexpr Stream kAllStreams[] = {Stream::kEvents, Stream::kUsers, Stream::kIdentities};
const char* StreamName(Stream s);  ///< "events", "users", "identities"
std::optional<Stream> StreamFromName(std::string_view name);

/// One profile operation from /engage, identify traits or /v1/users (Mixpanel semantics).
struct ProfileOp {
  enum class Kind { kSet, kSetOnce, kUnset, kAdd, kAppend, kUnion, kRemove, kDelete };
  Kind kind = Kind::kSet;
  /// The operation's argument as JSON text: an object for $set/$set_once/$add/$append/$union/
  /// $remove ({"prop": value, ...}), an array of property names for $unset, ignored for $delete.
  std::string argument_json;
};

/// What the collector appends.
struct Record {
  Stream stream = Stream::kEvents;
  int64_t event_time_ms = 0;
  /// events / identities: the canonical record, one JSON object, no newline.
  std::string json;
  /// users only: the profile and the operations to apply in order (json is ignored).
  std::string distinct_id;
  std::vector<ProfileOp> ops;

  static Record Event(std::string json, int64_t time_ms) {
    return Record{Stream::kEvents, time_ms, std::move(json), {}, {}};
  }
  static Record Identity(std::string json, int64_t time_ms) {
    return Record{Stream::kIdentities, time_ms, std::move(json), {}, {}};
  }
  static Record Profile(std::string distinct_id, std::vector<ProfileOp> ops, int64_t time_ms) {
    return Record{Stream::kUsers, time_ms, {}, std::move(distinct_id), std::move(ops)};
  }
};

/// A record read back. `json` points into memory owned by the Read() call's output buffer.
struct StoredRecord {
  uint64_t seq = 0;
  int64_t ingest_time_ms = 0;
  int64_t event_time_ms = 0;
  std::string_view json;
};

/// Bounds of a read. A record is returned when after_seq < seq (and seq <= upto_seq when
/// upto_seq != 0), and, for window reads, window_start_ms <= event time < window_end_ms and
/// seq < before_seq (when before_seq != 0). Results are in seq order. At least one record is
/// returned if any matches, even if it alone exceeds max_bytes; 0 limits mean none.
struct ReadBounds {
  uint64_t after_seq = 0;
  uint64_t upto_seq = 0;
  bool window = false;
  int64_t window_start_ms = 0;
  int64_t window_end_ms = 0;
  uint64_t before_seq = 0;
  uint64_t max_records = 0;
  uint64_t max_bytes = 0;  ///< counted as the JSON bytes plus one newline each
};

/// Output of Read(): records whose json views point into `arena`. The arena is exactly the
/// records as NDJSON (each json followed by one '\n', in order), so it can be handed on as a
/// batch body without another copy; its size is what max_bytes counted. Reuse one ReadResult
/// across reads to keep its buffers.
struct ReadResult {
  std::string arena;
  std::vector<StoredRecord> records;
  void Clear() {
    arena.clear();
    records.clear();
  }
};

struct StoreOptions {
  std::filesystem::path dir;
  /// Segments roll over at this size.
  uint64_t segment_bytes = 64ull << 20;
  /// events and identities segments whose newest record was ingested more than this many days
  /// ago are deleted by ApplyRetention(); 0 keeps everything. Users snapshots are profile state
  /// and are not subject to retention.
  int retention_days = 0;
  /// How long the group-commit leader waits for more appenders before its fsync.
  std::chrono::microseconds group_commit_window{500};
  /// Clock for ingest time (tests inject one).
  std::function<int64_t()> now_ms;
};

struct SeqRange {
  uint64_t first = 0;  ///< seq of the first appended record; 0 when nothing was appended
  uint64_t last = 0;
};

/// Thread-safe: any number of threads may Append and Read concurrently.
///
/// Writer and readers: one process owns a store directory for writing (Open(): an flock on
/// <dir>/LOCK; a second writer fails with a clear error naming the holder's pid). Any number of
/// other processes may OpenReadOnly() it at the same time (the `weir run` reading while the
/// collector writes). The writer publishes the highest durable seq in <dir>/COMMITTED after
/// each group fsync; readers never return a record above it, so a record that a machine crash
/// could still take away is never exported.
class Store {
 public:
  virtual ~Store() = default;

  /// Opens (creating if needed) for writing: takes the lock, cuts a torn tail, rebuilds the
  /// in-memory profile state from the users stream.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  /// Opens for reading only; Append/ApplyRetention fail, Profile returns nullopt. Fails with a
  /// clear error if the directory holds no store.
  static Result<std::unique_ptr<Store>> OpenReadOnly(const StoreOptions& options);

  /// Appends all records in order under consecutive seqs and returns once they are durable.
  /// Records are checked first (events/identities: non-empty JSON without a raw newline, at
  /// most 1 GiB; users: a non-empty UTF-8 distinct_id and well-formed op arguments); a bad one
  /// fails the whole call with a message naming its index, and nothing is stored. After a
  /// write or fsync failure the store refuses every later Append (reopen to recover).
  /// All-or-nothing towards the caller: on error nothing is acknowledged (records may still be
  /// on disk and appear to readers after a restart; the collector's dedupe key is insert_id).
  /// Profile records are applied to the current profile state; an op that cannot apply (e.g.
  /// $add of a non-number) is skipped for that property, as Mixpanel does.
  virtual Result<SeqRange> Append(std::vector<Record> records) = 0;

  /// Reads records of `stream` within `bounds` into `out` (cleared first).
  virtual Status Read(Stream stream, const ReadBounds& bounds, ReadResult& out) const = 0;

  /// The highest durable (acknowledged) seq (0 for an empty store); for a reader, as last
  /// published by the writer.
  virtual uint64_t LastSeq() const = 0;

  /// The current profile of `distinct_id` as {"distinct_id","updated_at","properties":{…}},
  /// or nullopt if unknown or deleted.
  virtual std::optional<std::string> Profile(std::string_view distinct_id) const = 0;

  /// Deletes events/identities segments past retention. Returns how many were deleted.
  virtual Result<int> ApplyRetention() = 0;

  /// True once a write or fsync failed: from then on every Append fails (with that first
  /// error) until the store is reopened. Cheap (one atomic load); false for a reader.
  virtual bool Broken() const = 0;
};

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_STORE_STORE_HPP
