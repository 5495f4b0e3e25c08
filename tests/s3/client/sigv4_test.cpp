// tests/s3/client/sigv4_test.cpp — the SigV4 signer against AWS's published vectors: the
// aws-sig-v4-test-suite cases (get-vanilla, get-vanilla-query-order-key-case, post-vanilla,
// get-utf8; service "service", AKIDEXAMPLE, 20150830T123600Z) and the S3 developer guide's
// header-auth examples (examplebucket, AKIAIOSFODNN7EXAMPLE, 20130524T000000Z). Plus the
// encoding rules the canonical request depends on.
#include <gtest/gtest.h>

#include "s3_hash.hpp"
#include "s3_sigv4.hpp"

namespace weir::s3 {
namespace {

const std::string kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigningScope SuiteScope() {
  return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service",
          "20150830T123600Z"};
}

SigningScope S3DocScope() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3",
          "20130524T000000Z"};
}

SigningRequest SuiteRequest(std::string method, std::string uri, NameValues query = {}) {
  return {std::move(method),
          std::move(uri),
          std::move(query),
          {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
          kEmptyHash};
}

TEST(S3ClientSigV4, EmptyPayloadHash) { EXPECT_EQ(Sha256Hex(""), kEmptyHash); }

TEST(S3ClientSigV4, GetVanilla) {
  SigV4 sig = SignV4(SuiteRequest("GET", "/"), SuiteScope());
  EXPECT_EQ(sig.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n" +
                kEmptyHash);
  EXPECT_EQ(sig.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(sig.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(S3ClientSigV4, GetVanillaQueryOrderKeyCase) {
  SigV4 sig =
      SignV4(SuiteRequest("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}), SuiteScope());
  EXPECT_NE(sig.canonical_request.find("\nParam1=value1&Param2=value2\n"), std::string::npos);
  EXPECT_EQ(sig.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(S3ClientSigV4, PostVanilla) {
  EXPECT_EQ(SignV4(SuiteRequest("POST", "/"), SuiteScope()).signature,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(S3ClientSigV4, GetUtf8EncodedOnce) {
  SigningRequest req = SuiteRequest("GET", UriEncode("/\xE1\x88\xB4", false));
  EXPECT_EQ(req.canonical_uri, "/%E1%88%B4");
  EXPECT_EQ(SignV4(req, SuiteScope()).signature,
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

TEST(S3ClientSigV4, S3GetObjectExample) {
  SigningRequest req{"GET",
                     "/test.txt",
                     {},
                     {{"Host", "examplebucket.s3.amazonaws.com"},
                      {"Range", "bytes=0-9"},
                      {"x-amz-content-sha256", kEmptyHash},
                      {"x-amz-date", "20130524T000000Z"}},
                     kEmptyHash};
  SigV4 sig = SignV4(req, S3DocScope());
  EXPECT_EQ(sig.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(sig.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3ClientSigV4, S3PutObjectExampleWithEncodedKeyAndRealPayloadHash) {
  const std::string hash = Sha256Hex("Welcome to Amazon S3.");
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigningRequest req{"PUT",
                     UriEncode("/test$file.text", false),
                     {},
                     {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                      {"Host", "examplebucket.s3.amazonaws.com"},
                      {"x-amz-content-sha256", hash},
                      {"x-amz-date", "20130524T000000Z"},
                      {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                     hash};
  EXPECT_EQ(req.canonical_uri, "/test%24file.text");
  SigV4 sig = SignV4(req, S3DocScope());
  EXPECT_EQ(sig.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(sig.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(S3ClientSigV4, S3BareQueryNameAndSortedQueryExamples) {
  NameValues headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                        {"x-amz-content-sha256", kEmptyHash},
                        {"x-amz-date", "20130524T000000Z"}};
  SigningRequest lifecycle{"GET", "/", {{"lifecycle", ""}}, headers, kEmptyHash};
  EXPECT_EQ(SignV4(lifecycle, S3DocScope()).signature,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  SigningRequest list{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, headers, kEmptyHash};
  EXPECT_EQ(SignV4(list, S3DocScope()).signature,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(S3ClientSigV4, HeaderValuesAreTrimmedAndCollapsed) {
  SigningRequest a = SuiteRequest("GET", "/");
  a.headers.emplace_back("X-Custom", "  a   b \t c ");
  SigningRequest b = SuiteRequest("GET", "/");
  b.headers.emplace_back("x-custom", "a b c");
  EXPECT_EQ(SignV4(a, SuiteScope()).signature, SignV4(b, SuiteScope()).signature);
  EXPECT_NE(SignV4(a, SuiteScope()).canonical_request.find("x-custom:a b c\n"), std::string::npos);
}

TEST(S3ClientSigV4, SecretNeverAppearsInOutputs) {
  SigV4 sig = SignV4(SuiteRequest("GET", "/"), SuiteScope());
  for (const std::string* s : {&sig.canonical_request, &sig.string_to_sign, &sig.authorization}) {
    EXPECT_EQ(s->find("wJalrXUtnFEMI"), std::string::npos) << *s;
  }
}

TEST(S3ClientEncoding, UnreservedKeptEverythingElseEncodedOnce) {
  EXPECT_EQ(UriEncode("AZaz09-._~", true), "AZaz09-._~");
  EXPECT_EQ(UriEncode("a b", false), "a%20b");
  EXPECT_EQ(UriEncode("k:v+w=x", false), "k%3Av%2Bw%3Dx");
  EXPECT_EQ(UriEncode("100%", false), "100%25");
  EXPECT_EQ(UriEncode("%41", false), "%2541");  // already-encoded text is data, encoded again once
  EXPECT_EQ(UriEncode("a/b", false), "a/b");
  EXPECT_EQ(UriEncode("a/b", true), "a%2Fb");
  EXPECT_EQ(UriEncode("\xC3\xA9/\xC3\xBC\xE6\x97\xA5\xE6\x9C\xAC", false),
            "%C3%A9/%C3%BC%E6%97%A5%E6%9C%AC");
  EXPECT_EQ(UriEncode("!'()*", false), "%21%27%28%29%2A");
}

TEST(S3ClientEncoding, CanonicalQuerySortsByEncodedNameThenValue) {
  EXPECT_EQ(CanonicalQueryString({{"b", "2"}, {"a", "1"}, {"A", "0"}}), "A=0&a=1&b=2");
  EXPECT_EQ(CanonicalQueryString({{"uploadId", "a/b+c=="}, {"partNumber", "2"}}),
            "partNumber=2&uploadId=a%2Fb%2Bc%3D%3D");
  EXPECT_EQ(CanonicalQueryString({{"uploads", ""}}), "uploads=");
}

TEST(S3ClientEncoding, AmzDateIsCompactUtc) {
  EXPECT_EQ(AmzDate(std::chrono::system_clock::from_time_t(1369353600)), "20130524T000000Z");
  EXPECT_EQ(AmzDate(std::chrono::system_clock::from_time_t(1440938160)), "20150830T123600Z");
}

TEST(S3ClientEncoding, DigestsAndBase64) {
  EXPECT_EQ(Base64(Md5("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(HexEncode(Md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(HexEncode(HmacSha256("key", "The quick brown fox jumps over the lazy dog")),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

}  // namespace
}  // namespace weir::s3
