// plugins/sdk-source/store/store_append.cpp — Append with group commit, and retention.
//
// An appender checks its records and hashes their payloads without any lock, then, under
// append_mu_, takes the next seqs, applies profile operations (so profile state follows seq
// order) and queues itself. If no leader is running it becomes the leader: it takes the whole
// queue, releases the lock, writes each touched segment file once, fdatasyncs each of them (and
// the stream directory when it created a segment), publishes COMMITTED, updates the in-memory
// index, and wakes everybody. Appenders that queued meanwhile form the next group, so N
// concurrent appenders cost far fewer than N fsyncs.
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "store/format.hpp"
#include "store/store_impl.hpp"

namespace weir::sdksource {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;

std::string RecordContext(size_t index, Stream stream) {
  return "store: record " + std::to_string(index) + " (" + StreamName(stream) + ")";
}

}  // namespace

Result<SeqRange> StoreImpl::Append(std::vector<Record> records) {
  if (read_only_) {
    return Status::Error("store: " + options_.dir.string() + " is open read-only; Append refused");
  }
  if (records.empty()) return SeqRange{};

  // Check and hash outside the lock: this is the per-byte work.
  const size_t n = records.size();
  Batch batch;
  batch.payload_crcs.resize(n);
  std::vector<std::vector<ParsedProfileOp>> ops(n);
  for (size_t i = 0; i < n; ++i) {
    const Record& r = records[i];
    switch (r.stream) {
      case Stream::kEvents:
      case Stream::kIdentities:
        if (r.json.empty()) return Status::Error(RecordContext(i, r.stream) + ": empty JSON");
        if (r.json.size() > format::kMaxPayloadBytes) {
          return Status::Error(RecordContext(i, r.stream) + ": " + std::to_string(r.json.size()) +
                               " bytes is over the limit of " +
                               std::to_string(format::kMaxPayloadBytes));
        }
        // Readers hand records out as NDJSON lines, so a raw newline would split one in two.
        if (r.json.find('\n') != std::string::npos) {
          return Status::Error(RecordContext(i, r.stream) + ": JSON contains a raw newline");
        }
        batch.payload_crcs[i] = format::PayloadCrc(r.json);
        break;
      case Stream::kUsers: {
        if (r.distinct_id.empty()) {
          return Status::Error(RecordContext(i, r.stream) + ": empty distinct_id");
        }
        if (!json::ValidUtf8(r.distinct_id)) {
          return Status::Error(RecordContext(i, r.stream) + ": distinct_id is not valid UTF-8");
        }
        auto parsed = ParseProfileOps(r.ops);
        if (!parsed.ok()) return parsed.status().WithContext(RecordContext(i, r.stream));
        ops[i] = std::move(parsed).value();
        break;
      }
      default:
        return Status::Error("store: record " + std::to_string(i) + ": unknown stream " +
                             std::to_string(static_cast<int>(r.stream)));
    }
  }
  batch.records = std::move(records);

  std::unique_lock lock(append_mu_);
  if (!broken_.ok()) return broken_;
  batch.first_seq = next_seq_;
  next_seq_ += n;
  batch.ingest_ms = Now();
  {
    std::lock_guard plock(profiles_mu_);
    for (size_t i = 0; i < n; ++i) {
      Record& r = batch.records[i];
      if (r.stream != Stream::kUsers) continue;
      r.json = profiles_.Apply(r.distinct_id, ops[i], r.event_time_ms);
      batch.payload_crcs[i] = format::PayloadCrc(r.json);
    }
  }
  ++append_calls_;
  appended_records_ += n;
  queue_.push_back(&batch);
  while (!batch.done) {
    if (!leader_active_) {
      LeadGroupCommit(lock);
    } else {
      append_cv_.wait(lock);
    }
  }
  if (!batch.status.ok()) return batch.status;
  return SeqRange{batch.first_seq, batch.first_seq + n - 1};
}

