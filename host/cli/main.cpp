// host/cli/main.cpp — the `weir` command line.
//
// Global options come from the command line, then WEIR_* environment variables, then an
// optional config file (--config / WEIR_CONFIG, `key = value` lines), in that order of
// precedence. Each subcommand has its own --help. Exit codes: see ExitCode in run/runner.hpp
// and docs/cli.md.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "pipeline/pipeline.hpp"
#include "pipeline/redact.hpp"
#include "plugin/loader.hpp"
#include "run/runner.hpp"
#include "run/service_runner.hpp"
#include "cli/commands.hpp"
#include "state/state_store.hpp"
#include "weir/testkit.hpp"

using namespace weir;             // NOLINT: a .cpp at the edge of the program
using namespace weir::host;       // NOLINT
using namespace weir::host::cli;  // NOLINT

namespace {

const char* kUsage = R"(weir — export product-analytics events and profiles to your warehouse or bucket

Usage: weir [global options] COMMAND [command options]

Commands:
  run PIPELINE              run a pipeline until it is caught up (effectively-once)
  backfill PIPELINE         export history day by day: --from DATE --to DATE, --status, --redo
  serve                     the daemon: runs pipelines on their schedules, hosts the collector,
                            serves /healthz, /metrics and /status over HTTP
  schedule PIPELINE         print the next fire times of a pipeline's schedule (--next N)
  status                    every pipeline: phase, watermark, lag, last and next run, backfill
  runs [PIPELINE]           show run history (newest first)
  logs RUN_ID               print the log of one run
  metrics PIPELINE          rows and bytes per run over time (sparkline on a terminal, --json)
  pipeline list             list the pipelines in the pipelines directory
  pipeline show NAME        show one pipeline (secrets stay as ${VAR} references)
  pipeline validate [NAME]  check pipeline files and each plugin's config (all if no NAME)
  pipeline reset NAME       forget a pipeline's watermark so it starts from the beginning
  plugins list              list loaded plugins and the files that were refused
  plugins show NAME         show a plugin's description, streams and config schema
  plugins check FILE.so     run the conformance suite against any plugin file
  service run PLUGIN        run a plugin's service (e.g. the sdk-source collector) until stopped
  version                   print the version

Run `weir COMMAND --help` for a command's options.

Examples:
  weir --pipelines-dir examples/pipelines pipeline validate
  weir --pipelines-dir examples/pipelines run demo-events
  weir runs demo-events --limit 5
  weir backfill demo-events --from 2026-11-01 --to 2026-11-30
  weir serve --http 127.0.0.1:8080
  weir plugins check build/plugins/libweir-file-destination.so \
       --destination-config '{"dir": "/tmp/out"}'

Exit codes: 0 ok (also when there was no new data), 1 run failed, 2 usage or config error,
3 plugin missing or refused, 4 state store error, 5 pipeline already running, 6 a bounded step
(--max-batches, backfill --step) stopped with more work waiting, 130 cancelled.
)";

fs::path DefaultDataDir() {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && x[0] != '\0') {
    return fs::path(x) / "weir";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] != '\0') {
    return fs::path(h) / ".local" / "state" / "weir";
  }
  return fs::path(".weir");
}

// ---------------------------------------------------------------------------------------------
// plugins

