// plugins/sdk-source/collector/collector_main.cpp — `weir-collector`: runs only the collector,
// for small setups and tests (`weir serve` runs it as a plugin service instead).
//
//   weir-collector --config collector.json [--port-file FILE]
//
// Logs to stderr. --port-file: once listening, the bound port is written to FILE (atomically:
// written beside it, then renamed), so a test can use "listen": "127.0.0.1:0". SIGTERM/SIGINT
// stop gracefully (requests being handled are answered, stores closed), exit code 0. Exit code
// 2 for a usage error, 1 when the collector cannot start.
#include <signal.h>
#include <sys/stat.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "collector/collector.hpp"

namespace {

constexpr const char* kUsage =
    "usage: weir-collector --config FILE [--port-file FILE]\n"
    "  --config FILE     collector configuration (JSON; see docs/sdk-source.md)\n"
    "  --port-file FILE  write the bound port to FILE once listening\n";

bool WritePortFile(const std::string& path, uint16_t port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  // The store holds the customers' events: its directories and files are the owner's only.
  ::umask(077);
  std::string config_path, port_file;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--config" || arg == "--port-file") && i + 1 < argc) {
      (arg == "--config" ? config_path : port_file) = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "weir-collector: unexpected argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "weir-collector: --config is required\n%s", kUsage);
    return 2;
  }
  auto logger = spdlog::stderr_color_mt("weir-collector");
  std::error_code fec;
  const auto type = std::filesystem::status(config_path, fec).type();
  if (type == std::filesystem::file_type::directory ||
      (type != std::filesystem::file_type::regular &&
       type != std::filesystem::file_type::not_found && !fec)) {
    // A directory opens (and reads as empty) and a FIFO blocks: neither is a config file.
    logger->error("cannot read config file {}: not a regular file", config_path);
    return 1;
  }
  std::ifstream in(config_path, std::ios::binary);
  if (!in) {
    logger->error("cannot read config file {}: {}", config_path, std::strerror(errno));
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();

  // Block the stop signals before any thread starts, so every thread inherits the mask and
  // only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto log = [logger](weir::sdksource::LogLevel level, std::string_view message) {
    using weir::sdksource::LogLevel;
    auto spd = level == LogLevel::kError  ? spdlog::level::err
               : level == LogLevel::kWarn ? spdlog::level::warn
               : level == LogLevel::kInfo ? spdlog::level::info
                                          : spdlog::level::debug;
    logger->log(spd, "{}", message);
  };
  auto collector = weir::sdksource::Collector::Start(text.str(), log);
  if (!collector.ok()) {
    // A config mistake names the file it is in; other failures (address in use) stand alone.
    if (collector.status().code() == WEIR_INVALID_CONFIG) {
      logger->error("{}: {}", config_path, collector.status().message());
    } else {
      logger->error("{}", collector.status().message());
    }
    return 1;
  }
  if (!port_file.empty() && !WritePortFile(port_file, (*collector)->port())) {
    logger->error("cannot write port file {}", port_file);
    (*collector)->Stop();
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  logger->info("received {}, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*collector)->Stop();
  return 0;
}
