// tests/serve/serve_test_util.hpp — helpers for the `weir serve` end-to-end tests: pipeline and
// data files, `weir runs --json` parsed, exported records counted, a tiny HTTP GET client for
// 127.0.0.1, and waiting on a condition with a deadline.
#ifndef WEIR_TESTS_SERVE_SERVE_TEST_UTIL_HPP
#define WEIR_TESTS_SERVE_SERVE_TEST_UTIL_HPP

#include <arpa/inet.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"
#include "weir_process.hpp"

namespace weir::test::serve {

namespace fs = std::filesystem;

inline const std::string kPlugins = std::string(WEIR_PLUGINS_DIR) + ":" + WEIR_SERVE_PLUGIN_DIR;

inline void WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

/// `n` canonical events for file-source, insert_id "<tag>-<i>".
inline void WriteEvents(const fs::path& file, const std::string& tag, int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    text += "{\"event\":\"e\",\"time\":" + std::to_string(1700000000000LL + i * 1000LL) +
            ",\"distinct_id\":\"u" + std::to_string(i % 7) + "\",\"insert_id\":\"" + tag + "-" +
            std::to_string(i) + "\",\"properties\":{}}\n";
  }
  WriteText(file, text);
}

struct PipelineFile {
  std::string name;
  std::string project;
  std::string source;       ///< file-source config object
  std::string destination;  ///< {"plugin": ..., "config": ...} destination object
  std::string schedule = R"({"every": "1h"})";
  int max_records = 10;
};

inline void WritePipeline(const fs::path& dir, const PipelineFile& p) {
  WriteText(dir / "pipelines" / (p.name + ".json"),
            "{\"name\":\"" + p.name + "\",\"project\":\"" + p.project +
                "\",\"stream\":\"events\",\"source\":{\"plugin\":\"file-source\",\"config\":" +
                p.source + "},\"destination\":" + p.destination + ",\"schedule\":" + p.schedule +
                ",\"batch\":{\"max_records\":" + std::to_string(p.max_records) + "}}");
}

/// A pipeline reading dir/<name>.ndjson into file-destination dir/out-<name>.
inline PipelineFile FilePipeline(const fs::path& dir, const std::string& name,
                                 const std::string& project, int source_delay_ms = 0,
                                 int destination_delay_ms = 0) {
  PipelineFile p;
  p.name = name;
  p.project = project;
  p.source = "{\"path\":\"" + (dir / (name + ".ndjson")).string() +
             "\",\"delay_ms\":" + std::to_string(source_delay_ms) + "}";
  p.destination = "{\"plugin\":\"file-destination\",\"config\":{\"dir\":\"" +
                  (dir / ("out-" + name)).string() +
                  "\",\"delay_ms\":" + std::to_string(destination_delay_ms) + "}}";
  return p;
}

/// insert_id -> how many times it was exported, over every *.ndjson file under `dir`.
inline std::map<std::string, int> ExportedIds(const fs::path& dir) {
  std::map<std::string, int> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file() || e.path().extension() != ".ndjson") continue;
    const std::string name = e.path().filename().string();
    if (name.rfind(".tmp", 0) == 0) continue;
    std::istringstream in(ReadWholeFile(e.path()));
    std::string line;
    while (std::getline(in, line)) {
      const size_t at = line.find("\"insert_id\":\"");
      if (at == std::string::npos) continue;
      const size_t start = at + 13;
      ++out[line.substr(start, line.find('"', start) - start)];
    }
  }
  return out;
}

struct RunRow {
  int64_t id = 0;
  std::string pipeline;
  std::string kind;
  std::string status;
  int64_t started = 0;
  int64_t ended = 0;
  uint64_t rows = 0;
  std::string error;
};

/// Every run, via `weir runs --json` (a real CLI process on the same data dir).
inline std::vector<RunRow> ListRuns(const fs::path& dir) {
  Process p = StartProcess(
      WeirCommand(WEIR_BINARY, dir, kPlugins, {"runs", "--json", "--limit", "100000"}), dir);
  ProcessResult r = WaitProcess(p);
  std::vector<RunRow> out;
  simdjson::dom::parser parser;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS) continue;
    RunRow run;
    run.id = doc["id"].get_int64().value_unsafe();
    run.pipeline = std::string(doc["pipeline"].get_string().value_unsafe());
    run.kind = std::string(doc["kind"].get_string().value_unsafe());
    run.status = std::string(doc["status"].get_string().value_unsafe());
    run.started = doc["started_at_ms"].get_int64().value_unsafe();
    run.ended = doc["ended_at_ms"].get_int64().value_unsafe();
    run.rows = doc["rows"].get_uint64().value_unsafe();
    run.error = std::string(doc["error"].get_string().value_unsafe());
    out.push_back(std::move(run));
  }
  return out;
}

/// Polls `cond` every 50 ms until it holds (true) or `timeout` passes (false).
inline bool WaitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

struct HttpResult {
  int status = 0;  ///< 0: no answer
  std::string body;
};

/// METHOD http://127.0.0.1:PORT/PATH (only loopback), Connection: close; `headers` are full
/// "Name: value" lines.
inline HttpResult HttpRequest(uint16_t port, const std::string& method, const std::string& path,
                              const std::vector<std::string>& headers = {},
                              const std::string& body = "") {
  HttpResult r;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return r;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return r;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  if (!body.empty() || method == "POST") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return r;
  }
  std::string resp;
  char buf[8192];
  ssize_t n = 0;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (resp.rfind("HTTP/1.", 0) != 0 || resp.size() < 12) return r;
  r.status = std::atoi(resp.c_str() + 9);
  const size_t end_of_head = resp.find("\r\n\r\n");
  if (end_of_head != std::string::npos) r.body = resp.substr(end_of_head + 4);
  return r;
}

inline HttpResult HttpGet(uint16_t port, const std::string& path) {
  return HttpRequest(port, "GET", path);
}

/// A running `weir serve` of one test, killed if the test ends early.
struct Daemon {
  Process process;
  uint16_t port = 0;
};

/// Starts `weir serve --http 127.0.0.1:0 --tick-ms 100 EXTRA...` and waits for its URL line.
inline Daemon StartServe(const fs::path& dir, const std::vector<std::string>& extra,
                         bool http = true) {
  std::vector<std::string> rest{"serve", "--tick-ms", "100", "--http",
                                http ? "127.0.0.1:0" : "off"};
  rest.insert(rest.end(), extra.begin(), extra.end());
  Daemon d;
  d.process = StartProcess(WeirCommand(WEIR_BINARY, dir, kPlugins, rest), dir);
  if (!http) {
    WaitForStderr(d.process, "weir serve started", std::chrono::seconds(20));
    return d;
  }
  const std::string marker = "weir serve: http://127.0.0.1:";
  WaitUntil(
      [&] {
        const std::string out = ReadWholeFile(d.process.out);
        const size_t at = out.find(marker);
        if (at == std::string::npos) return Exited(d.process);
        d.port = static_cast<uint16_t>(std::atoi(out.c_str() + at + marker.size()));
        return true;
      },
      std::chrono::seconds(20));
  return d;
}

}  // namespace weir::test::serve

#endif  // WEIR_TESTS_SERVE_SERVE_TEST_UTIL_HPP
