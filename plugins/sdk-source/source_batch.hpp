// plugins/sdk-source/source_batch.hpp — turns store reads into a batch without copying record
// bytes again.
//
// Store::Read already lays its output arena out as NDJSON (each record's JSON followed by
// '\n', back to back), which is exactly a v1 batch's data. SourceBatch hands that arena to the
// SDK's BatchBuilder::AppendNdjson (a move, not a copy, when the batch is one store read, the
// common case), appends it when a batch spans several reads, and falls back to adding record by
// record if an arena is ever not laid out that way.
//
//   SourceBatch batch;
//   batch.Take(chunk, chunk.records.size());   // chunk: a ReadResult filled by Store::Read
//   batch.set_high_watermark(EncodeSeqWatermark(chunk.records.back().seq));
//   out = batch.TakeBuilder();                 // the wrapper releases it to the host
#ifndef WEIR_PLUGINS_SDK_SOURCE_SOURCE_BATCH_HPP
#define WEIR_PLUGINS_SDK_SOURCE_SOURCE_BATCH_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "weir/plugin.hpp"

namespace weir::sdksource {

class SourceBatch {
 public:
  /// Appends the first `take` records of `chunk` (take <= chunk.records.size()) with their
  /// event times and seqs. May move chunk.arena out: `chunk` must not be used again until the
  /// next Store::Read refills it.
  void Take(ReadResult& chunk, size_t take);

  size_t count() const { return builder_.count(); }
  /// Bytes of data so far: each record's JSON plus its newline.
  size_t bytes() const { return builder_.bytes(); }
  void set_high_watermark(std::string wm) { builder_.set_high_watermark(std::move(wm)); }

  /// The batch built so far, for the wrapper to release to the host; leaves this one empty.
  BatchBuilder TakeBuilder() { return std::exchange(builder_, BatchBuilder()); }
  /// Moves everything into a caller-zeroed weir_batch the host owns from now on.
  void Release(weir_batch* out) { TakeBuilder().Release(out); }

 private:
  BatchBuilder builder_;
  std::vector<size_t> starts_;  // scratch, reused between Take calls
  std::vector<int64_t> times_;
  std::vector<uint64_t> seqs_;
};

}  // namespace weir::sdksource

#endif  // WEIR_PLUGINS_SDK_SOURCE_SOURCE_BATCH_HPP
