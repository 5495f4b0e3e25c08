// tests/observe/cli_test.cpp — `weir status` and `weir metrics` through the real binary, with
// the file test plugins and real runs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "weir_process.hpp"

namespace {

namespace fs = std::filesystem;
using weir::test::ProcessResult;

class ObserveCli : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "pipelines");
    fs::create_directories(dir_.path() / "data");
  }

  void AppendEvents(int first, int n) {
    std::ofstream out(dir_.path() / "source.ndjson", std::ios::app);
    for (int i = first; i < first + n; ++i) {
      out << R"({"event":"page_view","time":)" << (1700000000000LL + i * 1000LL)
          << R"(,"distinct_id":"u)" << i << R"(","insert_id":"ev-)" << i << R"(","properties":{}})"
          << "\n";
    }
  }

  void WritePipeline(const std::string& name, const std::string& extra = "") {
    std::ofstream(dir_.path() / "pipelines" / (name + ".json"))
        << R"({"name":")" << name << R"(","project":"demo","stream":"events",
      "source":{"plugin":"file-source","config":{"path":")"
        << (dir_.path() / "source.ndjson").string() << R"("}},
      "destination":{"plugin":"file-destination","config":{"dir":")"
        << (dir_.path() / ("out-" + name)).string() << R"("}},"batch":{"max_records":20})" << extra
        << "}";
  }

  ProcessResult Weir(const std::vector<std::string>& rest) {
    return weir::test::WaitProcess(weir::test::StartProcess(
        weir::test::WeirCommand(WEIR_BINARY, dir_.path(), WEIR_PLUGINS_DIR, rest), dir_.path()));
  }

  static std::vector<std::string> Lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string l;
    while (std::getline(in, l)) out.push_back(l);
    return out;
  }

  static std::string LineWith(const std::string& text, const std::string& start) {
    for (const auto& l : Lines(text)) {
      if (l.rfind(start, 0) == 0) return l;
    }
    return "";
  }

  weir::test::TempDir dir_{"weir-observe-cli"};
};

