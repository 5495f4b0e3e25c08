// tests/hostile/collector_hostile_test.cpp — hostile requests against the real `weir-collector`
// process over sockets: malformed and truncated JSON, invalid UTF-8, 100 MB bodies, a
// million-property event, deep nesting, numbers out of range, timestamps from the years 1000 and
// 9999, and property names that look like paths or SQL.
//
// Every case checks the same three things: the answer is a 4xx whose JSON body names what is
// wrong (and where: the record index and field), the collector still answers the next good
// request, and nothing is lost or invented: at the end `weir run` exports the store through the
// s3 plugin to a file:// directory and the exported insert_ids are exactly the acknowledged ones,
// each once. Each test has its own collector, port and temp dir.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "hostile_util.hpp"

namespace weir::test::hostile {
namespace {

using std::chrono::steady_clock;

std::string Gzip(const std::string& in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

/// A gzip stream inflating to `n` zero bytes, built in pieces so the test never holds `n`.
std::string GzipOfZeros(uint64_t n) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY),
            Z_OK);
  const std::string zeros(1 << 20, '\0');
  std::string out;
  char buf[1 << 16];
  for (uint64_t done = 0; done < n;) {
    const uint64_t take = std::min<uint64_t>(zeros.size(), n - done);
    done += take;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    zs.avail_in = static_cast<uInt>(take);
    const int flush = done == n ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      deflate(&zs, flush);
      out.append(buf, sizeof buf - zs.avail_out);
    } while (zs.avail_out == 0);
  }
  deflateEnd(&zs);
  return out;
}

std::string Event(const std::string& id, const std::string& props = "{}",
                  const std::string& time = "1700000000123") {
  return "{\"event\":\"e\",\"time\":" + time + ",\"distinct_id\":\"u1\",\"insert_id\":\"" + id +
         "\",\"properties\":" + props + "}";
}

class HostileCollector : public ::testing::Test {
 protected:
  void SetUp() override {
    collector_ = StartCollector(dir_.path());
    guard_ = std::make_unique<ProcessGuard>(collector_.process);
    ASSERT_GT(collector_.port, 0) << ReadWholeFile(collector_.process.err);
  }
  void TearDown() override {
    if (collector_.process.pid > 0 && !Exited(collector_.process)) {
      Signal(collector_.process, SIGTERM);
      ProcessResult r = WaitProcess(collector_.process);
      EXPECT_EQ(r.code, 0) << "the collector did not stop cleanly: " << r.err;
    }
    guard_->Release();
  }

  uint16_t port() const { return collector_.port; }

  /// Posts one good native event `id` and remembers it as acknowledged.
  void Good(const std::string& id, const std::string& props = "{}",
            const std::string& time = "1700000000123") {
    Answer a = Post(port(), "/v1/events", Bearer(), Event(id, props, time) + "\n");
    ASSERT_EQ(a.status, 200) << id << ": " << a.body;
    EXPECT_EQ(a.body, "{\"accepted\":1}");
    acked_.insert(id);
  }

