// tests/sdk_source/plugin/plugin_test.cpp — the sdk-source plugin through its raw C vtable, on a
// real store written by Store::Open + Append while the plugin reads it: range reads and
// watermarks, replay of (from, to] with identical bytes, window reads with an ingest bound,
// limits (across the reader's internal chunks too), users snapshots, identities, config errors
// naming the field, and check()/read() on a missing store.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin_test_util.hpp"
#include "store/store.hpp"

namespace weir::sdksource_test {
namespace {

using sdksource::ProfileOp;
using sdksource::Record;
using sdksource::Stream;
using testkit_test::ReadResult;
using testkit_test::SourceInstance;
using testkit_test::TempDir;

constexpr int64_t kT0 = 1700000000000;  // 2023-11-14T22:13:20Z

const weir_plugin& Plugin() { return testkit_test::Plugin(WEIR_SDK_SOURCE_SO); }

/// A read request of any mode / stream; the strings must outlive the call.
weir_read_request Request(int32_t mode, const char* stream, const std::string& from,
                          const std::string& to, uint64_t max_records = 0, uint64_t max_bytes = 0) {
  weir_read_request req{};
  req.struct_size = sizeof(req);
  req.mode = mode;
  req.stream = stream;
  req.from_wm = {reinterpret_cast<const uint8_t*>(from.data()), from.size()};
  req.to_wm = {reinterpret_cast<const uint8_t*>(to.data()), to.size()};
  req.max_records = max_records;
  req.max_bytes = max_bytes;
  return req;
}

class SdkSourcePluginTest : public testing::Test {
 protected:
  void SetUp() override { writer_ = OpenWriter(StoreDir()); }

  std::string StoreDir() const { return dir_ / "demo"; }

  /// Opens (and checks) a plugin instance on the "demo" store.
  SourceInstance& Source() {
    if (!source_) {
      source_ = std::make_unique<SourceInstance>(Plugin());
      Status s = source_->Open(SourceConfigJson(dir_.path(), "demo"), host_);
      EXPECT_TRUE(s.ok()) << s.ToString();
      Status c = source_->Check();
      EXPECT_TRUE(c.ok()) << c.ToString();
    }
    return *source_;
  }

  /// Appends events 0..n-1 (event time kT0 + 1000 * i) and returns their JSON.
  std::vector<std::string> AppendEvents(int first, int n) {
    std::vector<Record> records;
    std::vector<std::string> json;
    for (int i = first; i < first + n; ++i) {
      json.push_back(EventJson(i, kT0 + 1000 * i));
      records.push_back(Record::Event(json.back(), kT0 + 1000 * i));
    }
    Append(*writer_, std::move(records));
    return json;
  }

  ReadResult Range(const char* stream, const std::string& from, const std::string& to = "",
                   uint64_t max_records = 0, uint64_t max_bytes = 0) {
    return Source().Read(Request(WEIR_READ_RANGE, stream, from, to, max_records, max_bytes));
  }

