// plugins/sdk-source/source_batch.cpp — SourceBatch: store arenas become batch data.
#include "source_batch.hpp"

#include <utility>

namespace weir::sdksource {

void SourceBatch::Take(ReadResult& chunk, size_t take) {
  // Is the arena's prefix exactly the NDJSON of these records? One comparison and one byte
  // read per record; the record bytes themselves are not touched.
  const std::string& arena = chunk.arena;
  starts_.clear();
  times_.clear();
  seqs_.clear();
  size_t prefix = 0;
  bool ndjson = true;
  for (size_t k = 0; k < take && ndjson; ++k) {
    const StoredRecord& r = chunk.records[k];
    ndjson = r.json.data() == arena.data() + prefix && prefix + r.json.size() < arena.size() &&
             arena[prefix + r.json.size()] == '\n';
    starts_.push_back(prefix);
    times_.push_back(r.event_time_ms);
    seqs_.push_back(r.seq);
    prefix += r.json.size() + 1;
  }
  if (!ndjson) {
    for (size_t k = 0; k < take; ++k) {
      const StoredRecord& r = chunk.records[k];
      builder_.Add(r.json, r.event_time_ms, r.seq);
    }
    return;
  }
  std::string data = std::move(chunk.arena);  // the common case: no copy at all
  data.resize(prefix);
  chunk.records.clear();  // their views pointed into the arena
  builder_.AppendNdjson(std::move(data), starts_.data(), times_.data(), seqs_.data(), take);
}

}  // namespace weir::sdksource
