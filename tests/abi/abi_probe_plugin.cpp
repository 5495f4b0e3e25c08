// tests/abi/abi_probe_plugin.cpp — a source+destination plugin whose behaviour abi_test steers.
//
// Built by weir_add_plugin() into <build>/test-plugins/abi/ (never scanned by the host) and
// dlopen'ed by abi_test to exercise the WEIR_PLUGIN trampolines across a real module boundary.
// Every call on the classes logs "<op> called" through the host services, so the test can
// prove a call did NOT reach the class. Behaviour is chosen by the config text (for Open and
// Check) and by the stream name (for Read and Write):
//   config "throw" / "nonstd": Open throws a std::exception / an int
//   config "bad":              Open returns InvalidConfig
//   config "failcheck":        Check returns a retryable error with SQLSTATE and vendor code
//   stream "throw" / "nonstd": Read/Write throw a std::exception / an int
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "weir/plugin.hpp"

namespace {

class ProbeSource : public weir::Source {
 public:
  explicit ProbeSource(weir::Host host) : host_(host) {}
  ~ProbeSource() override { host_.Info("source closed"); }

  static weir::Result<std::unique_ptr<ProbeSource>> Open(std::string_view config, weir::Host host) {
    host.Info("source open called");
    if (config == "throw") throw std::runtime_error("open exploded");
    if (config == "nonstd") throw 42;
    if (config == "bad") return weir::Status::InvalidConfig("config: field 'x' is bad");
    return std::make_unique<ProbeSource>(host);
  }

  weir::Status Check() override {
    host_.Info("source check called");
    return weir::Status::OK();
  }

  weir::Status Read(const weir::ReadRequest& request, weir::BatchBuilder& out) override {
    host_.Info("read called");
    if (request.stream == "throw") throw std::runtime_error("boom in Read");
    out.Add(R"({"event":"a"})", 1000, 1);
    out.Add(R"({"event":"b"})", 2000, 2);
    out.set_high_watermark(std::string("wm\0end", 6));
    return weir::Status::OK();
  }

 private:
  weir::Host host_;
};

class ProbeDestination : public weir::Destination {
 public:
  ProbeDestination(std::string config, weir::Host host) : config_(std::move(config)), host_(host) {}
  ~ProbeDestination() override { host_.Info("destination closed"); }

  static weir::Result<std::unique_ptr<ProbeDestination>> Open(std::string_view config,
                                                              weir::Host host) {
    host.Info("destination open called");
    if (config == "throw") throw std::runtime_error("open exploded");
    if (config == "nonstd") throw 42;
    if (config == "bad") return weir::Status::InvalidConfig("config: field 'x' is bad");
    return std::make_unique<ProbeDestination>(std::string(config), host);
  }

  weir::Status Check() override {
    host_.Info("destination check called");
    if (config_ == "failcheck") {
      return weir::Status::Retryable("check: probe upload failed")
          .WithSqlState("08001")
          .WithVendorCode(503);
    }
    return weir::Status::OK();
  }

  weir::Status Write(const weir::WriteRequest& request) override {
    host_.Info("write called");
    if (request.stream == "throw") throw std::runtime_error("boom in Write");
    if (request.stream == "nonstd") throw 42;
    host_.Info("wrote " + std::to_string(request.batch.count()) + " records under " +
               std::string(request.idempotency_key));
    return weir::Status::OK();
  }

  weir::Status Flush() override {
    host_.Info("flush called");
    return weir::Status::OK();
  }

 private:
  std::string config_;
  weir::Host host_;
};

constexpr const char kSchema[] = R"({"type":"object"})";

}  // namespace

// Not exported: hidden visibility and the version script keep it out of the dynamic symbol
// table, which abi_test checks with dlsym.
extern "C" int weir_abi_probe_hidden_marker() { return 1; }

WEIR_PLUGIN((weir::PluginInfo{"abi-probe", "0.0.1", "ABI trampoline probe", {"events", "throw",
                                                                              "nonstd"},
                              kSchema}),
            ProbeSource, ProbeDestination)