  /// The collector is alive and serving: /healthz answers ok.
  void ExpectServing(const std::string& after) {
    Answer h = SendRaw(port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(h.status, 200) << "collector not serving after " << after << "\n"
                             << ReadWholeFile(collector_.process.err);
  }

  /// A hostile request must get `status`, a valid JSON body containing `needle`, and leave the
  /// collector serving.
  void ExpectRefused(const std::string& what, const Answer& a, int status,
                     const std::string& needle) {
    EXPECT_EQ(a.status, status) << what << ": " << a.body;
    EXPECT_TRUE(IsValidJson(a.body) || a.body == "0") << what << ": body is not JSON: " << a.body;
    EXPECT_NE(a.body.find(needle), std::string::npos) << what << ": " << a.body;
    ExpectServing(what);
  }

  /// `weir run` exports the store; every acknowledged insert_id is exported exactly once and
  /// nothing else is. Returns the exported objects.
  std::map<std::string, std::vector<std::string>> ExportAndCheck() {
    WriteExportPipeline(dir_.path());
    ProcessResult r = Weir(dir_.path(), {"run", "hostile", "--no-progress"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::map<std::string, int> want;
    for (const auto& id : acked_) want[id] = 1;
    EXPECT_EQ(ExportedInsertIds(dir_.path() / "export"), want);
    return ExportedObjects(dir_.path() / "export");
  }

  TempDir dir_{"weir-hostile-collector"};
  Collector collector_;
  std::unique_ptr<ProcessGuard> guard_;
  std::set<std::string> acked_;
};

TEST_F(HostileCollector, MalformedAndTruncatedJsonAre400AndLoseNothing) {
  Good("before-1");
  const std::string whole = "[" + Event("t-1") + "," + Event("t-2") + "]";
  const std::string mp = std::string(R"([{"event":"e","properties":{"token":")") + kToken +
                         R"(","distinct_id":"u","time":1700000000,"$insert_id":"mp-1"}}])";
  const std::vector<std::string> auth = {std::string("Authorization: Bearer ") + kToken,
                                         "Content-Type: application/json"};
  struct Case {
    std::string what, path;
    std::vector<std::string> headers;
    std::string body;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {"truncated array", "/v1/events", auth, whole.substr(0, whole.size() / 2),
       "body is not valid JSON"},
      {"array missing its bracket", "/v1/events", auth, whole.substr(0, whole.size() - 1),
       "body is not valid JSON"},
      {"truncated NDJSON last line", "/v1/events", auth,
       Event("t-3") + "\n" + Event("t-4").substr(0, 30), "\"index\":1"},
      {"garbage bytes", "/v1/events", auth, std::string("\x01\x02garbage\xfe"),
       "body is not valid JSON"},
      {"trailing garbage", "/v1/events", auth, Event("t-5") + "}}}", "invalid JSON"},
      {"a bare number", "/v1/events", auth, "42", "expected a JSON array or object"},
      {"a bare string", "/v1/events", auth, "\"x\"", "expected a JSON array or object"},
      {"empty body", "/v1/events", auth, "", "empty body"},
      {"truncated /import",
       "/import?strict=1",
       {"Content-Type: application/json"},
       mp.substr(0, mp.size() - 5),
       "not valid JSON"},
      {"truncated /track verbose",
       "/track?verbose=1",
       {"Content-Type: application/json"},
       mp.substr(0, 40),
       "\"status\":0"},
      {"truncated Segment batch",
       "/v1/batch",
       {"Authorization: Basic d2staG9zdGlsZTo=", "Content-Type: application/json"},
       R"({"batch":[{"type":"track","userId":"u","event":"x")",
       "\"success\":false"},
      {"truncated gzip",
       "/v1/events",
       {auth[0], auth[1], "Content-Encoding: gzip"},
       Gzip(whole).substr(0, 20),
       "compressed body is truncated"},
  };
  for (const Case& c : cases) {
    Answer a = Post(port(), c.path, c.headers, c.body);
    ExpectRefused(c.what, a, 400, c.needle);
  }
  // A body shorter than its Content-Length, then the client goes away: no answer is owed and
  // nothing of it may be stored.
  const std::string partial = Event("t-6") + "\n";
  SendRaw(port(),
          "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kToken) +
              "\r\nContent-Length: " + std::to_string(partial.size() + 100) + "\r\n\r\n" + partial,
          /*half_close=*/true);
  ExpectServing("a body cut short");
  // Not HTTP at all.
  Answer junk = SendRaw(port(), "\x16\x03\x01 hello\r\n\r\n");
  EXPECT_EQ(junk.status, 400) << junk.body;
  EXPECT_NE(junk.body.find("malformed HTTP request"), std::string::npos) << junk.body;
  ExpectServing("a request that is not HTTP");
  Good("after-1");
  ExportAndCheck();
}

