// tests/testkit/bad_garbage_plugin.cpp — a destination that accepts any config (non-conformant).
//
// Everything else about it is correct (it uses the C++ wrapper and keeps written batches in
// memory), so the conformance kit must flag exactly the garbage-config checks and nothing else.
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "weir/plugin.hpp"

namespace weir::testkit_test {
namespace {

class AcceptsAnythingDestination final : public Destination {
 public:
  static Result<std::unique_ptr<AcceptsAnythingDestination>> Open(std::string_view /*config*/,
                                                                  Host /*host*/) {
    // The bug under test: no validation at all.
    return std::make_unique<AcceptsAnythingDestination>();
  }
  Status Check() override { return Status::OK(); }
  Status Write(const WriteRequest& request) override {
    keys_.insert(std::string(request.idempotency_key));
    return Status::OK();
  }
  Status Flush() override { return Status::OK(); }

 private:
  std::set<std::string> keys_;
};

}  // namespace
}  // namespace weir::testkit_test

WEIR_PLUGIN((weir::PluginInfo{"testkit-bad-garbage",
                              "0.0.1",
                              "Test plugin: a destination that accepts any config",
                              {"events"},
                              R"({"type": "object"})"}),
            weir::NoSource, weir::testkit_test::AcceptsAnythingDestination)
