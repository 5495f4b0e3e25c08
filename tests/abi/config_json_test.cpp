// tests/abi/config_json_test.cpp — weir/config_json.hpp: the typed config getters and the type
// names every plugin's config messages use.
//
// Messages are compared exactly: plugins, their tests and their docs quote them, so a change of
// wording must show up here first.
#include "weir/config_json.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using simdjson::dom::element_type;

/// A parsed JSON object; valid as long as this lives.
class Obj {
 public:
  explicit Obj(std::string_view json) {
    simdjson::dom::element root;
    EXPECT_EQ(parser_.parse(json.data(), json.size()).get(root), simdjson::SUCCESS) << json;
    EXPECT_EQ(root.get_object().get(obj_), simdjson::SUCCESS) << json;
  }
  const simdjson::dom::object& operator*() const { return obj_; }

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::object obj_;
};

/// The message of a failed `r`, which must be WEIR_INVALID_CONFIG.
template <typename T>
std::string Error(const weir::Result<T>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "(ok)";
  EXPECT_EQ(r.status().code(), WEIR_INVALID_CONFIG) << r.status().message();
  return r.status().message();
}

TEST(ConfigJson, JsonTypeWithArticleNamesEveryType) {
  EXPECT_STREQ(weir::JsonTypeWithArticle(element_type::ARRAY), "an array");
  EXPECT_STREQ(weir::JsonTypeWithArticle(element_type::OBJECT), "an object");
  EXPECT_STREQ(weir::JsonTypeWithArticle(element_type::INT64), "an integer");
  EXPECT_STREQ(weir::JsonTypeWithArticle(element_type::UINT64), "an integer");
  EXPECT_STREQ(weir::JsonTypeWithArticle(element_type::DOUBLE), "a number");
  EXPECT_STREQ(weir::JsonTypeWithArticle(element_type::STRING), "a string");
  EXPECT_STREQ(weir::JsonTypeWithArticle(element_type::BOOL), "a boolean");
  EXPECT_STREQ(weir::JsonTypeWithArticle(element_type::NULL_VALUE), "null");
}

TEST(ConfigJson, JsonTypeWithArticleMatchesWhatSimdjsonParses) {
  Obj o(R"({"a":[],"o":{},"i":-1,"u":18446744073709551615,"d":1.5,"s":"","b":false,"n":null})");
  const std::pair<const char*, const char*> cases[] = {
      {"a", "an array"}, {"o", "an object"}, {"i", "an integer"}, {"u", "an integer"},
      {"d", "a number"}, {"s", "a string"},  {"b", "a boolean"},  {"n", "null"},
  };
  for (const auto& [key, expected] : cases) {
    EXPECT_STREQ(weir::JsonTypeWithArticle((*o)[key].type()), expected) << key;
  }
}

TEST(ConfigJson, RequiredStringReturnsTheValue) {
  Obj o(R"({"path":"/var/lib/weir"})");
  auto r = weir::RequiredString(*o, "config.", "path");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "/var/lib/weir");
}

TEST(ConfigJson, RequiredStringNamesEveryMistake) {
  Obj o(R"({"num":5,"arr":[],"nul":null,"empty":""})");
  EXPECT_EQ(Error(weir::RequiredString(*o, "config.", "path")), "config.path: required (a string)");
  EXPECT_EQ(Error(weir::RequiredString(*o, "config.", "num")),
            "config.num: expected a string, got number");
  EXPECT_EQ(Error(weir::RequiredString(*o, "config.", "arr")),
            "config.arr: expected a string, got array");
  EXPECT_EQ(Error(weir::RequiredString(*o, "config.", "nul")),
            "config.nul: expected a string, got null");
  EXPECT_EQ(Error(weir::RequiredString(*o, "config.", "empty")), "config.empty: must not be empty");
}

TEST(ConfigJson, WhereIsThePrefixOfTheKey) {
  Obj o(R"({"events":7})");
  EXPECT_EQ(Error(weir::RequiredString(*o, "config.tables.", "events")),
            "config.tables.events: expected a string, got number");
  EXPECT_EQ(Error(weir::RequiredString(*o, "", "users")), "users: required (a string)");
}

