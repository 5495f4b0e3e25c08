// tests/sdk_source/store/store_recovery_test.cpp — crash recovery: torn tails (garbage after the
// last record, a record cut short, a flipped payload byte, a half-created segment) are cut on
// the next writer Open and appends continue with the right seqs; corruption inside
// acknowledged records refuses to open; and a writer process killed with SIGKILL while
// appending from several threads loses no acknowledged record and duplicates none.
//
// A torn record is by construction one that was never acknowledged, so COMMITTED (the highest
// acknowledged seq) is below it; tests that damage the last acknowledged records first rewind
// COMMITTED, recreating the state a crash between write and publish leaves.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "store/format.hpp"
#include "store/store.hpp"
#include "store/store_stats.hpp"
#include "file_size_limit.hpp"
#include "store_test_util.hpp"

namespace weir::sdksource {
namespace {

using testing::EventJson;
using testing::FileSizeLimit;
using testing::MustAppend;
using testing::MustOpen;
using testing::MustOpenReadOnly;
using testing::Options;
using testing::ReadAll;
using testing::Row;
using testing::SegmentFiles;
using testing::TempDir;

/// Rewrites COMMITTED as if the writer had published only up to `seq`.
void RewindCommitted(const std::filesystem::path& dir, uint64_t seq) {
  char buf[format::kCommittedFileSize];
  format::EncodeCommitted(seq, buf);
  std::ofstream out(dir / "COMMITTED", std::ios::binary | std::ios::trunc);
  out.write(buf, sizeof(buf));
}

/// Ten events (seq 1..10) in one segment, writer closed.
std::filesystem::path WriteTenEvents(const std::filesystem::path& dir) {
  auto store = MustOpen(Options(dir));
  for (int i = 1; i <= 10; ++i) MustAppend(*store, {Record::Event(EventJson(i, 20), i)});
  return SegmentFiles(dir, Stream::kEvents).back();
}

void ExpectEvents(const Store& store, int first, int last) {
  const auto rows = ReadAll(store, Stream::kEvents);
  ASSERT_EQ(rows.size(), static_cast<size_t>(last - first + 1));
  for (int i = first; i <= last; ++i) {
    const Row& r = rows[static_cast<size_t>(i - first)];
    EXPECT_EQ(r.seq, static_cast<uint64_t>(i));
    EXPECT_EQ(r.json, EventJson(i, 20));
  }
}

/// The bytes record `n` of WriteTenEvents takes in its segment.
uint64_t RecordBytes(int n) { return format::kRecordHeaderSize + EventJson(n, 20).size(); }

TEST(SdkSourceStore, TornTailGarbageIsCut) {
  TempDir dir;
  const auto seg = WriteTenEvents(dir.path());
  const auto size = std::filesystem::file_size(seg);
  { std::ofstream(seg, std::ios::binary | std::ios::app) << "\x57\x52\x45\x43garbage!"; }
  auto store = MustOpen(Options(dir.path()));
  EXPECT_EQ(GetStoreStats(*store).torn_tails_cut, 1u);
  EXPECT_EQ(GetStoreStats(*store).torn_bytes_cut, 12u);
  EXPECT_EQ(std::filesystem::file_size(seg), size);
  ExpectEvents(*store, 1, 10);
  EXPECT_EQ(MustAppend(*store, {Record::Event(EventJson(11, 20), 11)}).first, 11u);
  store.reset();
  store = MustOpen(Options(dir.path()));
  EXPECT_EQ(GetStoreStats(*store).torn_tails_cut, 0u);
  ExpectEvents(*store, 1, 11);
}

TEST(SdkSourceStore, AWriteFailureBreaksTheStoreUntilReopened) {
  TempDir dir;
  auto store = MustOpen(Options(dir.path()));
  MustAppend(*store, {Record::Event(EventJson(1, 20), 1)});
  EXPECT_FALSE(store->Broken());
  Result<SeqRange> failed = SeqRange{};
  {
    FileSizeLimit limit(64 << 10);
    ASSERT_TRUE(limit.ok()) << "cannot lower RLIMIT_FSIZE";
    failed = store->Append({Record::Event(EventJson(2, 128 << 10), 2)});
  }
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("File too large"), std::string::npos)
      << failed.status().ToString();
  EXPECT_TRUE(store->Broken());
  // Without the limit a small record would fit, but the store no longer trusts its files.
  auto again = store->Append({Record::Event(EventJson(2, 20), 2)});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), failed.status().message());
  EXPECT_TRUE(store->Broken());
  EXPECT_FALSE(MustOpenReadOnly(Options(dir.path()))->Broken());

  store.reset();  // reopening recovers from what is on disk
  store = MustOpen(Options(dir.path()));
  EXPECT_FALSE(store->Broken());
  EXPECT_EQ(MustAppend(*store, {Record::Event(EventJson(2, 20), 2)}).first, 2u);
  ExpectEvents(*store, 1, 2);
}