TEST_F(ObserveCli, StatusShowsPhasesWatermarkAndBrokenFiles) {
  AppendEvents(0, 50);
  WritePipeline("demo", R"(,"schedule":{"every":"2h"})");
  WritePipeline("other");
  ASSERT_EQ(Weir({"-q", "run", "demo"}).code, 0);
  ProcessResult r = Weir({"status"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("weir serve is not running"), std::string::npos) << r.out;
  const std::string demo = LineWith(r.out, "demo ");
  const std::string other = LineWith(r.out, "other ");
  EXPECT_NE(demo.find("incremental"), std::string::npos) << r.out;
  // The file source's watermark is the count of records read (8 bytes, big-endian): 50.
  EXPECT_NE(demo.find("0000000000000032"), std::string::npos) << demo;
  EXPECT_NE(demo.find("succeeded"), std::string::npos) << demo;
  EXPECT_NE(demo.find("due now"), std::string::npos) << demo;  // never fired by serve
  EXPECT_NE(other.find("new"), std::string::npos) << r.out;
  EXPECT_NE(other.find("never"), std::string::npos) << other;
  EXPECT_NE(other.find("manual"), std::string::npos) << other;

  std::ofstream(dir_.path() / "pipelines" / "broken.json") << R"({"name":"broken")";
  r = Weir({"status"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("broken.json"), std::string::npos) << r.err;
  EXPECT_NE(LineWith(r.out, "demo ").find("incremental"), std::string::npos) << r.out;
}

TEST_F(ObserveCli, StatusSaysWhenServeHoldsTheDataDirectory) {
  WritePipeline("demo");
  // What a running `weir serve` does: an exclusive flock on serve.lock holding its pid.
  const fs::path lock = dir_.path() / "data" / "serve.lock";
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const std::string pid = std::to_string(::getpid());
  ASSERT_EQ(::write(fd, pid.data(), pid.size()), static_cast<ssize_t>(pid.size()));
  ProcessResult r = Weir({"status"});
  EXPECT_NE(r.out.find("weir serve is running (pid " + pid + ")"), std::string::npos) << r.out;
  r = Weir({"status", "--json"});
  EXPECT_NE(r.out.find("\"pid\":" + pid), std::string::npos) << r.out;
  ::close(fd);
  r = Weir({"status"});
  EXPECT_NE(r.out.find("weir serve is not running"), std::string::npos) << r.out;
}

TEST_F(ObserveCli, StatusJsonIsOneDocument) {
  AppendEvents(0, 30);
  WritePipeline("demo");
  ASSERT_EQ(Weir({"-q", "run", "demo"}).code, 0);
  ProcessResult r = Weir({"status", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
  EXPECT_TRUE(doc["serve"].is_null());
  simdjson::dom::element p = doc["pipelines"].at(0);
  EXPECT_EQ(std::string_view(p["name"]), "demo");
  EXPECT_EQ(std::string_view(p["phase"]), "incremental");
  EXPECT_EQ(uint64_t(p["committed_rows"]), 30u);
  EXPECT_EQ(uint64_t(p["committed_batches"]), 2u);  // 20 + 10
  EXPECT_EQ(std::string_view(p["last_run"]["status"]), "succeeded");
  EXPECT_GE(int64_t(p["lag_ms"]), 0);
  EXPECT_EQ(r.out.find(dir_.str() + "/out-demo"), std::string::npos)
      << "plugin configs must not be printed";
}

TEST_F(ObserveCli, MetricsListsRunsOldestFirstWithSparkline) {
  WritePipeline("demo");
  AppendEvents(0, 50);
  ASSERT_EQ(Weir({"-q", "run", "demo"}).code, 0);
  AppendEvents(50, 40);
  ASSERT_EQ(Weir({"-q", "run", "demo"}).code, 0);
  ASSERT_EQ(Weir({"-q", "run", "demo"}).code, 0);  // no_data

  ProcessResult r = Weir({"metrics", "demo", "--sparkline"});
  ASSERT_EQ(r.code, 0) << r.err;
  // Rows 50, 40, 0 scale to 7/7, 6/7 (40/50*7 = 5.6) and 0/7 of the bar height.
  EXPECT_EQ(LineWith(r.out, "rows  "), "rows  \u2588\u2587\u2581  max 50") << r.out;
  EXPECT_NE(LineWith(r.out, "bytes ").find("\u2588\u2587\u2581"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 runs: 90 rows"), std::string::npos) << r.out;
  const std::string first = LineWith(r.out, "1 ");
  const std::string third = LineWith(r.out, "3 ");
  EXPECT_NE(first.find("succeeded"), std::string::npos) << r.out;
  EXPECT_NE(third.find("no_data"), std::string::npos) << r.out;
  EXPECT_LT(r.out.find(first), r.out.find(third)) << "newest last";

  // stdout is a file here, not a terminal: no sparkline unless asked for.
  r = Weir({"metrics", "demo", "--limit", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("\u2581"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 runs: 40 rows"), std::string::npos) << r.out;

  r = Weir({"metrics", "demo", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  simdjson::dom::parser parser;
  const uint64_t expected_rows[] = {50, 40, 0};
  int64_t last_id = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(lines[i]).get(doc), simdjson::SUCCESS) << lines[i];
    EXPECT_EQ(uint64_t(doc["rows"]), expected_rows[i]) << lines[i];
    EXPECT_GT(int64_t(doc["id"]), last_id);
    last_id = int64_t(doc["id"]);
    EXPECT_GE(int64_t(doc["duration_ms"]), 0);
  }
}

TEST_F(ObserveCli, MetricsRefusesUnknownPipelinesAndBadLimits) {
  ProcessResult r = Weir({"metrics", "nosuch"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nosuch"), std::string::npos) << r.err;
  WritePipeline("demo");
  r = Weir({"metrics", "demo", "--limit", "0"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--limit"), std::string::npos) << r.err;
  r = Weir({"metrics", "demo"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("no runs of 'demo' yet"), std::string::npos) << r.out;
}

TEST_F(ObserveCli, HelpTeaches) {
  ProcessResult r = Weir({"metrics", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Usage: weir metrics PIPELINE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--sparkline"), std::string::npos);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos);
  r = Weir({"status", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("lag (time since the latest run that ended"), std::string::npos) << r.out;
}

}  // namespace
