// tests/sdk_source/collector/collector_unit_test.cpp — the collector's request path in-process:
// config parsing, decoders, time and insert_id normalization, canonical JSON, limits, and the
// Mixpanel / Segment / native parsers through HandleRequest (exact statuses and bodies), with a
// fake store append that records what would be stored.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "collector/collector_config.hpp"
#include "collector/decode.hpp"
#include "collector/handler.hpp"
#include "collector/normalize.hpp"
#include "test_util.hpp"

namespace weir::sdksource {
namespace {

using testing::Base64;
using testing::Compress;
using testing::UrlEncode;

constexpr int64_t kNow = 1700000999000;

const char* kConfig = R"({
  "data_dir": "/tmp/unused", "listen": "127.0.0.1:0",
  "projects": {
    "demo": {"tokens": ["tok-demo"], "write_keys": ["wk-demo"]},
    "other": {"tokens": ["tok-other"]}
  },
  "limits": {"max_records_per_request": 5, "max_properties": 4, "max_depth": 2,
             "max_string_bytes": 16, "max_body_bytes": 100000,
             "max_decompressed_bytes": 200000}
})";

CollectorConfig TestConfig() {
  auto config = ParseCollectorConfig(kConfig);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return std::move(config).value();
}

/// Runs one request through HandleRequest and keeps what was appended.
struct Call {
  HttpResponse response;
  std::vector<std::string> projects;  // one per append
  std::vector<Record> records;
};

struct Req {
  Req(std::string m, std::string t, std::string b, std::string type = "", std::string encoding = "",
      std::string auth = "")
      : method(std::move(m)),
        target(std::move(t)),
        body(std::move(b)),
        content_type(std::move(type)),
        content_encoding(std::move(encoding)),
        authorization(std::move(auth)) {}
  std::string method;
  std::string target;
  std::string body;
  std::string content_type;
  std::string content_encoding;
  std::string authorization;
};

Call Handle(const Req& r, Status append_status = Status::OK()) {
  static const CollectorConfig config = TestConfig();
  Call call;
  HttpRequestView view;
  view.method = r.method;
  view.target = r.target;
  view.body = r.body;
  view.content_type = r.content_type;
  view.content_encoding = r.content_encoding;
  view.authorization = r.authorization;
  view.now_ms = kNow;
  call.response =
      HandleRequest(view, config, [&](const std::string& project, std::vector<Record> records) {
        call.projects.push_back(project);
        for (auto& rec : records) call.records.push_back(std::move(rec));
        return append_status;
      });
  return call;
}

std::string Basic(std::string_view user) { return "Basic " + Base64(std::string(user) + ":"); }

// --- config -------------------------------------------------------------------------------

TEST(SdkSourceCollectorConfig, ParsesProjectsLimitsAndListen) {
  CollectorConfig config = TestConfig();
  EXPECT_EQ(config.listen_address, "127.0.0.1");
  EXPECT_EQ(config.listen_port, 0);
  EXPECT_EQ(config.limits.max_records_per_request, 5u);
  EXPECT_EQ(config.limits.max_name_bytes, 255u);  // default kept
  ASSERT_NE(config.ProjectForToken("tok-other"), nullptr);
  EXPECT_EQ(*config.ProjectForToken("tok-other"), "other");
  EXPECT_EQ(*config.ProjectForWriteKey("wk-demo"), "demo");
  EXPECT_EQ(config.ProjectForToken("wk-demo"), nullptr);  // write keys are not tokens
  // Near misses (same length, a prefix, a longer string) match nothing: only the whole token.
  EXPECT_EQ(config.ProjectForToken("tok-othes"), nullptr);
  EXPECT_EQ(config.ProjectForToken("tok-othe"), nullptr);
  EXPECT_EQ(config.ProjectForToken("tok-otherx"), nullptr);
  EXPECT_EQ(config.ProjectForToken(""), nullptr);
}

