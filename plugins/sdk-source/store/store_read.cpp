// plugins/sdk-source/store/store_read.cpp — reading a stream: choosing segments by seq and
// event-time range, indexing them lazily, and copying payloads into the caller's arena.
//
// A Read works in two phases. Under index_mu_ it refreshes a reader's view (when COMMITTED has
// moved), picks the segments that can hold matching records (binary search on first seq,
// then each segment's seq and event-time range) and notes, for each, its memory map and the
// byte range to walk (a sparse-index seek to after_seq, up to the indexed end). Then, without
// any lock, it walks those ranges header by header — no syscall per record, no JSON parsing —
// and finally copies the chosen payloads into one exactly-sized arena.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "store/format.hpp"
#include "store/store_impl.hpp"

namespace weir::sdksource {

Status StoreImpl::RefreshLocked() const {
  WEIR_ASSIGN_OR_RETURN(const uint64_t c, ReadCommittedFile());
  if (listed_ && c == committed_) return Status::OK();
  for (Stream s : kAllStreams) {
    SegmentList fresh;
    WEIR_RETURN_NOT_OK(ListSegments(s, fresh));
    // Keep the index already built for segments we knew; a name that vanished was removed by
    // retention (or by the writer's recovery), and a re-created name starts afresh.
    SegmentList& known = segments_[static_cast<size_t>(s)];
    for (auto& seg : fresh) {
      auto it = std::lower_bound(known.begin(), known.end(), seg->first_seq,
                                 [](const auto& k, uint64_t f) { return k->first_seq < f; });
      if (it != known.end() && (*it)->first_seq == seg->first_seq && !(*it)->missing) seg = *it;
    }
    known = std::move(fresh);
  }
  committed_ = c;
  listed_ = true;
  return Status::OK();
}

Status StoreImpl::EnsureIndexedLocked(Segment& seg, const Segment* next) const {
  if (seg.final || seg.missing) return Status::OK();
  const uint64_t c = committed_;
  if (seg.scanned_upto == c) return Status::OK();
  ScanOptions scan;
  scan.max_seq = c;
  scan.map_capacity_hint = next == nullptr ? options_.segment_bytes : 0;
  WEIR_ASSIGN_OR_RETURN(const ScanOutcome outcome, ScanSegment(seg, scan));
  ++segments_scanned_;
  if (seg.missing) return Status::OK();
  // A segment is sealed once a later one starts at or below COMMITTED: all of its records are
  // then committed, so anything but a clean end of file is corruption, not a write in flight.
  const bool sealed = next != nullptr && next->first_seq <= c;
  if (sealed && outcome.stop != ScanOutcome::Stop::kEndOfFile) {
    return Status::Error("store: " + seg.path.string() + " is corrupt at offset " +
                         std::to_string(outcome.stop_offset) + " (" + outcome.reason + ")");
  }
  seg.scanned_upto = c;
  if (sealed) seg.final = true;
  return Status::OK();
}

Status StoreImpl::Read(Stream stream, const ReadBounds& bounds, ReadResult& out) const {
  out.Clear();
  const auto si = static_cast<size_t>(stream);
  if (si >= segments_.size()) {
    return Status::Error("store: unknown stream " + std::to_string(static_cast<int>(stream)));
  }

  struct Piece {
    std::shared_ptr<const Mapping> map;
    uint64_t begin;
    uint64_t end;
  };
  std::vector<Piece> pieces;
  const uint64_t after = bounds.after_seq;
  uint64_t hi;
  {
    std::lock_guard lock(index_mu_);
    if (read_only_) WEIR_RETURN_NOT_OK(RefreshLocked());
    hi = committed_;
    if (bounds.upto_seq != 0) hi = std::min(hi, bounds.upto_seq);
    if (bounds.window && bounds.before_seq != 0) hi = std::min(hi, bounds.before_seq - 1);
    if (hi <= after) return Status::OK();

    SegmentList& segs = segments_[si];
    // The last segment starting at or below after_seq may still hold seqs above it.
    auto it = std::upper_bound(segs.begin(), segs.end(), after,
                               [](uint64_t a, const auto& s) { return a < s->first_seq; });
    size_t i = it == segs.begin() ? 0 : static_cast<size_t>(it - segs.begin()) - 1;
    for (; i < segs.size() && segs[i]->first_seq <= hi; ++i) {
      Segment& seg = *segs[i];
      WEIR_RETURN_NOT_OK(
          EnsureIndexedLocked(seg, i + 1 < segs.size() ? segs[i + 1].get() : nullptr));
      if (seg.missing || seg.count == 0 || seg.last_seq <= after) continue;
      if (bounds.window &&
          (seg.max_event_ms < bounds.window_start_ms || seg.min_event_ms >= bounds.window_end_ms)) {
        ++segments_skipped_by_time_;
        continue;
      }
      if (!seg.map || seg.map->capacity() < seg.end) {
        // The writer's own new segments are not mapped until first read.
        WEIR_ASSIGN_OR_RETURN(std::optional<UniqueFd> fd, OpenIfExists(seg.path, O_RDONLY));
        if (!fd) {
          seg.missing = true;
          continue;
        }
        WEIR_RETURN_NOT_OK(EnsureMapped(seg, fd->get(), seg.end,
                                        i + 1 == segs.size() ? options_.segment_bytes : 0));
      }
      pieces.push_back({seg.map, seg.SeekAfter(after), seg.end});
    }
  }

  // Walk the headers and choose records; json views point into the maps for now.
  const uint64_t max_records =
      bounds.max_records == 0 ? std::numeric_limits<uint64_t>::max() : bounds.max_records;
  const uint64_t max_bytes =
      bounds.max_bytes == 0 ? std::numeric_limits<uint64_t>::max() : bounds.max_bytes;
  uint64_t bytes = 0;  // JSON + one newline each, as the limit counts them
  bool done = false;
  for (const Piece& piece : pieces) {
    const char* base = piece.map->data();
    uint64_t off = piece.begin;
    while (off < piece.end) {
      const char* h = base + off;
      const auto seq = format::GetLe<uint64_t>(h + 8);
      const auto len = format::GetLe<uint32_t>(h + 32);
      const uint64_t next = off + format::kRecordHeaderSize + len;
      if (seq > after) {
        if (seq > hi) {
          done = true;
          break;
        }
        const auto event_ms = format::GetLe<int64_t>(h + 24);
        if (!bounds.window ||
            (event_ms >= bounds.window_start_ms && event_ms < bounds.window_end_ms)) {
          if (out.records.size() >= max_records ||
              (!out.records.empty() && bytes + len + 1 > max_bytes)) {
            done = true;
            break;
          }
          out.records.push_back({seq, format::GetLe<int64_t>(h + 16), event_ms,
                                 std::string_view(h + format::kRecordHeaderSize, len)});
          bytes += len + 1;
        }
      }
      off = next;
    }
    if (done) break;
  }

  // One exactly-sized arena: NDJSON, each payload followed by '\n'.
  out.arena.reserve(bytes);
  for (StoredRecord& r : out.records) {
    const size_t pos = out.arena.size();
    out.arena.append(r.json);
    out.arena.push_back('\n');
    r.json = std::string_view(out.arena.data() + pos, r.json.size());
  }
  return Status::OK();
}

uint64_t StoreImpl::LastSeq() const {
  if (!read_only_) return published_.load();
  if (auto c = ReadCommittedFile(); c.ok()) return *c;
  std::lock_guard lock(index_mu_);
  return committed_;
}

std::optional<std::string> StoreImpl::Profile(std::string_view distinct_id) const {
  if (read_only_) return std::nullopt;
  std::lock_guard lock(profiles_mu_);
  return profiles_.Get(distinct_id);
}

}  // namespace weir::sdksource
