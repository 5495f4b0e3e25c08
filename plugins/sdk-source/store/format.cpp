// plugins/sdk-source/store/format.cpp — encoding and decoding of the store's on-disk layout
// (record and segment headers, segment file names, COMMITTED). See format.hpp.
#include "store/format.hpp"

#include <zlib.h>

#include <charconv>
#include <cstdio>

namespace weir::sdksource::format {

uint32_t PayloadCrc(std::string_view payload) {
  return static_cast<uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(payload.data()), payload.size()));
}

uint32_t RecordCrc(const char* header, uint32_t payload_crc, uint32_t payload_len) {
  uLong crc = crc32_z(0, reinterpret_cast<const Bytef*>(header + 8), kRecordHeaderSize - 8);
  return static_cast<uint32_t>(crc32_combine(crc, payload_crc, static_cast<z_off_t>(payload_len)));
}

void AppendRecord(std::string& out, uint64_t seq, int64_t ingest_ms, int64_t event_ms,
                  std::string_view payload, uint32_t payload_crc) {
  char h[kRecordHeaderSize];
  const auto len = static_cast<uint32_t>(payload.size());
  PutLe<uint32_t>(h, kRecordMagic);
  PutLe<uint64_t>(h + 8, seq);
  PutLe<int64_t>(h + 16, ingest_ms);
  PutLe<int64_t>(h + 24, event_ms);
  PutLe<uint32_t>(h + 32, len);
  PutLe<uint32_t>(h + 36, 0);
  PutLe<uint32_t>(h + 4, RecordCrc(h, payload_crc, len));
  out.append(h, kRecordHeaderSize);
  out.append(payload);
}

void AppendSegmentHeader(std::string& out, Stream stream) {
  char h[kSegmentHeaderSize];
  std::memcpy(h, kSegmentMagic, sizeof(kSegmentMagic));
  PutLe<uint32_t>(h + 8, static_cast<uint32_t>(stream));
  PutLe<uint32_t>(h + 12, 0);
  out.append(h, kSegmentHeaderSize);
}

bool ValidSegmentHeader(const char* p, Stream stream) {
  return std::memcmp(p, kSegmentMagic, sizeof(kSegmentMagic)) == 0 &&
         GetLe<uint32_t>(p + 8) == static_cast<uint32_t>(stream) && GetLe<uint32_t>(p + 12) == 0;
}

std::string SegmentFileName(uint64_t first_seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020llu.seg", static_cast<unsigned long long>(first_seq));
  return buf;
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  constexpr size_t kDigits = 20;
  if (name.size() != kDigits + 4 || name.substr(kDigits) != kSegmentSuffix) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + kDigits, v);
  if (ec != std::errc() || ptr != name.data() + kDigits) return std::nullopt;
  return v;
}

void EncodeCommitted(uint64_t seq, char out[kCommittedFileSize]) {
  PutLe<uint64_t>(out, seq);
  PutLe<uint64_t>(out + 8, ~seq);
}

std::optional<uint64_t> DecodeCommitted(const char in[kCommittedFileSize]) {
  const auto seq = GetLe<uint64_t>(in);
  if (GetLe<uint64_t>(in + 8) != ~seq) return std::nullopt;
  return seq;
}

}  // namespace weir::sdksource::format
