// tests/hostile/hostile_util.hpp — helpers for the hostile-input suites: a real `weir-collector`
// process on a free port, a raw-socket HTTP client that can send any bytes (truncated bodies,
// invalid UTF-8 in the request line, a 100 MB body streamed as it is generated), the
// collector's peak memory from /proc, `weir` command lines, and reading what a pipeline
// exported to a file:// directory.
//
//   weir::test::TempDir dir("weir-hostile");
//   hostile::Collector c = hostile::StartCollector(dir.path());
//   hostile::Answer a = hostile::Post(c.port, "/v1/events", {"Authorization: Bearer tok"}, "{");
//   EXPECT_EQ(a.status, 400);
#ifndef WEIR_TESTS_HOSTILE_HOSTILE_UTIL_HPP
#define WEIR_TESTS_HOSTILE_HOSTILE_UTIL_HPP

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"
#include "weir_process.hpp"

namespace weir::test::hostile {

namespace fs = std::filesystem;

inline constexpr const char* kToken = "tok-hostile";

inline void WriteText(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

/// A JSON string literal for `s` (paths in configs).
inline std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

/// Whether `text` is one valid JSON document (simdjson also checks the UTF-8).
inline bool IsValidJson(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return parser.parse(text).get(doc) == simdjson::SUCCESS;
}

/// True under CI=true: a missing service is a failure there, a skip elsewhere.
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes.
inline bool WaitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

// ---- the collector ----------------------------------------------------------------------

/// The collector config used by the suites: one project "demo" (token kToken, Segment write key
/// "wk-hostile"), data under dir/collected, every limit at its documented default unless
/// `limits` (a JSON object) says otherwise.
inline std::string CollectorConfig(const fs::path& dir, const std::string& limits = "{}") {
  return "{\"data_dir\":" + Quote((dir / "collected").string()) +
         ",\"listen\":\"127.0.0.1:0\",\"threads\":2,\"workers\":4,"
         "\"projects\":{\"demo\":{\"tokens\":[\"" +
         std::string(kToken) + "\"],\"write_keys\":[\"wk-hostile\"]}},\"limits\":" + limits + "}";
}

struct Collector {
  Process process;
  uint16_t port = 0;
};

/// Starts `weir-collector --config dir/collector.json --port-file dir/port` and waits until it
/// listens (port stays 0 if it exited or did not listen within 20 s).
inline Collector StartCollector(const fs::path& dir, const std::string& limits = "{}") {
  WriteText(dir / "collector.json", CollectorConfig(dir, limits));
  fs::remove(dir / "port");
  Collector c;
  c.process = StartProcess({WEIR_COLLECTOR_BINARY, "--config", (dir / "collector.json").string(),
                            "--port-file", (dir / "port").string()},
                           dir);
  WaitUntil(
      [&] {
        std::ifstream in(dir / "port");
        int port = 0;
        if (in >> port && port > 0) {
          c.port = static_cast<uint16_t>(port);
          return true;
        }
        return Exited(c.process);
      },
      std::chrono::seconds(20));
  return c;
}

/// Peak resident memory (VmHWM) of `pid` in KiB, or -1.
inline long PeakRssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// ---- raw HTTP ---------------------------------------------------------------------------

struct Answer {
  int status = 0;    ///< 0: no HTTP answer (connection closed or reset first)
  std::string head;  ///< status line and headers
  std::string body;
};

inline int Connect(uint16_t port, int timeout_s = 20) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline Answer ParseAnswer(const std::string& raw) {
  Answer a;
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12) return a;
  a.status = std::atoi(raw.c_str() + 9);
  const size_t end = raw.find("\r\n\r\n");
  a.head = raw.substr(0, end);
  if (end != std::string::npos) a.body = raw.substr(end + 4);
  return a;
}

/// Reads until the peer closes (or the receive timeout passes).
inline std::string ReadAll(int fd) {
  std::string raw;
  char buf[16384];
  ssize_t n = 0;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, static_cast<size_t>(n));
  return raw;
}

