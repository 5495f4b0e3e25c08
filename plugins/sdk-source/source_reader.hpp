// plugins/sdk-source/source_reader.hpp — turns the host's read requests into store reads.
//
// One SourceReader per plugin instance. It opens the project's store read-only on first use
// (check or read), so `open` does no I/O and `weir pipeline validate` reports a missing store
// through check's message. A read:
//   RANGE   (from_wm, upto]: after_seq = from, upto = to_wm on a replay, else the store's
//           committed seq at the start of the call (so one call never mixes in records that
//           land while it runs);
//   WINDOW  the same, restricted to window_start_ms <= event time < window_end_ms and to
//           seq <= bound_wm when the host gives a bound (a watermark is the cut just after
//           its record, so RANGE after W and WINDOW bounded by W never share a record);
//   HEAD    no records; the high watermark is the store's committed seq (0 when empty).
// It fills the batch with each record's JSON (byte-exact as stored), event time and seq, and
// sets the high watermark to the last record's seq (nothing for an empty batch); the store's
// output becomes the batch without another copy (source_batch.hpp). The store is read in chunks so
// cancellation is polled between them; the chunking never changes which records a request returns,
// so the same request always yields the same records in the same order. On a replay (to_wm given)
// max_records / max_bytes are ignored: the same records fitted them when the batch was first read.
//
// Not thread-safe: the ABI serializes calls to one instance.
#ifndef WEIR_PLUGINS_SDK_SOURCE_SOURCE_READER_HPP
#define WEIR_PLUGINS_SDK_SOURCE_SOURCE_READER_HPP

#include <memory>

#include "source_batch.hpp"
#include "source_config.hpp"
#include "store/store.hpp"
#include "weir/plugin.hpp"

namespace weir::sdksource {

class SourceReader {
 public:
  SourceReader(SourceConfig config, Host host);

  /// Opens the store if needed and reads one record of each stream: proves the store exists
  /// and is readable, and says which step failed otherwise.
  Status Check();

  /// Fills `out` for `request` (see the banner). Unsupported stream or mode:
  /// WEIR_NOT_IMPLEMENTED. Malformed or impossible watermarks: non-retryable errors.
  Status Read(const ReadRequest& request, SourceBatch& out);

 private:
  /// The store, opened read-only on first call; the error names the directory and the config
  /// fields it came from.
  Result<Store*> OpenStore();

  SourceConfig config_;
  Host host_;
  std::unique_ptr<Store> store_;
  /// The current store read; its arena usually moves into the batch.
  ReadResult chunk_;
};

}  // namespace weir::sdksource

#endif  // WEIR_PLUGINS_SDK_SOURCE_SOURCE_READER_HPP