TEST(SdkSourceCollectorConfig, ErrorsNameThePathAndNeverTheSecret) {
  auto expect_error = [](const std::string& json, const std::string& expected) {
    auto config = ParseCollectorConfig(json);
    ASSERT_FALSE(config.ok()) << json;
    EXPECT_EQ(config.status().code(), WEIR_INVALID_CONFIG) << json;
    EXPECT_EQ(config.status().message(), expected);
    EXPECT_EQ(config.status().message().find("s3cret"), std::string::npos);
  };
  expect_error(R"({"data_dir":"/d","projects":{"p":{"tokens":[7]}}})",
               "config.projects.p.tokens[0]: expected a string, got number");
  expect_error(
      R"({"data_dir":"/d","projects":{"p":{"tokens":["s3cret"]},"q":{"tokens":["s3cret"]}}})",
      "config.projects.q.tokens[0]: token is already used by project \"p\"");
  expect_error(
      R"({"data_dir":"/d","projects":{"p":{"write_keys":["s3cret"]},"q":{"write_keys":["a","s3cret"]}}})",
      "config.projects.q.write_keys[1]: write key is already used by project \"p\"");
  expect_error(R"({"data_dir":"/d","projects":{"p":{"tokens":["t"]}},"limits":{"max_dept":3}})",
               "config.limits.max_dept: unknown key (known keys: max_body_bytes, "
               "max_decompressed_bytes, max_header_bytes, max_records_per_request, "
               "max_properties, max_depth, max_string_bytes, max_name_bytes)");
  expect_error(R"({"data_dir":"/d","projects":{"p":{"tokens":["t"]}},"limits":{"max_depth":65}})",
               "config.limits.max_depth: must be between 0 and 64");
  expect_error(R"({"data_dir":"/d","projects":{"p":{"tokens":["t"]}},"limits":{"max_depth":-1}})",
               "config.limits.max_depth: must be between 0 and 64");
  expect_error(
      R"({"data_dir":"/d","projects":{"p":{"tokens":["t"]}},"limits":{"max_body_bytes":1.5}})",
      "config.limits.max_body_bytes: expected an integer, got number with a fraction");
  expect_error(
      R"({"data_dir":"/d","projects":{"p":{"tokens":["t"]}},"limits":{"max_body_bytes":2000,)"
      R"("max_decompressed_bytes":1000}})",
      "config.limits.max_decompressed_bytes: must be >= max_body_bytes");
  expect_error(R"({"data_dir":"/d","projects":{"p":{"tokens":["t"]}},"limits":[]})",
               "config.limits: expected an object, got array");
  expect_error(R"({"projects":{"p":{"tokens":["t"]}}})", "config.data_dir: required (a string)");
  expect_error(R"({"data_dir":""})", "config.data_dir: must not be empty");
  expect_error(R"({"data_dir":"/d"})", "config.projects: required (an object)");
  expect_error(R"({"data_dir":"/d","projects":{}})",
               "config.projects: at least one project is required");
  expect_error(R"({"data_dir":"/d","projects":{"p":{}}})",
               "config.projects.p: a project needs at least one entry in \"tokens\" or "
               "\"write_keys\"");
  expect_error(R"({"data_dir":"/d","projects":{"p":{"tokens":"s3cret"}}})",
               "config.projects.p.tokens: expected an array of strings, got string");
  expect_error(R"({"data_dir":"/d","projects":{"p":{"tokens":["t"],"token":["s3cret"]}}})",
               "config.projects.p.token: unknown key (known keys: tokens, write_keys)");
  expect_error(R"({"data_dir":"/d","threads":0,"projects":{"p":{"tokens":["t"]}}})",
               "config.threads: must be between 1 and 256");
  expect_error(R"({"data_dir":"/d","listen":"localhost","projects":{"p":{"tokens":["t"]}}})",
               "config.listen: expected \"host:port\", e.g. \"127.0.0.1:8080\"");
  expect_error(R"({"data_dir":"/d","projects":{"../x":{"tokens":["t"]}}})",
               "config.projects.../x: not a project name (it names a directory: 1 to 128 "
               "letters, digits, '_', '-' or '.', not '.' or '..')");
  expect_error(R"([])", "config: expected a JSON object, got array");
}

TEST(SdkSourceCollectorConfig, UnknownKeysAreRefusedNamingTheKnownOnes) {
  auto config = ParseCollectorConfig(R"({"data_dir":"/d","data-dir":"/e","projects":{}})");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), WEIR_INVALID_CONFIG);
  EXPECT_EQ(config.status().message(),
            "config.data-dir: unknown key (known keys: data_dir, listen, threads, workers, "
            "limits, retention_days, projects)");
}

TEST(SdkSourceCollectorConfig, DuplicateKeysAreRefusedNamingTheKey) {
  // simdjson keeps both; without the check the last (or first) would silently win, or the
  // two "limits" objects would merge.
  const std::pair<std::string, std::string> cases[] = {
      {R"({"data_dir":"/a","data_dir":"/b","projects":{"p":{"tokens":["t"]}}})",
       "config.data_dir: given more than once"},
      {R"({"data_dir":"/d","projects":{"p":{"tokens":["t"]}},"limits":{"max_depth":2},)"
       R"("limits":{"max_properties":9}})",
       "config.limits: given more than once"},
      {R"({"data_dir":"/d","projects":{"p":{"tokens":["t"]}},)"
       R"("limits":{"max_depth":2,"max_depth":5}})",
       "config.limits.max_depth: given more than once"},
      {R"({"data_dir":"/d","projects":{"p":{"tokens":["t"]}},"projects":{"q":{"tokens":["u"]}}})",
       "config.projects: given more than once"},
      {R"({"data_dir":"/d","projects":{"p":{"tokens":["t"]},"p":{"tokens":["u"]}}})",
       "config.projects.p: given more than once"},
      {R"({"data_dir":"/d","projects":{"p":{"tokens":["s3cret"],"tokens":["u"]}}})",
       "config.projects.p.tokens: given more than once"},
  };
  for (const auto& [json, expected] : cases) {
    auto config = ParseCollectorConfig(json);
    ASSERT_FALSE(config.ok()) << json;
    EXPECT_EQ(config.status().code(), WEIR_INVALID_CONFIG) << json;
    EXPECT_EQ(config.status().message(), expected) << json;
  }
}

TEST(SdkSourceCollectorConfig, NulBytesInStringsAreRefusedWithoutEchoingThem) {
  // A NUL would cut the data directory short where the path reaches the OS.
  const std::pair<std::string, std::string> cases[] = {
      {R"({"data_dir":"/var/lib/weir\u0000/etc","projects":{"p":{"tokens":["t"]}}})",
       "config.data_dir: must not contain a NUL byte"},
      {R"({"data_dir":"/d","listen":"127.0.0.1:80\u00000","projects":{"p":{"tokens":["t"]}}})",
       "config.listen: must not contain a NUL byte"},
      {R"({"data_dir":"/d","projects":{"p":{"tokens":["t","s3cret\u0000x"]}}})",
       "config.projects.p.tokens[1]: must not contain a NUL byte"},
      {R"({"data_dir":"/d","projects":{"p":{"write_keys":["s3cret\u0000"]}}})",
       "config.projects.p.write_keys[0]: must not contain a NUL byte"},
  };
  for (const auto& [json, expected] : cases) {
    auto config = ParseCollectorConfig(json);
    ASSERT_FALSE(config.ok()) << json;
    EXPECT_EQ(config.status().code(), WEIR_INVALID_CONFIG) << json;
    EXPECT_EQ(config.status().message(), expected) << json;
  }
}

