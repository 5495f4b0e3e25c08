// tests/s3/client/client_unit_test.cpp — the S3 client against a scripted transport: what
// goes on the wire (URL encoding, addressing, signed headers, Content-MD5, payload hash),
// retry classification and counting, backoff bounds, cancellation, fatal-error messages,
// list pagination and multipart sequencing. No network.
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>

#include "s3_client.hpp"
#include "s3_hash.hpp"
#include "s3_retry.hpp"
#include "s3_xml.hpp"

namespace weir::s3 {
namespace {

constexpr char kSecret[] = "sEcReT/never+PRINTED0123456789abcdefghij";

struct Recorded {
  std::string method, url, body;
  NameValues headers;
  std::string Header(const std::string& lower) const {
    for (const auto& [n, v] : headers) {
      std::string l = n;
      for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (l == lower) return v;
    }
    return "";
  }
};

// Answers from a script (in order) or, when the script is empty, from `fallback`.
class FakeTransport final : public HttpTransport {
 public:
  HttpResponse Send(const HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    sent.push_back({request.method, request.url, std::string(request.body), request.headers});
    if (!script.empty()) {
      HttpResponse r = script.front();
      script.pop_front();
      return r;
    }
    return fallback ? fallback(sent.back()) : Status(200);
  }
  static HttpResponse Status(long status, std::string body = "", NameValues headers = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
  }
  static HttpResponse S3Error(long status, const std::string& code) {
    return Status(status, "<?xml version=\"1.0\"?><Error><Code>" + code +
                              "</Code><Message>msg for " + code + "</Message></Error>");
  }
  static HttpResponse Dropped() {
    HttpResponse r;
    r.transport_error = "Server returned nothing (no headers, no data)";
    r.transport_retryable = true;
    return r;
  }

  std::mutex mu_;
  std::deque<HttpResponse> script;
  std::function<HttpResponse(const Recorded&)> fallback;
  std::vector<Recorded> sent;
};

S3Config TestConfig() {
  S3Config c;
  c.bucket = "bkt";
  c.endpoint = "http://127.0.0.1:9";
  c.path_style = true;
  c.credentials = {"AKIDTEST", kSecret, ""};
  c.retry = {5, 1, 4};
  return c;
}

struct Harness {
  explicit Harness(S3Config config = TestConfig(), Hooks extra = {}) {
    auto t = std::make_unique<FakeTransport>();
    transport = t.get();
    Hooks hooks = std::move(extra);
    if (!hooks.counter) {
      hooks.counter = [this](const char* name, double v) {
        if (std::string(name) == "s3.retries") retries += static_cast<int>(v);
      };
    }
    auto made = S3Client::Make(config, hooks, {}, std::move(t));
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    if (made.ok()) client = std::move(made).value();
  }
  FakeTransport* transport = nullptr;
  std::unique_ptr<S3Client> client;
  std::atomic<int> retries{0};
};

TEST(S3ClientRequests, PathStyleEncodesKeyOnceAndSignsWhatItSends) {
  Harness h;
  const std::string key = "dir/a b:c+d=e~f%g \xC3\xA9.json";
  ASSERT_TRUE(h.client->PutObject(key, "hello", {}).ok());
  ASSERT_EQ(h.transport->sent.size(), 1u);
  const Recorded& r = h.transport->sent[0];
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.url, "http://127.0.0.1:9/bkt/dir/a%20b%3Ac%2Bd%3De~f%25g%20%C3%A9.json");
  EXPECT_EQ(r.Header("host"), "127.0.0.1:9");
  EXPECT_EQ(r.Header("x-amz-content-sha256"), Sha256Hex("hello"));
  EXPECT_EQ(r.Header("content-md5"), Base64(Md5("hello")));
  EXPECT_EQ(r.Header("content-type"), "application/x-ndjson");
  const std::string auth = r.Header("authorization");
  EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDTEST/", 0), 0u) << auth;
  EXPECT_NE(auth.find("/us-east-1/s3/aws4_request"), std::string::npos) << auth;
  EXPECT_NE(auth.find("SignedHeaders=content-md5;content-type;host;x-amz-content-sha256;"
                      "x-amz-date"),
            std::string::npos)
      << auth;
  EXPECT_EQ(auth.find(kSecret), std::string::npos);
}

TEST(S3ClientRequests, VirtualHostedPutsBucketInHost) {
  S3Config c = TestConfig();
  c.endpoint = "http://localhost:9000";
  c.path_style = false;
  Harness h(c);
  ASSERT_TRUE(h.client->PutObject("x/y.json", "1", {}).ok());
  EXPECT_EQ(h.transport->sent[0].url, "http://bkt.localhost:9000/x/y.json");
  EXPECT_EQ(h.transport->sent[0].Header("host"), "bkt.localhost:9000");
}

TEST(S3ClientRequests, VirtualHostedRejectsIpEndpointsAndOddBuckets) {
  S3Config c = TestConfig();
  c.path_style = false;
  auto made = S3Client::Make(c, {}, {}, std::make_unique<FakeTransport>());
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), WEIR_INVALID_CONFIG);
  EXPECT_NE(made.status().message().find("IP address"), std::string::npos);
  c.endpoint = "http://localhost:1";
  c.bucket = "Upper_Case";
  made = S3Client::Make(c, {}, {}, std::make_unique<FakeTransport>());
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.status().message().find("Upper_Case"), std::string::npos);
}

