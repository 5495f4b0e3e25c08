// plugins/s3/s3_compress.hpp — deterministic whole-object compression: gzip (libdeflate),
// zstd (libzstd) or none.
//
// Same input, same settings, same library version → the same bytes, which is what lets a
// replayed batch overwrite its objects with identical content. gzip members carry no file
// name, MTIME 0 and a fixed OS byte (libdeflate's header); zstd frames are single-threaded
// with a checksum and the content size. A Compressor is one worker's state (its libdeflate or
// zstd context and output buffer): use one per thread.
//
//   WEIR_ASSIGN_OR_RETURN(auto c, Compressor::Make(Compression::kGzip, 6));
//   WEIR_ASSIGN_OR_RETURN(std::string_view gz, c->Compress(ndjson));  // valid until next call
#ifndef WEIR_S3_S3_COMPRESS_HPP
#define WEIR_S3_S3_COMPRESS_HPP

#include <cstddef>
#include <memory>
#include <string_view>

#include "s3_config.hpp"
#include "weir/plugin.hpp"

struct libdeflate_compressor;
struct ZSTD_CCtx_s;

namespace weir::s3 {

/// ".json.gz", ".json.zst" or ".json".
std::string_view ObjectExtension(Compression compression);
/// "application/gzip", "application/zstd" or "application/x-ndjson". Objects are stored as
/// files of that type, not with a Content-Encoding (see docs/s3.md).
std::string_view ObjectContentType(Compression compression);

/// A growable buffer that is not zero-filled when it grows (an output buffer is written
/// before it is read). Keeps its capacity between uses.
class ScratchBuffer {
 public:
  /// Makes room for at least `n` bytes; the contents are not preserved. Grows by at least half
  /// again, but not past the growth limit (when set): the capacity is then at most
  /// max(limit, the largest n asked for).
  char* Reserve(size_t n);
  /// 0 (the default) = no limit.
  void set_growth_limit(size_t limit) { growth_limit_ = limit; }
  char* data() { return data_.get(); }
  size_t capacity() const { return capacity_; }

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t growth_limit_ = 0;
};

/// One worker's compressor. Not thread-safe; cheap to reuse.
class Compressor {
 public:
  /// `level`: gzip 1-12 (libdeflate's scale; 6 ≈ gzip -6), zstd 1-19; ignored for kNone.
  /// `max_input_bytes` (0 = unknown): the usual largest input (max_object_bytes); the output
  /// buffer does not grow past its compression bound unless a larger input needs it.
  static Result<std::unique_ptr<Compressor>> Make(Compression compression, int level,
                                                  size_t max_input_bytes = 0);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  /// Compresses `input` as one gzip member / zstd frame. The returned view points into this
  /// compressor's buffer and stays valid until the next call. For kNone it is `input` itself.
  Result<std::string_view> Compress(std::string_view input);
  Compression compression() const { return compression_; }
  /// The output buffer's capacity (the memory this compressor holds besides its context).
  size_t buffer_capacity() const { return out_.capacity(); }

 private:
  Compressor(Compression compression, int level) : compression_(compression), level_(level) {}

  Compression compression_;
  int level_;
  libdeflate_compressor* deflate_ = nullptr;
  ZSTD_CCtx_s* zstd_ = nullptr;
  ScratchBuffer out_;
};

}  // namespace weir::s3

#endif  // WEIR_S3_S3_COMPRESS_HPP
