// host/serve/services.cpp — supervised service children and their metrics files.
#include "serve/services.hpp"

#include <signal.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace weir::host::serve {

namespace {
constexpr int64_t kInitialBackoffMs = 1000;
constexpr int64_t kMaxBackoffMs = 60000;
/// A service that stayed up this long starts again from the initial backoff when it dies.
constexpr int64_t kStableMs = 60000;

bool ValidPluginName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}
}  // namespace

Result<ServiceSpec> ParseServiceArg(const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size()) {
    return Status::InvalidConfig("--service: expected PLUGIN=@CONFIG.json (or PLUGIN=JSON), got '" +
                                 arg.substr(0, 80) + "'");
  }
  ServiceSpec spec{arg.substr(0, eq), arg.substr(eq + 1)};
  if (!ValidPluginName(spec.plugin)) {
    return Status::InvalidConfig("--service: '" + spec.plugin.substr(0, 80) +
                                 "' is not a plugin name");
  }
  return spec;
}

Result<std::map<std::string, double>> ParseMetricsJson(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(text).get(doc); err) {
    return Status::Error(std::string("metrics file: malformed JSON (") +
                         simdjson::error_message(err) + ")");
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return Status::Error("metrics file: expected a JSON object");
  }
  std::map<std::string, double> out;
  for (auto field : obj) {
    double v = 0;
    if (field.value.get_double().get(v) == simdjson::SUCCESS) {
      out[std::string(field.key)] = v;
    } else if (int64_t i = 0; field.value.get_int64().get(i) == simdjson::SUCCESS) {
      out[std::string(field.key)] = static_cast<double>(i);
    } else if (uint64_t u = 0; field.value.get_uint64().get(u) == simdjson::SUCCESS) {
      out[std::string(field.key)] = static_cast<double>(u);
    }
  }
  return out;
}

ServiceSupervisor::ServiceSupervisor(std::filesystem::path exe, std::vector<std::string> child_args,
                                     std::filesystem::path logs_dir,
                                     std::filesystem::path state_dir, SchedulerLogFn log)
    : exe_(std::move(exe)),
      child_args_(std::move(child_args)),
      logs_dir_(std::move(logs_dir)),
      state_dir_(std::move(state_dir)),
      log_(std::move(log)) {}

ServiceSupervisor::~ServiceSupervisor() { StopAll(10000); }

void ServiceSupervisor::Add(const ServiceSpec& spec) {
  Service s;
  s.spec = spec;
  const std::string tag = std::to_string(services_.size() + 1) + "-" + spec.plugin;
  s.metrics_file = state_dir_ / ("service-" + tag + ".metrics.json");
  s.log_file = logs_dir_ / ("service-" + tag + ".log");
  services_.push_back(std::move(s));
}

void ServiceSupervisor::Tick(int64_t now_ms) {
  if (stopping_) return;
  for (auto& s : services_) {
    if (s.pid > 0 || now_ms < s.restart_at_ms) continue;
    std::error_code ec;
    std::filesystem::remove(s.metrics_file, ec);  // a dead child's counters are not "up"
    std::vector<std::string> argv{exe_.string()};
    argv.insert(argv.end(), child_args_.begin(), child_args_.end());
    for (const char* a : {"service", "run"}) argv.emplace_back(a);
    argv.push_back(s.spec.plugin);
    argv.push_back("--config");
    argv.push_back(s.spec.config);
    argv.push_back("--metrics-file");
    argv.push_back(s.metrics_file.string());
    auto pid = SpawnChild(argv, s.log_file);
    if (!pid.ok()) {
      s.backoff_ms = std::min(kMaxBackoffMs, std::max(kInitialBackoffMs, s.backoff_ms * 2));
      s.restart_at_ms = now_ms + s.backoff_ms;
      if (log_) log_(3, "service '" + s.spec.plugin + "': cannot start: " + pid.status().message());
      continue;
    }
    if (s.started_once) ++s.restarts;
    s.started_once = true;
    s.pid = *pid;
    s.started_at_ms = now_ms;
    if (log_) {
      log_(1, "service '" + s.spec.plugin + "' started, pid " + std::to_string(*pid) + ", log " +
                  s.log_file.string());
    }
  }
}

bool ServiceSupervisor::OnExit(pid_t pid, const ChildExit& exit, int64_t now_ms) {
  for (auto& s : services_) {
    if (s.pid != pid) continue;
    s.pid = 0;
    if (stopping_) {
      if (log_) log_(1, "service '" + s.spec.plugin + "' stopped (" + exit.Describe() + ")");
      return true;
    }
    if (now_ms - s.started_at_ms >= kStableMs) s.backoff_ms = 0;
    s.backoff_ms = std::min(kMaxBackoffMs, std::max(kInitialBackoffMs, s.backoff_ms * 2));
    s.restart_at_ms = now_ms + s.backoff_ms;
    if (log_) {
      log_(3, "service '" + s.spec.plugin + "' (pid " + std::to_string(pid) + ") " +
                  exit.Describe() + "; restarting in " + std::to_string(s.backoff_ms / 1000) +
                  " s (its log: " + s.log_file.string() + ")");
    }
    return true;
  }
  return false;
}

void ServiceSupervisor::StopAll(int64_t timeout_ms) {
  stopping_ = true;
  for (auto& s : services_) {
    if (s.pid > 0) ::kill(s.pid, SIGTERM);
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (auto& s : services_) {
    while (s.pid > 0) {
      if (auto exit = TryReap(s.pid)) {
        if (log_) log_(1, "service '" + s.spec.plugin + "' stopped (" + exit->Describe() + ")");
        s.pid = 0;
        break;
      }
      if (std::chrono::steady_clock::now() >= until) {
        if (log_) log_(2, "service '" + s.spec.plugin + "' did not stop in time: SIGKILL");
        ::kill(s.pid, SIGKILL);
        ::waitpid(s.pid, nullptr, 0);
        s.pid = 0;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

std::map<std::string, double> ServiceSupervisor::Metrics() const {
  std::map<std::string, double> out;
  for (const auto& s : services_) {
    out["service." + s.spec.plugin + ".up"] += s.pid > 0 ? 1 : 0;
    out["service." + s.spec.plugin + ".restarts"] += s.restarts;
    if (s.pid <= 0) continue;
    std::ifstream in(s.metrics_file, std::ios::binary);
    if (!in) continue;  // not written yet
    std::stringstream ss;
    ss << in.rdbuf();
    auto m = ParseMetricsJson(ss.str());
    if (!m.ok()) continue;  // written by rename, so a torn file should not happen; skip it
    for (const auto& [k, v] : *m) out[k] += v;
  }
  return out;
}

}  // namespace weir::host::serve