TEST(S3ClientRequests, DefaultEndpointIsRegional) {
  S3Config c = TestConfig();
  c.endpoint.clear();
  c.region = "eu-west-1";
  c.path_style = false;
  Harness h(c);
  ASSERT_TRUE(h.client->DeleteObject("k").ok());
  EXPECT_EQ(h.transport->sent[0].url, "https://bkt.s3.eu-west-1.amazonaws.com/k");
  EXPECT_NE(h.transport->sent[0].Header("authorization").find("/eu-west-1/s3/"), std::string::npos);
}

TEST(S3ClientRequests, SessionTokenIsSentAndSigned) {
  S3Config c = TestConfig();
  c.credentials.session_token = "TOKEN123";
  Harness h(c);
  ASSERT_TRUE(h.client->PutObject("k", "v", {}).ok());
  EXPECT_EQ(h.transport->sent[0].Header("x-amz-security-token"), "TOKEN123");
  EXPECT_NE(h.transport->sent[0].Header("authorization").find("x-amz-security-token"),
            std::string::npos);
}

TEST(S3ClientRequests, ConditionalPutSendsIfNoneMatchAndTreats412AsDone) {
  Harness h;
  h.transport->script.push_back(FakeTransport::S3Error(412, "PreconditionFailed"));
  PutOptions o;
  o.if_none_match = true;
  o.content_encoding = "gzip";
  Status s = h.client->PutObject("k", "v", o);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(h.transport->sent[0].Header("if-none-match"), "*");
  EXPECT_EQ(h.transport->sent[0].Header("content-encoding"), "gzip");
  EXPECT_EQ(h.retries.load(), 0);
}

TEST(S3ClientRequests, ParseEndpointNamesTheBadPart) {
  EXPECT_FALSE(ParseEndpoint("127.0.0.1:9000").ok());
  EXPECT_NE(ParseEndpoint("ftp://x").status().message().find("ftp"), std::string::npos);
  EXPECT_FALSE(ParseEndpoint("http://x/base/path").ok());
  EXPECT_FALSE(ParseEndpoint("http://x:abc").ok());
  auto ep = ParseEndpoint("https://s3.example.com:8443/");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->Authority(), "s3.example.com:8443");
  EXPECT_FALSE(ep->ip_literal);
  EXPECT_TRUE(ParseEndpoint("http://[::1]:9000")->ip_literal);
}