TEST(ConfigJson, StringsWithANulByteAreRefusedWithoutEchoingThem) {
  // \u0000 is valid JSON; the value could be a secret, so it must not appear in the message.
  Obj o(R"({"password":"hunter2\u0000tail","user":"\u0000"})");
  EXPECT_EQ(Error(weir::RequiredString(*o, "config.", "password")),
            "config.password: must not contain a NUL byte");
  EXPECT_EQ(Error(weir::OptionalString(*o, "config.", "password", "x", /*allow_empty=*/true)),
            "config.password: must not contain a NUL byte");
  EXPECT_EQ(Error(weir::OptionalString(*o, "config.", "user", "")),
            "config.user: must not contain a NUL byte");
}

TEST(ConfigJson, OptionalStringFallsBackOnlyWhenAbsent) {
  Obj o(R"({"region":"eu-west-1","empty":"","flag":true})");
  auto present = weir::OptionalString(*o, "config.", "region", "us-east-1");
  ASSERT_TRUE(present.ok()) << present.status().message();
  EXPECT_EQ(*present, "eu-west-1");

  auto absent = weir::OptionalString(*o, "config.", "profile", "default");
  ASSERT_TRUE(absent.ok()) << absent.status().message();
  EXPECT_EQ(*absent, "default");

  // The fallback is the caller's own value and is returned unchecked, even when empty.
  auto absent_empty = weir::OptionalString(*o, "config.", "profile", "");
  ASSERT_TRUE(absent_empty.ok()) << absent_empty.status().message();
  EXPECT_EQ(*absent_empty, "");

  EXPECT_EQ(Error(weir::OptionalString(*o, "config.", "empty", "x")),
            "config.empty: must not be empty");
  auto allowed = weir::OptionalString(*o, "config.", "empty", "x", /*allow_empty=*/true);
  ASSERT_TRUE(allowed.ok()) << allowed.status().message();
  EXPECT_EQ(*allowed, "");

  EXPECT_EQ(Error(weir::OptionalString(*o, "config.", "flag", "x", /*allow_empty=*/true)),
            "config.flag: expected a string, got boolean");
}

TEST(ConfigJson, OptionalStringArrayReadsEveryElementAndFallsBackWhenAbsent) {
  Obj o(R"({"tokens":["a","b c"],"none":[],"blanks":["x",""]})");
  auto tokens = weir::OptionalStringArray(*o, "config.p.", "tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.status().message();
  EXPECT_EQ(*tokens, (std::vector<std::string>{"a", "b c"}));

  auto none = weir::OptionalStringArray(*o, "config.", "none");
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_TRUE(none->empty());
  auto absent = weir::OptionalStringArray(*o, "config.", "write_keys");
  ASSERT_TRUE(absent.ok()) << absent.status().message();
  EXPECT_TRUE(absent->empty());

  EXPECT_EQ(Error(weir::OptionalStringArray(*o, "config.", "blanks")),
            "config.blanks[1]: must not be empty");
  auto allowed = weir::OptionalStringArray(*o, "config.", "blanks", /*allow_empty=*/true);
  ASSERT_TRUE(allowed.ok()) << allowed.status().message();
  EXPECT_EQ(*allowed, (std::vector<std::string>{"x", ""}));
}

TEST(ConfigJson, OptionalStringArrayNamesTheWrongTypeAndTheElement) {
  Obj o(R"({"one":"tok","obj":{},"mixed":["ok",7],"nested":[["x"]],)"
        R"("secret":["fine","hunter2\u0000tail"]})");
  EXPECT_EQ(Error(weir::OptionalStringArray(*o, "config.", "one")),
            "config.one: expected an array of strings, got string");
  EXPECT_EQ(Error(weir::OptionalStringArray(*o, "config.", "obj")),
            "config.obj: expected an array of strings, got object");
  EXPECT_EQ(Error(weir::OptionalStringArray(*o, "config.projects.p.", "mixed")),
            "config.projects.p.mixed[1]: expected a string, got number");
  EXPECT_EQ(Error(weir::OptionalStringArray(*o, "config.", "nested")),
            "config.nested[0]: expected a string, got array");
  // The value may be a secret: the message names the index, never the value.
  EXPECT_EQ(Error(weir::OptionalStringArray(*o, "config.", "secret")),
            "config.secret[1]: must not contain a NUL byte");
}

TEST(ConfigJson, OptionalIntAcceptsItsBoundsAndFallsBackWhenAbsent) {
  Obj o(R"({"lo":1,"hi":10,"mid":5,"neg":-3})");
  const std::pair<const char*, int64_t> cases[] = {{"lo", 1}, {"hi", 10}, {"mid", 5}};
  for (const auto& [key, expected] : cases) {
    auto r = weir::OptionalInt(*o, "config.", key, 7, 1, 10);
    ASSERT_TRUE(r.ok()) << key << ": " << r.status().message();
    EXPECT_EQ(*r, expected) << key;
  }
  auto absent = weir::OptionalInt(*o, "config.", "parallelism", 4, 1, 10);
  ASSERT_TRUE(absent.ok()) << absent.status().message();
  EXPECT_EQ(*absent, 4);

  auto negative = weir::OptionalInt(*o, "config.", "neg", 0, -5, -1);
  ASSERT_TRUE(negative.ok()) << negative.status().message();
  EXPECT_EQ(*negative, -3);
}

TEST(ConfigJson, OptionalIntRefusesValuesOutsideItsBounds) {
  Obj o(R"({"zero":0,"eleven":11,"neg":-1,"huge":18446744073709551615,"big":9223372036854775807})");
  EXPECT_EQ(Error(weir::OptionalInt(*o, "config.", "zero", 5, 1, 10)),
            "config.zero: must be between 1 and 10");
  EXPECT_EQ(Error(weir::OptionalInt(*o, "config.", "eleven", 5, 1, 10)),
            "config.eleven: must be between 1 and 10");
  EXPECT_EQ(Error(weir::OptionalInt(*o, "config.", "neg", 0, 0, 100)),
            "config.neg: must be between 0 and 100");
  // Above INT64_MAX simdjson gives UINT64: out of range for any int64 bounds.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(Error(weir::OptionalInt(*o, "config.", "huge", 0, 0, kMax)),
            "config.huge: must be between 0 and 9223372036854775807");
  auto big = weir::OptionalInt(*o, "config.", "big", 0, 0, kMax);
  ASSERT_TRUE(big.ok()) << big.status().message();
  EXPECT_EQ(*big, kMax);
}