TEST(SdkSourceCollectorConfig, ProjectNamesFollowTheStoreRule) {
  const std::string valid[] = {"a", "demo", "Demo_2.prod-eu", "...", std::string(128, 'x')};
  for (const std::string& name : valid) {
    auto config = ParseCollectorConfig(R"({"data_dir":"/d","projects":{")" + name +
                                       R"(":{"tokens":["t"]}}})");
    EXPECT_TRUE(config.ok()) << name << ": " << config.status().ToString();
  }
  const std::string invalid[] = {".", "..", "a/b", "a b", "caf\u00e9", std::string(129, 'x')};
  for (const std::string& name : invalid) {
    auto config = ParseCollectorConfig(R"({"data_dir":"/d","projects":{")" + name +
                                       R"(":{"tokens":["t"]}}})");
    ASSERT_FALSE(config.ok()) << name;
    EXPECT_NE(config.status().message().find(": not a project name ("), std::string::npos)
        << config.status().message();
  }
}

// --- decoders ------------------------------------------------------------------------------

TEST(SdkSourceCollectorDecode, Base64AlphabetsAndPadding) {
  std::string out;
  std::string text = "{\"a\":\"\xff\xfe?>\"}";
  for (bool url_safe : {false, true}) {
    ASSERT_TRUE(Base64Decode(Base64(text, url_safe), out));
    EXPECT_EQ(out, text);
  }
  ASSERT_TRUE(Base64Decode("aGk", out));  // unpadded
  EXPECT_EQ(out, "hi");
  ASSERT_TRUE(Base64Decode("aGk=\n", out));
  EXPECT_EQ(out, "hi");
  ASSERT_TRUE(Base64Decode("+/8 ", out));  // ' ' is a '+' a form decoder replaced
  EXPECT_EQ(out, "\xfb\xff>");
  EXPECT_FALSE(Base64Decode("a", out));
  EXPECT_FALSE(Base64Decode("aGk=x", out));
  EXPECT_FALSE(Base64Decode("a*Gk", out));
}