int CmdPlugins(const Globals& g, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "Usage: weir plugins list [--json] | show NAME | check FILE.so [options]\n"
                 "Plugins are searched in --plugins-dir / WEIR_PLUGINS_DIR (':'-separated), "
                 "else <prefix>/lib/weir/plugins and, from a build tree, build/plugins.\n";
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string& sub = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "list") {
    po::options_description desc("weir plugins list");
    desc.add_options()("json", "machine-readable output");
    po::positional_options_description pos;
    po::variables_map vm;
    if (!ParseSub(rest, desc, pos, vm, "Usage: weir plugins list [--json]")) return kExitOk;
    PluginRegistry reg = LoadRegistry(g);
    if (vm.count("json") != 0U) {
      std::cout << "{\"plugins\":[";
      for (size_t i = 0; i < reg.plugins().size(); ++i) {
        const auto& p = reg.plugins()[i];
        std::cout << (i ? "," : "") << "{\"name\":" << JsonQuote(p.name)
                  << ",\"version\":" << JsonQuote(p.version)
                  << ",\"kinds\":" << JsonQuote(p.KindsString()) << ",\"abi\":\""
                  << p.abi_major << "." << p.abi_minor
                  << "\",\"path\":" << JsonQuote(p.path.string()) << "}";
      }
      std::cout << "],\"refused\":[";
      for (size_t i = 0; i < reg.refusals().size(); ++i) {
        const auto& r = reg.refusals()[i];
        std::cout << (i ? "," : "") << "{\"path\":" << JsonQuote(r.path.string())
                  << ",\"reason\":" << JsonQuote(r.reason) << "}";
      }
      std::cout << "]}\n";
      return kExitOk;
    }
    std::printf("%-20s %-10s %-20s %-5s %s\n", "NAME", "VERSION", "KINDS", "ABI", "PATH");
    for (const auto& p : reg.plugins()) {
      std::string abi = std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor);
      std::printf("%-20s %-10s %-20s %-5s %s\n", p.name.c_str(), p.version.c_str(),
                  p.KindsString().c_str(), abi.c_str(), p.path.string().c_str());
    }
    if (reg.plugins().empty()) std::printf("(no plugins loaded)\n");
    for (const auto& r : reg.refusals()) std::cerr << "weir: " << r.ToString() << "\n";
    return kExitOk;
  }
  if (sub == "show") {
    po::options_description desc("weir plugins show");
    desc.add_options()("name", po::value<std::string>()->required(), "plugin name");
    po::positional_options_description pos;
    pos.add("name", 1);
    po::variables_map vm;
    if (!ParseSub(rest, desc, pos, vm, "Usage: weir plugins show NAME")) return kExitOk;
    PluginRegistry reg = LoadRegistry(g);
    const std::string name = vm["name"].as<std::string>();
    const LoadedPlugin* p = reg.Find(name);
    if (p == nullptr) return Fail(kExitPlugin, "no plugin named '" + name + "' (see weir plugins list)");
    std::cout << "name:        " << p->name << "\nversion:     " << p->version
              << "\nkinds:       " << p->KindsString() << "\nabi:         " << p->abi_major
              << "." << p->abi_minor << "\npath:        " << p->path.string()
              << "\ndescription: " << p->description << "\nstreams:    ";
    for (const auto& s : p->streams) std::cout << " " << s;
    std::cout << "\nconfig schema:\n" << p->config_schema << "\n";
    return kExitOk;
  }
  if (sub == "check") {
    po::options_description desc("weir plugins check");
    desc.add_options()("file", po::value<std::string>()->required(), "plugin .so file")(
        "source-config", po::value<std::string>()->default_value(""),
        "valid source config JSON (or @file); enables the checks that need one; ${ENV} "
        "references are resolved, so secrets stay in the environment")(
        "destination-config", po::value<std::string>()->default_value(""),
        "valid destination config JSON (or @file), ${ENV} resolved")(
        "stream", po::value<std::string>()->default_value(""),
        "stream to exercise (default: the first the plugin declares)");
    po::positional_options_description pos;
    pos.add("file", 1);
    po::variables_map vm;
    if (!ParseSub(rest, desc, pos, vm,
                  "Usage: weir plugins check FILE.so [--source-config JSON] "
                  "[--destination-config JSON]\nRuns the host's vetting, then the conformance "
                  "suite (each check in a child process).")) {
      return kExitOk;
    }
    const std::string file = vm["file"].as<std::string>();
    auto loaded = LoadPluginFile(file);
    if (!loaded.ok()) {
      return Fail(kExitPlugin, file + ": refused: " + loaded.status().message());
    }
    std::cout << "loaded " << loaded->name << " " << loaded->version << " ("
              << loaded->KindsString() << ", ABI " << loaded->abi_major << "."
              << loaded->abi_minor << ") from " << file << "\n";
    testkit::Options opt;
    auto source_config = ReadConfigArg(vm["source-config"].as<std::string>(), "--source-config");
    if (!source_config.ok()) return Fail(kExitUsage, source_config.status().message());
    auto destination_config =
        ReadConfigArg(vm["destination-config"].as<std::string>(), "--destination-config");
    if (!destination_config.ok()) return Fail(kExitUsage, destination_config.status().message());
    opt.source_config = std::move(source_config).value();
    opt.destination_config = std::move(destination_config).value();
    opt.stream = vm["stream"].as<std::string>();
    auto results = testkit::RunConformance(file, opt);
    std::cout << testkit::FormatResults(results);
    bool failed = std::any_of(results.begin(), results.end(), [](const auto& r) {
      return r.outcome == testkit::Outcome::kFail;
    });
    return failed ? kExitPlugin : kExitOk;
  }
  return Fail(kExitUsage, "unknown command 'plugins " + sub + "' (try: list, show, check)");
}

