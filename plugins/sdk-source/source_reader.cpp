// plugins/sdk-source/source_reader.cpp — SourceReader: read requests → chunked store reads.
#include "source_reader.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#include "source_watermark.hpp"

namespace weir::sdksource {
namespace {

/// Chunk limits for one Store::Read. Big enough that a typical batch (10,000 records of
/// ~500 bytes) is one store call, small enough that cancellation is seen within a few ms.
constexpr uint64_t kChunkRecords = 16384;
constexpr uint64_t kChunkBytes = 16ull << 20;

}  // namespace

SourceReader::SourceReader(SourceConfig config, Host host)
    : config_(std::move(config)), host_(host) {}

Result<Store*> SourceReader::OpenStore() {
  if (store_ != nullptr) return store_.get();
  const std::filesystem::path dir = config_.StoreDir();
  std::error_code ec;
  if (!std::filesystem::is_directory(config_.data_dir, ec)) {
    return Status::Error("sdk-source: config.data_dir '" + config_.data_dir.string() +
                         "' is not a directory" + (ec ? " (" + ec.message() + ")" : ""));
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::Error("sdk-source: no store for config.project '" + config_.project + "': '" +
                         dir.string() +
                         "' does not exist (the collector creates it when it serves the "
                         "project; check data_dir and project)");
  }
  StoreOptions options;
  options.dir = dir;
  auto opened = Store::OpenReadOnly(options);
  if (!opened.ok()) {
    return opened.status().WithContext("sdk-source: opening the store at '" + dir.string() +
                                       "' read-only");
  }
  store_ = std::move(opened).value();
  return store_.get();
}

Status SourceReader::Check() {
  WEIR_ASSIGN_OR_RETURN(Store * store, OpenStore());
  for (Stream stream : kAllStreams) {
    ReadBounds bounds;
    bounds.max_records = 1;
    WEIR_RETURN_NOT_OK(store->Read(stream, bounds, chunk_)
                           .WithContext(std::string("sdk-source: reading the first record of "
                                                    "stream '") +
                                        StreamName(stream) + "' from '" +
                                        config_.StoreDir().string() + "'"));
  }
  chunk_.Clear();
  return Status::OK();
}

Status SourceReader::Read(const ReadRequest& request, SourceBatch& out) {
  const std::optional<Stream> stream = StreamFromName(request.stream);
  if (!stream) {
    return Status::NotImplemented("sdk-source: stream '" + std::string(request.stream) +
                                  "' is not supported (events, users, identities)");
  }
  if (request.mode == WEIR_READ_HEAD) {
    // The cut just after the newest committed record: its seq (0 for an empty store, still 8
    // bytes so that it is a non-empty watermark naming the beginning).
    WEIR_ASSIGN_OR_RETURN(Store * store, OpenStore());
    out.set_high_watermark(EncodeSeqWatermark(store->LastSeq()));
    return Status::OK();
  }
  if (request.mode != WEIR_READ_RANGE && request.mode != WEIR_READ_WINDOW) {
    return Status::NotImplemented("sdk-source: read mode " + std::to_string(request.mode) +
                                  " is not supported (1 = range, 2 = window, 3 = head)");
  }
  const bool window = request.mode == WEIR_READ_WINDOW;
  const bool replay = !request.to_wm.empty();
  WEIR_ASSIGN_OR_RETURN(const uint64_t from, DecodeSeqWatermark(request.from_wm, "from_wm"));
  WEIR_ASSIGN_OR_RETURN(const uint64_t to, DecodeSeqWatermark(request.to_wm, "to_wm"));
  WEIR_ASSIGN_OR_RETURN(const uint64_t bound, DecodeSeqWatermark(request.bound_wm, "bound_wm"));
  if (window && request.window_end_ms <= request.window_start_ms) {
    return Status::Error("sdk-source: empty window [" + std::to_string(request.window_start_ms) +
                         ", " + std::to_string(request.window_end_ms) +
                         ") (window_end_ms must be after window_start_ms)");
  }
  if (replay && to < from) {
    return Status::Error("sdk-source: to_wm (seq " + std::to_string(to) +
                         ") is before from_wm (seq " + std::to_string(from) + ")");
  }

  WEIR_ASSIGN_OR_RETURN(Store * store, OpenStore());
  const uint64_t committed = store->LastSeq();
  if (from > committed) {
    return Status::Error("sdk-source: from_wm is seq " + std::to_string(from) +
                         " but the store at '" + config_.StoreDir().string() +
                         "' has committed records only up to seq " + std::to_string(committed) +
                         " (a watermark from another store, or the store was replaced?)");
  }
  if (replay && to > committed) {
    return Status::Error("sdk-source: to_wm is seq " + std::to_string(to) + " but the store at '" +
                         config_.StoreDir().string() + "' has committed records only up to seq " +
                         std::to_string(committed) + " (the store was replaced?)");
  }
  // A bound is a cut: bound seq s admits seq <= s (the store's before_seq is exclusive). A bound
  // of seq 0 (an empty store's head) excludes everything; Store treats before_seq = 0 as "no
  // bound".
  const bool bounded_to_nothing = window && !request.bound_wm.empty() && bound == 0;
  const uint64_t upto = replay ? to : committed;
  if (upto <= from || bounded_to_nothing) return Status::OK();

  const uint64_t max_records = replay ? 0 : request.max_records;
  const uint64_t max_bytes = replay ? 0 : request.max_bytes;
  ReadBounds bounds;
  bounds.after_seq = from;
  bounds.upto_seq = upto;
  if (window) {
    bounds.window = true;
    bounds.window_start_ms = request.window_start_ms;
    bounds.window_end_ms = request.window_end_ms;
    bounds.before_seq = request.bound_wm.empty() ? 0 : bound + 1;
  }

  uint64_t last_seq = 0;
  for (;;) {
    if (host_.IsCancelled()) return Status::Cancelled("sdk-source read cancelled by host");
    bounds.max_records =
        max_records == 0 ? kChunkRecords : std::min(kChunkRecords, max_records - out.count());
    bounds.max_bytes =
        max_bytes == 0 ? kChunkBytes : std::min<uint64_t>(kChunkBytes, max_bytes - out.bytes());
    WEIR_RETURN_NOT_OK(store->Read(*stream, bounds, chunk_)
                           .WithContext("sdk-source: reading stream '" +
                                        std::string(request.stream) + "' from '" +
                                        config_.StoreDir().string() + "'"));
    if (chunk_.records.empty()) break;
    // The store returns at least one record per call even when it alone exceeds the chunk's
    // byte budget; only the batch's first record may do that.
    size_t take = 0;
    uint64_t bytes = out.bytes();
    bool full = false;
    for (const StoredRecord& record : chunk_.records) {
      if (max_bytes != 0 && (out.count() > 0 || take > 0) &&
          bytes + record.json.size() + 1 > max_bytes) {
        full = true;
        break;
      }
      bytes += record.json.size() + 1;
      ++take;
    }
    if (take > 0) last_seq = chunk_.records[take - 1].seq;
    out.Take(chunk_, take);
    if (full || (max_records != 0 && out.count() >= max_records) ||
        (max_bytes != 0 && out.bytes() >= max_bytes)) {
      break;
    }
    bounds.after_seq = last_seq;
  }
  chunk_.Clear();
  if (out.count() > 0) {
    out.set_high_watermark(EncodeSeqWatermark(last_seq));
    host_.Counter("sdk_source.records", static_cast<double>(out.count()));
    host_.Counter("sdk_source.bytes", static_cast<double>(out.bytes()));
  }
  return Status::OK();
}

}  // namespace weir::sdksource
