// tests/plugin_loader/plugin_loader_test.cpp — the plugin loader against good and bad plugins.
//
// Every deliberately bad plugin in tests/plugins/bad must be refused with its own specific
// reason (with and without the forked probe where that is safe), a directory scan must report
// exactly one refusal per bad file while the frozen v1.0 plugin still loads, duplicate names are
// refused naming both files, and the frozen plugin's vtables are driven end to end. Plugin
// locations come from compile definitions set in this folder's CMakeLists.txt.
#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "host/plugin/loader.hpp"
#include "temp_dir.hpp"

namespace weir::host {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kBadDir = WEIR_TEST_BAD_DIR;
const fs::path kGoodDir = WEIR_TEST_GOOD_DIR;
const fs::path kStrippedDir = WEIR_TEST_STRIPPED_DIR;
const fs::path kFrozen = WEIR_TEST_FROZEN_PLUGIN;

fs::path BadPlugin(const std::string& name) { return kBadDir / ("libweir-" + name + ".so"); }

/// A fresh directory under $TMPDIR (weir-loader-test-XXXXXX), removed with everything in it.
class TempDir : public weir::test::TempDir {
 public:
  TempDir() : weir::test::TempDir("weir-loader-test") {}
};

/// The refusal reason for `path`, failing the test if it loaded. Also checks the reason does not
/// repeat the path (Refusal::ToString adds it once).
std::string RefusalOf(const fs::path& path, const LoaderOptions& options = {}) {
  Result<LoadedPlugin> r = LoadPluginFile(path, options);
  if (r.ok()) {
    ADD_FAILURE() << path << " loaded as '" << r->name << "' but must be refused";
    return "";
  }
  EXPECT_EQ(r.status().message().find(path.string()), std::string::npos)
      << "reason repeats the path: " << r.status().message();
  return r.status().message();
}

LoaderOptions NoProbe() {
  LoaderOptions o;
  o.probe_in_child = false;
  return o;
}

/// A copy of the frozen plugin with `bytes` written at `offset`, for header-level refusals.
fs::path PatchedCopy(const TempDir& dir, size_t offset, std::vector<unsigned char> bytes) {
  fs::path out = dir.path() / "libweir-patched.so";
  fs::copy_file(kFrozen, out);
  std::fstream f(out, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return out;
}

uint16_t HostMachine() {
  std::ifstream self("/proc/self/exe", std::ios::binary);
  unsigned char header[20] = {};
  self.read(reinterpret_cast<char*>(header), sizeof header);
  return static_cast<uint16_t>(header[18] | (header[19] << 8));  // little-endian hosts
}

// ---------------------------------------------------------------------------------------------
// Step 1: the file and its ELF header

TEST(LoaderVetting, RefusesMissingFileAndDirectory) {
  TempDir dir;
  EXPECT_THAT(RefusalOf(dir.path() / "libweir-nothing.so"), HasSubstr("cannot be read: "));
  fs::create_directory(dir.path() / "libweir-dir.so");
  EXPECT_EQ(RefusalOf(dir.path() / "libweir-dir.so"), "not a regular file (it is a directory)");
}

TEST(LoaderVetting, RefusesNonElfFileShowingItsFirstBytes) {
  EXPECT_EQ(RefusalOf(BadPlugin("not-elf")),
            "not an ELF shared object (file starts with 23 20 54 68 69 73 20 69 (\"# This i\"))");
}

TEST(LoaderVetting, RefusesEmptyFile) {
  TempDir dir;
  std::ofstream(dir.path() / "libweir-empty.so").close();
  EXPECT_EQ(RefusalOf(dir.path() / "libweir-empty.so"),
            "not an ELF shared object (the file is empty)");
}

TEST(LoaderVetting, RefusesAnotherMachine) {
  TempDir dir;
  const uint16_t host = HostMachine();
  const uint16_t other = host == 183 ? 62 : 183;  // AArch64, or x86-64 on an AArch64 host
  fs::path patched = PatchedCopy(
      dir, 18, {static_cast<unsigned char>(other & 0xff), static_cast<unsigned char>(other >> 8)});
  EXPECT_EQ(RefusalOf(patched, NoProbe()), "built for another machine (e_machine " +
                                               std::to_string(other) + ", this host is " +
                                               std::to_string(host) + ")");
}

TEST(LoaderVetting, RefusesAnotherElfClass) {
  TempDir dir;
  fs::path patched = PatchedCopy(dir, 4, {1});  // EI_CLASS = ELFCLASS32
  EXPECT_EQ(RefusalOf(patched, NoProbe()),
            "built for another machine (32-bit ELF, this host is 64-bit)");
}

TEST(LoaderVetting, RefusesElfThatIsNotASharedObject) {
  TempDir dir;
  fs::path patched = PatchedCopy(dir, 16, {2, 0});  // e_type = ET_EXEC
  EXPECT_EQ(RefusalOf(patched, NoProbe()), "ELF file is not a shared object (it is an executable)");
}

// ---------------------------------------------------------------------------------------------
// Steps 2-4: each bad plugin and its reason, probed and (where the host survives it) in-process

struct BadCase {
  const char* plugin;
  const char* reason;    ///< expected substring of the refusal reason
  bool in_process_safe;  ///< the host survives it without the probe (not the segfaulting one)
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.plugin; }

const BadCase kBadCases[] = {
    {"not-elf", "not an ELF shared object (file starts with 23 20", true},
    {"wrong-major", "built for weir ABI major 2, this host speaks major 1", true},
    {"missing-symbol",
     "no weir entry symbol (expected weir_plugin_entry_v1); is this a weir plugin?", true},
    {"null-functions", "descriptor: destination vtable has NULL 'write'", true},
    {"throwing", "entry function threw an exception: throwing plugin: entry exploded on purpose",
     true},
    {"segfault", "crashed with SIGSEGV (signal 11) in its entry function", false},
    {"refusing",
     "ABI negotiation failed: refusing plugin needs ABI minor 99, the host offers too few", true},
    {"missing-dependency",
     "cannot be loaded: libweir_test_missing_dep.so: cannot open shared object file", true},
};

std::vector<BadCase> InProcessSafeCases() {
  std::vector<BadCase> out;
  for (const BadCase& c : kBadCases) {
    if (c.in_process_safe) out.push_back(c);
  }
  return out;
}

std::string CaseName(const ::testing::TestParamInfo<BadCase>& param_info) {
  std::string name = param_info.param.plugin;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

class ProbedBadPlugin : public ::testing::TestWithParam<BadCase> {};

TEST_P(ProbedBadPlugin, RefusedWithItsOwnReason) {
  EXPECT_THAT(RefusalOf(BadPlugin(GetParam().plugin)), HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(Bad, ProbedBadPlugin, ::testing::ValuesIn(kBadCases), CaseName);

class UnprobedBadPlugin : public ::testing::TestWithParam<BadCase> {};

TEST_P(UnprobedBadPlugin, RefusedWithTheSameReasonInProcess) {
  EXPECT_THAT(RefusalOf(BadPlugin(GetParam().plugin), NoProbe()), HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(Bad, UnprobedBadPlugin, ::testing::ValuesIn(InProcessSafeCases()),
                         CaseName);

TEST(LoaderProbe, KillsAnEntryFunctionThatNeverReturns) {
  LoaderOptions options;
  options.probe_timeout_ms = 300;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RefusalOf(kBadDir / "hang" / "libweir-hang.so", options),
            "entry function did not return within 300 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// The wrong-major and missing-symbol plugins create the file named by
// $WEIR_TEST_CONSTRUCTOR_MARKER from a static constructor, i.e. as soon as they are dlopen()ed.
class ConstructorMarker {
 public:
  ConstructorMarker() : marker_(dir_.path() / "constructor-ran") {
    ::setenv("WEIR_TEST_CONSTRUCTOR_MARKER", marker_.c_str(), 1);
  }
  ~ConstructorMarker() { ::unsetenv("WEIR_TEST_CONSTRUCTOR_MARKER"); }
  ConstructorMarker(const ConstructorMarker&) = delete;
  ConstructorMarker& operator=(const ConstructorMarker&) = delete;
  bool ran() const { return fs::exists(marker_); }

 private:
  TempDir dir_;
  fs::path marker_;
};

TEST(LoaderVetting, ConstructorMarkerShowsWhenAPluginIsLoaded) {
  // The control for the test below: loading the plugin really does create the marker.
  ConstructorMarker marker;
  ASSERT_FALSE(marker.ran());
  void* handle = ::dlopen(BadPlugin("wrong-major").c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << ::dlerror();
  EXPECT_TRUE(marker.ran());
}

TEST(LoaderVetting, RefusesFromTheFileAloneWithoutLoadingIt) {
  for (bool probe : {false, true}) {
    ConstructorMarker marker;
    LoaderOptions options;
    options.probe_in_child = probe;
    EXPECT_THAT(RefusalOf(BadPlugin("wrong-major"), options),
                HasSubstr("built for weir ABI major 2"));
    EXPECT_THAT(RefusalOf(BadPlugin("missing-symbol"), options), HasSubstr("no weir entry symbol"));
    EXPECT_THAT(RefusalOf(BadPlugin("not-elf"), options), HasSubstr("not an ELF shared object"));
    EXPECT_FALSE(marker.ran()) << "a plugin's constructor ran (probe_in_child=" << probe << ")";
  }
}

// ---------------------------------------------------------------------------------------------
// Scanning directories

TEST(PluginRegistry, ScanRefusesEachBadFileAndStillLoadsTheFrozenPlugin) {
  PluginRegistry reg = PluginRegistry::Scan({kBadDir, kGoodDir});

  std::map<std::string, std::string> expected;  // file name -> reason substring
  for (const BadCase& c : kBadCases) {
    expected[std::string("libweir-") + c.plugin + ".so"] = c.reason;
  }
  std::map<std::string, std::string> got;
  for (const Refusal& r : reg.refusals()) {
    EXPECT_EQ(r.path.parent_path(), kBadDir) << r.ToString();
    EXPECT_EQ(r.ToString(), r.path.string() + ": refused: " + r.reason);
    EXPECT_TRUE(got.emplace(r.path.filename().string(), r.reason).second) << "twice: " << r.path;
  }
  ASSERT_EQ(got.size(), expected.size()) << "one refusal per bad file, nothing else";
  for (const auto& [file, reason] : expected) {
    ASSERT_TRUE(got.count(file)) << file << " was not refused";
    EXPECT_THAT(got[file], HasSubstr(reason)) << file;
  }

  ASSERT_EQ(reg.plugins().size(), 1u);
  const LoadedPlugin* frozen = reg.Find("frozen-v1-0");
  ASSERT_NE(frozen, nullptr);
  EXPECT_EQ(frozen->path, kFrozen);
  EXPECT_EQ(reg.Find("twin"), nullptr);  // dup/ and hang/ are subfolders: not scanned
}

TEST(PluginRegistry, RefusesADuplicateNameNamingBothFiles) {
  PluginRegistry reg = PluginRegistry::Scan({kBadDir / "dup"});
  const fs::path first = kBadDir / "dup" / "libweir-twin-a.so";
  const fs::path second = kBadDir / "dup" / "libweir-twin-b.so";
  ASSERT_EQ(reg.plugins().size(), 1u);
  EXPECT_EQ(reg.plugins()[0].path, first);  // files are taken in name order
  EXPECT_EQ(reg.plugins()[0].version, "a");
  ASSERT_EQ(reg.refusals().size(), 1u);
  EXPECT_EQ(reg.refusals()[0].ToString(),
            second.string() + ": refused: duplicate plugin name 'twin', already loaded from " +
                first.string());
}

TEST(PluginRegistry, EarlierDirectoriesWinAcrossDirectories) {
  PluginRegistry reg = PluginRegistry::Scan({kStrippedDir, kGoodDir});
  ASSERT_EQ(reg.plugins().size(), 1u);
  EXPECT_EQ(reg.plugins()[0].path, kStrippedDir / "libweir-frozen-v1-0.so");
  ASSERT_EQ(reg.refusals().size(), 1u);
  EXPECT_EQ(reg.refusals()[0].path, kFrozen);
  EXPECT_EQ(reg.refusals()[0].reason, "duplicate plugin name 'frozen-v1-0', already loaded from " +
                                          (kStrippedDir / "libweir-frozen-v1-0.so").string());
}

TEST(PluginRegistry, SkipsMissingDirectoriesAndRepeatedOnes) {
  TempDir dir;
  PluginRegistry reg = PluginRegistry::Scan({dir.path() / "missing", kGoodDir, kGoodDir});
  EXPECT_TRUE(reg.refusals().empty());
  ASSERT_EQ(reg.plugins().size(), 1u);
  EXPECT_EQ(reg.Find("nope"), nullptr);
}

TEST(PluginRegistry, IgnoresFilesThatAreNotNamedSo) {
  TempDir dir;
  fs::copy_file(kFrozen, dir.path() / "libweir-frozen.so.disabled");
  std::ofstream(dir.path() / "README").put('x');
  PluginRegistry reg = PluginRegistry::Scan({dir.path()});
  EXPECT_TRUE(reg.plugins().empty());
  EXPECT_TRUE(reg.refusals().empty());
}

// ---------------------------------------------------------------------------------------------
// The frozen v1.0 plugin, driven through its C vtables

/// Host services that record what the plugin logs and counts.
struct RecordingHost {
  std::vector<std::string> logs;
  std::map<std::string, double> counters;
  weir_host_services services{};

  RecordingHost() {
    services.struct_size = sizeof services;
    services.host_data = this;
    services.log = [](void* self, int32_t, const char* message, size_t len) {
      static_cast<RecordingHost*>(self)->logs.emplace_back(message, len);
    };
    services.metric = [](void* self, const char* name, int32_t kind, double value) {
      if (kind == WEIR_METRIC_COUNTER) static_cast<RecordingHost*>(self)->counters[name] += value;
    };
    services.is_cancelled = [](void*) -> int32_t { return 0; };
    services.get_secret = [](void*, const char*, const char**, size_t*) -> weir_status {
      return WEIR_ERROR;
    };
  }
};

std::string_view Bytes(weir_bytes b) { return {reinterpret_cast<const char*>(b.data), b.size}; }

TEST(FrozenPlugin, LoadsWithItsDescriptor) {
  Result<LoadedPlugin> r = LoadPluginFile(kFrozen);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->path, kFrozen);
  EXPECT_EQ(r->name, "frozen-v1-0");
  EXPECT_EQ(r->version, "1.0.0");
  EXPECT_THAT(r->description, HasSubstr("frozen ABI v1.0"));
  EXPECT_EQ(r->abi_major, 1u);
  EXPECT_EQ(r->abi_minor, 0u);
  EXPECT_TRUE(r->is_source());
  EXPECT_TRUE(r->is_destination());
  EXPECT_EQ(r->KindsString(), "source,destination");
  EXPECT_EQ(r->streams, std::vector<std::string>{"events"});
  EXPECT_TRUE(r->supports_stream("events"));
  EXPECT_FALSE(r->supports_stream("users"));
  EXPECT_EQ(r->config_schema.front(), '{');
  ASSERT_NE(r->source, nullptr);
  ASSERT_NE(r->destination, nullptr);

  // Loading the same file again does not run its entry a second time: same vtables.
  Result<LoadedPlugin> again = LoadPluginFile(kFrozen);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->destination, r->destination);
}

TEST(FrozenPlugin, LoadsWhenStripped) {
  // No .symtab left: the entry symbol is only in .dynsym, as in an installed, stripped plugin.
  Result<LoadedPlugin> r = LoadPluginFile(kStrippedDir / "libweir-frozen-v1-0.so");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->name, "frozen-v1-0");
}

TEST(FrozenPlugin, SourceAndDestinationVtablesWork) {
  Result<LoadedPlugin> r = LoadPluginFile(kFrozen);
  ASSERT_TRUE(r.ok()) << r.status().message();
  RecordingHost host;
  const std::string config = "{}";

  // Source: three records, then nothing after the high watermark.
  weir_instance* src = nullptr;
  weir_error err{};
  ASSERT_EQ(r->source->open(config.data(), config.size(), &host.services, &src, &err), WEIR_OK);
  ASSERT_EQ(r->source->check(src, &err), WEIR_OK);
  weir_read_request req{};
  req.struct_size = sizeof req;
  req.mode = WEIR_READ_RANGE;
  req.stream = "events";
  weir_batch batch{};
  ASSERT_EQ(r->source->read(src, &req, &batch, &err), WEIR_OK);
  ASSERT_EQ(batch.count, 3u);
  EXPECT_EQ(batch.format, static_cast<uint32_t>(WEIR_FORMAT_NDJSON));
  EXPECT_EQ(batch.ingest_seq[0], 1u);
  EXPECT_EQ(batch.ingest_seq[2], 3u);
  EXPECT_LT(batch.event_time_ms[0], batch.event_time_ms[1]);
  EXPECT_EQ(Bytes(batch.high_watermark), "3");
  std::string_view data(reinterpret_cast<const char*>(batch.data), batch.size);
  EXPECT_THAT(std::string(data.substr(batch.offsets[1], batch.offsets[2] - batch.offsets[1])),
              HasSubstr("\"insert_id\":\"frozen-2\""));

  // Destination: write that batch, flush, and the plugin reports 3 durable records.
  weir_instance* dst = nullptr;
  ASSERT_EQ(r->destination->open(config.data(), config.size(), &host.services, &dst, &err),
            WEIR_OK);
  weir_write_request wreq{};
  wreq.struct_size = sizeof wreq;
  wreq.pipeline = "p";
  wreq.project = "proj";
  wreq.stream = "events";
  wreq.batch_seq = 1;
  wreq.idempotency_key = "p/events/1";
  wreq.batch = &batch;
  ASSERT_EQ(r->destination->write(dst, &wreq, &err), WEIR_OK);
  ASSERT_EQ(r->destination->flush(dst, &err), WEIR_OK);
  ASSERT_FALSE(host.logs.empty());
  EXPECT_EQ(host.logs.back(), "frozen-v1-0: 3 records durable");
  EXPECT_EQ(host.counters["frozen.records"], 3.0);
  // A replayed key is a no-op.
  ASSERT_EQ(r->destination->write(dst, &wreq, &err), WEIR_OK);
  ASSERT_EQ(r->destination->flush(dst, &err), WEIR_OK);
  EXPECT_EQ(host.logs.back(), "frozen-v1-0: 3 records durable");

  weir_batch_release(&batch);
  EXPECT_EQ(batch.release, nullptr);
  weir_batch_release(&batch);  // a second release is harmless

  // Reading on from the high watermark yields nothing; max_records is honoured.
  req.from_wm = {reinterpret_cast<const uint8_t*>("3"), 1};
  ASSERT_EQ(r->source->read(src, &req, &batch, &err), WEIR_OK);
  EXPECT_EQ(batch.count, 0u);
  weir_batch_release(&batch);
  req.from_wm = {};
  req.max_records = 2;
  ASSERT_EQ(r->source->read(src, &req, &batch, &err), WEIR_OK);
  EXPECT_EQ(batch.count, 2u);
  EXPECT_EQ(Bytes(batch.high_watermark), "2");
  weir_batch_release(&batch);

  r->destination->close(dst);
  r->source->close(src);
  EXPECT_EQ(err.release, nullptr) << "no error was filled on success";
}

TEST(FrozenPlugin, ErrorsAreFilledAndReleased) {
  Result<LoadedPlugin> r = LoadPluginFile(kFrozen);
  ASSERT_TRUE(r.ok()) << r.status().message();
  RecordingHost host;

  weir_instance* inst = nullptr;
  weir_error err{};
  const std::string bad_config = "[1, 2]";
  EXPECT_EQ(r->destination->open(bad_config.data(), bad_config.size(), &host.services, &inst, &err),
            WEIR_INVALID_CONFIG);
  EXPECT_EQ(inst, nullptr);
  EXPECT_EQ(err.code, WEIR_INVALID_CONFIG);
  ASSERT_NE(err.message, nullptr);
  EXPECT_STREQ(err.message, "frozen-v1-0: config must be a JSON object");
  ASSERT_NE(err.release, nullptr);
  void (*release)(weir_error*) = err.release;
  weir_error_release(&err);
  EXPECT_EQ(err.message, nullptr);
  EXPECT_EQ(err.release, nullptr);
  release(&err);  // calling a saved release again is safe (plugin.h)

  const std::string config = "{}";
  ASSERT_EQ(r->destination->open(config.data(), config.size(), &host.services, &inst, &err),
            WEIR_OK);
  weir_batch empty{};
  weir_write_request wreq{};
  wreq.struct_size = sizeof wreq;
  wreq.stream = "users";
  wreq.batch = &empty;
  err = weir_error{};
  EXPECT_EQ(r->destination->write(inst, &wreq, &err), WEIR_NOT_IMPLEMENTED);
  Status s = Status::FromError(WEIR_NOT_IMPLEMENTED, &err);  // takes over and releases
  EXPECT_THAT(s.message(), HasSubstr("only stream 'events'"));
  EXPECT_EQ(err.release, nullptr);
  r->destination->close(inst);
}

// ---------------------------------------------------------------------------------------------
// LoadedPlugin helpers and DefaultPluginDirs

TEST(LoadedPlugin, KindsString) {
  LoadedPlugin p;
  p.kinds = WEIR_KIND_SOURCE;
  EXPECT_EQ(p.KindsString(), "source");
  p.kinds = WEIR_KIND_DESTINATION;
  EXPECT_EQ(p.KindsString(), "destination");
  p.kinds = WEIR_KIND_SOURCE | WEIR_KIND_DESTINATION;
  EXPECT_EQ(p.KindsString(), "source,destination");
}

TEST(DefaultPluginDirs, FlagWinsAndIsSplitOnColons) {
  EXPECT_EQ(DefaultPluginDirs("/opt/weir/bin/weir", "/a:/b::/c", "/env"),
            (std::vector<fs::path>{"/a", "/b", "/c"}));
}

TEST(DefaultPluginDirs, EnvironmentWhenNoFlag) {
  EXPECT_EQ(DefaultPluginDirs("/opt/weir/bin/weir", "", "/x:/y"),
            (std::vector<fs::path>{"/x", "/y"}));
}

TEST(DefaultPluginDirs, InstallDirAndBuildTreeByDefault) {
  TempDir dir;
  const fs::path exe = dir.path() / "bin" / "weir";
  const fs::path install = (dir.path() / WEIR_TEST_INSTALL_PLUGIN_DIR).lexically_normal();
  const fs::path build = (dir.path() / "plugins").lexically_normal();
  EXPECT_EQ(DefaultPluginDirs(exe, "", nullptr), (std::vector<fs::path>{install}));
  EXPECT_EQ(DefaultPluginDirs(exe, "", ""), (std::vector<fs::path>{install}));
  fs::create_directory(dir.path() / "plugins");  // now it looks like a build tree
  EXPECT_EQ(DefaultPluginDirs(exe, "", nullptr), (std::vector<fs::path>{install, build}));
}

}  // namespace
}  // namespace weir::host
