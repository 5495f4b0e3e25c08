// tests/s3/client/credentials_test.cpp — ResolveCredentials: explicit values, AWS_*
// environment, shared credentials file profiles; messages name what is missing and where,
// and never carry a secret.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>

#include "s3_credentials.hpp"

namespace weir::s3 {
namespace {

constexpr char kFile[] = R"(# comment
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = defaultSECRET/+=

; another comment
[profile exporter]
AWS_ACCESS_KEY_ID=AKIAEXPORT
aws_secret_access_key=exportSECRET
aws_session_token = tokTOKEN

[broken]
aws_access_key_id = AKIABROKEN
)";

struct World {
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> files;
  Result<Credentials> Resolve(const Credentials& explicit_values = {},
                              const std::string& profile = "") const {
    return ResolveCredentialsWith(
        explicit_values, profile,
        [this](const char* n) -> std::optional<std::string> {
          auto it = env.find(n);
          if (it == env.end()) return std::nullopt;
          return it->second;
        },
        [this](const std::string& p) -> std::optional<std::string> {
          auto it = files.find(p);
          if (it == files.end()) return std::nullopt;
          return it->second;
        });
  }
};

void ExpectNoSecrets(const Status& s) {
  for (const char* secret : {"defaultSECRET", "exportSECRET", "tokTOKEN", "envSECRET"}) {
    EXPECT_EQ(s.message().find(secret), std::string::npos) << s.message();
  }
}

TEST(S3ClientCredentials, ParseIniSectionsKeysAndComments) {
  auto ini = ParseIni(kFile);
  ASSERT_EQ(ini.count("default"), 1u);
  ASSERT_EQ(ini.count("exporter"), 1u);
  EXPECT_EQ(ini["default"]["aws_secret_access_key"], "defaultSECRET/+=");
  EXPECT_EQ(ini["exporter"]["aws_access_key_id"], "AKIAEXPORT");  // key names lower-cased
  EXPECT_EQ(ini["exporter"]["aws_session_token"], "tokTOKEN");
}

TEST(S3ClientCredentials, ExplicitValuesWin) {
  World w;
  w.env = {{"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "envSECRET"}};
  auto c = w.Resolve({"AKIAEXPLICIT", "s", "t"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIAEXPLICIT");
  EXPECT_EQ(c->session_token, "t");
  auto half = w.Resolve({"AKIAEXPLICIT", "", ""});
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("AKIAEXPLICIT"), std::string::npos);
}

TEST(S3ClientCredentials, EnvironmentBeforeFile) {
  World w;
  w.env = {{"AWS_ACCESS_KEY_ID", "AKIAENV"},
           {"AWS_SECRET_ACCESS_KEY", "envSECRET"},
           {"AWS_SESSION_TOKEN", "envTOKEN"},
           {"HOME", "/home/u"}};
  w.files["/home/u/.aws/credentials"] = kFile;
  auto c = w.Resolve();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->secret_access_key, "envSECRET");
  EXPECT_EQ(c->session_token, "envTOKEN");
  w.env.erase("AWS_SECRET_ACCESS_KEY");
  auto half = w.Resolve();
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos);
}

TEST(S3ClientCredentials, SharedFileDefaultNamedAndEnvProfile) {
  World w;
  w.env = {{"HOME", "/home/u"}};
  w.files["/home/u/.aws/credentials"] = kFile;
  auto d = w.Resolve();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->access_key_id, "AKIADEFAULT");
  EXPECT_EQ(d->secret_access_key, "defaultSECRET/+=");
  auto named = w.Resolve({}, "exporter");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->access_key_id, "AKIAEXPORT");
  EXPECT_EQ(named->session_token, "tokTOKEN");
  w.env["AWS_PROFILE"] = "exporter";
  EXPECT_EQ(w.Resolve()->access_key_id, "AKIAEXPORT");
  w.env["AWS_SHARED_CREDENTIALS_FILE"] = "/etc/creds";
  w.files["/etc/creds"] = "[exporter]\naws_access_key_id=AKIAOTHER\naws_secret_access_key=x\n";
  EXPECT_EQ(w.Resolve()->access_key_id, "AKIAOTHER");
}

