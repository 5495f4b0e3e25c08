// plugins/sdk-source/store/store_stats.hpp — counters of a Store's internal work, for tests,
// benchmarks and metrics.
//
// They make the store's promises observable without timing anything: that concurrent
// appenders share fsyncs (group_commits < append_calls), that a torn tail was cut on open,
// that a window read skipped segments by their event-time range.
//
//   auto stats = GetStoreStats(**store);
//   std::printf("%llu appends shared %llu fsyncs\n", stats.append_calls, stats.fsyncs);
#ifndef WEIR_SDK_SOURCE_STORE_STORE_STATS_HPP
#define WEIR_SDK_SOURCE_STORE_STORE_STATS_HPP

#include <cstdint>

#include "store/store.hpp"

namespace weir::sdksource {

/// Monotonic counters since the Store was opened (a snapshot; each field is read atomically).
struct StoreStats {
  uint64_t append_calls = 0;      ///< Append() calls that were assigned seqs
  uint64_t appended_records = 0;  ///< records in those calls
  uint64_t group_commits = 0;     ///< leader rounds: one write + fsync pass each
  uint64_t fsyncs = 0;            ///< fdatasync/fsync calls on segment files and directories
  uint64_t segments_created = 0;
  uint64_t segments_scanned = 0;          ///< index builds/extensions by walking headers
  uint64_t segments_skipped_by_time = 0;  ///< window reads: segments outside the window
  uint64_t segments_deleted = 0;          ///< by ApplyRetention
  uint64_t torn_tails_cut = 0;  ///< Open(): segment files truncated (or removed) at a bad record
  uint64_t torn_bytes_cut = 0;  ///< Open(): bytes removed by those cuts
  uint64_t profiles = 0;        ///< current (non-deleted) profiles held by the writer
};

/// The counters of a Store returned by Store::Open or Store::OpenReadOnly.
StoreStats GetStoreStats(const Store& store);

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_STORE_STORE_STATS_HPP
