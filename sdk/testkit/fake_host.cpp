// sdk/testkit/fake_host.cpp — FakeHost: an in-memory host-services table for plugin tests.
#include <cstdlib>
#include <string>

#include "weir/testkit.hpp"

namespace weir::testkit {
namespace {

const char* LevelName(int32_t level) {
  switch (level) {
    case WEIR_LOG_TRACE:
      return "TRACE";
    case WEIR_LOG_DEBUG:
      return "DEBUG";
    case WEIR_LOG_INFO:
      return "INFO";
    case WEIR_LOG_WARN:
      return "WARN";
    case WEIR_LOG_ERROR:
      return "ERROR";
    default:
      return "LEVEL?";
  }
}

}  // namespace

FakeHost::FakeHost() {
  services_.struct_size = sizeof(weir_host_services);
  services_.host_data = this;
  services_.log = &FakeHost::Log;
  services_.metric = &FakeHost::Metric;
  services_.is_cancelled = &FakeHost::IsCancelled;
  services_.get_secret = &FakeHost::GetSecret;
}

std::string FakeHost::Logs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return logs_;
}

double FakeHost::Metric(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = metrics_.find(name);
  return it == metrics_.end() ? 0.0 : it->second;
}

void FakeHost::Log(void* host_data, int32_t level, const char* message, size_t len) {
  auto* self = static_cast<FakeHost*>(host_data);
  std::lock_guard<std::mutex> lock(self->mu_);
  self->logs_ += LevelName(level);
  self->logs_ += ' ';
  if (message != nullptr) self->logs_.append(message, len);
  self->logs_ += '\n';
}

void FakeHost::Metric(void* host_data, const char* name, int32_t kind, double value) {
  auto* self = static_cast<FakeHost*>(host_data);
  if (name == nullptr) return;
  std::lock_guard<std::mutex> lock(self->mu_);
  if (kind == WEIR_METRIC_GAUGE) {
    self->metrics_[name] = value;
  } else {
    self->metrics_[name] += value;
  }
}

int32_t FakeHost::IsCancelled(void* host_data) {
  return static_cast<FakeHost*>(host_data)->cancelled_.load() ? 1 : 0;
}

weir_status FakeHost::GetSecret(void* host_data, const char* name, const char** out_value,
                                size_t* out_len) {
  auto* self = static_cast<FakeHost*>(host_data);
  if (name == nullptr || out_value == nullptr || out_len == nullptr) return WEIR_ERROR;
  std::lock_guard<std::mutex> lock(self->mu_);
  auto it = self->secrets_.find(name);
  if (it == self->secrets_.end()) {
    const char* value = std::getenv(name);
    if (value == nullptr) return WEIR_ERROR;
    // Kept for the host's lifetime: the ABI says the buffer stays valid until close().
    it = self->secrets_.emplace(name, std::make_unique<std::string>(value)).first;
  }
  *out_value = it->second->data();
  *out_len = it->second->size();
  return WEIR_OK;
}

}  // namespace weir::testkit
