// tests/sdk_source/plugin/end_to_end_test.cpp — the sdk-source plugin inside the real `weir run`
// process: a store filled through Store::Append is exported by a pipeline
// (sdk-source -> file-destination) and the exported files hold exactly the store's records,
// byte for byte and in order; a second run exports only what arrived since.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "plugin_test_util.hpp"

extern char** environ;

namespace weir::sdksource_test {
namespace {

namespace fs = std::filesystem;
using sdksource::ProfileOp;
using sdksource::Record;
using sdksource::Stream;
using testkit_test::JsonString;
using testkit_test::ReadFile;
using testkit_test::TempDir;
using testkit_test::WriteFile;

struct ProcessResult {
  int code = -1;  ///< exit code, or 128 + signal
  std::string out, err;
};

class SdkSourcePluginEndToEnd : public testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "pipelines");
    fs::create_directories(dir_ / "collector");
  }

  std::string StoreDir() const { return dir_ / "collector/demo"; }

  void WritePipeline(const std::string& name, const std::string& stream, int max_records) {
    const std::string json = R"({"name":")" + name + R"(","project":"demo","stream":")" + stream +
                             R"(","source":{"plugin":"sdk-source","config":{"data_dir":)" +
                             JsonString(dir_ / "collector") + R"(,"project":"demo"}},)" +
                             R"("destination":{"plugin":"file-destination","config":{"dir":)" +
                             JsonString(dir_ / ("out-" + name)) + R"(}},"batch":{"max_records":)" +
                             std::to_string(max_records) + "}}";
    WriteFile(dir_ / ("pipelines/" + name + ".json"), json);
  }

  /// Runs `weir ARGS...` to completion with stdout/stderr captured in files.
  ProcessResult Weir(std::vector<std::string> rest) {
    std::vector<std::string> args = {WEIR_BINARY,       "--data-dir",     dir_ / "state",
                                     "--plugins-dir",   WEIR_PLUGINS_DIR, "--pipelines-dir",
                                     dir_ / "pipelines"};
    args.insert(args.end(), rest.begin(), rest.end());
    const std::string out = dir_ / "stdout", err = dir_ / "stderr";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ProcessResult r;
    if (rc != 0) {
      ADD_FAILURE() << "cannot start " << args[0];
      return r;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = ReadFile(out);
    r.err = ReadFile(err);
    return r;
  }

  /// The concatenation of every exported batch file of `stream`, in batch order (the file
  /// names end in the zero-padded batch sequence, so name order is batch order).
  std::string Exported(const std::string& name, const std::string& stream) const {
    std::vector<std::string> files;
    const fs::path d = fs::path(dir_ / ("out-" + name)) / stream;
    if (!fs::exists(d)) return "";
    for (const auto& f : fs::directory_iterator(d)) {
      if (f.path().extension() == ".ndjson") files.push_back(f.path());
    }
    std::sort(files.begin(), files.end());
    std::string all;
    for (const auto& f : files) all += ReadFile(f);
    return all;
  }

  TempDir dir_;
};

TEST_F(SdkSourcePluginEndToEnd, WeirRunExportsExactlyTheStoresRecords) {
  {
    auto store = OpenWriter(StoreDir());
    std::vector<Record> records;
    for (int i = 0; i < 250; ++i) {
      records.push_back(
          Record::Event(EventJson(i, 1700000000000 + 1000 * i), 1700000000000 + 1000 * i));
      if (i % 10 == 0) {
        records.push_back(
            Record::Profile("user-" + std::to_string(i % 7),
                            {Op(ProfileOp::Kind::kSet, R"({"last":)" + std::to_string(i) + "}")},
                            1700000000000 + 1000 * i));
      }
    }
    Append(*store, std::move(records));
  }
  WritePipeline("events", "events", 100);
  WritePipeline("users", "users", 10);

  ProcessResult validate = Weir({"pipeline", "validate", "events"});
  EXPECT_EQ(validate.code, 0) << validate.out << validate.err;

  ProcessResult events = Weir({"run", "events", "--no-progress"});
  ASSERT_EQ(events.code, 0) << events.out << events.err;
  EXPECT_NE(events.out.find("succeeded: 250 rows"), std::string::npos) << events.out;
  EXPECT_NE(events.out.find("3 batches"), std::string::npos) << events.out;
  EXPECT_EQ(Exported("events", "events"), ReadAll(StoreDir(), Stream::kEvents).ndjson);

  ProcessResult users = Weir({"run", "users", "--no-progress"});
  ASSERT_EQ(users.code, 0) << users.out << users.err;
  EXPECT_NE(users.out.find("succeeded: 25 rows"), std::string::npos) << users.out;
  EXPECT_EQ(Exported("users", "users"), ReadAll(StoreDir(), Stream::kUsers).ndjson);

  // New data while no run is active (the collector would hold the store open meanwhile).
  {
    auto store = OpenWriter(StoreDir());
    std::vector<Record> records;
    for (int i = 250; i < 300; ++i) {
      records.push_back(Record::Event(EventJson(i, 1600000000000 + i), 1600000000000 + i));
    }
    Append(*store, std::move(records));
    ProcessResult again = Weir({"run", "events", "--no-progress"});
    ASSERT_EQ(again.code, 0) << again.out << again.err;
    EXPECT_NE(again.out.find("succeeded: 50 rows"), std::string::npos) << again.out;
  }
  EXPECT_EQ(Exported("events", "events"), ReadAll(StoreDir(), Stream::kEvents).ndjson);
  ProcessResult none = Weir({"run", "events", "--no-progress"});
  EXPECT_NE(none.out.find("no_data: 0 rows"), std::string::npos) << none.out;
}

TEST_F(SdkSourcePluginEndToEnd, ValidateShowsChecksMessageForAMissingStore) {
  WritePipeline("missing", "events", 100);
  ProcessResult v = Weir({"pipeline", "validate", "missing"});
  EXPECT_EQ(v.code, 2) << v.out << v.err;
  EXPECT_NE((v.out + v.err).find("no store for config.project 'demo'"), std::string::npos)
      << v.out << v.err;
}

}  // namespace
}  // namespace weir::sdksource_test
