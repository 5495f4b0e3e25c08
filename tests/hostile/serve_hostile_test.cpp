// tests/hostile/serve_hostile_test.cpp — `weir serve` under hostile input: its plugins
// directory holds garbage, its pipelines directory holds broken files (wrong types, not JSON,
// a FIFO, a pipeline naming a garbage plugin), and the collector it hosts is sent hostile
// requests between good ones. The daemon must keep serving: the good pipeline exports every
// acknowledged event exactly once, /healthz stays ok, /status.json reports each broken file,
// and SIGTERM still stops it cleanly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <set>
#include <string>
#include <vector>

#include "hostile_util.hpp"

namespace weir::test::hostile {
namespace {

using std::chrono::seconds;

/// GET on 127.0.0.1:port (Connection: close).
Answer Get(uint16_t port, const std::string& path) {
  return SendRaw(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

TEST(HostileServe, GarbagePluginsBrokenPipelinesAndHostileRequestsDoNotStopTheDaemon) {
  TempDir dir("weir-hostile-serve");
  const fs::path& root = dir.path();
  // Plugins: garbage first in the search path, the real plugins after it.
  const fs::path g = root / "garbage";
  fs::create_directories(g);
  WriteText(g / "random.so", std::string("\x7f"
                                         "ELF\x02\x01\x01garbage-after-the-magic"));
  WriteText(g / "text.so", "#!/bin/sh\necho not a plugin\n");
  fs::copy_file(WEIR_MISSING_SYMBOL_SO, g / "no-entry.so");
  fs::create_symlink("loop-b.so", g / "loop-a.so");
  fs::create_symlink("loop-a.so", g / "loop-b.so");
  ASSERT_EQ(::mkfifo((g / "fifo.so").c_str(), 0644), 0);
  const std::string plugins = g.string() + ":" + WEIR_PLUGINS_DIR;

  // Pipelines: one good (collector store → s3 plugin, file://, every second), the rest broken.
  WriteText(root / "collector.json", CollectorConfig(root));
  WriteExportPipeline(root);
  {
    // Run it every second.
    std::string text = ReadWholeFile(root / "pipelines" / "hostile.json");
    text.insert(text.size() - 1, ",\"schedule\":{\"every\":\"1s\"}");
    WriteText(root / "pipelines" / "hostile.json", text);
  }
  WriteText(root / "pipelines" / "types.json",
            R"({"name":"types","project":"p","source":{"plugin":"sdk-source"},)"
            R"("destination":{"plugin":"s3"},"batch":{"max_records":"lots"}})");
  WriteText(root / "pipelines" / "notjson.json", "{\"name\": \"notjson\", ");
  WriteText(root / "pipelines" / "slash.json",
            R"({"name":"a/b","project":"p","source":{"plugin":"sdk-source"},)"
            R"("destination":{"plugin":"s3"}})");
  ASSERT_EQ(::mkfifo((root / "pipelines" / "fifo.json").c_str(), 0644), 0);
  // Loads, but its plugin is one of the garbage files: its runs fail, the others go on.
  WriteText(root / "pipelines" / "garbageplugin.json",
            R"({"name":"garbageplugin","project":"other","source":{"plugin":"no-entry"},)"
            R"("destination":{"plugin":"s3","config":{"url":"file:///nonexistent"}},)"
            R"("schedule":{"every":"1s"}})");

  Process serve =
      StartProcess(WeirCommand(WEIR_BINARY, root, plugins,
                               {"serve", "--tick-ms", "100", "--http", "127.0.0.1:0", "--service",
                                "sdk-source=@" + (root / "collector.json").string()}),
                   root);
  ProcessGuard guard(serve);
  uint16_t http_port = 0;
  const std::string marker = "weir serve: http://127.0.0.1:";
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string out = ReadWholeFile(serve.out);
        const size_t at = out.find(marker);
        if (at == std::string::npos) return Exited(serve);
        http_port = static_cast<uint16_t>(std::atoi(out.c_str() + at + marker.size()));
        return true;
      },
      seconds(20)));
  ASSERT_GT(http_port, 0) << ReadWholeFile(serve.err);
  // The collector's port, from its log.
  const fs::path service_log = root / "data" / "logs" / "service-1-sdk-source.log";
  const std::string listening = "collector listening on 127.0.0.1:";
  ASSERT_TRUE(WaitUntil(
      [&] { return ReadWholeFile(service_log).find(listening) != std::string::npos; }, seconds(20)))
      << ReadWholeFile(service_log) << ReadWholeFile(serve.err);
  const std::string slog = ReadWholeFile(service_log);
  const auto port =
      static_cast<uint16_t>(std::atoi(slog.c_str() + slog.find(listening) + listening.size()));