// ---------------------------------------------------------------------------------------------
// pipeline

int CmdPipeline(const Globals& g, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "Usage: weir pipeline list | show NAME | validate [NAME...] [--no-check] | "
                 "reset NAME --yes\nPipelines are JSON files in --pipelines-dir ("
              << g.pipelines_dir.string() << "); see docs/cli.md for the format.\n";
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string& sub = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  const EnvLookup env = ProcessEnv();
  if (sub == "list") {
    po::options_description desc("weir pipeline list");
    po::positional_options_description pos;
    po::variables_map vm;
    if (!ParseSub(rest, desc, pos, vm, "Usage: weir pipeline list")) return kExitOk;
    auto scan = LoadPipelineDir(g.pipelines_dir, env);
    if (!scan.ok()) return Fail(kExitUsage, scan.status().message());
    std::printf("%-24s %-12s %-10s %-16s %-18s %s\n", "NAME", "PROJECT", "STREAM", "SOURCE",
                "DESTINATION", "SCHEDULE");
    for (const auto& p : scan->pipelines) {
      std::printf("%-24s %-12s %-10s %-16s %-18s %s\n", p.name.c_str(), p.project.c_str(),
                  p.stream.c_str(), p.source.plugin.c_str(), p.destination.plugin.c_str(),
                  p.schedule.ToString().c_str());
    }
    for (const auto& e : scan->errors) std::cerr << "weir: " << e << "\n";
    return scan->errors.empty() ? kExitOk : kExitUsage;
  }
  if (sub == "show" || sub == "reset") {
    po::options_description desc("weir pipeline " + sub);
    desc.add_options()("name", po::value<std::string>()->required(), "pipeline name or file");
    if (sub == "reset") desc.add_options()("yes", "really forget the watermark");
    po::positional_options_description pos;
    pos.add("name", 1);
    po::variables_map vm;
    if (!ParseSub(rest, desc, pos, vm, "Usage: weir pipeline " + sub + " NAME")) return kExitOk;
    auto p = FindPipeline(g.pipelines_dir, vm["name"].as<std::string>(), env);
    if (!p.ok()) return Fail(kExitUsage, p.status().message());
    auto store = OpenStore(g);
    if (!store.ok()) return Fail(kExitState, store.status().message());
    if (sub == "reset") {
      if (vm.count("yes") == 0U) {
        return Fail(kExitUsage, "reset makes '" + p->name +
                                    "' export everything again from the beginning; add --yes");
      }
      auto lock = (*store)->TryLockPipeline(p->name);
      if (!lock.ok()) return Fail(kExitBusy, lock.status().message());
      Status s = (*store)->ResetPipeline(p->name, p->stream);
      if (!s.ok()) return Fail(kExitState, s.message());
      std::cout << "pipeline '" << p->name << "' reset: the next run starts from the beginning\n";
      return kExitOk;
    }
    auto st = (*store)->LoadPipeline(p->name, p->stream);
    if (!st.ok()) return Fail(kExitState, st.status().message());
    std::cout << "name:        " << p->name << "\nfile:        " << p->file.string()
              << "\nproject:     " << p->project << "\nstream:      " << p->stream
              << "\nsource:      " << p->source.plugin << " " << RedactConfig(p->source.config_raw)
              << "\ndestination: " << p->destination.plugin << " "
              << RedactConfig(p->destination.config_raw)
              << "\nschedule:    " << p->schedule.ToString()
              << "\nbatch:       max_records=" << p->batch.max_records
              << " max_bytes=" << p->batch.max_bytes
              << "\nretry:       max_attempts=" << p->retry.max_attempts
              << " backoff=" << p->retry.initial_backoff_ms << ".." << p->retry.max_backoff_ms
              << " ms\nstate:       " << st->committed_rows << " rows in "
              << st->committed_batches << " committed batches, next batch "
              << st->next_batch_seq
              << (st->pending ? ", one batch pending (replayed by the next run)" : "") << "\n";
    return kExitOk;
  }
  if (sub == "validate") {
    po::options_description desc("weir pipeline validate");
    desc.add_options()("name", po::value<std::vector<std::string>>(), "pipeline names or files")(
        "no-check", "only parse the files; do not open the plugins and run their check()");
    po::positional_options_description pos;
    pos.add("name", -1);
    po::variables_map vm;
    if (!ParseSub(rest, desc, pos, vm,
                  "Usage: weir pipeline validate [NAME|FILE ...] [--no-check]\nParses each "
                  "pipeline, resolves its plugins, and runs each plugin's check() on its config.")) {
      return kExitOk;
    }
    std::vector<Pipeline> pipelines;
    std::vector<std::string> errors;
    if (vm.count("name") != 0U) {
      for (const auto& n : vm["name"].as<std::vector<std::string>>()) {
        auto p = FindPipeline(g.pipelines_dir, n, env);
        if (p.ok()) {
          pipelines.push_back(std::move(p).value());
        } else {
          errors.push_back(p.status().message());
        }
      }
    } else {
      auto scan = LoadPipelineDir(g.pipelines_dir, env);
      if (!scan.ok()) return Fail(kExitUsage, scan.status().message());
      pipelines = std::move(scan->pipelines);
      errors = std::move(scan->errors);
    }
    for (const auto& e : errors) std::cout << "INVALID " << e << "\n";
    int code = errors.empty() ? kExitOk : kExitUsage;
    if (pipelines.empty() && errors.empty()) std::cout << "no pipelines found\n";
    if (pipelines.empty()) return code;
    PluginRegistry reg = LoadRegistry(g);
    for (const auto& p : pipelines) {
      const LoadedPlugin* s = nullptr;
      const LoadedPlugin* d = nullptr;
      Status st = ResolvePlugins(p, reg, &s, &d);
      if (st.ok() && vm.count("no-check") == 0U) st = CheckPipelinePlugins(p, reg);
      if (st.ok()) {
        std::cout << "ok      " << p.name << " (" << p.source.plugin << " -> "
                  << p.destination.plugin << ", " << p.stream << ")\n";
      } else {
        std::cout << "INVALID " << st.message() << "\n";
        code = kExitUsage;
      }
    }
    return code;
  }
  return Fail(kExitUsage, "unknown command 'pipeline " + sub +
                              "' (try: list, show, validate, reset)");
}