TEST(SdkSourceCollectorDecode, FormValuesAndAuthorization) {
  EXPECT_EQ(FormValue("a=1&data=x%2By+z&verbose=1", "data"), "x+y z");
  EXPECT_EQ(FormValue("data", "data"), "");
  EXPECT_FALSE(FormValue("d=1", "data").has_value());
  EXPECT_EQ(UrlDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(BasicAuthUser("Basic " + Base64("key:")), "key");
  EXPECT_EQ(BasicAuthUser("basic " + Base64("key")), "key");
  EXPECT_FALSE(BasicAuthUser("Bearer x").has_value());
  EXPECT_EQ(BearerToken("Bearer  tok "), "tok");
}

TEST(SdkSourceCollectorDecode, InflatesGzipZlibRawAndStopsBombs) {
  std::string text(100000, 'x');
  for (int bits : {15 + 16, 15, -15}) {
    auto r = Inflate(Compress(text, bits), 1 << 20);
    ASSERT_EQ(r.code, InflateResult::Code::kOk) << bits << " " << r.message;
    EXPECT_EQ(r.data, text);
  }
  auto two = Inflate(Compress("ab") + Compress("cd"), 100);  // concatenated gzip members
  EXPECT_EQ(two.data, "abcd");
  auto bomb = Inflate(Compress(std::string(10 << 20, '\0')), 1 << 20);
  EXPECT_EQ(bomb.code, InflateResult::Code::kTooLarge);
  EXPECT_EQ(bomb.message, "body inflates to more than max_decompressed_bytes (1048576)");
  std::string gz = Compress(text);
  EXPECT_EQ(Inflate(gz.substr(0, gz.size() / 2), 1 << 20).code, InflateResult::Code::kCorrupt);
  EXPECT_EQ(Inflate("not compressed at all", 1 << 20).code, InflateResult::Code::kCorrupt);
  // The gzip trailer's size is only a hint: one that lies (either way) ends as a corrupt body,
  // and a bomb that also lies about its size is still stopped at the limit.
  std::string lying = gz;
  lying[lying.size() - 1] = '\x7f';  // claims ~2 GB
  EXPECT_EQ(Inflate(lying, 1 << 20).code, InflateResult::Code::kCorrupt);
  std::string small_claim = Compress(std::string(10 << 20, '\0'));
  small_claim.replace(small_claim.size() - 4, 4, std::string("\x10\0\0\0", 4));  // 16 bytes
  auto lying_bomb = Inflate(small_claim, 1 << 20);
  EXPECT_EQ(lying_bomb.code, InflateResult::Code::kTooLarge);
  EXPECT_TRUE(lying_bomb.data.empty());
}

// --- normalization -------------------------------------------------------------------------

TEST(SdkSourceCollectorTime, NumbersAndIso8601ToMillisecondsUtc) {
  auto ms = [](std::string_view s) {
    int64_t out = -1;
    auto error = TimeFromString(s, out);
    EXPECT_FALSE(error.has_value()) << s << ": " << *error;
    return out;
  };
  EXPECT_EQ(ms("1700000000"), 1700000000000);  // seconds
  EXPECT_EQ(ms("1700000000.25"), 1700000000250);
  EXPECT_EQ(ms("1700000000123"), 1700000000123);  // milliseconds
  EXPECT_EQ(ms("99999999999"), 99999999999000);   // just under 1e11: still seconds
  EXPECT_EQ(ms("100000000000"), 100000000000);    // 1e11: milliseconds
  EXPECT_EQ(ms("2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(ms("2023-11-14T22:13:20.123Z"), 1700000000123);
  EXPECT_EQ(ms("2023-11-14T22:13:20.123456Z"), 1700000000123);
  EXPECT_EQ(ms("2023-11-14T23:13:20+01:00"), 1700000000000);
  EXPECT_EQ(ms("2023-11-14T17:13:20-0500"), 1700000000000);
  EXPECT_EQ(ms("2023-11-14 22:13:20"), 1700000000000);  // no offset: UTC
  EXPECT_EQ(ms("2023-11-14"), 1699920000000);
  EXPECT_EQ(ms("2024-02-29T00:00:00Z"), 1709164800000);

  int64_t out = 0;
  EXPECT_EQ(TimeFromString("2023-02-29T00:00:00Z", out),
            "invalid date in \"2023-02-29T00:00:00Z\"");
  EXPECT_EQ(TimeFromString("yesterday", out),
            "cannot parse \"yesterday\" as a time (expected seconds, milliseconds or ISO-8601)");
  EXPECT_EQ(TimeFromString("2023-11-14T25:00:00Z", out),
            "cannot parse \"2023-11-14T25:00:00Z\" as a time (expected seconds, milliseconds or "
            "ISO-8601)");
  EXPECT_EQ(TimeFromNumber(-1, out), "time must not be negative");
  EXPECT_TRUE(TimeFromNumber(1.7e15, out).has_value());  // microseconds are out of range
  ASSERT_FALSE(TimeFromNumber(1700000000.0005, out).has_value());
  EXPECT_EQ(out, 1700000000001);  // rounded to the nearest millisecond
}

TEST(SdkSourceCollectorJson, ShownTextReplacesInvalidUtf8AndCutsAtCharacters) {
  const std::string fffd = "\xef\xbf\xbd";
  EXPECT_EQ(ShownText("plain", 64), "plain");
  EXPECT_EQ(ShownText("caf\xc3\xa9 \xf0\x9f\x98\x80", 64), "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(ShownText(std::string("a") + "\xff" + "b", 64), "a" + fffd + "b");
  // An overlong '/', a UTF-16 surrogate, a code point past U+10FFFF: one U+FFFD per byte.
  EXPECT_EQ(ShownText("\xc0\xaf", 64), fffd + fffd);
  EXPECT_EQ(ShownText("\xed\xa0\x80", 64), fffd + fffd + fffd);
  EXPECT_EQ(ShownText("\xf4\x90\x80\x80", 64), fffd + fffd + fffd + fffd);
  EXPECT_EQ(ShownText("x\xe2\x82", 64), "x" + fffd + fffd);  // cut inside a character
  // Shortened at a character boundary, never inside one.
  EXPECT_EQ(ShownText("ab\xc3\xa9", 3), "ab...");
  EXPECT_EQ(ShownText("abcdef", 4), "abcd...");
  // Whatever goes in, the result is valid UTF-8 (simdjson accepts it as a JSON string).
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string json;
  AppendJsonString(json, ShownText(all + all, 300));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
}

TEST(SdkSourceCollectorJson, EscapesStringsAndSortsKeys) {
  std::string out;
  AppendJsonString(out, std::string("q\"b\\n\n\t\x01\x1f\xc3\xa9", 11));
  EXPECT_EQ(out, "\"q\\\"b\\\\n\\n\\t\\u0001\\u001f\xc3\xa9\"");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(
      std::string_view(R"({"b":[1,2.5,-3,1e300,{"z":null,"a":true}],"a":"x","a":"last","c":1.1})"));
  std::string canonical;
  AppendCanonical(canonical, doc);
  EXPECT_EQ(canonical, R"({"a":"last","b":[1,2.5,-3,1e+300,{"a":true,"z":null}],"c":1.1})");
}

TEST(SdkSourceCollectorInsertId, DeterministicAndSensitiveToEveryPart) {
  std::string id = DeriveInsertId("demo", "Signup", "u1", 1700000000000, R"({"a":1})");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(id, DeriveInsertId("demo", "Signup", "u1", 1700000000000, R"({"a":1})"));
  EXPECT_NE(id, DeriveInsertId("other", "Signup", "u1", 1700000000000, R"({"a":1})"));
  EXPECT_NE(id, DeriveInsertId("demo", "Signup", "u2", 1700000000000, R"({"a":1})"));
  EXPECT_NE(id, DeriveInsertId("demo", "Signup", "u1", 1700000000001, R"({"a":1})"));
  EXPECT_NE(id, DeriveInsertId("demo", "Signup", "u1", 1700000000000, R"({"a":2})"));
  // Length prefixes: moving a byte between fields changes the id.
  EXPECT_NE(DeriveInsertId("ab", "c", "", 0, "{}"), DeriveInsertId("a", "bc", "", 0, "{}"));
}

// --- Mixpanel -------------------------------------------------------------------------------

const char* kTrackEvent =
    R"({"event":"Signup","properties":{"token":"tok-demo","distinct_id":"u1","time":1700000000,)"
    R"("$insert_id":"abc-1","plan":"pro","n":2,"z":{"b":1,"a":[1,"x"]}}})";
const char* kTrackCanonical =
    R"({"event":"Signup","time":1700000000000,"distinct_id":"u1","insert_id":"abc-1",)"
    R"("properties":{"n":2,"plan":"pro","z":{"a":[1,"x"],"b":1}}})";

TEST(SdkSourceCollectorMixpanel, TrackGetBase64Verbose) {
  Call c = Handle({"GET", "/track?data=" + UrlEncode(Base64(kTrackEvent)) + "&verbose=1", ""});
  EXPECT_EQ(c.response.status, 200);
  EXPECT_EQ(c.response.body, R"({"status":1,"error":null})");
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_EQ(c.projects, std::vector<std::string>{"demo"});
  EXPECT_EQ(c.records[0].stream, Stream::kEvents);
  EXPECT_EQ(c.records[0].event_time_ms, 1700000000000);
  EXPECT_EQ(c.records[0].json, kTrackCanonical);
}

TEST(SdkSourceCollectorMixpanel, TrackFormPostUrlSafeBase64AndPlainJson) {
  std::string array = std::string("[") + kTrackEvent + "," + kTrackEvent + "]";
  Call c = Handle(
      {"POST", "/track/", "data=" + Base64(array, true), "application/x-www-form-urlencoded"});
  EXPECT_EQ(c.response.status, 200);
  EXPECT_EQ(c.response.content_type, "text/plain");
  EXPECT_EQ(c.response.body, "1");
  EXPECT_EQ(c.records.size(), 2u);
  Call plain = Handle(
      {"POST", "/track", "data=" + UrlEncode(kTrackEvent), "application/x-www-form-urlencoded"});
  ASSERT_EQ(plain.records.size(), 1u);
  EXPECT_EQ(plain.records[0].json, kTrackCanonical);
  Call body = Handle({"POST", "/track", array, "application/json"});
  EXPECT_EQ(body.records.size(), 2u);
}

TEST(SdkSourceCollectorMixpanel, UnknownTokenIs401AndNothingStored) {
  std::string bad = std::string(kTrackEvent);
  bad.replace(bad.find("tok-demo"), 8, "tok-nope");
  std::string both = std::string("[") + kTrackEvent + "," + bad + "]";
  Call c = Handle({"GET", "/track?data=" + UrlEncode(Base64(both)), ""});
  EXPECT_EQ(c.response.status, 401);
  EXPECT_EQ(c.response.body, "0");
  EXPECT_TRUE(c.records.empty());
  Call v = Handle({"GET", "/track?verbose=1&data=" + UrlEncode(Base64(both)), ""});
  EXPECT_EQ(v.response.body, R"({"status":0,"error":"unknown project token"})");
}

TEST(SdkSourceCollectorMixpanel, MalformedRecordRejectsTheWholeTrackRequest) {
  std::string bad = R"({"event":"x","properties":{"token":"tok-demo","time":"soon"}})";
  Call c = Handle({"POST", "/track?verbose=1", std::string("[") + kTrackEvent + "," + bad + "]",
                   "application/json"});
  EXPECT_EQ(c.response.status, 400);
  EXPECT_EQ(c.response.body,
            R"({"status":0,"error":"record 1: properties.time: cannot parse \"soon\" as a time )"
            R"j((expected seconds, milliseconds or ISO-8601)"})j");
  EXPECT_TRUE(c.records.empty());
}

TEST(SdkSourceCollectorMixpanel, IdentifyAndAliasProduceIdentities) {
  std::string body =
      R"([{"event":"$identify","properties":{"token":"tok-demo","distinct_id":"user-9",)"
      R"("$anon_id":"anon-1","$identified_id":"user-9","time":1700000000000}},)"
      R"({"event":"$create_alias","properties":{"token":"tok-demo","distinct_id":"user-9",)"
      R"("alias":"mail@example.com","time":1700000000000}}])";
  Call c = Handle({"POST", "/track", body, "application/json"});
  ASSERT_EQ(c.response.status, 200);
  ASSERT_EQ(c.records.size(), 4u);
  EXPECT_EQ(c.records[1].stream, Stream::kIdentities);
  EXPECT_EQ(c.records[1].json,
            R"({"distinct_id":"anon-1","user_id":"user-9","time":1700000000000})");
  EXPECT_EQ(c.records[3].json,
            R"({"distinct_id":"mail@example.com","user_id":"user-9","time":1700000000000})");
}

TEST(SdkSourceCollectorMixpanel, EngageOperationsInOrder) {
  std::string body =
      R"([{"$token":"tok-demo","$distinct_id":"u1","$time":1700000000123,)"
      R"("$set":{"name":"Ann","b":{"y":1,"x":2}},"$add":{"visits":1},"$unset":["old"]},)"
      R"({"$token":"tok-demo","$distinct_id":"u2","$delete":""}])";
  Call c = Handle({"POST", "/engage?verbose=1", "data=" + UrlEncode(Base64(body)),
                   "application/x-www-form-urlencoded"});
  ASSERT_EQ(c.response.status, 200) << c.response.body;
  ASSERT_EQ(c.records.size(), 2u);
  const Record& r = c.records[0];
  EXPECT_EQ(r.stream, Stream::kUsers);
  EXPECT_EQ(r.distinct_id, "u1");
  EXPECT_EQ(r.event_time_ms, 1700000000123);
  ASSERT_EQ(r.ops.size(), 3u);
  EXPECT_EQ(r.ops[0].kind, ProfileOp::Kind::kSet);
  EXPECT_EQ(r.ops[0].argument_json, R"({"b":{"x":2,"y":1},"name":"Ann"})");
  EXPECT_EQ(r.ops[1].kind, ProfileOp::Kind::kAdd);
  EXPECT_EQ(r.ops[2].kind, ProfileOp::Kind::kUnset);
  EXPECT_EQ(r.ops[2].argument_json, R"(["old"])");
  EXPECT_EQ(c.records[1].event_time_ms, kNow);  // no $time: the receive time
  EXPECT_EQ(c.records[1].ops[0].kind, ProfileOp::Kind::kDelete);

  Call bad = Handle({"POST", "/engage?verbose=1",
                     R"({"$token":"tok-demo","$distinct_id":"u1","$add":{"visits":"one"}})",
                     "application/json"});
  EXPECT_EQ(bad.response.status, 400);
  EXPECT_EQ(bad.response.body,
            R"({"status":0,"error":"record 0: $add.visits: $add needs a number, found a string"})");
}

TEST(SdkSourceCollectorMixpanel, ImportStrictStoresValidRecordsAndReportsTheRest) {
  std::string body =
      R"({"event":"a","properties":{"token":"tok-demo","distinct_id":"u","time":1700000000,"$insert_id":"id-0"}})"
      "\n"
      R"({"event":"b","properties":{"token":"tok-demo","distinct_id":"u","$insert_id":"id-1"}})"
      "\n\n"
      R"({"event":"c","properties":{"token":"tok-demo","distinct_id":"u","time":1700000000,"$insert_id":"id-2"}})"
      "\n"
      R"({"event":"d","properties":{"token":"tok-demo","distinct_id":"u","time":1700000000,"$insert_id":"bad id!"}})"
      "\n";
  Call c = Handle({"POST", "/import?strict=1", body, "application/x-ndjson"});
  EXPECT_EQ(c.response.status, 400);
  EXPECT_EQ(c.response.body,
            R"({"code":400,"error":"some data points in the request failed validation",)"
            R"("failed_records":[{"index":1,"$insert_id":"id-1","field":"properties.time",)"
            R"j("message":"missing (required by /import)"},{"index":3,"$insert_id":"bad id!",)j"
            R"("field":"properties.$insert_id","message":"must be 1 to 36 characters of )"
            R"(letters, digits and '-'"}],"num_records_imported":2,"status":"Bad Request"})");
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_NE(c.records[0].json.find(R"("insert_id":"id-0")"), std::string::npos);
  EXPECT_NE(c.records[1].json.find(R"("insert_id":"id-2")"), std::string::npos);

  Call strict_missing_id =
      Handle({"POST", "/import?strict=1",
              R"([{"event":"a","properties":{"distinct_id":"u","time":1700000000}}])",
              "application/json", "", Basic("tok-demo")});
  EXPECT_EQ(strict_missing_id.response.status, 400);
  EXPECT_TRUE(strict_missing_id.records.empty());
}

