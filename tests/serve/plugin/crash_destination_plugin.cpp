// tests/serve/plugin/crash_destination_plugin.cpp — the `crash-destination` test plugin: a
// destination that dereferences a null pointer in Write() when its config says so.
//
// Built as build/test-plugins/serve/libweir-crash-destination.so for tests/serve: a pipeline
// using it with {"segfault_on_write": true} kills its `weir run` child with SIGSEGV, and the
// serve test checks that only that pipeline's runs fail (with the signal named) while the
// daemon and the other pipelines go on. Config:
//
//   {"dir": "/tmp/out", "segfault_on_write": false}
//
// Without the knob it writes each batch to <dir>/<idempotency key>.ndjson (temp file + fsync +
// rename), so the plugin is also a working destination.
#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <string>

#include "weir/config_json.hpp"
#include "weir/files.hpp"
#include "weir/plugin.hpp"

namespace weir::servetest {
namespace {

constexpr const char* kSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "crash-destination",
  "type": "object",
  "additionalProperties": false,
  "required": ["dir"],
  "properties": {
    "dir": {"type": "string", "minLength": 1, "description": "Output directory."},
    "segfault_on_write": {"type": "boolean", "default": false,
                          "description": "Dereference a null pointer in Write(); for tests."}
  }
})json";

class CrashDestination final : public Destination {
 public:
  static Result<std::unique_ptr<CrashDestination>> Open(std::string_view config, Host host) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    WEIR_RETURN_NOT_OK(ParseConfigObject(parser, config, {"dir", "segfault_on_write"}, &obj));
    auto d = std::unique_ptr<CrashDestination>(new CrashDestination(host));
    WEIR_ASSIGN_OR_RETURN(d->dir_, RequiredString(obj, "config.", "dir"));
    WEIR_ASSIGN_OR_RETURN(d->segfault_, OptionalBool(obj, "config.", "segfault_on_write", false));
    return d;
  }

  Status Check() override {
    if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::Error("crash-destination: cannot create '" + dir_ +
                           "': " + std::strerror(errno));
    }
    return Status::OK();
  }

  // Under ASan the sanitizer's own SIGSEGV handler would report the fault and exit with code
  // 1, and UBSan's null check would report the store before it faults: the default action and
  // no UBSan here let the kernel kill the child as a real crash does.
  __attribute__((no_sanitize("undefined"))) static void Segfault() {
    std::signal(SIGSEGV, SIG_DFL);
    // Both the pointer and the pointee volatile, so the store is not dropped as dead.
    volatile int* volatile nowhere = nullptr;
    *nowhere = 42;
  }

  Status Write(const WriteRequest& request) override {
    if (segfault_) {
      Segfault();
    }
    WEIR_RETURN_NOT_OK(Check());
    const std::string path = dir_ + "/" + weir::KeyFileName(request.idempotency_key) + ".ndjson";
    const std::string tmp = path + ".tmp";
    weir::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) return Status::Error("crash-destination: cannot create " + tmp, true);
    std::string_view data = request.batch.data();
    while (!data.empty()) {
      const ssize_t n = ::write(fd.get(), data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Error("crash-destination: cannot write " + tmp, true);
      data.remove_prefix(static_cast<size_t>(n));
    }
    if (::fsync(fd.get()) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
      return Status::Error("crash-destination: cannot store " + path, true);
    }
    host_.Counter("crash_destination.records", static_cast<double>(request.batch.count()));
    return Status::OK();
  }

  Status Flush() override { return Status::OK(); }

 private:
  explicit CrashDestination(Host host) : host_(host) {}
  Host host_;
  std::string dir_;
  bool segfault_ = false;
};

}  // namespace
}  // namespace weir::servetest

WEIR_PLUGIN((weir::PluginInfo{"crash-destination",
                              "1.0.0",
                              "Test destination that segfaults on write when configured to",
                              {"events", "users", "identities"},
                              weir::servetest::kSchema}),
            weir::NoSource, weir::servetest::CrashDestination)
