// host/run/run_core.hpp — what the incremental run (runner.cpp) and backfill (backfill.cpp)
// share: one run's session. Internal to host/run; not an interface for other components.
//
// A RunSession takes the pipeline lock, marks runs a dead process left 'running' as
// interrupted, starts the run record with its per-run log, opens the plugins, fixes the start
// cut, and processes batches with the effectively-once protocol (record intent, write, flush,
// commit). Finish() turns the run's final Status into the RunOutcome and the stored run end.
//
//   RunSession s(pipeline, registry, store, options);
//   if (!s.Begin()) return s.out();           // busy or state store failure
//   Status st = s.Setup();
//   if (st.ok()) st = ...loop calling s.ProcessBatch(intent, BatchMode::kNew)...;
//   return s.Finish(st);
#ifndef WEIR_HOST_RUN_RUN_CORE_HPP
#define WEIR_HOST_RUN_RUN_CORE_HPP

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "run/host_context.hpp"
#include "run/runner.hpp"

namespace weir::host::internal {

/// An open source or destination instance; closes it on destruction.
template <typename Vtable>
class InstanceHandle {
 public:
  InstanceHandle() = default;
  InstanceHandle(const InstanceHandle&) = delete;
  InstanceHandle& operator=(const InstanceHandle&) = delete;
  ~InstanceHandle() {
    if (instance_ != nullptr) vt_->close(instance_);
  }
  Status Open(const Vtable* vt, const std::string& config, std::unique_ptr<HostContext> ctx) {
    vt_ = vt;
    ctx_ = std::move(ctx);
    weir_error err{};
    weir_status st = vt_->open(config.data(), config.size(), ctx_->services(), &instance_, &err);
    if (st != WEIR_OK) {
      instance_ = nullptr;
      return Status::FromError(st, &err);
    }
    if (instance_ == nullptr) return Status::Error("open returned OK but no instance");
    return Status::OK();
  }
  Status Check() {
    weir_error err{};
    weir_status st = vt_->check(instance_, &err);
    return st == WEIR_OK ? Status::OK() : Status::FromError(st, &err);
  }
  weir_instance* get() const { return instance_; }
  const Vtable* vt() const { return vt_; }

 private:
  const Vtable* vt_ = nullptr;
  weir_instance* instance_ = nullptr;
  std::unique_ptr<HostContext> ctx_;  // must outlive the instance: declared after, destroyed
                                      // after ~InstanceHandle body closed the instance
};

using SourceHandle = InstanceHandle<weir_source_vtable>;
using DestinationHandle = InstanceHandle<weir_destination_vtable>;

/// An owned batch; released on destruction.
struct OwnedBatch {
  weir_batch b{};
  OwnedBatch() = default;
  OwnedBatch(const OwnedBatch&) = delete;
  OwnedBatch& operator=(const OwnedBatch&) = delete;
  ~OwnedBatch() { weir_batch_release(&b); }
  void Reset() {
    weir_batch_release(&b);
    b = weir_batch{};
  }
};

/// How ProcessBatch treats an intent.
enum class BatchMode {
  kNew,      ///< read the next batch; nothing read = no batch; else record, write, commit
  kReplay,   ///< the pending intent: read exactly (from_wm, to_wm], write, commit
  kRewrite,  ///< a committed intent (backfill --redo): read exactly, write again; no commit
};

/// Hex of a watermark's first 32 bytes, "(start)" for empty.
std::string HexPreview(const std::string& wm);

class RunSession {
 public:
  RunSession(const Pipeline& p, const PluginRegistry& reg, StateStore& store,
             const RunOptions& opt);

  /// Lock, mark interrupted runs, start the run and its log. False: out() holds the failure.
  bool Begin();
  /// Opens the source and destination.
  Status Setup();
  /// The pipeline's start cut, fixing it first if this is the stream's first run or backfill:
  /// "now" asks the source for its head (WEIR_READ_HEAD, ABI >= 1.2); "beginning", or a stream
  /// that already has batches, gets the empty cut. Call after Setup().
  Result<StartCut> EnsureStartCut();
  /// One batch (see BatchMode). For kNew, out().batches grows iff a batch was written.
  Status ProcessBatch(Intent intent, BatchMode mode);
  /// Records the end of the run (status, error, metrics) and returns the outcome.
  RunOutcome Finish(const Status& s);

  bool Cancelled() const { return opt_.cancel != nullptr && opt_.cancel->load(); }
  bool Stopping() const { return opt_.stop != nullptr && opt_.stop->load(); }
  /// Text shown before the counters on the progress line (e.g. the backfill's day).
  void set_progress_label(std::string label) { progress_label_ = std::move(label); }
  void Progress(bool final);

  RunOutcome& out() { return out_; }
  spdlog::logger& log() { return *log_; }
  const Pipeline& pipeline() const { return p_; }
  StateStore& store() { return store_; }
  int64_t NowMs() const;

 private:
  Status ReadBatch(const weir_read_request& req, OwnedBatch& out);
  template <typename Fn>
  Status WithRetry(const char* what, Fn&& fn);

  const Pipeline& p_;
  const PluginRegistry& reg_;
  StateStore& store_;
  const RunOptions& opt_;
  std::mt19937_64 rng_;
  std::unique_ptr<PipelineLock> lock_;
  std::shared_ptr<spdlog::logger> log_;
  std::map<std::string, double> metrics_;
  std::mutex metrics_mu_;
  const LoadedPlugin* source_plugin_ = nullptr;
  SourceHandle source_;
  DestinationHandle dest_;
  RunOutcome out_;
  std::string progress_label_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_progress_{};
};

}  // namespace weir::host::internal

#endif  // WEIR_HOST_RUN_RUN_CORE_HPP