  std::set<std::string> acked;
  auto good = [&](const std::string& id) {
    Answer a =
        Post(port, "/v1/events", Bearer(),
             "{\"event\":\"e\",\"time\":1700000000123,\"distinct_id\":\"u\",\"insert_id\":\"" + id +
                 "\",\"properties\":{}}\n");
    EXPECT_EQ(a.status, 200) << id << ": " << a.body;
    if (a.status == 200) acked.insert(id);
  };
  good("s-1");
  // Hostile requests, each refused with a 4xx, with good ones in between.
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "[";
  std::vector<std::pair<std::string, std::string>> hostile = {
      {"truncated JSON", "[{\"event\":\"e\",\"time\":1"},
      {"invalid UTF-8", "{\"event\":\"\xff\",\"time\":1,\"distinct_id\":\"u\"}"},
      {"deep nesting", deep},
      {"number out of range",
       "{\"event\":\"e\",\"time\":1e400,\"distinct_id\":\"u\",\"insert_id\":\"bad\"}"},
      {"year 1000",
       "{\"event\":\"e\",\"time\":\"1000-01-01\",\"distinct_id\":\"u\",\"insert_id\":\"bad\"}"},
  };
  int n = 2;
  for (const auto& [what, body] : hostile) {
    Answer a = Post(port, "/v1/events", Bearer(), body);
    EXPECT_EQ(a.status, 400) << what << ": " << a.body;
    EXPECT_TRUE(IsValidJson(a.body)) << what << ": " << a.body;
    good("s-" + std::to_string(n++));
  }
  StreamResult big = StreamBody(
      port,
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kToken) +
          "\r\nContent-Length: " + std::to_string(100ull << 20) + "\r\nConnection: close\r\n\r\n",
      100ull << 20, [](uint64_t) { return std::string(1 << 16, 'x'); });
  EXPECT_EQ(big.answer.status, 413) << big.answer.body;
  good("s-" + std::to_string(n++));

  // The good pipeline exports every acknowledged event exactly once.
  std::map<std::string, int> want;
  for (const auto& id : acked) want[id] = 1;
  EXPECT_TRUE(WaitUntil([&] { return ExportedInsertIds(root / "export") == want; }, seconds(30)))
      << ReadWholeFile(serve.err);
  EXPECT_EQ(ExportedInsertIds(root / "export"), want);

  // The daemon is healthy, and its status names every broken file and the garbage plugin's
  // failing runs.
  EXPECT_EQ(Get(http_port, "/healthz").status, 200);
  Answer status = Get(http_port, "/status.json");
  EXPECT_EQ(status.status, 200);
  EXPECT_TRUE(IsValidJson(status.body)) << status.body;
  for (const std::string& needle :
       {std::string("types.json: $.batch.max_records: expected an integer"),
        std::string("notjson.json: not valid JSON"),
        std::string("slash.json: $.name: 'a/b' is not a valid name"),
        std::string("fifo.json: not a regular file")}) {
    EXPECT_NE(status.body.find(needle), std::string::npos) << needle << "\n" << status.body;
  }
  std::string serve_log;
  EXPECT_TRUE(WaitUntil(
      [&] {
        serve_log = ReadWholeFile(root / "data" / "logs" / "serve.log");
        return serve_log.find("garbageplugin") != std::string::npos;
      },
      seconds(10)))
      << serve_log;
  EXPECT_NE(serve_log.find("scheduled run of 'garbageplugin'"), std::string::npos) << serve_log;
  // The step's own output (serve-children.log) says which file was refused and why.
  const std::string children = ReadWholeFile(root / "data" / "logs" / "serve-children.log");
  EXPECT_NE(children.find("garbageplugin.json: $.source.plugin: no plugin named 'no-entry'"),
            std::string::npos)
      << children;
  EXPECT_NE(children.find("no-entry.so: refused: no weir entry symbol"), std::string::npos)
      << children;
  // And the collector answers the next good request, after all of it.
  good("s-last");
  want["s-last"] = 1;
  EXPECT_TRUE(WaitUntil([&] { return ExportedInsertIds(root / "export") == want; }, seconds(30)));

  guard.Release();
  Signal(serve, SIGTERM);
  ProcessResult r = WaitAtMost(serve, seconds(30));
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
}  // namespace weir::test::hostile