TEST(SdkSourceStore, TornTailRecordCutShortIsRemoved) {
  const uint64_t kRecordBytes = RecordBytes(10);
  for (uint64_t keep : {uint64_t{0}, uint64_t{3}, uint64_t{format::kRecordHeaderSize - 1},
                        uint64_t{format::kRecordHeaderSize}, kRecordBytes - 1}) {
    SCOPED_TRACE("bytes of the last record kept: " + std::to_string(keep));
    TempDir dir;
    const auto seg = WriteTenEvents(dir.path());
    RewindCommitted(dir.path(), 9);
    const auto full = std::filesystem::file_size(seg);
    std::filesystem::resize_file(seg, full - kRecordBytes + keep);
    auto store = MustOpen(Options(dir.path()));
    EXPECT_EQ(GetStoreStats(*store).torn_tails_cut, keep == 0 ? 0u : 1u);
    EXPECT_EQ(GetStoreStats(*store).torn_bytes_cut, keep);
    EXPECT_EQ(std::filesystem::file_size(seg), full - kRecordBytes);
    EXPECT_EQ(store->LastSeq(), 9u);
    ExpectEvents(*store, 1, 9);
    EXPECT_EQ(MustAppend(*store, {Record::Event(EventJson(10, 20), 10)}).first, 10u);
    ExpectEvents(*store, 1, 10);
  }
}

TEST(SdkSourceStore, TornTailFlippedPayloadByteCutsFromThatRecord) {
  // Record 9's payload is damaged: 9 and everything after it in the segment go; 10 too, though
  // intact, because nothing after a bad record can be trusted to be a record boundary.
  TempDir dir;
  const auto seg = WriteTenEvents(dir.path());
  RewindCommitted(dir.path(), 8);
  const auto full = std::filesystem::file_size(seg);
  {
    std::fstream f(seg, std::ios::binary | std::ios::in | std::ios::out);
    const auto pos = static_cast<std::streamoff>(full - RecordBytes(10) - 5);  // in 9's payload
    f.seekg(pos);
    char c = 0;
    f.get(c);
    f.seekp(pos);
    f.put(static_cast<char>(c ^ 0x20));
  }
  auto store = MustOpen(Options(dir.path()));
  EXPECT_EQ(GetStoreStats(*store).torn_tails_cut, 1u);
  EXPECT_EQ(GetStoreStats(*store).torn_bytes_cut, RecordBytes(9) + RecordBytes(10));
  ExpectEvents(*store, 1, 8);
  EXPECT_EQ(MustAppend(*store, {Record::Event(EventJson(9, 20), 9)}).first, 9u);
  ExpectEvents(*store, 1, 9);
}

