// tests/hostile/cli_hostile_test.cpp — hostile input through the real `weir` and `weir-collector`
// binaries: pipeline names with slashes, pipeline files with wrong types or that are not files
// at all (a directory, a FIFO, a symlink loop), a broken `--config` / WEIR_* environment, a
// collector config with wrong types, and a plugins directory full of garbage (random bytes, a
// text file, a truncated ELF, a .so without the entry point, a symlink loop, a FIFO, a
// directory, an unreadable file).
//
// Each must end in a non-zero exit (or a refusal line) that names the file and the field, never
// a hang (every process is killed after a timeout and that is a failure), and the good pipelines
// and plugins next to the garbage keep working.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "hostile_util.hpp"

namespace weir::test::hostile {
namespace {

/// A working pipeline `name`: file-source over dir/<name>.ndjson (3 events) → file-destination.
void WriteGoodPipeline(const fs::path& dir, const std::string& name) {
  std::string events;
  for (int i = 0; i < 3; ++i) {
    events += "{\"event\":\"e\",\"time\":1700000000000,\"distinct_id\":\"u\",\"insert_id\":\"" +
              name + "-" + std::to_string(i) + "\",\"properties\":{}}\n";
  }
  WriteText(dir / (name + ".ndjson"), events);
  WriteText(
      dir / "pipelines" / (name + ".json"),
      "{\"name\":\"" + name +
          "\",\"project\":\"p\",\"source\":{\"plugin\":\"file-source\",\"config\":{\"path\":" +
          Quote((dir / (name + ".ndjson")).string()) +
          "}},\"destination\":{\"plugin\":\"file-destination\",\"config\":{\"dir\":" +
          Quote((dir / ("out-" + name)).string()) + "}}}");
}

void ExpectErr(const std::string& what, const ProcessResult& r, int code,
               const std::string& needle) {
  EXPECT_EQ(r.code, code) << what << "\nstdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_NE((r.err + r.out).find(needle), std::string::npos)
      << what << ": expected \"" << needle << "\" in\n"
      << r.err << r.out;
}

TEST(HostileCli, PipelineNamesWithSlashesAreRefusedNamingTheName) {
  TempDir dir("weir-hostile-cli");
  WriteGoodPipeline(dir.path(), "good");
  ExpectErr("run a/b", Weir(dir.path(), {"run", "a/b"}), 2, "no pipeline 'a/b'");
  ExpectErr("run ../../x", Weir(dir.path(), {"run", "../../x"}), 2, "no pipeline '../../x'");
  // A path is allowed and read as a pipeline file; /etc/passwd is not one, and its content is
  // not echoed.
  ProcessResult passwd = Weir(dir.path(), {"run", "/etc/passwd"});
  ExpectErr("run /etc/passwd", passwd, 2, "/etc/passwd: not valid JSON");
  EXPECT_EQ(passwd.err.find("root:"), std::string::npos) << passwd.err;
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"backfill", "a/b", "--status"},
                                             {"schedule", "a/b"},
                                             {"pipeline", "show", "a/b"},
                                             {"pipeline", "validate", "a/b"},
                                             {"pipeline", "reset", "a/b", "--yes"},
                                             {"metrics", "a/b"}}) {
    std::string what;
    for (const auto& a : args) what += a + " ";
    ExpectErr(what, Weir(dir.path(), args), 2, "a/b");
  }
  // A file whose "name" has a slash or dots.
  for (const std::string name : {"a/b", "../evil", "..", "UPPER", "x y"}) {
    WriteText(dir.path() / "pipelines" / "evil.json",
              "{\"name\":" + Quote(name) +
                  ",\"project\":\"p\",\"source\":{\"plugin\":\"file-source\"},"
                  "\"destination\":{\"plugin\":\"file-destination\"}}");
    ExpectErr("name " + name, Weir(dir.path(), {"run", "evil"}), 2,
              "evil.json: $.name: '" + name + "' is not a valid name");
  }
  fs::remove(dir.path() / "pipelines" / "evil.json");
  // The good pipeline still runs.
  ProcessResult ok = Weir(dir.path(), {"run", "good", "--no-progress"});
  EXPECT_EQ(ok.code, 0) << ok.err;
}

