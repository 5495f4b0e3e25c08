// sdk/include/weir/testkit.hpp — the weir plugin conformance kit.
//
// Runs the v1 contract checks against any plugin .so: ABI negotiation (including refusing a
// minor range it cannot serve), the descriptor, the config schema, error filling and release,
// garbage-config rejection, reading (consistent batches, limits, determinism, replay of
// (from_wm, to_wm]), writing (replay of an idempotency key), and cancellation. Every check runs
// in a forked child process, so a plugin that crashes or hangs fails that one check ("crashed
// with SIGSEGV", "timed out after 30000 ms") instead of taking the checker down. The kit loads
// the plugin itself (dlopen, RTLD_NOW | RTLD_LOCAL) and needs nothing of the weir host.
//
// Link weir::testkit (and weir::testkit_gtest for GoogleTest registration, see
// weir/testkit_gtest.hpp). Usage:
//
//   weir::testkit::Options options;
//   options.destination_config = R"({"dir": "/tmp/out"})";
//   auto results = weir::testkit::RunConformance("build/plugins/libweir-my-dest.so", options);
//   std::cout << weir::testkit::FormatResults(results);   // ... "14 passed, 0 failed, 6 skipped"
//
// The checks and what each asserts are listed in sdk/testkit/README.md.
#ifndef WEIR_TESTKIT_HPP
#define WEIR_TESTKIT_HPP

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "weir/plugin.h"

namespace weir::testkit {

/// The verdict of one check.
enum class Outcome { kPass, kFail, kSkip };

/// One check's result. `name` is a stable snake_case identifier (usable as a test name);
/// `detail` says what failed, why the check was skipped, or (for some passes) a note.
struct CheckResult {
  std::string name;
  Outcome outcome;
  std::string detail;
};

/// What the kit needs to know about the plugin under test.
struct Options {
  /// Valid config JSON for the source side (secrets already resolved). Empty: the checks that
  /// need an open source are skipped. The source should have at least two records in `stream`
  /// for the read checks to assert anything (with none they skip).
  std::string source_config;
  /// Valid config JSON for the destination side. Empty: checks that need it are skipped. The
  /// destination checks really write (3 synthetic records per check, under fresh keys).
  std::string destination_config;
  /// Stream to read and write; empty means the first stream the descriptor declares.
  std::string stream;
  /// Per-check limit in milliseconds; a check still running then is killed and fails.
  int timeout_ms = 30000;
};

/// Names of all checks, in the order RunConformance() runs them. Stable across releases
/// (checks are only added).
std::vector<std::string> CheckNames();

/// Runs one check by name in a forked child. An unknown name yields a kFail result saying so.
CheckResult RunCheck(const std::string& so_path, const Options& options,
                     const std::string& check_name);

/// Runs every check against the plugin at `so_path` (a path; a bare file name is taken relative
/// to the current directory, not searched for). Never throws for a misbehaving plugin; the
/// calling process never loads the plugin itself.
std::vector<CheckResult> RunConformance(const std::string& so_path, const Options& options);

/// One line per result ("PASS name", "FAIL name: detail", "SKIP name: reason") and a closing
/// line "N passed, N failed, N skipped".
std::string FormatResults(const std::vector<CheckResult>& results);

/// True when no result is kFail.
bool AllPassed(const std::vector<CheckResult>& results);

// ---------------------------------------------------------------------------------------------
// Building blocks, also useful for a plugin's own unit tests.

/// An in-memory weir_host_services table: log lines go into a buffer, metrics are summed per
/// name (gauges keep the last value), is_cancelled() returns a flag the test sets, and
/// get_secret() reads environment variables. Thread-safe, as the ABI requires. Not copyable
/// or movable: the services table points back at this object. Must outlive every instance
/// opened with it.
class FakeHost {
 public:
  FakeHost();
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  /// The table to pass to open().
  const weir_host_services* services() const { return &services_; }
  /// Makes is_cancelled() return `cancelled` from now on.
  void SetCancelled(bool cancelled) { cancelled_.store(cancelled); }
  /// Every line logged so far, each as "LEVEL message\n".
  std::string Logs() const;
  /// The summed value of counter `name` (or a gauge's last value); 0 when never recorded.
  double Metric(const std::string& name) const;

 private:
  static void Log(void* host_data, int32_t level, const char* message, size_t len);
  static void Metric(void* host_data, const char* name, int32_t kind, double value);
  static int32_t IsCancelled(void* host_data);
  static weir_status GetSecret(void* host_data, const char* name, const char** out_value,
                               size_t* out_len);

  weir_host_services services_{};
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  std::string logs_;
  std::map<std::string, double> metrics_;
  std::map<std::string, std::unique_ptr<std::string>> secrets_;
};

/// A plugin .so loaded with RTLD_NOW | RTLD_LOCAL and negotiated. Never unloaded (a plugin may
/// have started threads; the ABI says the host never unloads while anything can call in), so
/// the descriptor stays valid for the rest of the process.
class PluginLibrary {
 public:
  /// Loads `so_path` and calls its entry with the host range [minor_min, minor_max]. On failure
  /// returns nullptr and sets `*error` (dlopen/dlsym message, or the plugin's refusal).
  static std::unique_ptr<PluginLibrary> Load(const std::string& so_path, std::string* error,
                                             uint32_t minor_min = 0,
                                             uint32_t minor_max = WEIR_ABI_MINOR);

  /// The negotiated descriptor.
  const weir_plugin& descriptor() const { return descriptor_; }
  /// The entry function, for calling it again (e.g. with another range).
  weir_plugin_entry_fn entry() const { return entry_; }

 private:
  PluginLibrary() = default;
  weir_plugin_entry_fn entry_ = nullptr;
  weir_plugin descriptor_{};
};

}  // namespace weir::testkit

#endif  // WEIR_TESTKIT_HPP
