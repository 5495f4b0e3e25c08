// tests/s3/plugin/config_test.cpp — config parsing: defaults, URLs, addressing, and errors that
// name the field and never contain a secret.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>
#include <string>

#include "s3_config.hpp"

namespace weir::s3 {
namespace {

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY";
constexpr const char* kToken = "FwoGZXIvYXdzSESSIONTOKENVALUE";

/// Expects `json` to be refused with WEIR_INVALID_CONFIG mentioning every one of `needles`.
void ExpectError(const std::string& json, std::initializer_list<const char*> needles) {
  auto c = ParseExportConfig(json);
  ASSERT_FALSE(c.ok()) << json;
  EXPECT_EQ(c.status().code(), WEIR_INVALID_CONFIG) << json;
  for (const char* n : needles) {
    EXPECT_NE(c.status().message().find(n), std::string::npos)
        << json << "\n  message: " << c.status().message() << "\n  missing: " << n;
  }
  EXPECT_EQ(c.status().message().find(kSecret), std::string::npos) << c.status().message();
  EXPECT_EQ(c.status().message().find(kToken), std::string::npos) << c.status().message();
}

TEST(S3PluginConfig, FileUrlDefaults) {
  auto c = ParseExportConfig(R"({"url":"file:///data/export/"})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->scheme, ExportConfig::Scheme::kFile);
  EXPECT_EQ(c->root, "/data/export");
  EXPECT_EQ(c->compression, Compression::kGzip);
  EXPECT_EQ(c->compression_level, 6);
  EXPECT_EQ(c->granularity, Granularity::kHourly);
  EXPECT_EQ(c->partition_timezone, "UTC");
  EXPECT_EQ(c->max_object_bytes, kDefaultMaxObjectBytes);
  EXPECT_EQ(c->parallelism, kDefaultParallelism);
  EXPECT_FALSE(c->conditional_writes);
  EXPECT_TRUE(c->tls_verify);
  EXPECT_EQ(c->Describe(), "file:///data/export");
}

TEST(S3PluginConfig, S3UrlBucketPrefixAndAddressingDefaults) {
  auto aws = ParseExportConfig(R"({"url":"s3://my-bucket/exports/weir/","region":"eu-west-1"})");
  ASSERT_TRUE(aws.ok()) << aws.status().ToString();
  EXPECT_EQ(aws->scheme, ExportConfig::Scheme::kS3);
  EXPECT_EQ(aws->bucket, "my-bucket");
  EXPECT_EQ(aws->prefix, "exports/weir");
  EXPECT_FALSE(aws->path_style) << "AWS defaults to virtual-hosted addressing";
  EXPECT_EQ(aws->Describe(), "s3://my-bucket/exports/weir");
  const S3Config s3 = MakeS3Config(*aws, Credentials{"AKID", "secret", ""});
  EXPECT_EQ(s3.endpoint, "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(s3.region, "eu-west-1");
  EXPECT_EQ(s3.bucket, "my-bucket");

  auto minio = ParseExportConfig(R"({"url":"s3://b1b","endpoint":"http://127.0.0.1:9000/"})");
  ASSERT_TRUE(minio.ok());
  EXPECT_EQ(minio->prefix, "");
  EXPECT_TRUE(minio->path_style) << "an explicit endpoint defaults to path-style";
  EXPECT_EQ(MakeS3Config(*minio, {}).endpoint, "http://127.0.0.1:9000");

  auto virt = ParseExportConfig(
      R"({"url":"s3://b1b","endpoint":"http://localhost:9000","addressing":"virtual"})");
  ASSERT_TRUE(virt.ok());
  EXPECT_FALSE(virt->path_style);

  auto dotted = ParseExportConfig(R"({"url":"s3://my.dotted.bucket/x"})");
  ASSERT_TRUE(dotted.ok());
  EXPECT_TRUE(dotted->path_style) << "dotted buckets cannot be TLS virtual hosts";
}

TEST(S3PluginConfig, AllFieldsParse) {
  auto c = ParseExportConfig(
      std::string(R"({"url":"s3://bucket/p","endpoint":"https://storage.googleapis.com",
    "region":"auto","project_id":"p-1","access_key_id":"AKID","secret_access_key":")") +
      kSecret + R"(","session_token":")" + kToken + R"(",
    "addressing":"path","compression":"zstd","compression_level":19,
    "granularity":"daily","partition_timezone":"Europe/Paris","max_object_bytes":1048576,
    "part_size":16777216,"conditional_writes":true,"tls_verify":false,"ca_bundle":"/etc/ca.pem",
    "parallelism":8})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->compression, Compression::kZstd);
  EXPECT_EQ(c->compression_level, 19);
  EXPECT_EQ(c->granularity, Granularity::kDaily);
  EXPECT_EQ(c->partition_timezone, "Europe/Paris");
  EXPECT_EQ(c->project_id, "p-1");
  EXPECT_EQ(c->credentials.secret_access_key, kSecret);
  EXPECT_EQ(c->credentials.session_token, kToken);
  EXPECT_EQ(c->profile, "");
  // profile excludes the keys (ProfileAndKeysAreExclusive); alone it parses.
  auto p = ParseExportConfig(R"({"url":"s3://bucket/p","profile":"prod"})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->profile, "prod");
  const S3Config s3 = MakeS3Config(*c, c->credentials);
  EXPECT_EQ(s3.part_size, 16u << 20);
  EXPECT_GE(s3.multipart_threshold, s3.part_size);
  EXPECT_FALSE(s3.verify_tls);
  EXPECT_EQ(s3.ca_bundle, "/etc/ca.pem");
  EXPECT_TRUE(s3.path_style);
}

TEST(S3PluginConfig, ErrorsNameTheField) {
  ExpectError("not json", {"not valid JSON"});
  ExpectError("[]", {"expected a JSON object"});
  ExpectError("{}", {"config.url", "required"});
  ExpectError(R"({"url":"http://x/y"})", {"config.url", "s3://bucket/prefix"});
  ExpectError(R"({"url":"s3://Bad_Bucket"})", {"config.url", "bucket name"});
  ExpectError(R"({"url":"s3://bucket/a//b"})", {"config.url", "prefix"});
  ExpectError(R"({"url":"s3://bucket/a/../b"})", {"config.url", "prefix"});
  ExpectError(R"({"url":"file://relative/dir"})", {"config.url", "absolute"});
  ExpectError(R"({"url":"file:///x","bogus":1})", {"config.bogus", "unknown key"});
  ExpectError(R"({"url":"file:///x","url":"file:///y"})", {"config.url", "more than once"});
  ExpectError(R"({"url":7})", {"config.url", "expected a string, got number"});
  ExpectError(R"({"url":"file:///x","compression":"gz"})",
              {"config.compression", "\"gzip\", \"zstd\", \"none\"", "\"gz\""});
  ExpectError(R"({"url":"file:///x","compression_level":13})",
              {"config.compression_level", "between 1 and 12"});
  ExpectError(R"({"url":"file:///x","compression":"zstd","compression_level":20})",
              {"config.compression_level", "between 1 and 19"});
  ExpectError(R"({"url":"file:///x","compression":"none","compression_level":3})",
              {"config.compression_level", "none"});
  ExpectError(R"({"url":"file:///x","granularity":"weekly"})", {"config.granularity"});
  ExpectError(R"({"url":"file:///x","partition_timezone":"Mars/Base"})",
              {"config.partition_timezone", "\"Mars/Base\"", "IANA"});
  ExpectError(R"({"url":"s3://bucket","endpoint":"http://user:pa55@host:1/x"})",
              {"config.endpoint", "\"http://…@host:1/x\""});
  auto userinfo = ParseExportConfig(R"({"url":"s3://bucket","endpoint":"http://user:pa55@h"})");
  EXPECT_EQ(userinfo.status().message().find("pa55"), std::string::npos);
  ExpectError(R"({"url":"file:///x","partition_timezone":"+02:00"})",
              {"config.partition_timezone"});
  ExpectError(R"({"url":"file:///x","max_object_bytes":10})", {"config.max_object_bytes"});
  ExpectError(R"({"url":"file:///x","max_object_bytes":1.5})",
              {"config.max_object_bytes", "fraction"});
  ExpectError(R"({"url":"s3://bucket","part_size":1048576})", {"config.part_size", "5242880"});
  ExpectError(R"({"url":"file:///x","parallelism":0})", {"config.parallelism"});
  ExpectError(R"({"url":"file:///x","conditional_writes":"yes"})",
              {"config.conditional_writes", "boolean"});
  ExpectError(R"({"url":"s3://bucket","endpoint":"127.0.0.1:9000"})", {"config.endpoint"});
  ExpectError(R"({"url":"s3://bucket","endpoint":"http://h:1/path"})", {"config.endpoint"});
  ExpectError(R"({"url":"s3://bucket","addressing":"dns"})", {"config.addressing"});
  ExpectError(R"({"url":"s3://bucket","project_id":"a/b"})", {"config.project_id"});
  ExpectError(R"({"url":"s3://bucket","region":"US East"})", {"config.region"});
}

TEST(S3PluginConfig, CredentialErrorsNeverContainTheSecret) {
  ExpectError(std::string(R"({"url":"s3://bucket","secret_access_key":")") + kSecret + "\"}",
              {"config.access_key_id", "required"});
  ExpectError(R"({"url":"s3://bucket","access_key_id":"AKID"})",
              {"config.secret_access_key", "required"});
  ExpectError(std::string(R"({"url":"s3://bucket","session_token":")") + kToken + "\"}",
              {"config.session_token"});
  ExpectError(std::string(R"({"url":"s3://bucket","access_key_id":")") + kSecret +
                  R"(","secret_access_key":")" + kSecret + R"(","compression":"x"})",
              {"config.compression"});
  // A secret pasted into a keyword field is not echoed past the field's short value.
  ExpectError(std::string(R"({"url":"s3://bucket","addressing":")") + kSecret + "\"}",
              {"config.addressing", "a string of 39 characters"});
}

// "s3://key:secret@bucket/prefix": the user info is refused and never echoed, whatever the
// secret contains ('/' included, as AWS secrets do).
TEST(S3PluginConfig, UrlWithCredentialsIsRefusedWithoutEchoingThem) {
  for (const std::string& url : {std::string("s3://AKIAEXAMPLE:wJalrXUtnFEMISECRET@bucket/prefix"),
                                 std::string("s3://AKIAEXAMPLE:wJalrXUtnFEMISECRET@bucket"),
                                 std::string("s3://AKIAEXAMPLE:") + kSecret + "@bucket/prefix",
                                 std::string("s3://AKIAEXAMPLE@bucket/prefix")}) {
    ExpectError(R"({"url":")" + url + "\"}",
                {"config.url", "must not carry credentials", "access_key_id"});
    auto c = ParseExportConfig(R"({"url":")" + url + "\"}");
    ASSERT_FALSE(c.ok());
    for (const char* part : {"AKIAEXAMPLE", "wJalrXUtnFEMI", "SECRET", "K7MDENG"}) {
      EXPECT_EQ(c.status().message().find(part), std::string::npos)
          << url << "\n  message: " << c.status().message();
    }
  }
  // An '@' in the prefix of a valid bucket is an ordinary key character.
  auto at = ParseExportConfig(R"({"url":"s3://bucket/team@corp/x"})");
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  EXPECT_EQ(at->prefix, "team@corp/x");
}

TEST(S3PluginConfig, BadBucketAndPrefixAreEchoedOnlyWhenShortAndPlain) {
  ExpectError(R"({"url":"s3://Bad_Bucket/x"})", {"config.url", "\"Bad_Bucket\"", "bucket name"});
  // A secret pasted into the url is never echoed whole: the bucket is only the part before its
  // first '/', and a long prefix is shown by its length only.
  ExpectError(std::string(R"({"url":"s3://)") + kSecret + "\"}", {"config.url", "bucket name"});
  ExpectError(std::string(R"({"url":"s3://bucket/x/../)") + kSecret + "\"}",
              {"config.url", "the prefix a string of", "'..'"});
  ExpectError(R"({"url":"s3://bucket/a/\u0001b"})", {"config.url", "the prefix a string of"});
  ExpectError(R"({"url":"s3://bucket/a//b"})", {"config.url", "the prefix \"a//b\""});
}

// The config applies the client's rules (IsDnsCompatibleBucket, ParseEndpoint), so what the
// client would refuse at the first request is refused, naming the field, at open.
TEST(S3PluginConfig, AddressingFollowsTheClientsBucketRule) {
  for (const std::string& bucket :
       {std::string("my_bucket"), std::string(64, 'b'), std::string("my.dotted.bucket")}) {
    auto c = ParseExportConfig(R"({"url":"s3://)" + bucket + R"(/x"})");
    ASSERT_TRUE(c.ok()) << bucket << ": " << c.status().ToString();
    EXPECT_TRUE(c->path_style) << bucket << " cannot be a virtual host: path style by default";
  }
  auto plain = ParseExportConfig(R"({"url":"s3://my-bucket/x"})");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->path_style);
  // An explicit "virtual" the client would refuse is refused here, naming the field.
  ExpectError(R"({"url":"s3://my_bucket","addressing":"virtual"})",
              {"config.addressing", "\"my_bucket\"", "\"path\""});
  ExpectError(R"({"url":"s3://)" + std::string(64, 'b') + R"(","addressing":"virtual"})",
              {"config.addressing", "a string of 64 characters", "\"path\""});
  ExpectError(R"({"url":"s3://bucket","endpoint":"http://127.0.0.1:9000","addressing":"virtual"})",
              {"config.addressing", "IP address", "\"path\""});
  // Explicit "virtual" for a dotted (DNS-compatible) bucket stays the operator's choice.
  auto dotted = ParseExportConfig(R"({"url":"s3://a.b.c","addressing":"virtual"})");
  ASSERT_TRUE(dotted.ok()) << dotted.status().ToString();
  EXPECT_FALSE(dotted->path_style);
}

TEST(S3PluginConfig, EndpointPortIsCheckedAtOpen) {
  for (const char* endpoint : {"https://host:abc", "https://host:", "https://host:0",
                               "https://host:65536", "http://host:123456", "http://:9000"}) {
    ExpectError(std::string(R"({"url":"s3://bucket","endpoint":")") + endpoint + "\"}",
                {"config.endpoint", "1 to 65535"});
  }
  for (const char* endpoint : {"https://host:1", "https://host:65535", "http://[::1]:9000"}) {
    auto c =
        ParseExportConfig(std::string(R"({"url":"s3://bucket","endpoint":")") + endpoint + "\"}");
    EXPECT_TRUE(c.ok()) << endpoint << ": " << c.status().ToString();
  }
}

TEST(S3PluginConfig, ProfileAndKeysAreExclusive) {
  ExpectError(std::string(R"({"url":"s3://bucket","profile":"prod","access_key_id":"AKID",)") +
                  R"("secret_access_key":")" + kSecret + "\"}",
              {"config.profile", "access_key_id"});
  ExpectError(std::string(R"({"url":"file:///x","profile":"prod","access_key_id":"AKID",)") +
                  R"("secret_access_key":")" + kSecret + R"(","session_token":")" + kToken + "\"}",
              {"config.profile"});
}

// One check, the partitioner's own (UTC needs no tz database), with the config's wording; a
// value longer than any IANA name is not echoed.
TEST(S3PluginConfig, PartitionTimezoneIsCheckedOnceAndNotEchoedWhenLong) {
  for (const char* zone : {"UTC", "Etc/UTC", "Europe/Paris", "America/Argentina/Buenos_Aires"}) {
    auto c = ParseExportConfig(std::string(R"({"url":"file:///x","partition_timezone":")") + zone +
                               "\"}");
    EXPECT_TRUE(c.ok()) << zone << ": " << c.status().ToString();
  }
  ExpectError(std::string(R"({"url":"file:///x","partition_timezone":")") + kSecret + "\"}",
              {"config.partition_timezone", "a string of 39 characters", "IANA"});
  ExpectError(R"({"url":"file:///x","partition_timezone":""})", {"config.partition_timezone"});
}

TEST(S3PluginConfig, SchemaIsJsonAndListsEveryKey) {
  simdjson::dom::parser parser;
  simdjson::dom::element schema;
  ASSERT_EQ(parser.parse(std::string(kExportConfigSchema)).get(schema), simdjson::SUCCESS);
  simdjson::dom::object props;
  ASSERT_EQ(schema["properties"].get(props), simdjson::SUCCESS);
  std::set<std::string> keys;
  for (auto kv : props) keys.insert(std::string(kv.key));
  for (const char* k :
       {"url", "endpoint", "region", "project_id", "access_key_id", "secret_access_key",
        "session_token", "profile", "addressing", "compression", "compression_level", "granularity",
        "partition_timezone", "max_object_bytes", "part_size", "conditional_writes", "tls_verify",
        "ca_bundle", "parallelism"}) {
    EXPECT_EQ(keys.count(k), 1u) << k;
    // Every key in the schema is accepted by the parser (and no other).
    auto c = ParseExportConfig(std::string(R"({"url":"file:///x","bogus_)") + k + "\":1}");
    EXPECT_FALSE(c.ok());
  }
  EXPECT_EQ(keys.size(), 19u);
}

}  // namespace
}  // namespace weir::s3