TEST(S3ClientRequests, ParseEndpointRefusesPortsOutOfRange) {
  for (const char* bad : {"http://x:", "http://x:0", "http://x:65536", "http://x:123456",
                          "http://x:99999999999999999999"}) {
    auto ep = ParseEndpoint(bad);
    ASSERT_FALSE(ep.ok()) << bad;
    EXPECT_EQ(ep.status().code(), WEIR_INVALID_CONFIG);
    EXPECT_NE(ep.status().message().find("port"), std::string::npos) << ep.status().message();
  }
  EXPECT_EQ(ParseEndpoint("http://x:65535")->port, "65535");
  EXPECT_EQ(ParseEndpoint("http://x:1")->port, "1");
}

TEST(S3ClientRequests, DnsCompatibleBucketsAndDefaultEndpoint) {
  for (const char* ok : {"abc", "my-bucket", "my.dotted.bucket", "a1b"}) {
    EXPECT_TRUE(IsDnsCompatibleBucket(ok)) << ok;
  }
  for (const std::string& bad : {std::string("ab"), std::string(64, 'a'), std::string("my_bucket"),
                                 std::string("Upper"), std::string("-ab"), std::string("ab.")}) {
    EXPECT_FALSE(IsDnsCompatibleBucket(bad)) << bad;
  }
  EXPECT_EQ(DefaultEndpoint("eu-west-1"), "https://s3.eu-west-1.amazonaws.com");
}

TEST(S3ClientRetry, RetryableFailuresAreRetriedAndCounted) {
  Harness h;
  h.transport->script = {FakeTransport::S3Error(503, "SlowDown"),
                         FakeTransport::S3Error(500, "InternalError"), FakeTransport::Dropped(),
                         FakeTransport::S3Error(429, "TooManyRequests"),
                         FakeTransport::Status(200)};
  Status s = h.client->PutObject("k", "v", {});
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(h.transport->sent.size(), 5u);
  EXPECT_EQ(h.retries.load(), 4);
  // Every attempt is signed afresh and carries the same body.
  for (const auto& r : h.transport->sent) EXPECT_EQ(r.body, "v");
}

TEST(S3ClientRetry, GivingUpIsRetryableAndSaysWhy) {
  Harness h;
  h.transport->fallback = [](const Recorded&) { return FakeTransport::S3Error(503, "SlowDown"); };
  Status s = h.client->PutObject("k", "v", {});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.retryable());
  EXPECT_NE(s.message().find("5 times"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("SlowDown"), std::string::npos) << s.message();
  EXPECT_EQ(h.transport->sent.size(), 5u);
  EXPECT_EQ(h.retries.load(), 4);
}

TEST(S3ClientRetry, ClientErrorsAreFatalAtOnce) {
  Harness h;
  h.transport->script = {FakeTransport::S3Error(400, "InvalidArgument")};
  Status s = h.client->PutObject("k", "v", {});
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(s.retryable());
  EXPECT_EQ(s.vendor_code(), 400);
  EXPECT_EQ(h.transport->sent.size(), 1u);
  EXPECT_EQ(h.retries.load(), 0);
}

TEST(S3ClientRetry, TransientClientErrorsAreRetried) {
  EXPECT_TRUE(IsRetryableS3Error(400, "RequestTimeout"));
  EXPECT_TRUE(IsRetryableS3Error(409, "ConditionalRequestConflict"));
  EXPECT_TRUE(IsRetryableS3Error(503, "SlowDown"));
  EXPECT_TRUE(IsRetryableS3Error(500, ""));
  EXPECT_TRUE(IsRetryableS3Error(429, ""));
  EXPECT_FALSE(IsRetryableS3Error(403, "AccessDenied"));
  EXPECT_FALSE(IsRetryableS3Error(404, "NoSuchBucket"));
  EXPECT_FALSE(IsRetryableS3Error(400, "InvalidDigest"));
}

TEST(S3ClientRetry, FullJitterBackoffStaysUnderTheExponentialCap) {
  Backoff b({10, 100, 1000}, 42);
  const int64_t caps[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t cap : caps) {
    EXPECT_EQ(b.NextCapMs(), cap);
    int d = b.NextDelayMs();
    EXPECT_GE(d, 0);
    EXPECT_LE(d, cap);
  }
  // Jitter: draws are spread, not all at the cap.
  Backoff c({10, 1000, 1000}, 7);
  int distinct_low = 0;
  for (int i = 0; i < 20; ++i) distinct_low += c.NextDelayMs() < 900 ? 1 : 0;
  EXPECT_GT(distinct_low, 0);
}

