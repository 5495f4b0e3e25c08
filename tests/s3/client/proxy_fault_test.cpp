// tests/s3/client/proxy_fault_test.cpp — the S3 client through a fault-injecting loopback
// proxy in front of moto: 503 SlowDown, 500, dropped connections and cut-short answers are
// retried and counted exactly; a part that keeps failing aborts its multipart upload; a
// cancelled run stops retrying; connections are reused.
#include <gtest/gtest.h>

#include <atomic>

#include "fault_proxy.hpp"
#include "moto.hpp"
#include "object_store.hpp"
#include "s3_client.hpp"

namespace weir::s3 {
namespace {

using S3ClientMotoProxy = weir::s3test::MotoTest;
using weir::s3test::Fault;
using weir::s3test::FaultProxy;
using weir::s3test::ProxiedRequest;

std::string Bytes(size_t n, char seed) {
  std::string out(n, seed);
  for (size_t i = 0; i < n; i += 997) out[i] = static_cast<char>(seed + static_cast<char>(i % 7));
  return out;
}

struct Counted {
  std::atomic<int> retries{0};
  std::atomic<bool> cancel{false};
  Hooks hooks() {
    Hooks h;
    h.counter = [this](const char* name, double v) {
      if (std::string(name) == "s3.retries") retries += static_cast<int>(v);
    };
    h.cancelled = [this] { return cancel.load(); };
    return h;
  }
};

bool IsCompleteOrCreate(const ProxiedRequest& r) { return r.method == "POST"; }

TEST_F(S3ClientMotoProxy, InjectedFaultsAreRetriedCountedAndNothingIsLost) {
  const std::string bucket = NewBucket();
  std::atomic<bool> truncated_get{false};
  FaultProxy proxy(moto_->port(), [&](const ProxiedRequest& r) {
    // Multipart POSTs stay clean here (a lost Complete answer has its own test below).
    if (IsCompleteOrCreate(r)) return Fault::kNone;
    if (r.method == "GET" && !truncated_get.exchange(true)) return Fault::kTruncate;
    switch (r.number) {
      case 1:
        return Fault::kSlowDown;
      case 3:
        return Fault::kInternalError;
      case 5:
        return Fault::kDrop;
      case 7:
        return Fault::kSlowDown;
      case 8:
        return Fault::kDrop;
      default:
        return Fault::kNone;
    }
  });
  S3Config c = Config(bucket);
  c.endpoint = proxy.endpoint();
  c.part_size = 5ull << 20;
  c.multipart_threshold = 5ull << 20;
  Counted counted;
  auto store = MakeS3ObjectStore(c, counted.hooks());
  ASSERT_TRUE(store.ok());

  const std::string small = Bytes(50000, 'a');
  const std::string big = Bytes(11ull << 20, 'b');  // 3 parts
  ASSERT_TRUE((*store)->Put("f/small.json", small, {}).ok());
  Status s = (*store)->Put("f/big.json", big, {});
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE((*store)->Put("f/small2.json", small + "2", {}).ok());
  auto got = (*store)->Get("f/small.json");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_TRUE(**got == small);

  EXPECT_GE(proxy.faults(), 5);
  EXPECT_EQ(counted.retries.load(), proxy.faults());

  // Straight to moto, no proxy: exactly the three objects, with the right bytes.
  auto direct = MakeS3ObjectStore(Config(bucket), {});
  auto keys = (*direct)->List("f");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, (std::vector<std::string>{"f/big.json", "f/small.json", "f/small2.json"}));
  auto big_back = (*direct)->Get("f/big.json");
  ASSERT_TRUE(big_back.ok() && big_back->has_value());
  EXPECT_TRUE(**big_back == big);
  auto client = S3Client::Make(Config(bucket), {});
  auto pending = (*client)->ListMultipartUploads("");
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
}

TEST_F(S3ClientMotoProxy, PartFailingBeyondRetriesAbortsTheUpload) {
  const std::string bucket = NewBucket();
  FaultProxy proxy(moto_->port(), [](const ProxiedRequest& r) {
    return r.method == "PUT" && r.target.find("partNumber=2&") != std::string::npos
               ? Fault::kInternalError
               : Fault::kNone;
  });
  S3Config c = Config(bucket);
  c.endpoint = proxy.endpoint();
  c.part_size = 5ull << 20;
  c.multipart_threshold = 5ull << 20;
  c.retry.max_attempts = 3;
  Counted counted;
  auto store = MakeS3ObjectStore(c, counted.hooks());
  Status s = (*store)->Put("abort/big.json", Bytes(12ull << 20, 'c'), {});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.retryable()) << s.ToString();
  EXPECT_NE(s.message().find("UploadPart 2/3"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("aborted"), std::string::npos) << s.message();
  EXPECT_EQ(proxy.faults(), 3);
  EXPECT_EQ(counted.retries.load(), 2);
  bool abort_seen = false;
  for (const auto& r : proxy.log()) {
    abort_seen =
        abort_seen || (r.method == "DELETE" && r.target.find("uploadId=") != std::string::npos);
  }
  EXPECT_TRUE(abort_seen);

  auto client = S3Client::Make(Config(bucket), {});
  auto pending = (*client)->ListMultipartUploads("");
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_TRUE(pending->empty()) << pending->size() << " multipart uploads left behind";
  auto got = (*client)->GetObject("abort/big.json");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST_F(S3ClientMotoProxy, LostCompleteAnswerIsRecognizedAsDone) {
  const std::string bucket = NewBucket();
  std::atomic<bool> cut{false};
  FaultProxy proxy(moto_->port(), [&](const ProxiedRequest& r) {
    // moto completes the upload, the client never hears; moto answers the retried Complete
    // 200 (idempotent); the 404 NoSuchUpload variant is in client_unit_test.cpp.
    bool complete = r.method == "POST" && r.target.find("uploadId=") != std::string::npos;
    return complete && !cut.exchange(true) ? Fault::kTruncate : Fault::kNone;
  });
  S3Config c = Config(bucket);
  c.endpoint = proxy.endpoint();
  c.part_size = 5ull << 20;
  c.multipart_threshold = 5ull << 20;
  Counted counted;
  auto store = MakeS3ObjectStore(c, counted.hooks());
  const std::string big = Bytes(7ull << 20, 'd');
  Status s = (*store)->Put("lost/big.json", big, {});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(counted.retries.load(), 1);
  auto got = (*store)->Get("lost/big.json");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_TRUE(**got == big);
}

TEST_F(S3ClientMotoProxy, CancellationStopsRetriesPromptly) {
  FaultProxy proxy(moto_->port(), [](const ProxiedRequest&) { return Fault::kSlowDown; });
  S3Config c = Config(NewBucket());
  c.endpoint = proxy.endpoint();
  c.retry = {1000, 1000, 60000};  // without cancellation this would retry for many minutes
  Counted counted;
  Hooks hooks = counted.hooks();
  hooks.cancelled = [&] { return proxy.requests() >= 2; };
  auto store = MakeS3ObjectStore(c, hooks);
  Status s = (*store)->Put("cancel/k", "v", {});
  EXPECT_EQ(s.code(), WEIR_CANCELLED) << s.ToString();
  EXPECT_EQ(proxy.requests(), 2);
  EXPECT_EQ(counted.retries.load(), 1);
}

TEST_F(S3ClientMotoProxy, CancelledMultipartIsAbortedAnyway) {
  const std::string bucket = NewBucket();
  std::atomic<bool> cancel{false};
  FaultProxy proxy(moto_->port(), [&](const ProxiedRequest& r) {
    if (r.target.find("partNumber=1&") != std::string::npos) cancel = true;
    return Fault::kNone;
  });
  S3Config c = Config(bucket);
  c.endpoint = proxy.endpoint();
  c.part_size = 5ull << 20;
  c.multipart_threshold = 5ull << 20;
  c.parallel_parts = 1;
  Hooks hooks;
  hooks.cancelled = [&] { return cancel.load(); };
  auto store = MakeS3ObjectStore(c, hooks);
  Status s = (*store)->Put("cancel/big.json", Bytes(16ull << 20, 'e'), {});
  EXPECT_EQ(s.code(), WEIR_CANCELLED) << s.ToString();
  auto client = S3Client::Make(Config(bucket), {});
  auto pending = (*client)->ListMultipartUploads("");
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
}

TEST_F(S3ClientMotoProxy, ConnectionsAreReused) {
  FaultProxy proxy(moto_->port(), nullptr, /*keep_alive=*/true);
  S3Config c = Config(NewBucket());
  c.endpoint = proxy.endpoint();
  auto store = MakeS3ObjectStore(c, {});
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*store)->Put("reuse/" + std::to_string(i), "v", {}).ok());
  }
  auto keys = (*store)->List("reuse");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 10u);
  EXPECT_EQ(proxy.requests(), 11);
  EXPECT_EQ(proxy.connections(), 1);
}