TEST_F(HostileCollector, InvalidUtf8IsRefusedAndEveryAnswerIsValidJson) {
  Good("before-1");
  const std::vector<std::pair<std::string, std::string>> bad_strings = {
      {"a lone continuation byte", "\x80"},
      {"an 0xff byte", "a\xffz"},
      {"an overlong slash", "\xc0\xaf"},
      {"a truncated 3-byte sequence", "\xe2\x82"},
      {"a UTF-16 surrogate encoded in UTF-8", "\xed\xa0\x80"},
      {"a code point past U+10FFFF", "\xf4\x90\x80\x80"},
  };
  for (const auto& [what, bytes] : bad_strings) {
    // In a value, in a key, and in the event name: all are refused before anything is stored.
    ExpectRefused(what + " in a value",
                  Post(port(), "/v1/events", Bearer(), Event("u8-v", "{\"p\":\"" + bytes + "\"}")),
                  400, "UTF-8");
    ExpectRefused(what + " in a key",
                  Post(port(), "/v1/events", Bearer(), Event("u8-k", "{\"" + bytes + "\":1}")), 400,
                  "UTF-8");
  }
  // Inside base64 (Mixpanel /track GET): decoded, then refused the same way.
  const std::string mp =
      std::string(R"({"event":"e)") + "\xff" + R"(","properties":{"token":")" + kToken + R"("}})";
  std::string b64;
  {
    static const char* kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t acc = 0;
    int bits = 0;
    for (unsigned char ch : mp) {
      acc = (acc << 8) | ch;
      bits += 8;
      while (bits >= 6) {
        b64 += kAlphabet[(acc >> (bits - 6)) & 63];
        bits -= 6;
      }
    }
    if (bits > 0) b64 += kAlphabet[(acc << (6 - bits)) & 63];
  }
  Answer track = SendRaw(port(), "GET /track?verbose=1&data=" + b64 +
                                     " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ExpectRefused("invalid UTF-8 in base64 /track data", track, 400, "UTF-8");
  // Invalid UTF-8 where the collector echoes the request back: the path of a 404 and the
  // Content-Encoding of a 415. The answer must still be valid JSON.
  Answer path404 =
      SendRaw(port(), "GET /v1/\xff\xfe\xc0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ExpectRefused("invalid UTF-8 in the path", path404, 404, "unknown path");
  Answer enc415 =
      Post(port(), "/v1/events", {Bearer()[0], std::string("Content-Encoding: br\xff\xfe")}, "{}");
  ExpectRefused("invalid UTF-8 in Content-Encoding", enc415, 415, "unsupported Content-Encoding");
  // A path cut in the middle of a multi-byte character by the collector's own shortening.
  Answer long404 = SendRaw(port(), "GET /" + std::string(199, 'a') + "\xc3\xa9" +
                                       " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ExpectRefused("a long path shortened inside a character", long404, 404, "unknown path");
  // Valid non-ASCII survives byte for byte.
  Good("after-1", "{\"name\":\"Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80\"}");
  auto objects = ExportAndCheck();
  bool found = false;
  for (const auto& [path, lines] : objects) {
    for (const auto& line : lines) {
      found = found || line.find("\"name\":\"Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80\"") !=
                           std::string::npos;
    }
  }
  EXPECT_TRUE(found) << "valid UTF-8 did not survive the export";
}

TEST_F(HostileCollector, HundredMegabyteBodiesAreRefusedEarlyWithoutBeingBuffered) {
  Good("before-1");
  const uint64_t kHundredMb = 100ull << 20;
  const long rss_before = PeakRssKb(collector_.process.pid);
  ASSERT_GT(rss_before, 0);
  const std::string head = "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           std::string(kToken) + "\r\nContent-Type: application/x-ndjson\r\n";
  const std::string piece = Event("big") + "\n";
  auto filler = [&](uint64_t) {
    std::string s;
    while (s.size() < (256u << 10)) s += piece;
    return s;
  };
  // 1. Content-Length 100 MB: refused from the header, before any of the body is read.
  const auto t0 = steady_clock::now();
  StreamResult cl = StreamBody(
      port(),
      head + "Content-Length: " + std::to_string(kHundredMb) + "\r\nConnection: close\r\n\r\n",
      kHundredMb, filler);
  EXPECT_EQ(cl.answer.status, 413) << cl.answer.body;
  EXPECT_NE(cl.answer.body.find("body is larger than max_body_bytes (10485760)"), std::string::npos)
      << cl.answer.body;
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(15));
  ExpectServing("a 100 MB Content-Length");
  const long rss_cl = PeakRssKb(collector_.process.pid);
  // 2. The same 100 MB chunked, without a Content-Length: refused once max_body_bytes arrived.
  const std::string chunk_data = filler(0);
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk_data.size());
  std::string chunk = size_line + chunk_data + "\r\n";
  StreamResult chunked =
      StreamBody(port(), head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                 kHundredMb, [&](uint64_t) { return chunk; });
  EXPECT_EQ(chunked.answer.status, 413) << chunked.answer.body;
  EXPECT_LT(chunked.body_bytes_sent, kHundredMb) << "the collector read the whole 100 MB";
  ExpectServing("a 100 MB chunked body");
  const long rss_chunked = PeakRssKb(collector_.process.pid);
  // 3. A gzip bomb: 150 KB on the wire, 100 MB inflated; stopped at max_decompressed_bytes.
  Answer bomb = Post(port(), "/v1/events", {Bearer()[0], Bearer()[1], "Content-Encoding: gzip"},
                     GzipOfZeros(kHundredMb));
  ExpectRefused("a gzip bomb", bomb, 413, "max_decompressed_bytes");
  // None of it was held whole: the peak grew by far less than 100 MB (the limits are 10 MiB on
  // the wire and 50 MiB inflated).
  const long rss_after = PeakRssKb(collector_.process.pid);
  EXPECT_LT(rss_after - rss_before, 80 * 1024)
      << "peak RSS grew from " << rss_before << " KiB to " << rss_cl << " (Content-Length), "
      << rss_chunked << " (chunked), " << rss_after << " KiB (gzip bomb)";
  Good("after-1");
  ExportAndCheck();
}

TEST_F(HostileCollector, MillionPropertyEventIsRefusedNamingTheLimit) {
  Good("before-1");
  std::string props = "{";
  for (int i = 0; i < 1000000; ++i) {
    if (i > 0) props += ',';
    props += "\"p" + std::to_string(i) + "\":" + std::to_string(i % 10);
  }
  props += "}";
  const std::string body = Event("million", props);
  // Uncompressed it is over max_body_bytes already.
  ExpectRefused("a million properties, plain", Post(port(), "/v1/events", Bearer(), body), 413,
                "max_body_bytes");
  // Gzipped it fits on the wire and inflates within max_decompressed_bytes: the property limit
  // names the field and the count.
  const auto t0 = steady_clock::now();
  Answer gz =
      Post(port(), "/v1/events", {Bearer()[0], Bearer()[1], "Content-Encoding: gzip"}, Gzip(body));
  ExpectRefused("a million properties, gzip", gz, 400,
                "has 1000000 properties; max_properties is 255");
  EXPECT_NE(gz.body.find("\"field\":\"properties\""), std::string::npos) << gz.body;
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(10));
  // The same as a profile update.
  const std::string user = "{\"distinct_id\":\"u1\",\"$set\":" + props + "}";
  Answer users =
      Post(port(), "/v1/users", {Bearer()[0], Bearer()[1], "Content-Encoding: gzip"}, Gzip(user));
  ExpectRefused("a million-property $set", users, 400, "max_properties is 255");
  Good("after-1");
  ExportAndCheck();
}

TEST_F(HostileCollector, DeeplyNestedObjectsAreRefusedNamingThePath) {
  Good("before-1");
  // Past max_depth (3): the error names the path down to the level that is too deep.
  ExpectRefused(
      "5 levels",
      Post(port(), "/v1/events", Bearer(), Event("deep-5", R"({"a":{"b":{"c":{"d":{"e":1}}}}})")),
      400, "properties.a.b.c.d");
  // Far past what the JSON parser nests (objects and arrays, 100,000 deep): still a 400.
  for (const auto& [open, close] : {std::pair{std::string("{\"a\":"), std::string("}")},
                                    std::pair{std::string("["), std::string("]")}}) {
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += open;
    deep += "1";
    for (int i = 0; i < 100000; ++i) deep += close;
    ExpectRefused("100000 levels of " + open,
                  Post(port(), "/v1/events", Bearer(), Event("deep-x", "{\"p\":" + deep + "}")),
                  400, "too deep");
    ExpectRefused("100000 levels of " + open + " as the whole body",
                  Post(port(), "/v1/events", Bearer(), "[" + deep + "]"), 400, "too deep");
  }
  // In a profile operation and in Segment's context, which are copied into the record too.
  ExpectRefused("deep $set",
                Post(port(), "/v1/users", Bearer(),
                     R"({"distinct_id":"u1","$set":{"a":{"b":{"c":{"d":{"e":1}}}}}})"),
                400, "$set.a.b.c.d");
  ExpectRefused("deep Segment context",
                Post(port(), "/v1/track",
                     {"Authorization: Basic d2staG9zdGlsZTo=", "Content-Type: application/json"},
                     R"({"userId":"u","event":"x","context":{"a":{"b":{"c":{"d":{"e":1}}}}}})"),
                400, "\"success\":false");
  // At the limit it is accepted.
  Good("at-limit", R"({"a":{"b":{"c":1}}})");
  ExportAndCheck();
}

TEST_F(HostileCollector, NumbersOutOfRangeAreClearErrors) {
  Good("before-1");
  struct Case {
    std::string what, value, needle;
  };
  const std::vector<Case> cases = {
      {"1e400", "1e400", "number"},
      {"-1e400", "-1e400", "number"},
      {"an integer of 30 digits", "123456789012345678901234567890", "number"},
      {"NaN", "NaN", "not valid JSON"},
      {"Infinity", "Infinity", "not valid JSON"},
      {"a leading zero", "0123", "not valid JSON"},
  };
  for (const Case& c : cases) {
    ExpectRefused(
        "property " + c.what,
        Post(port(), "/v1/events", Bearer(), "[" + Event("num", "{\"n\":" + c.value + "}") + "]"),
        400, c.needle);
  }
  // Times out of range name the field.
  for (const std::string t :
       {"1e300", "-1", "1e19", "18446744073709551615", "253402300800000", "\"99999-01-01\""}) {
    Answer a = Post(port(), "/v1/events", Bearer(), Event("time", "{}", t));
    ExpectRefused("time " + t, a, 400, "\"field\":\"time\"");
  }
  // The extremes that are numbers survive the round trip exactly.
  Good("extremes", R"({"dmax":1.7976931348623157e308,"dmin":-1.7976931348623157e308,"tiny":5e-324,)"
                   R"("imin":-9223372036854775808,"umax":18446744073709551615})");
  auto objects = ExportAndCheck();
  bool found = false;
  for (const auto& [path, lines] : objects) {
    for (const auto& line : lines) {
      found =
          found || line.find(R"("dmax":1.7976931348623157e+308,"dmin":-1.7976931348623157e+308,)"
                             R"("imin":-9223372036854775808,"tiny":5e-324,)"
                             R"("umax":18446744073709551615)") != std::string::npos;
    }
  }
  EXPECT_TRUE(found) << "extreme numbers changed on the way";
}

TEST_F(HostileCollector, TimestampsFromTheYears1000And9999) {
  Good("before-1");
  // Year 1000 is before the epoch: refused, naming the field, in every protocol.
  ExpectRefused(
      "native year 1000",
      Post(port(), "/v1/events", Bearer(), Event("y1000", "{}", "\"1000-01-01T00:00:00Z\"")), 400,
      "is before 1970");
  ExpectRefused("Segment year 1000",
                Post(port(), "/v1/track",
                     {"Authorization: Basic d2staG9zdGlsZTo=", "Content-Type: application/json"},
                     R"({"userId":"u","event":"x","timestamp":"1000-06-15T12:00:00Z"})"),
                400, "before 1970");
  ExpectRefused("Mixpanel year 1000",
                Post(port(), "/import?strict=1", {"Content-Type: application/json"},
                     std::string(R"([{"event":"e","properties":{"token":")") + kToken +
                         R"(","distinct_id":"u","time":"1000-01-01","$insert_id":"y1000"}}])"),
                400, "before 1970");
  ExpectRefused(
      "year 10000",
      Post(port(), "/v1/events", Bearer(), Event("y10000", "{}", "\"10000-01-01T00:00:00Z\"")), 400,
      "\"field\":\"time\"");
  // The last millisecond of 9999 is accepted, as a string and as a number, and exported into
  // its event-time partition.
  Good("y9999-s", "{}", "\"9999-12-31T23:59:59.999Z\"");
  Good("y9999-n", "{}", "253402300799999");
  // Year 1970, the first millisecond, too.
  Good("y1970", "{}", "0");
  auto objects = ExportAndCheck();
  int in_9999 = 0;
  for (const auto& [path, lines] : objects) {
    if (path.find("demo/mp_master_event/9999/12/31/23/") == 0) in_9999 += int(lines.size());
    for (const auto& line : lines) {
      if (line.find("\"insert_id\":\"y9999") != std::string::npos) {
        EXPECT_NE(line.find("\"time\":253402300799999"), std::string::npos) << line;
      }
    }
  }
  EXPECT_EQ(in_9999, 2);
}