/// Sends `raw` (a whole request, any bytes) on a fresh connection and reads the answer until
/// the collector closes the connection (requests should say `Connection: close`).
inline Answer SendRaw(uint16_t port, const std::string& raw, bool half_close = false) {
  const int fd = Connect(port);
  if (fd < 0) return {};
  size_t sent = 0;
  while (sent < raw.size()) {
    const ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  if (half_close) ::shutdown(fd, SHUT_WR);
  Answer a = ParseAnswer(ReadAll(fd));
  ::close(fd);
  return a;
}

/// POST `path` with `headers` ("Name: value" lines) and a Content-Length for `body`.
inline Answer Post(uint16_t port, const std::string& path, const std::vector<std::string>& headers,
                   const std::string& body) {
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return SendRaw(port, req);
}

inline std::vector<std::string> Bearer() {
  return {std::string("Authorization: Bearer ") + kToken, "Content-Type: application/x-ndjson"};
}

/// Sends the request head `head` (ending in "\r\n\r\n"), then `total` body bytes produced by
/// `chunk` (called with the offset, returns the next piece) as fast as the collector takes
/// them, stopping once it answers or closes. Returns the answer and how many body bytes went.
struct StreamResult {
  Answer answer;
  uint64_t body_bytes_sent = 0;
};
inline StreamResult StreamBody(uint16_t port, const std::string& head, uint64_t total,
                               const std::function<std::string(uint64_t)>& chunk) {
  StreamResult r;
  const int fd = Connect(port);
  if (fd < 0) return r;
  std::string raw;
  bool ok = ::send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size());
  while (ok && r.body_bytes_sent < total) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) break;  // the collector answered (or closed) mid-body
    const std::string piece = chunk(r.body_bytes_sent);
    size_t off = 0;
    while (off < piece.size()) {
      const ssize_t n = ::send(fd, piece.data() + off, piece.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        ok = false;
        break;
      }
      off += static_cast<size_t>(n);
    }
    r.body_bytes_sent += off;
  }
  r.answer = ParseAnswer(ReadAll(fd));
  ::close(fd);
  return r;
}

// ---- weir ---------------------------------------------------------------------------------

/// Waits for `p` at most `timeout`; a process still running then is killed and reported as
/// code -2 with "(hung: killed after the timeout)" appended to its stderr.
inline ProcessResult WaitAtMost(const Process& p, std::chrono::milliseconds timeout) {
  if (!WaitUntil([&] { return Exited(p); }, timeout)) {
    Signal(p, SIGKILL);
    ProcessResult r = WaitProcess(p);
    r.code = -2;
    r.err += "(hung: killed after the timeout)";
    return r;
  }
  return WaitProcess(p);
}

/// Runs `weir --data-dir DIR/data --plugins-dir PLUGINS --pipelines-dir DIR/pipelines ARGS` to
/// completion (at most 60 s: a hang is a failure, code -2).
inline ProcessResult Weir(const fs::path& dir, const std::vector<std::string>& args,
                          const std::string& plugins = WEIR_PLUGINS_DIR) {
  return WaitAtMost(StartProcess(WeirCommand(WEIR_BINARY, dir, plugins, args), dir),
                    std::chrono::seconds(60));
}

/// Runs `args` (args[0] absolute) to completion, at most `timeout`.
inline ProcessResult RunCmd(const fs::path& dir, const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  return WaitAtMost(StartProcess(args, dir), timeout);
}

/// A pipeline `name` reading the collector's store of project demo (stream `stream`) into the
/// s3 plugin writing uncompressed objects to file://DIR/export.
inline void WriteExportPipeline(const fs::path& dir, const std::string& name = "hostile",
                                const std::string& stream = "events") {
  WriteText(dir / "pipelines" / (name + ".json"),
            "{\"name\":\"" + name + "\",\"project\":\"demo\",\"stream\":\"" + stream +
                "\",\"source\":{\"plugin\":\"sdk-source\",\"config\":{\"data_dir\":" +
                Quote((dir / "collected").string()) +
                ",\"project\":\"demo\"}},\"destination\":{\"plugin\":\"s3\",\"config\":{\"url\":" +
                Quote("file://" + (dir / "export").string()) +
                ",\"compression\":\"none\"}},\"batch\":{\"max_records\":1000}}");
}

/// Every exported line (one record each) of every object under `root`, keyed by the object's
/// path relative to `root`.
inline std::map<std::string, std::vector<std::string>> ExportedObjects(const fs::path& root) {
  std::map<std::string, std::vector<std::string>> out;
  std::error_code ec;
  if (!fs::exists(root, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root, ec)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), root).string();
    if (rel.find(".weir-tmp") != std::string::npos) continue;
    std::istringstream in(ReadWholeFile(e.path()));
    std::string line;
    auto& lines = out[rel];
    while (std::getline(in, line)) {
      if (!line.empty()) lines.push_back(line);
    }
  }
  return out;
}

/// insert_id → how many times it appears in the exported objects under `root`.
inline std::map<std::string, int> ExportedInsertIds(const fs::path& root) {
  std::map<std::string, int> ids;
  simdjson::dom::parser parser;
  for (const auto& [path, lines] : ExportedObjects(root)) {
    for (const auto& line : lines) {
      simdjson::dom::element doc;
      std::string_view id;
      if (parser.parse(line).get(doc) == simdjson::SUCCESS &&
          doc["insert_id"].get_string().get(id) == simdjson::SUCCESS) {
        ++ids[std::string(id)];
      }
    }
  }
  return ids;
}

}  // namespace weir::test::hostile

#endif  // WEIR_TESTS_HOSTILE_HOSTILE_UTIL_HPP
