// plugins/s3/s3_writer.hpp — stores a batch's planned objects: gather, compress, Put, in
// parallel on a small pool of worker threads.
//
// Each worker takes the next object (largest first, so the last one to finish is small), puts
// its records together (or uses the batch's bytes in place when they are one contiguous run),
// compresses them with its own Compressor and Puts the result, which returns only once the
// object is durable. While one worker waits on an upload another compresses, so both cores
// stay busy. Write() returns when every object is stored, or with the first failure after the
// objects already in flight have finished (nothing new starts after a failure or a
// cancellation). Memory: per worker one gather buffer and one compressed buffer, each bounded
// by max_object_bytes (plus the compressor's bound).
//
//   WEIR_ASSIGN_OR_RETURN(auto writer, BatchWriter::Make(store.get(), options, hooks));
//   WEIR_RETURN_NOT_OK(writer->Write(spans, plans, &stats));
#ifndef WEIR_S3_S3_WRITER_HPP
#define WEIR_S3_S3_WRITER_HPP

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "object_store.hpp"
#include "s3_compress.hpp"
#include "s3_config.hpp"
#include "s3_layout.hpp"
#include "weir/plugin.hpp"

namespace weir::s3 {

struct WriterOptions {
  Compression compression = Compression::kGzip;
  int compression_level = kDefaultGzipLevel;
  int parallelism = kDefaultParallelism;  ///< worker threads (objects in flight)
  bool conditional_writes = false;        ///< PutOptions::if_none_match
  /// The objects' usual largest size: each worker's buffers grow to about this much (and past
  /// it only for an object of one record larger than that). 0 = no limit.
  uint64_t max_object_bytes = kDefaultMaxObjectBytes;
};

/// What one Write() stored.
struct WriteStats {
  uint64_t objects = 0;
  uint64_t records = 0;
  uint64_t uncompressed_bytes = 0;
  uint64_t stored_bytes = 0;
};

/// Runs one task on each of N threads at once and waits for all of them. The threads live as
/// long as the pool; only one RunOnAll() at a time.
class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int size() const { return static_cast<int>(threads_.size()); }
  /// Calls task(worker_index) on every worker thread and returns when all have returned.
  void RunOnAll(const std::function<void(int)>& task);

 private:
  void Loop(int index);

  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* task_ = nullptr;
  uint64_t generation_ = 0;
  int running_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

class BatchWriter {
 public:
  /// `store` must outlive the writer. Creates one compressor per worker up front.
  static Result<std::unique_ptr<BatchWriter>> Make(ObjectStore* store, WriterOptions options,
                                                   Hooks hooks);

  /// Stores every object of `plans` (records taken from `spans`); see the banner. Adds what it
  /// stored to `*stats` (also on failure, for the objects that were stored).
  Status Write(const RecordSpans& spans, const std::vector<ObjectPlan>& plans, WriteStats* stats);

 private:
  struct Worker {
    std::unique_ptr<Compressor> compressor;
    ScratchBuffer gather;
  };
  BatchWriter(ObjectStore* store, WriterOptions options, Hooks hooks)
      : store_(store), options_(options), hooks_(std::move(hooks)) {}
  Status WriteOne(Worker& worker, const RecordSpans& spans, const ObjectPlan& plan,
                  uint64_t* stored_bytes);

  ObjectStore* store_;
  WriterOptions options_;
  Hooks hooks_;
  std::vector<Worker> workers_;
  std::unique_ptr<WorkerPool> pool_;  ///< created on first need (single-object batches skip it)
};

}  // namespace weir::s3

#endif  // WEIR_S3_S3_WRITER_HPP