void StoreImpl::LeadGroupCommit(std::unique_lock<std::mutex>& lock) {
  leader_active_ = true;
  if (options_.group_commit_window.count() > 0) {
    lock.unlock();
    std::this_thread::sleep_for(options_.group_commit_window);
    lock.lock();
  }
  std::vector<Batch*> group(queue_.begin(), queue_.end());
  queue_.clear();
  Status status = broken_;
  lock.unlock();
  if (status.ok() && !group.empty()) status = WriteGroup(group);
  lock.lock();
  if (!status.ok() && broken_.ok()) {
    broken_ = status;
    broken_flag_.store(true, std::memory_order_release);
  }
  for (Batch* b : group) {
    b->status = status;
    b->done = true;
  }
  leader_active_ = false;
  append_cv_.notify_all();
}

Status StoreImpl::WriteGroup(const std::vector<Batch*>& group) {
  struct Pending {
    std::string buf;
    bool touched = false;   // the live file has bytes from this group (needs a sync)
    bool dir_sync = false;  // a segment was created in the stream directory
    std::vector<std::pair<UniqueFd, std::filesystem::path>> sealed;  // rolled-over files to sync
    std::vector<std::shared_ptr<Segment>> created;
  };
  struct IndexOp {
    Segment* segment;
    format::RecordHeader header;
    uint64_t offset;
    uint64_t next;
  };
  std::array<Pending, 3> pending;
  std::vector<IndexOp> index_ops;
  size_t total = 0;
  for (const Batch* b : group) total += b->records.size();
  index_ops.reserve(total);

  auto roll = [&](Stream s, uint64_t seq) -> Status {
    LiveSegment& live = live_[static_cast<size_t>(s)];
    Pending& p = pending[static_cast<size_t>(s)];
    if (live.fd.valid()) {
      if (!p.buf.empty()) {
        WEIR_RETURN_NOT_OK(WriteAll(live.fd.get(), p.buf, live.segment->path));
        p.buf.clear();
      }
      // A file untouched by this group was synced by the group that wrote it.
      if (p.touched) p.sealed.emplace_back(std::move(live.fd), live.segment->path);
      live.fd.reset();
    }
    auto seg = std::make_shared<Segment>();
    seg->stream = s;
    seg->first_seq = seq;
    seg->path = StreamDir(s) / format::SegmentFileName(seq);
    seg->end = format::kSegmentHeaderSize;
    seg->final = true;  // the writer maintains this index itself
    WEIR_ASSIGN_OR_RETURN(live.fd, OpenFile(seg->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND));
    format::AppendSegmentHeader(p.buf, s);
    live.segment = seg;
    live.size = format::kSegmentHeaderSize;
    live.records = 0;
    p.created.push_back(std::move(seg));
    p.dir_sync = true;
    p.touched = true;
    ++segments_created_;
    return Status::OK();
  };

  uint64_t last_seq = 0;
  for (Batch* b : group) {
    for (size_t i = 0; i < b->records.size(); ++i) {
      const Record& r = b->records[i];
      const uint64_t seq = b->first_seq + i;
      const auto si = static_cast<size_t>(r.stream);
      LiveSegment& live = live_[si];
      const uint64_t size = format::kRecordHeaderSize + r.json.size();
      if (!live.segment || (live.records > 0 && live.size + size > options_.segment_bytes)) {
        WEIR_RETURN_NOT_OK(roll(r.stream, seq));
      }
      format::AppendRecord(pending[si].buf, seq, b->ingest_ms, r.event_time_ms, r.json,
                           b->payload_crcs[i]);
      format::RecordHeader h;
      h.seq = seq;
      h.ingest_ms = b->ingest_ms;
      h.event_ms = r.event_time_ms;
      index_ops.push_back({live.segment.get(), h, live.size, live.size + size});
      live.size += size;
      ++live.records;
      pending[si].touched = true;
      last_seq = seq;
    }
  }

  for (Stream s : kAllStreams) {
    const auto si = static_cast<size_t>(s);
    Pending& p = pending[si];
    LiveSegment& live = live_[si];
    if (!p.buf.empty()) WEIR_RETURN_NOT_OK(WriteAll(live.fd.get(), p.buf, live.segment->path));
    for (auto& [fd, path] : p.sealed) {
      WEIR_RETURN_NOT_OK(DataSync(fd.get(), path));
      ++fsyncs_;
    }
    if (p.touched) {
      WEIR_RETURN_NOT_OK(DataSync(live.fd.get(), live.segment->path));
      ++fsyncs_;
    }
    if (p.dir_sync) {
      WEIR_RETURN_NOT_OK(SyncDirectory(StreamDir(s)));
      ++fsyncs_;
    }
  }
  ++group_commits_;

  // Publish: COMMITTED first (other processes), then the in-memory index (this process).
  // COMMITTED itself is not fsynced: after a machine crash recovery recomputes it, and a stale
  // value is only ever lower than the truth.
  char buf[format::kCommittedFileSize];
  format::EncodeCommitted(last_seq, buf);
  WEIR_RETURN_NOT_OK(PwriteAll(committed_fd_.get(), std::string_view(buf, sizeof(buf)), 0,
                               options_.dir / format::kCommittedFileName));
  {
    std::lock_guard ilock(index_mu_);
    for (Stream s : kAllStreams) {
      auto& list = segments_[static_cast<size_t>(s)];
      for (auto& seg : pending[static_cast<size_t>(s)].created) list.push_back(std::move(seg));
    }
    for (const IndexOp& op : index_ops) op.segment->Add(op.header, op.offset, op.next);
    committed_ = last_seq;
    published_.store(last_seq);  // inside the lock: LastSeq() never lags a Read() that ran
  }
  return Status::OK();
}

