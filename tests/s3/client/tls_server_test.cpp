// tests/s3/client/tls_server_test.cpp — TLS verification is on by default, for real: the S3
// client talks HTTPS to `openssl s_server` on 127.0.0.1, serving a self-signed certificate
// made for the test.
//   - default (verify on): the request is refused for the certificate, not retried, and the
//     error says how to fix it (ca_bundle / tls_verify);
//   - ca_bundle naming that certificate: verified, the request reaches the server;
//   - verify_tls = false (the s3 destination's "tls_verify": false): reaches the server too.
// s_server -www answers every GET with its status page, which the client gets as the object.
// Needs the openssl command: skipped without it, a failure under CI=true.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "object_store.hpp"
#include "s3_client.hpp"
#include "temp_dir.hpp"
#include "weir_process.hpp"

namespace weir::s3 {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path p = fs::path(dir) / name;
    if (!dir.empty() && ::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return std::nullopt;
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

class S3ClientTlsServer : public ::testing::Test {
 protected:
  void SetUp() override {
    auto openssl = FindOnPath("openssl");
    if (!openssl) {
      if (InCi()) FAIL() << "openssl not found on PATH (apt-get install openssl); CI=true";
      GTEST_SKIP() << "openssl not found on PATH (apt-get install openssl)";
    }
    cert_ = dir_.path() / "cert.pem";
    const fs::path key = dir_.path() / "key.pem";
    weir::test::ProcessResult made = weir::test::WaitProcess(weir::test::StartProcess(
        {*openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key.string(),
         "-out", cert_.string()},
        dir_.path()));
    ASSERT_EQ(made.code, 0) << made.err;
    // Port 0: s_server picks a free one and prints "ACCEPT 127.0.0.1:PORT".
    server_ = weir::test::StartProcess({*openssl, "s_server", "-accept", "127.0.0.1:0", "-cert",
                                        cert_.string(), "-key", key.string(), "-www"},
                                       dir_.path());
    ASSERT_GT(server_.pid, 0) << server_.start_error;
    const std::regex accept_line(R"(ACCEPT 127\.0\.0\.1:(\d+))");
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (port_ == 0 && std::chrono::steady_clock::now() < until) {
      std::smatch m;
      const std::string out = weir::test::ReadWholeFile(server_.out);
      if (std::regex_search(out, m, accept_line)) {
        port_ = std::stoi(m[1].str());
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    ASSERT_GT(port_, 0) << "s_server did not listen: " << weir::test::ReadWholeFile(server_.err);
  }

  void TearDown() override {
    if (server_.pid > 0) {
      weir::test::Signal(server_, SIGKILL);
      weir::test::WaitProcess(server_);
    }
  }

  S3Config Config() const {
    S3Config c;
    c.bucket = "bkt";
    c.endpoint = "https://127.0.0.1:" + std::to_string(port_);
    c.path_style = true;
    c.credentials = {"AKIDTEST", "not-a-real-secret", ""};
    c.retry = {3, 1, 2};
    return c;
  }

  /// GETs a key through `c`: it must succeed and bring s_server's status page, proof that the
  /// bytes came through the TLS connection.
  static void ExpectServerAnswers(const S3Config& c) {
    auto store = MakeS3ObjectStore(c, {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto got = (*store)->Get("some/key");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_TRUE(got->has_value());
    EXPECT_NE((*got)->find("s_server"), std::string::npos) << **got;
  }

  weir::test::TempDir dir_{"weir-s3-tls"};
  fs::path cert_;
  weir::test::Process server_;
  int port_ = 0;
};

TEST_F(S3ClientTlsServer, SelfSignedCertificateIsRefusedByDefaultWithAHint) {
  const S3Config c = Config();
  ASSERT_TRUE(c.verify_tls) << "verification must be on unless turned off";
  auto store = MakeS3ObjectStore(c, {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto got = (*store)->Get("some/key");
  ASSERT_FALSE(got.ok()) << "an untrusted certificate was accepted";
  EXPECT_FALSE(got.status().retryable()) << got.status().ToString();
  const std::string m = got.status().message();
  EXPECT_NE(m.find("certificate"), std::string::npos) << m;
  EXPECT_NE(m.find("ca_bundle"), std::string::npos) << m;
  EXPECT_NE(m.find("tls_verify"), std::string::npos) << m;
}

TEST_F(S3ClientTlsServer, TrustedThroughCaBundleTheRequestIsVerifiedAndReachesTheServer) {
  S3Config c = Config();
  c.ca_bundle = cert_.string();
  ASSERT_TRUE(c.verify_tls);
  ExpectServerAnswers(c);
}

TEST_F(S3ClientTlsServer, VerificationTurnedOffReachesTheServer) {
  S3Config c = Config();
  c.verify_tls = false;
  ExpectServerAnswers(c);
}

}  // namespace
}  // namespace weir::s3
