// plugins/sdk-source/store/segment.cpp — building a segment's index by walking its record
// headers through a memory map (see segment.hpp).
#include "store/segment.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <utility>

namespace weir::sdksource {
namespace {

uint64_t RoundUpToPage(uint64_t n) {
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

}  // namespace

uint64_t Segment::SeekAfter(uint64_t after_seq) const {
  // Every record before the last sparse entry with seq <= after_seq is unwanted.
  auto it = std::upper_bound(sparse.begin(), sparse.end(), after_seq,
                             [](uint64_t s, const SparseEntry& e) { return s < e.seq; });
  if (it == sparse.begin()) return format::kSegmentHeaderSize;
  return std::prev(it)->offset;
}

Status EnsureMapped(Segment& seg, int fd, uint64_t size, uint64_t capacity_hint) {
  if (size == 0 || (seg.map && seg.map->capacity() >= size)) return Status::OK();
  WEIR_ASSIGN_OR_RETURN(auto m,
                        Mapping::Map(fd, RoundUpToPage(std::max(size, capacity_hint)), seg.path));
  seg.map = std::shared_ptr<const Mapping>(std::move(m));
  return Status::OK();
}

Result<ScanOutcome> ScanSegment(Segment& seg, const ScanOptions& options) {
  using format::kRecordHeaderSize;
  using format::kSegmentHeaderSize;
  ScanOutcome out;
  WEIR_ASSIGN_OR_RETURN(std::optional<UniqueFd> opened, OpenIfExists(seg.path, O_RDONLY));
  if (!opened) {
    seg.missing = true;
    return out;
  }
  UniqueFd fd = std::move(*opened);
  WEIR_ASSIGN_OR_RETURN(const uint64_t size, FileSize(fd.get(), seg.path));
  out.file_size = size;
  if (seg.end == 0) {
    if (size < kSegmentHeaderSize) {
      out.stop = ScanOutcome::Stop::kIncomplete;
      out.reason = "segment header incomplete";
      return out;
    }
    WEIR_RETURN_NOT_OK(EnsureMapped(seg, fd.get(), size, options.map_capacity_hint));
    if (!format::ValidSegmentHeader(seg.map->data(), seg.stream)) {
      out.stop = ScanOutcome::Stop::kCorrupt;
      out.reason = std::string("not a weir ") + StreamName(seg.stream) + " segment header";
      return out;
    }
    seg.end = kSegmentHeaderSize;
  } else {
    WEIR_RETURN_NOT_OK(EnsureMapped(seg, fd.get(), size, options.map_capacity_hint));
  }
  fd.reset();  // the map keeps the file contents reachable

  const char* base = seg.map ? seg.map->data() : nullptr;
  uint64_t off = seg.end;
  while (true) {
    if (off >= size) {
      out.stop = ScanOutcome::Stop::kEndOfFile;
      break;
    }
    if (size - off < kRecordHeaderSize) {
      out.stop = ScanOutcome::Stop::kIncomplete;
      out.reason = "record header incomplete";
      break;
    }
    const format::RecordHeader h = format::DecodeRecordHeader(base + off);
    if (h.magic != format::kRecordMagic || h.flags != 0) {
      out.stop = ScanOutcome::Stop::kCorrupt;
      out.reason = "bad record magic";
      break;
    }
    if (h.seq > options.max_seq) {
      out.stop = ScanOutcome::Stop::kSeqBound;
      break;
    }
    if (seg.count == 0 ? h.seq != seg.first_seq : h.seq <= seg.last_seq) {
      out.stop = ScanOutcome::Stop::kCorrupt;
      out.reason = "record seq out of order";
      break;
    }
    if (h.payload_len > size - off - kRecordHeaderSize) {
      out.stop = ScanOutcome::Stop::kIncomplete;
      out.reason = "payload runs past the end of the file";
      break;
    }
    const uint64_t next = off + kRecordHeaderSize + h.payload_len;
    if (h.seq > options.verify_above_seq) {
      const std::string_view payload(base + off + kRecordHeaderSize, h.payload_len);
      if (format::RecordCrc(base + off, format::PayloadCrc(payload), h.payload_len) != h.crc) {
        out.stop = ScanOutcome::Stop::kCorrupt;
        out.reason = "checksum mismatch";
        break;
      }
    }
    seg.Add(h, off, next);
    off = next;
  }
  out.stop_offset = seg.end;
  return out;
}

}  // namespace weir::sdksource
