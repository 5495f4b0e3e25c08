// bench/snowflake_bench.cpp — the measuring half of bench/run-snowflake: rows/s into PostgreSQL
// through the snowflake plugin, next to a bare ODBC array-insert loop over the same rows.
//
// Every mode generates the same deterministic events (realistic SDK-like properties, ~230
// bytes each) and loads their column values in schema --schema:
//
//   tsv     writes the values as a PostgreSQL COPY text file (for `psql \copy`);
//   bare    the plugin's insert method and nothing else: the same one-row INSERT … VALUES
//           (?, ?, ?, ?, ?) with the same ODBC column-wise array binding (OdbcSession::
//           InsertRows, `--rows-per-statement` rows per execution) of the same strings into a
//           plain table of five VARCHAR columns, a COMMIT every `--batch` rows — no parsing, no
//           staging table, no MERGE, no ledger;
//   bare-temporary
//           the same, into a TEMPORARY table like the plugin's staging table (no WAL): the
//           plugin's staging step alone;
//   typed   the same array-bound INSERT straight into a copy of the plugin's EVENTS table,
//           converting as the plugin's MERGE does (CAST(? AS TIMESTAMP_NTZ), PARSE_JSON(?)) and
//           maintaining its primary key — a loader doing the same conversion without staging,
//           MERGE or ledger (and without their guarantees);
//   plugin  the real libweir-snowflake.so through the C ABI, one write() of `--batch` records per
//           transaction (parse, stage, MERGE into EVENTS, ledger, COMMIT), as the host drives
//           it.
//
// The timed part excludes generating the data and connecting. Prints one line
// `RESULT mode=<mode> rows=<n> seconds=<s> rows_per_s=<r> client_cpu_s=<c> peak_rss_mb=<m>`
// (this process's peak RSS, the pre-built batches included) and one line
// `PHASES name_ms=<ms> ...` saying where the wall time went.
//
//   snowflake_bench bare --conn "Driver=...;Server=127.0.0.1;Port=5432;Database=postgres"
//       --user weir --schema BENCH_BARE --rows 200000 --batch 10000 --rows-per-statement 1000
//   (one command line)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "snowflake/loader.hpp"
#include "snowflake/odbc.hpp"
#include "snowflake/rows.hpp"
#include "snowflake/sql.hpp"
#include "weir/plugin.hpp"
#include "weir/testkit.hpp"

namespace {

using weir::snowflake::StagedRows;
using weir::snowflake::StreamKind;

struct Args {
  std::string mode;
  std::map<std::string, std::string> options;

  std::string Get(const std::string& key, const std::string& fallback = "") const {
    auto it = options.find(key);
    return it == options.end() ? fallback : it->second;
  }
  long Int(const std::string& key, long fallback) const {
    auto it = options.find(key);
    return it == options.end() ? fallback : std::atol(it->second.c_str());
  }
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "snowflake_bench: %s\n", message.c_str());
  std::exit(1);
}

/// Event i, deterministic.
std::string Event(long i) {
  static const char* kNames[] = {"page_view", "click",  "signup",   "purchase",
                                 "search",    "logout", "add_cart", "share"};
  static const char* kBrowsers[] = {"Chrome", "Firefox", "Safari", "Edge"};
  char buf[512];
  std::snprintf(buf, sizeof buf,
                R"({"event":"%s","time":%lld,"distinct_id":"user-%ld","insert_id":"%08lx-%ld",)"
                R"("properties":{"$browser":"%s","$os":"Linux","$screen_width":1920,)"
                R"("path":"/products/%ld","utm_source":"newsletter","price":%ld.99,)"
                R"("tags":["summer","sale"],"i":%ld}})",
                kNames[i % 8], 1700000000000LL + i * 37LL, i % 5000,
                (i * 2654435761UL) & 0xffffffffUL, i, kBrowsers[i % 4], i % 1000, i % 200, i);
  return buf;
}

/// Records [first, first + n) as one weir batch.
class Batch {
 public:
  Batch(long first, long n) {
    for (long i = first; i < first + n; ++i) {
      builder_.Add(Event(i), 1700000000000LL + i * 37LL, static_cast<uint64_t>(i + 1));
    }
    builder_.set_high_watermark("wm");
    builder_.Release(&batch_);
  }
  ~Batch() { batch_.release(&batch_); }
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;
  const weir_batch* get() const { return &batch_; }
  size_t count() const { return batch_.count; }

