// bench/sdk_source_bench.cpp — sdk_source_bench: the disk and source-read figures of
// bench/run-sdk-source.
//
//   sdk_source_bench disk --dir DIR [--mib 256]
//       Writes MIB MiB in 1 MiB blocks to a new file in DIR, fsyncs it, removes it: the raw
//       sequential write speed of that filesystem, the ceiling for durable ingest.
//   sdk_source_bench fill --data-dir DIR --project P [--events 1000000]
//       Appends weir-loadgen's events (canonical form) straight into the store DIR/P, in
//       batches of 1,000 through Store::Append, bypassing the collector: read figures
//       without a collector run.
//   sdk_source_bench read --plugin libweir-sdk-source.so --data-dir DIR --project P [--project Q]
//                         [--stream events] [--batch 10000] [--passes 3]
//       Reads every record of each project's store through the plugin's C vtable (dlopen, open,
//       then read batches of BATCH records until caught up, as `weir run` does) on this one
//       thread, PASSES times. Reports records/s and MB/s of batch bytes (1 MB = 10^6 bytes)
//       per pass over wall time and over this thread's CPU time, and the process's peak RSS.
//   sdk_source_bench copy --data-dir DIR [--passes 3]
//       The source read's same-run baseline: maps every file below DIR (the stores just read)
//       and copies its bytes once into a reusable 8 MiB buffer, on this one thread, PASSES
//       times. That is the least a reader that hands out records held in those files must do
//       (the store maps its segments and copies each record into the batch), so its best pass
//       is the ceiling for `read`.
//
// Each prints human-readable lines and one machine-readable line starting "RESULT ".
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "loadgen_payload.hpp"
#include "store/store.hpp"
#include "weir/plugin.hpp"
#include "weir/testkit.hpp"

namespace weir::bench {
namespace {

namespace po = boost::program_options;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// VmHWM of this process in MiB (-1 if unreadable): file pages the store maps count too.
long PeakRssMib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6) / 1024;
  }
  return -1;
}

int Disk(const std::string& dir, uint64_t mib) {
  const std::string path = dir + "/sdk_source_bench.disk-probe." + std::to_string(::getpid());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "sdk_source_bench disk: cannot create %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return 1;
  }
  // Non-zero, non-repeating-looking data so no layer can shortcut it.
  std::vector<char> block(1 << 20);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < block.size(); i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::memcpy(block.data() + i, &x, 8);
  }
  const double start = WallSeconds();
  int rc = 0;
  for (uint64_t i = 0; i < mib && rc == 0; ++i) {
    block[0] = static_cast<char>(i);
    size_t done = 0;
    while (done < block.size()) {
      const ssize_t n = ::write(fd, block.data() + done, block.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        std::fprintf(stderr, "sdk_source_bench disk: write to %s: %s\n", path.c_str(),
                     std::strerror(errno));
        rc = 1;
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  if (rc == 0 && ::fsync(fd) != 0) {
    std::fprintf(stderr, "sdk_source_bench disk: fsync %s: %s\n", path.c_str(),
                 std::strerror(errno));
    rc = 1;
  }
  const double seconds = WallSeconds() - start;
  ::close(fd);
  ::unlink(path.c_str());
  if (rc != 0) return rc;
  const double mb = static_cast<double>(mib) * 1048576.0 / 1e6;
  std::printf("disk: wrote %llu MiB in 1 MiB blocks + fsync to %s in %.2f s: %.0f MB/s\n",
              static_cast<unsigned long long>(mib), dir.c_str(), seconds, mb / seconds);
  std::printf("RESULT disk mib=%llu seconds=%.3f mb_per_s=%.0f\n",
              static_cast<unsigned long long>(mib), seconds, mb / seconds);
  return 0;
}

int Fill(const std::string& data_dir, const std::string& project, uint64_t events) {
  sdksource::StoreOptions options;
  options.dir = data_dir + "/" + project;
  auto store = sdksource::Store::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "sdk_source_bench fill: %s\n", store.status().ToString().c_str());
    return 1;
  }
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  EventGenerator gen(/*seed=*/1, /*first_index=*/0, now_ms);
  uint64_t bytes = 0;
  const double start = WallSeconds();
  for (uint64_t done = 0; done < events;) {
    std::vector<sdksource::Record> records;
    for (; done < events && records.size() < 1000; ++done) {
      Event e = gen.Next();
      std::string json = R"({"event":")" + e.name + R"(","time":)" + std::to_string(e.time_ms) +
                         R"(,"distinct_id":")" + e.distinct_id + R"(","insert_id":")" +
                         e.insert_id + R"(","properties":{)" + e.properties + "}}";
      bytes += json.size() + 1;
      records.push_back(sdksource::Record::Event(std::move(json), e.time_ms));
    }
    auto appended = (*store)->Append(std::move(records));
    if (!appended.ok()) {
      std::fprintf(stderr, "sdk_source_bench fill: %s\n", appended.status().ToString().c_str());
      return 1;
    }
  }
  const double seconds = WallSeconds() - start;
  std::printf("fill: appended %llu events (%.1f MB) to %s in %.2f s\n",
              static_cast<unsigned long long>(events), static_cast<double>(bytes) / 1e6,
              options.dir.c_str(), seconds);
  return 0;
}

