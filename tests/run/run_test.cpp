// tests/run/run_test.cpp — end-to-end tests of `weir run` as a real process: the run loop,
// retries, failures, locking, the CLI's errors, and exactly-once delivery across kill -9.
//
// Each test gets its own temp dir with a source NDJSON file, a pipelines dir and a data dir,
// and drives the real `weir` binary with the file-source / file-destination test plugins.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "weir_process.hpp"

namespace fs = std::filesystem;

namespace {

using weir::test::Process;
using ProcResult = weir::test::ProcessResult;
using weir::test::ReadWholeFile;

void WriteFile(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/weir-run-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "pipelines");
    fs::create_directories(dir_ / "out");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  /// Writes `n` events starting at index `first` to the source file (appending).
  void AppendEvents(int first, int n) {
    std::ofstream out(dir_ / "source.ndjson", std::ios::app);
    for (int i = first; i < first + n; ++i) {
      out << R"({"event":"page_view","time":)" << (1700000000000LL + i * 1000LL)
          << R"(,"distinct_id":"user-)" << (i % 97) << R"(","insert_id":"ev-)" << i
          << R"(","properties":{"i":)" << i << R"(,"path":"/p/)" << i << "\"}}\n";
    }
  }

  void WritePipeline(const std::string& name, const std::string& dest_extra,
                     int max_records = 100, const std::string& retry = "") {
    std::string json = R"({"name":")" + name + R"(","project":"demo","stream":"events",
      "source":{"plugin":"file-source","config":{"path":")" +
                       (dir_ / "source.ndjson").string() + R"("}},
      "destination":{"plugin":"file-destination","config":{"dir":")" +
                       (dir_ / "out").string() + "\"" + dest_extra + R"(}},
      "batch":{"max_records":)" + std::to_string(max_records) + "}" +
                       (retry.empty() ? "" : ",\"retry\":" + retry) + "}";
    WriteFile(dir_ / "pipelines" / (name + ".json"), json);
  }

  std::vector<std::string> Args(const std::vector<std::string>& rest) const {
    return weir::test::WeirCommand(WEIR_BINARY, dir_, WEIR_PLUGINS_DIR, rest);
  }

  Process Start(std::vector<std::string> args) { return weir::test::StartProcess(args, dir_); }
  static ProcResult Wait(const Process& p) { return weir::test::WaitProcess(p); }

  ProcResult Weir(const std::vector<std::string>& rest) { return Wait(Start(Args(rest))); }

  /// Every line of every destination file, keyed by insert_id → how many times seen.
  std::map<std::string, int> Delivered() const {
    std::map<std::string, int> seen;
    if (!fs::exists(dir_ / "out" / "events")) return seen;
    for (const auto& f : fs::directory_iterator(dir_ / "out" / "events")) {
      if (f.path().extension() != ".ndjson") continue;  // temp files of a killed write
      std::istringstream in(ReadWholeFile(f.path()));
      std::string line;
      while (std::getline(in, line)) {
        auto a = line.find("\"insert_id\":\"");
        EXPECT_NE(a, std::string::npos) << line;
        if (a == std::string::npos) continue;
        a += 13;
        seen[line.substr(a, line.find('"', a) - a)]++;
      }
    }
    return seen;
  }

  void ExpectExactlyOnce(int n) const {
    auto seen = Delivered();
    EXPECT_EQ(seen.size(), static_cast<size_t>(n));
    int dupes = 0;
    for (const auto& [id, count] : seen) dupes += count > 1 ? 1 : 0;
    EXPECT_EQ(dupes, 0) << "records delivered more than once";
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(seen.count("ev-" + std::to_string(i)), 1u) << "missing ev-" << i;
    }
  }

  fs::path dir_;
};