TEST(S3ClientRetry, CancellationStopsRetrying) {
  std::atomic<bool> cancel{false};
  Hooks hooks;
  hooks.cancelled = [&] { return cancel.load(); };
  S3Config c = TestConfig();
  c.retry = {100, 1000, 20000};  // would otherwise wait for minutes
  Harness h(c, hooks);
  h.transport->fallback = [&](const Recorded&) {
    cancel = true;  // the run is cancelled while the first attempt is in flight
    return FakeTransport::S3Error(503, "SlowDown");
  };
  Status s = h.client->PutObject("k", "v", {});
  EXPECT_EQ(s.code(), WEIR_CANCELLED) << s.ToString();
  EXPECT_EQ(h.transport->sent.size(), 1u);
}

TEST(S3ClientErrors, ForbiddenNamesBucketAndKeyIdNeverSecret) {
  Harness h;
  h.transport->script = {FakeTransport::S3Error(403, "SignatureDoesNotMatch")};
  Status s = h.client->PutObject("a/b.json", "v", {});
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(s.retryable());
  EXPECT_NE(s.message().find("'bkt'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("AKIDTEST"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("SignatureDoesNotMatch"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("s3://bkt/a/b.json"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find(kSecret), std::string::npos);
  EXPECT_EQ(s.vendor_code(), 403);
}

TEST(S3ClientErrors, NoSuchBucketNamesTheBucket) {
  Harness h;
  h.transport->script = {FakeTransport::S3Error(404, "NoSuchBucket")};
  Status s = h.client->PutObject("k", "v", {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bucket 'bkt' does not exist"), std::string::npos) << s.message();
  h.transport->script = {FakeTransport::S3Error(404, "NoSuchBucket")};
  auto g = h.client->GetObject("k");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("'bkt'"), std::string::npos);
}

TEST(S3ClientErrors, WrongRegionSaysWhichRegion) {
  Harness h;
  h.transport->script = {FakeTransport::Status(
      301, "<Error><Code>PermanentRedirect</Code><Message>m</Message></Error>",
      {{"x-amz-bucket-region", "eu-central-1"}})};
  Status s = h.client->PutObject("k", "v", {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("eu-central-1"), std::string::npos) << s.message();
}

TEST(S3ClientErrors, GetMissingKeyIsNullopt) {
  Harness h;
  h.transport->script = {FakeTransport::S3Error(404, "NoSuchKey")};
  auto g = h.client->GetObject("k");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_FALSE(g->has_value());
}

TEST(S3ClientList, FollowsContinuationAndDecodesUrlEncodedKeys) {
  Harness h;
  h.transport->script = {
      FakeTransport::Status(200,
                            "<ListBucketResult><EncodingType>url</EncodingType>"
                            "<IsTruncated>true</IsTruncated><KeyCount>2</KeyCount>"
                            "<Contents><Key>p/b+c%2Bd</Key></Contents>"
                            "<Contents><Key>p/%C3%A9%3A</Key></Contents>"
                            "<NextContinuationToken>tok/en=</NextContinuationToken>"
                            "</ListBucketResult>"),
      FakeTransport::Status(200,
                            "<ListBucketResult><EncodingType>url</EncodingType>"
                            "<IsTruncated>false</IsTruncated>"
                            "<Contents><Key>p/a</Key></Contents></ListBucketResult>")};
  auto keys = h.client->ListObjects("p/");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(*keys, (std::vector<std::string>{"p/a", "p/b c+d", "p/\xC3\xA9:"}));
  ASSERT_EQ(h.transport->sent.size(), 2u);
  EXPECT_NE(h.transport->sent[1].url.find("continuation-token=tok%2Fen%3D"), std::string::npos)
      << h.transport->sent[1].url;
  EXPECT_NE(h.transport->sent[0].url.find("list-type=2"), std::string::npos);
}

TEST(S3ClientList, PlainXmlKeysAreEntityDecoded) {
  Harness h;
  h.transport->script = {FakeTransport::Status(
      200,
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a&amp;b&lt;c&#x41;+</Key></Contents></ListBucketResult>")};
  auto keys = h.client->ListObjects("");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, std::vector<std::string>{"a&b<cA+"});
}

TEST(S3ClientXml, ExtractsTagsNotPrefixes) {
  const std::string xml =
      "<R><KeyCount>1</KeyCount><Key>k1</Key><Empty/><Key>k2</Key><Message>a &quot;b&quot;"
      "</Message></R>";
  EXPECT_EQ(XmlText(xml, "Key").value_or("?"), "k1");
  EXPECT_EQ(XmlTexts(xml, "Key"), (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(XmlText(xml, "Empty").value_or("?"), "");
  EXPECT_EQ(XmlText(xml, "Message").value_or("?"), "a \"b\"");
  EXPECT_FALSE(XmlText(xml, "Code").has_value());
  EXPECT_EQ(XmlUnescape("&#233;&#x65E5;&bogus;"), "\xC3\xA9\xE6\x97\xA5&bogus;");
  EXPECT_EQ(XmlEscape("\"a\"&<b>"), "&quot;a&quot;&amp;&lt;b&gt;");
  EXPECT_EQ(PercentDecode("a+b%2B%zz", true), "a b+%zz");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
}

TEST(S3ClientMultipart, PartSizeAtLeastFiveMiBAndAtMostTenThousandParts) {
  constexpr uint64_t kMiB = 1ull << 20;
  EXPECT_EQ(EffectivePartSize(8 * kMiB, 1ull << 30), 8 * kMiB);
  EXPECT_EQ(EffectivePartSize(1 * kMiB, 10 * kMiB), 5 * kMiB);
  const uint64_t big = 100ull << 30;  // 100 GiB
  uint64_t p = EffectivePartSize(5 * kMiB, big);
  EXPECT_LE((big + p - 1) / p, 10000u);
  EXPECT_EQ(p % kMiB, 0u);
  EXPECT_EQ(p, 11 * kMiB);
}

HttpResponse MultipartFake(const Recorded& r, std::atomic<int>* failing_part_attempts) {
  if (r.method == "POST" && r.url.find("uploads=") != std::string::npos) {
    return FakeTransport::Status(200,
                                 "<InitiateMultipartUploadResult><UploadId>UP/1+</UploadId>"
                                 "</InitiateMultipartUploadResult>");
  }
  if (r.method == "PUT" && r.url.find("partNumber=") != std::string::npos) {
    if (failing_part_attempts != nullptr && r.url.find("partNumber=2&") != std::string::npos) {
      ++*failing_part_attempts;
      return FakeTransport::S3Error(500, "InternalError");
    }
    return FakeTransport::Status(200, "", {{"etag", "\"" + HexEncode(Md5(r.body)) + "\""}});
  }
  if (r.method == "POST") {
    return FakeTransport::Status(200,
                                 "<CompleteMultipartUploadResult><ETag>x</ETag>"
                                 "</CompleteMultipartUploadResult>");
  }
  return FakeTransport::Status(204);
}

TEST(S3ClientMultipart, UploadsPartsWithMd5AndCompletesInOrder) {
  S3Config c = TestConfig();
  c.part_size = 5ull << 20;
  c.parallel_parts = 3;
  Harness h(c);
  h.transport->fallback = [](const Recorded& r) { return MultipartFake(r, nullptr); };
  std::string body(12ull << 20, 'x');
  for (size_t i = 0; i < body.size(); i += 4096) body[i] = static_cast<char>('a' + (i / 4096) % 26);
  PutOptions o;
  o.content_encoding = "gzip";
  Status s = PutMultipart(*h.client, "big", body, o);
  ASSERT_TRUE(s.ok()) << s.ToString();
  int parts = 0;
  std::string reassembled(body.size(), '\0');
  const Recorded* complete = nullptr;
  for (const auto& r : h.transport->sent) {
    if (r.method == "PUT") {
      ++parts;
      EXPECT_EQ(r.Header("content-md5"), Base64(Md5(r.body)));
      EXPECT_NE(r.url.find("uploadId=UP%2F1%2B"), std::string::npos) << r.url;
      int n = std::stoi(r.url.substr(r.url.find("partNumber=") + 11));
      reassembled.replace(static_cast<size_t>(n - 1) * (5ull << 20), r.body.size(), r.body);
    }
    if (r.method == "POST" && r.url.find("uploadId=") != std::string::npos) complete = &r;
    if (r.method == "POST" && r.url.find("uploads=") != std::string::npos) {
      EXPECT_EQ(r.Header("content-encoding"), "gzip");
    }
  }
  EXPECT_EQ(parts, 3);
  EXPECT_TRUE(reassembled == body);
  ASSERT_NE(complete, nullptr);
  EXPECT_LT(complete->body.find("<PartNumber>1</PartNumber>"),
            complete->body.find("<PartNumber>3</PartNumber>"));
}

TEST(S3ClientMultipart, FailedPartAbortsTheUpload) {
  S3Config c = TestConfig();
  c.part_size = 5ull << 20;
  c.retry.max_attempts = 3;
  Harness h(c);
  std::atomic<int> failing{0};
  h.transport->fallback = [&](const Recorded& r) { return MultipartFake(r, &failing); };
  Status s = PutMultipart(*h.client, "big", std::string(11ull << 20, 'z'), {});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.retryable());
  EXPECT_NE(s.message().find("aborted"), std::string::npos) << s.message();
  EXPECT_EQ(failing.load(), 3);
  bool aborted = false;
  for (const auto& r : h.transport->sent) {
    aborted = aborted || (r.method == "DELETE" && r.url.find("uploadId=") != std::string::npos);
    EXPECT_FALSE(r.method == "POST" && r.url.find("uploadId=") != std::string::npos)
        << "completed despite a failed part";
  }
  EXPECT_TRUE(aborted);
}

// A Complete whose answer was lost, retried, answered 404 NoSuchUpload (real S3 may do that;
// moto answers a repeated Complete 200): done if the object is there as uploaded.
TEST(S3ClientMultipart, LostCompleteAnswerIsCheckedAgainstTheObject) {
  const std::string body((5ull << 20) + 100, 'q');
  const std::string part1 = body.substr(0, 5ull << 20), part2 = body.substr(5ull << 20);
  for (bool object_there : {true, false}) {
    S3Config c = TestConfig();
    c.part_size = 5ull << 20;
    Harness h(c);
    std::atomic<int> completes{0};
    h.transport->fallback = [&](const Recorded& r) {
      if (r.method == "POST" && r.url.find("uploadId=") != std::string::npos) {
        return ++completes == 1 ? FakeTransport::Dropped()
                                : FakeTransport::S3Error(404, "NoSuchUpload");
      }
      if (r.method == "HEAD") {
        if (!object_there) return FakeTransport::Status(404);
        return FakeTransport::Status(
            200, "",
            {{"etag", "\"" + HexEncode(Md5(Md5(part1) + Md5(part2))) + "-2\""},
             {"content-length", std::to_string(body.size())}});
      }
      return MultipartFake(r, nullptr);
    };
    Status s = PutMultipart(*h.client, "k", body, {});
    EXPECT_EQ(s.ok(), object_there) << s.ToString();
    EXPECT_EQ(completes.load(), 2);
    if (!object_there) {
      EXPECT_NE(s.message().find("NoSuchUpload"), std::string::npos);
    }
  }
}

// A retried Complete answered 404 NoSuchUpload and the HEAD that should settle it fails: its
// own verdict comes back (403 fatal, naming HeadObject; 5xx after the retries retryable), not
// "the object is not there".
TEST(S3ClientMultipart, LostCompleteAnswerWithAFailingHeadKeepsTheHeadsVerdict) {
  const std::string body((5ull << 20) + 100, 'q');
  for (long head_status : {403L, 503L}) {
    S3Config c = TestConfig();
    c.part_size = 5ull << 20;
    c.retry.max_attempts = 3;
    Harness h(c);
    std::atomic<int> completes{0}, heads{0};
    h.transport->fallback = [&](const Recorded& r) {
      if (r.method == "POST" && r.url.find("uploadId=") != std::string::npos) {
        return ++completes == 1 ? FakeTransport::Dropped()
                                : FakeTransport::S3Error(404, "NoSuchUpload");
      }
      if (r.method == "HEAD") {
        ++heads;
        return head_status == 403 ? FakeTransport::Status(403)
                                  : FakeTransport::S3Error(503, "SlowDown");
      }
      return MultipartFake(r, nullptr);
    };
    Status s = PutMultipart(*h.client, "k", body, {});
    ASSERT_FALSE(s.ok());
    const std::string& m = s.message();
    EXPECT_EQ(m.find("not there as uploaded"), std::string::npos) << m;
    EXPECT_NE(m.find("NoSuchUpload"), std::string::npos) << m;
    EXPECT_NE(m.find("HeadObject"), std::string::npos) << m;
    EXPECT_EQ(m.find(kSecret), std::string::npos) << m;
    if (head_status == 403) {
      EXPECT_FALSE(s.retryable()) << m;
      EXPECT_EQ(s.vendor_code(), 403) << m;
      EXPECT_NE(m.find("denied"), std::string::npos) << m;
      EXPECT_EQ(heads.load(), 1);
    } else {
      EXPECT_TRUE(s.retryable()) << m;
      EXPECT_NE(m.find("SlowDown"), std::string::npos) << m;
      EXPECT_EQ(heads.load(), 3);
    }
  }
}

// Only NoSuchUpload means "maybe completed already"; another 404 keeps its own message, and
// the upload is aborted.
TEST(S3ClientMultipart, OtherCompleteNotFoundIsItsOwnError) {
  S3Config c = TestConfig();
  c.part_size = 5ull << 20;
  Harness h(c);
  bool headed = false, aborted = false;
  h.transport->fallback = [&](const Recorded& r) {
    if (r.method == "POST" && r.url.find("uploadId=") != std::string::npos) {
      return FakeTransport::S3Error(404, "NoSuchBucket");
    }
    if (r.method == "HEAD") headed = true;
    if (r.method == "DELETE") aborted = true;
    return MultipartFake(r, nullptr);
  };
  Status s = PutMultipart(*h.client, "k", std::string((5ull << 20) + 1, 'n'), {});
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(s.retryable());
  EXPECT_EQ(s.vendor_code(), 404);
  EXPECT_NE(s.message().find("S3 bucket 'bkt' does not exist"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("not there as uploaded"), std::string::npos) << s.message();
  EXPECT_FALSE(headed);
  EXPECT_TRUE(aborted);
}

// Cancelled mid-upload and the abort fails too: still WEIR_CANCELLED (the host must not treat
// it as a failed batch), and the message says the parts remain.
TEST(S3ClientMultipart, CancelledStaysCancelledWhenTheAbortFails) {
  std::atomic<bool> cancel{false};
  Hooks hooks;
  hooks.cancelled = [&] { return cancel.load(); };
  S3Config c = TestConfig();
  c.part_size = 5ull << 20;
  c.parallel_parts = 1;
  c.retry = {3, 1000, 20000};
  Harness h(c, hooks);
  h.transport->fallback = [&](const Recorded& r) {
    if (r.method == "PUT") {
      cancel = true;  // the run is cancelled while the first part is in flight
      return FakeTransport::S3Error(503, "SlowDown");
    }
    if (r.method == "DELETE") return FakeTransport::S3Error(403, "AccessDenied");
    return MultipartFake(r, nullptr);
  };
  Status s = PutMultipart(*h.client, "k", std::string((5ull << 20) + 1, 'c'), {});
  EXPECT_EQ(s.code(), WEIR_CANCELLED) << s.ToString();
  EXPECT_NE(s.message().find("aborting upload"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace weir::s3