struct PassTotals {
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t batches = 0;
};

/// Reads one store to the end through the vtable; returns false (after printing) on error.
bool ReadStore(const weir_plugin& plugin, testkit::FakeHost& host, const std::string& data_dir,
               const std::string& project, const std::string& stream, uint64_t batch,
               PassTotals& totals) {
  auto json_string = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out + "\"";
  };
  const std::string config =
      "{\"data_dir\":" + json_string(data_dir) + ",\"project\":" + json_string(project) + "}";
  weir_instance* instance = nullptr;
  weir_error err{};
  if (plugin.source->open(config.data(), config.size(), host.services(), &instance, &err) !=
      WEIR_OK) {
    std::fprintf(stderr, "sdk_source_bench read: open %s: %s\n", project.c_str(),
                 err.message != nullptr ? err.message : "?");
    weir_error_release(&err);
    return false;
  }
  std::string wm;
  bool ok = true;
  for (;;) {
    weir_read_request req{};
    req.struct_size = sizeof(req);
    req.mode = WEIR_READ_RANGE;
    req.stream = stream.c_str();
    req.from_wm = {reinterpret_cast<const uint8_t*>(wm.data()), wm.size()};
    req.max_records = batch;
    weir_batch out{};
    weir_error read_err{};
    if (plugin.source->read(instance, &req, &out, &read_err) != WEIR_OK) {
      std::fprintf(stderr, "sdk_source_bench read: %s: %s\n", project.c_str(),
                   read_err.message != nullptr ? read_err.message : "?");
      weir_error_release(&read_err);
      ok = false;
      break;
    }
    const size_t count = out.count;
    if (count > 0) {
      totals.records += count;
      totals.bytes += out.size;
      ++totals.batches;
      wm.assign(reinterpret_cast<const char*>(out.high_watermark.data), out.high_watermark.size);
    }
    weir_batch_release(&out);
    if (count == 0) break;
  }
  plugin.source->close(instance);
  return ok;
}

int Read(const std::string& so_path, const std::string& data_dir,
         const std::vector<std::string>& projects, const std::string& stream, uint64_t batch,
         int passes) {
  std::string error;
  auto library = testkit::PluginLibrary::Load(so_path, &error);
  if (!library) {
    std::fprintf(stderr, "sdk_source_bench read: cannot load %s: %s\n", so_path.c_str(),
                 error.c_str());
    return 1;
  }
  const weir_plugin& plugin = library->descriptor();
  if (plugin.source == nullptr) {
    std::fprintf(stderr, "sdk_source_bench read: %s is not a source\n", so_path.c_str());
    return 1;
  }
  testkit::FakeHost host;
  double best_wall_mbps = 0, best_cpu_mbps = 0, best_wall_rps = 0, best_cpu_rps = 0;
  PassTotals last;
  for (int pass = 1; pass <= passes; ++pass) {
    PassTotals totals;
    const double wall0 = WallSeconds(), cpu0 = ThreadCpuSeconds();
    for (const auto& project : projects) {
      if (!ReadStore(plugin, host, data_dir, project, stream, batch, totals)) return 1;
    }
    const double wall = WallSeconds() - wall0, cpu = ThreadCpuSeconds() - cpu0;
    const double mb = static_cast<double>(totals.bytes) / 1e6;
    const double recs = static_cast<double>(totals.records);
    std::printf(
        "read pass %d: %llu records, %.1f MB in %llu batches: %.3f s wall, %.3f s CPU: "
        "%.0f MB/s, %.0f records/s (wall); %.0f MB/s, %.0f records/s (CPU)\n",
        pass, static_cast<unsigned long long>(totals.records), mb,
        static_cast<unsigned long long>(totals.batches), wall, cpu, mb / wall, recs / wall,
        mb / cpu, recs / cpu);
    best_wall_mbps = std::max(best_wall_mbps, mb / wall);
    best_cpu_mbps = std::max(best_cpu_mbps, mb / cpu);
    best_wall_rps = std::max(best_wall_rps, recs / wall);
    best_cpu_rps = std::max(best_cpu_rps, recs / cpu);
    last = totals;
  }
  std::printf(
      "RESULT read records=%llu bytes=%llu batch=%llu passes=%d best_wall_mb_per_s=%.0f "
      "best_wall_records_per_s=%.0f best_cpu_mb_per_s=%.0f best_cpu_records_per_s=%.0f "
      "peak_rss_mb=%ld\n",
      static_cast<unsigned long long>(last.records), static_cast<unsigned long long>(last.bytes),
      static_cast<unsigned long long>(batch), passes, best_wall_mbps, best_wall_rps, best_cpu_mbps,
      best_cpu_rps, PeakRssMib());
  return last.records > 0 ? 0 : 1;
}