// ---------------------------------------------------------------------------------------------
// run, runs, logs

int CmdRun(const Globals& g, const std::vector<std::string>& args) {
  po::options_description desc("weir run");
  desc.add_options()("pipeline", po::value<std::string>()->required(), "pipeline name or file")(
      "no-progress", "no live progress line even on a terminal")(
      "max-batches", po::value<uint64_t>()->default_value(0),
      "stop after N committed batches and exit 6 if more may be waiting (0 = until caught up; "
      "`weir serve` runs bounded steps like this)")(
      "kind", po::value<std::string>()->default_value("incremental"),
      "the kind recorded in run history: incremental or scheduled");
  po::positional_options_description pos;
  pos.add("pipeline", 1);
  po::variables_map vm;
  if (!ParseSub(args, desc, pos, vm,
                "Usage: weir run PIPELINE [--no-progress] [--max-batches N]\n"
                "Exports everything new since the last committed batch, batch by batch, until "
                "caught up.\nA batch interrupted by a crash is replayed first with the same key, "
                "so nothing is lost or duplicated.")) {
    return kExitOk;
  }
  auto p = FindPipeline(g.pipelines_dir, vm["pipeline"].as<std::string>(), ProcessEnv());
  if (!p.ok()) return Fail(kExitUsage, p.status().message());
  PluginRegistry reg = LoadRegistry(g);
  auto store = OpenStore(g);
  if (!store.ok()) return Fail(kExitState, store.status().message());
  InstallSignalHandlers(/*graceful=*/true);
  RunOptions opt;
  opt.logs_dir = g.logs_dir();
  opt.progress = vm.count("no-progress") == 0U && isatty(STDERR_FILENO) != 0 && !g.quiet;
  opt.echo_logs = !g.quiet;
  opt.cancel = &g_cancel;
  opt.stop = &g_stop;
  opt.max_batches = vm["max-batches"].as<uint64_t>();
  opt.kind = vm["kind"].as<std::string>();
  if (opt.kind != "incremental" && opt.kind != "scheduled") {
    return Fail(kExitUsage, "--kind: expected incremental or scheduled, found '" + opt.kind + "'");
  }
  RunOutcome out = RunPipeline(*p, reg, **store, opt);
  if (out.run_id == 0) {
    return Fail(out.exit_code, out.error.message());
  }
  if (!out.error.ok()) {
    std::cerr << "weir: run " << out.run_id << " " << out.status << ": " << out.error.ToString()
              << "\nweir: full log: weir logs " << out.run_id << "\n";
  } else if (!g.quiet) {
    std::cout << "run " << out.run_id << " " << out.status << ": " << out.rows << " rows, "
              << out.bytes << " bytes, " << out.batches << " batches\n";
  }
  return out.exit_code;
}