TEST(SdkSourceCollectorMixpanel, ImportWithoutStrictIsAllOrNothing) {
  std::string body = R"([{"event":"a","properties":{"distinct_id":"u","time":1700000000}},)"
                     R"({"event":"","properties":{"distinct_id":"u","time":1700000000}}])";
  Call c = Handle({"POST", "/import", body, "application/json", "", Basic("tok-demo")});
  EXPECT_EQ(c.response.status, 400);
  EXPECT_EQ(c.response.body,
            R"j({"code":400,"error":"record 1: event: must not be empty (nothing was imported)",)j"
            R"("failed_records":[{"index":1,"$insert_id":"","field":"event","message":"must not )"
            R"(be empty"}],"num_records_imported":0,"status":"Bad Request"})");
  EXPECT_TRUE(c.records.empty());

  Call ok = Handle({"POST", "/import", body.substr(0, body.find("},{") + 1) + "]",
                    "application/json", "", Basic("tok-demo")});
  EXPECT_EQ(ok.response.status, 200);
  EXPECT_EQ(ok.response.body, R"({"code":200,"num_records_imported":1,"status":"OK"})");
  Call unknown = Handle({"POST", "/import", body, "application/json", "", Basic("tok-x")});
  EXPECT_EQ(unknown.response.status, 401);
  EXPECT_EQ(unknown.response.body,
            R"({"code":401,"error":"unknown project token","status":"Unauthorized"})");
}

