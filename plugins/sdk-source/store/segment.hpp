// plugins/sdk-source/store/segment.hpp — one segment file and its in-memory index (private).
//
// The index is never stored: it is rebuilt by walking the record headers (payloads are skipped
// by length), lazily, the first time a read needs the segment, and extended when the published
// COMMITTED seq moves. It holds the segment's seq range, event-time range, newest ingest time
// and a sparse seq -> offset table (one entry per ~64 KiB) that a seek binary-searches.
// Every byte below `end` is a complete, durable record, so readers walk [offset, end) through
// the memory map without any lock.
#ifndef WEIR_SDK_SOURCE_STORE_SEGMENT_HPP
#define WEIR_SDK_SOURCE_STORE_SEGMENT_HPP

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "store/file_io.hpp"
#include "store/format.hpp"
#include "store/store.hpp"

namespace weir::sdksource {

struct SparseEntry {
  uint64_t seq = 0;
  uint64_t offset = 0;
};

/// A segment and its index. Mutable fields are guarded by the owning store's index mutex;
/// `map` is shared so a read can keep walking it after the lock is released (or the file is
/// deleted by retention).
struct Segment {
  Stream stream = Stream::kEvents;
  uint64_t first_seq = 0;
  std::filesystem::path path;

  /// Offset just past the last indexed record; 0 until the segment header has been checked.
  uint64_t end = 0;
  uint64_t count = 0;
  uint64_t last_seq = 0;
  int64_t min_event_ms = std::numeric_limits<int64_t>::max();
  int64_t max_event_ms = std::numeric_limits<int64_t>::min();
  int64_t max_ingest_ms = std::numeric_limits<int64_t>::min();
  std::vector<SparseEntry> sparse;
  /// Nothing more will be indexed by scanning: the segment is sealed (a later segment's first
  /// seq is already committed), or the writer maintains the index itself.
  bool final = false;
  /// The committed seq the last scan was bounded by (readers rescan when COMMITTED moves).
  uint64_t scanned_upto = 0;
  /// The file was deleted (retention in this or another process); reads skip it.
  bool missing = false;
  std::shared_ptr<const Mapping> map;

  /// Records one more indexed record that starts at `offset` and ends at `next_end`.
  void Add(const format::RecordHeader& h, uint64_t offset, uint64_t next_end) {
    if (sparse.empty() || offset - sparse.back().offset >= format::kSparseIndexStride) {
      sparse.push_back({h.seq, offset});
    }
    ++count;
    last_seq = h.seq;
    if (h.event_ms < min_event_ms) min_event_ms = h.event_ms;
    if (h.event_ms > max_event_ms) max_event_ms = h.event_ms;
    if (h.ingest_ms > max_ingest_ms) max_ingest_ms = h.ingest_ms;
    end = next_end;
  }

  /// The offset to start walking from to find the first record with seq > after_seq.
  uint64_t SeekAfter(uint64_t after_seq) const;
};

/// How a scan ended.
struct ScanOutcome {
  enum class Stop {
    kEndOfFile,   ///< every byte of the file was indexed
    kSeqBound,    ///< the next record's seq is above ScanOptions::max_seq
    kIncomplete,  ///< the file ends inside a segment header, record header or payload
    kCorrupt,     ///< bad magic, seq out of order, or checksum mismatch (see `reason`)
  };
  Stop stop = Stop::kEndOfFile;
  /// Where the first record that was not indexed starts (== Segment::end, or 0 when even the
  /// segment header is incomplete).
  uint64_t stop_offset = 0;
  /// The file size seen by the scan.
  uint64_t file_size = 0;
  std::string reason;
};

struct ScanOptions {
  /// Records with a larger seq are left unindexed (readers: the published COMMITTED).
  uint64_t max_seq = std::numeric_limits<uint64_t>::max();
  /// Records with a larger seq are checksummed (writer recovery: those not known durable).
  uint64_t verify_above_seq = std::numeric_limits<uint64_t>::max();
  /// Map at least this many bytes, so a growing live segment is not remapped on every scan.
  uint64_t map_capacity_hint = 0;
};

/// Extends `seg`'s index from seg.end by walking record headers. A missing file sets
/// seg.missing and succeeds. A file shorter than a segment header stops as kIncomplete at
/// offset 0, a wrong segment header as kCorrupt at offset 0. The first record must carry the
/// seq in the file name, and seqs must increase.
Result<ScanOutcome> ScanSegment(Segment& seg, const ScanOptions& options);

/// Makes sure seg.map covers at least `size` bytes of the file (remapping if it is too small).
Status EnsureMapped(Segment& seg, int fd, uint64_t size, uint64_t capacity_hint);

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_STORE_SEGMENT_HPP
