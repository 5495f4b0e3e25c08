// plugins/sdk-source/store/format.hpp — the store's on-disk byte layout (private).
//
// Everything the store writes is little-endian and described in docs/sdk-source-store.md; this
// header is the single place that knows the byte offsets. A segment file is a 16-byte segment
// header followed by records, each a 40-byte record header and the record's JSON payload:
//
//   segment header  0 "WEIRSEG1" (8 bytes; '1' is the format version)  8 u32 stream  12 u32 0
//   record header   0 u32 magic "WREC"   4 u32 crc32 (zlib) of bytes 8..40 and the payload
//                   8 u64 seq   16 i64 ingest_ms   24 i64 event_ms   32 u32 payload_len   36 u32 0
//
// COMMITTED is 16 bytes: u64 seq and u64 ~seq, so a reader that catches the writer's pwrite
// half-way (nothing makes an 8-byte pread atomic against a pwrite) sees a mismatch and retries.
#ifndef WEIR_SDK_SOURCE_STORE_FORMAT_HPP
#define WEIR_SDK_SOURCE_STORE_FORMAT_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "store/store.hpp"

namespace weir::sdksource::format {

inline constexpr size_t kSegmentHeaderSize = 16;
inline constexpr char kSegmentMagic[8] = {'W', 'E', 'I', 'R', 'S', 'E', 'G', '1'};
inline constexpr size_t kRecordHeaderSize = 40;
inline constexpr uint32_t kRecordMagic = 0x43455257;  // "WREC" read as little-endian u32
inline constexpr size_t kCommittedFileSize = 16;
/// The largest payload a record can carry (payload_len is a u32; keep well clear of it).
inline constexpr uint64_t kMaxPayloadBytes = 1ull << 30;
/// A sparse index entry is added whenever this many bytes follow the previous one.
inline constexpr uint64_t kSparseIndexStride = uint64_t{64} * 1024;

inline constexpr const char* kLockFileName = "LOCK";
inline constexpr const char* kCommittedFileName = "COMMITTED";
inline constexpr const char* kSegmentSuffix = ".seg";

// Little-endian loads and stores through memcpy (no alignment assumptions). The store only
// builds for little-endian hosts (checked below), so these compile to plain moves.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the store format is little-endian");

template <typename T>
inline T GetLe(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
inline void PutLe(char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

/// A decoded record header.
struct RecordHeader {
  uint32_t magic = 0;
  uint32_t crc = 0;
  uint64_t seq = 0;
  int64_t ingest_ms = 0;
  int64_t event_ms = 0;
  uint32_t payload_len = 0;
  uint32_t flags = 0;
};

inline RecordHeader DecodeRecordHeader(const char* p) {
  RecordHeader h;
  h.magic = GetLe<uint32_t>(p);
  h.crc = GetLe<uint32_t>(p + 4);
  h.seq = GetLe<uint64_t>(p + 8);
  h.ingest_ms = GetLe<int64_t>(p + 16);
  h.event_ms = GetLe<int64_t>(p + 24);
  h.payload_len = GetLe<uint32_t>(p + 32);
  h.flags = GetLe<uint32_t>(p + 36);
  return h;
}

/// zlib crc32 of a payload (computed outside the append lock; see RecordCrc).
uint32_t PayloadCrc(std::string_view payload);

/// The record checksum: crc32 over header bytes 8..40 followed by the payload, combined from
/// the payload's own crc so the payload is hashed once, outside any lock.
uint32_t RecordCrc(const char* header, uint32_t payload_crc, uint32_t payload_len);

/// Appends a complete record (header + payload) to `out`.
void AppendRecord(std::string& out, uint64_t seq, int64_t ingest_ms, int64_t event_ms,
                  std::string_view payload, uint32_t payload_crc);

/// Appends a segment header for `stream`.
void AppendSegmentHeader(std::string& out, Stream stream);

/// True when `p` (kSegmentHeaderSize bytes) is a valid segment header for `stream`.
bool ValidSegmentHeader(const char* p, Stream stream);

/// "<first_seq as 20 digits>.seg".
std::string SegmentFileName(uint64_t first_seq);
/// The first seq encoded in a segment file name, or nullopt if the name is not one.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);

/// The 16 bytes of COMMITTED for `seq`.
void EncodeCommitted(uint64_t seq, char out[kCommittedFileSize]);
/// The seq in COMMITTED's bytes, or nullopt when the two halves disagree (a torn read).
std::optional<uint64_t> DecodeCommitted(const char in[kCommittedFileSize]);

}  // namespace weir::sdksource::format

#endif  // WEIR_SDK_SOURCE_STORE_FORMAT_HPP
