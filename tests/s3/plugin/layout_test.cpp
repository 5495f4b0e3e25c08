// tests/s3/plugin/layout_test.cpp — partitions (UTC, IANA zones, DST, odd offsets), object
// names, and how a batch is planned into objects (late events, splitting, users/identities).
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "s3_layout.hpp"
#include "test_util.hpp"

namespace weir::s3 {
namespace {

std::string LabelOf(Granularity g, const std::string& zone, int64_t t) {
  auto p = Partitioner::Make(g, zone);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p->Label(p->Of(t));
}

constexpr int64_t kT = 1700000000000;  // 2023-11-14T22:13:20Z

TEST(S3PluginLayout, HourlyAndDailyUtc) {
  EXPECT_EQ(LabelOf(Granularity::kHourly, "UTC", kT), "2023/11/14/22");
  EXPECT_EQ(LabelOf(Granularity::kDaily, "UTC", kT), "2023/11/14");
  EXPECT_EQ(LabelOf(Granularity::kHourly, "UTC", 0), "1970/01/01/00");
  EXPECT_EQ(LabelOf(Granularity::kHourly, "UTC", -1), "1969/12/31/23");
  EXPECT_EQ(LabelOf(Granularity::kHourly, "UTC", 1709251199999), "2024/02/29/23");  // leap day
  EXPECT_EQ(LabelOf(Granularity::kHourly, "Etc/UTC", 1709251200000), "2024/03/01/00");
}

TEST(S3PluginLayout, IanaZoneShiftsTheLocalHourAndDay) {
  // 22:13Z is 17:13 EST in New York and 03:43 the next day in Kolkata (+05:30).
  EXPECT_EQ(LabelOf(Granularity::kHourly, "America/New_York", kT), "2023/11/14/17");
  EXPECT_EQ(LabelOf(Granularity::kHourly, "Asia/Kolkata", kT), "2023/11/15/03");
  EXPECT_EQ(LabelOf(Granularity::kDaily, "Asia/Kolkata", kT), "2023/11/15");
  // A half-hour offset: the local hour boundary falls at :30 UTC.
  const int64_t t2230 = 1700001000000;  // 2023-11-14T22:30:00Z = 04:00 IST
  EXPECT_EQ(LabelOf(Granularity::kHourly, "Asia/Kolkata", t2230 - 1), "2023/11/15/03");
  EXPECT_EQ(LabelOf(Granularity::kHourly, "Asia/Kolkata", t2230), "2023/11/15/04");
}

TEST(S3PluginLayout, DaylightSavingTransitions) {
  const std::string ny = "America/New_York";
  // Spring forward 2024-03-10: 06:59:59Z is 01:59:59 EST, 07:00Z is 03:00 EDT (no 02 hour).
  EXPECT_EQ(LabelOf(Granularity::kHourly, ny, 1710053999000), "2024/03/10/01");
  EXPECT_EQ(LabelOf(Granularity::kHourly, ny, 1710054000000), "2024/03/10/03");
  // Fall back 2024-11-03: 05:30Z is 01:30 EDT and 06:30Z is 01:30 EST: both in local hour 01.
  EXPECT_EQ(LabelOf(Granularity::kHourly, ny, 1730611800000), "2024/11/03/01");
  EXPECT_EQ(LabelOf(Granularity::kHourly, ny, 1730615400000), "2024/11/03/01");
  EXPECT_EQ(LabelOf(Granularity::kHourly, ny, 1730619000000), "2024/11/03/02");  // 07:30Z
  // Local midnight moves with the offset: 2024-03-10 starts at 05:00Z (EST).
  EXPECT_EQ(LabelOf(Granularity::kDaily, ny, 1710046799999), "2024/03/09");
  EXPECT_EQ(LabelOf(Granularity::kDaily, ny, 1710046800000), "2024/03/10");
  // ... and 2024-03-11 at 04:00Z (EDT): the 23-hour day is one partition.
  EXPECT_EQ(LabelOf(Granularity::kDaily, ny, 1710129599999), "2024/03/10");
  EXPECT_EQ(LabelOf(Granularity::kDaily, ny, 1710129600000), "2024/03/11");
}

TEST(S3PluginLayout, CachedLookupsAgreeWithFreshOnesInAnyOrder) {
  // The partitioner caches the last partition's UTC interval; random jumps across DST changes
  // and years must give the same answer as a fresh partitioner.
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> when(946684800000, 2051222400000);  // 2000..2035
  for (const char* zone : {"America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"}) {
    for (Granularity g : {Granularity::kHourly, Granularity::kDaily}) {
      auto cached = Partitioner::Make(g, zone);
      ASSERT_TRUE(cached.ok());
      int64_t t = when(rng);
      for (int i = 0; i < 3000; ++i) {
        // Mostly nearby times (the cache's case), sometimes far jumps.
        t = i % 10 == 0 ? when(rng) : t + static_cast<int64_t>(rng() % 7200000) - 3600000;
        auto fresh = Partitioner::Make(g, zone);
        ASSERT_EQ(cached->Label(cached->Of(t)), fresh->Label(fresh->Of(t))) << zone << " at " << t;
      }
    }
  }
}

TEST(S3PluginLayout, UnknownZoneIsAConfigError) {
  auto p = Partitioner::Make(Granularity::kHourly, "Mars/Olympus_Mons");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), WEIR_INVALID_CONFIG);
  EXPECT_NE(p.status().message().find("partition_timezone"), std::string::npos);
}

