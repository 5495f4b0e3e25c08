// tests/sdk_source/store/store_basic_test.cpp — the store's single-process contract: append and
// read back each stream, seqs shared by the streams, read bounds and limits, event-time window
// reads that skip segments, segment rollover, reopening, retention, the writer lock, and the
// read-only handle's refusals.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "store/store_stats.hpp"
#include "store_test_util.hpp"

namespace weir::sdksource {
namespace {

using testing::EventJson;
using testing::FakeClock;
using testing::Must;
using testing::MustAppend;
using testing::MustOpen;
using testing::MustOpenReadOnly;
using testing::MustRead;
using testing::Op;
using testing::Options;
using testing::ReadAll;
using testing::Row;
using testing::SegmentFiles;
using testing::TempDir;

constexpr int64_t kDayMs = 86'400'000;

TEST(SdkSourceStore, StreamNamesRoundTrip) {
  for (Stream s : kAllStreams) EXPECT_EQ(StreamFromName(StreamName(s)), s);
  EXPECT_STREQ(StreamName(Stream::kEvents), "events");
  EXPECT_STREQ(StreamName(Stream::kUsers), "users");
  EXPECT_STREQ(StreamName(Stream::kIdentities), "identities");
  EXPECT_FALSE(StreamFromName("event").has_value());
}

TEST(SdkSourceStore, AppendAndReadEachStream) {
  TempDir dir;
  FakeClock clock(1'700'000'000'000);
  auto o = Options(dir.path());
  o.now_ms = clock.Fn();
  auto store = MustOpen(o);
  EXPECT_EQ(store->LastSeq(), 0u);

  const SeqRange ev =
      MustAppend(*store, {Record::Event(EventJson(1), 1000), Record::Event(EventJson(2), 2000)});
  EXPECT_EQ(ev.first, 1u);
  EXPECT_EQ(ev.last, 2u);
  clock.Set(1'700'000'000'500);
  const SeqRange id = MustAppend(
      *store, {Record::Identity(R"({"distinct_id":"a","user_id":"u","time":3000})", 3000)});
  EXPECT_EQ(id.first, 3u);
  EXPECT_EQ(id.last, 3u);
  const SeqRange us = MustAppend(
      *store, {Record::Profile("u", {Op(ProfileOp::Kind::kSet, R"({"plan":"pro"})")}, 4000)});
  EXPECT_EQ(us.first, 4u);
  EXPECT_EQ(store->LastSeq(), 4u);

  EXPECT_EQ(ReadAll(*store, Stream::kEvents),
            (std::vector<Row>{{1, 1'700'000'000'000, 1000, EventJson(1)},
                              {2, 1'700'000'000'000, 2000, EventJson(2)}}));
  EXPECT_EQ(ReadAll(*store, Stream::kIdentities),
            (std::vector<Row>{
                {3, 1'700'000'000'500, 3000, R"({"distinct_id":"a","user_id":"u","time":3000})"}}));
  EXPECT_EQ(
      ReadAll(*store, Stream::kUsers),
      (std::vector<Row>{{4, 1'700'000'000'500, 4000,
                         R"({"distinct_id":"u","updated_at":4000,"properties":{"plan":"pro"}})"}}));
}

TEST(SdkSourceStore, EmptyAppendAssignsNothing) {
  TempDir dir;
  auto store = MustOpen(Options(dir.path()));
  const SeqRange r = MustAppend(*store, {});
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 0u);
  EXPECT_EQ(store->LastSeq(), 0u);
}

TEST(SdkSourceStore, SeqsAreMonotonicAcrossStreams) {
  TempDir dir;
  auto store = MustOpen(Options(dir.path()));
  std::vector<Record> mixed;
  for (int i = 0; i < 30; ++i) {
    if (i % 3 == 0) mixed.push_back(Record::Event(EventJson(i), i));
    if (i % 3 == 1) mixed.push_back(Record::Identity(R"({"distinct_id":"x"})", i));
    if (i % 3 == 2) {
      mixed.push_back(
          Record::Profile("p" + std::to_string(i), {Op(ProfileOp::Kind::kSet, R"({"i":1})")}, i));
    }
  }
  const SeqRange r1 = MustAppend(*store, mixed);
  const SeqRange r2 = MustAppend(*store, {Record::Event(EventJson(99), 99)});
  EXPECT_EQ(r1.first, 1u);
  EXPECT_EQ(r1.last, 30u);
  EXPECT_EQ(r2.first, 31u);

  std::vector<uint64_t> all;
  for (Stream s : kAllStreams) {
    const auto rows = ReadAll(*store, s);
    ASSERT_FALSE(rows.empty());
    for (size_t i = 1; i < rows.size(); ++i) EXPECT_LT(rows[i - 1].seq, rows[i].seq);
    for (const Row& r : rows) {
      all.push_back(r.seq);
      // The record at seq k came from mixed[k-1] (or the last append): its stream matches.
      if (r.seq <= 30) {
        constexpr Stream kOrder[] = {Stream::kEvents, Stream::kIdentities, Stream::kUsers};
        EXPECT_EQ(kOrder[(r.seq - 1) % 3], s);
      }
    }
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 31u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i + 1);  // no seq lost or doubled
}

TEST(SdkSourceStore, ReadBoundsAndLimits) {
  TempDir dir;
  auto store = MustOpen(Options(dir.path()));
  std::vector<Record> recs;
  for (int i = 1; i <= 10; ++i) recs.push_back(Record::Event(EventJson(i), i));
  MustAppend(*store, std::move(recs));
  const size_t len = EventJson(1).size();  // all ten have the same length

  auto seqs = [](const std::vector<Row>& rows) {
    std::vector<uint64_t> out;
    for (const Row& r : rows) out.push_back(r.seq);
    return out;
  };
  ReadBounds b;
  b.after_seq = 3;
  EXPECT_EQ(seqs(MustRead(*store, Stream::kEvents, b)),
            (std::vector<uint64_t>{4, 5, 6, 7, 8, 9, 10}));
  b.upto_seq = 6;
  EXPECT_EQ(seqs(MustRead(*store, Stream::kEvents, b)), (std::vector<uint64_t>{4, 5, 6}));
  b.max_records = 2;
  EXPECT_EQ(seqs(MustRead(*store, Stream::kEvents, b)), (std::vector<uint64_t>{4, 5}));

  // max_bytes counts JSON plus a newline per record: exactly three fit, three-and-a-byte too.
  ReadBounds bytes;
  bytes.max_bytes = 3 * (len + 1);
  EXPECT_EQ(seqs(MustRead(*store, Stream::kEvents, bytes)), (std::vector<uint64_t>{1, 2, 3}));
  bytes.max_bytes = 3 * (len + 1) - 1;
  EXPECT_EQ(seqs(MustRead(*store, Stream::kEvents, bytes)), (std::vector<uint64_t>{1, 2}));
  // At least one record, even when it alone is over the limit.
  bytes.max_bytes = 1;
  bytes.after_seq = 7;
  EXPECT_EQ(seqs(MustRead(*store, Stream::kEvents, bytes)), (std::vector<uint64_t>{8}));

  // Nothing to read: after the last seq, an empty range, an upto below after.
  ReadBounds none;
  none.after_seq = 10;
  EXPECT_TRUE(MustRead(*store, Stream::kEvents, none).empty());
  none.after_seq = 5;
  none.upto_seq = 5;
  EXPECT_TRUE(MustRead(*store, Stream::kEvents, none).empty());
  EXPECT_TRUE(MustRead(*store, Stream::kUsers, ReadBounds{}).empty());
}

TEST(SdkSourceStore, ArenaIsNdjsonOfTheRecords) {
  TempDir dir;
  auto store = MustOpen(Options(dir.path()));
  MustAppend(*store, {Record::Event(EventJson(1), 1), Record::Event(EventJson(2), 2)});
  ReadResult result;
  ASSERT_TRUE(store->Read(Stream::kEvents, ReadBounds{}, result).ok());
  ASSERT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.arena, EventJson(1) + "\n" + EventJson(2) + "\n");
  EXPECT_EQ(result.records[0].json.data(), result.arena.data());
  EXPECT_EQ(result.records[1].json, EventJson(2));
  // A second read into the same result replaces its contents.
  ReadBounds b;
  b.after_seq = 1;
  ASSERT_TRUE(store->Read(Stream::kEvents, b, result).ok());
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.arena, EventJson(2) + "\n");
}

