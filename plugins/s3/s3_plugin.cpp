// plugins/s3/s3_plugin.cpp — the `s3` destination plugin: Mixpanel-compatible NDJSON objects in
// any S3-compatible bucket (s3://bucket/prefix) or a local directory (file:///path).
//
// Built as build/plugins/libweir-s3.so. Config reference, layout and guarantees: docs/s3.md.
//
// Write() turns one batch into objects (s3_layout: event-time partitions, deterministic keys,
// split at max_object_bytes), compresses and stores them in parallel (s3_writer) and returns
// only once every object is durable (ObjectStore::Put returns after S3's 200 or the file's
// fsync + rename + directory fsync). Flush() therefore has nothing left to do. A replayed batch
// (same pipeline, stream, batch_seq and records) produces the same keys with the same bytes,
// so a replay is an identical overwrite (or, with conditional_writes, leaves the first copy).
// Check() writes and deletes a probe object under the prefix and says which step failed.
//
// The object store is created on first use (Check or Write), not in Open(), so validating a
// pipeline never needs credentials or the network.
#include <unistd.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "object_store.hpp"
#include "s3_config.hpp"
#include "s3_layout.hpp"
#include "s3_writer.hpp"
#include "weir/plugin.hpp"

namespace weir::s3 {
namespace {

class S3Destination final : public Destination {
 public:
  static Result<std::unique_ptr<S3Destination>> Open(std::string_view config, Host host) {
    WEIR_ASSIGN_OR_RETURN(ExportConfig c, ParseExportConfig(config));
#ifndef WEIR_S3_HAVE_CLIENT
    if (c.scheme == ExportConfig::Scheme::kS3) {
      return Status::InvalidConfig(
          "config.url: this build of the s3 plugin has no S3 client (built without "
          "weir::s3_client); only file:// URLs work");
    }
#endif
    WEIR_ASSIGN_OR_RETURN(Partitioner partitioner,
                          Partitioner::Make(c.granularity, c.partition_timezone));
    return std::unique_ptr<S3Destination>(
        new S3Destination(std::move(c), partitioner, host));
  }

  Status Check() override {
    WEIR_RETURN_NOT_OK(EnsureStore().WithContext("s3: check"));
    std::mt19937_64 rng(std::random_device{}());
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const std::string key =
        KeyPrefix() + ".weir-check-" + std::to_string(::getpid()) + "-" +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) + "-" +
        std::to_string(rng() % 1000000000) + ".txt";
    const std::string where = store_->Describe() + "/" + key;
    PutOptions put;
    put.content_type = "text/plain";
    WEIR_RETURN_NOT_OK(store_->Put(key, "weir s3 destination check probe\n", put)
                           .WithContext("s3: check: writing probe object " + where));
    WEIR_RETURN_NOT_OK(
        store_->Delete(key).WithContext("s3: check: deleting probe object " + where));
    return Status::OK();
  }

