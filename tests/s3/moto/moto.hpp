// tests/s3/moto/moto.hpp — a moto_server on 127.0.0.1 with SigV4 verification ON, for S3
// tests. moto checks no signature by default; started with INITIAL_NO_AUTH_ACTION_COUNT=3
// it serves exactly three unauthenticated requests — CreateUser, CreateAccessKey and an
// allow-all PutUserPolicy through its IAM API — and verifies every later request, answering
// 403 SignatureDoesNotMatch to a bad signature. So nothing may talk to it before Start() made
// the user (the readiness poll is a bare TCP connect, which moto does not count).
//
//   class MyTest : public weir::s3test::MotoTest {};       // skips/fails when moto is missing
//   TEST_F(MyTest, Put) {
//     weir::s3::S3Config c = Config(NewBucket());            // path style, the IAM user's keys
//     auto store = weir::s3::MakeS3ObjectStore(c, {});
//   }
//
// moto's verifier mis-canonicalizes some requests (see SetSignatureVerification): with it on,
// use keys of [A-Za-z0-9 -._~/] and List prefixes without '/' (or List("") and filter).
#ifndef WEIR_TESTS_S3_MOTO_MOTO_HPP
#define WEIR_TESTS_S3_MOTO_MOTO_HPP

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "object_store.hpp"
#include "subprocess.hpp"

namespace weir::s3test {

class MotoServer {
 public:
  /// Starts moto_server on a free loopback port and creates an IAM user with keys.
  /// `*missing` is set (and nullptr returned) when moto_server is not on PATH; other
  /// failures return nullptr with `*error` set (they should fail the test, CI or not).
  static std::unique_ptr<MotoServer> Start(std::string* missing, std::string* error);
  ~MotoServer();  ///< stops the server

  int port() const { return port_; }
  /// "http://127.0.0.1:<port>" (path-style addressing).
  std::string endpoint() const;
  /// "http://localhost:<port>": bucket.localhost resolves to loopback, so virtual-hosted
  /// addressing reaches moto, which then reads the bucket from the Host header.
  std::string virtual_endpoint() const;
  /// The IAM user's keys (signed requests with them are accepted).
  const weir::s3::Credentials& credentials() const { return credentials_; }
  /// Where moto's output goes (for failure messages).
  const std::string& log_path() const { return log_path_; }

  /// An S3Config for `bucket` at this server (path style, fast retries for tests).
  weir::s3::S3Config Config(const std::string& bucket) const;
  /// Creates `bucket` with a signed request.
  weir::Status CreateBucket(const std::string& bucket) const;
  /// Turns moto's SigV4 verification off or back on (POST /moto-api/reset-auth). Only for
  /// what moto cannot verify: moto 5.2 canonicalizes the URI path and query from its own
  /// decoded, partly re-quoted view of the request (werkzeug's IRI), not from the bytes the
  /// client signed, so a correctly signed request whose key contains ':', '+', '=', '%', '!',
  /// non-ASCII, or whose query value contains '/' gets 403 SignatureDoesNotMatch — from
  /// botocore (the aws CLI) exactly as from weir. Spaces and '~' verify fine.
  weir::Status SetSignatureVerification(bool on) const;

 private:
  MotoServer() = default;
  int port_ = 0;
  std::string log_path_;
  std::unique_ptr<Subprocess> process_;
  weir::s3::Credentials credentials_;
};

/// Skips (or, when CI=true, fails) the current test because `what` is missing.
#define WEIR_S3TEST_MISSING(what)                                            \
  do {                                                                       \
    if (::weir::s3test::RunningInCi()) {                                     \
      FAIL() << (what) << " (CI=true: required services must be installed)"; \
    }                                                                        \
    GTEST_SKIP() << (what);                                                  \
  } while (0)

/// A fixture with a fresh moto per test (ctest runs each test in its own process anyway).
class MotoTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override { moto_.reset(); }

  /// A new bucket with a unique name, created on the server.
  std::string NewBucket();
  weir::s3::S3Config Config(const std::string& bucket) const { return moto_->Config(bucket); }

  std::unique_ptr<MotoServer> moto_;
  int bucket_counter_ = 0;
};

}  // namespace weir::s3test

#endif  // WEIR_TESTS_S3_MOTO_MOTO_HPP
