// plugins/sdk-source/store/store_open.cpp — opening a store: the writer's lock, torn-tail
// recovery and profile rebuild; the reader's checks; stream names and counters.
//
// Recovery trusts COMMITTED as a lower bound of what is durable and acknowledged: every record
// above it is checksummed, and the first record that is incomplete or fails a check ends its
// segment (the file is truncated there; a segment left without records is removed). Records
// above COMMITTED that are intact were written by a process that died before acknowledging
// them; they are kept (made durable here) and COMMITTED moves to the highest recovered seq,
// which is at-least-once for the client, who dedupes by insert_id. A cut that would remove a
// record at or below COMMITTED is corruption of acknowledged data: Open refuses instead.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "store/format.hpp"
#include "store/store_impl.hpp"

namespace weir::sdksource {

const char* StreamName(Stream s) {
  switch (s) {
    case Stream::kEvents:
      return "events";
    case Stream::kUsers:
      return "users";
    case Stream::kIdentities:
      return "identities";
  }
  return "unknown";
}

std::optional<Stream> StreamFromName(std::string_view name) {
  for (Stream s : kAllStreams) {
    if (name == StreamName(s)) return s;
  }
  return std::nullopt;
}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.dir.empty()) return Status::InvalidConfig("store: no directory given");
  if (options.segment_bytes == 0) return Status::InvalidConfig("store: segment_bytes must be > 0");
  auto store = std::make_unique<StoreImpl>(options, /*read_only=*/false);
  WEIR_RETURN_NOT_OK(store->OpenWriter());
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> Store::OpenReadOnly(const StoreOptions& options) {
  if (options.dir.empty()) return Status::InvalidConfig("store: no directory given");
  auto store = std::make_unique<StoreImpl>(options, /*read_only=*/true);
  WEIR_RETURN_NOT_OK(store->OpenReader());
  return std::unique_ptr<Store>(std::move(store));
}

StoreStats GetStoreStats(const Store& store) {
  if (const auto* impl = dynamic_cast<const StoreImpl*>(&store)) return impl->Stats();
  return {};
}

StoreImpl::StoreImpl(const StoreOptions& options, bool read_only)
    : options_(options), read_only_(read_only) {}

std::filesystem::path StoreImpl::StreamDir(Stream s) const { return options_.dir / StreamName(s); }

int64_t StoreImpl::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StoreStats StoreImpl::Stats() const {
  StoreStats s;
  s.append_calls = append_calls_.load();
  s.appended_records = appended_records_.load();
  s.group_commits = group_commits_.load();
  s.fsyncs = fsyncs_.load();
  s.segments_created = segments_created_.load();
  s.segments_scanned = segments_scanned_.load();
  s.segments_skipped_by_time = segments_skipped_by_time_.load();
  s.segments_deleted = segments_deleted_.load();
  s.torn_tails_cut = torn_tails_cut_.load();
  s.torn_bytes_cut = torn_bytes_cut_.load();
  {
    std::lock_guard lock(profiles_mu_);
    s.profiles = profiles_.size();
  }
  return s;
}

Status StoreImpl::TakeLock() {
  const auto path = options_.dir / format::kLockFileName;
  WEIR_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDWR | O_CREAT));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return IoError("flock", path, errno);
    char buf[32] = {};
    auto n = PreadUpTo(fd.get(), buf, sizeof(buf) - 1, 0, path);
    std::string pid = n.ok() ? std::string(buf, *n) : std::string();
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    if (pid.empty()) pid = "unknown";
    return Status::Error("store " + options_.dir.string() + " is already open for writing by pid " +
                         pid);
  }
  if (::ftruncate(fd.get(), 0) != 0) return IoError("ftruncate", path, errno);
  WEIR_RETURN_NOT_OK(PwriteAll(fd.get(), std::to_string(::getpid()) + "\n", 0, path));
  lock_fd_ = std::move(fd);
  return Status::OK();
}

Status StoreImpl::ListSegments(Stream s, SegmentList& out) const {
  out.clear();
  const auto dir = StreamDir(s);
  WEIR_ASSIGN_OR_RETURN(auto names, ListDirectory(dir));
  for (const std::string& name : names) {
    auto first = format::ParseSegmentFileName(name);
    if (!first) continue;  // not ours (editor backups, lost+found, ...)
    auto seg = std::make_shared<Segment>();
    seg->stream = s;
    seg->first_seq = *first;
    seg->path = dir / name;
    out.push_back(std::move(seg));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a->first_seq < b->first_seq; });
  return Status::OK();
}

