// bench/s3_bench.cpp — the s3 destination's throughput next to its baselines, all measured in
// one run on the same generated events (driven by bench/run-s3; see docs/s3.md for figures).
//
// Events: ~500-byte realistic canonical events whose event times cover one day in ingest order
// (with jitter, and 1% arriving 1-48 hours late), generated batch by batch from a seed so memory
// never holds more than one batch (host defaults: 100,000 records / 64 MiB per batch).
//
//   deflate   baseline: libdeflate gzip at the same level on 2 threads over the same NDJSON
//             bytes in 4 MiB chunks (compression only: no gathering, no I/O)
//   file      the s3 plugin (loaded through its C vtable, as the host does) writing file://
//             objects: partition, gather, compress, write, fsync, rename
//   curl      baseline: one `curl --aws-sigv4 -Z` PUTting the objects `file` produced (the same
//             compressed bytes) to moto, `parallelism` transfers at once
//   upload    weir's S3 client (the plugin's ObjectStore) PUTting those same objects with
//             `parallelism` threads: the upload path alone, comparable to `curl`
//   s3        the s3 plugin writing the same events to moto end to end (compression included)
//
// Each phase prints one "RESULT phase=<name> key=value ..." line; VmHWM (peak RSS) is reset
// before each phase (/proc/self/clear_refs) and reported with it.
//
// S3 keys come from WEIR_BENCH_S3_ACCESS_KEY_ID / WEIR_BENCH_S3_SECRET_ACCESS_KEY (default
// "bench"/"bench", which only a moto without signature checks accepts); they never appear on a
// command line (curl reads them from its config file, which only the owner can read).
//
//   s3_bench --plugin build/plugins/libweir-s3.so --mb 256 --dir /tmp/x
//            [--endpoint http://127.0.0.1:PORT --bucket weir-bench]
#include <fcntl.h>
#include <libdeflate.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "weir/plugin.hpp"
#include "weir/testkit.hpp"
#ifdef WEIR_BENCH_HAVE_S3_CLIENT
#include "object_store.hpp"
#endif

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Options {
  std::string plugin;
  std::string dir;
  std::string endpoint;  // empty: skip the S3 phases
  std::string bucket = "weir-bench";
  std::string access_key_id = "bench";
  std::string secret_access_key = "bench";
  double mb = 256;
  size_t batch_records = 100000;
  int level = 6;
  int parallelism = 4;
};

// ---------------------------------------------------------------------------------------------
// Events

constexpr int64_t kDayStartMs = 1763769600000;  // 2025-11-22T00:00:00Z

const char* const kEvents[] = {
    "Page Viewed", "Product Viewed", "Added To Cart", "Checkout Started", "Order Completed",
    "Signed Up",   "Logged In",      "Search",        "Video Played",     "Button Clicked"};
const char* const kBrowsers[] = {"Chrome", "Safari", "Firefox", "Edge", "Mobile Safari"};
const char* const kOs[] = {"Mac OS X", "Windows", "iOS", "Android", "Linux"};
const char* const kCities[][3] = {
    {"San Francisco", "California", "US"}, {"New York", "New York", "US"},
    {"London", "England", "GB"},           {"Berlin", "Berlin", "DE"},
    {"Bengaluru", "Karnataka", "IN"},      {"Sao Paulo", "Sao Paulo", "BR"}};
const char* const kSources[] = {"google", "newsletter", "facebook", "direct", "partner"};
const char* const kPlans[] = {"free", "starter", "pro", "enterprise"};