TEST(SdkSourceStore, SegmentsRollOverAtTheConfiguredSize) {
  TempDir dir;
  const uint64_t kSegmentBytes = 1024;
  auto store = MustOpen(Options(dir.path(), kSegmentBytes));
  // ~200-byte records: four fit per segment (16-byte segment header + 4 * (40 + ~200)).
  for (int i = 0; i < 40; ++i) MustAppend(*store, {Record::Event(EventJson(i, 180), i)});
  // One record bigger than a segment gets a segment of its own.
  MustAppend(*store, {Record::Event(EventJson(40, 3000), 40)});
  MustAppend(*store, {Record::Event(EventJson(41), 41)});

  const auto files = SegmentFiles(dir.path(), Stream::kEvents);
  ASSERT_GT(files.size(), 10u);
  EXPECT_EQ(files.front().filename(), "00000000000000000001.seg");
  for (size_t i = 0; i < files.size(); ++i) {
    const auto size = std::filesystem::file_size(files[i]);
    if (size > kSegmentBytes) {
      EXPECT_EQ(files[i].filename(), "00000000000000000041.seg");  // the big record alone
    }
  }
  const auto rows = ReadAll(*store, Stream::kEvents);
  ASSERT_EQ(rows.size(), 42u);
  for (int i = 0; i < 42; ++i) {
    EXPECT_EQ(rows[static_cast<size_t>(i)].seq, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(rows[static_cast<size_t>(i)].json, EventJson(i, i < 40 ? 180 : (i == 40 ? 3000 : 0)));
  }
  EXPECT_EQ(GetStoreStats(*store).segments_created, files.size());
}

TEST(SdkSourceStore, ReadFromTheMiddleOfManySegments) {
  TempDir dir;
  auto store = MustOpen(Options(dir.path(), 4096));
  std::vector<Record> recs;
  for (int i = 1; i <= 2000; ++i) recs.push_back(Record::Event(EventJson(i), i));
  MustAppend(*store, std::move(recs));
  for (uint64_t after : {0ull, 1ull, 63ull, 64ull, 999ull, 1998ull, 1999ull, 2000ull}) {
    ReadBounds b;
    b.after_seq = after;
    b.max_records = 5;
    const auto rows = MustRead(*store, Stream::kEvents, b);
    ASSERT_EQ(rows.size(), std::min<uint64_t>(5, 2000 - after)) << "after " << after;
    for (size_t k = 0; k < rows.size(); ++k) {
      EXPECT_EQ(rows[k].seq, after + 1 + k);
      EXPECT_EQ(rows[k].json, EventJson(static_cast<int>(after + 1 + k)));
    }
  }
}

TEST(SdkSourceStore, WindowReadsFilterByEventTimeAndSkipSegments) {
  TempDir dir;
  auto store = MustOpen(Options(dir.path(), 512));
  // Days 0..9, 20 events per day, appended day by day, so each segment covers one or two days;
  // then a late event for day 2 arrives at the end.
  for (int day = 0; day < 10; ++day) {
    std::vector<Record> recs;
    for (int k = 0; k < 20; ++k) {
      recs.push_back(Record::Event(EventJson(day * 100 + k), day * kDayMs + k * 1000));
    }
    MustAppend(*store, std::move(recs));
  }
  const SeqRange late = MustAppend(*store, {Record::Event(EventJson(9999), 2 * kDayMs + 5)});
  const size_t segments = SegmentFiles(dir.path(), Stream::kEvents).size();
  ASSERT_GT(segments, 25u);

  ReadBounds b;
  b.window = true;
  b.window_start_ms = 2 * kDayMs;
  b.window_end_ms = 3 * kDayMs;
  const uint64_t skipped_before = GetStoreStats(*store).segments_skipped_by_time;
  auto rows = MustRead(*store, Stream::kEvents, b);
  ASSERT_EQ(rows.size(), 21u);
  for (const Row& r : rows) {
    EXPECT_GE(r.event_ms, 2 * kDayMs);
    EXPECT_LT(r.event_ms, 3 * kDayMs);
  }
  EXPECT_EQ(rows.back().seq, late.first);
  // Every segment but those holding day 2 (about six records each, so at most five, plus the
  // last with the late event) was skipped by its event-time range without being walked.
  const uint64_t skipped = GetStoreStats(*store).segments_skipped_by_time - skipped_before;
  EXPECT_GE(skipped, segments - 6);
  EXPECT_LT(skipped, segments);

  // before_seq bounds a backfill window to what existed when the pipeline started.
  b.before_seq = late.first;
  rows = MustRead(*store, Stream::kEvents, b);
  ASSERT_EQ(rows.size(), 20u);
  EXPECT_LT(rows.back().seq, late.first);
  // A window read resumes after a seq like any read.
  b.after_seq = rows[9].seq;
  rows = MustRead(*store, Stream::kEvents, b);
  EXPECT_EQ(rows.size(), 10u);
  // A window with no events.
  b.after_seq = 0;
  b.window_start_ms = 50 * kDayMs;
  b.window_end_ms = 51 * kDayMs;
  EXPECT_TRUE(MustRead(*store, Stream::kEvents, b).empty());
}

TEST(SdkSourceStore, ReopenKeepsEverythingAndContinuesSeqs) {
  TempDir dir;
  std::vector<Row> events, users, identities;
  {
    auto store = MustOpen(Options(dir.path(), 1500));
    for (int i = 0; i < 50; ++i) {
      MustAppend(*store, {Record::Event(EventJson(i, 50), i),
                          Record::Identity(R"({"distinct_id":"d)" + std::to_string(i) + R"("})", i),
                          Record::Profile("u" + std::to_string(i % 5),
                                          {Op(ProfileOp::Kind::kAdd, R"({"n":1})")}, i)});
    }
    events = ReadAll(*store, Stream::kEvents);
    users = ReadAll(*store, Stream::kUsers);
    identities = ReadAll(*store, Stream::kIdentities);
  }
  auto store = MustOpen(Options(dir.path(), 1500));
  EXPECT_EQ(store->LastSeq(), 150u);
  EXPECT_EQ(ReadAll(*store, Stream::kEvents), events);
  EXPECT_EQ(ReadAll(*store, Stream::kUsers), users);
  EXPECT_EQ(ReadAll(*store, Stream::kIdentities), identities);
  EXPECT_EQ(GetStoreStats(*store).torn_tails_cut, 0u);
  EXPECT_EQ(MustAppend(*store, {Record::Event(EventJson(7), 7)}).first, 151u);
  EXPECT_EQ(ReadAll(*store, Stream::kEvents).size(), 51u);
}

TEST(SdkSourceStore, SecondWriterIsRefusedWithTheHoldersPid) {
  TempDir dir;
  auto first = MustOpen(Options(dir.path()));
  auto second = Store::Open(Options(dir.path()));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(), "store " + dir.path().string() +
                                           " is already open for writing by pid " +
                                           std::to_string(::getpid()));
  first.reset();
  EXPECT_TRUE(Store::Open(Options(dir.path())).ok());  // the lock went with the first writer
}