  TempDir dir_;
  testkit::FakeHost host_;
  std::unique_ptr<sdksource::Store> writer_;
  std::unique_ptr<SourceInstance> source_;
};

TEST_F(SdkSourcePluginTest, RangeReadsReturnStoredRecordsByteExactWithSeqWatermarks) {
  const auto json = AppendEvents(0, 5);
  const StoredCopy stored = ReadAll(StoreDir(), Stream::kEvents);
  ASSERT_EQ(stored.json, json);

  ReadResult a = Range("events", "", "", 2);
  ASSERT_TRUE(a.status.ok()) << a.status.ToString();
  EXPECT_EQ(a.records, (std::vector<std::string>{json[0], json[1]}));
  EXPECT_EQ(a.seqs, (std::vector<uint64_t>{stored.seqs[0], stored.seqs[1]}));
  EXPECT_EQ(a.times, (std::vector<int64_t>{kT0, kT0 + 1000}));
  EXPECT_EQ(a.high_watermark, SeqWm(stored.seqs[1]));
  EXPECT_EQ(a.data, json[0] + "\n" + json[1] + "\n");

  ReadResult b = Range("events", a.high_watermark, "", 2);
  EXPECT_EQ(b.records, (std::vector<std::string>{json[2], json[3]}));
  EXPECT_EQ(b.high_watermark, SeqWm(stored.seqs[3]));
  ReadResult c = Range("events", b.high_watermark, "", 2);
  EXPECT_EQ(c.records, (std::vector<std::string>{json[4]}));
  ReadResult d = Range("events", c.high_watermark, "", 2);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_TRUE(d.records.empty());
  EXPECT_EQ(host_.Metric("sdk_source.records"), 5);

  // Incremental: what arrives later is read after the last watermark.
  const auto more = AppendEvents(5, 3);
  ReadResult e = Range("events", c.high_watermark);
  EXPECT_EQ(e.records, more);
}

TEST_F(SdkSourcePluginTest, ReplayWithToWmGivesIdenticalBytesEvenAfterTheStoreGrew) {
  AppendEvents(0, 10);
  ReadResult first = Range("events", "", "", 4);
  ReadResult second = Range("events", first.high_watermark, "", 4);
  ASSERT_EQ(second.records.size(), 4u);
  AppendEvents(10, 10);  // arrives between the original read and the replay

  // Limits are advisory on a replay: exactly (from, to] comes back.
  ReadResult replay = Range("events", first.high_watermark, second.high_watermark, 1, 1);
  ASSERT_TRUE(replay.status.ok()) << replay.status.ToString();
  EXPECT_EQ(replay.data, second.data);
  EXPECT_EQ(replay.seqs, second.seqs);
  EXPECT_EQ(replay.times, second.times);
  EXPECT_EQ(replay.high_watermark, second.high_watermark);

  ReadResult whole = Range("events", "", second.high_watermark);
  EXPECT_EQ(whole.data, first.data + second.data);
  EXPECT_TRUE(Range("events", first.high_watermark, first.high_watermark).records.empty());
}

TEST_F(SdkSourcePluginTest, MaxBytesKeepsTheAtLeastOneRecordRule) {
  const auto json = AppendEvents(0, 3);
  EXPECT_EQ(Range("events", "", "", 0, 1).records, (std::vector<std::string>{json[0]}));
  const uint64_t two = json[0].size() + 1 + json[1].size() + 1;
  EXPECT_EQ(Range("events", "", "", 0, two).records.size(), 2u);
  EXPECT_EQ(Range("events", "", "", 0, two - 1).records.size(), 1u);
  EXPECT_EQ(Range("events", "", "", 0, 0).records.size(), 3u);
  EXPECT_EQ(Range("events", "", "", 2, two * 10).records.size(), 2u);
}

TEST_F(SdkSourcePluginTest, LimitsHoldAcrossTheReadersInternalChunks) {
  // More records than one internal store call returns (16384), all of the same size.
  constexpr int kCount = 20000;
  std::vector<Record> records;
  for (int i = 0; i < kCount; ++i) {
    char json[64];
    // Fixed-width numbers: every record has the same size.
    std::snprintf(json, sizeof json, R"({"event":"e","time":%d,"insert_id":"%08d"})", 1000000 + i,
                  i);
    records.push_back(Record::Event(json, 1000000 + i));
  }
  Append(*writer_, std::move(records));
  const StoredCopy stored = ReadAll(StoreDir(), Stream::kEvents);
  ASSERT_EQ(stored.json.size(), static_cast<size_t>(kCount));
  const uint64_t line = stored.json[0].size() + 1;

  ReadResult all = Range("events", "");
  ASSERT_TRUE(all.status.ok()) << all.status.ToString();
  EXPECT_EQ(all.data, stored.ndjson);
  EXPECT_EQ(all.seqs, stored.seqs);
  EXPECT_EQ(all.high_watermark, SeqWm(stored.seqs.back()));

  ReadResult by_count = Range("events", "", "", 17000);
  EXPECT_EQ(by_count.records.size(), 17000u);
  EXPECT_EQ(by_count.high_watermark, SeqWm(stored.seqs[16999]));

  ReadResult by_bytes = Range("events", "", "", 0, 17000 * line + line / 2);
  EXPECT_EQ(by_bytes.records.size(), 17000u);
  EXPECT_EQ(by_bytes.data.size(), 17000 * line);
  ReadResult rest = Range("events", by_bytes.high_watermark, "", 0, 17000 * line);
  EXPECT_EQ(rest.records.size(), 3000u);
  EXPECT_EQ(by_bytes.data + rest.data, stored.ndjson);
}

TEST_F(SdkSourcePluginTest, WindowReadsSelectByEventTimeAfterCursorBeforeBound) {
  // Event times by position: 100 250 50 300 200 150 (ms after kT0).
  const int64_t offsets[] = {100, 250, 50, 300, 200, 150};
  std::vector<Record> records;
  for (int i = 0; i < 6; ++i)
    records.push_back(Record::Event(EventJson(i, kT0 + offsets[i]), kT0 + offsets[i]));
  Append(*writer_, std::move(records));
  const StoredCopy stored = ReadAll(StoreDir(), Stream::kEvents);
  const auto& s = stored.seqs;

  auto window = [&](const std::string& from, const std::string& bound, uint64_t max_records = 0,
                    const std::string& to = "") {
    weir_read_request req = Request(WEIR_READ_WINDOW, "events", from, to, max_records);
    req.window_start_ms = kT0 + 100;
    req.window_end_ms = kT0 + 250;
    req.bound_wm = {reinterpret_cast<const uint8_t*>(bound.data()), bound.size()};
    return Source().Read(req);
  };
  ReadResult all = window("", "");
  ASSERT_TRUE(all.status.ok()) << all.status.ToString();
  EXPECT_EQ(all.seqs, (std::vector<uint64_t>{s[0], s[4], s[5]}));
  EXPECT_EQ(all.times, (std::vector<int64_t>{kT0 + 100, kT0 + 200, kT0 + 150}));
  EXPECT_EQ(all.high_watermark, SeqWm(s[5]));

  // A bound is the cut just after its record: that record is in, later ones are not.
  EXPECT_EQ(window("", SeqWm(s[5])).seqs, (std::vector<uint64_t>{s[0], s[4], s[5]}));
  EXPECT_EQ(window("", SeqWm(s[4])).seqs, (std::vector<uint64_t>{s[0], s[4]}));
  EXPECT_EQ(window("", SeqWm(s[4] - 1)).seqs, (std::vector<uint64_t>{s[0]}));
  EXPECT_EQ(window(SeqWm(s[0]), "").seqs, (std::vector<uint64_t>{s[4], s[5]}));
  EXPECT_TRUE(window("", SeqWm(0)).records.empty());

  ReadResult first = window("", "", 1);
  EXPECT_EQ(first.seqs, (std::vector<uint64_t>{s[0]}));
  ReadResult next = window(first.high_watermark, "", 1);
  EXPECT_EQ(next.seqs, (std::vector<uint64_t>{s[4]}));
  // A window batch replays exactly.
  ReadResult replay = window(first.high_watermark, "", 0, next.high_watermark);
  EXPECT_EQ(replay.data, next.data);
  EXPECT_EQ(replay.high_watermark, next.high_watermark);

  // Records arriving later are in the window unless the bound excludes them.
  Append(*writer_, {Record::Event(EventJson(6, kT0 + 120), kT0 + 120)});
  EXPECT_EQ(window("", "").seqs.size(), 4u);
  EXPECT_EQ(window("", SeqWm(s[5])).seqs.size(), 3u);
}

TEST_F(SdkSourcePluginTest, HeadNamesTheNewestRecordAndPartitionsRangeFromWindow) {
  weir_read_request head = Request(WEIR_READ_HEAD, "events", "", "");
  ReadResult empty = Source().Read(head);
  ASSERT_TRUE(empty.status.ok()) << empty.status.ToString();
  EXPECT_TRUE(empty.records.empty());
  EXPECT_EQ(empty.high_watermark, SeqWm(0));  // 8 zero bytes: non-empty, the beginning

  const int64_t offsets[] = {10, 20, 30, 40};
  std::vector<Record> records;
  for (int i = 0; i < 4; ++i)
    records.push_back(Record::Event(EventJson(i, kT0 + offsets[i]), kT0 + offsets[i]));
  Append(*writer_, std::move(records));
  ReadResult cut = Source().Read(head);
  ASSERT_TRUE(cut.status.ok()) << cut.status.ToString();
  EXPECT_TRUE(cut.records.empty());
  const StoredCopy stored = ReadAll(StoreDir(), Stream::kEvents);
  EXPECT_EQ(cut.high_watermark, SeqWm(stored.seqs.back()));

  Append(*writer_, {Record::Event(EventJson(4, kT0 + 15), kT0 + 15),
                    Record::Event(EventJson(5, kT0 + 25), kT0 + 25)});
  // After the cut (incremental) and bounded by it (backfill): every record exactly once.
  ReadResult after = Range("events", cut.high_watermark);
  weir_read_request window = Request(WEIR_READ_WINDOW, "events", "", "");
  window.window_start_ms = kT0;
  window.window_end_ms = kT0 + 1000;
  window.bound_wm = {reinterpret_cast<const uint8_t*>(cut.high_watermark.data()),
                     cut.high_watermark.size()};
  ReadResult before = Source().Read(window);
  ASSERT_TRUE(before.status.ok()) << before.status.ToString();
  EXPECT_EQ(before.records.size(), 4u);
  EXPECT_EQ(after.records.size(), 2u);
  std::vector<std::string> all = before.records;
  all.insert(all.end(), after.records.begin(), after.records.end());
  std::sort(all.begin(), all.end());
  std::vector<std::string> expected = ReadAll(StoreDir(), Stream::kEvents).json;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(all, expected);
}

TEST_F(SdkSourcePluginTest, StreamsShareTheSeqCounterAndReadOnlyTheirOwnRecords) {
  Append(*writer_, {Record::Event(EventJson(1, kT0), kT0),
                    Record::Identity(IdentityJson(1, kT0 + 1), kT0 + 1),
                    Record::Event(EventJson(2, kT0 + 2), kT0 + 2),
                    Record::Identity(IdentityJson(2, kT0 + 3), kT0 + 3)});
  ReadResult events = Range("events", "");
  ReadResult identities = Range("identities", "");
  EXPECT_EQ(events.records, (std::vector<std::string>{EventJson(1, kT0), EventJson(2, kT0 + 2)}));
  EXPECT_EQ(identities.records,
            (std::vector<std::string>{IdentityJson(1, kT0 + 1), IdentityJson(2, kT0 + 3)}));
  EXPECT_EQ(identities.times, (std::vector<int64_t>{kT0 + 1, kT0 + 3}));
  ASSERT_EQ(events.seqs.size(), 2u);
  ASSERT_EQ(identities.seqs.size(), 2u);
  EXPECT_LT(events.seqs[0], identities.seqs[0]);
  EXPECT_LT(identities.seqs[0], events.seqs[1]);
  // The events watermark skips the identities' seqs: reading after it finds nothing.
  EXPECT_TRUE(Range("events", events.high_watermark).records.empty());
  EXPECT_TRUE(Range("identities", identities.high_watermark).records.empty());
}

TEST_F(SdkSourcePluginTest, UsersStreamExportsEveryProfileChangeAsAFullSnapshot) {
  Append(*writer_,
         {Record::Profile("u1", {Op(ProfileOp::Kind::kSet, R"({"plan":"free","visits":1})")},
                          kT0 + 1)});
  Append(*writer_,
         {Record::Profile("u1", {Op(ProfileOp::Kind::kAdd, R"({"visits":2})")}, kT0 + 2),
          Record::Profile("u2", {Op(ProfileOp::Kind::kSet, R"({"plan":"pro"})")}, kT0 + 3),
          Record::Profile("u1", {Op(ProfileOp::Kind::kUnset, R"(["plan"])")}, kT0 + 4),
          Record::Profile("u2", {Op(ProfileOp::Kind::kDelete, "{}")}, kT0 + 5)});
  ReadResult users = Range("users", "");
  ASSERT_TRUE(users.status.ok()) << users.status.ToString();
  EXPECT_EQ(users.data, ReadAll(StoreDir(), Stream::kUsers).ndjson);
  ASSERT_EQ(users.records.size(), 5u);
  EXPECT_EQ(users.times, (std::vector<int64_t>{kT0 + 1, kT0 + 2, kT0 + 3, kT0 + 4, kT0 + 5}));

  simdjson::dom::parser parser;
  auto snapshot = [&](size_t i) { return parser.parse(users.records[i]).value(); };
  auto u1a = snapshot(0);
  EXPECT_EQ(std::string_view(u1a["distinct_id"].get_string().value()), "u1");
  EXPECT_EQ(std::string_view(u1a["properties"]["plan"].get_string().value()), "free");
  EXPECT_EQ(u1a["properties"]["visits"].get_int64().value(), 1);
  auto u1b = snapshot(1);
  EXPECT_EQ(u1b["properties"]["visits"].get_int64().value(), 3);
  EXPECT_EQ(std::string_view(u1b["properties"]["plan"].get_string().value()), "free");
  auto u1c = snapshot(3);
  EXPECT_EQ(u1c["properties"]["plan"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(u1c["properties"]["visits"].get_int64().value(), 3);
  auto u2d = snapshot(4);
  EXPECT_EQ(std::string_view(u2d["distinct_id"].get_string().value()), "u2");
  EXPECT_TRUE(u2d["deleted"].get_bool().value());

  // Incremental export of changed profiles: only what changed after the watermark.
  ReadResult first_two = Range("users", "", "", 2);
  ReadResult later = Range("users", first_two.high_watermark);
  EXPECT_EQ(later.records.size(), 3u);
}

TEST_F(SdkSourcePluginTest, BadRequestsAreClearErrors) {
  AppendEvents(0, 2);
  const StoredCopy stored = ReadAll(StoreDir(), Stream::kEvents);
  ReadResult short_wm = Range("events", "abc");
  EXPECT_EQ(short_wm.status.code(), WEIR_ERROR);
  EXPECT_NE(short_wm.status.message().find("from_wm must be empty or 8 bytes"), std::string::npos)
      << short_wm.status.message();
  ReadResult beyond = Range("events", SeqWm(stored.seqs.back() + 100));
  EXPECT_EQ(beyond.status.code(), WEIR_ERROR);
  EXPECT_NE(beyond.status.message().find("committed records only up to seq " +
                                         std::to_string(stored.seqs.back())),
            std::string::npos)
      << beyond.status.message();
  ReadResult backwards = Range("events", SeqWm(stored.seqs[1]), SeqWm(stored.seqs[0]));
  EXPECT_NE(backwards.status.message().find("is before from_wm"), std::string::npos);
  ReadResult to_beyond = Range("events", "", SeqWm(stored.seqs.back() + 1));
  EXPECT_NE(to_beyond.status.message().find("to_wm is seq"), std::string::npos);

  ReadResult stream = Range("sessions", "");
  EXPECT_EQ(stream.status.code(), WEIR_NOT_IMPLEMENTED);
  EXPECT_NE(stream.status.message().find("stream 'sessions' is not supported"), std::string::npos);
  ReadResult mode = Source().Read(Request(7, "events", "", ""));
  EXPECT_EQ(mode.status.code(), WEIR_NOT_IMPLEMENTED);
  weir_read_request empty_window = Request(WEIR_READ_WINDOW, "events", "", "");
  empty_window.window_start_ms = empty_window.window_end_ms = kT0;
  EXPECT_NE(Source().Read(empty_window).status.message().find("empty window"), std::string::npos);
}

TEST(SdkSourcePluginConfig, InvalidConfigsNameTheField) {
  testkit::FakeHost host;
  auto open = [&](const std::string& config) {
    SourceInstance source(Plugin());
    return source.Open(config, host);
  };
  const std::pair<std::string, std::string> cases[] = {
      {R"({"project":"p"})", "config.data_dir: required (a string)"},
      {R"({"data_dir":"/x"})", "config.project: required (a string)"},
      {R"({"data_dir":7,"project":"p"})", "config.data_dir: expected a string, got number"},
      {R"({"data_dir":"","project":"p"})", "config.data_dir: must not be empty"},
      {R"({"data_dir":"/x","project":"a/b"})", "config.project: 'a/b' is not a project name"},
      {R"({"data_dir":"/x","project":".."})", "config.project: '..' is not a project name"},
      // Names the collector refuses, so it can never have created their store.
      {R"({"data_dir":"/x","project":"a b"})",
       "config.project: 'a b' is not a project name (it names a directory: 1 to 128 letters, "
       "digits, '_', '-' or '.', not '.' or '..')"},
      {R"({"data_dir":"/x","project":"caf\u00e9"})", "is not a project name"},
      {R"({"data_dir":"/x","project":"a\\b"})", "is not a project name"},
      {R"({"data_dir":"/x","project":")" + std::string(129, 'p') + R"("})",
       "is not a project name"},
      {R"({"data_dir":"/x","project":"p","retention_days":-1})",
       "config.retention_days: must be between 0 and"},
      {R"({"data_dir":"/x","project":"p","retention_days":"7"})",
       "config.retention_days: expected an integer, got string"},
      {R"({"data_dir":"/x","project":"p","path":"/y"})", "config.path: unknown key"},
      {R"({"data_dir":"/x","project":"p","project":"q"})", "config.project: given more than once"},
      {R"(["data_dir"])", "config: expected a JSON object, got array"},
      {"{", "config: not valid JSON"},
  };
  for (const auto& [config, message] : cases) {
    Status s = open(config);
    EXPECT_EQ(s.code(), WEIR_INVALID_CONFIG) << config;
    EXPECT_NE(s.message().find(message), std::string::npos) << config << " -> " << s.message();
  }
  // retention_days is accepted (and ignored by the reader).
  EXPECT_TRUE(open(R"({"data_dir":"/x","project":"p","retention_days":30})").ok());
}

TEST(SdkSourcePluginConfig, ProjectNamesFollowTheCollectorsRuleInOpenAndTheSchema) {
  // One rule (store/store.hpp) for the collector, which creates data_dir/<project>, and the
  // source, which reads it; the config schema says the same in its pattern and maxLength.
  simdjson::dom::parser parser;
  simdjson::dom::element schema;
  const std::string schema_text = Plugin().config_schema;
  ASSERT_EQ(parser.parse(schema_text).get(schema), simdjson::SUCCESS);
  std::string_view pattern;
  int64_t max_length = 0;
  ASSERT_EQ(schema["properties"]["project"]["pattern"].get(pattern), simdjson::SUCCESS);
  ASSERT_EQ(schema["properties"]["project"]["maxLength"].get(max_length), simdjson::SUCCESS);
  const std::regex schema_pattern{std::string(pattern)};

  testkit::FakeHost host;
  // JSON string contents: "a\\b" is a backslash, "caf\u00e9" an e with an accent.
  const std::string names[] = {"demo", "Demo_2.prod-eu", "a", "...", "-",
                               std::string(128, 'x'), std::string(129, 'x'), "a b", "a/b",
                               "a\\\\b", "caf\\u00e9", "tab\\t", ".", "..", "a:b", "a*"};
  for (const std::string& name : names) {
    simdjson::dom::parser name_parser;
    std::string_view decoded;  // the name as JSON decodes it
    const std::string quoted = "\"" + name + "\"";
    ASSERT_EQ(name_parser.parse(quoted).get(decoded), simdjson::SUCCESS) << name;
    const bool valid = sdksource::IsValidProjectName(decoded);
    SourceInstance source(Plugin());
    Status opened = source.Open(R"({"data_dir":"/x","project":")" + name + R"("})", host);
    EXPECT_EQ(opened.ok(), valid) << name << ": " << opened.message();
    if (!valid) {
      EXPECT_EQ(opened.code(), WEIR_INVALID_CONFIG) << name;
    }
    // The schema cannot say "not '.' or '..'"; otherwise it agrees.
    if (decoded != "." && decoded != "..") {
      const bool schema_ok = std::regex_search(std::string(decoded), schema_pattern) &&
                             int64_t(decoded.size()) <= max_length;
      EXPECT_EQ(schema_ok, valid) << name;
    }
  }
}

TEST(SdkSourcePluginConfig, OpenSucceedsButCheckAndReadNameAMissingStore) {
  TempDir dir;
  testkit::FakeHost host;
  SourceInstance source(Plugin());
  ASSERT_TRUE(source.Open(SourceConfigJson(dir.path(), "nope"), host).ok());
  Status check = source.Check();
  EXPECT_EQ(check.code(), WEIR_ERROR);
  EXPECT_NE(check.message().find("no store for config.project 'nope'"), std::string::npos)
      << check.message();
  EXPECT_NE(check.message().find(dir / "nope"), std::string::npos) << check.message();
  ReadResult read = source.Range("");
  EXPECT_NE(read.status.message().find("no store for config.project 'nope'"), std::string::npos);

  SourceInstance no_dir(Plugin());
  ASSERT_TRUE(no_dir.Open(SourceConfigJson(dir / "missing", "p"), host).ok());
  Status c2 = no_dir.Check();
  EXPECT_NE(c2.message().find("config.data_dir '" + (dir / "missing") + "' is not a directory"),
            std::string::npos)
      << c2.message();
}

}  // namespace
}  // namespace weir::sdksource_test
