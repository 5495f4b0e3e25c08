// tests/s3/plugin/moto_test.cpp — the s3 plugin against a real moto_server with SigV4
// verification on (tests/s3/moto): whole exports through `weir run` with path-style and
// virtual-hosted addressing, read back with the machine's `aws s3 ls` / `aws s3 cp`; replays;
// multipart objects; injected 503/500/dropped connections (the fault proxy) retried and counted
// in the run's metrics; check() errors that name the step and the key id but never the secret.
// Each test starts its own moto; without moto_server (or aws) they skip, and fail when CI=true.
#include "moto.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "fault_proxy.hpp"
#include "object_store.hpp"
#include "subprocess.hpp"
#include "test_util.hpp"

namespace weir::s3_test {
namespace {

namespace fs = std::filesystem;
using s3test::CommandResult;
using s3test::EnvVars;

constexpr int64_t kDayStart = 1763769600000;  // 2025-11-22T00:00:00Z

class S3PluginMoto : public s3test::MotoTest {
 protected:
  void SetUp() override {
    s3test::MotoTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    fs::create_directories(dir_ / "pipelines");
  }

  /// `n` events over a day (every 9th two days late), as the source file.
  void WriteEvents(int n) {
    std::string lines;
    for (int i = 0; i < n; ++i) {
      int64_t t = kDayStart + (static_cast<int64_t>(i) * 7919 % 86400) * 1000;
      if (i % 9 == 4) t = kDayStart - 2 * 86400000 + (i / 9 % 3) * 3600000 + i;  // late, 3 hours
      lines += EventJson(i, t, 120 + i % 300) + "\n";
    }
    WriteFile(dir_ / "source.ndjson", lines);
  }

  /// A pipeline exporting the source file to s3://<bucket>/exports through `endpoint`; the keys
  /// come from ${ENV} references resolved by the host.
  void WritePipeline(const std::string& name, const std::string& bucket,
                     const std::string& endpoint, const std::string& addressing,
                     const std::string& extra = "") {
    const std::string json =
        R"({"name":")" + name + R"(","project":"demo","stream":"events",
        "source":{"plugin":"file-source","config":{"path":)" +
        JsonString(dir_ / "source.ndjson") +
        R"(}},"destination":{"plugin":"s3","config":{"url":"s3://)" + bucket +
        R"(/exports","endpoint":")" + endpoint + R"(","addressing":")" + addressing +
        R"(","access_key_id":"${WEIR_S3_TEST_KEY_ID}","secret_access_key":"${WEIR_S3_TEST_SECRET}")" +
        extra + R"(}},"batch":{"max_records":400},
        "retry":{"max_attempts":8,"initial_backoff_ms":10,"max_backoff_ms":200}})";
    WriteFile(dir_ / ("pipelines/" + name + ".json"), json);
  }

  CommandResult Weir(const std::vector<std::string>& rest) {
    std::vector<std::string> argv = {WEIR_BINARY,       "--data-dir",     dir_ / "data",
                                     "--plugins-dir",   WEIR_PLUGINS_DIR, "--pipelines-dir",
                                     dir_ / "pipelines"};
    argv.insert(argv.end(), rest.begin(), rest.end());
    return s3test::RunCommand(argv,
                              {{"WEIR_S3_TEST_KEY_ID", moto_->credentials().access_key_id},
                               {"WEIR_S3_TEST_SECRET", moto_->credentials().secret_access_key}});
  }

  EnvVars AwsEnv() const {
    return {{"AWS_ACCESS_KEY_ID", moto_->credentials().access_key_id},
            {"AWS_SECRET_ACCESS_KEY", moto_->credentials().secret_access_key},
            {"AWS_DEFAULT_REGION", "us-east-1"},
            {"AWS_CONFIG_FILE", dir_ / "no-aws-config"},
            {"AWS_SHARED_CREDENTIALS_FILE", dir_ / "no-aws-credentials"},
            {"AWS_EC2_METADATA_DISABLED", "true"},
            {"AWS_PAGER", ""}};
  }

  /// Lists the bucket with `aws s3 ls`, copies it with `aws s3 cp --recursive`, decompresses
  /// and parses every object, and returns each exported line → times seen. `*keys` gets the
  /// listed keys.
  std::map<std::string, int> ReadBackWithAwsCli(const std::string& bucket,
                                                std::vector<std::string>* keys) {
    std::map<std::string, int> seen;
    // No prefix: moto cannot verify a list prefix containing '/' (tests/s3/moto/moto.hpp).
    auto ls = s3test::RunCommand(
        {"aws", "--endpoint-url", moto_->endpoint(), "s3", "ls", "--recursive", "s3://" + bucket},
        AwsEnv());
    EXPECT_EQ(ls.exit_code, 0) << ls.err;
    for (const std::string& line : Lines(ls.out)) {
      const size_t at = line.rfind(' ');
      if (at != std::string::npos) keys->push_back(line.substr(at + 1));
    }
    const std::string local = dir_ / ("copy-" + bucket);
    auto cp = s3test::RunCommand({"aws", "--endpoint-url", moto_->endpoint(), "s3", "cp",
                                  "--recursive", "--only-show-errors", "s3://" + bucket, local},
                                 AwsEnv());
    EXPECT_EQ(cp.exit_code, 0) << cp.err;
    simdjson::dom::parser parser;
    size_t objects = 0;
    for (const auto& [path, bytes] : ReadTree(local)) {
      ++objects;
      for (const std::string& line : Lines(DecodeObject(path, bytes))) {
        simdjson::dom::element doc;
        EXPECT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << path << ": " << line;
        std::string_view insert_id;
        EXPECT_EQ(doc["insert_id"].get(insert_id), simdjson::SUCCESS) << line;
        ++seen[line];
      }
    }
    EXPECT_EQ(objects, keys->size()) << "aws s3 cp copied what aws s3 ls listed";
    return seen;
  }