// A profile named in the config wins over AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the aws
// CLI's --profile does the same); AWS_PROFILE, being environment itself, does not.
TEST(S3ClientCredentials, ConfiguredProfileSkipsTheEnvironment) {
  World w;
  w.env = {{"AWS_ACCESS_KEY_ID", "AKIAENV"},
           {"AWS_SECRET_ACCESS_KEY", "envSECRET"},
           {"AWS_SESSION_TOKEN", "envTOKEN"},
           {"HOME", "/home/u"}};
  w.files["/home/u/.aws/credentials"] = kFile;
  auto named = w.Resolve({}, "exporter");
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->access_key_id, "AKIAEXPORT");
  EXPECT_EQ(named->secret_access_key, "exportSECRET");
  EXPECT_EQ(named->session_token, "tokTOKEN") << "not the environment's token";
  w.env["AWS_PROFILE"] = "exporter";
  auto env_profile = w.Resolve();
  ASSERT_TRUE(env_profile.ok());
  EXPECT_EQ(env_profile->access_key_id, "AKIAENV");
  // A half-set environment does not matter either when the profile is configured.
  w.env.erase("AWS_SECRET_ACCESS_KEY");
  auto half = w.Resolve({}, "default");
  ASSERT_TRUE(half.ok()) << half.status().ToString();
  EXPECT_EQ(half->access_key_id, "AKIADEFAULT");
  // Nothing there: the message says why the environment was not looked at.
  w.files.clear();
  auto missing = w.Resolve({}, "exporter");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("profile 'exporter' is configured"), std::string::npos)
      << missing.status().message();
  EXPECT_EQ(missing.status().message().find("AWS_ACCESS_KEY_ID is not set"), std::string::npos)
      << missing.status().message();
  ExpectNoSecrets(missing.status());
}

TEST(S3ClientCredentials, ProfileAndExplicitKeysAreRefusedTogether) {
  World w;
  w.env = {{"HOME", "/home/u"}};
  w.files["/home/u/.aws/credentials"] = kFile;
  auto both = w.Resolve({"AKIAEXPLICIT", "envSECRET", ""}, "exporter");
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.status().code(), WEIR_INVALID_CONFIG);
  EXPECT_NE(both.status().message().find("'exporter'"), std::string::npos)
      << both.status().message();
  ExpectNoSecrets(both.status());
}

TEST(S3ClientCredentials, MissingProfileListsWhatIsThere) {
  World w;
  w.env = {{"HOME", "/home/u"}};
  w.files["/home/u/.aws/credentials"] = kFile;
  auto c = w.Resolve({}, "nope");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), WEIR_INVALID_CONFIG);
  EXPECT_NE(c.status().message().find("'nope'"), std::string::npos);
  EXPECT_NE(c.status().message().find("/home/u/.aws/credentials"), std::string::npos);
  EXPECT_NE(c.status().message().find("default, exporter"), std::string::npos)
      << c.status().message();
  ExpectNoSecrets(c.status());
  auto broken = w.Resolve({}, "broken");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("aws_secret_access_key"), std::string::npos);
  ExpectNoSecrets(broken.status());
}

TEST(S3ClientCredentials, NothingAnywhereSaysWhereItLooked) {
  World w;
  w.env = {{"HOME", "/home/u"}};
  auto c = w.Resolve();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_NE(c.status().message().find("/home/u/.aws/credentials"), std::string::npos);
}

TEST(S3ClientCredentials, RealEnvironmentAndFile) {
  // The public entry point reads the process environment and a real file.
  char dir[] = "/tmp/weir-creds-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/credentials";
  std::ofstream(path) << kFile;
  auto saved = [](const char* n) {
    const char* v = std::getenv(n);
    return v == nullptr ? std::optional<std::string>() : std::optional<std::string>(v);
  };
  const auto saved_id = saved("AWS_ACCESS_KEY_ID");
  const auto saved_secret = saved("AWS_SECRET_ACCESS_KEY");
  // Each ctest test runs in its own process, so changing this process's environment is safe.
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  setenv("AWS_SHARED_CREDENTIALS_FILE", path.c_str(), 1);
  auto c = ResolveCredentials({}, "exporter");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAEXPORT");
  if (saved_id) setenv("AWS_ACCESS_KEY_ID", saved_id->c_str(), 1);
  if (saved_secret) setenv("AWS_SECRET_ACCESS_KEY", saved_secret->c_str(), 1);
  std::remove(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace weir::s3