/// Event i of `total`: deterministic from (seed, i).
std::string MakeEvent(uint64_t i, uint64_t total, int64_t* time_ms) {
  std::mt19937_64 rng(0x5eed0000ull ^ (i * 0x9e3779b97f4a7c15ull));
  int64_t t = kDayStartMs + static_cast<int64_t>(i * 86400000ull / total) +
              static_cast<int64_t>(rng() % 60000) - 30000;
  if (rng() % 100 == 0) t -= 3600000 + static_cast<int64_t>(rng() % (47ull * 3600000));
  *time_ms = t;
  const auto& city = kCities[rng() % 6];
  char buf[1024];
  const int n = std::snprintf(
      buf, sizeof buf,
      R"({"event":"%s","time":%lld,"distinct_id":"user-%llu","insert_id":"%016llx%016llx",)"
      R"("properties":{"$browser":"%s","$os":"%s","$city":"%s","$region":"%s",)"
      R"("mp_country_code":"%s","$current_url":"https://shop.example.com/products/%llu?ref=%s",)"
      R"("$screen_width":%d,"$screen_height":%d,"utm_source":"%s","plan":"%s",)"
      R"("item_id":%llu,"price":%.2f,"quantity":%d,"is_returning":%s,)"
      R"("session":{"id":"s-%llx","page_count":%d},"tags":["%s","%s"]}})",
      kEvents[rng() % 10], static_cast<long long>(t),
      static_cast<unsigned long long>(rng() % 200000), static_cast<unsigned long long>(rng()),
      static_cast<unsigned long long>(i), kBrowsers[rng() % 5], kOs[rng() % 5], city[0], city[1],
      city[2], static_cast<unsigned long long>(rng() % 50000), kSources[rng() % 5],
      1280 + static_cast<int>(rng() % 4) * 320, 720 + static_cast<int>(rng() % 3) * 180,
      kSources[rng() % 5], kPlans[rng() % 4], static_cast<unsigned long long>(rng() % 1000000),
      static_cast<double>(rng() % 100000) / 100.0, 1 + static_cast<int>(rng() % 5),
      rng() % 2 ? "true" : "false", static_cast<unsigned long long>(rng() >> 16),
      1 + static_cast<int>(rng() % 30), kPlans[rng() % 4], kSources[rng() % 5]);
  return std::string(buf, static_cast<size_t>(n));
}

/// Calls fn(first, count) for each batch of the run.
void ForEachBatch(uint64_t total, size_t batch, const std::function<void(uint64_t, size_t)>& fn) {
  for (uint64_t first = 0; first < total; first += batch) {
    fn(first, static_cast<size_t>(std::min<uint64_t>(batch, total - first)));
  }
}

// ---------------------------------------------------------------------------------------------
// Peak RSS

void ResetPeakRss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";  // resets VmHWM to the current RSS (Linux >= 4.0)
}

long PeakRssMb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6) / 1024;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// The plugin through its vtable

class Destination {
 public:
  Destination(const weir::testkit::PluginLibrary& lib, const std::string& config)
      : vt_(lib.descriptor().destination) {
    weir_error err{};
    weir_status st = vt_->open(config.data(), config.size(), host_.services(), &instance_, &err);
    Check(st, &err, "open");
  }
  ~Destination() {
    if (instance_ != nullptr) vt_->close(instance_);
  }
  void Write(const weir_batch* batch, uint64_t seq) {
    weir_write_request r{};
    r.struct_size = sizeof r;
    r.pipeline = "bench";
    r.project = "demo";
    r.stream = "events";
    r.batch_seq = seq;
    const std::string key = "bench.events." + std::to_string(seq);
    r.idempotency_key = key.c_str();
    r.batch = batch;
    weir_error err{};
    Check(vt_->write(instance_, &r, &err), &err, "write");
  }
  void Flush() {
    weir_error err{};
    Check(vt_->flush(instance_, &err), &err, "flush");
  }
  double Metric(const char* name) const { return host_.Metric(name); }

 private:
  static void Check(weir_status st, weir_error* err, const char* what) {
    if (st == WEIR_OK) return;
    std::fprintf(stderr, "s3_bench: %s failed: %s\n", what,
                 err->message != nullptr ? err->message : "?");
    std::exit(1);
  }
  const weir_destination_vtable* vt_;
  weir::testkit::FakeHost host_;
  weir_instance* instance_ = nullptr;
};

struct PhaseResult {
  double seconds = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t records = 0;
  double retries = 0;
};

/// Streams every batch through the plugin with `config`; times only write() and flush().
PhaseResult RunPlugin(const weir::testkit::PluginLibrary& lib, const std::string& config,
                      uint64_t total, size_t batch_records) {
  Destination dest(lib, config);
  PhaseResult r;
  ForEachBatch(total, batch_records, [&](uint64_t first, size_t n) {
    weir::BatchBuilder builder;
    for (size_t k = 0; k < n; ++k) {
      int64_t t = 0;
      std::string e = MakeEvent(first + k, total, &t);
      builder.Add(e, t, first + k + 1);
    }
    r.bytes_in += builder.bytes();
    weir_batch batch{};
    builder.Release(&batch);
    const auto start = Clock::now();
    dest.Write(&batch, first / batch_records + 1);
    r.seconds += Seconds(Clock::now() - start);
    weir_batch_release(&batch);
  });
  const auto start = Clock::now();
  dest.Flush();
  r.seconds += Seconds(Clock::now() - start);
  r.records = total;
  r.bytes_out = static_cast<uint64_t>(dest.Metric("s3.bytes_stored"));
  r.retries = dest.Metric("s3.retries");
  return r;
}

