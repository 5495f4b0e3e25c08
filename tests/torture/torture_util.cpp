// tests/torture/torture_util.cpp — HTTP POST, gunzip, /proc children, durations.
#include "torture_util.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace weir::torture {

Reply HttpPost(int port, const std::string& target, const std::vector<std::string>& headers,
               const std::string& body, int timeout_s) {
  Reply r;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return r;
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return r;
  }
  std::string req = "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < req.size()) {
    const ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return r;
    }
    sent += static_cast<size_t>(n);
  }
  std::string resp;
  char buf[8192];
  ssize_t n = 0;
  bool error = false;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) != 0) {
    if (n < 0) {
      error = true;  // reset or timeout: whatever arrived is not a complete answer
      break;
    }
    resp.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t head_end = resp.find("\r\n\r\n");
  if (error || resp.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return r;
  std::string head = resp.substr(0, head_end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t cl = head.find("\r\ncontent-length:");
  std::string rest = resp.substr(head_end + 4);
  if (cl != std::string::npos) {
    const size_t want = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
    if (rest.size() < want) return r;
    rest.resize(want);
  }
  r.status = std::atoi(resp.c_str() + 9);
  r.body = std::move(rest);
  return r;
}

std::optional<std::string> Gunzip(std::string_view bytes) {
  std::string out;
  size_t at = 0;
  while (at < bytes.size()) {
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return std::nullopt;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + at));
    z.avail_in = static_cast<uInt>(bytes.size() - at);
    int rc = Z_OK;
    char buf[65536];
    while (rc == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = inflate(&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        inflateEnd(&z);
        return std::nullopt;
      }
      out.append(buf, sizeof buf - z.avail_out);
      if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {  // truncated member
        inflateEnd(&z);
        return std::nullopt;
      }
    }
    at = bytes.size() - z.avail_in;
    inflateEnd(&z);
  }
  return out;
}

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream in(task.path() / "children");
    long child = 0;
    while (in >> child) out.push_back(static_cast<pid_t>(child));
  }
  return out;
}

bool AliveWithCmdline(pid_t pid, std::string_view needle) {
  if (pid <= 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string cmdline = ss.str();
  if (cmdline.empty()) return false;  // a zombie: nothing left to stop
  return cmdline.find(needle) != std::string::npos;
}

std::optional<int64_t> ParseDurationMs(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  const int64_t n = std::strtoll(std::string(text.substr(0, digits)).c_str(), nullptr, 10);
  const std::string_view unit = text.substr(digits);
  if (unit.empty() || unit == "s") return n * 1000;
  if (unit == "ms") return n;
  if (unit == "m") return n * 60'000;
  if (unit == "h") return n * 3'600'000;
  return std::nullopt;
}

std::string BasicAuthUser(const std::string& user) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = user + ":";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return "Basic " + out;
}

}  // namespace weir::torture