TEST(SdkSourceStore, IntactUnacknowledgedRecordsAreKept) {
  // A kill -9 after write() and before the fsync/publish leaves whole records in the page cache:
  // they are kept and published on the next open (the client may resend; it dedupes).
  TempDir dir;
  WriteTenEvents(dir.path());
  RewindCommitted(dir.path(), 6);
  auto store = MustOpen(Options(dir.path()));
  EXPECT_EQ(GetStoreStats(*store).torn_tails_cut, 0u);
  EXPECT_EQ(store->LastSeq(), 10u);
  ExpectEvents(*store, 1, 10);
}

TEST(SdkSourceStore, HalfCreatedSegmentIsRemoved) {
  TempDir dir;
  WriteTenEvents(dir.path());
  RewindCommitted(dir.path(), 10);
  const auto half = dir.path() / "events" / format::SegmentFileName(11);
  { std::ofstream(half, std::ios::binary) << "WEIRS"; }
  auto store = MustOpen(Options(dir.path()));
  EXPECT_FALSE(std::filesystem::exists(half));
  EXPECT_EQ(GetStoreStats(*store).torn_tails_cut, 1u);
  ExpectEvents(*store, 1, 10);
  EXPECT_EQ(MustAppend(*store, {Record::Event(EventJson(11, 20), 11)}).first, 11u);
  ExpectEvents(*store, 1, 11);
}

TEST(SdkSourceStore, CorruptionInsideAcknowledgedRecordsIsAnError) {
  TempDir dir;
  {
    auto store = MustOpen(Options(dir.path(), 300));
    for (int i = 1; i <= 10; ++i) MustAppend(*store, {Record::Event(EventJson(i, 20), i)});
  }
  const auto files = SegmentFiles(dir.path(), Stream::kEvents);
  ASSERT_GE(files.size(), 3u);
  // A sealed segment loses its tail: acknowledged records are gone, which a read must not hide
  // (sealed segments are indexed lazily, so it is the first read that finds out).
  std::filesystem::resize_file(files[1], std::filesystem::file_size(files[1]) - 3);
  for (bool read_only : {false, true}) {
    auto store = read_only ? Store::OpenReadOnly(Options(dir.path(), 300))
                           : Store::Open(Options(dir.path(), 300));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ReadResult out;
    Status st = (*store)->Read(Stream::kEvents, ReadBounds{}, out);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find(files[1].string() + " is corrupt"), std::string::npos)
        << st.message();
  }
  // The live segment's header is damaged although COMMITTED covers its records: Open refuses
  // rather than cutting acknowledged records away.
  {
    std::fstream f(files.back(), std::ios::binary | std::ios::in | std::ios::out);
    f.write("XXXX", 4);
  }
  auto r = Store::Open(Options(dir.path(), 300));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(files.back().string()), std::string::npos);
  EXPECT_NE(r.status().message().find("acknowledged"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// A writer process killed with SIGKILL while appending.

/// The pipe the child reports acknowledged ranges on.
class Pipe {
 public:
  Pipe() {
    if (::pipe(fds_) != 0) throw std::runtime_error("pipe failed");
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  int read_fd() const { return fds_[0]; }
  int write_fd() const { return fds_[1]; }
  void CloseRead() {
    if (fds_[0] >= 0) ::close(fds_[0]);
    fds_[0] = -1;
  }
  void CloseWrite() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

constexpr int kThreads = 3;
constexpr int kBatch = 4;

std::string ChildEventJson(int thread, int batch, int item) {
  return R"({"t":)" + std::to_string(thread) + R"(,"b":)" + std::to_string(batch) + R"(,"i":)" +
         std::to_string(item) + R"(,"pad":")" + std::string(150, 'z') + R"("})";
}

/// Runs in the forked child: appends forever from kThreads threads and writes one line
/// "thread batch first last" per acknowledged Append. Never returns.
[[noreturn]] void ChildAppendForever(const std::filesystem::path& dir, int report_fd) {
  auto opened = Store::Open(Options(dir, 8 * 1024));
  if (!opened.ok()) ::_exit(3);
  Store& store = **opened;
  std::mutex report_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0;; ++b) {
        std::vector<Record> recs;
        for (int i = 0; i < kBatch; ++i) {
          recs.push_back(Record::Event(ChildEventJson(t, b, i), b));
        }
        auto r = store.Append(std::move(recs));
        if (!r.ok()) ::_exit(4);
        char line[96];
        const int n = std::snprintf(line, sizeof(line), "%d %d %llu %llu\n", t, b,
                                    static_cast<unsigned long long>(r->first),
                                    static_cast<unsigned long long>(r->last));
        std::lock_guard lock(report_mu);
        if (::write(report_fd, line, static_cast<size_t>(n)) != n) ::_exit(5);
      }
    });
  }
  for (auto& th : threads) th.join();
  ::_exit(0);
}

