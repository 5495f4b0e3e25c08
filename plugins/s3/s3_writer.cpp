// plugins/s3/s3_writer.cpp — the worker pool and the parallel gather/compress/Put loop.
#include "s3_writer.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <numeric>
#include <string>
#include <utility>

namespace weir::s3 {

WorkerPool::WorkerPool(int threads) {
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this, i] { Loop(i); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::RunOnAll(const std::function<void(int)>& task) {
  std::unique_lock<std::mutex> lock(mu_);
  task_ = &task;
  running_ = size();
  ++generation_;
  wake_.notify_all();
  done_.wait(lock, [this] { return running_ == 0; });
  task_ = nullptr;
}

void WorkerPool::Loop(int index) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    const std::function<void(int)>* task = task_;
    lock.unlock();
    (*task)(index);
    lock.lock();
    if (--running_ == 0) done_.notify_all();
  }
}

Result<std::unique_ptr<BatchWriter>> BatchWriter::Make(ObjectStore* store, WriterOptions options,
                                                       Hooks hooks) {
  auto writer = std::unique_ptr<BatchWriter>(new BatchWriter(store, options, std::move(hooks)));
  writer->workers_.resize(static_cast<size_t>(std::max(1, options.parallelism)));
  const auto max_object = static_cast<size_t>(options.max_object_bytes);
  for (Worker& w : writer->workers_) {
    WEIR_ASSIGN_OR_RETURN(
        w.compressor, Compressor::Make(options.compression, options.compression_level, max_object));
    w.gather.set_growth_limit(max_object);
  }
  return writer;
}

Status BatchWriter::WriteOne(Worker& worker, const RecordSpans& spans, const ObjectPlan& plan,
                             uint64_t* stored_bytes) {
  // Records already laid out back to back, each ending in '\n' (as NDJSON batches are), are
  // compressed in place; otherwise they are gathered into the worker's buffer.
  auto terminated = [&](const RecordRun& run) {
    for (size_t i = run.begin; i < run.end; ++i) {
      const size_t end = spans.offsets[i + 1];
      if (end == spans.offsets[i] || spans.data[end - 1] != '\n') return false;
    }
    return true;
  };
  std::string_view input;
  if (plan.runs.size() == 1 && terminated(plan.runs[0])) {
    const size_t begin = spans.offsets[plan.runs[0].begin];
    input = spans.data.substr(begin, spans.offsets[plan.runs[0].end] - begin);
  } else {
    char* out = worker.gather.Reserve(static_cast<size_t>(plan.bytes));
    size_t n = 0;
    for (const RecordRun& run : plan.runs) {
      if (terminated(run)) {
        const size_t begin = spans.offsets[run.begin], end = spans.offsets[run.end];
        std::memcpy(out + n, spans.data.data() + begin, end - begin);
        n += end - begin;
        continue;
      }
      // A record without its newline (a malformed source) still gets one, as Bytes() counts.
      for (size_t i = run.begin; i < run.end; ++i) {
        const size_t begin = spans.offsets[i], end = spans.offsets[i + 1];
        std::memcpy(out + n, spans.data.data() + begin, end - begin);
        n += end - begin;
        if (end == begin || spans.data[end - 1] != '\n') out[n++] = '\n';
      }
    }
    input = std::string_view(out, n);
  }
  WEIR_ASSIGN_OR_RETURN(std::string_view body, worker.compressor->Compress(input));
  PutOptions put;
  put.content_type = std::string(ObjectContentType(options_.compression));
  put.if_none_match = options_.conditional_writes;
  WEIR_RETURN_NOT_OK(store_->Put(plan.key, body, put));
  *stored_bytes = body.size();
  return Status::OK();
}

Status BatchWriter::Write(const RecordSpans& spans, const std::vector<ObjectPlan>& plans,
                          WriteStats* stats) {
  // Largest first: the pool's tail is then a small object, not a big one started last.
  std::vector<size_t> order(plans.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return plans[a].bytes > plans[b].bytes; });

  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  Status first_error;
  WriteStats done;
  auto work = [&](int index) {
    Worker& worker = workers_[static_cast<size_t>(index)];
    for (;;) {
      if (stop.load()) return;
      const size_t j = next.fetch_add(1);
      if (j >= order.size()) return;
      const ObjectPlan& plan = plans[order[j]];
      Status s;
      uint64_t stored = 0;
      if (hooks_.cancelled && hooks_.cancelled()) {
        s = Status::Cancelled("s3: write cancelled by the host before all objects were stored");
      } else {
        s = WriteOne(worker, spans, plan, &stored);
      }
      std::lock_guard<std::mutex> lock(mu);
      if (!s.ok()) {
        if (first_error.ok()) first_error = std::move(s);
        stop.store(true);
        return;
      }
      ++done.objects;
      done.records += plan.records;
      done.uncompressed_bytes += plan.bytes;
      done.stored_bytes += stored;
    }
  };
  const int threads = static_cast<int>(std::min(workers_.size(), plans.size()));
  if (threads <= 1) {
    work(0);
  } else {
    if (!pool_) pool_ = std::make_unique<WorkerPool>(static_cast<int>(workers_.size()));
    pool_->RunOnAll(work);
  }
  stats->objects += done.objects;
  stats->records += done.records;
  stats->uncompressed_bytes += done.uncompressed_bytes;
  stats->stored_bytes += done.stored_bytes;
  return first_error;
}

}  // namespace weir::s3