TEST(SdkSourceCollectorMixpanel, SamePayloadTwiceGetsTheSameInsertId) {
  std::string a =
      R"({"event":"e","properties":{"token":"tok-demo","distinct_id":"u","time":1700000000,"x":1,"y":[1]}})";
  std::string b =
      R"({"properties":{"y":[1],"time":1700000000,"x":1,"distinct_id":"u","token":"tok-demo"},"event":"e"})";
  Call first = Handle({"POST", "/track", a, "application/json"});
  Call again = Handle({"POST", "/track", a, "application/json"});
  Call reordered = Handle({"POST", "/track", b, "application/json"});
  ASSERT_EQ(first.records.size(), 1u);
  EXPECT_EQ(first.records[0].json, again.records[0].json);
  EXPECT_EQ(first.records[0].json, reordered.records[0].json);
  std::string expected_id = DeriveInsertId("demo", "e", "u", 1700000000000, R"({"x":1,"y":[1]})");
  EXPECT_NE(first.records[0].json.find("\"insert_id\":\"" + expected_id + "\""), std::string::npos);
}

// --- Segment --------------------------------------------------------------------------------

TEST(SdkSourceCollectorSegment, BatchMapsEveryType) {
  std::string body = R"({"batch":[
    {"type":"track","userId":"u1","anonymousId":"a1","event":"Bought","properties":{"price":9.5},
     "timestamp":"2023-11-14T22:13:20Z","messageId":"m-1","context":{"ip":"1.2.3.4"}},
    {"type":"page","anonymousId":"a1","name":"Home","properties":{"path":"/"},"messageId":"m-2",
     "timestamp":"2023-11-14T22:13:20Z"},
    {"type":"identify","userId":"u1","anonymousId":"a1","traits":{"email":"x@y.z"},
     "timestamp":"2023-11-14T22:13:20Z"},
    {"type":"alias","previousId":"a1","userId":"u1","timestamp":"2023-11-14T22:13:20Z"},
    {"type":"group","userId":"u1","groupId":"g1","traits":{"plan":"pro"},"messageId":"m-5",
     "timestamp":"2023-11-14T22:13:20Z"}]})";
  Call c = Handle({"POST", "/v1/batch", body, "application/json", "", Basic("wk-demo")});
  ASSERT_EQ(c.response.status, 200) << c.response.body;
  EXPECT_EQ(c.response.body, R"({"success":true})");
  ASSERT_EQ(c.records.size(), 6u);
  EXPECT_EQ(c.records[0].json,
            R"({"event":"Bought","time":1700000000000,"distinct_id":"u1","insert_id":"m-1",)"
            R"("properties":{"$anon_id":"a1","$segment_context":{"ip":"1.2.3.4"},"price":9.5}})");
  EXPECT_EQ(c.records[1].json,
            R"({"event":"Page Viewed","time":1700000000000,"distinct_id":"a1","insert_id":"m-2",)"
            R"("properties":{"name":"Home","path":"/"}})");
  EXPECT_EQ(c.records[2].stream, Stream::kUsers);
  EXPECT_EQ(c.records[2].distinct_id, "u1");
  EXPECT_EQ(c.records[2].ops[0].argument_json, R"({"email":"x@y.z"})");
  EXPECT_EQ(c.records[3].json, R"({"distinct_id":"a1","user_id":"u1","time":1700000000000})");
  EXPECT_EQ(c.records[4].json, c.records[3].json);
  EXPECT_EQ(c.records[5].json,
            R"({"event":"Group","time":1700000000000,"distinct_id":"u1","insert_id":"m-5",)"
            R"("properties":{"$group_traits":{"plan":"pro"},"group_id":"g1"}})");
}