struct Ack {
  int thread;
  int batch;
  uint64_t first;
  uint64_t last;
};

TEST(SdkSourceStore, KilledWriterLosesNoAcknowledgedRecord) {
  TempDir dir;
  Pipe pipe;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pipe.CloseRead();
    ChildAppendForever(dir.path(), pipe.write_fd());
  }
  pipe.CloseWrite();

  // Read acknowledgements until enough have arrived, then kill the writer mid-stream.
  std::vector<Ack> acks;
  std::string buffer;
  bool killed = false;
  char chunk[4096];
  while (true) {
    const ssize_t n = ::read(pipe.read_fd(), chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child is gone and every line it wrote has been read
    buffer.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      Ack a{};
      unsigned long long first = 0, last = 0;
      ASSERT_EQ(std::sscanf(buffer.c_str(), "%d %d %llu %llu", &a.thread, &a.batch, &first, &last),
                4);
      a.first = first;
      a.last = last;
      acks.push_back(a);
      buffer.erase(0, nl + 1);
    }
    if (!killed && acks.size() >= 150) {
      ASSERT_EQ(::kill(child, SIGKILL), 0);
      killed = true;
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(killed) << "the child exited by itself, status " << status;
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;

  auto store = MustOpen(Options(dir.path(), 8 * 1024));
  const auto rows = ReadAll(*store, Stream::kEvents);
  // Seqs strictly increase (in order, no duplicates), and each payload appears once.
  std::map<uint64_t, const Row*> by_seq;
  std::set<std::tuple<int64_t, int64_t, int64_t>> payloads;
  simdjson::dom::parser parser;
  for (size_t k = 0; k < rows.size(); ++k) {
    if (k > 0) {
      ASSERT_LT(rows[k - 1].seq, rows[k].seq);
    }
    by_seq[rows[k].seq] = &rows[k];
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(rows[k].json).get(doc), simdjson::SUCCESS) << rows[k].json;
    const auto key = std::make_tuple(int64_t(doc["t"]), int64_t(doc["b"]), int64_t(doc["i"]));
    EXPECT_TRUE(payloads.insert(key).second) << "duplicate " << rows[k].json;
  }
  // Every acknowledged record is there, under the seq it was acknowledged with.
  for (const Ack& a : acks) {
    ASSERT_EQ(a.last - a.first + 1, static_cast<uint64_t>(kBatch));
    for (int i = 0; i < kBatch; ++i) {
      auto it = by_seq.find(a.first + static_cast<uint64_t>(i));
      ASSERT_NE(it, by_seq.end()) << "acknowledged seq " << a.first + i << " is missing";
      EXPECT_EQ(it->second->json, ChildEventJson(a.thread, a.batch, i));
    }
  }
  // Appends continue above everything recovered.
  const uint64_t max_seq = rows.empty() ? 0 : rows.back().seq;
  EXPECT_GE(store->LastSeq(), max_seq);
  EXPECT_GT(MustAppend(*store, {Record::Event(EventJson(1), 1)}).first, max_seq);
}

}  // namespace
}  // namespace weir::sdksource
