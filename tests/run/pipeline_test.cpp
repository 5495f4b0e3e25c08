// tests/run/pipeline_test.cpp — pipeline definition parsing: defaults, ${ENV} resolution, and
// errors that name the file and the JSON path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "pipeline/pipeline.hpp"

namespace fs = std::filesystem;
using weir::host::LoadPipelineFile;

namespace {

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/weir-pipeline-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& name, const std::string& json) {
    fs::path p = dir_ / (name + ".json");
    std::ofstream(p) << json;
    return p;
  }
  weir::host::EnvLookup Env() const {
    return [this](const std::string& k) -> std::optional<std::string> {
      auto it = env_.find(k);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }
  std::string Error(const std::string& name, const std::string& json) {
    auto r = LoadPipelineFile(Write(name, json), Env());
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.status().message();
  }

  fs::path dir_;
  std::map<std::string, std::string> env_;
};

const char* kMinimal =
    R"({"name":"p1","project":"demo","source":{"plugin":"file-source","config":{"path":"/x"}},
        "destination":{"plugin":"s3","config":{"secret":"${S3_SECRET}","lit":"$${NOT_ENV}",
        "n":[1,2.5,true,null,{"a":"q\"uote"}]}}})";

TEST_F(PipelineTest, MinimalFileGetsDefaultsAndResolvesEnv) {
  env_["S3_SECRET"] = "hunter2";
  auto r = LoadPipelineFile(Write("p1", kMinimal), Env());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->name, "p1");
  EXPECT_EQ(r->stream, "events");
  EXPECT_EQ(r->batch.max_records, 100000u);
  EXPECT_EQ(r->retry.max_attempts, 6);
  EXPECT_EQ(r->schedule.kind, weir::host::Schedule::Kind::kNone);
  EXPECT_EQ(r->source.config_json, R"({"path":"/x"})");
  EXPECT_EQ(r->destination.config_json,
            R"({"secret":"hunter2","lit":"${NOT_ENV}","n":[1,2.5,true,null,{"a":"q\"uote"}]})");
  // The raw form keeps the reference, so printing a pipeline never prints the secret.
  EXPECT_NE(r->destination.config_raw.find("${S3_SECRET}"), std::string::npos);
  EXPECT_EQ(r->destination.config_raw.find("hunter2"), std::string::npos);
}

TEST_F(PipelineTest, MissingEnvVariableNamesPathAndVariable) {
  std::string e = Error("p1", kMinimal);
  EXPECT_NE(e.find("p1.json: $.destination.config.secret: environment variable S3_SECRET is not "
                   "set"),
            std::string::npos)
      << e;
}