  void ExpectSourceExactly(const std::map<std::string, int>& seen) {
    std::map<std::string, int> want;
    for (const std::string& line : Lines(ReadFile(dir_ / "source.ndjson"))) ++want[line];
    EXPECT_EQ(seen.size(), want.size());
    EXPECT_TRUE(seen == want) << "the exported records differ from the source";
  }

  void ExportAndReadBack(const std::string& endpoint, const std::string& addressing) {
    if (!s3test::FindOnPath("aws")) WEIR_S3TEST_MISSING("the aws CLI is not on PATH");
    const std::string bucket = NewBucket();
    WriteEvents(600);
    WritePipeline("demo", bucket, endpoint, addressing);
    CommandResult r = Weir({"run", "demo", "--no-progress"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("succeeded: 600 rows"), std::string::npos) << r.out;
    std::vector<std::string> keys;
    ExpectSourceExactly(ReadBackWithAwsCli(bucket, &keys));
    ASSERT_FALSE(keys.empty());
    std::set<std::string> folders;
    for (const auto& k : keys) {
      EXPECT_EQ(k.rfind("exports/demo/mp_master_event/", 0), 0u) << k;
      folders.insert(k.substr(0, k.rfind('/')));
    }
    EXPECT_EQ(folders.size(), 27u) << "a day of hours plus the late events' three hours";
    EXPECT_TRUE(folders.count("exports/demo/mp_master_event/2025/11/22/00"));
    EXPECT_TRUE(folders.count("exports/demo/mp_master_event/2025/11/20/02"));
    // The secret never shows: not in the run's output nor in its log.
    CommandResult logs = Weir({"logs", "1"});
    for (const std::string* text : {&r.out, &r.err, &logs.out, &logs.err}) {
      EXPECT_EQ(text->find(moto_->credentials().secret_access_key), std::string::npos) << *text;
    }
  }

  TempDir dir_;
};

TEST_F(S3PluginMoto, ExportWithPathStyleReadsBackWithTheAwsCli) {
  ExportAndReadBack(moto_->endpoint(), "path");
}

TEST_F(S3PluginMoto, ExportWithVirtualHostedStyleReadsBackWithTheAwsCli) {
  ExportAndReadBack(moto_->virtual_endpoint(), "virtual");
}

std::string PluginConfig(const s3test::MotoServer& moto, const std::string& bucket,
                         const std::string& extra = "", const std::string& secret = "") {
  return R"({"url":"s3://)" + bucket + R"(/exports","endpoint":")" + moto.endpoint() +
         R"(","access_key_id":")" + moto.credentials().access_key_id +
         R"(","secret_access_key":")" +
         (secret.empty() ? moto.credentials().secret_access_key : secret) + "\"" + extra + "}";
}

/// Every object in the bucket → its bytes.
std::map<std::string, std::string> Snapshot(s3::ObjectStore& store) {
  std::map<std::string, std::string> out;
  auto keys = store.List("");
  EXPECT_TRUE(keys.ok()) << keys.status().ToString();
  if (!keys.ok()) return out;
  for (const auto& k : *keys) {
    auto got = store.Get(k);
    EXPECT_TRUE(got.ok() && got->has_value()) << k;
    if (got.ok() && got->has_value()) out[k] = **got;
  }
  return out;
}

TEST_F(S3PluginMoto, ReplayedBatchRewritesTheSameKeysWithTheSameBytes) {
  const std::string bucket = NewBucket();
  auto store = s3::MakeS3ObjectStore(Config(bucket), {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::map<std::string, std::string> first;
  for (const std::string extra : {"", R"(,"conditional_writes":true)", R"(,"parallelism":1)"}) {
    S3Instance s3(PluginConfig(*moto_, bucket, R"(,"max_object_bytes":20000)" + extra));
    ASSERT_TRUE(s3.status().ok()) << s3.status().ToString();
    OwnedBatch batch;
    for (int i = 0; i < 600; ++i) {
      const int64_t t = kDayStart + (i % 5) * 3600000 + i;
      batch.Add(EventJson(i, t, 100), t);
    }
    Status w = s3.Write(batch.Finish(), 3);
    ASSERT_TRUE(w.ok()) << extra << ": " << w.ToString();
    auto now = Snapshot(**store);
    if (first.empty()) {
      first = now;
      EXPECT_GT(first.size(), 5u);
    } else {
      EXPECT_TRUE(now == first) << "replay with" << extra << " changed the bucket";
    }
  }
}

TEST_F(S3PluginMoto, LargeObjectIsUploadedInPartsAndReadsBackWhole) {
  const std::string bucket = NewBucket();
  int multipart_requests = 0;
  std::mutex mu;
  s3test::FaultProxy proxy(moto_->port(), [&](const s3test::ProxiedRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    if (r.target.find("uploadId=") != std::string::npos) ++multipart_requests;
    return s3test::Fault::kNone;
  });
  std::string config = PluginConfig(*moto_, bucket,
                                    R"(,"compression":"none","part_size":5242880,)"
                                    R"("max_object_bytes":33554432)");
  config.replace(config.find(moto_->endpoint()), moto_->endpoint().size(), proxy.endpoint());
  S3Instance s3(config);
  ASSERT_TRUE(s3.status().ok()) << s3.status().ToString();
  OwnedBatch batch;
  std::string expected;
  for (int i = 0; expected.size() < (12u << 20); ++i) {  // 12 MiB in one hour: 3 parts
    const std::string rec = EventJson(i, kDayStart + i, 900);
    batch.Add(rec, kDayStart + i);
    expected += rec + "\n";
  }
  Status w = s3.Write(batch.Finish(), 1);
  ASSERT_TRUE(w.ok()) << w.ToString();
  auto store = s3::MakeS3ObjectStore(Config(bucket), {});
  auto all = Snapshot(**store);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all.begin()->first,
            "exports/proj/mp_master_event/2025/11/22/00/demo-000000000001-0000.json");
  EXPECT_TRUE(all.begin()->second == expected);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_GE(multipart_requests, 4) << "3 parts and a completion";
}

TEST_F(S3PluginMoto, InjectedFaultsAreRetriedCountedAndNothingIsDuplicated) {
  if (!s3test::FindOnPath("aws")) WEIR_S3TEST_MISSING("the aws CLI is not on PATH");
  const std::string bucket = NewBucket();
  // The first PUT of every key fails, by turns with 503 SlowDown, 500 and a dropped connection.
  std::mutex mu;
  std::set<std::string> seen_targets;
  int injected = 0;
  s3test::FaultProxy proxy(moto_->port(), [&](const s3test::ProxiedRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    if (r.method != "PUT" || !seen_targets.insert(r.target).second) return s3test::Fault::kNone;
    const s3test::Fault kinds[] = {s3test::Fault::kSlowDown, s3test::Fault::kInternalError,
                                   s3test::Fault::kDrop};
    return kinds[injected++ % 3];
  });
  WriteEvents(600);
  WritePipeline("faulty", bucket, proxy.endpoint(), "path",
                R"(,"granularity":"daily","max_object_bytes":20000)");
  CommandResult r = Weir({"run", "faulty", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<std::string> keys;
  ExpectSourceExactly(ReadBackWithAwsCli(bucket, &keys));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_GE(injected, static_cast<int>(keys.size())) << "every object's first PUT failed";
    EXPECT_GE(proxy.faults(), injected);
  }
  // The client counted each retry; the host reports it in the run's metrics.
  CommandResult logs = Weir({"logs", "1"});
  const size_t at = logs.out.find("s3.retries=");
  ASSERT_NE(at, std::string::npos) << logs.out;
  EXPECT_GE(std::stoi(logs.out.substr(at + 11)), injected) << logs.out;
}

TEST_F(S3PluginMoto, CheckNamesTheFailingStepAndTheKeyIdButNeverTheSecret) {
  const std::string bucket = NewBucket();
  S3Instance good(PluginConfig(*moto_, bucket));
  Status ok = good.Check();
  EXPECT_TRUE(ok.ok()) << ok.ToString();
  auto store = s3::MakeS3ObjectStore(Config(bucket), {});
  EXPECT_TRUE(Snapshot(**store).empty()) << "the probe object is deleted again";

  const std::string wrong_secret = "wrongSECRETwrongSECRETwrongSECRET0123456";
  S3Instance bad(PluginConfig(*moto_, bucket, "", wrong_secret));
  Status s = bad.Check();
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(s.retryable()) << s.ToString();
  EXPECT_NE(
      s.message().find("check: writing probe object s3://" + bucket + "/exports/.weir-check-"),
      std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find(moto_->credentials().access_key_id), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find(wrong_secret), std::string::npos) << s.message();
  EXPECT_EQ(bad.host().Logs().find(wrong_secret), std::string::npos);

  S3Instance missing(PluginConfig(*moto_, "no-such-bucket-here"));
  Status m = missing.Check();
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.message().find("no-such-bucket-here"), std::string::npos) << m.message();
}

}  // namespace
}  // namespace weir::s3_test