/// libdeflate at `level` on 2 threads over the same NDJSON, in 4 MiB chunks.
PhaseResult RunDeflateBaseline(uint64_t total, size_t batch_records, int level) {
  constexpr size_t kChunk = 4u << 20;
  PhaseResult r;
  struct Worker {
    libdeflate_compressor* c;
    std::vector<char> out;
  };
  Worker workers[2] = {{libdeflate_alloc_compressor(level), {}},
                       {libdeflate_alloc_compressor(level), {}}};
  std::atomic<uint64_t> out_bytes{0};
  ForEachBatch(total, batch_records, [&](uint64_t first, size_t n) {
    std::string data;
    for (size_t k = 0; k < n; ++k) {
      int64_t t = 0;
      data += MakeEvent(first + k, total, &t);
      data += '\n';
    }
    r.bytes_in += data.size();
    std::atomic<size_t> next{0};
    const size_t chunks = (data.size() + kChunk - 1) / kChunk;
    auto work = [&](Worker& w) {
      for (size_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1)) {
        const size_t begin = c * kChunk, len = std::min(kChunk, data.size() - begin);
        w.out.resize(libdeflate_gzip_compress_bound(w.c, len));
        out_bytes +=
            libdeflate_gzip_compress(w.c, data.data() + begin, len, w.out.data(), w.out.size());
      }
    };
    const auto start = Clock::now();
    std::thread second([&] { work(workers[1]); });
    work(workers[0]);
    second.join();
    r.seconds += Seconds(Clock::now() - start);
  });
  for (auto& w : workers) libdeflate_free_compressor(w.c);
  r.records = total;
  r.bytes_out = out_bytes.load();
  return r;
}

/// `curl --aws-sigv4 -Z` PUTting every file below `root` to <endpoint>/<bucket>/curl/<path>.
PhaseResult RunCurlBaseline(const Options& o, const std::string& root) {
  PhaseResult r;
  const std::string cfg_path = o.dir + "/curl.cfg";
  {
    std::ofstream cfg(cfg_path);
    std::filesystem::permissions(
        cfg_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    cfg << "user = \"" << o.access_key_id << ":" << o.secret_access_key << "\"\n";
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      const std::string rel = std::filesystem::relative(e.path(), root).string();
      r.bytes_out += e.file_size();
      cfg << "url = \"" << o.endpoint << "/" << o.bucket << "/curl/" << rel << "\"\n"
          << "upload-file = \"" << e.path().string() << "\"\n"
          << "output = \"/dev/null\"\n";
    }
  }
  std::vector<std::string> args = {"curl",
                                   "-s",
                                   "-S",
                                   "--no-progress-meter",
                                   "--fail",
                                   "-Z",
                                   "--parallel-max",
                                   std::to_string(o.parallelism),
                                   "--aws-sigv4",
                                   "aws:amz:us-east-1:s3",
                                   "-H",
                                   "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                                   "-K",
                                   cfg_path};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto start = Clock::now();
  pid_t pid = -1;
  if (posix_spawnp(&pid, "curl", nullptr, nullptr, argv.data(), environ) != 0) {
    std::fprintf(stderr, "s3_bench: cannot run curl\n");
    std::exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.seconds = Seconds(Clock::now() - start);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "s3_bench: curl failed (status %d)\n", status);
    std::exit(1);
  }
  return r;
}

#ifdef WEIR_BENCH_HAVE_S3_CLIENT
/// weir's S3 ObjectStore PUTting every file below `root` to <bucket>/upload/<path>.
PhaseResult RunClientUpload(const Options& o, const std::string& root) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  weir::s3::S3Config config;
  config.bucket = o.bucket;
  config.endpoint = o.endpoint;
  config.path_style = true;
  config.credentials = {o.access_key_id, o.secret_access_key, ""};
  auto store = weir::s3::MakeS3ObjectStore(config, {});
  if (!store.ok()) {
    std::fprintf(stderr, "s3_bench: %s\n", store.status().message().c_str());
    std::exit(1);
  }
  PhaseResult r;
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> bytes{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < files.size(); i = next.fetch_add(1)) {
      std::ifstream in(files[i], std::ios::binary);
      std::stringstream body;
      body << in.rdbuf();
      const std::string data = body.str();
      const std::string key = "upload/" + std::filesystem::relative(files[i], root).string();
      weir::s3::PutOptions put;
      put.content_type = "application/gzip";
      weir::Status s = (*store)->Put(key, data, put);
      if (!s.ok()) {
        std::fprintf(stderr, "s3_bench: %s\n", s.message().c_str());
        std::exit(1);
      }
      bytes += data.size();
    }
  };
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(o.parallelism));
  for (int t = 0; t < o.parallelism; ++t) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  r.seconds = Seconds(Clock::now() - start);
  r.bytes_out = bytes.load();
  return r;
}
#endif

