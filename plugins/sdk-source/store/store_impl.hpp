// plugins/sdk-source/store/store_impl.hpp — the segment-file Store (private).
//
// One class serves both roles. The writer (Open) holds <dir>/LOCK, recovers torn tails,
// owns the live segment of each stream and runs group commit; a reader (OpenReadOnly) never
// writes anything and refreshes its view of the segment files whenever <dir>/COMMITTED moves.
// The implementation is split by concern:
//   store_open.cpp    Open/OpenReadOnly, locking, torn-tail recovery, profile rebuild
//   store_append.cpp  Append: seq assignment, group commit, publishing COMMITTED, retention
//   store_read.cpp    Read: segment selection, lazy indexing, copying payloads
//
// Locks: append_mu_ guards the queue, seq assignment and the profile table; whoever is the
// group-commit leader (leader_active_) alone touches live_; index_mu_ guards the segment lists
// and every Segment's index fields. Order: append_mu_ before index_mu_, never the reverse.
#ifndef WEIR_SDK_SOURCE_STORE_STORE_IMPL_HPP
#define WEIR_SDK_SOURCE_STORE_STORE_IMPL_HPP

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/file_io.hpp"
#include "store/profiles.hpp"
#include "store/segment.hpp"
#include "store/store.hpp"
#include "store/store_stats.hpp"

namespace weir::sdksource {

class StoreImpl final : public Store {
 public:
  StoreImpl(const StoreOptions& options, bool read_only);
  ~StoreImpl() override = default;

  /// Writer open: lock, recover, rebuild profiles.
  Status OpenWriter();
  /// Reader open: check that the directory holds a store and list its segments.
  Status OpenReader();

  Result<SeqRange> Append(std::vector<Record> records) override;
  Status Read(Stream stream, const ReadBounds& bounds, ReadResult& out) const override;
  uint64_t LastSeq() const override;
  std::optional<std::string> Profile(std::string_view distinct_id) const override;
  Result<int> ApplyRetention() override;
  bool Broken() const override { return broken_flag_.load(std::memory_order_acquire); }

  StoreStats Stats() const;

 private:
  using SegmentList = std::vector<std::shared_ptr<Segment>>;

  /// One Append() call waiting in the group-commit queue.
  struct Batch {
    std::vector<Record> records;
    std::vector<uint32_t> payload_crcs;
    uint64_t first_seq = 0;
    int64_t ingest_ms = 0;
    bool done = false;
    Status status;
  };

  /// The segment each stream appends to; touched only by the group-commit leader.
  struct LiveSegment {
    UniqueFd fd;
    std::shared_ptr<Segment> segment;
    uint64_t size = 0;     ///< bytes in the file, including those buffered by the leader
    uint64_t records = 0;  ///< records in the file, likewise
  };

  std::filesystem::path StreamDir(Stream s) const;
  int64_t Now() const;

  // store_open.cpp
  Status TakeLock();
  Status ListSegments(Stream s, SegmentList& out) const;
  Status Recover(uint64_t committed_on_disk);
  Status RebuildProfiles();
  Result<uint64_t> ReadCommittedFile() const;

  // store_append.cpp
  void LeadGroupCommit(std::unique_lock<std::mutex>& lock);
  Status WriteGroup(const std::vector<Batch*>& group);

  // store_read.cpp
  Status RefreshLocked() const;
  Status EnsureIndexedLocked(Segment& seg, const Segment* next) const;

  StoreOptions options_;
  const bool read_only_;
  UniqueFd lock_fd_;
  UniqueFd committed_fd_;

  // Append path.
  std::mutex append_mu_;
  std::condition_variable append_cv_;
  std::deque<Batch*> queue_;
  bool leader_active_ = false;
  uint64_t next_seq_ = 1;
  /// The first write/fsync failure. After it the files' state is unknown (a failed fsync may
  /// have dropped dirty pages), so every later Append fails until the store is reopened,
  /// which recovers from what is really on disk.
  Status broken_;
  /// broken_ is not OK; readable without append_mu_ (Broken()).
  std::atomic<bool> broken_flag_{false};
  mutable std::mutex profiles_mu_;  ///< taken inside append_mu_; Profile() takes only this
  ProfileTable profiles_;
  std::array<LiveSegment, 3> live_;

  // Index.
  mutable std::mutex index_mu_;
  mutable std::array<SegmentList, 3> segments_;
  /// Highest durable seq (writer: as published; reader: as last read from COMMITTED).
  mutable uint64_t committed_ = 0;
  mutable bool listed_ = false;
  std::atomic<uint64_t> published_{0};

  // Counters (StoreStats).
  mutable std::atomic<uint64_t> append_calls_{0}, appended_records_{0}, group_commits_{0},
      fsyncs_{0}, segments_created_{0}, segments_scanned_{0}, segments_skipped_by_time_{0},
      segments_deleted_{0}, torn_tails_cut_{0}, torn_bytes_cut_{0};
};

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_STORE_STORE_IMPL_HPP