TEST_F(HostileCollector, PathAndSqlLookingNamesStayDataAndNeverLeaveTheExportDirectory) {
  const std::string props =
      R"({"../../etc":"../../etc/passwd","\"; DROP TABLE x; --":"'; DROP TABLE events; --",)"
      R"("/etc/shadow":1,"..":2,"%2e%2e%2f":3,"a\\..\\b":4,"$insert_id/../x":5})";
  Answer a = Post(port(), "/v1/events", Bearer(),
                  R"({"event":"../../etc/passwd","time":1700000000123,)"
                  R"("distinct_id":"'; DROP TABLE events; --","insert_id":"../../x",)"
                  R"("properties":)" +
                      props + "}\n");
  ASSERT_EQ(a.status, 200) << a.body;
  acked_.insert("../../x");
  auto objects = ExportAndCheck();
  // Every object is inside the export directory's own layout, none anywhere else.
  ASSERT_FALSE(objects.empty());
  for (const auto& [path, lines] : objects) {
    EXPECT_EQ(path.rfind("demo/mp_master_event/2023/11/14/22/hostile-", 0), 0u) << path;
    EXPECT_EQ(path.find(".."), std::string::npos) << path;
  }
  EXPECT_FALSE(fs::exists(dir_.path() / "etc")) << "something escaped into the temp dir";
  // The names are data, byte for byte (keys sorted, as the canonical model writes them).
  const std::string& line = objects.begin()->second.front();
  EXPECT_NE(line.find(R"("event":"../../etc/passwd")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("distinct_id":"'; DROP TABLE events; --")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("\"; DROP TABLE x; --":"'; DROP TABLE events; --")"), std::string::npos)
      << line;
  EXPECT_NE(line.find(R"("../../etc":"../../etc/passwd")"), std::string::npos) << line;
  // A pipeline whose project looks like a path: the s3 plugin will not make it a folder, so
  // nothing is written above the export directory (file://DIR/export/../../etc/...).
  std::string escape = ReadWholeFile(dir_.path() / "pipelines" / "hostile.json");
  escape.replace(escape.find("\"name\":\"hostile\""), 16, "\"name\":\"escape\"");
  escape.replace(escape.find("\"project\":\"demo\""), 16, "\"project\":\"../../etc\"");
  WriteText(dir_.path() / "pipelines" / "escape.json", escape);
  ProcessResult esc = Weir(dir_.path(), {"run", "escape", "--no-progress"});
  EXPECT_NE(esc.code, 0) << esc.err;
  EXPECT_NE(esc.err.find("s3: project '../../etc' cannot be a folder name in object keys"),
            std::string::npos)
      << esc.err;
  EXPECT_FALSE(fs::exists(dir_.path().parent_path() / "etc" / "mp_master_event"));
  EXPECT_EQ(ExportedObjects(dir_.path() / "export"), objects);
}

}  // namespace
}  // namespace weir::test::hostile
