// tests/sdk_source/store/store_concurrency_test.cpp — many appenders and readers at once:
// concurrent appenders share fsyncs (group commit) and get disjoint, gap-free seq ranges; a
// read-only handle beside the writer sees exactly the committed records and picks up new
// segments as they appear; readers in threads run while appenders write.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/format.hpp"
#include "store/store.hpp"
#include "store/store_stats.hpp"
#include "store_test_util.hpp"

namespace weir::sdksource {
namespace {

using testing::EventJson;
using testing::MustAppend;
using testing::MustOpen;
using testing::MustOpenReadOnly;
using testing::MustRead;
using testing::Options;
using testing::ReadAll;
using testing::Row;
using testing::SegmentFiles;
using testing::TempDir;

TEST(SdkSourceStore, ConcurrentAppendersShareFsyncs) {
  TempDir dir;
  auto o = Options(dir.path(), 16 * 1024);
  // A leader waits this long for company before its fsync, so groups form even on a disk
  // whose fsync is nearly free.
  o.group_commit_window = std::chrono::microseconds(2000);
  auto store = MustOpen(o);
  constexpr int kThreads = 8;
  constexpr int kAppends = 25;
  std::vector<std::vector<SeqRange>> ranges(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kAppends; ++k) {
        const int n = t * 1000 + k;
        auto r =
            store->Append({Record::Event(EventJson(n, 64), n), Record::Event(EventJson(n), n)});
        if (r.ok()) ranges[static_cast<size_t>(t)].push_back(*r);
      }
    });
  }
  for (auto& th : threads) th.join();

  const StoreStats stats = GetStoreStats(*store);
  EXPECT_EQ(stats.append_calls, static_cast<uint64_t>(kThreads * kAppends));
  EXPECT_EQ(stats.appended_records, static_cast<uint64_t>(2 * kThreads * kAppends));
  EXPECT_LT(stats.group_commits, stats.append_calls);
  EXPECT_LT(stats.fsyncs, stats.append_calls);

  // Each call got two consecutive seqs; all calls together cover 1..N exactly once, and each
  // thread's calls were ordered.
  std::set<uint64_t> seen;
  for (const auto& list : ranges) {
    ASSERT_EQ(list.size(), static_cast<size_t>(kAppends));
    for (size_t k = 0; k < list.size(); ++k) {
      EXPECT_EQ(list[k].last, list[k].first + 1);
      if (k > 0) {
        EXPECT_GT(list[k].first, list[k - 1].last);
      }
      EXPECT_TRUE(seen.insert(list[k].first).second);
      EXPECT_TRUE(seen.insert(list[k].last).second);
    }
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(2 * kThreads * kAppends));
  EXPECT_EQ(*seen.rbegin(), seen.size());
  const auto rows = ReadAll(*store, Stream::kEvents);
  ASSERT_EQ(rows.size(), seen.size());
  for (const auto& list : ranges) {
    for (const SeqRange& r : list) {
      // The pair sits at its seqs: the padded one first.
      const Row& a = rows[r.first - 1];
      const Row& b = rows[r.last - 1];
      EXPECT_EQ(a.json, EventJson(static_cast<int>(a.event_ms), 64));
      EXPECT_EQ(b.json, EventJson(static_cast<int>(a.event_ms)));
    }
  }
}

TEST(SdkSourceStore, ReaderSeesOnlyCommittedRecords) {
  TempDir dir;
  {
    auto writer = MustOpen(Options(dir.path()));
    MustAppend(*writer, {Record::Event(EventJson(1), 1), Record::Event(EventJson(2), 2)});
  }
  // A whole record past COMMITTED, as a writer leaves it between its write and its publish.
  {
    std::string rec;
    format::AppendRecord(rec, 3, 0, 3, EventJson(3), format::PayloadCrc(EventJson(3)));
    std::ofstream(SegmentFiles(dir.path(), Stream::kEvents).back(),
                  std::ios::binary | std::ios::app)
        << rec;
  }
  auto reader = MustOpenReadOnly(Options(dir.path()));
  EXPECT_EQ(reader->LastSeq(), 2u);
  auto rows = ReadAll(*reader, Stream::kEvents);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.back().seq, 2u);

  // The next writer keeps the intact record and publishes it; the same reader now sees it.
  auto writer = MustOpen(Options(dir.path()));
  EXPECT_EQ(writer->LastSeq(), 3u);
  rows = ReadAll(*reader, Stream::kEvents);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows.back().json, EventJson(3));
  EXPECT_EQ(reader->LastSeq(), 3u);
}

TEST(SdkSourceStore, ReaderPicksUpNewRecordsAndSegments) {
  TempDir dir;
  auto writer = MustOpen(Options(dir.path(), 1024));
  auto reader = MustOpenReadOnly(Options(dir.path(), 1024));
  EXPECT_TRUE(ReadAll(*reader, Stream::kEvents).empty());
  uint64_t after = 0;
  std::vector<Row> got;
  for (int round = 0; round < 10; ++round) {
    for (int k = 0; k < 7; ++k) {
      const int n = round * 10 + k;
      MustAppend(*writer, {Record::Event(EventJson(n, 60), n)});
    }
    ReadBounds b;
    b.after_seq = after;
    const auto rows = MustRead(*reader, Stream::kEvents, b);
    ASSERT_EQ(rows.size(), 7u) << "round " << round;
    after = rows.back().seq;
    got.insert(got.end(), rows.begin(), rows.end());
  }
  EXPECT_GT(SegmentFiles(dir.path(), Stream::kEvents).size(), 5u);
  EXPECT_EQ(got, ReadAll(*writer, Stream::kEvents));
  EXPECT_EQ(got, ReadAll(*reader, Stream::kEvents));
}

TEST(SdkSourceStore, ReadsRunWhileAppendersWrite) {
  TempDir dir;
  auto writer = MustOpen(Options(dir.path(), 4096));
  auto reader = MustOpenReadOnly(Options(dir.path(), 4096));
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> appenders;
  for (int t = 0; t < 2; ++t) {
    appenders.emplace_back([&, t] {
      for (int k = 0; k < 200; ++k) {
        if (!writer->Append({Record::Event(EventJson(t * 1000 + k, 30), k)}).ok()) ++failures;
      }
    });
  }
  // Readers in this process (the writer's handle and a read-only one) check that what they see
  // is always a gap-free-per-call, increasing, committed prefix.
  auto check = [&](const Store* s) {
    uint64_t after = 0;
    while (!stop.load()) {
      ReadBounds b;
      b.after_seq = after;
      ReadResult out;
      if (!s->Read(Stream::kEvents, b, out).ok()) {
        ++failures;
        return;
      }
      for (const StoredRecord& r : out.records) {
        if (r.seq <= after || r.seq > s->LastSeq()) ++failures;
        after = r.seq;
      }
    }
  };
  std::thread r1(check, writer.get());
  std::thread r2(check, reader.get());
  for (auto& th : appenders) th.join();
  stop = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ReadAll(*reader, Stream::kEvents).size(), 400u);
}

}  // namespace
}  // namespace weir::sdksource