TEST_F(PipelineTest, ErrorsNameFileAndJsonPath) {
  struct Case {
    const char* json;
    const char* expect;
  } cases[] = {
      {"not json", "not valid JSON"},
      {"[]", "$: expected an object, found an array"},
      {R"({"project":"x"})", "$.name: required (a string)"},
      {R"({"name":"c","project":"x"})", "$.source: required (an object)"},
      {R"({"name":"c","project":"","source":{"plugin":"a"},"destination":{"plugin":"b"}})",
       "$.project: must not be empty"},
      {R"({"name":"c","project":7,"source":{"plugin":"a"},"destination":{"plugin":"b"}})",
       "$.project: expected a string, got number"},
      {R"({"name":"Bad Name","project":"x"})", "$.name: 'Bad Name' is not a valid name"},
      {R"({"name":"other","project":"x"})", "must equal the file name"},
      {R"({"name":"c","project":"x","source":{"plugin":"a"},"destination":{"plugin":"b"},
          "batch":{"max_records":0}})",
       "$.batch.max_records: must be between 1 and 100000000"},
      {R"({"name":"c","project":"x","source":{"plugin":"a"},"destination":{"plugin":"b"},
          "batch":{"max_bytes":"big"}})",
       "$.batch.max_bytes: expected an integer, got string"},
      {R"({"name":"c","project":"x","source":{"plugin":"a"},"destination":{"plugin":"b"},
          "schedule":{"every":"25h"}})",
       "$.schedule.every: expected \"Nh\" (N from 1 to 23)"},
      {R"({"name":"c","project":"x","source":{"plugin":"a"},"destination":{"plugin":"b"},
          "schedule":{"every":"60m"}})",
       "$.schedule.every: expected \"Nh\" (N from 1 to 23), \"Nm\" or \"Ns\" (N from 1 to 59), "
       "found \"60m\""},
      {R"({"name":"c","project":"x","source":{"plugin":"a"},"destination":{"plugin":"b"},
          "schedule":{"every":"0s"}})",
       "$.schedule.every: expected"},
      {R"({"name":"c","project":"x","source":{"plugin":"a"},"destination":{"plugin":"b"},
          "schedule":{"daily":"02:00","timezone":"Europe/Atlantis"}})",
       "$.schedule.timezone: unknown time zone \"Europe/Atlantis\""},
      {R"({"name":"c","project":"x","source":{"plugin":"a"},"destination":{"plugin":"b"},
          "schedule":{"daily":"02:00","timezone":"../../etc/passwd"}})",
       "$.schedule.timezone: unknown time zone"},
      {R"({"name":"c","project":"x","source":{"plugin":"a"},"destination":{"plugin":"b"},
          "schedule":{"daily":"24:00"}})",
       "$.schedule.daily: expected \"HH:MM\""},
      {R"({"name":"c","project":"x","source":{"plugin":"a","config":[]},
          "destination":{"plugin":"b"}})",
       "$.source.config: expected an object, found an array"},
      {R"({"name":"c","project":"x","source":{"plugin":"a"},"destination":{"plugin":"b"},
          "batchh":{}})",
       "$.batchh: unknown key (known keys: name, project, stream, source, destination, "
       "schedule, start, batch, retry, description)"},
      {R"({"name":"c","project":"x","source":{"plugin":"a"},"destination":{"plugin":"b"},
          "retry":{"initial_backoff_ms":100,"max_backoff_ms":10}})",
       "$.retry.max_backoff_ms: must be at least initial_backoff_ms"},
      {R"({"name":"c","project":"x","source":{"plugin":"a","config":{"k":"${unterminated"}},
          "destination":{"plugin":"b"}})",
       "$.source.config.k: unterminated ${...} reference"},
  };
  for (const auto& c : cases) {
    std::string e = Error("c", c.json);
    EXPECT_NE(e.find(c.expect), std::string::npos) << "json: " << c.json << "\nerror: " << e;
    EXPECT_NE(e.find(".json"), std::string::npos) << "error must name the file: " << e;
  }
}

// Every error below is pinned to its exact text: "<file>: <json path>: <problem>".
class PipelineErrorTest : public PipelineTest {
 protected:
  void ExpectError(const std::string& json, const std::string& expect) {
    auto r = LoadPipelineFile(Write("c", json), Env());
    ASSERT_FALSE(r.ok()) << json;
    EXPECT_EQ(r.status().code(), WEIR_INVALID_CONFIG);
    EXPECT_EQ(r.status().message(), (dir_ / "c.json").string() + ": " + expect) << json;
  }
};

// simdjson's DOM keeps both members of {"project":"a","project":"b"} and a lookup finds the
// first, so a key given twice used to pass silently with one of its values ignored.
TEST_F(PipelineErrorTest, DuplicateTopLevelKeyIsRefused) {
  ExpectError(R"({"name":"c","project":"a","project":"b","source":{"plugin":"a"},
                  "destination":{"plugin":"b"}})",
              "$.project: given more than once");
  ExpectError(R"({"name":"c","project":"a","source":{"plugin":"a"},"destination":{"plugin":"b"},
                  "source":{"plugin":"c"}})",
              "$.source: given more than once");
}

TEST_F(PipelineErrorTest, DuplicateKeyInsideBatchIsRefused) {
  // The second value is out of range: it must not be hidden behind the first.
  ExpectError(R"({"name":"c","project":"a","source":{"plugin":"a"},"destination":{"plugin":"b"},
                  "batch":{"max_records":10,"max_records":0}})",
              "$.batch.max_records: given more than once");
}

