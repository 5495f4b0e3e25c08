// tests/sdk_source/plugin/source_batch_test.cpp — SourceBatch (plugin-private, compiled into
// this test): a store arena laid out as NDJSON becomes the batch data without a copy, a batch
// spanning several store reads appends them, and an arena laid out any other way is copied
// record by record; offsets, times, seqs and the release contract hold in every case.
#include "source_batch.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace weir::sdksource {
namespace {

/// A ReadResult as Store::Read fills it: NDJSON arena, views into it.
ReadResult NdjsonChunk(const std::vector<std::string>& json, uint64_t first_seq) {
  ReadResult r;
  for (const auto& j : json) r.arena += j + "\n";
  size_t pos = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    r.records.push_back({first_seq + i, 0, static_cast<int64_t>(100 + first_seq + i),
                         std::string_view(r.arena.data() + pos, json[i].size())});
    pos += json[i].size() + 1;
  }
  return r;
}

struct Released {
  std::string data;
  std::vector<size_t> offsets;
  std::vector<int64_t> times;
  std::vector<uint64_t> seqs;
  std::string wm;
};

Released Release(SourceBatch& batch) {
  weir_batch b{};
  batch.Release(&b);
  Released r;
  r.data.assign(reinterpret_cast<const char*>(b.data), b.size);
  r.offsets.assign(b.offsets, b.offsets + b.count + 1);
  r.times.assign(b.event_time_ms, b.event_time_ms + b.count);
  r.seqs.assign(b.ingest_seq, b.ingest_seq + b.count);
  r.wm.assign(reinterpret_cast<const char*>(b.high_watermark.data), b.high_watermark.size);
  EXPECT_EQ(b.format, static_cast<uint32_t>(WEIR_FORMAT_NDJSON));
  auto release = b.release;
  weir_batch_release(&b);
  EXPECT_EQ(b.release, nullptr);
  release(&b);  // a second call through a saved pointer is harmless
  return r;
}

TEST(SdkSourcePluginBatch, AnNdjsonArenaBecomesTheBatchWithoutACopy) {
  ReadResult chunk = NdjsonChunk({R"({"a":1})", R"({"b":22})", R"({"c":333})"}, 7);
  const char* arena_bytes = chunk.arena.data();
  SourceBatch batch;
  batch.Take(chunk, 2);
  EXPECT_EQ(batch.count(), 2u);
  EXPECT_EQ(batch.bytes(), 8u + 9u);
  batch.set_high_watermark("wm");
  weir_batch b{};
  batch.Release(&b);
  EXPECT_EQ(reinterpret_cast<const char*>(b.data), arena_bytes);  // moved, not copied
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data), b.size), "{\"a\":1}\n{\"b\":22}\n");
  EXPECT_EQ(b.count, 2u);
  EXPECT_EQ(b.offsets[0], 0u);
  EXPECT_EQ(b.offsets[1], 8u);
  EXPECT_EQ(b.offsets[2], 17u);
  EXPECT_EQ(b.ingest_seq[1], 8u);
  EXPECT_EQ(b.event_time_ms[1], 108);
  weir_batch_release(&b);
  EXPECT_EQ(batch.count(), 0u);  // Release leaves the builder empty
}

TEST(SdkSourcePluginBatch, SeveralStoreReadsAreAppendedInOrder) {
  SourceBatch batch;
  ReadResult a = NdjsonChunk({R"({"a":1})", R"({"b":2})"}, 1);
  batch.Take(a, 2);
  ReadResult b = NdjsonChunk({R"({"c":3})", R"({"d":4})"}, 5);
  batch.Take(b, 1);
  Released r = Release(batch);
  EXPECT_EQ(r.data, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
  EXPECT_EQ(r.offsets, (std::vector<size_t>{0, 8, 16, 24}));
  EXPECT_EQ(r.seqs, (std::vector<uint64_t>{1, 2, 5}));
  EXPECT_EQ(r.times, (std::vector<int64_t>{101, 102, 105}));
}

TEST(SdkSourcePluginBatch, AnArenaInAnotherLayoutIsCopiedRecordByRecord) {
  // Views that do not follow each other in the arena (here: reversed, no newlines).
  ReadResult chunk;
  chunk.arena = R"({"x":1}{"y":22})";
  chunk.records.push_back({1, 0, 10, std::string_view(chunk.arena.data() + 7, 8)});
  chunk.records.push_back({2, 0, 20, std::string_view(chunk.arena.data(), 7)});
  SourceBatch batch;
  batch.Take(chunk, 2);
  Released r = Release(batch);
  EXPECT_EQ(r.data, "{\"y\":22}\n{\"x\":1}\n");
  EXPECT_EQ(r.offsets, (std::vector<size_t>{0, 9, 17}));
  EXPECT_EQ(r.seqs, (std::vector<uint64_t>{1, 2}));
}

TEST(SdkSourcePluginBatch, AnEmptyBatchReleasesCleanly) {
  SourceBatch batch;
  Released r = Release(batch);
  EXPECT_TRUE(r.data.empty());
  EXPECT_EQ(r.offsets, (std::vector<size_t>{0}));
}

}  // namespace
}  // namespace weir::sdksource
