// tests/torture/torture_util.hpp — small pieces the torture test (torture_test.cpp) is built
// from: a blocking HTTP/1.1 POST over loopback that tells "no answer" (connection refused,
// reset, timeout) from an answer, gzip decoding of exported objects (any number of members),
// the children of a process read from /proc, and a duration parser ("90s", "30m", "1h").
//
//   Reply r = HttpPost(port, "/v1/events", {"Authorization: Bearer tok"}, body, 15);
//   if (r.status == 0) { /* the collector is gone: retry, as an SDK would */ }
//   std::vector<pid_t> kids = ChildrenOf(serve_pid);
#ifndef WEIR_TESTS_TORTURE_TORTURE_UTIL_HPP
#define WEIR_TESTS_TORTURE_TORTURE_UTIL_HPP

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weir::torture {

struct Reply {
  int status = 0;  ///< 0: no (complete) answer — refused, reset, timed out or cut short
  std::string body;
};

/// POST http://127.0.0.1:port<target> with `headers` (full "Name: value" lines) and `body`,
/// Connection: close; waits at most `timeout_s` for each socket operation. A response whose
/// body is shorter than its Content-Length counts as no answer.
Reply HttpPost(int port, const std::string& target, const std::vector<std::string>& headers,
               const std::string& body, int timeout_s);

/// The decompressed bytes of a gzip file (concatenated members allowed); nullopt if corrupt.
std::optional<std::string> Gunzip(std::string_view bytes);

/// The direct children of `pid` (every thread's /proc/<pid>/task/<tid>/children).
std::vector<pid_t> ChildrenOf(pid_t pid);

/// True while /proc/<pid> exists and its command line contains `needle` (so a recycled pid is
/// never mistaken for a process the test started).
bool AliveWithCmdline(pid_t pid, std::string_view needle);

/// "45s", "30m", "2h", "1500ms" or a bare number of seconds → milliseconds; nullopt if malformed.
std::optional<int64_t> ParseDurationMs(std::string_view text);

/// "Basic " + base64("<user>:").
std::string BasicAuthUser(const std::string& user);

}  // namespace weir::torture

#endif  // WEIR_TESTS_TORTURE_TORTURE_UTIL_HPP
