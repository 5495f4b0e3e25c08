// tests/sdk_source/collector/collector_http_test.cpp — the real `weir-collector` process over
// real sockets: every protocol's success path (checked by reading the store back with
// Store::OpenReadOnly), gzip bodies, bad credentials, oversized bodies and malformed records
// (exact status and body, nothing stored), profiles built from /engage and Segment identify,
// time formats, deterministic insert_ids, and kill -9 while four clients send: after a restart
// every acknowledged record is in the store exactly once.
//
// The HTTP client is a few lines of synchronous Beast. Each test starts its own collector on
// a free port (port file) in its own temp dir, and stops it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "file_size_limit.hpp"
#include "store/store.hpp"
#include "test_util.hpp"

extern char** environ;

namespace weir::sdksource {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using testing::Base64;
using testing::Compress;
using testing::FileSizeLimit;
using testing::UrlEncode;

struct Reply {
  int status = -1;  // -1: no answer (connection failed or reset)
  std::string body;
  std::string content_type;
  std::string error;
};

/// One request on a fresh connection.
Reply Send(uint16_t port, http::verb method, const std::string& target, const std::string& body,
           const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Reply reply;
  try {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    if (method != http::verb::get || !body.empty()) req.prepare_payload();
    http::write(socket, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{64} << 20);
    http::read(socket, buffer, parser);
    reply.status = static_cast<int>(parser.get().result_int());
    reply.body = parser.get().body();
    reply.content_type = std::string(parser.get()[http::field::content_type]);
    beast::error_code ec;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  } catch (const std::exception& e) {
    reply.error = e.what();
  }
  return reply;
}

std::string BasicAuth(const std::string& user) { return "Basic " + Base64(user + ":"); }

class SdkSourceCollectorHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/weir-collector-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    StopCollector(SIGTERM);
    if (!HasFailure()) fs::remove_all(dir_);
  }

  void WriteConfig(const std::string& limits = R"({"max_body_bytes": 8192,
      "max_decompressed_bytes": 65536, "max_records_per_request": 100})") {
    std::ofstream out(dir_ / "collector.json");
    out << R"({"data_dir": ")" << (dir_ / "data").string() << R"(",
      "listen": "127.0.0.1:0", "threads": 2, "workers": 8,
      "projects": {"demo": {"tokens": ["tok-demo"], "write_keys": ["wk-demo"]},
                   "other": {"tokens": ["tok-other"]}},
      "limits": )"
        << limits << "}";
  }

  /// Starts weir-collector and waits until it listens.
  void StartCollector() {
    if (!fs::exists(dir_ / "collector.json")) WriteConfig();
    fs::remove(dir_ / "port");
    std::string err = (dir_ / ("stderr-" + std::to_string(starts_++))).string();
    std::vector<std::string> args = {WEIR_COLLECTOR_BINARY, "--config",
                                     (dir_ / "collector.json").string(), "--port-file",
                                     (dir_ / "port").string()};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    // Wait for the port file (written once listening) or for the process to die.
    for (int i = 0; i < 3000; ++i) {
      std::ifstream in(dir_ / "port");
      if (in >> port_) return;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        std::ifstream e(err);
        std::stringstream ss;
        ss << e.rdbuf();
        FAIL() << "weir-collector exited during start: " << ss.str();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "weir-collector did not write its port file";
  }

  void StopCollector(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    if (sig == SIGTERM) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    }
    pid_ = -1;
  }

  Reply Post(const std::string& target, const std::string& body,
             const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return Send(port_, http::verb::post, target, body, headers);
  }

  /// Every record of `stream` in project `project`, read with a read-only store.
  std::vector<std::string> ReadAll(Stream stream, const std::string& project = "demo") {
    std::vector<std::string> out;
    StoreOptions options;
    options.dir = dir_ / "data" / project;
    auto store = Store::OpenReadOnly(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return out;
    ReadResult result;
    uint64_t after = 0;
    for (;;) {
      ReadBounds bounds;
      bounds.after_seq = after;
      bounds.max_records = 10000;
      Status st = (*store)->Read(stream, bounds, result);
      EXPECT_TRUE(st.ok()) << st.ToString();
      if (!st.ok() || result.records.empty()) break;
      for (const auto& r : result.records) out.emplace_back(r.json);
      after = result.records.back().seq;
    }
    return out;
  }

  /// The newest users-stream snapshot of `distinct_id` (its JSON), or "".
  std::string LatestProfile(const std::string& distinct_id) {
    std::string latest;
    for (const auto& json : ReadAll(Stream::kUsers)) {
      if (json.find("\"distinct_id\":\"" + distinct_id + "\"") != std::string::npos) latest = json;
    }
    return latest;
  }

  fs::path dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  int starts_ = 0;
};

