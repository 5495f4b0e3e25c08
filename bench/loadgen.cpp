// bench/loadgen.cpp — weir-loadgen: posts realistic SDK events to a weir-collector through one
// wire protocol and reports what was acknowledged.
//
//   weir-loadgen --url http://127.0.0.1:8080 --protocol native --token TOKEN
//                --events 200000 --batch 500 --connections 4
//
// Every request body is built before the clock starts (so generating JSON does not compete
// with the collector for the CPU); then C threads each hold one keep-alive connection
// (Boost.Beast, synchronous) and send their share of the requests back to back. A request
// counts as acknowledged when the collector answers 200 (Mixpanel /track: and not "0"), which
// for weir-collector means its records are durable. Prints events/s, MB/s of request payload
// (bodies as sent, 1 MB = 10^6 bytes), request latency and errors, plus one machine-readable
// line starting "RESULT ". Exits 1 if any request failed, 2 on bad arguments.
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <latch>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "loadgen_payload.hpp"

namespace weir::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace po = boost::program_options;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host;
  std::string port;
  Protocol protocol = Protocol::kNative;
  std::string token;
  uint64_t events = 100000;
  uint64_t batch = 500;
  int connections = 4;
  uint64_t seed = 1;
  bool dry_run = false;
};

/// Splits "http://HOST:PORT" (a trailing '/' allowed); nullopt when it is not that shape.
std::optional<std::pair<std::string, std::string>> ParseUrl(std::string url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return std::nullopt;
  url.erase(0, scheme.size());
  if (!url.empty() && url.back() == '/') url.pop_back();
  const size_t colon = url.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == url.size()) return std::nullopt;
  std::string port = url.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  std::string host = url.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(host, port);
}

/// One connection's work and results.
struct Worker {
  std::vector<http::request<http::string_body>> requests;
  std::vector<size_t> request_events;
  uint64_t events_acked = 0;
  uint64_t bytes_sent = 0;
  uint64_t errors = 0;
  std::vector<double> latencies_ms;
};

class ErrorLog {
 public:
  void Add(const std::string& message) {
    std::lock_guard lock(mu_);
    if (shown_++ < 5) std::cerr << "weir-loadgen: " << message << "\n";
  }

 private:
  std::mutex mu_;
  int shown_ = 0;
};

void Connect(beast::tcp_stream& stream, const tcp::resolver::results_type& endpoints) {
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(endpoints);
  stream.socket().set_option(tcp::no_delay(true));
}