TEST(SdkSourceCollectorSegment, WriteKeyInBodyAndErrors) {
  Call ok = Handle({"POST", "/v1/track",
                    R"({"writeKey":"wk-demo","userId":"u","event":"E","timestamp":1700000000})"});
  EXPECT_EQ(ok.response.status, 200);
  EXPECT_EQ(ok.records.size(), 1u);
  Call bad_key =
      Handle({"POST", "/v1/track", R"({"userId":"u","event":"E"})", "", "", Basic("wk-nope")});
  EXPECT_EQ(bad_key.response.status, 401);
  EXPECT_EQ(bad_key.response.body, R"({"success":false,"error":"invalid write key"})");
  Call no_key = Handle({"POST", "/v1/track", R"({"userId":"u","event":"E"})"});
  EXPECT_EQ(no_key.response.status, 401);
  Call bad = Handle(
      {"POST", "/v1/batch",
       R"({"batch":[{"type":"track","userId":"u","event":"E"},{"type":"track","userId":"u"}]})", "",
       "", Basic("wk-demo")});
  EXPECT_EQ(bad.response.status, 400);
  EXPECT_EQ(bad.response.body, R"({"success":false,"error":"event: missing","index":1})");
  EXPECT_TRUE(bad.records.empty());
  Call anon = Handle({"POST", "/v1/track", R"({"event":"E"})", "", "", Basic("wk-demo")});
  EXPECT_EQ(anon.response.body,
            R"({"success":false,"error":"userId: userId or anonymousId is required","index":0})");
}

// --- native ---------------------------------------------------------------------------------

TEST(SdkSourceCollectorNative, EventsNdjsonAndArray) {
  std::string ndjson =
      R"({"event":"e","time":"2023-11-14T22:13:20Z","distinct_id":"u","insert_id":"i1","properties":{"k":"v"}})"
      "\n"
      R"({"event":"e","time":1700000000000,"distinct_id":"u"})"
      "\n";
  Call c = Handle({"POST", "/v1/events", ndjson, "application/x-ndjson", "", "Bearer tok-other"});
  ASSERT_EQ(c.response.status, 200) << c.response.body;
  EXPECT_EQ(c.response.body, R"({"accepted":2})");
  EXPECT_EQ(c.projects, std::vector<std::string>{"other"});
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[0].json,
            R"({"event":"e","time":1700000000000,"distinct_id":"u","insert_id":"i1",)"
            R"("properties":{"k":"v"}})");
  Call arr =
      Handle({"POST", "/v1/events", R"([{"event":"e","time":1700000000000,"distinct_id":"u"}])", "",
              "", Basic("tok-demo")});
  EXPECT_EQ(arr.response.body, R"({"accepted":1})");
}

TEST(SdkSourceCollectorNative, ErrorsNameIndexFieldAndReason) {
  Call c = Handle(
      {"POST", "/v1/events",
       R"([{"event":"e","time":1,"distinct_id":"u"},{"event":"e","distinct_id":"u","time":1,"colour":1}])",
       "", "", "Bearer tok-demo"});
  EXPECT_EQ(c.response.status, 400);
  EXPECT_EQ(c.response.body,
            R"({"error":"invalid record","index":1,"field":"colour","reason":"unknown field )"
            R"j((events have event, time, distinct_id, insert_id, properties)"})j");
  EXPECT_TRUE(c.records.empty());
  Call line = Handle({"POST", "/v1/events",
                      "{\"event\":\"e\",\"time\":1,\"distinct_id\":\"u\"}\n{\"event\":\n", "", "",
                      "Bearer tok-demo"});
  EXPECT_EQ(line.response.status, 400);
  EXPECT_NE(line.response.body.find(R"("index":1,"field":"","reason":"invalid JSON: )"),
            std::string::npos)
      << line.response.body;
  Call unknown = Handle({"POST", "/v1/events", "[]", "", "", "Bearer nope"});
  EXPECT_EQ(unknown.response.status, 401);
  EXPECT_EQ(unknown.response.body, R"({"error":"unknown token"})");
  Call users =
      Handle({"POST", "/v1/users", R"({"distinct_id":"u","$set":{"a":1},"$union":{"tags":["x"]}})",
              "", "", "Bearer tok-demo"});
  ASSERT_EQ(users.response.status, 200);
  ASSERT_EQ(users.records.size(), 1u);
  EXPECT_EQ(users.records[0].ops.size(), 2u);
  EXPECT_EQ(users.records[0].ops[1].kind, ProfileOp::Kind::kUnion);
}

// --- limits and request-level errors -----------------------------------------------------------

TEST(SdkSourceCollectorLimits, PropertiesDepthStringsAndRecordCount) {
  auto native = [](const std::string& props) {
    return Handle({"POST", "/v1/events",
                   R"({"event":"e","time":1,"distinct_id":"u","properties":)" + props + "}", "", "",
                   "Bearer tok-demo"})
        .response.body;
  };
  EXPECT_EQ(native(R"({"a":1,"b":2,"c":3,"d":4,"e":5})"),
            R"({"error":"invalid record","index":0,"field":"properties","reason":"has 5 )"
            R"(properties; max_properties is 4"})");
  EXPECT_EQ(native(R"({"a":{"b":[{"c":1}]}})"),
            R"({"error":"invalid record","index":0,"field":"properties.a.b[0]","reason":"nested )"
            R"(3 levels deep; max_depth is 2"})");
  EXPECT_EQ(native(R"({"a":{"b":[1]}})"), R"({"accepted":1})");
  EXPECT_EQ(native(R"({"a":"0123456789abcdefX"})"),
            R"({"error":"invalid record","index":0,"field":"properties.a","reason":"string of )"
            R"j(17 bytes is longer than max_string_bytes (16)"})j");
  std::string six = "[";
  for (int i = 0; i < 6; ++i) six += std::string(i ? "," : "") + "{}";
  six += "]";
  Call many = Handle({"POST", "/v1/events", six, "", "", "Bearer tok-demo"});
  EXPECT_EQ(many.response.status, 400);
  EXPECT_EQ(many.response.body,
            R"j({"error":"too many records: 6 > max_records_per_request (5)"})j");
}