TEST_F(PipelineErrorTest, DuplicateKeysInNestedObjectsAreRefused) {
  ExpectError(R"({"name":"c","project":"a","source":{"plugin":"a","plugin":"b"},
                  "destination":{"plugin":"b"}})",
              "$.source.plugin: given more than once");
  ExpectError(R"({"name":"c","project":"a","source":{"plugin":"a"},"destination":{"plugin":"b"},
                  "retry":{"max_attempts":2,"max_attempts":3}})",
              "$.retry.max_attempts: given more than once");
  ExpectError(R"({"name":"c","project":"a","source":{"plugin":"a"},"destination":{"plugin":"b"},
                  "schedule":{"every":"1h","every":"2h"}})",
              "$.schedule.every: given more than once");
}

// A NUL byte is valid JSON (\u0000) but the project reaches plugins as a C string, where it
// would be cut at the NUL.
TEST_F(PipelineErrorTest, NulByteInProjectIsRefused) {
  ExpectError(R"({"name":"c","project":"de\u0000mo","source":{"plugin":"a"},
                  "destination":{"plugin":"b"}})",
              "$.project: must not contain a NUL byte");
}

TEST_F(PipelineErrorTest, NulByteInAnyStringFieldIsRefused) {
  ExpectError(R"({"name":"c","project":"a","stream":"events\u0000","source":{"plugin":"a"},
                  "destination":{"plugin":"b"}})",
              "$.stream: must not contain a NUL byte");
  ExpectError(R"({"name":"c","project":"a","source":{"plugin":"a\u0000b"},
                  "destination":{"plugin":"b"}})",
              "$.source.plugin: must not contain a NUL byte");
  ExpectError(R"({"name":"c","project":"a","source":{"plugin":"a"},"destination":{"plugin":"b"},
                  "schedule":{"daily":"02:00","timezone":"UTC\u0000"}})",
              "$.schedule.timezone: must not contain a NUL byte");
  ExpectError(R"({"name":"c","project":"a","source":{"plugin":"a"},"destination":{"plugin":"b"},
                  "description":"x\u0000y"})",
              "$.description: must not contain a NUL byte");
  ExpectError(R"({"name":"c","project":"a","source":{"plugin":"a"},"destination":{"plugin":"b"},
                  "description":5})",
              "$.description: expected a string, got number");
}

TEST_F(PipelineTest, SchedulesParse) {
  auto r = LoadPipelineFile(
      Write("s", R"({"name":"s","project":"x","source":{"plugin":"a"},
                     "destination":{"plugin":"b"},
                     "schedule":{"daily":"02:30","timezone":"Europe/Berlin"}})"),
      Env());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->schedule.ToString(), "daily at 02:30 Europe/Berlin");
  auto e = LoadPipelineFile(Write("e", R"({"name":"e","project":"x","source":{"plugin":"a"},
                                           "destination":{"plugin":"b"},
                                           "schedule":{"every":"6h"}})"),
                            Env());
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->schedule.every_seconds, 6 * 3600);
  EXPECT_EQ(e->schedule.ToString(), "every 6h");
  auto m = LoadPipelineFile(Write("m", R"({"name":"m","project":"x","source":{"plugin":"a"},
                                           "destination":{"plugin":"b"},
                                           "schedule":{"every":"15m"}})"),
                            Env());
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->schedule.every_seconds, 15 * 60);
  EXPECT_EQ(m->schedule.ToString(), "every 15m");
  auto sec = LoadPipelineFile(Write("sec", R"({"name":"sec","project":"x","source":{"plugin":"a"},
                                           "destination":{"plugin":"b"},
                                           "schedule":{"every":"30s"}})"),
                              Env());
  ASSERT_TRUE(sec.ok()) << sec.status().message();
  EXPECT_EQ(sec->schedule.every_seconds, 30);
  EXPECT_EQ(sec->schedule.ToString(), "every 30s");
}

TEST_F(PipelineTest, DirectoryScanReportsEachBadFileAndKeepsGoodOnes) {
  env_["S3_SECRET"] = "x";
  Write("p1", kMinimal);
  Write("zz", "{");
  auto scan = weir::host::LoadPipelineDir(dir_, Env());
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->pipelines.size(), 1u);
  ASSERT_EQ(scan->errors.size(), 1u);
  EXPECT_NE(scan->errors[0].find("zz.json"), std::string::npos);
  EXPECT_FALSE(weir::host::LoadPipelineDir(dir_ / "missing", Env()).ok());
}

}  // namespace
