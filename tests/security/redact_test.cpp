// tests/security/redact_test.cpp — what `weir pipeline show` hides (host/pipeline/redact.hpp).
#include "pipeline/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using weir::host::IsSecretKeyName;
using weir::host::RedactConfig;
using weir::host::RedactSecretsInText;

TEST(Redact, SecretKeyNames) {
  for (const char* k : {"password", "PASSWORD", "secret_access_key", "session_token", "token",
                        "private_key_passphrase", "api_key", "apiKey", "client_secret",
                        "credentials", "pwd", "auth", "Authorization", "sas", "db_pwd"}) {
    EXPECT_TRUE(IsSecretKeyName(k)) << k;
  }
  for (const char* k : {"access_key_id", "url", "endpoint", "user", "region", "dir",
                        "private_key_file", "token_url", "password_env", "tables", "schema",
                        "client_id", "accessKeyId", "compression", "passes"}) {
    EXPECT_FALSE(IsSecretKeyName(k)) << k;
  }
}

TEST(Redact, LiteralSecretsAreBlankedEnvReferencesAndOtherValuesKept) {
  EXPECT_EQ(RedactConfig(R"({"url":"s3://b/p","access_key_id":"AKID","secret_access_key":"wJal",)"
                         R"("session_token":"${AWS_SESSION_TOKEN}","part_mib":8})"),
            R"({"url":"s3://b/p","access_key_id":"AKID","secret_access_key":"***",)"
            R"("session_token":"${AWS_SESSION_TOKEN}","part_mib":8})");
  // A reference mixed with text is not "one reference": the text may be the secret.
  EXPECT_EQ(RedactConfig(R"({"password":"x${PW}"})"), R"({"password":"***"})");
  // Non-string secrets, nested objects under a secret name, arrays of configs.
  EXPECT_EQ(RedactConfig(R"({"pin":1,"token":1234,"credentials":{"user":"u","key":"k"},)"
                         R"("sinks":[{"password":"p1"},{"user":"u2"}],"empty_secret":""})"),
            R"({"pin":1,"token":"***","credentials":"***",)"
            R"("sinks":[{"password":"***"},{"user":"u2"}],"empty_secret":""})");
  // Escapes survive the round trip.
  EXPECT_EQ(RedactConfig(R"({"path":"a\"b\\c\n","password":"p\"w"})"),
            R"({"path":"a\"b\\c\n","password":"***"})");
}

TEST(Redact, ConnectionStringsAndUrlsLoseTheirPasswords) {
  EXPECT_EQ(RedactSecretsInText("Driver=X;Server=h;UID=me;PWD=hunter2;Database=d"),
            "Driver=X;Server=h;UID=me;PWD=***;Database=d");
  EXPECT_EQ(RedactSecretsInText("driver=x;password={a;b}; port=5"), "driver=x;password=***; port=5");
  EXPECT_EQ(RedactSecretsInText("Pwd=last"), "Pwd=***");
  // Not a password field: "OLDPWD=" does not start a part.
  EXPECT_EQ(RedactSecretsInText("OLDPWD=/tmp"), "OLDPWD=/tmp");
  EXPECT_EQ(RedactSecretsInText("https://user:pa:ss@host:9000/x?y"), "https://user:***@host:9000/x?y");
  EXPECT_EQ(RedactSecretsInText("https://host:9000/x"), "https://host:9000/x");
  EXPECT_EQ(RedactSecretsInText("s3://bucket/a@b:c"), "s3://bucket/a@b:c");
  EXPECT_EQ(RedactConfig(R"({"connection_string":"Driver=D;PWD=s3cr3t","endpoint":"http://u:p@h"})"),
            R"({"connection_string":"Driver=D;PWD=***","endpoint":"http://u:***@h"})");
}

TEST(Redact, TextThatIsNotJsonIsNeverEchoed) {
  EXPECT_EQ(RedactConfig(R"({"password":"hunter2")"), "<config not shown: not valid JSON>");
}

}  // namespace