Result<uint64_t> StoreImpl::ReadCommittedFile() const {
  const auto path = options_.dir / format::kCommittedFileName;
  // The writer rewrites the 16 bytes in place; a read that overlaps the pwrite can see half of
  // each value, which the complement check catches. Retrying is then bound to succeed quickly.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    char buf[format::kCommittedFileSize];
    WEIR_ASSIGN_OR_RETURN(const size_t n,
                          PreadUpTo(committed_fd_.get(), buf, sizeof(buf), 0, path));
    if (n < sizeof(buf)) return uint64_t{0};  // the writer is creating the store
    if (auto seq = format::DecodeCommitted(buf)) return *seq;
    std::this_thread::yield();
  }
  return Status::Error("store: " + path.string() + " is corrupt (its two halves disagree)");
}

Status StoreImpl::OpenReader() {
  const auto path = options_.dir / format::kCommittedFileName;
  WEIR_ASSIGN_OR_RETURN(std::optional<UniqueFd> fd, OpenIfExists(path, O_RDONLY));
  if (!fd) {
    return Status::Error("store: " + options_.dir.string() +
                         " holds no sdk-source store (no COMMITTED file)");
  }
  committed_fd_ = std::move(*fd);
  std::lock_guard lock(index_mu_);
  return RefreshLocked();
}

Status StoreImpl::OpenWriter() {
  WEIR_RETURN_NOT_OK(MakeDirectories(options_.dir));
  WEIR_RETURN_NOT_OK(TakeLock());

  const auto committed_path = options_.dir / format::kCommittedFileName;
  bool created = !std::filesystem::exists(committed_path);
  for (Stream s : kAllStreams) {
    if (!std::filesystem::exists(StreamDir(s))) {
      WEIR_RETURN_NOT_OK(MakeDirectories(StreamDir(s)));
      created = true;
    }
  }
  WEIR_ASSIGN_OR_RETURN(committed_fd_, OpenFile(committed_path, O_RDWR | O_CREAT));
  uint64_t committed_on_disk = 0;
  {
    char buf[format::kCommittedFileSize];
    WEIR_ASSIGN_OR_RETURN(const size_t n,
                          PreadUpTo(committed_fd_.get(), buf, sizeof(buf), 0, committed_path));
    // A short or torn COMMITTED (a crash while creating or rewriting it) only means recovery
    // checks more records: 0 makes every record "not known durable".
    if (n == sizeof(buf)) committed_on_disk = format::DecodeCommitted(buf).value_or(0);
  }
  {
    std::lock_guard lock(index_mu_);
    for (Stream s : kAllStreams) {
      WEIR_RETURN_NOT_OK(ListSegments(s, segments_[static_cast<size_t>(s)]));
    }
    listed_ = true;
    WEIR_RETURN_NOT_OK(Recover(committed_on_disk));
  }
  if (created) WEIR_RETURN_NOT_OK(SyncDirectory(options_.dir));
  return RebuildProfiles();
}

