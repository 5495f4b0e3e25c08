// tests/s3/plugin/test_util.cpp — see test_util.hpp.
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace weir::s3_test {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::map<std::string, std::string> ReadTree(const std::string& dir) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    files[std::filesystem::relative(e.path(), dir).string()] = ReadFile(e.path().string());
  }
  return files;
}

std::string Gunzip(std::string_view gz) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END) << "gzip stream did not end cleanly";
  EXPECT_EQ(zs.avail_in, 0u) << "bytes after the first gzip member";
  inflateEnd(&zs);
  return out;
}

std::string Unzstd(std::string_view zst) {
  const unsigned long long size = ZSTD_getFrameContentSize(zst.data(), zst.size());
  EXPECT_NE(size, ZSTD_CONTENTSIZE_UNKNOWN);
  EXPECT_NE(size, ZSTD_CONTENTSIZE_ERROR);
  if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR) return {};
  EXPECT_EQ(ZSTD_findFrameCompressedSize(zst.data(), zst.size()), zst.size())
      << "bytes after the first zstd frame";
  std::string out(size, '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), zst.data(), zst.size());
  EXPECT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

namespace {
bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

std::string DecodeObject(const std::string& name, std::string_view bytes) {
  if (EndsWith(name, ".json.gz")) return Gunzip(bytes);
  if (EndsWith(name, ".json.zst")) return Unzstd(bytes);
  EXPECT_TRUE(EndsWith(name, ".json")) << name;
  return std::string(bytes);
}

std::vector<std::string> Lines(std::string_view ndjson) {
  std::vector<std::string> lines;
  EXPECT_TRUE(ndjson.empty() || ndjson.back() == '\n') << "NDJSON without a final newline";
  size_t start = 0;
  while (start < ndjson.size()) {
    size_t nl = ndjson.find('\n', start);
    if (nl == std::string_view::npos) nl = ndjson.size();
    lines.emplace_back(ndjson.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string EventJson(int index, int64_t time_ms, int payload_bytes) {
  return R"({"event":"page_view","time":)" + std::to_string(time_ms) + R"(,"distinct_id":"user-)" +
         std::to_string(index % 97) + R"(","insert_id":"ev-)" + std::to_string(index) +
         R"(","properties":{"i":)" + std::to_string(index) + R"(,"pad":")" +
         std::string(static_cast<size_t>(payload_bytes), 'x') + "\"}}";
}

void OwnedBatch::Add(const std::string& json, int64_t event_time_ms) {
  builder_.Add(json, event_time_ms, next_seq_++);
  records_.push_back(json);
}

const weir_batch* OwnedBatch::Finish() {
  builder_.set_high_watermark(std::to_string(next_seq_));
  builder_.Release(&batch_);
  return &batch_;
}

namespace {

const testkit::PluginLibrary& Library() {
  static std::unique_ptr<testkit::PluginLibrary> lib = [] {
    std::string error;
    auto l = testkit::PluginLibrary::Load(WEIR_S3_SO, &error);
    if (!l) throw std::runtime_error("cannot load " WEIR_S3_SO ": " + error);
    return l;
  }();
  return *lib;
}

const weir_destination_vtable* Vtable() { return Library().descriptor().destination; }

Status Finish(weir_status st, weir_error* err) {
  if (st == WEIR_OK) return Status::OK();
  return Status::FromError(st, err);
}

}  // namespace

const weir_plugin& S3Instance::Descriptor() { return Library().descriptor(); }

S3Instance::S3Instance(const std::string& config) {
  weir_error err{};
  open_status_ = Finish(
      Vtable()->open(config.data(), config.size(), host_.services(), &instance_, &err), &err);
}

S3Instance::~S3Instance() {
  if (instance_ != nullptr) Vtable()->close(instance_);
}

Status S3Instance::OpenStatus(const std::string& config) {
  S3Instance instance(config);
  return instance.status();
}

Status S3Instance::Check() {
  weir_error err{};
  return Finish(Vtable()->check(instance_, &err), &err);
}

Status S3Instance::Write(const weir_batch* batch, uint64_t batch_seq, const std::string& stream,
                         const std::string& pipeline, const std::string& project) {
  const std::string key = pipeline + "." + stream + "." + std::to_string(batch_seq);
  weir_write_request r{};
  r.struct_size = sizeof r;
  r.pipeline = pipeline.c_str();
  r.project = project.c_str();
  r.stream = stream.c_str();
  r.batch_seq = batch_seq;
  r.idempotency_key = key.c_str();
  r.batch = batch;
  weir_error err{};
  return Finish(Vtable()->write(instance_, &r, &err), &err);
}

Status S3Instance::Flush() {
  weir_error err{};
  return Finish(Vtable()->flush(instance_, &err), &err);
}

}  // namespace weir::s3_test