const char* kTrackEvent =
    R"({"event":"Signup","properties":{"token":"tok-demo","distinct_id":"u1","time":1700000000,)"
    R"("$insert_id":"abc-1","plan":"pro"}})";
const char* kTrackCanonical =
    R"({"event":"Signup","time":1700000000000,"distinct_id":"u1","insert_id":"abc-1",)"
    R"("properties":{"plan":"pro"}})";

// --- Mixpanel -------------------------------------------------------------------------------

TEST_F(SdkSourceCollectorHttp, MixpanelTrackGetFormVerboseAndGzip) {
  StartCollector();
  Reply get = Send(port_, http::verb::get, "/track?data=" + UrlEncode(Base64(kTrackEvent)), "");
  EXPECT_EQ(get.status, 200) << get.error;
  EXPECT_EQ(get.body, "1");
  Reply form = Post("/track/?verbose=1", "data=" + UrlEncode(Base64(kTrackEvent, true)),
                    {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 200);
  EXPECT_EQ(form.body, R"({"status":1,"error":null})");
  Reply gz = Post("/track", Compress(std::string("[") + kTrackEvent + "]"),
                  {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.body, "1");
  // The three requests carry the same $insert_id: the collector stores the event once.
  auto events = ReadAll(Stream::kEvents);
  ASSERT_EQ(events.size(), 1u);
  for (const auto& e : events) EXPECT_EQ(e, kTrackCanonical);
}

TEST_F(SdkSourceCollectorHttp, MixpanelBadTokenOversizedMalformed) {
  StartCollector();
  std::string bad_token = kTrackEvent;
  bad_token.replace(bad_token.find("tok-demo"), 8, "tok-nope");
  Reply unknown = Post("/track?verbose=1", bad_token, {{"Content-Type", "application/json"}});
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.body, R"({"status":0,"error":"unknown project token"})");
  Reply plain = Post("/track", bad_token, {{"Content-Type", "application/json"}});
  EXPECT_EQ(plain.status, 401);
  EXPECT_EQ(plain.body, "0");

  std::string big = "data=" + std::string(20000, 'A');
  Reply too_big =
      Post("/track?verbose=1", big, {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(too_big.status, 413) << too_big.error;
  EXPECT_EQ(too_big.body, R"j({"status":0,"error":"body is larger than max_body_bytes (8192)"})j");
  Reply import_big =
      Post("/import", std::string(20000, ' '), {{"Authorization", BasicAuth("tok-demo")}});
  EXPECT_EQ(import_big.status, 413);
  EXPECT_EQ(import_big.body, R"j({"code":413,"error":"body is larger than max_body_bytes (8192)",)j"
                             R"("status":"Payload Too Large"})");

  Reply malformed = Post("/track?verbose=1",
                         R"([{"event":"a","properties":{"token":"tok-demo","time":"later"}}])",
                         {{"Content-Type", "application/json"}});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(
      malformed.body,
      R"j({"status":0,"error":"record 0: properties.time: cannot parse \"later\" as a time (expected seconds, milliseconds or ISO-8601)"})j");
  Reply not_json =
      Post("/track", "data=!!!", {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(not_json.body, "0");
  EXPECT_TRUE(ReadAll(Stream::kEvents).empty());
}

TEST_F(SdkSourceCollectorHttp, MixpanelImportStrictPartial) {
  StartCollector();
  std::string body =
      R"([{"event":"a","properties":{"distinct_id":"u","time":1700000000,"$insert_id":"id-0"}},)"
      R"({"event":"b","properties":{"distinct_id":"u","$insert_id":"id-1"}},)"
      R"({"event":"c","properties":{"distinct_id":"u","time":"2023-11-14T22:13:20Z","$insert_id":"id-2"}}])";
  Reply r = Post("/import?strict=1", Compress(body),
                 {{"Authorization", BasicAuth("tok-demo")},
                  {"Content-Type", "application/json"},
                  {"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(
      r.body,
      R"j({"code":400,"error":"some data points in the request failed validation","failed_records":[{"index":1,"$insert_id":"id-1","field":"properties.time","message":"missing (required by /import)"}],"num_records_imported":2,"status":"Bad Request"})j");
  auto events = ReadAll(Stream::kEvents);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(
      events[0],
      R"({"event":"a","time":1700000000000,"distinct_id":"u","insert_id":"id-0","properties":{}})");
  EXPECT_EQ(
      events[1],
      R"({"event":"c","time":1700000000000,"distinct_id":"u","insert_id":"id-2","properties":{}})");
  Reply ok = Post(
      "/import",
      R"({"event":"d","properties":{"token":"tok-demo","distinct_id":"u","time":1700000000}})");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, R"({"code":200,"num_records_imported":1,"status":"OK"})");
}

TEST_F(SdkSourceCollectorHttp, MixpanelEngageBuildsProfiles) {
  StartCollector();
  std::string ops =
      R"([{"$token":"tok-demo","$distinct_id":"u1","$time":1700000000000,"$set":{"name":"Ann","old":1}},)"
      R"({"$token":"tok-demo","$distinct_id":"u1","$time":1700000001000,"$add":{"visits":1}},)"
      R"({"$token":"tok-demo","$distinct_id":"u1","$time":1700000002000,"$add":{"visits":1}},)"
      R"({"$token":"tok-demo","$distinct_id":"u1","$time":1700000003000,"$unset":["old"]},)"
      R"({"$token":"tok-demo","$distinct_id":"u1","$time":1700000004000,"$union":{"tags":["a","b"]}},)"
      R"({"$token":"tok-demo","$distinct_id":"u1","$time":1700000005000,"$set_once":{"name":"Bob","first":"x"}}])";
  Reply r = Post("/engage?verbose=1", "data=" + UrlEncode(Base64(ops)),
                 {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string profile = LatestProfile("u1");
  ASSERT_FALSE(profile.empty());
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(profile);
  simdjson::dom::object props = doc["properties"];
  EXPECT_EQ(std::string_view(props["name"]), "Ann");
  EXPECT_EQ(int64_t(props["visits"]), 2);
  EXPECT_EQ(std::string_view(props["first"]), "x");
  EXPECT_EQ(props["old"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(simdjson::dom::array(props["tags"]).size(), 2u);
  EXPECT_EQ(int64_t(doc["updated_at"]), 1700000005000);

  Reply bad = Post("/engage", R"({"$token":"tok-demo","$distinct_id":"u1","$explode":{}})",
                   {{"Content-Type", "application/json"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "0");
}

// --- Segment ---------------------------------------------------------------------------------

TEST_F(SdkSourceCollectorHttp, SegmentBatchIdentifyAliasGzip) {
  StartCollector();
  std::string batch = R"({"batch":[
    {"type":"track","userId":"u1","event":"Bought","properties":{"price":9.5},
     "timestamp":"2023-11-14T22:13:20.5Z","messageId":"m-1"},
    {"type":"screen","anonymousId":"a1","name":"Home","timestamp":1700000000,"messageId":"m-2"},
    {"type":"identify","userId":"u1","anonymousId":"a1","traits":{"email":"x@y.z","plan":"pro"},
     "timestamp":"2023-11-14T22:13:20Z"}],
    "context":{"library":{"name":"analytics-node"}}})";
  Reply r = Post("/v1/batch", Compress(batch),
                 {{"Authorization", BasicAuth("wk-demo")},
                  {"Content-Type", "application/json"},
                  {"Content-Encoding", "gzip"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"success":true})");
  Reply alias = Post(
      "/v1/alias",
      R"({"writeKey":"wk-demo","previousId":"old-id","userId":"u1","timestamp":1700000000000})");
  EXPECT_EQ(alias.status, 200);

  auto events = ReadAll(Stream::kEvents);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(
      events[0],
      R"({"event":"Bought","time":1700000000500,"distinct_id":"u1","insert_id":"m-1",)"
      R"("properties":{"$segment_context":{"library":{"name":"analytics-node"}},"price":9.5}})");
  EXPECT_EQ(
      events[1],
      R"({"event":"Screen Viewed","time":1700000000000,"distinct_id":"a1","insert_id":"m-2",)"
      R"("properties":{"$segment_context":{"library":{"name":"analytics-node"}},"name":"Home"}})");
  auto identities = ReadAll(Stream::kIdentities);
  ASSERT_EQ(identities.size(), 2u);
  EXPECT_EQ(identities[0], R"({"distinct_id":"a1","user_id":"u1","time":1700000000000})");
  EXPECT_EQ(identities[1], R"({"distinct_id":"old-id","user_id":"u1","time":1700000000000})");
  std::string profile = LatestProfile("u1");
  EXPECT_NE(profile.find(R"("email":"x@y.z")"), std::string::npos) << profile;
  EXPECT_NE(profile.find(R"("plan":"pro")"), std::string::npos) << profile;
}

TEST_F(SdkSourceCollectorHttp, SegmentBadKeyOversizedMalformed) {
  StartCollector();
  Reply bad_key =
      Post("/v1/track", R"({"userId":"u","event":"E"})", {{"Authorization", BasicAuth("wk-nope")}});
  EXPECT_EQ(bad_key.status, 401);
  EXPECT_EQ(bad_key.body, R"({"success":false,"error":"invalid write key"})");
  Reply too_big =
      Post("/v1/track", std::string(9000, ' '), {{"Authorization", BasicAuth("wk-demo")}});
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(too_big.body,
            R"j({"success":false,"error":"body is larger than max_body_bytes (8192)"})j");
  Reply malformed = Post(
      "/v1/batch", R"({"batch":[{"type":"track","userId":"u","event":"E"},{"type":"rocket"}]})",
      {{"Authorization", BasicAuth("wk-demo")}});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(
      malformed.body,
      R"({"success":false,"error":"type: expected one of track, page, screen, group, identify, alias","index":1})");
  Reply bad_json = Post("/v1/track", "{", {{"Authorization", BasicAuth("wk-demo")}});
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.body.rfind(R"({"success":false,"error":"body is not valid JSON: )", 0), 0u)
      << bad_json.body;
  EXPECT_TRUE(ReadAll(Stream::kEvents).empty());
}

// --- native ---------------------------------------------------------------------------------

TEST_F(SdkSourceCollectorHttp, NativeEventsUsersGzipAndErrors) {
  StartCollector();
  std::string ndjson =
      R"({"event":"e1","time":1700000000123,"distinct_id":"u","insert_id":"n-1","properties":{"k":[1,2]}})"
      "\n"
      R"({"event":"e2","time":"2023-11-14T23:13:20+01:00","distinct_id":"u","insert_id":"n-2"})"
      "\n";
  Reply r = Post("/v1/events", Compress(ndjson),
                 {{"Authorization", "Bearer tok-other"},
                  {"Content-Encoding", "gzip"},
                  {"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"accepted":2})");
  auto events = ReadAll(Stream::kEvents, "other");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(
      events[0],
      R"({"event":"e1","time":1700000000123,"distinct_id":"u","insert_id":"n-1","properties":{"k":[1,2]}})");
  EXPECT_EQ(
      events[1],
      R"({"event":"e2","time":1700000000000,"distinct_id":"u","insert_id":"n-2","properties":{}})");

  Reply users = Post(
      "/v1/users",
      R"([{"distinct_id":"p1","time":1700000000000,"$set":{"a":1,"b":2}},{"distinct_id":"p1","time":1700000001000,"$unset":["b"],"$add":{"a":5}}])",
      {{"Authorization", "Bearer tok-demo"}});
  ASSERT_EQ(users.status, 200) << users.body;
  std::string profile = LatestProfile("p1");
  EXPECT_NE(profile.find(R"("properties":{"a":6})"), std::string::npos) << profile;

  Reply unknown = Post("/v1/events", "[]", {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.body, R"({"error":"unknown token"})");
  Reply too_big =
      Post("/v1/events", std::string(9000, ' '), {{"Authorization", "Bearer tok-demo"}});
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(too_big.body, R"j({"error":"body is larger than max_body_bytes (8192)"})j");
  Reply bomb = Post("/v1/events", Compress(std::string(1 << 20, '\n')),
                    {{"Authorization", "Bearer tok-demo"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(bomb.status, 413);
  EXPECT_EQ(bomb.body,
            R"j({"error":"body inflates to more than max_decompressed_bytes (65536)"})j");
  Reply malformed = Post(
      "/v1/events",
      R"([{"event":"e","time":1,"distinct_id":"u"},{"event":"e","time":true,"distinct_id":"u"}])",
      {{"Authorization", "Bearer tok-demo"}});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(
      malformed.body,
      R"({"error":"invalid record","index":1,"field":"time","reason":"expected a number or an ISO-8601 string, found a boolean"})");
  EXPECT_TRUE(ReadAll(Stream::kEvents, "demo").empty());
}

TEST_F(SdkSourceCollectorHttp, TimeFormatsAndDeterministicInsertId) {
  StartCollector();
  std::string body;
  int n = 0;  // a property per line, so equal times do not derive the same insert_id
  for (const char* t : {"1700000000", "1700000000.25", "1700000000250", "\"1700000000\"",
                        "\"2023-11-14T22:13:20.250Z\"", "\"2023-11-14T17:13:20.25-05:00\""}) {
    body += std::string(R"({"event":"t","distinct_id":"u","properties":{"n":)") +
            std::to_string(n++) + R"(},"time":)" + t + "}\n";
  }
  Reply r = Post("/v1/events", body, {{"Authorization", "Bearer tok-demo"}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<int64_t> times;
  simdjson::dom::parser parser;
  for (const auto& json : ReadAll(Stream::kEvents)) {
    times.push_back(int64_t(parser.parse(json)["time"]));
  }
  EXPECT_EQ(times, (std::vector<int64_t>{1700000000000, 1700000000250, 1700000000250, 1700000000000,
                                         1700000000250, 1700000000250}));

  // The same payload without an insert_id, sent twice: the same generated id both times, so
  // the second copy (an SDK retry) is acknowledged and not stored again.
  std::string no_id =
      R"({"event":"x","properties":{"token":"tok-demo","distinct_id":"u","time":1700000000,"a":1}})";
  ASSERT_EQ(Post("/track", no_id, {{"Content-Type", "application/json"}}).body, "1");
  ASSERT_EQ(Post("/track", no_id, {{"Content-Type", "application/json"}}).body, "1");
  auto events = ReadAll(Stream::kEvents);
  ASSERT_EQ(events.size(), 7u);
  auto id = std::string_view(parser.parse(events[6])["insert_id"]);
  EXPECT_EQ(id.size(), 32u);
}

TEST_F(SdkSourceCollectorHttp, RoutingAndKeepAlive) {
  StartCollector();
  Reply missing = Post("/v2/nothing", "{}");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body.rfind(R"({"error":"unknown path /v2/nothing)", 0), 0u);
  Reply method = Send(port_, http::verb::get, "/v1/events", "");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.body,
            R"j({"error":"method GET is not allowed on /v1/events (allowed: POST, OPTIONS)"})j");

  // Several requests on one connection.
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), port_});
  beast::flat_buffer buffer;
  for (int i = 0; i < 3; ++i) {
    http::request<http::string_body> req{http::verb::post, "/v1/events", 11};
    req.set(http::field::authorization, "Bearer tok-demo");
    req.body() =
        R"({"event":"k","time":1,"distinct_id":"u","insert_id":"k-)" + std::to_string(i) + "\"}";
    req.keep_alive(true);
    req.prepare_payload();
    http::write(socket, req);
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    EXPECT_EQ(res.body(), R"({"accepted":1})");
    EXPECT_TRUE(res.keep_alive());
  }
  EXPECT_EQ(ReadAll(Stream::kEvents).size(), 3u);
}

TEST_F(SdkSourceCollectorHttp, AFailedStoreWriteIs503WithoutPathsAndFailsHealthz) {
  WriteConfig(R"({"max_body_bytes": 1048576, "max_decompressed_bytes": 1048576})");
  {
    // The collector inherits a 64 KiB file size limit: a bigger segment write fails with
    // EFBIG, as one on a full disk fails with ENOSPC, and breaks that project's store.
    FileSizeLimit limit(64 << 10);
    ASSERT_TRUE(limit.ok()) << "cannot lower RLIMIT_FSIZE";
    StartCollector();
  }
  Reply healthy = Send(port_, http::verb::get, "/healthz", "");
  EXPECT_EQ(healthy.status, 200) << healthy.error;
  EXPECT_EQ(healthy.body, R"({"status":"ok"})");

  const std::string big = R"({"event":"big","time":1,"distinct_id":"u","properties":{"pad":")" +
                          std::string(100000, 'x') + R"("}})";
  Reply failed = Post("/v1/events", big, {{"Authorization", "Bearer tok-demo"}});
  EXPECT_EQ(failed.status, 503) << failed.error;
  EXPECT_EQ(failed.body,
            R"j({"error":"could not store the records (nothing was acknowledged; retry)"})j");

  Reply broken = Send(port_, http::verb::get, "/healthz", "");
  EXPECT_EQ(broken.status, 503) << broken.error;
  EXPECT_NE(broken.body.find(R"("status":"broken","broken_projects":["demo"])"),
            std::string::npos)
      << broken.body;
  for (const Reply* r : {&failed, &broken}) {
    EXPECT_EQ(r->body.find(dir_.string()), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find("File too large"), std::string::npos) << r->body;
  }

  const std::string small = R"({"event":"small","time":1,"distinct_id":"u"})";
  Reply still_broken = Post("/v1/events", small, {{"Authorization", "Bearer tok-demo"}});
  EXPECT_EQ(still_broken.status, 503);  // until the collector restarts
  Reply other = Post("/v1/events", small, {{"Authorization", "Bearer tok-other"}});
  EXPECT_EQ(other.status, 200);  // another project's store is unaffected
  EXPECT_EQ(other.body, R"({"accepted":1})");

  // The cause, with its path, is in the server's log only.
  std::ifstream log(dir_ / "stderr-0");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("File too large"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find((dir_ / "data" / "demo").string()), std::string::npos) << text.str();
}

// --- kill -9 ---------------------------------------------------------------------------------

/// A request of `n` events with ids "<prefix>-<i>" in the protocol `kind` (0 native, 1
/// Mixpanel /import, 2 Segment batch, 3 Mixpanel /track).
void BuildRequest(int kind, const std::string& prefix, int n, std::string& target,
                  std::string& body, std::vector<std::pair<std::string, std::string>>& headers,
                  std::vector<std::string>& ids) {
  ids.clear();
  body.clear();
  headers.clear();
  for (int i = 0; i < n; ++i) ids.push_back(prefix + "-" + std::to_string(i));
  std::string props = R"("path":"/p","n":42,"ok":true,"tags":["a","b"])";
  switch (kind) {
    case 0:
      target = "/v1/events";
      headers = {{"Authorization", "Bearer tok-demo"}};
      for (const auto& id : ids) {
        body += R"({"event":"k9","time":1700000000000,"distinct_id":"u","insert_id":")" + id +
                R"(","properties":{)" + props + "}}\n";
      }
      break;
    case 1:
    case 3:
      target = kind == 1 ? "/import" : "/track";
      headers = {{"Content-Type", "application/json"}};
      if (kind == 1) headers.emplace_back("Authorization", BasicAuth("tok-demo"));
      body = "[";
      for (size_t i = 0; i < ids.size(); ++i) {
        body +=
            std::string(i ? "," : "") +
            R"({"event":"k9","properties":{"token":"tok-demo","distinct_id":"u","time":1700000000,"$insert_id":")" +
            ids[i] + "\"," + props + "}}";
      }
      body += "]";
      break;
    default:
      target = "/v1/batch";
      headers = {{"Authorization", BasicAuth("wk-demo")}};
      body = R"({"batch":[)";
      for (size_t i = 0; i < ids.size(); ++i) {
        body +=
            std::string(i ? "," : "") +
            R"({"type":"track","event":"k9","userId":"u","timestamp":1700000000,"messageId":")" +
            ids[i] + R"(","properties":{)" + props + "}}";
      }
      body += "]}";
  }
}

TEST_F(SdkSourceCollectorHttp, KillNineLosesNothingAcknowledged) {
  WriteConfig(R"({"max_body_bytes": 1048576})");
  StartCollector();
  std::atomic<bool> stop{false};
  std::atomic<int> acked_requests{0};
  std::mutex mu;
  std::vector<std::string> acked;  // insert_ids of every request answered 2xx
  std::vector<std::thread> clients;
  const uint16_t port = port_;
  clients.reserve(4);
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      std::string target, body;
      std::vector<std::pair<std::string, std::string>> headers;
      std::vector<std::string> ids;
      for (int r = 0; !stop.load(); ++r) {
        BuildRequest(t, "t" + std::to_string(t) + "-r" + std::to_string(r), 50, target, body,
                     headers, ids);
        Reply reply = Send(port, http::verb::post, target, body, headers);
        if (reply.status >= 200 && reply.status < 300) {
          std::lock_guard<std::mutex> lock(mu);
          acked.insert(acked.end(), ids.begin(), ids.end());
          acked_requests.fetch_add(1);
        } else if (reply.status > 0) {
          ADD_FAILURE() << "unexpected answer " << reply.status << ": " << reply.body;
          return;
        } else {
          return;  // the collector is gone
        }
      }
    });
  }
  // Let the clients get well into their stream, then kill the collector mid-flight.
  for (int i = 0; i < 6000 && acked_requests.load() < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(acked_requests.load(), 100) << "the clients made no progress";
  StopCollector(SIGKILL);
  stop = true;
  for (auto& c : clients) c.join();

  StartCollector();  // must open the same data dir (torn tail cut)
  ASSERT_EQ(Post("/v1/events", R"({"event":"after","time":1,"distinct_id":"u"})",
                 {{"Authorization", "Bearer tok-demo"}})
                .status,
            200);
  StopCollector(SIGTERM);

  std::map<std::string, int> count;
  simdjson::dom::parser parser;
  for (const auto& json : ReadAll(Stream::kEvents)) {
    count[std::string(std::string_view(parser.parse(json)["insert_id"]))]++;
  }
  size_t missing = 0, duplicated = 0;
  for (const auto& id : acked) {
    auto it = count.find(id);
    if (it == count.end()) {
      ++missing;
    } else if (it->second != 1) {
      ++duplicated;
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged records";
  EXPECT_EQ(duplicated, 0u);
  for (const auto& [id, n] : count) EXPECT_EQ(n, 1) << id;
}

}  // namespace
}  // namespace weir::sdksource
