// tests/s3/plugin/compress_test.cpp — gzip/zstd output decodes (with zlib / libzstd, not the
// writer's library) to exactly the input, is byte-identical across runs and instances, and the
// gzip header carries no name, MTIME 0 and a fixed OS byte.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "s3_compress.hpp"
#include "test_util.hpp"

namespace weir::s3 {
namespace {

std::string SampleNdjson(int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += s3_test::EventJson(i, 1700000000000 + i * 1000, i % 300) + "\n";
  return out;
}

TEST(S3PluginCompress, GzipRoundTripsAndHasADeterministicHeader) {
  const std::string input = SampleNdjson(300);
  for (int level : {1, 6, 12}) {
    auto c = Compressor::Make(Compression::kGzip, level);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto out = (*c)->Compress(input);
    ASSERT_TRUE(out.ok());
    const std::string gz(*out);
    ASSERT_GT(gz.size(), 10u);
    EXPECT_LT(gz.size(), input.size() / 3) << "level " << level;
    EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
    EXPECT_EQ(gz[2], 8) << "deflate";
    EXPECT_EQ(gz[3], 0) << "FLG: no name, comment or extra field";
    EXPECT_EQ(gz.substr(4, 4), std::string(4, '\0')) << "MTIME must be 0";
    EXPECT_EQ(s3_test::Gunzip(gz), input);
    // Same bytes from the same compressor again and from a fresh one.
    auto again = (*c)->Compress(input);
    EXPECT_EQ(std::string(again.value()), gz);
    auto other = Compressor::Make(Compression::kGzip, level);
    EXPECT_EQ(std::string((*other)->Compress(input).value()), gz);
  }
}

TEST(S3PluginCompress, GzipOsByteIsTheSameAtEveryLevelAndInput) {
  auto a = Compressor::Make(Compression::kGzip, 6);
  auto b = Compressor::Make(Compression::kGzip, 9);
  const std::string x((*a)->Compress("a\n").value()), y((*b)->Compress(SampleNdjson(10)).value());
  EXPECT_EQ(x[9], y[9]);
}

TEST(S3PluginCompress, ZstdRoundTripsDeterministically) {
  const std::string input = SampleNdjson(300);
  for (int level : {1, 3, 19}) {
    auto c = Compressor::Make(Compression::kZstd, level);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    const std::string z((*c)->Compress(input).value());
    EXPECT_LT(z.size(), input.size() / 3);
    EXPECT_EQ(s3_test::Unzstd(z), input);
    auto other = Compressor::Make(Compression::kZstd, level);
    EXPECT_EQ(std::string((*other)->Compress(input).value()), z);
  }
}

TEST(S3PluginCompress, NoneIsTheInputAndEmptyInputWorks) {
  auto none = Compressor::Make(Compression::kNone, 0);
  const std::string input = SampleNdjson(3);
  EXPECT_EQ(std::string((*none)->Compress(input).value()), input);
  auto gz = Compressor::Make(Compression::kGzip, 6);
  EXPECT_EQ(s3_test::Gunzip(std::string((*gz)->Compress("").value())), "");
  auto zs = Compressor::Make(Compression::kZstd, 3);
  EXPECT_EQ(s3_test::Unzstd(std::string((*zs)->Compress("").value())), "");
}

TEST(S3PluginCompress, LargeIncompressibleInputFitsTheBound) {
  std::mt19937_64 rng(1);
  std::string input(3 << 20, '\0');
  for (char& ch : input) ch = static_cast<char>(rng());
  for (Compression c : {Compression::kGzip, Compression::kZstd}) {
    auto comp = Compressor::Make(c, c == Compression::kGzip ? 6 : 3);
    auto out = (*comp)->Compress(input);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(c == Compression::kGzip ? s3_test::Gunzip(out.value()) : s3_test::Unzstd(out.value()),
              input);
  }
}

// The buffers grow by half again, but not past the limit: that keeps each worker's memory at
// about max_object_bytes (docs/s3.md, "Compression"), unless one input alone is larger.
TEST(S3PluginCompress, ScratchBufferGrowthStopsAtItsLimit) {
  ScratchBuffer free_growth;
  free_growth.Reserve(1000);
  free_growth.Reserve(1001);
  EXPECT_EQ(free_growth.capacity(), 1500u);

  ScratchBuffer limited;
  limited.set_growth_limit(1200);
  ASSERT_NE(limited.Reserve(1000), nullptr);
  EXPECT_EQ(limited.capacity(), 1000u);
  limited.Reserve(1001);
  EXPECT_EQ(limited.capacity(), 1200u);
  limited.Reserve(1100);
  EXPECT_EQ(limited.capacity(), 1200u) << "no reallocation within the capacity";
  limited.Reserve(5000);  // one larger input: exactly what it needs, no more
  EXPECT_EQ(limited.capacity(), 5000u);
}

TEST(S3PluginCompress, OutputBufferStaysWithinTheBoundOfMaxInput) {
  constexpr size_t kMax = 1 << 20;
  std::mt19937_64 rng(2);
  std::string input(kMax, '\0');
  for (char& ch : input) ch = static_cast<char>(rng());  // incompressible: output ≈ input
  for (Compression c : {Compression::kGzip, Compression::kZstd}) {
    auto comp = Compressor::Make(c, c == Compression::kGzip ? 6 : 3, kMax);
    ASSERT_TRUE(comp.ok());
    ASSERT_TRUE((*comp)->Compress(std::string_view(input).substr(0, kMax * 8 / 10)).ok());
    auto out = (*comp)->Compress(input);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(c == Compression::kGzip ? s3_test::Gunzip(out.value()) : s3_test::Unzstd(out.value()),
              input);
    // Growing 1.5x from the first input's bound would have reached ~1.2 MiB.
    EXPECT_LE((*comp)->buffer_capacity(), kMax + kMax / 100) << static_cast<int>(c);
    EXPECT_GE((*comp)->buffer_capacity(), out->size());
  }
}

TEST(S3PluginCompress, ExtensionsAndContentTypes) {
  EXPECT_EQ(ObjectExtension(Compression::kGzip), ".json.gz");
  EXPECT_EQ(ObjectExtension(Compression::kZstd), ".json.zst");
  EXPECT_EQ(ObjectExtension(Compression::kNone), ".json");
  EXPECT_EQ(ObjectContentType(Compression::kGzip), "application/gzip");
  EXPECT_EQ(ObjectContentType(Compression::kNone), "application/x-ndjson");
}

}  // namespace
}  // namespace weir::s3