 private:
  weir::BatchBuilder builder_;
  weir_batch batch_{};
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

/// CPU seconds (user + system) this process has used so far.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

/// This process's peak RSS in MiB (ru_maxrss is in KiB on Linux).
long PeakRssMib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

/// The timed part of a mode: wall time and this process's CPU time (the ODBC driver and, in
/// plugin mode, the plugin run in it; the server's CPU is counted by bench/run-snowflake).
class Timed {
 public:
  Timed() : wall_(std::chrono::steady_clock::now()), cpu_(CpuSeconds()) {}
  double seconds() const { return Seconds(wall_); }
  void Report(const std::string& mode, long rows) const {
    const double s = seconds();
    std::printf(
        "RESULT mode=%s rows=%ld seconds=%.3f rows_per_s=%.0f client_cpu_s=%.2f peak_rss_mb=%ld\n",
        mode.c_str(), rows, s, static_cast<double>(rows) / s, CpuSeconds() - cpu_, PeakRssMib());
  }

 private:
  std::chrono::steady_clock::time_point wall_;
  double cpu_;
};

/// The staged column values of all events (the same strings the plugin binds).
std::vector<StagedRows> StageAll(long rows, long batch) {
  std::vector<StagedRows> out;
  for (long first = 0; first < rows; first += batch) {
    Batch b(first, std::min(batch, rows - first));
    auto staged =
        weir::snowflake::BuildStagedRows(StreamKind::kEvents, {}, weir::BatchView(b.get()));
    if (!staged.ok()) Die(staged.status().ToString());
    out.push_back(std::move(staged).value());
  }
  return out;
}

void AppendCopyText(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        out->push_back(c);
    }
  }
}

int Tsv(const Args& args) {
  const long rows = args.Int("rows", 200000);
  const std::string path = args.Get("out");
  if (path.empty()) Die("tsv needs --out FILE");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const StagedRows& staged : StageAll(rows, 10000)) {
    std::string text;
    for (size_t r = 0; r < staged.rows(); ++r) {
      for (size_t c = 0; c < staged.columns(); ++c) {
        if (c > 0) text.push_back('\t');
        if (auto f = staged.field(r, c)) {
          AppendCopyText(*f, &text);
        } else {
          text += "\\N";
        }
      }
      text.push_back('\n');
    }
    out << text;
  }
  return out.good() ? 0 : 1;
}

weir::snowflake::TableNames Tables(const Args& args) {
  weir::snowflake::TableNames t;
  t.schema = args.Get("schema", "BENCH");
  return t;
}

enum class BareKind { kBare, kTemporary, kTyped };

int Bare(const Args& args, BareKind kind) {
  const bool typed = kind == BareKind::kTyped;
  const bool temporary = kind == BareKind::kTemporary;
  const long rows = args.Int("rows", 200000);
  const long batch = args.Int("batch", 10000);
  const long per_statement = args.Int("rows-per-statement", 1000);
  std::vector<StagedRows> staged = StageAll(rows, batch);
  std::string cs = args.Get("conn") + ";UID=" + args.Get("user");
  auto session = weir::snowflake::OdbcSession::Connect(cs, "bench", 30, {});
  if (!session.ok()) Die(session.status().ToString());
  weir::snowflake::SqlBuilder sql(weir::snowflake::Dialect::kPostgres, Tables(args), {});
  for (const std::string& s : sql.SessionSetup()) {
    if (auto st = (*session)->Execute(s); !st.ok()) Die(st.ToString());
  }
  // The temporary table lives in the session's own schema, as the plugin's staging table does.
  const std::string table =
      temporary ? "\"BENCH_TEMPORARY\"" : sql.QualifiedTarget(StreamKind::kEvents);
  const std::string create =
      typed ? sql.CreateTarget(StreamKind::kEvents)
            : std::string(temporary ? "CREATE TEMPORARY TABLE " : "CREATE TABLE ") + table +
                  " (\"INSERT_ID\" VARCHAR, \"EVENT\" VARCHAR, \"DISTINCT_ID\" VARCHAR, "
                  "\"TIME\" VARCHAR, \"PROPERTIES\" VARCHAR)";
  if (auto st = (*session)->Execute(create); !st.ok()) Die(st.ToString());
  if (auto st = (*session)->Commit(); !st.ok()) Die(st.ToString());
  const std::string insert =
      "INSERT INTO " + table +
      " (\"INSERT_ID\", \"EVENT\", \"DISTINCT_ID\", \"TIME\", \"PROPERTIES\") VALUES " +
      (typed ? "(?, ?, ?, CAST(? AS TIMESTAMP_NTZ), PARSE_JSON(?))" : "(?, ?, ?, ?, ?)");
  const Timed timed;
  double commit_s = 0;
  for (const StagedRows& b : staged) {
    for (size_t begin = 0; begin < b.rows(); begin += static_cast<size_t>(per_statement)) {
      const size_t end = std::min(b.rows(), begin + static_cast<size_t>(per_statement));
      if (auto st = (*session)->InsertRows(insert, b, begin, end); !st.ok()) Die(st.ToString());
    }
    const auto commit_start = std::chrono::steady_clock::now();
    if (auto st = (*session)->Commit(); !st.ok()) Die(st.ToString());
    commit_s += Seconds(commit_start);
  }
  const double total_s = timed.seconds();
  timed.Report(typed ? "typed" : temporary ? "bare-temporary" : "bare", rows);
  if (temporary) {  // gone with the session, so counted here rather than by run-snowflake
    auto n = (*session)->QueryInt("SELECT COUNT(*) FROM " + table, {});
    if (!n.ok() || *n != rows) Die("the temporary table does not hold every row");
  }
  std::printf("PHASES insert_ms=%.0f commit_ms=%.0f\n", 1000 * (total_s - commit_s),
              1000 * commit_s);
  return 0;
}