TEST(S3PluginLayout, ObjectNamesAreFixedWidth) {
  EXPECT_EQ(ObjectName("demo", 7, 0, ".json.gz"), "demo-000000000007-0000.json.gz");
  EXPECT_EQ(ObjectName("a-b", 123456789012, 12, ".json"), "a-b-123456789012-0012.json");
  EXPECT_EQ(StreamFolder("events"), "mp_master_event");
  EXPECT_EQ(StreamFolder("users"), "mp_people_data");
  EXPECT_EQ(StreamFolder("identities"), "mp_identity_mappings_data");
  EXPECT_EQ(StreamFolder("groups"), "");
}

LayoutSpec Spec(const std::string& stream, uint64_t max_bytes = 1 << 20) {
  LayoutSpec spec;
  spec.prefix = "exports/weir";
  spec.project = "proj";
  spec.stream = stream;
  spec.pipeline = "demo";
  spec.batch_seq = 42;
  spec.extension = ".json.gz";
  spec.max_object_bytes = max_bytes;
  return spec;
}

/// Plans `batch` and returns (key → the records of that object).
std::map<std::string, std::vector<std::string>> Plan(const LayoutSpec& spec,
                                                     s3_test::OwnedBatch& owned,
                                                     const std::string& zone = "UTC",
                                                     Granularity g = Granularity::kHourly) {
  const weir_batch* b = owned.Finish();
  BatchView view(b);
  auto spans = RecordSpans::Of(view);
  EXPECT_TRUE(spans.ok());
  auto partitioner = Partitioner::Make(g, zone);
  auto plans = PlanObjects(spec, &*partitioner, *spans, b->event_time_ms);
  EXPECT_TRUE(plans.ok()) << plans.status().ToString();
  std::map<std::string, std::vector<std::string>> out;
  for (const ObjectPlan& p : *plans) {
    auto& recs = out[p.key];
    EXPECT_TRUE(recs.empty()) << "duplicate key " << p.key;
    size_t n = 0;
    for (const RecordRun& r : p.runs) {
      for (size_t i = r.begin; i < r.end; ++i, ++n) recs.emplace_back(view.record(i));
    }
    EXPECT_EQ(n, p.records);
  }
  return out;
}

TEST(S3PluginLayout, LateEventsGoToTheirEventTimePartition) {
  s3_test::OwnedBatch batch;
  const int64_t h10 = 1763805600000;  // 2025-11-22T10:00:00Z
  batch.Add(s3_test::EventJson(0, h10 + 1000), h10 + 1000);
  batch.Add(s3_test::EventJson(1, h10 - 3 * 86400000), h10 - 3 * 86400000);  // 3 days late
  batch.Add(s3_test::EventJson(2, h10 + 3600000), h10 + 3600000);
  batch.Add(s3_test::EventJson(3, h10 + 2000), h10 + 2000);
  batch.Add(s3_test::EventJson(4, h10 - 3 * 86400000 + 5), h10 - 3 * 86400000 + 5);
  auto objects = Plan(Spec("events"), batch);
  const std::string base = "exports/weir/proj/mp_master_event/";
  ASSERT_EQ(objects.size(), 3u);
  const auto& late = objects[base + "2025/11/19/10/demo-000000000042-0000.json.gz"];
  ASSERT_EQ(late.size(), 2u);
  EXPECT_EQ(late[0], batch.records()[1]);
  EXPECT_EQ(late[1], batch.records()[4]);
  const auto& ten = objects[base + "2025/11/22/10/demo-000000000042-0000.json.gz"];
  ASSERT_EQ(ten.size(), 2u);  // batch order kept inside an object
  EXPECT_EQ(ten[0], batch.records()[0]);
  EXPECT_EQ(ten[1], batch.records()[3]);
  EXPECT_EQ(objects[base + "2025/11/22/11/demo-000000000042-0000.json.gz"].size(), 1u);
}

TEST(S3PluginLayout, DailyGranularityAndZoneInKeys) {
  s3_test::OwnedBatch batch;
  batch.Add(s3_test::EventJson(0, kT), kT);
  auto objects = Plan(Spec("events"), batch, "Asia/Kolkata", Granularity::kDaily);
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects.begin()->first,
            "exports/weir/proj/mp_master_event/2023/11/15/demo-000000000042-0000.json.gz");
}