Status StoreImpl::Recover(uint64_t committed_on_disk) {
  const uint64_t c = committed_on_disk;
  uint64_t max_seq = c;
  for (Stream s : kAllStreams) {
    SegmentList& segs = segments_[static_cast<size_t>(s)];
    // Segments before `start` end below the next one's first seq <= c + 1: all acknowledged.
    size_t start = 0;
    for (size_t i = 0; i < segs.size(); ++i) {
      if (segs[i]->first_seq <= c + 1) start = i;
    }
    bool removed_any = false;
    for (size_t i = start; i < segs.size(); ++i) {
      Segment& seg = *segs[i];
      const bool last = i + 1 == segs.size();
      const Segment* next = last ? nullptr : segs[i + 1].get();
      ScanOptions scan;
      scan.verify_above_seq = c;
      scan.map_capacity_hint = last ? options_.segment_bytes : 0;
      WEIR_ASSIGN_OR_RETURN(const ScanOutcome outcome, ScanSegment(seg, scan));
      ++segments_scanned_;
      if (seg.missing) continue;
      const bool cut = outcome.stop != ScanOutcome::Stop::kEndOfFile;
      if (cut &&
          ((next != nullptr && next->first_seq <= c) || (seg.count == 0 && seg.first_seq <= c))) {
        return Status::Error("store: " + seg.path.string() + " is corrupt at offset " +
                             std::to_string(outcome.stop_offset) + " (" + outcome.reason +
                             "), inside acknowledged records (COMMITTED is " + std::to_string(c) +
                             "); refusing to cut it");
      }
      if (cut) {
        ++torn_tails_cut_;
        torn_bytes_cut_ += outcome.file_size - outcome.stop_offset;
      }
      if (seg.count == 0) {
        // Not even one intact record: the segment was being created when the writer died.
        if (::unlink(seg.path.c_str()) != 0 && errno != ENOENT) {
          return IoError("unlink", seg.path, errno);
        }
        seg.missing = true;
        removed_any = true;
        continue;
      }
      if (cut || seg.last_seq > c) {
        // Truncate the torn tail, and make the intact unacknowledged records durable before
        // COMMITTED covers them.
        WEIR_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(seg.path, O_WRONLY));
        if (cut && ::ftruncate(fd.get(), static_cast<off_t>(outcome.stop_offset)) != 0) {
          return IoError("ftruncate", seg.path, errno);
        }
        WEIR_RETURN_NOT_OK(FullSync(fd.get(), seg.path));
        ++fsyncs_;
      }
      seg.final = true;
      max_seq = std::max(max_seq, seg.last_seq);
    }
    if (removed_any) {
      std::erase_if(segs, [](const auto& p) { return p->missing; });
      WEIR_RETURN_NOT_OK(SyncDirectory(StreamDir(s)));
      ++fsyncs_;
    }
    if (segs.empty()) continue;
    // The last segment becomes the live one; it needs a full index (it may precede `start` if
    // every later segment was removed above).
    Segment& tail = *segs.back();
    if (!tail.final) {
      ScanOptions scan;
      scan.map_capacity_hint = options_.segment_bytes;
      WEIR_ASSIGN_OR_RETURN(const ScanOutcome outcome, ScanSegment(tail, scan));
      ++segments_scanned_;
      if (tail.missing || outcome.stop != ScanOutcome::Stop::kEndOfFile) {
        return Status::Error("store: " + tail.path.string() + " is corrupt at offset " +
                             std::to_string(outcome.stop_offset) + " (" +
                             (tail.missing ? std::string("file vanished") : outcome.reason) + ")");
      }
      tail.final = true;
      max_seq = std::max(max_seq, tail.last_seq);
    }
    LiveSegment& live = live_[static_cast<size_t>(s)];
    WEIR_ASSIGN_OR_RETURN(live.fd, OpenFile(tail.path, O_WRONLY | O_APPEND));
    live.segment = segs.back();
    live.size = tail.end;
    live.records = tail.count;
  }

  next_seq_ = max_seq + 1;
  committed_ = max_seq;
  published_.store(max_seq);
  char buf[format::kCommittedFileSize];
  format::EncodeCommitted(max_seq, buf);
  const auto committed_path = options_.dir / format::kCommittedFileName;
  WEIR_RETURN_NOT_OK(
      PwriteAll(committed_fd_.get(), std::string_view(buf, sizeof(buf)), 0, committed_path));
  WEIR_RETURN_NOT_OK(FullSync(committed_fd_.get(), committed_path));
  return Status::OK();
}

Status StoreImpl::RebuildProfiles() {
  ReadResult result;
  ReadBounds bounds;
  bounds.max_bytes = 16ull << 20;
  std::lock_guard lock(profiles_mu_);
  while (true) {
    WEIR_RETURN_NOT_OK(Read(Stream::kUsers, bounds, result));
    if (result.records.empty()) return Status::OK();
    for (const StoredRecord& r : result.records) {
      if (Status st = profiles_.Replay(r.json); !st.ok()) {
        return st.WithContext("store: " + StreamDir(Stream::kUsers).string() + " seq " +
                              std::to_string(r.seq));
      }
    }
    bounds.after_seq = result.records.back().seq;
  }
}

}  // namespace weir::sdksource