int Plugin(const Args& args) {
  const long rows = args.Int("rows", 200000);
  const long batch = args.Int("batch", 10000);
  std::string error;
  auto lib = weir::testkit::PluginLibrary::Load(args.Get("plugin"), &error);
  if (lib == nullptr) Die("cannot load the plugin: " + error);
  const weir_destination_vtable* vt = lib->descriptor().destination;
  const std::string config = R"({"connection_string":")" + args.Get("conn") + R"(","user":")" +
                             args.Get("user") + R"(","schema":")" + args.Get("schema", "BENCH") +
                             R"(","dialect":"postgresql","rows_per_statement":)" +
                             std::to_string(args.Int("rows-per-statement", 1000)) + "}";
  weir::testkit::FakeHost host;
  weir_instance* instance = nullptr;
  weir_error err{};
  if (vt->open(config.data(), config.size(), host.services(), &instance, &err) != WEIR_OK ||
      vt->check(instance, &err) != WEIR_OK) {
    Die(weir::Status::FromError(WEIR_ERROR, &err).ToString());
  }
  std::vector<std::unique_ptr<Batch>> batches;
  for (long first = 0; first < rows; first += batch) {
    batches.push_back(std::make_unique<Batch>(first, std::min(batch, rows - first)));
  }
  const Timed timed;
  uint64_t seq = 0;
  for (const auto& b : batches) {
    char key[64];
    std::snprintf(key, sizeof key, "bench.events.%012llu", static_cast<unsigned long long>(++seq));
    weir_write_request req{};
    req.struct_size = sizeof req;
    req.pipeline = "bench";
    req.project = "bench";
    req.stream = "events";
    req.batch_seq = seq;
    req.idempotency_key = key;
    req.batch = b->get();
    if (vt->write(instance, &req, &err) != WEIR_OK || vt->flush(instance, &err) != WEIR_OK) {
      Die(weir::Status::FromError(WEIR_ERROR, &err).ToString());
    }
  }
  timed.Report("plugin", rows);
  std::printf("PHASES parse_ms=%.0f stage_ms=%.0f merge_ms=%.0f commit_ms=%.0f\n",
              host.Metric("snowflake.parse_ms"), host.Metric("snowflake.stage_ms"),
              host.Metric("snowflake.merge_ms"), host.Metric("snowflake.commit_ms"));
  vt->close(instance);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: snowflake_bench tsv|bare|bare-temporary|typed|plugin [--conn ODBC] "
                 "[--user U] [--schema S] "
                 "[--rows N] [--batch N] [--rows-per-statement N] [--plugin SO] [--out FILE]\n");
    return 2;
  }
  Args args;
  args.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0) Die(std::string("unexpected argument ") + argv[i]);
    args.options[argv[i] + 2] = argv[i + 1];
  }
  if (args.mode == "tsv") return Tsv(args);
  if (args.mode == "bare") return Bare(args, BareKind::kBare);
  if (args.mode == "bare-temporary") return Bare(args, BareKind::kTemporary);
  if (args.mode == "typed") return Bare(args, BareKind::kTyped);
  if (args.mode == "plugin") return Plugin(args);
  Die("unknown mode " + args.mode);
}