TEST(ConfigJson, OptionalIntNamesTheWrongType) {
  Obj o(R"({"frac":1.5,"exp":1e3,"str":"7","flag":true,"nul":null,"obj":{}})");
  EXPECT_EQ(Error(weir::OptionalInt(*o, "config.", "frac", 0, 0, 10)),
            "config.frac: expected an integer, got number with a fraction");
  EXPECT_EQ(Error(weir::OptionalInt(*o, "config.", "exp", 0, 0, 10000)),
            "config.exp: expected an integer, got number with a fraction");
  EXPECT_EQ(Error(weir::OptionalInt(*o, "config.", "str", 0, 0, 10)),
            "config.str: expected an integer, got string");
  EXPECT_EQ(Error(weir::OptionalInt(*o, "config.", "flag", 0, 0, 10)),
            "config.flag: expected an integer, got boolean");
  EXPECT_EQ(Error(weir::OptionalInt(*o, "config.", "nul", 0, 0, 10)),
            "config.nul: expected an integer, got null");
  EXPECT_EQ(Error(weir::OptionalInt(*o, "config.", "obj", 0, 0, 10)),
            "config.obj: expected an integer, got object");
}

TEST(ConfigJson, OptionalBoolReadsBothValuesAndFallsBackWhenAbsent) {
  Obj o(R"({"yes":true,"no":false})");
  for (bool fallback : {false, true}) {
    auto yes = weir::OptionalBool(*o, "config.", "yes", fallback);
    ASSERT_TRUE(yes.ok()) << yes.status().message();
    EXPECT_TRUE(*yes);
    auto no = weir::OptionalBool(*o, "config.", "no", fallback);
    ASSERT_TRUE(no.ok()) << no.status().message();
    EXPECT_FALSE(*no);
    auto absent = weir::OptionalBool(*o, "config.", "maybe", fallback);
    ASSERT_TRUE(absent.ok()) << absent.status().message();
    EXPECT_EQ(*absent, fallback);
  }
}

TEST(ConfigJson, OptionalBoolNamesTheWrongType) {
  Obj o(R"({"one":1,"str":"true","nul":null})");
  EXPECT_EQ(Error(weir::OptionalBool(*o, "config.", "one", false)),
            "config.one: expected a boolean, got number");
  EXPECT_EQ(Error(weir::OptionalBool(*o, "config.", "str", false)),
            "config.str: expected a boolean, got string");
  EXPECT_EQ(Error(weir::OptionalBool(*o, "config.", "nul", true)),
            "config.nul: expected a boolean, got null");
}

}  // namespace