  Status Write(const WriteRequest& request) override {
    if (request.batch.raw()->format != WEIR_FORMAT_NDJSON) {
      return Status::NotImplemented("s3: batch format " +
                                    std::to_string(request.batch.raw()->format) +
                                    " is not supported (only NDJSON)");
    }
    if (StreamFolder(request.stream).empty()) {
      return Status::NotImplemented("s3: stream '" + std::string(request.stream) +
                                    "' is not supported (events, users, identities)");
    }
    const std::string project =
        config_.project_id.empty() ? std::string(request.project) : config_.project_id;
    if (!IsValidKeySegment(project)) {
      return Status::Error("s3: project '" + project.substr(0, 80) +
                           "' cannot be a folder name in object keys; set config.project_id");
    }
    if (!IsValidKeySegment(request.pipeline)) {
      return Status::Error("s3: pipeline name '" + std::string(request.pipeline).substr(0, 80) +
                           "' cannot be part of an object name");
    }
    if (request.batch.count() == 0) return Status::OK();
    WEIR_RETURN_NOT_OK(EnsureStore());

    WEIR_ASSIGN_OR_RETURN(RecordSpans spans, RecordSpans::Of(request.batch));
    LayoutSpec spec;
    spec.prefix = config_.scheme == ExportConfig::Scheme::kS3 ? config_.prefix : "";
    spec.project = project;
    spec.stream = std::string(request.stream);
    spec.pipeline = std::string(request.pipeline);
    spec.batch_seq = request.batch_seq;
    spec.extension = std::string(ObjectExtension(config_.compression));
    spec.max_object_bytes = config_.max_object_bytes;
    WEIR_ASSIGN_OR_RETURN(
        std::vector<ObjectPlan> plans,
        PlanObjects(spec, &partitioner_, spans, request.batch.raw()->event_time_ms));

    WriteStats stats;
    Status s = writer_->Write(spans, plans, &stats);
    host_.Counter("s3.objects", static_cast<double>(stats.objects));
    host_.Counter("s3.records", static_cast<double>(stats.records));
    host_.Counter("s3.bytes_uncompressed", static_cast<double>(stats.uncompressed_bytes));
    host_.Counter("s3.bytes_stored", static_cast<double>(stats.stored_bytes));
    if (!s.ok()) {
      return s.WithContext("s3: batch " + std::to_string(request.batch_seq) + " of " +
                           std::string(request.pipeline) + " (" + std::to_string(stats.objects) +
                           " of " + std::to_string(plans.size()) + " objects stored)");
    }
    host_.Debug("s3: batch " + std::to_string(request.batch_seq) + ": " +
                std::to_string(stats.records) + " records in " + std::to_string(stats.objects) +
                " objects under " + store_->Describe() + "/" + KeyPrefix() + project + "/" +
                std::string(StreamFolder(request.stream)) + "/ (" +
                std::to_string(stats.uncompressed_bytes) + " bytes, " +
                std::to_string(stats.stored_bytes) + " stored)");
    return Status::OK();
  }

  /// Every Write() is durable before it returns (see the banner): nothing is buffered.
  Status Flush() override { return Status::OK(); }

 private:
  S3Destination(ExportConfig config, Partitioner partitioner, Host host)
      : config_(std::move(config)), partitioner_(partitioner), host_(host) {}

  /// "<prefix>/" or "" — the store's keys start with it.
  std::string KeyPrefix() const {
    return config_.scheme == ExportConfig::Scheme::kS3 && !config_.prefix.empty()
               ? config_.prefix + "/"
               : "";
  }

  Hooks MakeHooks() const {
    Hooks hooks;
    const Host host = host_;
    hooks.counter = [host](const char* name, double value) { host.Counter(name, value); };
    hooks.log = [host](int32_t level, const std::string& message) { host.Log(level, message); };
    hooks.cancelled = [host] { return host.IsCancelled(); };
    return hooks;
  }

  /// Creates the object store and the writer on first use; credentials are resolved here.
  Status EnsureStore() {
    if (writer_) return Status::OK();
    std::unique_ptr<ObjectStore> store;
    if (config_.scheme == ExportConfig::Scheme::kFile) {
      WEIR_ASSIGN_OR_RETURN(store, MakeFileObjectStore(config_.root, MakeHooks()));
    } else {
#ifdef WEIR_S3_HAVE_CLIENT
      WEIR_ASSIGN_OR_RETURN(Credentials credentials,
                            ResolveCredentials(config_.credentials, config_.profile));
      WEIR_ASSIGN_OR_RETURN(store,
                            MakeS3ObjectStore(MakeS3Config(config_, credentials), MakeHooks()));
#else
      return Status::Error("s3: built without an S3 client; only file:// URLs work");
#endif
    }
    WriterOptions options;
    options.compression = config_.compression;
    options.compression_level = config_.compression_level;
    options.parallelism = config_.parallelism;
    options.conditional_writes = config_.conditional_writes;
    options.max_object_bytes = config_.max_object_bytes;
    WEIR_ASSIGN_OR_RETURN(writer_, BatchWriter::Make(store.get(), options, MakeHooks()));
    store_ = std::move(store);
    return Status::OK();
  }

  ExportConfig config_;
  Partitioner partitioner_;
  Host host_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<BatchWriter> writer_;  ///< declared after store_: destroyed first
};

}  // namespace
}  // namespace weir::s3

WEIR_PLUGIN((weir::PluginInfo{
                "s3",
                "0.1.0",
                "Mixpanel-compatible NDJSON export (gzip, zstd or plain) to an S3-compatible "
                "bucket (AWS, GCS, MinIO, R2) or a local directory",
                {"events", "users", "identities"},
                weir::s3::kExportConfigSchema}),
            weir::NoSource, weir::s3::S3Destination)
