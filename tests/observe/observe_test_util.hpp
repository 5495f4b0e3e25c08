// tests/observe/observe_test_util.hpp — helpers for the observe tests: filling a real SQLite
// state store through the StateStore interface, a raw HTTP/1.1 client for 127.0.0.1, and the
// CI=true rule for tools a test needs.
//
//   auto store = MustOpenStore(dir / "state.db");
//   int64_t run = AddRun(*store, "demo", "events", {100, 50}, "succeeded");
//   RawResponse r = HttpRequest(port, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
#ifndef WEIR_TESTS_OBSERVE_OBSERVE_TEST_UTIL_HPP
#define WEIR_TESTS_OBSERVE_OBSERVE_TEST_UTIL_HPP

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/pipeline.hpp"
#include "state/state_store.hpp"

namespace weir::host::observe_test {

inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

inline void WriteFile(const std::filesystem::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

inline std::unique_ptr<StateStore> MustOpenStore(const std::filesystem::path& db) {
  auto r = OpenSqliteStateStore(db);
  if (!r.ok()) {
    ADD_FAILURE() << "open " << db << ": " << r.status().ToString();
    return nullptr;
  }
  return std::move(r).value();
}

/// An 8-byte big-endian watermark (what the file source uses: a byte offset).
inline std::string Wm(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i) {
    s[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return s;
}

inline uint64_t WmValue(const std::string& wm) {
  uint64_t v = 0;
  for (unsigned char c : wm) v = (v << 8) | c;
  return v;
}

/// One run of (pipeline, stream) as the run loop records it: StartRun, then per batch
/// RecordIntent + CommitIntent (`rows` each, 10 bytes per row), then the run's metrics and
/// FinishRun(final_status, error). A "failed" run with leave_pending records its last batch
/// without committing it. Returns the run id (0 after a failed assertion).
inline int64_t AddRun(StateStore& store, const std::string& pipeline, const std::string& stream,
                      const std::vector<uint64_t>& batches, const std::string& final_status,
                      const std::string& error = "",
                      const std::map<std::string, double>& metrics = {}, bool leave_pending = false,
                      const std::string& kind = "incremental") {
  auto run = store.StartRun(pipeline, kind, ::getpid());
  EXPECT_TRUE(run.ok()) << run.status().ToString();
  if (!run.ok()) return 0;
  for (size_t i = 0; i < batches.size(); ++i) {
    auto st = store.LoadPipeline(pipeline, stream);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return 0;
    Intent in;
    in.pipeline = pipeline;
    in.stream = stream;
    in.batch_seq = st->next_batch_seq;
    in.from_wm = st->watermark;
    in.to_wm = Wm(WmValue(st->watermark) + batches[i]);
    in.rows = batches[i];
    in.bytes = batches[i] * 10;
    in.run_id = *run;
    Status s = store.RecordIntent(in);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (leave_pending && i + 1 == batches.size()) break;
    s = store.CommitIntent(in, *run);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  if (!metrics.empty()) {
    Status s = store.SetRunMetrics(*run, metrics);
    EXPECT_TRUE(s.ok() || s.code() == WEIR_NOT_IMPLEMENTED) << s.ToString();
  }
  if (final_status != "running") {
    Status s = store.FinishRun(*run, final_status, error);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  return *run;
}

inline Pipeline MakePipeline(const std::string& name, const std::string& project = "demo") {
  Pipeline p;
  p.name = name;
  p.project = project;
  p.stream = "events";
  p.source.plugin = "file-source";
  p.source.config_json = R"({"path":"/data/events.ndjson","token":"resolved-secret-value"})";
  p.source.config_raw = R"({"path":"/data/events.ndjson","token":"${TOKEN}"})";
  p.destination.plugin = "file-destination";
  p.destination.config_json = R"({"dir":"/out","password":"resolved-secret-value"})";
  p.destination.config_raw = R"({"dir":"/out","password":"${PASSWORD}"})";
  return p;
}

struct RawResponse {
  int status = 0;       ///< 0 = no parsable answer
  std::string headers;  ///< status line and headers
  std::string body;
  std::string raw;
};

/// Connects to 127.0.0.1:port, sends `request` as is, reads until the server closes (at most
/// `timeout_s` seconds per read) and splits the answer.
inline RawResponse HttpRequest(uint16_t port, const std::string& request, int timeout_s = 10) {
  RawResponse r;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return r;
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return r;
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    r.raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t split = r.raw.find("\r\n\r\n");
  if (r.raw.rfind("HTTP/1.1 ", 0) != 0 || split == std::string::npos) return r;
  r.status = std::atoi(r.raw.c_str() + 9);
  r.headers = r.raw.substr(0, split);
  r.body = r.raw.substr(split + 4);
  return r;
}

inline RawResponse HttpGet(uint16_t port, const std::string& target,
                           const std::string& method = "GET") {
  return HttpRequest(port, method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

inline size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace weir::host::observe_test

#endif  // WEIR_TESTS_OBSERVE_OBSERVE_TEST_UTIL_HPP