Result<int> StoreImpl::ApplyRetention() {
  if (read_only_) {
    return Status::Error("store: " + options_.dir.string() +
                         " is open read-only; ApplyRetention refused");
  }
  if (options_.retention_days <= 0) return 0;
  const int64_t cutoff = Now() - static_cast<int64_t>(options_.retention_days) * kMsPerDay;

  // Take the leader role so no group is writing (or rolling over) while segments go away.
  {
    std::unique_lock lock(append_mu_);
    append_cv_.wait(lock, [&] { return !leader_active_; });
    leader_active_ = true;
  }
  int deleted = 0;
  Status status;
  {
    std::lock_guard ilock(index_mu_);
    for (Stream s : {Stream::kEvents, Stream::kIdentities}) {
      SegmentList& segs = segments_[static_cast<size_t>(s)];
      bool changed = false;
      // Never the last segment: it is the live one.
      for (size_t i = 0; i + 1 < segs.size() && status.ok(); ++i) {
        Segment& seg = *segs[i];
        status = EnsureIndexedLocked(seg, segs[i + 1].get());
        if (!status.ok()) break;
        if (seg.missing) {
          changed = true;
          continue;
        }
        if (seg.count == 0 || seg.max_ingest_ms >= cutoff) continue;
        if (::unlink(seg.path.c_str()) != 0 && errno != ENOENT) {
          status = IoError("unlink", seg.path, errno);
          break;
        }
        seg.missing = true;
        changed = true;
        ++deleted;
        ++segments_deleted_;
      }
      if (changed) {
        std::erase_if(segs, [](const auto& p) { return p->missing; });
        if (status.ok()) status = SyncDirectory(StreamDir(s));
        ++fsyncs_;
      }
      if (!status.ok()) break;
    }
  }
  {
    std::lock_guard lock(append_mu_);
    leader_active_ = false;
  }
  append_cv_.notify_all();
  if (!status.ok()) return status;
  return deleted;
}

}  // namespace weir::sdksource