/// Maps `path` and copies it into `buffer` chunk by chunk; adds its size to `*bytes`.
bool CopyFile(const std::filesystem::path& path, std::vector<char>& buffer, uint64_t* bytes,
              unsigned* sink) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::fprintf(stderr, "sdk_source_bench copy: %s: %s\n", path.c_str(), std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return false;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      std::fprintf(stderr, "sdk_source_bench copy: mmap %s: %s\n", path.c_str(),
                   std::strerror(errno));
      ::close(fd);
      return false;
    }
    const char* data = static_cast<const char*>(p);
    for (size_t done = 0; done < size; done += buffer.size()) {
      const size_t n = std::min(buffer.size(), size - done);
      std::memcpy(buffer.data(), data + done, n);
      *sink += static_cast<unsigned char>(buffer[n - 1]);  // the copy is used
    }
    ::munmap(p, size);
  }
  ::close(fd);
  *bytes += size;
  return true;
}

int Copy(const std::string& data_dir, int passes) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(data_dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  if (ec || files.empty()) {
    std::fprintf(stderr, "sdk_source_bench copy: no files below %s\n", data_dir.c_str());
    return 1;
  }
  std::vector<char> buffer(8u << 20);
  unsigned sink = 0;
  uint64_t bytes = 0;
  double best = 0;
  for (int pass = 1; pass <= passes; ++pass) {
    bytes = 0;
    const double wall0 = WallSeconds();
    for (const auto& f : files) {
      if (!CopyFile(f, buffer, &bytes, &sink)) return 1;
    }
    const double wall = WallSeconds() - wall0;
    std::printf("copy pass %d: %zu files, %.1f MB mapped and copied in %.3f s: %.0f MB/s\n", pass,
                files.size(), static_cast<double>(bytes) / 1e6, wall,
                static_cast<double>(bytes) / 1e6 / wall);
    if (best == 0 || wall < best) best = wall;
  }
  std::printf(
      "RESULT copy files=%zu bytes=%llu passes=%d best_seconds=%.4f best_mb_per_s=%.0f "
      "check=%u\n",
      files.size(), static_cast<unsigned long long>(bytes), passes, best,
      static_cast<double>(bytes) / 1e6 / best, sink);
  return 0;
}

}  // namespace
}  // namespace weir::bench

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  const std::string usage =
      "usage: sdk_source_bench disk --dir DIR [--mib N]\n"
      "       sdk_source_bench fill --data-dir DIR --project P [--events N]\n"
      "       sdk_source_bench read --plugin SO --data-dir DIR --project P [--project Q ...]\n"
      "                             [--stream events] [--batch 10000] [--passes 3]\n"
      "       sdk_source_bench copy --data-dir DIR [--passes 3]\n";
  const std::string first = argc >= 2 ? argv[1] : "";
  if (first != "disk" && first != "fill" && first != "read" && first != "copy") {
    std::cerr << usage;
    return 2;
  }
  const std::string mode = argv[1];
  std::string dir, so_path, data_dir, stream;
  std::vector<std::string> projects;
  uint64_t mib = 0, batch = 0, events = 0;
  int passes = 0;
  po::options_description desc("options");
  desc.add_options()("dir", po::value(&dir))("mib", po::value(&mib)->default_value(256))(
      "plugin", po::value(&so_path))("data-dir", po::value(&data_dir))(
      "project", po::value(&projects)->multitoken())("stream",
                                                     po::value(&stream)->default_value("events"))(
      "batch", po::value(&batch)->default_value(10000))(
      "passes", po::value(&passes)->default_value(3))("events",
                                                      po::value(&events)->default_value(1000000));
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc - 1, argv + 1, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "sdk_source_bench: " << e.what() << "\n" << usage;
    return 2;
  }
  if (mode == "disk") {
    if (dir.empty() || mib == 0) {
      std::cerr << usage;
      return 2;
    }
    return weir::bench::Disk(dir, mib);
  }
  if (mode == "fill") {
    if (data_dir.empty() || projects.size() != 1 || events == 0) {
      std::cerr << usage;
      return 2;
    }
    return weir::bench::Fill(data_dir, projects[0], events);
  }
  if (mode == "copy") {
    if (data_dir.empty() || passes <= 0) {
      std::cerr << usage;
      return 2;
    }
    return weir::bench::Copy(data_dir, passes);
  }
  if (so_path.empty() || data_dir.empty() || projects.empty() || batch == 0 || passes <= 0) {
    std::cerr << usage;
    return 2;
  }
  return weir::bench::Read(so_path, data_dir, projects, stream, batch, passes);
}