TEST(HostileCli, PipelineFilesWithWrongTypesNameTheFileAndField) {
  TempDir dir("weir-hostile-cli");
  WriteGoodPipeline(dir.path(), "good");
  const std::string src = R"("source":{"plugin":"file-source"},)";
  const std::string dst = R"("destination":{"plugin":"file-destination"})";
  struct Case {
    std::string content, needle;
  };
  const std::vector<Case> cases = {
      {"[]", "bad.json: $: expected an object, found an array"},
      {"", "bad.json: not valid JSON"},
      {R"({"name":"bad","project":"p",)", "bad.json: not valid JSON"},
      {R"({"name":7,"project":"p",)" + src + dst + "}", "bad.json: $.name: expected a string"},
      {R"({"name":"bad","project":["p"],)" + src + dst + "}",
       "bad.json: $.project: expected a string"},
      {R"({"name":"bad","project":"p","source":"file-source",)" + dst + "}",
       "bad.json: $.source: expected an object"},
      {R"({"name":"bad","project":"p","source":{"plugin":"file-source","config":[1]},)" + dst + "}",
       "bad.json: $.source.config: expected an object"},
      {R"({"name":"bad","project":"p",)" + src + dst + R"(,"schedule":{"every":5}})",
       "bad.json: $.schedule.every: expected a string"},
      {R"({"name":"bad","project":"p",)" + src + dst + R"(,"schedule":"hourly"})",
       "bad.json: $.schedule: expected an object"},
      {R"({"name":"bad","project":"p",)" + src + dst + R"(,"batch":{"max_records":-1}})",
       "bad.json: $.batch.max_records: must be between 1 and"},
      {R"({"name":"bad","project":"p",)" + src + dst + R"(,"batch":{"max_records":1e30}})",
       "bad.json: $.batch.max_records: expected an integer"},
      {R"({"name":"bad","project":"p",)" + src + dst +
           R"(,"batch":{"max_bytes":99999999999999999999999}})",
       "bad.json: not valid JSON"},
      {R"({"name":"bad","project":"p",)" + src + dst + R"(,"retry":{"max_attempts":true}})",
       "bad.json: $.retry.max_attempts: expected an integer"},
      {R"({"name":"bad","project":"p",)" + src + dst + R"(,"start":0})",
       "bad.json: $.start: expected a string"},
      {"{\"name\":\"bad\",\"project\":\"p\xff\"," + src + dst + "}", "bad.json: not valid JSON"},
  };
  for (const Case& c : cases) {
    WriteText(dir.path() / "pipelines" / "bad.json", c.content);
    ExpectErr(c.content, Weir(dir.path(), {"pipeline", "validate", "bad", "--no-check"}), 2,
              c.needle);
    ExpectErr(c.content, Weir(dir.path(), {"run", "bad"}), 2, c.needle);
  }
  // A file nested far deeper than anything sane, in a plugin config.
  std::string deep;
  for (int i = 0; i < 50000; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 50000; ++i) deep += "}";
  WriteText(dir.path() / "pipelines" / "bad.json",
            R"({"name":"bad","project":"p","source":{"plugin":"file-source","config":)" + deep +
                "}," + dst + "}");
  ExpectErr("deep config", Weir(dir.path(), {"run", "bad"}), 2, "bad.json: not valid JSON");
  fs::remove(dir.path() / "pipelines" / "bad.json");
  ProcessResult ok = Weir(dir.path(), {"run", "good", "--no-progress"});
  EXPECT_EQ(ok.code, 0) << ok.err;
}

TEST(HostileCli, PipelineEntriesThatAreNotFilesAreReportedWithoutHanging) {
  TempDir dir("weir-hostile-cli");
  WriteGoodPipeline(dir.path(), "good");
  const fs::path p = dir.path() / "pipelines";
  fs::create_directory(p / "adir.json");
  ASSERT_EQ(::mkfifo((p / "fifo.json").c_str(), 0644), 0);
  fs::create_symlink("loop2.json", p / "loop1.json");
  fs::create_symlink("loop1.json", p / "loop2.json");
  fs::create_symlink("/nonexistent/target.json", p / "dangling.json");
  // status and pipeline list go through every file; a FIFO must not block them.
  ProcessResult status = Weir(dir.path(), {"status"});
  EXPECT_EQ(status.code, 2) << status.err;
  EXPECT_NE(status.out.find("good"), std::string::npos) << status.out;
  for (const std::string f : {"adir.json", "fifo.json", "loop1.json", "dangling.json"}) {
    EXPECT_NE(status.err.find(f + ": "), std::string::npos) << f << "\n" << status.err;
  }
  EXPECT_NE(status.err.find("fifo.json: not a regular file"), std::string::npos) << status.err;
  EXPECT_NE(status.err.find("adir.json: not a regular file (it is a directory)"), std::string::npos)
      << status.err;
  ExpectErr("run fifo", Weir(dir.path(), {"run", "fifo"}), 2, "fifo.json: not a regular file");
  ExpectErr("run loop1", Weir(dir.path(), {"run", "loop1"}), 2, "loop1.json: ");
  ProcessResult ok = Weir(dir.path(), {"run", "good", "--no-progress"});
  EXPECT_EQ(ok.code, 0) << ok.err;
}