TEST_F(RunTest, ExportsEverythingOnceThenReportsNoData) {
  AppendEvents(0, 1000);
  WritePipeline("demo", "", 100);
  ProcResult r = Weir({"run", "demo"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("succeeded: 1000 rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("10 batches"), std::string::npos) << r.out;
  ExpectExactlyOnce(1000);
  // The source lines arrive byte-exact.
  std::string src = ReadWholeFile(dir_ / "source.ndjson");
  std::string first = src.substr(0, src.find('\n') + 1);
  EXPECT_EQ(ReadWholeFile(dir_ / "out" / "events" / "demo.events.000000000001.ndjson").substr(
                0, first.size()),
            first);

  ProcResult again = Weir({"run", "demo"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("no_data: 0 rows"), std::string::npos) << again.out;

  ProcResult runs = Weir({"runs", "demo", "--json"});
  ASSERT_EQ(runs.code, 0) << runs.err;
  EXPECT_NE(runs.out.find("\"status\":\"no_data\""), std::string::npos) << runs.out;
  EXPECT_NE(runs.out.find("\"status\":\"succeeded\",\"started_at_ms\""), std::string::npos)
      << runs.out;
  EXPECT_NE(runs.out.find("\"rows\":1000"), std::string::npos) << runs.out;
}

TEST_F(RunTest, IncrementalRunExportsOnlyNewRecords) {
  AppendEvents(0, 250);
  WritePipeline("inc", "", 100);
  ASSERT_EQ(Weir({"run", "inc"}).code, 0);
  AppendEvents(250, 130);
  ProcResult r = Weir({"run", "inc"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("succeeded: 130 rows"), std::string::npos) << r.out;
  ExpectExactlyOnce(380);
}

TEST_F(RunTest, RetryableErrorsAreRetriedAndCounted) {
  AppendEvents(0, 50);
  WritePipeline("retry", R"(,"fail_first_writes":2,"fail_retryable":true)", 100,
                R"({"max_attempts":5,"initial_backoff_ms":1,"max_backoff_ms":5})");
  ProcResult r = Weir({"run", "retry"});
  ASSERT_EQ(r.code, 0) << r.err;
  ExpectExactlyOnce(50);
  ProcResult logs = Weir({"logs", "1"});
  ASSERT_EQ(logs.code, 0) << logs.err;
  EXPECT_NE(logs.out.find("retrying"), std::string::npos) << logs.out;
  EXPECT_NE(logs.out.find("host.retries=2"), std::string::npos) << logs.out;
}

TEST_F(RunTest, RetriesStopAtTheCap) {
  AppendEvents(0, 10);
  WritePipeline("cap", R"(,"fail_first_writes":100,"fail_retryable":true)", 100,
                R"({"max_attempts":3,"initial_backoff_ms":1,"max_backoff_ms":2})");
  ProcResult r = Weir({"run", "cap"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("failed after 3 attempts"), std::string::npos) << r.err;
  EXPECT_TRUE(Delivered().empty());
}

TEST_F(RunTest, FatalErrorFailsTheRunAndTheNextRunReplaysTheSameBatch) {
  AppendEvents(0, 120);
  WritePipeline("fatal", R"(,"fail_first_writes":1,"fail_retryable":false)", 50);
  ProcResult r = Weir({"run", "fatal"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("injected failure"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("weir logs 1"), std::string::npos) << r.err;
  ProcResult show = Weir({"pipeline", "show", "fatal"});
  EXPECT_NE(show.out.find("one batch pending"), std::string::npos) << show.out;

  WritePipeline("fatal", "", 50);
  ProcResult again = Weir({"run", "fatal"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("replaying batch 1"), std::string::npos) << again.err;
  ExpectExactlyOnce(120);
  ProcResult runs = Weir({"runs", "fatal", "--json"});
  EXPECT_NE(runs.out.find("\"status\":\"failed\""), std::string::npos) << runs.out;
}

TEST_F(RunTest, SecondConcurrentRunOfThePipelineIsRefused) {
  AppendEvents(0, 40);
  WritePipeline("busy", R"(,"delay_ms":300)", 10);
  Process first = Start(Args({"run", "busy"}));
  // Wait until the first run holds the lock (its log exists).
  for (int i = 0; i < 200 && !fs::exists(dir_ / "data" / "logs" / "run-1.log"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ProcResult second = Weir({"run", "busy"});
  EXPECT_EQ(second.code, 5) << second.err;
  EXPECT_NE(second.err.find("already running"), std::string::npos) << second.err;
  ProcResult r = Wait(first);
  ASSERT_EQ(r.code, 0) << r.err;
  ExpectExactlyOnce(40);
}

TEST_F(RunTest, SigtermCancelsAndTheNextRunResumes) {
  AppendEvents(0, 60);
  WritePipeline("term", R"(,"delay_ms":200)", 10);
  Process p = Start(Args({"run", "term"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_TRUE(weir::test::Signal(p, SIGTERM)) << p.start_error;
  ProcResult r = Wait(p);
  EXPECT_EQ(r.code, 130) << r.err;
  ProcResult runs = Weir({"runs", "term", "--json"});
  EXPECT_NE(runs.out.find("\"status\":\"cancelled\""), std::string::npos) << runs.out;
  WritePipeline("term", "", 10);
  ASSERT_EQ(Weir({"run", "term"}).code, 0);
  ExpectExactlyOnce(60);
}

TEST_F(RunTest, BadPipelineFileNamesFileAndField) {
  WriteFile(dir_ / "pipelines" / "bad.json",
            R"({"name":"bad","project":"p","source":{"plugin":"file-source"},
                "destination":{"plugin":"file-destination"},"batch":{"max_records":"many"}})");
  ProcResult r = Weir({"run", "bad"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad.json: $.batch.max_records: expected an integer, got string"),
            std::string::npos)
      << r.err;
  ProcResult v = Weir({"pipeline", "validate"});
  EXPECT_EQ(v.code, 2);
  EXPECT_NE(v.out.find("INVALID"), std::string::npos) << v.out;
}

TEST_F(RunTest, MissingEnvSecretIsNamedButNeverPrinted) {
  AppendEvents(0, 5);
  WriteFile(dir_ / "pipelines" / "sec.json",
            R"({"name":"sec","project":"p","source":{"plugin":"file-source","config":{"path":")" +
                (dir_ / "source.ndjson").string() +
                R"("}},"destination":{"plugin":"file-destination","config":{"dir":"${WEIR_TEST_UNSET_DIR_VAR}"}}})");
  ProcResult r = Weir({"run", "sec"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("$.destination.config.dir: environment variable WEIR_TEST_UNSET_DIR_VAR "
                       "is not set"),
            std::string::npos)
      << r.err;
}

TEST_F(RunTest, UnknownPluginAndWrongKindAreClear) {
  AppendEvents(0, 5);
  WriteFile(dir_ / "pipelines" / "nop.json",
            R"({"name":"nop","project":"p","source":{"plugin":"no-such-plugin"},
                "destination":{"plugin":"file-destination","config":{"dir":"/tmp"}}})");
  ProcResult r = Weir({"run", "nop"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("no plugin named 'no-such-plugin'"), std::string::npos) << r.err;
  WriteFile(dir_ / "pipelines" / "kind.json",
            R"({"name":"kind","project":"p","source":{"plugin":"file-destination"},
                "destination":{"plugin":"file-destination","config":{"dir":"/tmp"}}})");
  ProcResult k = Weir({"run", "kind"});
  EXPECT_EQ(k.code, 3);
  EXPECT_NE(k.err.find("is a destination, not a source"), std::string::npos) << k.err;
}

TEST_F(RunTest, PluginConfigErrorsAreShownAsThePluginSaysThem) {
  WriteFile(dir_ / "pipelines" / "cfg.json",
            R"({"name":"cfg","project":"p","source":{"plugin":"file-source","config":{"path":7}},
                "destination":{"plugin":"file-destination","config":{"dir":"/tmp"}}})");
  ProcResult v = Weir({"pipeline", "validate", "cfg"});
  EXPECT_EQ(v.code, 2);
  EXPECT_NE(v.out.find("cfg.json: source 'file-source' config"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("path"), std::string::npos) << v.out;
}

// The acceptance test for DESIGN.md §4: kill -9 a real `weir run` at random moments, many
// times, then let it finish; every source record is in the destination exactly once.
TEST_F(RunTest, KillNineAtRandomMomentsLosesAndDuplicatesNothing) {
  const int kRecords = 6000;
  AppendEvents(0, kRecords);
  // delay_ms widens the window between the destination's write and the host's commit.
  WritePipeline("crash", R"(,"delay_ms":10)", 20);
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> wait_ms(0, 60);
  int killed = 0;
  int replays = 0;
  int next = kRecords;
  for (int i = 0; i < 40; ++i) {
    ProcResult r = weir::test::KillMidRun(Start(Args({"run", "crash", "--no-progress"})),
                                          std::chrono::milliseconds(wait_ms(rng)));
    if (r.code == 128 + SIGKILL) ++killed;
    replays += weir::test::CountOccurrences(r.err, "replaying batch");
    ASSERT_TRUE(r.code == 128 + SIGKILL || r.code == 0) << r.code << " " << r.err;
    if (i % 10 == 9) {  // data keeps arriving while runs crash
      AppendEvents(next, 10);
      next += 10;
    }
  }
  ProcResult last = Weir({"run", "crash", "--no-progress"});
  ASSERT_EQ(last.code, 0) << last.err;
  EXPECT_GE(killed, 20) << "too few runs were actually killed to prove anything";
  // Kills land between intent and commit often enough that later runs replay pending batches;
  // without any replay the crash window was never exercised.
  EXPECT_GE(replays, 1) << "no run ever replayed a pending batch";
  std::printf("killed %d runs, %d pending batches replayed\n", killed, replays);
  ExpectExactlyOnce(next);
  ProcResult runs = Weir({"runs", "crash", "--json", "--limit", "100"});
  EXPECT_NE(runs.out.find("\"status\":\"interrupted\""), std::string::npos) << runs.out;
}

}  // namespace

namespace {

// `weir plugins ...` over the real plugin directories: the good ones list, every bad one is
// refused with its own reason, and `plugins check` runs the conformance kit.
class CliPlugins : public RunTest {
 protected:
  ProcResult Plugins(std::vector<std::string> rest, const std::string& dirs) {
    std::vector<std::string> a = {WEIR_BINARY, "--data-dir", (dir_ / "data").string(),
                                  "--plugins-dir", dirs};
    a.insert(a.end(), rest.begin(), rest.end());
    return Wait(Start(a));
  }
};

TEST_F(CliPlugins, ListShowsGoodPluginsAndRefusesEachBadOneWithItsReason) {
  const std::string dirs = std::string(WEIR_PLUGINS_DIR) + ":" + WEIR_TEST_BAD_DIR + ":" +
                           WEIR_TEST_GOOD_DIR;
  ProcResult r = Plugins({"plugins", "list"}, dirs);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* good : {"file-source", "file-destination", "frozen-v1-0"}) {
    EXPECT_NE(r.out.find(std::string("\n") + good + " "), std::string::npos) << good << "\n"
                                                                             << r.out;
  }
  const std::map<std::string, std::string> refused = {
      {"libweir-wrong-major.so", "built for weir ABI major 2, this host speaks major 1"},
      {"libweir-missing-symbol.so", "no weir entry symbol"},
      {"libweir-null-functions.so", "descriptor: destination vtable has NULL 'write'"},
      {"libweir-throwing.so", "entry function threw an exception"},
      {"libweir-segfault.so", "crashed with SIGSEGV"},
      {"libweir-not-elf.so", "not an ELF shared object"},
      {"libweir-refusing.so", "ABI negotiation failed"},
  };
  for (const auto& [file, reason] : refused) {
    std::string line = std::string(WEIR_TEST_BAD_DIR) + "/" + file + ": refused: ";
    auto at = r.err.find(line);
    ASSERT_NE(at, std::string::npos) << file << "\n" << r.err;
    std::string rest = r.err.substr(at + line.size(), r.err.find('\n', at) - at - line.size());
    EXPECT_NE(rest.find(reason), std::string::npos) << file << ": " << rest;
  }
  ProcResult json = Plugins({"plugins", "list", "--json"}, dirs);
  ASSERT_EQ(json.code, 0);
  EXPECT_NE(json.out.find("\"name\":\"frozen-v1-0\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"reason\":\"crashed with SIGSEGV"), std::string::npos) << json.out;
}

TEST_F(CliPlugins, ShowPrintsTheConfigSchema) {
  ProcResult r = Plugins({"plugins", "show", "file-destination"}, WEIR_PLUGINS_DIR);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("kinds:       destination"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"dir\""), std::string::npos) << r.out;
  ProcResult missing = Plugins({"plugins", "show", "nope"}, WEIR_PLUGINS_DIR);
  EXPECT_EQ(missing.code, 3);
  EXPECT_NE(missing.err.find("no plugin named 'nope'"), std::string::npos) << missing.err;
}

TEST_F(CliPlugins, CheckPassesOnOurPluginsAndRefusesABadFile) {
  ProcResult r = Plugins({"plugins", "check",
                      std::string(WEIR_PLUGINS_DIR) + "/libweir-file-destination.so",
                      "--destination-config", "{\"dir\":\"" + (dir_ / "out").string() + "\"}"},
                     WEIR_PLUGINS_DIR);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(" 0 failed"), std::string::npos) << r.out;
  ProcResult bad = Plugins({"plugins", "check", std::string(WEIR_TEST_BAD_DIR) + "/libweir-segfault.so"},
                       WEIR_PLUGINS_DIR);
  EXPECT_EQ(bad.code, 3);
  EXPECT_NE(bad.err.find("refused: crashed with SIGSEGV"), std::string::npos) << bad.err;
}

TEST_F(CliPlugins, CheckResolvesEnvReferencesAndNamesAnUnreadableConfigFile) {
  // Secrets stay in the environment: ${VAR} in a --*-config is resolved as in a pipeline file.
  ::setenv("WEIR_TEST_CHECK_OUT_DIR", (dir_ / "env-out").c_str(), 1);
  ProcResult r = Plugins({"plugins", "check",
                          std::string(WEIR_PLUGINS_DIR) + "/libweir-file-destination.so",
                          "--destination-config", R"({"dir":"${WEIR_TEST_CHECK_OUT_DIR}"})"},
                         WEIR_PLUGINS_DIR);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(" 0 failed"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "env-out")) << "the plugin did not get the resolved dir";

  ::unsetenv("WEIR_TEST_CHECK_UNSET_VAR");
  ProcResult unset = Plugins({"plugins", "check",
                              std::string(WEIR_PLUGINS_DIR) + "/libweir-file-destination.so",
                              "--destination-config", R"({"dir":"${WEIR_TEST_CHECK_UNSET_VAR}"})"},
                             WEIR_PLUGINS_DIR);
  EXPECT_EQ(unset.code, 2) << unset.out << unset.err;
  EXPECT_NE(unset.err.find("WEIR_TEST_CHECK_UNSET_VAR"), std::string::npos) << unset.err;

  const std::string missing = (dir_ / "no-such-config.json").string();
  ProcResult gone = Plugins({"plugins", "check",
                             std::string(WEIR_PLUGINS_DIR) + "/libweir-file-destination.so",
                             "--destination-config", "@" + missing},
                            WEIR_PLUGINS_DIR);
  EXPECT_EQ(gone.code, 2) << gone.out << gone.err;
  EXPECT_NE(gone.err.find("--destination-config: cannot read config file " + missing +
                          ": No such file or directory"),
            std::string::npos)
      << gone.err;
}

TEST_F(CliPlugins, HelpTeaches) {
  ProcResult r = Plugins({"--help"}, WEIR_PLUGINS_DIR);
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Exit codes:"), std::string::npos);
  ProcResult run = Plugins({"run", "--help"}, WEIR_PLUGINS_DIR);
  EXPECT_EQ(run.code, 0);
  EXPECT_NE(run.out.find("Usage: weir run PIPELINE"), std::string::npos) << run.out;
  ProcResult unknown = Plugins({"frobnicate"}, WEIR_PLUGINS_DIR);
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("unknown command 'frobnicate'"), std::string::npos);
}

}  // namespace
