// tests/torture/torture_test.cpp — weir-torture: the end-to-end crash and fault torture test
// (issue 12, docs/reliability.md). Real parts only: moto_server (SigV4 verification on) behind
// the fault proxy, a PostgreSQL 15 reached through unixODBC + psqlODBC, a standalone
// `weir-collector`, and `weir serve` running four pipelines (events and users, each to the s3
// plugin and to the snowflake plugin) every 2 s. SDK-style clients send events and profile
// updates over HTTP; meanwhile a seeded chaos loop kill -9s the collector, the daemon and its
// run children at random moments and opens windows in which the proxy fails S3 requests. At the
// end the clients stop, the daemon catches up without faults, everything is stopped, and every
// acknowledged event must be in S3 exactly once and in the warehouse exactly once, and every
// profile's exported state must be its latest acknowledged one.
//
//   build/tests/torture/weir-torture                       # 50 s of chaos (the CI version)
//   build/tests/torture/weir-torture --duration 30m        # the long version
//   build/tests/torture/weir-torture --seed 1234 --duration 2m   # replay a seed's fault plan
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "../serve/serve_test_util.hpp"
#include "fault_proxy.hpp"
#include "moto.hpp"
#include "object_store.hpp"
#include "pg_server.hpp"
#include "store/store.hpp"
#include "subprocess.hpp"
#include "torture_clients.hpp"
#include "torture_processes.hpp"
#include "torture_util.hpp"
#include "weir/json.hpp"
#include "weir_process.hpp"

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace weir::torture {
namespace {

struct Options {
  uint64_t seed = 0;
  int64_t duration_ms = 50'000;
  int clients = 4;
  int events_per_second = 600;
  bool keep = false;  ///< keep the work directory (it is always kept on failure)
};
Options g_options;

constexpr const char* kProject = "torture";
constexpr const char* kToken = "torture-token";
constexpr const char* kSchema = "TORTURE";
const char* const kPipelines[] = {"events-s3", "users-s3", "events-wh", "users-wh"};

double Seconds(steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

/// The chaos loop's counters, and the proxy's fault plan (windows in which a share of the S3
/// requests fail).
struct Chaos {
  std::atomic<int> collector_kills{0};
  std::atomic<int> serve_kills{0};
  std::atomic<int> serve_tree_kills{0};  ///< of which with every run child at the same moment
  std::atomic<int> child_kills{0};       ///< run children killed (alone or with their daemon)
  std::atomic<int> fault_windows{0};
  std::atomic<int> slowdown{0}, internal{0}, drop{0}, truncate{0}, slow{0};
  std::atomic<int64_t> fault_until_ms{0};  ///< steady-clock ms; faults while now < this
  std::atomic<int> fault_permille{0};

  std::mutex rng_mu;
  std::mt19937_64 proxy_rng;

  static int64_t NowMs() {
    return std::chrono::duration_cast<milliseconds>(steady_clock::now().time_since_epoch())
        .count();
  }
  int injected() const { return slowdown + internal + drop + truncate + slow; }

  s3test::Fault Plan(const s3test::ProxiedRequest&) {
    if (NowMs() >= fault_until_ms.load()) return s3test::Fault::kNone;
    int kind = 0, slow_ms = 0;
    {
      std::lock_guard<std::mutex> lock(rng_mu);
      if (std::uniform_int_distribution<int>(0, 999)(proxy_rng) >= fault_permille.load()) {
        return s3test::Fault::kNone;
      }
      kind = std::uniform_int_distribution<int>(0, 4)(proxy_rng);
      slow_ms = std::uniform_int_distribution<int>(300, 3000)(proxy_rng);
    }
    switch (kind) {
      case 0:
        ++slowdown;
        return s3test::Fault::kSlowDown;
      case 1:
        ++internal;
        return s3test::Fault::kInternalError;
      case 2:
        ++drop;
        return s3test::Fault::kDrop;
      case 3:
        ++truncate;
        return s3test::Fault::kTruncate;
      default:
        // A slow answer: the plan runs on the request's own proxy thread, so sleeping here
        // delays this request only, then forwards it.
        ++slow;
        std::this_thread::sleep_for(milliseconds(slow_ms));
        return s3test::Fault::kNone;
    }
  }
};

std::string PipelineJson(const std::string& name, const std::string& stream,
                         const fs::path& collector_data, const std::string& destination) {
  return "{\"name\":\"" + name + "\",\"project\":\"" + kProject + "\",\"stream\":\"" + stream +
         "\",\"source\":{\"plugin\":\"sdk-source\",\"config\":{\"data_dir\":" +
         weir::JsonQuote(collector_data.string()) + ",\"project\":\"" + kProject +
         "\"}},\"destination\":" + destination +
         ",\"schedule\":{\"every\":\"2s\"},\"batch\":{\"max_records\":1500},"
         "\"retry\":{\"max_attempts\":8,\"initial_backoff_ms\":100,\"max_backoff_ms\":2000}}";
}

/// What was exported, read back from the destinations.
struct Exported {
  std::unordered_map<std::string, int> event_copies;  ///< insert_id → rows/lines
  std::map<std::string, ProfileState> profiles;       ///< latest exported state per user
  std::set<std::string> deleted;                      ///< users whose latest row is a deletion
  size_t objects = 0;
  std::vector<std::string> errors;
};

/// Every object of the bucket (listed without a prefix: moto cannot verify a List whose prefix
/// holds '/'), gunzipped; events counted by insert_id, users folded to the latest
/// `updated_at` (ties: the later object, then the later line — docs/s3.md).
Exported ReadS3(const s3test::MotoServer& moto, const std::string& bucket) {
  Exported out;
  auto store = s3::MakeS3ObjectStore(moto.Config(bucket), {});
  if (!store.ok()) {
    out.errors.push_back("s3 store: " + store.status().ToString());
    return out;
  }
  auto keys = (*store)->List("");
  if (!keys.ok()) {
    out.errors.push_back("s3 list: " + keys.status().ToString());
    return out;
  }
  const std::string events_prefix = std::string("exports/") + kProject + "/mp_master_event/";
  const std::string users_prefix = std::string("exports/") + kProject + "/mp_people_data/";
  simdjson::dom::parser parser;
  for (const std::string& key : *keys) {
    const bool events = key.rfind(events_prefix, 0) == 0;
    const bool users = key.rfind(users_prefix, 0) == 0;
    if (!events && !users) continue;
    auto body = (*store)->Get(key);
    if (!body.ok() || !body->has_value()) {
      out.errors.push_back("s3 get " + key + ": " +
                           (body.ok() ? std::string("missing") : body.status().ToString()));
      continue;
    }
    ++out.objects;
    std::optional<std::string> text = Gunzip(**body);
    if (!text) {
      out.errors.push_back("s3 object " + key + " is not valid gzip");
      continue;
    }
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
      simdjson::dom::element doc;
      if (parser.parse(line).get(doc) != simdjson::SUCCESS) {
        out.errors.push_back("s3 object " + key + ": unparsable line " + line.substr(0, 200));
        continue;
      }
      if (events) {
        std::string_view id;
        if (doc["insert_id"].get(id) != simdjson::SUCCESS) {
          out.errors.push_back("s3 object " + key + ": event without insert_id");
          continue;
        }
        ++out.event_copies[std::string(id)];
        continue;
      }
      std::string_view user;
      int64_t updated_at = 0;
      if (doc["distinct_id"].get(user) != simdjson::SUCCESS ||
          doc["updated_at"].get(updated_at) != simdjson::SUCCESS) {
        out.errors.push_back("s3 object " + key + ": bad profile line " + line.substr(0, 200));
        continue;
      }
      const std::string u(user);
      auto it = out.profiles.find(u);
      if (it != out.profiles.end() && it->second.time_ms > updated_at) continue;
      ProfileState s;
      s.time_ms = updated_at;
      bool is_deleted = false;
      if (doc["deleted"].get(is_deleted) == simdjson::SUCCESS && is_deleted) {
        out.deleted.insert(u);
      } else {
        out.deleted.erase(u);
        int64_t v = 0;
        std::string_view owner;
        if (doc["properties"]["v"].get(v) == simdjson::SUCCESS) s.version = v;
        if (doc["properties"]["owner"].get(owner) == simdjson::SUCCESS) s.owner = owner;
      }
      out.profiles[u] = s;
    }
  }
  return out;
}

Exported ReadWarehouse(const snowflake::testing::PgServer& pg) {
  Exported out;
  for (const auto& row :
       pg.Query(std::string("SELECT \"INSERT_ID\" FROM \"") + kSchema + "\".\"EVENTS\"")) {
    if (!row.empty() && row[0]) ++out.event_copies[*row[0]];
  }
  for (const auto& row : pg.Query(std::string("SELECT \"DISTINCT_ID\", \"PROPERTIES\"->>'v', ") +
                                  "\"PROPERTIES\"->>'owner', COALESCE(\"DELETED\", false)::text, " +
                                  "(EXTRACT(EPOCH FROM \"UPDATED_AT\") * 1000)::bigint FROM \"" +
                                  kSchema + "\".\"USERS\"")) {
    if (row.size() != 5 || !row[0]) continue;
    ProfileState s;
    if (row[1]) s.version = std::atoll(row[1]->c_str());
    if (row[2]) s.owner = *row[2];
    if (row[4]) s.time_ms = std::atoll(row[4]->c_str());
    if (row[3] && *row[3] == "true") out.deleted.insert(*row[0]);
    out.profiles[*row[0]] = s;
  }
  return out;
}

/// insert_ids stored more than once by the collector (a request re-sent after its answer was
/// lost): what the export side must then not duplicate.
int64_t StoreDuplicates(const fs::path& store_dir, int64_t* stored) {
  sdksource::StoreOptions options;
  options.dir = store_dir;
  auto store = sdksource::Store::OpenReadOnly(options);
  if (!store.ok()) return -1;
  std::unordered_map<std::string, int> copies;
  sdksource::ReadResult result;
  uint64_t after = 0;
  simdjson::dom::parser parser;
  for (;;) {
    sdksource::ReadBounds bounds;
    bounds.after_seq = after;
    bounds.max_records = 20000;
    if (!(*store)->Read(sdksource::Stream::kEvents, bounds, result).ok()) return -1;
    if (result.records.empty()) break;
    for (const auto& r : result.records) {
      std::string_view id;
      simdjson::dom::element doc;
      if (parser.parse(r.json.data(), r.json.size()).get(doc) == simdjson::SUCCESS &&
          doc["insert_id"].get(id) == simdjson::SUCCESS) {
        ++copies[std::string(id)];
      }
    }
    after = result.records.back().seq;
  }
  int64_t dups = 0;
  *stored = 0;
  for (const auto& [id, n] : copies) {
    *stored += n;
    dups += n - 1;
  }
  return dups;
}

struct Check {
  int64_t unique_found = 0;
  int64_t duplicates = 0;  ///< extra copies of acknowledged events
  int64_t missing = 0;
  int64_t unexpected = 0;  ///< ids exported that no client saw acknowledged
  int64_t profiles_ok = 0;
  int64_t profiles_bad = 0;
  std::vector<std::string> examples;
};

Check Compare(const std::string& where, const std::vector<std::string>& acked,
              const std::map<std::string, ProfileState>& profiles, const Exported& got) {
  Check c;
  std::unordered_map<std::string, int> want;
  want.reserve(acked.size());
  for (const auto& id : acked) ++want[id];
  for (const auto& id : acked) {
    auto it = got.event_copies.find(id);
    if (it == got.event_copies.end()) {
      ++c.missing;
      if (c.examples.size() < 10) c.examples.push_back(where + ": missing event " + id);
    } else {
      ++c.unique_found;
      if (it->second > 1) {
        c.duplicates += it->second - 1;
        if (c.examples.size() < 10) {
          c.examples.push_back(where + ": event " + id + " exported " +
                               std::to_string(it->second) + " times");
        }
      }
    }
  }
  for (const auto& [id, n] : got.event_copies) {
    if (want.find(id) == want.end()) c.unexpected += n;
  }
  for (const auto& [user, s] : profiles) {
    auto it = got.profiles.find(user);
    const bool ok = it != got.profiles.end() && got.deleted.count(user) == 0 &&
                    it->second.version == s.version && it->second.owner == s.owner &&
                    it->second.time_ms == s.time_ms;
    if (ok) {
      ++c.profiles_ok;
    } else {
      ++c.profiles_bad;
      if (c.examples.size() < 20) {
        c.examples.push_back(
            where + ": profile " + user + " acked v" + std::to_string(s.version) + " at " +
            std::to_string(s.time_ms) + ", exported " +
            (it == got.profiles.end() ? std::string("nothing")
                                      : "v" + std::to_string(it->second.version) + " at " +
                                            std::to_string(it->second.time_ms)));
      }
    }
  }
  return c;
}

int64_t WallMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A work directory kept when the test fails (or with --keep), so its logs can be read.
class WorkDir {
 public:
  WorkDir() {
    std::string tmpl = (fs::temp_directory_path() / "weir-torture-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~WorkDir() {
    const bool failed = ::testing::Test::HasFailure();
    if (path_.empty()) return;
    if (failed || g_options.keep) {
      std::printf("work directory kept: %s\n", path_.c_str());
    } else {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(Torture, AcknowledgedRecordsReachS3AndTheWarehouseExactlyOnceWhateverIsKilled) {
  const auto t_begin = steady_clock::now();
  const uint64_t seed = g_options.seed;
  std::printf("weir-torture: seed %llu, %.0f s of chaos, %d clients (replay: --seed %llu)\n",
              static_cast<unsigned long long>(seed), static_cast<double>(g_options.duration_ms) / 1000.0,
              g_options.clients, static_cast<unsigned long long>(seed));
  std::fflush(stdout);

  // --- services -------------------------------------------------------------------------
  std::string missing, error;
  std::unique_ptr<s3test::MotoServer> moto = s3test::MotoServer::Start(&missing, &error);
  if (!missing.empty()) WEIR_S3TEST_MISSING(missing);
  ASSERT_TRUE(moto) << error;
  SNOWFLAKE_REQUIRE_PG();
  snowflake::testing::PgServer& pg = *snowflake::testing::PgServer::Shared();
  pg.ResetSchema(kSchema);
  const std::string bucket = "weir-torture-" + std::to_string(::getpid());
  {
    Status s = moto->CreateBucket(bucket);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  Chaos chaos;
  chaos.proxy_rng.seed(seed ^ 0x5eedf00dULL);
  s3test::FaultProxy proxy(moto->port(),
                           [&chaos](const s3test::ProxiedRequest& r) { return chaos.Plan(r); });
  ASSERT_GT(proxy.port(), 0);

  WorkDir work;
  ASSERT_FALSE(work.path().empty());
  const fs::path& dir = work.path();
  const fs::path collector_data = dir / "collector";
  fs::create_directories(dir / "pipelines");
  // Secrets reach the plugins only through ${ENV} references the host resolves.
  ::setenv("WEIR_TORTURE_S3_KEY_ID", moto->credentials().access_key_id.c_str(), 1);
  ::setenv("WEIR_TORTURE_S3_SECRET", moto->credentials().secret_access_key.c_str(), 1);
  ::setenv("WEIR_TORTURE_PG_PASSWORD", pg.password().c_str(), 1);
  const std::string s3_dest =
      "{\"plugin\":\"s3\",\"config\":{\"url\":\"s3://" + bucket + "/exports\",\"endpoint\":\"" +
      proxy.endpoint() +
      "\",\"addressing\":\"path\",\"access_key_id\":\"${WEIR_TORTURE_S3_KEY_ID}\","
      "\"secret_access_key\":\"${WEIR_TORTURE_S3_SECRET}\",\"max_object_bytes\":131072}}";
  const std::string wh_dest =
      "{\"plugin\":\"snowflake\",\"config\":" +
      pg.PluginConfig(kSchema, ", \"rows_per_statement\": 500", "\"${WEIR_TORTURE_PG_PASSWORD}\"") +
      "}";
  const std::pair<const char*, std::string> files[] = {
      {"events-s3", PipelineJson("events-s3", "events", collector_data, s3_dest)},
      {"users-s3", PipelineJson("users-s3", "users", collector_data, s3_dest)},
      {"events-wh", PipelineJson("events-wh", "events", collector_data, wh_dest)},
      {"users-wh", PipelineJson("users-wh", "users", collector_data, wh_dest)}};
  for (const auto& [name, json] : files) {
    std::ofstream(dir / "pipelines" / (std::string(name) + ".json")) << json;
  }
  Processes procs(dir, {WEIR_BINARY, WEIR_COLLECTOR_BINARY, WEIR_PLUGINS_DIR},
                  "{\"data_dir\":" + weir::JsonQuote(collector_data.string()) +
                      ",\"listen\":\"127.0.0.1:%PORT%\",\"projects\":{\"" + kProject +
                      "\":{\"tokens\":[\"" + kToken + "\"]}}}");
  ASSERT_TRUE(procs.StartCollector(&error)) << error;
  ASSERT_TRUE(procs.StartServe(&error)) << error;

  // --- clients and chaos ---------------------------------------------------------------
  ClientFleet fleet(g_options.clients, seed, [&procs] { return procs.collector_port(); }, kToken,
                    g_options.events_per_second);
  fleet.Start();
  std::mt19937_64 rng(seed);
  auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const auto chaos_start = steady_clock::now();
  const auto chaos_end = chaos_start + milliseconds(g_options.duration_ms);
  auto stamp = [&] { return Seconds(steady_clock::now() - chaos_start); };
  std::string fatal;
  while (fatal.empty() && steady_clock::now() < chaos_end) {
    std::this_thread::sleep_for(milliseconds(pick(800, 3500)));
    if (steady_clock::now() >= chaos_end) break;
    const int action = pick(0, 99);
    if (action < 25) {
      const pid_t pid = procs.KillCollector();
      ++chaos.collector_kills;
      const int down_ms = pick(100, 2000);
      std::printf("[%7.1fs] kill -9 collector (pid %d), down %d ms\n", stamp(), pid, down_ms);
      std::this_thread::sleep_for(milliseconds(down_ms));
      if (!procs.StartCollector(&error)) fatal = error;
    } else if (action < 45) {
      const bool tree = pick(0, 1) == 1;
      auto [pid, kids] = procs.KillServe(tree);
      ++chaos.serve_kills;
      if (tree) ++chaos.serve_tree_kills;
      chaos.child_kills += kids;
      const int down_ms = pick(100, 2000);
      std::printf("[%7.1fs] kill -9 serve (pid %d)%s, down %d ms\n", stamp(), pid,
                  tree ? (" and its " + std::to_string(kids) + " run children").c_str() : "",
                  down_ms);
      std::this_thread::sleep_for(milliseconds(down_ms));
      if (!procs.StartServe(&error)) fatal = error;
    } else if (action < 80) {
      // Wait (a little) for a step to be running, then strike at a random point inside it.
      pid_t victim = 0;
      for (int i = 0; i < 60 && victim == 0; ++i) {
        if (!procs.RunChildren().empty()) {
          std::this_thread::sleep_for(milliseconds(pick(0, 400)));
          victim = procs.KillRunChild(rng);
        } else {
          std::this_thread::sleep_for(milliseconds(50));
        }
      }
      if (victim > 0) {
        ++chaos.child_kills;
        std::printf("[%7.1fs] kill -9 run child (pid %d)\n", stamp(), victim);
      }
    } else {
      const int length_ms = pick(2000, 8000);
      const int permille = pick(250, 800);
      chaos.fault_permille = permille;
      chaos.fault_until_ms = Chaos::NowMs() + length_ms;
      ++chaos.fault_windows;
      std::printf("[%7.1fs] S3 faults for %d ms on %d%% of requests\n", stamp(), length_ms,
                  permille / 10);
    }
    std::fflush(stdout);
  }
  chaos.fault_until_ms = 0;
  if (!fatal.empty()) fleet.Abort();
  ASSERT_TRUE(fatal.empty()) << fatal << "\n" << procs.LogTails();

  // --- wind down: clients finish, the daemon catches up without faults -----------------------
  const auto t_chaos_over = steady_clock::now();
  if (!procs.collector_running()) {
    ASSERT_TRUE(procs.StartCollector(&error)) << error;
  }
  const bool clients_ok = fleet.StopAndJoin();
  for (const auto& e : fleet.Errors()) ADD_FAILURE() << e;
  ASSERT_TRUE(clients_ok);
  const int64_t acked_all_by = WallMs();
  // A fresh daemon: the kills left its pipelines in retry backoff (5 s doubling), which would
  // only stretch the wait. Its SIGTERM is itself part of the test (batches finish and commit).
  if (procs.serve_running()) procs.StopServe();
  ASSERT_TRUE(procs.StartServe(&error)) << error;
  // Caught up: every pipeline had a run that started after the last acknowledgement and found
  // nothing new (and so no pending batch either).
  const auto catch_up_deadline =
      steady_clock::now() + milliseconds(180'000 + g_options.duration_ms / 4);
  std::set<std::string> caught_up;
  while (caught_up.size() < std::size(kPipelines) && steady_clock::now() < catch_up_deadline) {
    std::this_thread::sleep_for(milliseconds(1000));
    for (const auto& run : weir::test::serve::ListRuns(dir)) {
      if (run.started > acked_all_by && run.status == "no_data") caught_up.insert(run.pipeline);
    }
  }
  const auto t_caught_up = steady_clock::now();
  EXPECT_EQ(caught_up.size(), std::size(kPipelines))
      << "serve did not catch up within the deadline\n"
      << procs.LogTails();
  EXPECT_EQ(procs.StopServe(), 0) << procs.LogTails();
  EXPECT_EQ(procs.StopCollector(), 0);

  // --- verify ----------------------------------------------------------------------------------
  const std::vector<std::string> acked = fleet.AckedEventIds();
  const std::map<std::string, ProfileState> profiles = fleet.AckedProfiles();
  const ClientTotals totals = fleet.Totals();
  int64_t stored = 0;
  const int64_t store_dups = StoreDuplicates(collector_data / kProject, &stored);
  const Exported s3_got = ReadS3(*moto, bucket);
  const Exported wh_got = ReadWarehouse(pg);
  for (const auto& e : s3_got.errors) ADD_FAILURE() << e;
  const Check s3c = Compare("s3", acked, profiles, s3_got);
  const Check whc = Compare("warehouse", acked, profiles, wh_got);
  const auto t_end = steady_clock::now();

  const bool pass = s3c.missing == 0 && s3c.duplicates == 0 && whc.missing == 0 &&
                    whc.duplicates == 0 && s3c.profiles_bad == 0 && whc.profiles_bad == 0 &&
                    s3_got.errors.empty() && caught_up.size() == std::size(kPipelines);
  std::printf(
      "\n== weir-torture summary ==\n"
      "seed                %llu   (replay: weir-torture --seed %llu --duration %llds)\n"
      "duration            %.1f s of chaos, %.1f s to catch up, %.1f s in all\n"
      "clients             %d: %lld requests acknowledged, %lld attempts (%lld without an "
      "answer, %lld answered 503), %lld re-sent after an unknown outcome\n"
      "events acked        %zu\n"
      "collector store     %lld events stored, %lld stored twice or more (re-sent requests)\n"
      "events in S3        %lld found, %lld missing, %lld duplicates, %lld not acked (%zu "
      "objects)\n"
      "events in warehouse %lld found, %lld missing, %lld duplicates, %lld not acked\n"
      "profiles checked    %zu (%lld updates acked): S3 %lld latest, %lld wrong; warehouse "
      "%lld latest, %lld wrong\n"
      "kills               collector %d, serve %d (%d with its children), run children %d\n"
      "S3 proxy faults     %d injected in %d windows of %d requests: 503 SlowDown %d, 500 "
      "InternalError %d, dropped %d, truncated %d, slow %d\n"
      "result              %s\n",
      static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed),
      static_cast<long long>(g_options.duration_ms / 1000), Seconds(t_chaos_over - chaos_start),
      Seconds(t_caught_up - t_chaos_over), Seconds(t_end - t_begin), g_options.clients,
      static_cast<long long>(totals.requests), static_cast<long long>(totals.attempts),
      static_cast<long long>(totals.no_answer), static_cast<long long>(totals.unavailable),
      static_cast<long long>(totals.resent_after_loss), acked.size(),
      static_cast<long long>(stored), static_cast<long long>(store_dups),
      static_cast<long long>(s3c.unique_found), static_cast<long long>(s3c.missing),
      static_cast<long long>(s3c.duplicates), static_cast<long long>(s3c.unexpected),
      s3_got.objects, static_cast<long long>(whc.unique_found),
      static_cast<long long>(whc.missing), static_cast<long long>(whc.duplicates),
      static_cast<long long>(whc.unexpected), profiles.size(),
      static_cast<long long>(totals.profile_updates), static_cast<long long>(s3c.profiles_ok),
      static_cast<long long>(s3c.profiles_bad), static_cast<long long>(whc.profiles_ok),
      static_cast<long long>(whc.profiles_bad), chaos.collector_kills.load(),
      chaos.serve_kills.load(), chaos.serve_tree_kills.load(), chaos.child_kills.load(),
      chaos.injected(), chaos.fault_windows.load(), proxy.requests(), chaos.slowdown.load(),
      chaos.internal.load(), chaos.drop.load(), chaos.truncate.load(), chaos.slow.load(),
      pass ? "PASS: zero loss, zero duplicates" : "FAIL");
  for (const auto& e : s3c.examples) std::printf("  %s\n", e.c_str());
  for (const auto& e : whc.examples) std::printf("  %s\n", e.c_str());
  std::fflush(stdout);

  EXPECT_GT(acked.size(), 0u);
  EXPECT_GT(profiles.size(), 0u);
  EXPECT_EQ(s3c.missing, 0);
  EXPECT_EQ(s3c.duplicates, 0);
  EXPECT_EQ(whc.missing, 0);
  EXPECT_EQ(whc.duplicates, 0);
  EXPECT_EQ(s3c.profiles_bad, 0);
  EXPECT_EQ(whc.profiles_bad, 0);
  // The long version must actually have tortured something.
  if (g_options.duration_ms >= 30'000) {
    EXPECT_GT(chaos.collector_kills + chaos.serve_kills + chaos.child_kills, 0);
  }
}

}  // namespace
}  // namespace weir::torture

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);  // takes the --gtest_* flags out
  using weir::torture::g_options;
  g_options.seed = std::random_device{}();
  g_options.seed = (g_options.seed << 32) ^ std::random_device{}();
  const char* kUsage =
      "usage: weir-torture [--seed N] [--duration 45s|30m|1h] [--clients N] "
      "[--events-per-second N] [--keep] [gtest flags]\n";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "weir-torture: %s needs a value\n%s", arg.c_str(), kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--seed") {
      g_options.seed = std::strtoull(value().c_str(), nullptr, 10);
    } else if (arg == "--duration") {
      const std::string v = value();
      auto ms = weir::torture::ParseDurationMs(v);
      if (!ms || *ms < 5000) {
        std::fprintf(stderr, "weir-torture: --duration '%s': expected e.g. 45s, 30m, 1h (>= 5s)\n",
                     v.c_str());
        return 2;
      }
      g_options.duration_ms = *ms;
    } else if (arg == "--clients") {
      g_options.clients = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--events-per-second") {
      g_options.events_per_second = std::max(0, std::atoi(value().c_str()));
    } else if (arg == "--keep") {
      g_options.keep = true;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "weir-torture: unexpected argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  return RUN_ALL_TESTS();
}