TEST(HostileCli, BrokenConfigFileAndEnvironmentNameWhatIsWrong) {
  TempDir dir("weir-hostile-cli");
  WriteGoodPipeline(dir.path(), "good");
  const std::string weir = WEIR_BINARY;
  const std::string conf = (dir.path() / "weir.conf").string();
  auto with_config = [&](const std::string& text) {
    WriteText(conf, text);
    return RunCmd(dir.path(), {weir, "--config", conf, "status"});
  };
  ExpectErr("unknown key", with_config("colour = blue\n"), 2,
            conf + ": unrecognised option 'colour'");
  ExpectErr("not key = value", with_config("just some words\n"), 2, conf + ": ");
  ExpectErr("a key twice", with_config("data-dir = /a\ndata-dir = /b\n"), 2, conf + ": ");
  ExpectErr("missing file", RunCmd(dir.path(), {weir, "--config", conf + ".missing", "status"}), 2,
            "cannot read config file " + conf + ".missing");
  ExpectErr("a directory", RunCmd(dir.path(), {weir, "--config", dir.str(), "status"}), 2,
            "cannot read config file " + dir.str());
  // The same through WEIR_CONFIG.
  ::setenv("WEIR_CONFIG", (conf + ".missing").c_str(), 1);
  ExpectErr("WEIR_CONFIG missing", RunCmd(dir.path(), {weir, "status"}), 2,
            "cannot read config file " + conf + ".missing");
  ::unsetenv("WEIR_CONFIG");
  // Empty directories (WEIR_DATA_DIR= in an environment file) would mean the current one.
  ::setenv("WEIR_DATA_DIR", "", 1);
  ExpectErr("WEIR_DATA_DIR empty", RunCmd(dir.path(), {weir, "runs"}), 2,
            "--data-dir is empty (from the command line, WEIR_DATA_DIR or the config file)");
  ::unsetenv("WEIR_DATA_DIR");
  EXPECT_FALSE(fs::exists("state.db")) << "an empty WEIR_DATA_DIR wrote the state here";
  ExpectErr("--pipelines-dir empty",
            RunCmd(dir.path(), {weir, "--data-dir", dir / "data", "--pipelines-dir", "", "status"}),
            2, "--pipelines-dir is empty");
  WriteText(conf, "data-dir =\n");
  ExpectErr("data-dir empty in the config file",
            RunCmd(dir.path(), {weir, "--config", conf, "runs"}), 2, "--data-dir is empty");
  // Directories that are regular files.
  const std::string file = (dir.path() / "good.ndjson").string();
  ExpectErr(
      "pipelines dir is a file",
      RunCmd(dir.path(), {weir, "--data-dir", dir / "data", "--pipelines-dir", file, "status"}), 2,
      "pipelines directory " + file + " is not a directory");
  ExpectErr("data dir is a file",
            RunCmd(dir.path(), {weir, "--data-dir", file, "--pipelines-dir", dir / "pipelines",
                                "--plugins-dir", WEIR_PLUGINS_DIR, "run", "good"}),
            4, file);
  ProcessResult plugins_file =
      RunCmd(dir.path(), {weir, "--data-dir", dir / "data", "--pipelines-dir", dir / "pipelines",
                          "--plugins-dir", file, "run", "good"});
  ExpectErr("plugins dir is a file", plugins_file, 3, "no plugin named 'file-source'");
  ::setenv("WEIR_PLUGINS_DIR", file.c_str(), 1);
  ExpectErr("WEIR_PLUGINS_DIR is a file",
            RunCmd(dir.path(), {weir, "--data-dir", dir / "data", "--pipelines-dir",
                                dir / "pipelines", "plugins", "list"}),
            0, file + ": refused: not a directory");
  ::unsetenv("WEIR_PLUGINS_DIR");
  ProcessResult ok = Weir(dir.path(), {"run", "good", "--no-progress"});
  EXPECT_EQ(ok.code, 0) << ok.err;
}

