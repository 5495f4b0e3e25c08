// plugins/snowflake/loader.hpp — one batch, one transaction: the snowflake destination's load
// path, written against a Session (session.hpp) so the tests can record every statement.
//
// Per connection (Start()): check the schema exists, run the dialect's session setup, create
// the ledger table, commit. Per stream, on its first load in a connection: CREATE TABLE IF NOT
// EXISTS for the target, ALTER TABLE … ADD COLUMN IF NOT EXISTS for each promoted column,
// CREATE TEMPORARY TABLE IF NOT EXISTS for its staging table, commit (Snowflake commits DDL
// implicitly, so no DDL runs inside a batch's transaction).
//
// Per batch, in one transaction:
//   1. TRUNCATE TABLE the staging table;
//   2. SELECT COUNT(*) FROM ledger WHERE BATCH_KEY = key  → found: roll back, a no-op replay;
//   3. insert:  INSERT … VALUES (?, …) with ODBC array binding, in chunks of at most
//               rows_per_statement rows and under 1 MB of bound values (a single larger row
//               goes alone);
//      stage:   write the gzip NDJSON file, PUT it to the table stage, COPY INTO the staging
//               table from exactly that file;
//   4. MERGE into the target (dedupe / updated_at guard, sql.hpp);
//   5. INSERT the ledger row;
//   6. COMMIT. (stage: then REMOVE the staged file; a failure there is only logged.)
// Host metrics (counters): snowflake.stage_ms, snowflake.merge_ms, snowflake.commit_ms (the
// last covers the ledger row and COMMIT).
// Any failure rolls back, so the batch is either wholly loaded with its ledger row or not at
// all, and a replay of the same key after a crash finds the ledger row and changes nothing.
#ifndef WEIR_PLUGINS_SNOWFLAKE_LOADER_HPP
#define WEIR_PLUGINS_SNOWFLAKE_LOADER_HPP

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "snowflake/config.hpp"
#include "snowflake/rows.hpp"
#include "snowflake/session.hpp"
#include "snowflake/sql.hpp"
#include "weir/plugin.hpp"

namespace weir::snowflake {

/// Bound-value bytes one array-bound INSERT execution stays under (the issue's "statements
/// under 1 MB"; Snowflake's driver switches to an internal stage above its own threshold).
constexpr size_t kMaxStatementBytes = size_t{1000} * 1000;
/// Client memory for one execution's fixed-width column buffers (rows × widest values).
constexpr size_t kMaxBindBufferBytes = size_t{16} * 1024 * 1024;

/// What one batch is, for the ledger.
struct BatchInfo {
  StreamKind stream = StreamKind::kEvents;
  std::string_view key;  ///< the idempotency key
  std::string_view pipeline;
  uint64_t batch_seq = 0;
  size_t records = 0;  ///< records in the batch, before deduplication
};

/// What a load did.
struct LoadOutcome {
  bool replay = false;     ///< the key was already in the ledger: nothing changed
  size_t staged_rows = 0;  ///< rows staged and merged (after in-batch deduplication)
  size_t statements = 0;   ///< INSERT executions (insert) or 1 (stage)
};

/// Loads batches through one session. Not thread-safe; one per connection.
class Loader {
 public:
  /// `session` and `sql` must outlive the loader. `host` receives logs and cancellation.
  Loader(Session* session, const SqlBuilder* sql, LoadMethod method, int64_t rows_per_statement,
         std::string stage_dir, Host host)
      : session_(session),
        sql_(sql),
        method_(method),
        rows_per_statement_(static_cast<size_t>(rows_per_statement)),
        stage_dir_(std::move(stage_dir)),
        host_(host) {}

  /// Per-connection setup (see the banner). A missing schema is one clear, fatal error.
  Status Start();
  /// Loads `rows` (built by BuildStagedRows for info.stream) as described in the banner.
  Result<LoadOutcome> Load(const BatchInfo& info, const StagedRows& rows);

  /// The [begin, end) chunks InsertRows() is called with; exposed for tests.
  std::vector<std::pair<size_t, size_t>> Chunks(const StagedRows& rows) const;

 private:
  Status EnsureStream(StreamKind stream);
  Status LoadInTransaction(const BatchInfo& info, const StagedRows& rows, LoadOutcome* out,
                           std::string* staged_file);

  Session* session_;
  const SqlBuilder* sql_;
  LoadMethod method_;
  size_t rows_per_statement_;
  std::string stage_dir_;
  Host host_;
  std::set<StreamKind> ready_streams_;
};

}  // namespace weir::snowflake

#endif  // WEIR_PLUGINS_SNOWFLAKE_LOADER_HPP