TEST(SdkSourceStore, ReadOnlyHandleRefusesWritesAndNeedsAStore) {
  TempDir dir;
  auto missing = Store::OpenReadOnly(Options(dir.path() / "nothing-here"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("holds no sdk-source store"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "nothing-here"));

  {
    auto writer = MustOpen(Options(dir.path()));
    MustAppend(*writer, {Record::Profile("u", {Op(ProfileOp::Kind::kSet, R"({"a":1})")}, 1)});
  }
  auto reader = MustOpenReadOnly(Options(dir.path()));
  auto append = reader->Append({Record::Event(EventJson(1), 1)});
  ASSERT_FALSE(append.ok());
  EXPECT_NE(append.status().message().find("read-only"), std::string::npos);
  EXPECT_FALSE(reader->ApplyRetention().ok());
  EXPECT_FALSE(reader->Profile("u").has_value());
  EXPECT_EQ(reader->LastSeq(), 1u);
  EXPECT_EQ(ReadAll(*reader, Stream::kUsers).size(), 1u);
}

TEST(SdkSourceStore, ReadOnlyOpenModifiesNothing) {
  TempDir dir;
  {
    auto writer = MustOpen(Options(dir.path(), 512));
    for (int i = 0; i < 20; ++i) MustAppend(*writer, {Record::Event(EventJson(i, 100), i)});
  }
  // Garbage after the last record, as a crashed writer could leave: a reader must not cut it.
  const auto last = SegmentFiles(dir.path(), Stream::kEvents).back();
  { std::ofstream(last, std::ios::app) << "torn"; }
  auto listing = [&] {
    std::vector<std::pair<std::string, uintmax_t>> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path())) {
      out.emplace_back(e.path().string(), e.is_regular_file() ? e.file_size() : 0);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  const auto before = listing();
  {
    auto reader = MustOpenReadOnly(Options(dir.path()));
    EXPECT_EQ(ReadAll(*reader, Stream::kEvents).size(), 20u);
  }
  EXPECT_EQ(listing(), before);
}

TEST(SdkSourceStore, BadRecordsAreRefusedWholeAndNameTheRecord) {
  TempDir dir;
  auto store = MustOpen(Options(dir.path()));
  auto r = store->Append({Record::Event(EventJson(1), 1), Record::Event("", 2)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "store: record 1 (events): empty JSON");
  r = store->Append({Record::Event("{\"a\":\n1}", 1)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("newline"), std::string::npos);
  r = store->Append({Record::Profile("u", {Op(ProfileOp::Kind::kSet, "[1]")}, 1)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "store: record 0 (users): $set: argument must be a JSON object");
  r = store->Append({Record::Profile("u", {Op(ProfileOp::Kind::kUnset, R"({"a":1})")}, 1)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("array of property names"), std::string::npos);
  r = store->Append({Record::Profile("u", {Op(ProfileOp::Kind::kAdd, "{nope")}, 1)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("$add: invalid JSON"), std::string::npos);
  r = store->Append({Record::Profile("", {}, 1)});
  EXPECT_FALSE(r.ok());
  r = store->Append({Record::Profile(std::string("\xff\xfe"), {}, 1)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("UTF-8"), std::string::npos);
  // Nothing of the refused calls was stored, and no seq was used.
  EXPECT_EQ(store->LastSeq(), 0u);
  EXPECT_FALSE(store->Profile("u").has_value());
  EXPECT_EQ(MustAppend(*store, {Record::Event(EventJson(1), 1)}).first, 1u);
}

TEST(SdkSourceStore, OpenErrorsNameTheFile) {
  TempDir dir;
  const auto file = dir.path() / "a-file";
  { std::ofstream(file) << "x"; }
  auto r = Store::Open(Options(file / "store"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(file.string()), std::string::npos) << r.status().message();
  // A segment file that is not one.
  {
    auto store = MustOpen(Options(dir.path() / "s"));
    MustAppend(*store, {Record::Event(EventJson(1), 1)});
  }
  const auto seg = SegmentFiles(dir.path() / "s", Stream::kEvents).front();
  { std::ofstream(seg, std::ios::binary | std::ios::trunc) << "definitely not a segment file"; }
  r = Store::Open(Options(dir.path() / "s"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(seg.string()), std::string::npos) << r.status().message();
}

TEST(SdkSourceStore, RetentionDeletesOnlyOldEventAndIdentitySegments) {
  TempDir dir;
  FakeClock clock(100 * kDayMs);
  auto o = Options(dir.path(), 1024);
  o.now_ms = clock.Fn();
  o.retention_days = 3;
  auto store = MustOpen(o);
  // Day 100: old data in all three streams, many segments each.
  for (int i = 0; i < 40; ++i) {
    MustAppend(
        *store,
        {Record::Event(EventJson(i, 100), i),
         Record::Identity(R"({"distinct_id":"d)" + std::to_string(i) + R"("})", i),
         Record::Profile(
             "u" + std::to_string(i),
             {Op(ProfileOp::Kind::kSet, R"({"pad":")" + std::string(100, 'p') + R"("})")}, i)});
  }
  const size_t old_event_segments = SegmentFiles(dir.path(), Stream::kEvents).size();
  const size_t user_segments = SegmentFiles(dir.path(), Stream::kUsers).size();
  ASSERT_GT(old_event_segments, 3u);
  // Nothing is old enough yet.
  clock.Set(102 * kDayMs);
  EXPECT_EQ(Must(store->ApplyRetention(), "ApplyRetention"), 0);
  // Day 104: new events roll into fresh segments.
  clock.Set(104 * kDayMs);
  for (int i = 0; i < 10; ++i) MustAppend(*store, {Record::Event(EventJson(1000 + i, 100), 0)});
  const auto reader = MustOpenReadOnly(o);
  EXPECT_EQ(ReadAll(*reader, Stream::kEvents).size(), 50u);  // the reader indexes everything

  const size_t events_before = SegmentFiles(dir.path(), Stream::kEvents).size();
  const size_t identities_before = SegmentFiles(dir.path(), Stream::kIdentities).size();
  const int deleted = Must(store->ApplyRetention(), "ApplyRetention");
  const auto events_left = SegmentFiles(dir.path(), Stream::kEvents);
  const auto identities_left = SegmentFiles(dir.path(), Stream::kIdentities);
  EXPECT_EQ(static_cast<size_t>(deleted),
            (events_before - events_left.size()) + (identities_before - identities_left.size()));
  // Events: every day-100 segment but the one the day-104 events went on filling.
  EXPECT_GE(events_before - events_left.size(), old_event_segments - 1);
  // Identities: all old, but the last (live) segment stays. Users: untouched.
  EXPECT_EQ(identities_left.size(), 1u);
  EXPECT_EQ(SegmentFiles(dir.path(), Stream::kUsers).size(), user_segments);
  EXPECT_EQ(GetStoreStats(*store).segments_deleted, static_cast<uint64_t>(deleted));

  // What is left reads back in order; the new events are all there; reads never fail on the
  // missing files, in the writer or in a reader that had indexed them (which may go on
  // serving the deleted segments it still has mapped).
  auto fresh_reader = MustOpenReadOnly(o);
  for (const Store* s : std::vector<const Store*>{store.get(), reader.get(), fresh_reader.get()}) {
    const auto rows = ReadAll(*s, Stream::kEvents);
    ASSERT_GE(rows.size(), 10u);
    if (s != reader.get()) {
      EXPECT_LT(rows.size(), 50u);
    }
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(rows[rows.size() - 10 + static_cast<size_t>(i)].json, EventJson(1000 + i, 100));
    }
    EXPECT_EQ(ReadAll(*s, Stream::kUsers).size(), 40u);
  }
  EXPECT_EQ(store->Profile("u0").has_value(), true);
  EXPECT_EQ(ReadAll(*fresh_reader, Stream::kEvents), ReadAll(*store, Stream::kEvents));
}

TEST(SdkSourceStore, RetentionZeroKeepsEverything) {
  TempDir dir;
  FakeClock clock(0);
  auto o = Options(dir.path(), 512);
  o.now_ms = clock.Fn();
  auto store = MustOpen(o);
  for (int i = 0; i < 20; ++i) MustAppend(*store, {Record::Event(EventJson(i, 100), i)});
  clock.Set(1000 * kDayMs);
  EXPECT_EQ(Must(store->ApplyRetention(), "ApplyRetention"), 0);
  EXPECT_EQ(ReadAll(*store, Stream::kEvents).size(), 20u);
}

}  // namespace
}  // namespace weir::sdksource