TEST(HostileCli, CollectorConfigWithWrongTypesNamesTheField) {
  TempDir dir("weir-hostile-cli");
  const std::string data = Quote((dir.path() / "collected").string());
  const std::string projects = R"("projects":{"demo":{"tokens":["t"]}})";
  struct Case {
    std::string config, needle;
  };
  const std::vector<Case> cases = {
      {R"({"data_dir":5,)" + projects + "}", "config.data_dir: expected a string"},
      {"{\"data_dir\":" + data + ",\"projects\":[]}", "config.projects: expected an object"},
      {"{\"data_dir\":" + data + R"(,"projects":{"demo":{"tokens":"t"}}})",
       "config.projects.demo.tokens: expected an array"},
      {"{\"data_dir\":" + data + R"(,"projects":{"../etc":{"tokens":["t"]}}})", "../etc"},
      {"{\"data_dir\":" + data + "," + projects + R"(,"threads":"two"})",
       "config.threads: expected an integer"},
      {"{\"data_dir\":" + data + "," + projects + R"(,"listen":"127.0.0.1:99999"})",
       "config.listen"},
      {"{\"data_dir\":" + data + "," + projects + R"(,"limits":{"max_body_bytes":-1}})",
       "config.limits.max_body_bytes"},
      {"{\"data_dir\":" + data + "," + projects + R"(,"limits":{"max_depth":"3"}})",
       "config.limits.max_depth: expected an integer"},
      {"{\"data_dir\":" + data + "," + projects, "not valid JSON"},
  };
  const fs::path file = dir.path() / "collector.json";
  for (const Case& c : cases) {
    WriteText(file, c.config);
    ExpectErr("weir-collector " + c.config,
              RunCmd(dir.path(), {WEIR_COLLECTOR_BINARY, "--config", file.string()}), 1, c.needle);
    ExpectErr("weir service run " + c.config,
              Weir(dir.path(), {"service", "run", "sdk-source", "--config", "@" + file.string()}),
              2, c.needle);
  }
  ExpectErr("a directory as the config",
            RunCmd(dir.path(), {WEIR_COLLECTOR_BINARY, "--config", dir.str()}), 1, dir.str());
}

TEST(HostileCli, GarbageInThePluginsDirectoryIsRefusedFileByFile) {
  TempDir dir("weir-hostile-cli");
  WriteGoodPipeline(dir.path(), "good");
  const fs::path g = dir.path() / "garbage";
  fs::create_directories(g);
  std::string random(8192, '\0');
  uint32_t x = 12345;
  for (char& c : random) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  WriteText(g / "random.so", random);
  WriteText(g / "text.so", "this is not a plugin\n");
  WriteText(g / "empty.so", "");
  const std::string good_so = ReadWholeFile(fs::path(WEIR_PLUGINS_DIR) / "libweir-file-source.so");
  WriteText(g / "truncated.so", good_so.substr(0, 4096));
  fs::copy_file(WEIR_MISSING_SYMBOL_SO, g / "no-entry.so");
  fs::create_symlink("loop-b.so", g / "loop-a.so");
  fs::create_symlink("loop-a.so", g / "loop-b.so");
  fs::create_symlink("/nonexistent/plugin.so", g / "dangling.so");
  ASSERT_EQ(::mkfifo((g / "fifo.so").c_str(), 0644), 0);
  fs::create_directory(g / "adir.so");
  WriteText(g / "unreadable.so", good_so);
  fs::permissions(g / "unreadable.so", fs::perms::none);
  // root reads any file, so an unreadable file needs an unprivileged weir: run it as nobody.
  std::vector<std::string> cmd;
  if (::geteuid() == 0) {
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
    cmd = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
    if (!fs::exists(cmd[0])) {
      if (InCi()) FAIL() << "running as root without setpriv: cannot test an unreadable plugin";
      GTEST_SKIP() << "running as root without /usr/bin/setpriv: an unreadable file cannot be made";
    }
  }
  const std::string dirs = g.string() + ":" + WEIR_PLUGINS_DIR;
  for (const std::string& a :
       {std::string(WEIR_BINARY), std::string("--data-dir"), (dir.path() / "data").string(),
        std::string("--plugins-dir"), dirs, std::string("plugins"), std::string("list")}) {
    cmd.push_back(a);
  }
  ProcessResult r = RunCmd(dir.path(), cmd);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\nfile-source "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nfile-destination "), std::string::npos) << r.out;
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"random.so", "not an ELF shared object (file starts with"},
      {"text.so", "not an ELF shared object (file starts with"},
      {"empty.so", "not an ELF shared object (the file is empty)"},
      {"truncated.so", ""},
      {"no-entry.so", "no weir entry symbol"},
      {"loop-a.so", "cannot be read: Too many levels of symbolic links"},
      {"loop-b.so", "cannot be read: Too many levels of symbolic links"},
      {"dangling.so", "cannot be read: No such file or directory"},
      {"fifo.so", "not a regular file"},
      {"adir.so", "not a regular file (it is a directory)"},
      {"unreadable.so", "cannot be read: Permission denied"},
  };
  for (const auto& [file, reason] : refused) {
    const std::string line = (g / file).string() + ": refused: " + reason;
    EXPECT_NE(r.err.find(line), std::string::npos) << line << "\n" << r.err;
  }
  // The good plugins next to the garbage still run a pipeline.
  ProcessResult ok = Weir(dir.path(), {"run", "good", "--no-progress"}, dirs);
  EXPECT_EQ(ok.code, 0) << ok.err;
}

}  // namespace
}  // namespace weir::test::hostile
