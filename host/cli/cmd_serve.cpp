// host/cli/cmd_serve.cpp — `weir serve`: the daemon (host/serve). Parses and checks the
// options, then hands over to serve::RunServe().
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "run/runner.hpp"
#include "serve/serve.hpp"

namespace weir::host::cli {

namespace {

/// "off", or HOST:PORT with a port 0..65535 ("[v6]:PORT" too).
bool ValidHttpAddress(const std::string& a) {
  if (a == "off") return true;
  const size_t colon = a.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == a.size()) return false;
  const std::string port = a.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  return std::stoi(port) <= 65535;
}

}  // namespace

int CmdServe(const Globals& g, const std::vector<std::string>& args) {
  po::options_description desc("weir serve");
  desc.add_options()(
      "http", po::value<std::string>()->default_value("127.0.0.1:9464"),
      "ADDR:PORT for /healthz, /metrics, /status and /status.json (port 0 = any free port; "
      "\"off\" disables)")("project-concurrency", po::value<int>()->default_value(1),
                           "at most N running steps per project")(
      "max-batches-per-step", po::value<uint64_t>()->default_value(20),
      "batches one incremental step commits before the pipeline goes to the back of its "
      "project's queue")("tick-ms", po::value<int64_t>()->default_value(500),
                         "how often due schedules and backfill ledgers are checked")(
      "service", po::value<std::vector<std::string>>()->composing(),
      "PLUGIN=@CONFIG.json: host a plugin service (e.g. sdk-source=@collector.json); "
      "repeatable");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!ParseSub(args, desc, pos, vm,
                "Usage: weir serve [--http ADDR:PORT|off] [--project-concurrency N] "
                "[--max-batches-per-step N] [--tick-ms N] [--service PLUGIN=@CONFIG.json ...]\n"
                "Runs every pipeline on its schedule (and its backfill), each step in a child "
                "process,\nhosts plugin services, and serves /healthz, /metrics and /status. "
                "SIGTERM/SIGINT: finish\nthe running batches and exit 0; SIGHUP: reload the "
                "pipeline files. One serve per data directory.\n"
                "A pipeline still catching up runs step after step (at most one running step "
                "per\nproject, queued fairly); a caught-up one waits for its schedule "
                "(weir schedule P).\nRunning it under systemd: docs/operating.md.\n\n"
                "Examples:\n"
                "  weir serve --service sdk-source=@/etc/weir/collector.json\n"
                "  weir serve --http 127.0.0.1:0 --project-concurrency 2   # any free port\n"
                "  curl -s http://127.0.0.1:9464/metrics | grep weir_watermark_lag")) {
    return kExitOk;
  }
  serve::ServeConfig c;
  c.exe = g.exe;
  c.child_args = g.ChildArgs();
  c.data_dir = g.data_dir;
  c.state_db = g.state_db();
  c.pipelines_dir = g.pipelines_dir;
  c.lock_file = g.serve_lock();
  c.quiet = g.quiet;
  c.http = vm["http"].as<std::string>();
  if (!ValidHttpAddress(c.http)) {
    return Fail(kExitUsage,
                "--http: expected ADDR:PORT (e.g. 127.0.0.1:9464) or off, found '" + c.http + "'");
  }
  c.project_concurrency = vm["project-concurrency"].as<int>();
  if (c.project_concurrency < 1 || c.project_concurrency > 1000) {
    return Fail(kExitUsage, "--project-concurrency: must be between 1 and 1000, found " +
                                std::to_string(c.project_concurrency));
  }
  c.max_batches_per_step = vm["max-batches-per-step"].as<uint64_t>();
  if (c.max_batches_per_step < 1) {
    return Fail(kExitUsage, "--max-batches-per-step: must be at least 1");
  }
  c.tick_ms = vm["tick-ms"].as<int64_t>();
  if (c.tick_ms < 10 || c.tick_ms > 60000) {
    return Fail(kExitUsage,
                "--tick-ms: must be between 10 and 60000, found " + std::to_string(c.tick_ms));
  }
  if (vm.count("service") != 0U) {
    PluginRegistry reg = LoadRegistry(g);
    for (const auto& arg : vm["service"].as<std::vector<std::string>>()) {
      auto spec = serve::ParseServiceArg(arg);
      if (!spec.ok()) return Fail(kExitUsage, spec.status().message());
      const LoadedPlugin* p = reg.Find(spec->plugin);
      if (p == nullptr) {
        return Fail(kExitPlugin,
                    "--service: no plugin named '" + spec->plugin + "' (see weir plugins list)");
      }
      if (p->service == nullptr) {
        return Fail(kExitPlugin, "--service: plugin '" + spec->plugin +
                                     "' offers no service (kinds: " + p->KindsString() + ")");
      }
      // Checked now so a typo fails at start, not in a restart loop; the child reads it again.
      auto config = ReadConfigArg(spec->config, "--service " + spec->plugin, /*optional=*/false);
      if (!config.ok()) return Fail(kExitUsage, config.status().message());
      if (spec->config[0] == '@') {
        std::error_code ec;
        auto abs = std::filesystem::absolute(spec->config.substr(1), ec);
        if (!ec) spec->config = "@" + abs.string();
      }
      c.services.push_back(*spec);
    }
  }
  if (auto pid = ServeRunning(g)) {
    return Fail(kExitBusy, "weir serve is already running for data dir " + g.data_dir.string() +
                               " (pid " + std::to_string(*pid) + ")");
  }
  return serve::RunServe(c);
}

}  // namespace weir::host::cli
