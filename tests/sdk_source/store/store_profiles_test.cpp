// tests/sdk_source/store/store_profiles_test.cpp — profile operations with Mixpanel semantics,
// one by one and combined, applied in arrival order; the users stream's snapshots; rebuilding
// the state on reopen; and hostile property names and values surviving as valid JSON.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "store/store_stats.hpp"
#include "store_test_util.hpp"

namespace weir::sdksource {
namespace {

using Kind = ProfileOp::Kind;
using testing::MustAppend;
using testing::MustOpen;
using testing::Op;
using testing::Options;
using testing::ReadAll;
using testing::Row;
using testing::TempDir;

/// A fresh store whose profile "u" the tests change and inspect.
class ProfileHarness {
 public:
  ProfileHarness() : store_(MustOpen(Options(dir_.path()))) {}

  /// Applies `ops` to profile "u" at `time_ms` and returns the snapshot appended for it.
  std::string Apply(std::vector<ProfileOp> ops, int64_t time_ms = 1) {
    const SeqRange r = MustAppend(*store_, {Record::Profile("u", std::move(ops), time_ms)});
    ReadBounds b;
    b.after_seq = r.first - 1;
    const auto rows = testing::MustRead(*store_, Stream::kUsers, b);
    if (rows.size() != 1 || rows[0].seq != r.first) throw std::runtime_error("snapshot missing");
    return rows[0].json;
  }
  /// The properties object of profile "u" as JSON text.
  std::string Props(std::vector<ProfileOp> ops, int64_t time_ms = 1) {
    const std::string snapshot = Apply(std::move(ops), time_ms);
    const std::string head =
        R"({"distinct_id":"u","updated_at":)" + std::to_string(time_ms) + R"(,"properties":)";
    if (snapshot.rfind(head, 0) != 0) return "not a profile snapshot: " + snapshot;
    if (store_->Profile("u") != snapshot) return "Profile() differs: " + snapshot;
    return snapshot.substr(head.size(), snapshot.size() - head.size() - 1);
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST(SdkSourceStore, ProfileSet) {
  ProfileHarness t;
  EXPECT_EQ(t.Props({Op(Kind::kSet, R"({"a":1,"b":"x"})")}), R"({"a":1,"b":"x"})");
  // Overwrites in place (order kept), appends new names.
  EXPECT_EQ(t.Props({Op(Kind::kSet, R"({"c":null,"a":[1,{"k":true}]})")}),
            R"({"a":[1,{"k":true}],"b":"x","c":null})");
}

TEST(SdkSourceStore, ProfileSetOnce) {
  ProfileHarness t;
  t.Props({Op(Kind::kSet, R"({"a":1})")});
  EXPECT_EQ(t.Props({Op(Kind::kSetOnce, R"({"a":2,"first_seen":"mon"})")}),
            R"({"a":1,"first_seen":"mon"})");
  EXPECT_EQ(t.Props({Op(Kind::kSetOnce, R"({"first_seen":"tue"})")}),
            R"({"a":1,"first_seen":"mon"})");
}

TEST(SdkSourceStore, ProfileUnset) {
  ProfileHarness t;
  t.Props({Op(Kind::kSet, R"({"a":1,"b":2,"c":3})")});
  EXPECT_EQ(t.Props({Op(Kind::kUnset, R"(["b","missing",7])")}), R"({"a":1,"c":3})");
}

TEST(SdkSourceStore, ProfileAdd) {
  ProfileHarness t;
  t.Props({Op(Kind::kSet, R"({"i":5,"d":1.5,"s":"text","big":9223372036854775807})")});
  // Integers stay integers; absent counts as 0; doubles add as doubles; a non-numeric
  // property or argument is skipped; an int64 overflow becomes a double.
  EXPECT_EQ(t.Props({Op(Kind::kAdd, R"({"i":-7,"d":1,"new":3,"s":1,"x":"nan","big":1})")}),
            R"({"i":-2,"d":2.5,"s":"text","big":9223372036854775808,"new":3})");
  EXPECT_EQ(t.Props({Op(Kind::kAdd, R"({"i":0.25})")}),
            R"({"i":-1.75,"d":2.5,"s":"text","big":9223372036854775808,"new":3})");
}

TEST(SdkSourceStore, ProfileAppend) {
  ProfileHarness t;
  t.Props({Op(Kind::kSet, R"({"l":[1],"s":"x"})")});
  EXPECT_EQ(t.Props({Op(Kind::kAppend, R"({"l":2,"new":{"o":1},"s":3})")}),
            R"({"l":[1,2],"s":"x","new":[{"o":1}]})");
  EXPECT_EQ(t.Props({Op(Kind::kAppend, R"({"l":[3]})")}),
            R"({"l":[1,2,[3]],"s":"x","new":[{"o":1}]})");
}

TEST(SdkSourceStore, ProfileUnion) {
  ProfileHarness t;
  t.Props({Op(Kind::kSet, R"({"l":["a",1],"s":"x"})")});
  EXPECT_EQ(
      t.Props({Op(Kind::kUnion, R"({"l":["a","b",1.0,2,"b"],"new":["z","z"],"s":["q"],"n":"v"})")}),
      R"({"l":["a",1,"b",2],"s":"x","new":["z"]})");
}

TEST(SdkSourceStore, ProfileRemove) {
  ProfileHarness t;
  t.Props({Op(Kind::kSet, R"({"l":["a","b","a",{"k":[1]}],"s":"a"})")});
  EXPECT_EQ(t.Props({Op(Kind::kRemove, R"({"l":"a","s":"a","missing":1})")}),
            R"({"l":["b",{"k":[1]}],"s":"a"})");
  EXPECT_EQ(t.Props({Op(Kind::kRemove, R"({"l":{"k":[1]}})")}), R"({"l":["b"],"s":"a"})");
}

TEST(SdkSourceStore, ProfileDeleteThenSet) {
  ProfileHarness t;
  t.Props({Op(Kind::kSet, R"({"a":1})")});
  EXPECT_EQ(t.Apply({Op(Kind::kDelete, "")}, 5),
            R"({"distinct_id":"u","updated_at":5,"deleted":true})");
  EXPECT_FALSE(t.store_->Profile("u").has_value());
  // A profile created after a delete starts empty.
  EXPECT_EQ(t.Props({Op(Kind::kSet, R"({"b":2})")}, 6), R"({"b":2})");
  // $delete then $set in one record: one snapshot, the new profile.
  EXPECT_EQ(t.Props({Op(Kind::kDelete, ""), Op(Kind::kSet, R"({"c":3})")}, 7), R"({"c":3})");
  // $set then $delete in one record: a delete marker.
  EXPECT_EQ(t.Apply({Op(Kind::kSet, R"({"d":4})"), Op(Kind::kDelete, "")}, 8),
            R"({"distinct_id":"u","updated_at":8,"deleted":true})");
}

TEST(SdkSourceStore, ProfileCombinedInOneRecordApplyInOrder) {
  ProfileHarness t;
  EXPECT_EQ(
      t.Props({Op(Kind::kSet, R"({"n":1,"tags":["a"]})"), Op(Kind::kAdd, R"({"n":2})"),
               Op(Kind::kSetOnce, R"({"n":100,"once":true})"),
               Op(Kind::kUnion, R"({"tags":["a","b"]})"), Op(Kind::kRemove, R"({"tags":"a"})"),
               Op(Kind::kAppend, R"({"tags":"c"})"), Op(Kind::kUnset, R"(["once"])")}),
      R"({"n":3,"tags":["b","c"]})");
  // One record, one snapshot.
  EXPECT_EQ(ReadAll(*t.store_, Stream::kUsers).size(), 1u);
}

TEST(SdkSourceStore, ProfileArrivalOrderWinsOverEventTime) {
  ProfileHarness t;
  // The later arrival applies last even though its event time is older, and updated_at does
  // not go backwards: the snapshot is the newest state, so a destination's "highest
  // updated_at wins" merge must keep it.
  t.Props({Op(Kind::kSet, R"({"plan":"pro"})")}, 2000);
  EXPECT_EQ(t.Apply({Op(Kind::kSet, R"({"plan":"free"})")}, 1000),
            R"({"distinct_id":"u","updated_at":2000,"properties":{"plan":"free"}})");
  EXPECT_EQ(t.store_->Profile("u"),
            R"({"distinct_id":"u","updated_at":2000,"properties":{"plan":"free"}})");
  // A newer operation moves it forward again.
  EXPECT_EQ(t.Apply({Op(Kind::kSet, R"({"plan":"team"})")}, 3000),
            R"({"distinct_id":"u","updated_at":3000,"properties":{"plan":"team"}})");
}

TEST(SdkSourceStore, ProfilesAreIndependentAndUnknownIsNullopt) {
  ProfileHarness t;
  MustAppend(*t.store_, {Record::Profile("a", {Op(Kind::kSet, R"({"x":1})")}, 1),
                         Record::Profile("b", {Op(Kind::kSet, R"({"x":2})")}, 2),
                         Record::Profile("a", {Op(Kind::kAdd, R"({"x":10})")}, 3)});
  EXPECT_EQ(t.store_->Profile("a"), R"({"distinct_id":"a","updated_at":3,"properties":{"x":11}})");
  EXPECT_EQ(t.store_->Profile("b"), R"({"distinct_id":"b","updated_at":2,"properties":{"x":2}})");
  EXPECT_FALSE(t.store_->Profile("c").has_value());
  // A profile op with no operations still records the profile (empty properties).
  MustAppend(*t.store_, {Record::Profile("c", {}, 4)});
  EXPECT_EQ(t.store_->Profile("c"), R"({"distinct_id":"c","updated_at":4,"properties":{}})");
}

TEST(SdkSourceStore, ProfilesAreRebuiltOnReopen) {
  TempDir dir;
  std::vector<std::string> ids;
  std::vector<std::optional<std::string>> before;
  {
    auto store = MustOpen(Options(dir.path(), 700));
    for (int i = 0; i < 120; ++i) {
      const std::string id = "user-" + std::to_string(i % 17);
      std::vector<ProfileOp> ops;
      switch (i % 6) {
        case 0:
          ops.push_back(Op(Kind::kSet, R"({"i":)" + std::to_string(i) + "}"));
          break;
        case 1:
          ops.push_back(Op(Kind::kAdd, R"({"count":1})"));
          break;
        case 2:
          ops.push_back(Op(Kind::kUnion, R"({"seen":[)" + std::to_string(i % 4) + "]}"));
          break;
        case 3:
          ops.push_back(Op(Kind::kSetOnce, R"({"first":)" + std::to_string(i) + "}"));
          break;
        case 4:
          ops.push_back(Op(Kind::kUnset, R"(["i"])"));
          break;
        case 5:
          ops.push_back(Op(i % 4 == 1 ? Kind::kDelete : Kind::kAppend, R"({"log":"x"})"));
          break;
      }
      MustAppend(*store, {Record::Profile(id, std::move(ops), i)});
    }
    for (int k = 0; k < 17; ++k) {
      ids.push_back("user-" + std::to_string(k));
      before.push_back(store->Profile(ids.back()));
    }
  }
  auto store = MustOpen(Options(dir.path(), 700));
  int deleted = 0;
  for (size_t k = 0; k < ids.size(); ++k) {
    EXPECT_EQ(store->Profile(ids[k]), before[k]) << ids[k];
    if (!before[k]) ++deleted;
  }
  EXPECT_GT(deleted, 0);
  EXPECT_EQ(GetStoreStats(*store).profiles, ids.size() - static_cast<size_t>(deleted));
  // And the next operation builds on the rebuilt state.
  MustAppend(*store, {Record::Profile("user-1", {Op(Kind::kAdd, R"({"count":1000})")}, 999)});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(*store->Profile("user-1")).get(doc), simdjson::SUCCESS);
  int64_t count = 0;
  ASSERT_EQ(doc["properties"]["count"].get(count), simdjson::SUCCESS);
  EXPECT_GT(count, 1000);
}

TEST(SdkSourceStore, HostileNamesAndValuesStayValidJson) {
  TempDir dir;
  auto store = MustOpen(Options(dir.path()));
  // Names and values with quotes, backslashes, every control character, NUL, non-ASCII
  // (2-, 3- and 4-byte UTF-8, U+2028) and JSON-looking text.
  std::string controls;
  for (int c = 1; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  const std::vector<std::string> hostile = {"quote\"inside",
                                            "back\\slash",
                                            "\\\"",
                                            controls,
                                            std::string("nul\0byte", 8),
                                            "caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80",
                                            "\"},{\"evil\":1",
                                            "",
                                            "\x7f"};
  const std::string id = "id \"with\" \\ and \n newline";

  // Build the $set argument with a JSON encoder that is not the store's: \u escapes for all.
  auto encode = [](const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c < 0x20 || c == '"' || c == '\\') {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    return out + "\"";
  };
  std::string arg = "{";
  for (size_t i = 0; i < hostile.size(); ++i) {
    if (i > 0) arg += ",";
    arg += encode("k" + std::to_string(i) + hostile[i]) + ":" + encode(hostile[i]);
  }
  arg += "}";
  MustAppend(*store,
             {Record::Profile(id, {Op(Kind::kSet, arg)}, 1),
              Record::Profile(id, {Op(Kind::kAppend, R"({"list":)" + encode(controls) + "}")}, 2)});

  auto check = [&](const std::string& snapshot) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(snapshot).get(doc), simdjson::SUCCESS) << snapshot;
    std::string_view got_id;
    ASSERT_EQ(doc["distinct_id"].get(got_id), simdjson::SUCCESS);
    EXPECT_EQ(got_id, id);
    simdjson::dom::object props;
    ASSERT_EQ(doc["properties"].get(props), simdjson::SUCCESS);
    size_t i = 0;
    for (auto field : props) {
      if (field.key == "list") continue;
      ASSERT_LT(i, hostile.size());
      EXPECT_EQ(field.key, "k" + std::to_string(i) + hostile[i]);
      std::string_view v;
      ASSERT_EQ(field.value.get(v), simdjson::SUCCESS);
      EXPECT_EQ(v, hostile[i]);
      ++i;
    }
    EXPECT_EQ(i, hostile.size());
  };
  const auto rows = ReadAll(*store, Stream::kUsers);
  ASSERT_EQ(rows.size(), 2u);
  for (const Row& r : rows) {
    check(r.json);
    EXPECT_EQ(r.json.find('\n'), std::string::npos);  // NDJSON-safe
  }
  check(*store->Profile(id));
  store.reset();
  store = MustOpen(Options(dir.path()));
  check(*store->Profile(id));
}

}  // namespace
}  // namespace weir::sdksource
