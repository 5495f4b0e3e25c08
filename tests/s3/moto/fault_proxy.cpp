// tests/s3/moto/fault_proxy.cpp — blocking sockets, one thread per client connection; the
// upstream leg opens a fresh connection per request with "Connection: close" and reads the
// answer to EOF, so the proxy never has to understand chunking.
#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace weir::s3test {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads more bytes into `buf`; false on EOF or error.
bool RecvMore(int fd, std::string* buf) {
  char chunk[65536];
  ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
  if (n <= 0) return false;
  buf->append(chunk, static_cast<size_t>(n));
  return true;
}

// Header lines of `head` (without the request/status line and the final blank line).
std::vector<std::string> HeaderLines(const std::string& head) {
  std::vector<std::string> out;
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos) {
    size_t next = head.find("\r\n", pos + 2);
    if (next == std::string::npos || next == pos + 2) break;
    out.push_back(head.substr(pos + 2, next - pos - 2));
    pos = next;
  }
  return out;
}

std::string HeaderName(const std::string& line) { return Lower(line.substr(0, line.find(':'))); }

std::string HeaderValue(const std::string& head, const std::string& lower_name) {
  for (const std::string& line : HeaderLines(head)) {
    if (HeaderName(line) == lower_name) {
      std::string v = line.substr(line.find(':') + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "";
}

std::string ErrorResponse(int status, const char* reason, const char* code, bool keep_alive) {
  std::string body = std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>") +
                     code + "</Code><Message>injected by the test proxy</Message></Error>";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: " + (keep_alive ? "keep-alive" : "close") + "\r\n\r\n" + body;
}

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port, Plan plan, bool keep_alive)
    : upstream_port_(upstream_port), plan_(std::move(plan)), keep_alive_(keep_alive) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      listen(listen_fd_, 64) == 0 &&
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port_ = ntohs(addr.sin_port);
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stopping_.store(true);
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);  // wakes threads blocked in recv
  }
  for (auto& w : workers_) w.thread.join();
  close(listen_fd_);
}

std::string FaultProxy::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<ProxiedRequest> FaultProxy::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

void FaultProxy::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    connections_.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu_);
    JoinFinished();
    open_fds_.push_back(fd);
    Worker& w = workers_.emplace_back();
    w.thread = std::thread([this, fd, &w] {
      Serve(fd);
      w.finished.store(true);
    });
  }
}

void FaultProxy::JoinFinished() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->finished.load()) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void FaultProxy::Serve(int fd) {
  std::string in;
  while (!stopping_.load()) {
    size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      if (!RecvMore(fd, &in)) goto done;
    }
    {
      std::string head = in.substr(0, head_end + 4);
      in.erase(0, head_end + 4);
      ProxiedRequest req;
      size_t sp1 = head.find(' ');
      size_t sp2 = head.find(' ', sp1 + 1);
      req.method = head.substr(0, sp1);
      req.target = head.substr(sp1 + 1, sp2 - sp1 - 1);
      req.number = requests_.fetch_add(1) + 1;
      {
        std::lock_guard<std::mutex> lock(mu_);
        log_.push_back(req);
      }
      const Fault fault = plan_ ? plan_(req) : Fault::kNone;
      if (fault == Fault::kDrop) {
        faults_.fetch_add(1);
        goto done;  // closing with the body unread: the client sees a reset / empty reply
      }
      std::string cl = HeaderValue(head, "content-length");
      size_t body_size = cl.empty() ? 0 : std::stoull(cl);
      while (in.size() < body_size) {
        if (!RecvMore(fd, &in)) goto done;
      }
      std::string body = in.substr(0, body_size);
      in.erase(0, body_size);

      if (fault == Fault::kSlowDown || fault == Fault::kInternalError) {
        faults_.fetch_add(1);
        std::string resp =
            fault == Fault::kSlowDown
                ? ErrorResponse(503, "Slow Down", "SlowDown", keep_alive_)
                : ErrorResponse(500, "Internal Server Error", "InternalError", keep_alive_);
        if (!SendAll(fd, resp) || !keep_alive_) goto done;
        continue;
      }

      // Forward with Connection: close upstream and read the answer to EOF.
      std::string upstream_head = head.substr(0, head.find("\r\n") + 2);
      for (const std::string& line : HeaderLines(head)) {
        if (HeaderName(line) != "connection") upstream_head += line + "\r\n";
      }
      upstream_head += "Connection: close\r\n\r\n";
      std::string answer;
      int up = ConnectLoopback(upstream_port_);
      if (up >= 0 && SendAll(up, upstream_head) && SendAll(up, body)) {
        while (RecvMore(up, &answer)) {
        }
      }
      if (up >= 0) close(up);
      size_t answer_head_end = answer.find("\r\n\r\n");
      if (answer_head_end == std::string::npos) {
        SendAll(fd, ErrorResponse(502, "Bad Gateway", "BadGateway", false));
        goto done;
      }
      std::string answer_head = answer.substr(0, answer_head_end + 4);
      std::string answer_body = answer.substr(answer_head_end + 4);
      if (fault == Fault::kTruncate) {
        faults_.fetch_add(1);
        std::string cut_head = answer_head.substr(0, answer_head.find("\r\n") + 2);
        for (const std::string& line : HeaderLines(answer_head)) {
          if (HeaderName(line) != "content-length" && HeaderName(line) != "connection") {
            cut_head += line + "\r\n";
          }
        }
        // Announce the full length, deliver half: the client must see a short body.
        size_t full = std::max<size_t>(answer_body.size(), 2);
        cut_head += "Content-Length: " + std::to_string(full) + "\r\nConnection: close\r\n\r\n";
        SendAll(fd, cut_head + answer_body.substr(0, full / 2));
        goto done;
      }
      std::string out_head = answer_head.substr(0, answer_head.find("\r\n") + 2);
      const bool head_request = req.method == "HEAD";
      for (const std::string& line : HeaderLines(answer_head)) {
        std::string name = HeaderName(line);
        if (name == "connection" || name == "transfer-encoding") continue;
        if (name == "content-length" && !head_request) continue;
        out_head += line + "\r\n";
      }
      if (!head_request) {
        out_head += "Content-Length: " + std::to_string(answer_body.size()) + "\r\n";
      }
      out_head += std::string("Connection: ") + (keep_alive_ ? "keep-alive" : "close") + "\r\n\r\n";
      if (!SendAll(fd, out_head + answer_body) || !keep_alive_) goto done;
    }
  }
done : {
  std::lock_guard<std::mutex> lock(mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
}
  close(fd);
}

}  // namespace weir::s3test