TEST(SdkSourceCollectorRequest, RoutingMethodsEncodingsAndStoreFailure) {
  Call missing = Handle({"POST", "/nope", ""});
  EXPECT_EQ(missing.response.status, 404);
  Call get = Handle({"GET", "/import", ""});
  EXPECT_EQ(get.response.status, 405);
  EXPECT_EQ(get.response.body,
            R"j({"error":"method GET is not allowed on /import (allowed: POST, OPTIONS)"})j");
  std::string event = R"({"event":"e","time":1,"distinct_id":"u"})";
  Call gz = Handle({"POST", "/v1/events", Compress(event), "", "gzip", "Bearer tok-demo"});
  EXPECT_EQ(gz.response.body, R"({"accepted":1})");
  Call deflate =
      Handle({"POST", "/v1/events", Compress(event, 15), "", "deflate", "Bearer tok-demo"});
  EXPECT_EQ(deflate.response.body, R"({"accepted":1})");
  Call br = Handle({"POST", "/v1/events", event, "", "br", "Bearer tok-demo"});
  EXPECT_EQ(br.response.status, 415);
  Call bomb = Handle(
      {"POST", "/v1/events", Compress(std::string(300000, ' ')), "", "gzip", "Bearer tok-demo"});
  EXPECT_EQ(bomb.response.status, 413);
  EXPECT_EQ(bomb.response.body,
            R"j({"error":"body inflates to more than max_decompressed_bytes (200000)"})j");
  Call too_big = Handle({"POST", "/track", std::string(100001, ' ')});
  EXPECT_EQ(too_big.response.status, 413);
  EXPECT_EQ(too_big.response.body, "0");
  Call down =
      Handle({"POST", "/v1/events", event, "", "", "Bearer tok-demo"}, Status::Error("disk full"));
  EXPECT_EQ(down.response.status, 503);
  EXPECT_EQ(down.response.body,
            R"j({"error":"could not store the records (nothing was acknowledged; retry)"})j");
}

TEST(SdkSourceCollectorRequest, StoreFailureNeverShowsTheServerPathToTheClient) {
  // What Store::Append really returns when a disk fills: the segment file's path.
  const std::string path = "/var/lib/weir/sdk-source/demo/events/00000000000000000001.seg";
  const Status failure = Status::Error("store: write " + path + ": No space left on device");
  const std::string event = R"({"event":"e","time":1,"distinct_id":"u"})";
  const Req requests[] = {
      {"POST", "/v1/events", event, "", "", "Bearer tok-demo"},
      {"POST", "/v1/track", R"({"event":"e","userId":"u"})", "", "", Basic("wk-demo")},
      {"POST", "/track?verbose=1",
       R"({"event":"e","properties":{"token":"tok-demo","distinct_id":"u"}})", "application/json"},
  };
  for (const Req& r : requests) {
    Call down = Handle(r, failure);
    ASSERT_EQ(down.projects.size(), 1u) << r.target;  // the append was attempted
    EXPECT_EQ(down.response.status, 503) << r.target;
    EXPECT_EQ(down.response.body.find("/var/lib"), std::string::npos) << down.response.body;
    EXPECT_EQ(down.response.body.find("No space left"), std::string::npos) << down.response.body;
    EXPECT_NE(down.response.body.find("nothing was acknowledged; retry"), std::string::npos)
        << down.response.body;
  }
}

HttpResponse Healthz(const HealthFn& health, const std::string& method = "GET") {
  static const CollectorConfig config = TestConfig();
  HttpRequestView view;
  view.method = method;
  view.target = "/healthz";
  view.now_ms = kNow;
  return HandleRequest(
      view, config,
      [](const std::string&, const std::vector<Record>&) -> Status {
        ADD_FAILURE() << "/healthz must not append";
        return Status::OK();
      },
      health);
}

TEST(SdkSourceCollectorRequest, HealthzIsOkWhileEveryStoreIsHealthy) {
  for (const char* method : {"GET", "POST"}) {
    HttpResponse absent = Healthz({}, method);
    EXPECT_EQ(absent.status, 200);
    EXPECT_EQ(absent.body, R"({"status":"ok"})");
    HttpResponse none = Healthz([] { return std::vector<std::string>{}; }, method);
    EXPECT_EQ(none.status, 200);
    EXPECT_EQ(none.body, R"({"status":"ok"})");
  }
}

TEST(SdkSourceCollectorRequest, HealthzIs503NamingEveryBrokenStoreAndNoPath) {
  HttpResponse one = Healthz([] { return std::vector<std::string>{"demo"}; });
  EXPECT_EQ(one.status, 503);
  EXPECT_EQ(one.body,
            R"({"status":"broken","broken_projects":["demo"],"error":"a store failed a write or )"
            R"(fsync and refuses every append until the collector is restarted (the server log )"
            R"j(has the cause)"})j");
  HttpResponse two = Healthz([] { return std::vector<std::string>{"demo", "other"}; }, "POST");
  EXPECT_EQ(two.status, 503);
  EXPECT_NE(two.body.find(R"("broken_projects":["demo","other"])"), std::string::npos)
      << two.body;
  // The trailing-slash form is the same route.
  static const CollectorConfig config = TestConfig();
  HttpRequestView view;
  view.method = "GET";
  view.target = "/healthz/";
  HttpResponse slash = HandleRequest(
      view, config, [](const std::string&, const std::vector<Record>&) { return Status::OK(); },
      [] { return std::vector<std::string>{"other"}; });
  EXPECT_EQ(slash.status, 503);
  EXPECT_NE(slash.body.find(R"("broken_projects":["other"])"), std::string::npos) << slash.body;
}

}  // namespace
}  // namespace weir::sdksource