TEST(S3PluginLayout, UsersAndIdentitiesAreNotDatePartitioned) {
  for (const auto& [stream, folder] : std::vector<std::pair<std::string, std::string>>{
           {"users", "mp_people_data"}, {"identities", "mp_identity_mappings_data"}}) {
    s3_test::OwnedBatch batch;
    batch.Add(R"({"distinct_id":"u1","updated_at":1,"properties":{}})", 1);
    batch.Add(R"({"distinct_id":"u2","updated_at":1800000000000,"properties":{}})", 1800000000000);
    auto objects = Plan(Spec(stream), batch);
    ASSERT_EQ(objects.size(), 1u) << stream;
    EXPECT_EQ(objects.begin()->first,
              "exports/weir/proj/" + folder + "/demo-000000000042-0000.json.gz");
    EXPECT_EQ(objects.begin()->second, batch.records());
  }
}

TEST(S3PluginLayout, EmptyPrefixAndUnknownStream) {
  s3_test::OwnedBatch batch;
  batch.Add(s3_test::EventJson(0, kT), kT);
  LayoutSpec spec = Spec("events");
  spec.prefix = "";
  auto objects = Plan(spec, batch);
  EXPECT_EQ(objects.begin()->first,
            "proj/mp_master_event/2023/11/14/22/demo-000000000042-0000.json.gz");

  s3_test::OwnedBatch other;
  other.Add("{}", 0);
  const weir_batch* b = other.Finish();
  auto spans = RecordSpans::Of(BatchView(b));
  auto plans = PlanObjects(Spec("groups"), nullptr, *spans, b->event_time_ms);
  ASSERT_FALSE(plans.ok());
  EXPECT_EQ(plans.status().code(), WEIR_NOT_IMPLEMENTED);
}

TEST(S3PluginLayout, SplitsAtMaxObjectBytesIntoBalancedParts) {
  s3_test::OwnedBatch batch;
  for (int i = 0; i < 100; ++i) {
    char rec[64];
    std::snprintf(rec, sizeof rec, R"({"event":"e","i":%03d,"pad":"xxxxxxxxxxxxxxxx"})", i);
    batch.Add(rec, kT + i);
  }
  const size_t record_bytes = batch.records()[0].size() + 1;  // all the same length here
  ASSERT_EQ(batch.records()[99].size() + 1, record_bytes);
  const uint64_t max = record_bytes * 30 + 5;  // 30 records fit: 100 records → 4 parts of 25
  auto objects = Plan(Spec("events", max), batch);
  ASSERT_EQ(objects.size(), 4u);
  std::vector<std::string> all;
  int part = 0;
  for (const auto& [key, records] : objects) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, "-%04d.json.gz", part++);
    EXPECT_NE(key.find(suffix), std::string::npos) << key;
    EXPECT_EQ(records.size(), 25u) << key;
    all.insert(all.end(), records.begin(), records.end());
  }
  EXPECT_EQ(all, batch.records());
}

TEST(S3PluginLayout, NoObjectExceedsTheLimitUnlessOneRecordDoes) {
  std::mt19937 rng(7);
  s3_test::OwnedBatch batch;
  for (int i = 0; i < 300; ++i) {
    const int pad = i == 150 ? 5000 : static_cast<int>(rng() % 400);  // one oversized record
    batch.Add(s3_test::EventJson(i, kT + (i % 3) * 3600000, pad), kT + (i % 3) * 3600000);
  }
  const uint64_t max = 2048;
  const weir_batch* b = batch.Finish();
  auto spans = RecordSpans::Of(BatchView(b));
  auto partitioner = Partitioner::Make(Granularity::kHourly, "UTC");
  auto plans = PlanObjects(Spec("events", max), &*partitioner, *spans, b->event_time_ms);
  ASSERT_TRUE(plans.ok());
  std::set<std::string> keys;
  size_t records = 0;
  for (const ObjectPlan& p : *plans) {
    EXPECT_TRUE(keys.insert(p.key).second) << p.key;
    if (p.records > 1) {
      EXPECT_LE(p.bytes, max) << p.key;
    }
    records += p.records;
  }
  EXPECT_EQ(records, 300u);
  // The same batch always gives the same plan.
  auto again = PlanObjects(Spec("events", max), &*partitioner, *spans, b->event_time_ms);
  ASSERT_EQ(again->size(), plans->size());
  for (size_t i = 0; i < plans->size(); ++i) EXPECT_EQ((*again)[i].key, (*plans)[i].key);
}

TEST(S3PluginLayout, RecordSpansWithoutOffsetsScanNewlines) {
  std::string data = "{\"a\":1}\n{\"a\":2}\n";
  weir_batch b{};
  b.struct_size = sizeof b;
  b.format = WEIR_FORMAT_NDJSON;
  b.data = reinterpret_cast<const uint8_t*>(data.data());
  b.size = data.size();
  b.count = 2;
  auto spans = RecordSpans::Of(BatchView(&b));
  ASSERT_TRUE(spans.ok());
  EXPECT_EQ(spans->offsets, (std::vector<size_t>{0, 8, 16}));
  b.count = 3;
  auto bad = RecordSpans::Of(BatchView(&b));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("says 3 records"), std::string::npos);
}

}  // namespace
}  // namespace weir::s3