/// Sends the worker's requests over one keep-alive connection, reconnecting after a failure.
void RunWorker(Protocol protocol, Worker& w, const tcp::resolver::results_type& endpoints,
               std::latch& ready, ErrorLog& log) {
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  bool connected = false;
  try {
    Connect(stream, endpoints);
    connected = true;
  } catch (const std::exception& e) {
    log.Add(std::string("connect: ") + e.what());
  }
  ready.arrive_and_wait();
  beast::flat_buffer buffer;
  for (size_t i = 0; i < w.requests.size(); ++i) {
    const auto start = Clock::now();
    try {
      if (!connected) {
        stream.close();
        Connect(stream, endpoints);
        connected = true;
      }
      stream.expires_after(std::chrono::seconds(60));
      http::write(stream, w.requests[i]);
      http::response<http::string_body> res;
      http::read(stream, buffer, res);
      const bool ok =
          res.result_int() == 200 && !(protocol == Protocol::kMixpanelTrack && res.body() == "0");
      if (ok) {
        w.events_acked += w.request_events[i];
        w.bytes_sent += w.requests[i].body().size();
      } else {
        ++w.errors;
        log.Add("HTTP " + std::to_string(res.result_int()) + " on " +
                std::string(w.requests[i].target()) + ": " + res.body().substr(0, 300));
      }
      if (!res.keep_alive()) connected = false;
    } catch (const std::exception& e) {
      ++w.errors;
      connected = false;
      log.Add(std::string("request failed: ") + e.what());
    }
    w.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    w.requests[i] = {};  // free the body as we go
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

int Run(const Options& options) {
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  tcp::resolver::results_type endpoints;
  try {
    endpoints = resolver.resolve(options.host, options.port);
  } catch (const std::exception& e) {
    std::cerr << "weir-loadgen: cannot resolve " << options.host << ": " << e.what() << "\n";
    return 2;
  }
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();

  // Requests are dealt round-robin; each worker builds its own share in parallel.
  const uint64_t request_count = (options.events + options.batch - 1) / options.batch;
  std::vector<Worker> workers(static_cast<size_t>(options.connections));
  {
    std::vector<std::thread> builders;
    for (size_t t = 0; t < workers.size(); ++t) {
      builders.emplace_back([&, t] {
        Worker& w = workers[t];
        for (uint64_t r = t; r < request_count; r += workers.size()) {
          const uint64_t first = r * options.batch;
          const uint64_t n = std::min(options.batch, options.events - first);
          EventGenerator gen(options.seed, first, now_ms);
          std::vector<Event> events;
          events.reserve(n);
          for (uint64_t i = 0; i < n; ++i) events.push_back(gen.Next());
          HttpRequestSpec spec = BuildRequest(options.protocol, events, options.token);
          http::request<http::string_body> req{http::verb::post, spec.target, 11};
          req.set(http::field::host, options.host + ":" + options.port);
          req.set(http::field::user_agent, "weir-loadgen/0.1");
          req.set(http::field::content_type, spec.content_type);
          if (!spec.authorization.empty()) req.set(http::field::authorization, spec.authorization);
          req.keep_alive(true);
          req.body() = std::move(spec.body);
          req.prepare_payload();
          w.requests.push_back(std::move(req));
          w.request_events.push_back(spec.events);
        }
      });
    }
    for (auto& b : builders) b.join();
  }

  if (options.dry_run) {
    uint64_t bytes = 0;
    for (const auto& w : workers) {
      for (const auto& r : w.requests) bytes += r.body().size();
    }
    std::printf("%s: %llu requests, %.0f body bytes per event; the first request:\n",
                ProtocolName(options.protocol), static_cast<unsigned long long>(request_count),
                static_cast<double>(bytes) / static_cast<double>(options.events));
    std::cout << workers[0].requests[0] << "\n";
    return 0;
  }

  ErrorLog log;
  std::latch ready(static_cast<std::ptrdiff_t>(workers.size()) + 1);
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&] { RunWorker(options.protocol, w, endpoints, ready, log); });
  }
  ready.arrive_and_wait();
  const auto start = Clock::now();
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  uint64_t acked = 0, bytes = 0, errors = 0;
  std::vector<double> latencies;
  for (auto& w : workers) {
    acked += w.events_acked;
    bytes += w.bytes_sent;
    errors += w.errors;
    latencies.insert(latencies.end(), w.latencies_ms.begin(), w.latencies_ms.end());
  }
  const double eps = seconds > 0 ? static_cast<double>(acked) / seconds : 0;
  const double mbps = seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0;
  const double p50 = Percentile(latencies, 0.50), p99 = Percentile(latencies, 0.99);
  std::printf(
      "weir-loadgen: %s: %llu of %llu events acknowledged in %llu requests over %d connections, "
      "%.2f s\n  %.0f events/s, %.1f MB/s payload (%.1f MB), request latency p50 %.1f ms p99 "
      "%.1f ms, %llu failed requests\n",
      ProtocolName(options.protocol), static_cast<unsigned long long>(acked),
      static_cast<unsigned long long>(options.events),
      static_cast<unsigned long long>(request_count), options.connections, seconds, eps, mbps,
      static_cast<double>(bytes) / 1e6, p50, p99, static_cast<unsigned long long>(errors));
  std::printf(
      "RESULT protocol=%s events=%llu acked=%llu requests=%llu errors=%llu seconds=%.3f "
      "events_per_s=%.0f payload_bytes=%llu payload_mb_per_s=%.1f p50_ms=%.1f p99_ms=%.1f\n",
      ProtocolName(options.protocol), static_cast<unsigned long long>(options.events),
      static_cast<unsigned long long>(acked), static_cast<unsigned long long>(request_count),
      static_cast<unsigned long long>(errors), seconds, eps, static_cast<unsigned long long>(bytes),
      mbps, p50, p99);
  return errors == 0 && acked == options.events ? 0 : 1;
}

}  // namespace
}  // namespace weir::bench

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  using weir::bench::Options;
  Options options;
  std::string url, protocol;
  po::options_description desc(
      "weir-loadgen: post realistic SDK events to a weir-collector\n\nOptions");
  desc.add_options()("help,h", "show this help")("url", po::value(&url)->required(),
                                                 "collector base URL, http://HOST:PORT")(
      "protocol", po::value(&protocol)->default_value("native"),
      "mixpanel-import | mixpanel-track | segment-batch | native")(
      "token", po::value(&options.token)->required(),
      "project token (Mixpanel, native) or write key (Segment)")(
      "events", po::value(&options.events)->default_value(100000), "events to send")(
      "batch", po::value(&options.batch)->default_value(500), "events per request")(
      "connections", po::value(&options.connections)->default_value(4),
      "keep-alive connections, one thread each")("seed", po::value(&options.seed)->default_value(1),
                                                 "seed of the generated events")(
      "dry-run", po::bool_switch(&options.dry_run),
      "build the requests, print the first one and the body bytes per event, send nothing");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help") != 0) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "weir-loadgen: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  auto parsed_url = weir::bench::ParseUrl(url);
  auto parsed_protocol = weir::bench::ProtocolFromName(protocol);
  if (!parsed_url) {
    std::cerr << "weir-loadgen: --url must be http://HOST:PORT, got '" << url << "'\n";
    return 2;
  }
  if (!parsed_protocol) {
    std::cerr << "weir-loadgen: --protocol must be one of mixpanel-import, mixpanel-track, "
                 "segment-batch, native; got '"
              << protocol << "'\n";
    return 2;
  }
  if (options.events == 0 || options.batch == 0 || options.connections <= 0 ||
      options.connections > 1024) {
    std::cerr << "weir-loadgen: --events and --batch must be positive, --connections 1..1024\n";
    return 2;
  }
  options.host = parsed_url->first;
  options.port = parsed_url->second;
  options.protocol = *parsed_protocol;
  return weir::bench::Run(options);
}
