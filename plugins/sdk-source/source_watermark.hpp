// plugins/sdk-source/source_watermark.hpp — the sdk-source watermark: an ingest sequence as
// 8 bytes big-endian.
//
// Big-endian makes the host's byte-wise order of watermarks the numeric order of sequences.
// The empty watermark means "before the first record" (sequence 0; the store's first record
// has sequence 1).
//
//   std::string wm = EncodeSeqWatermark(42);                      // "\0\0\0\0\0\0\0\x2a"
//   WEIR_ASSIGN_OR_RETURN(uint64_t seq, DecodeSeqWatermark(wm, "from_wm"));
#ifndef WEIR_PLUGINS_SDK_SOURCE_SOURCE_WATERMARK_HPP
#define WEIR_PLUGINS_SDK_SOURCE_SOURCE_WATERMARK_HPP

#include <cstdint>
#include <string>
#include <string_view>

#include "weir/plugin.hpp"

namespace weir::sdksource {

inline constexpr size_t kWatermarkBytes = 8;

/// `seq` as 8 bytes big-endian.
inline std::string EncodeSeqWatermark(uint64_t seq) {
  std::string wm(kWatermarkBytes, '\0');
  for (size_t i = kWatermarkBytes; i-- > 0; seq >>= 8) wm[i] = static_cast<char>(seq & 0xff);
  return wm;
}

/// Decodes a watermark; empty is 0. Any other size is a non-retryable error naming `what`
/// (the request field, e.g. "from_wm").
inline Result<uint64_t> DecodeSeqWatermark(std::string_view wm, const char* what) {
  if (wm.empty()) return uint64_t{0};
  if (wm.size() != kWatermarkBytes) {
    return Status::Error(std::string("sdk-source: ") + what +
                         " must be empty or 8 bytes (a big-endian ingest sequence), got " +
                         std::to_string(wm.size()) + " bytes (a watermark from another source?)");
  }
  uint64_t seq = 0;
  for (char c : wm) seq = (seq << 8) | static_cast<uint8_t>(c);
  return seq;
}

}  // namespace weir::sdksource

#endif  // WEIR_PLUGINS_SDK_SOURCE_SOURCE_WATERMARK_HPP
