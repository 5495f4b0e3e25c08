// host/state/sqlite_state_store.hpp — knobs of the SQLite state store beyond the default open.
//
// OpenSqliteStateStore(path) in state_store.hpp is what the host uses. This header adds an
// overload with injectable seams (clock, busy timeout) for tests and tools, and the schema
// version this build understands. See docs/state.md for the schema and its version policy.
//
//   weir::host::SqliteStateStoreOptions opts;
//   opts.busy_timeout_ms = 50;                      // give up quickly when another writer holds it
//   opts.now_ms = [] { return int64_t{1700000000000}; };
//   auto store = weir::host::OpenSqliteStateStore(dir / "state.db", opts);
#ifndef WEIR_HOST_STATE_SQLITE_STATE_STORE_HPP
#define WEIR_HOST_STATE_SQLITE_STATE_STORE_HPP

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "host/state/state_store.hpp"

namespace weir::host {

/// Options of the SQLite state store; the defaults are what `weir` uses.
struct SqliteStateStoreOptions {
  /// How long a write waits for another process's write transaction before failing with a
  /// retryable error (PRAGMA busy_timeout).
  int busy_timeout_ms = 10000;
  /// Wall clock in ms since the Unix epoch (UTC) for created_at / started_at / ended_at.
  /// Empty = std::chrono::system_clock.
  std::function<int64_t()> now_ms;
};

/// Like OpenSqliteStateStore(path) with explicit options.
Result<std::unique_ptr<StateStore>> OpenSqliteStateStore(const std::filesystem::path& path,
                                                         const SqliteStateStoreOptions& options);

/// The newest schema version this build knows (the number of migrations it carries). A database
/// with a higher version was written by a newer weir and is refused.
int SqliteStateSchemaVersion();

}  // namespace weir::host

#endif  // WEIR_HOST_STATE_SQLITE_STATE_STORE_HPP