// No moto needed: a loopback listener that never speaks TLS is enough to see that an https
// endpoint gets the configured CA bundle and that a TLS setup failure is fatal with a hint.
TEST(S3ClientTls, CaBundleIsUsedForHttpsAndItsFailureIsFatalWithAHint) {
  FaultProxy listener(1, nullptr);
  S3Config c;
  c.bucket = "bkt";
  c.endpoint = "https://127.0.0.1:" + std::to_string(listener.port());
  c.path_style = true;
  c.credentials = {"AKIDTEST", "secret", ""};
  c.ca_bundle = "/nonexistent/weir-ca.pem";
  c.retry = {3, 1, 2};
  Counted counted;
  auto store = MakeS3ObjectStore(c, counted.hooks());
  ASSERT_TRUE(store.ok());
  Status s = (*store)->Put("k", "v", {});
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(s.retryable()) << s.ToString();
  EXPECT_NE(s.message().find("ca_bundle"), std::string::npos) << s.message();
  // The hint names the s3 destination's config key, tls_verify (not the client's verify_tls).
  EXPECT_NE(s.message().find("tls_verify"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("verify_tls"), std::string::npos) << s.message();
  EXPECT_EQ(counted.retries.load(), 0);
}

}  // namespace
}  // namespace weir::s3