void Report(const char* phase, const PhaseResult& r, long rss_mb) {
  std::printf(
      "RESULT phase=%s seconds=%.3f in_mb=%.1f out_mb=%.1f in_mbps=%.1f out_mbps=%.1f "
      "records_per_s=%.0f retries=%.0f peak_rss_mb=%ld\n",
      phase, r.seconds, static_cast<double>(r.bytes_in) / 1e6,
      static_cast<double>(r.bytes_out) / 1e6,
      r.seconds > 0 ? static_cast<double>(r.bytes_in) / 1e6 / r.seconds : 0,
      r.seconds > 0 ? static_cast<double>(r.bytes_out) / 1e6 / r.seconds : 0,
      r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0, r.retries, rss_mb);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--plugin") {
      o.plugin = v;
    } else if (k == "--dir") {
      o.dir = v;
    } else if (k == "--endpoint") {
      o.endpoint = v;
    } else if (k == "--bucket") {
      o.bucket = v;
    } else if (k == "--mb") {
      o.mb = std::atof(v.c_str());
    } else if (k == "--batch-records") {
      o.batch_records = std::strtoull(v.c_str(), nullptr, 10);
    } else if (k == "--level") {
      o.level = std::atoi(v.c_str());
    } else if (k == "--parallelism") {
      o.parallelism = std::atoi(v.c_str());
    } else {
      std::fprintf(stderr, "s3_bench: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (const char* k = std::getenv("WEIR_BENCH_S3_ACCESS_KEY_ID"); k != nullptr && *k != 0) {
    o.access_key_id = k;
  }
  if (const char* k = std::getenv("WEIR_BENCH_S3_SECRET_ACCESS_KEY"); k != nullptr && *k != 0) {
    o.secret_access_key = k;
  }
  if (o.plugin.empty() || o.dir.empty()) {
    std::fprintf(stderr,
                 "usage: s3_bench --plugin libweir-s3.so --dir DIR [--mb 256] "
                 "[--endpoint URL --bucket B] [--level 6] [--parallelism 4]\n");
    return 2;
  }
  // Size the run from the generator's average event size.
  uint64_t sample = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    int64_t t = 0;
    sample += MakeEvent(i * 997, 1000000, &t).size() + 1;
  }
  const uint64_t total = static_cast<uint64_t>(o.mb * 1e6 / (static_cast<double>(sample) / 1000));
  std::printf("INFO events=%llu avg_event_bytes=%llu batch_records=%zu level=%d parallelism=%d\n",
              static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(sample / 1000), o.batch_records, o.level,
              o.parallelism);

  std::string error;
  auto lib = weir::testkit::PluginLibrary::Load(o.plugin, &error);
  if (!lib) {
    std::fprintf(stderr, "s3_bench: %s\n", error.c_str());
    return 1;
  }

  // Each phase's figures are read after it ran (a function argument's order is unspecified).
  auto phase = [](const char* name, const std::function<PhaseResult()>& run) {
    ResetPeakRss();
    const PhaseResult r = run();
    Report(name, r, PeakRssMb());
  };
  phase("deflate", [&] { return RunDeflateBaseline(total, o.batch_records, o.level); });
  const std::string out = o.dir + "/file-out";
  const std::string common = ",\"compression_level\":" + std::to_string(o.level) +
                             ",\"parallelism\":" + std::to_string(o.parallelism) + "}";
  phase("file", [&] {
    return RunPlugin(*lib, "{\"url\":\"file://" + out + "\"" + common, total, o.batch_records);
  });
  if (!o.endpoint.empty()) {
    phase("curl", [&] { return RunCurlBaseline(o, out); });
#ifdef WEIR_BENCH_HAVE_S3_CLIENT
    phase("upload", [&] { return RunClientUpload(o, out); });
#endif
    const std::string s3 = "{\"url\":\"s3://" + o.bucket + "/weir\",\"endpoint\":\"" + o.endpoint +
                           "\",\"access_key_id\":\"" + o.access_key_id +
                           "\",\"secret_access_key\":\"" + o.secret_access_key + "\"" + common;
    phase("s3", [&] { return RunPlugin(*lib, s3, total, o.batch_records); });
  }
  return 0;
}