int CmdRuns(const Globals& g, const std::vector<std::string>& args) {
  po::options_description desc("weir runs");
  desc.add_options()("pipeline", po::value<std::string>()->default_value(""), "pipeline name")(
      "limit", po::value<int>()->default_value(20), "how many runs")("json", "JSON lines");
  po::positional_options_description pos;
  pos.add("pipeline", 1);
  po::variables_map vm;
  if (!ParseSub(args, desc, pos, vm, "Usage: weir runs [PIPELINE] [--limit N] [--json]")) {
    return kExitOk;
  }
  auto store = OpenStore(g);
  if (!store.ok()) return Fail(kExitState, store.status().message());
  auto runs = (*store)->ListRuns(vm["pipeline"].as<std::string>(), vm["limit"].as<int>());
  if (!runs.ok()) return Fail(kExitState, runs.status().message());
  if (vm.count("json") != 0U) {
    for (const auto& r : *runs) {
      std::cout << "{\"id\":" << r.id << ",\"pipeline\":" << JsonQuote(r.pipeline)
                << ",\"kind\":" << JsonQuote(r.kind) << ",\"status\":" << JsonQuote(r.status)
                << ",\"started_at_ms\":" << r.started_at_ms
                << ",\"ended_at_ms\":" << r.ended_at_ms << ",\"rows\":" << r.rows
                << ",\"bytes\":" << r.bytes << ",\"batches\":" << r.batches
                << ",\"error\":" << JsonQuote(r.error) << ",\"log\":" << JsonQuote(r.log_path)
                << "}\n";
    }
    return kExitOk;
  }
  std::printf("%-6s %-20s %-12s %-12s %-21s %9s %10s %12s  %s\n", "ID", "PIPELINE", "KIND",
              "STATUS", "STARTED", "SECONDS", "ROWS", "BYTES", "ERROR");
  for (const auto& r : *runs) {
    double secs = r.ended_at_ms > 0 ? static_cast<double>(r.ended_at_ms - r.started_at_ms) / 1000
                                    : 0;
    std::printf("%-6" PRId64 " %-20s %-12s %-12s %-21s %9.1f %10" PRIu64 " %12" PRIu64 "  %s\n",
                r.id, r.pipeline.c_str(), r.kind.c_str(), r.status.c_str(),
                FormatUtcMs(r.started_at_ms).c_str(), secs, r.rows, r.bytes,
                r.error.substr(0, 80).c_str());
  }
  if (runs->empty()) std::printf("(no runs yet)\n");
  return kExitOk;
}

