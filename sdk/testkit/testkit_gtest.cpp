// sdk/testkit/testkit_gtest.cpp — RegisterConformanceTests(): one GoogleTest test per check.
#include "weir/testkit_gtest.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace weir::testkit {
namespace {

class ConformanceTest : public testing::Test {
 public:
  ConformanceTest(std::string so_path, Options options, std::string check)
      : so_path_(std::move(so_path)), options_(std::move(options)), check_(std::move(check)) {}

  void TestBody() override {
    const CheckResult r = RunCheck(so_path_, options_, check_);
    switch (r.outcome) {
      case Outcome::kPass:
        if (!r.detail.empty()) RecordProperty("detail", r.detail);
        break;
      case Outcome::kSkip:
        GTEST_SKIP() << r.detail;
        break;
      case Outcome::kFail:
        ADD_FAILURE() << "conformance check '" << check_ << "' failed for " << so_path_ << ": "
                      << r.detail;
        break;
    }
  }

 private:
  std::string so_path_;
  Options options_;
  std::string check_;
};

}  // namespace

void RegisterConformanceTests(const std::string& suite_name, const std::string& so_path,
                              const Options& options) {
  for (const std::string& check : CheckNames()) {
    // A side without a config is a side the caller does not test (a destination-only plugin has
    // no source): its checks are not registered at all rather than reported as skipped.
    const bool source_side = check.rfind("source_", 0) == 0 || check.rfind("batch_", 0) == 0;
    const bool destination_side = check.rfind("destination_", 0) == 0;
    if ((source_side && options.source_config.empty()) ||
        (destination_side && options.destination_config.empty())) {
      continue;
    }
    testing::RegisterTest(suite_name.c_str(), check.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                          [so_path, options, check]() -> testing::Test* {
                            return new ConformanceTest(so_path, options, check);
                          });
  }
}

}  // namespace weir::testkit