int CmdLogs(const Globals& g, const std::vector<std::string>& args) {
  po::options_description desc("weir logs");
  desc.add_options()("run", po::value<int64_t>()->required(), "run id (see weir runs)");
  po::positional_options_description pos;
  pos.add("run", 1);
  po::variables_map vm;
  if (!ParseSub(args, desc, pos, vm, "Usage: weir logs RUN_ID")) return kExitOk;
  auto store = OpenStore(g);
  if (!store.ok()) return Fail(kExitState, store.status().message());
  const int64_t id = vm["run"].as<int64_t>();
  auto run = (*store)->GetRun(id);
  if (!run.ok()) return Fail(kExitState, run.status().message());
  if (!*run) return Fail(kExitUsage, "no run with id " + std::to_string(id));
  std::ifstream in((*run)->log_path);
  if ((*run)->log_path.empty() || !in) {
    return Fail(kExitState, "the log of run " + std::to_string(id) + " (" + (*run)->log_path +
                                ") cannot be read");
  }
  std::cout << in.rdbuf();
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// service

int CmdService(const Globals& g, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] != "run") {
    std::cout << "Usage: weir service run PLUGIN --config JSON|@FILE [--log-file FILE]\n"
                 "Runs a plugin's long-running service (ABI 1.1), such as the sdk-source "
                 "collector,\nin the foreground until SIGINT or SIGTERM. ${VAR} references in the "
                 "config are\nresolved from the environment.\n";
    if (!args.empty() && args[0] != "--help" && args[0] != "-h") {
      return Fail(kExitUsage, "unknown command 'service " + args[0] + "' (try: run)");
    }
    return args.empty() ? kExitUsage : kExitOk;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  po::options_description desc("weir service run");
  desc.add_options()("plugin", po::value<std::string>()->required(), "plugin name")(
      "config", po::value<std::string>()->required(), "service config: JSON text or @file")(
      "log-file", po::value<std::string>()->default_value(""), "also log into this file")(
      "metrics-file", po::value<std::string>()->default_value(""),
      "write the service's metrics here as a JSON object every second (`weir serve` reads it)");
  po::positional_options_description pos;
  pos.add("plugin", 1);
  po::variables_map vm;
  if (!ParseSub(rest, desc, pos, vm,
                "Usage: weir service run PLUGIN --config JSON|@FILE [--log-file FILE]")) {
    return kExitOk;
  }
  auto config = ReadConfigArg(vm["config"].as<std::string>(), "--config", /*optional=*/false);
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  PluginRegistry reg = LoadRegistry(g);
  const std::string name = vm["plugin"].as<std::string>();
  const LoadedPlugin* p = reg.Find(name);
  if (p == nullptr) {
    return Fail(kExitPlugin, "no plugin named '" + name + "' (see weir plugins list)");
  }
  InstallSignalHandlers();
  ServiceOptions opt;
  opt.cancel = &g_cancel;
  opt.log_file = vm["log-file"].as<std::string>();
  opt.metrics_file = vm["metrics-file"].as<std::string>();
  Status s = RunService(*p, *config, opt);
  if (!s.ok()) {
    return Fail(s.code() == WEIR_INVALID_CONFIG     ? kExitUsage
                : s.code() == WEIR_NOT_IMPLEMENTED ? kExitPlugin
                                                   : kExitRunFailed,
                s.ToString());
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  // Everything weir and its in-process plugins create (state, run logs, exported local files,
  // staged warehouse files) is the owner's only: rows and errors are the customer's data.
  ::umask(077);
  Globals g;
  std::error_code ec;
  g.exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) g.exe = argv[0];

  po::options_description global("Global options");
  global.add_options()("help,h", "show help")("version", "print the version")(
      "data-dir", po::value<std::string>(),
      "state database and run logs (env WEIR_DATA_DIR; default $XDG_STATE_HOME/weir or "
      "~/.local/state/weir)")(
      "plugins-dir", po::value<std::string>(),
      "plugin directories, ':'-separated (env WEIR_PLUGINS_DIR)")(
      "pipelines-dir", po::value<std::string>(),
      "pipeline definition files (env WEIR_PIPELINES_DIR; default <data-dir>/pipelines)")(
      "config", po::value<std::string>(), "config file with key = value lines (env WEIR_CONFIG)")(
      "quiet,q", "print only errors");
  // Split argv at the command: options before it are global, everything after belongs to the
  // command (so `weir run --help` is the run command's help, not the global one).
  std::vector<std::string> global_args;
  std::vector<std::string> sub_args;
  std::string command;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (!command.empty()) {
      sub_args.push_back(a);
    } else if (a.rfind('-', 0) == 0) {
      global_args.push_back(a);
      const bool takes_value = a == "--data-dir" || a == "--plugins-dir" ||
                               a == "--pipelines-dir" || a == "--config";
      if (takes_value && i + 1 < argc) global_args.push_back(argv[++i]);
    } else {
      command = a;
    }
  }
  const bool has_command = !command.empty();

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(global_args).options(global).run(), vm);
    po::store(po::parse_environment(global,
                                    [](const std::string& var) -> std::string {
                                      if (var == "WEIR_DATA_DIR") return "data-dir";
                                      if (var == "WEIR_PLUGINS_DIR") return "plugins-dir";
                                      if (var == "WEIR_PIPELINES_DIR") return "pipelines-dir";
                                      if (var == "WEIR_CONFIG") return "config";
                                      return "";
                                    }),
              vm);
    if (vm.count("config") != 0U) {
      const std::string file = vm["config"].as<std::string>();
      g.config_file = file;
      std::error_code fec;
      if (fs::is_directory(file, fec)) {
        return Fail(kExitUsage, "cannot read config file " + file + ": it is a directory");
      }
      std::ifstream in(file);
      if (!in) {
        return Fail(kExitUsage, "cannot read config file " + file + ": " + std::strerror(errno));
      }
      po::options_description file_opts;
      file_opts.add_options()("data-dir", po::value<std::string>())(
          "plugins-dir", po::value<std::string>())("pipelines-dir", po::value<std::string>());
      try {
        po::store(po::parse_config_file(in, file_opts), vm);
      } catch (const po::error& e) {
        // Boost's message names the key or line but not the file it came from.
        return Fail(kExitUsage, file + ": " + e.what() +
                                    " (expected `key = value` lines with the keys data-dir, "
                                    "plugins-dir, pipelines-dir)");
      }
    }
    po::notify(vm);

    if (vm.count("version") != 0U) {
      std::cout << kHostVersion << " (plugin ABI " << WEIR_ABI_MAJOR << "." << WEIR_ABI_MINOR
                << ")\n";
      return kExitOk;
    }
    if (!has_command || vm.count("help") != 0U) {
      std::cout << kUsage << "\n" << global << "\n";
      return has_command || vm.count("help") != 0U ? kExitOk : kExitUsage;
    }
    g.quiet = vm.count("quiet") != 0U;
    // An empty value (WEIR_DATA_DIR= in an environment file, a variable that expanded to
    // nothing) would silently mean the current directory.
    for (const char* key : {"data-dir", "pipelines-dir"}) {
      if (vm.count(key) != 0U && vm[key].as<std::string>().empty()) {
        const std::string env =
            std::string(key) == "data-dir" ? "WEIR_DATA_DIR" : "WEIR_PIPELINES_DIR";
        return Fail(kExitUsage, std::string("--") + key + " is empty (from the command line, " +
                                    env + " or the config file); give a directory");
      }
    }
    g.data_dir = vm.count("data-dir") != 0U ? fs::path(vm["data-dir"].as<std::string>())
                                            : DefaultDataDir();
    g.plugins_dir = vm.count("plugins-dir") != 0U ? vm["plugins-dir"].as<std::string>() : "";
    g.pipelines_dir = vm.count("pipelines-dir") != 0U
                          ? fs::path(vm["pipelines-dir"].as<std::string>())
                          : g.data_dir / "pipelines";

    const std::string& cmd = command;
    if (cmd == "run") return CmdRun(g, sub_args);
    if (cmd == "backfill") return CmdBackfill(g, sub_args);
    if (cmd == "serve") return CmdServe(g, sub_args);
    if (cmd == "schedule") return CmdSchedule(g, sub_args);
    if (cmd == "status") return CmdStatus(g, sub_args);
    if (cmd == "metrics") return CmdMetrics(g, sub_args);
    if (cmd == "runs") return CmdRuns(g, sub_args);
    if (cmd == "logs") return CmdLogs(g, sub_args);
    if (cmd == "pipeline" || cmd == "pipelines") return CmdPipeline(g, sub_args);
    if (cmd == "plugins" || cmd == "plugin") return CmdPlugins(g, sub_args);
    if (cmd == "service") return CmdService(g, sub_args);
    if (cmd == "version") {
      std::cout << kHostVersion << " (plugin ABI " << WEIR_ABI_MAJOR << "." << WEIR_ABI_MINOR
                << ")\n";
      return kExitOk;
    }
    if (cmd == "help") {
      std::cout << kUsage << "\n" << global << "\n";
      return kExitOk;
    }
    return Fail(kExitUsage, "unknown command '" + cmd + "'; run `weir --help`");
  } catch (const po::error& e) {
    return Fail(kExitUsage, std::string(e.what()) + " (see `weir --help`)");
  } catch (const std::exception& e) {
    return Fail(kExitRunFailed, std::string("internal error: ") + e.what());
  }
}
