// host/run/runner.cpp — the run session shared with backfill (run_core.hpp) and the
// incremental run loop.
#include "run/runner.hpp"

#include "common/format.hpp"
#include "run/host_context.hpp"
#include "run/run_core.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

namespace weir::host {
namespace internal {
namespace {

weir_bytes Bytes(const std::string& s) {
  return weir_bytes{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::string HexPreview(const std::string& wm) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < wm.size() && i < 32; ++i) {
    unsigned char c = static_cast<unsigned char>(wm[i]);
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  if (wm.size() > 32) out += "...";
  return out.empty() ? "(start)" : out;
}

RunSession::RunSession(const Pipeline& p, const PluginRegistry& reg, StateStore& store,
                       const RunOptions& opt)
    : p_(p), reg_(reg), store_(store), opt_(opt), rng_(std::random_device{}()) {}

int64_t RunSession::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <typename Fn>
Status RunSession::WithRetry(const char* what, Fn&& fn) {
  for (int attempt = 1;; ++attempt) {
    Status s = fn();
    if (s.ok() || !s.retryable() || attempt >= p_.retry.max_attempts || Cancelled()) {
      if (!s.ok() && s.retryable() && attempt >= p_.retry.max_attempts) {
        return Status::Error(std::string(what) + " failed after " + std::to_string(attempt) +
                             " attempts: " + s.message());
      }
      return s;
    }
    // Exponential backoff with full jitter: spreads retries of many hosts hitting the same
    // throttled service instead of synchronizing them.
    int64_t ceiling = std::min<int64_t>(
        p_.retry.max_backoff_ms,
        static_cast<int64_t>(p_.retry.initial_backoff_ms) << std::min(attempt - 1, 20));
    int64_t wait =
        ceiling <= 0 ? 0 : std::uniform_int_distribution<int64_t>(0, ceiling)(rng_);
    {
      std::lock_guard<std::mutex> lock(metrics_mu_);
      metrics_["host.retries"] += 1;
    }
    log_->warn("{} failed (attempt {}/{}), retrying in {} ms: {}", what, attempt,
               p_.retry.max_attempts, wait, s.ToString());
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait);
    while (std::chrono::steady_clock::now() < until && !Cancelled() && !Stopping()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // A graceful stop does not wait out a backoff: the batch stays pending and is replayed.
    if (Cancelled() || Stopping()) {
      return Status::Cancelled(std::string(what) + " cancelled during backoff");
    }
  }
}

void RunSession::Progress(bool final) {
  if (!opt_.progress) return;
  auto now = std::chrono::steady_clock::now();
  if (!final && now - last_progress_ < std::chrono::milliseconds(200)) return;
  last_progress_ = now;
  double secs = std::chrono::duration<double>(now - started_).count();
  double rate = secs > 0 ? static_cast<double>(out_.rows) / secs : 0;
  std::fprintf(stderr, "\r\033[K%s%s: %" PRIu64 " rows  %s  %.0f rows/s  %s/s  %" PRIu64
                       " batches%s",
               p_.name.c_str(), progress_label_.c_str(), out_.rows,
               HumanBytes(static_cast<double>(out_.bytes)).c_str(), rate,
               HumanBytes(secs > 0 ? static_cast<double>(out_.bytes) / secs : 0).c_str(),
               out_.batches, final ? "\n" : "");
  std::fflush(stderr);
}

Status RunSession::Setup() {
  const LoadedPlugin* src = nullptr;
  const LoadedPlugin* dst = nullptr;
  WEIR_RETURN_NOT_OK(ResolvePlugins(p_, reg_, &src, &dst));
  source_plugin_ = src;
  Status s = source_.Open(src->source, p_.source.config_json,
                          std::make_unique<HostContext>(log_, src->name, opt_.cancel, &metrics_,
                                                        &metrics_mu_));
  if (!s.ok()) return s.WithContext("opening source '" + src->name + "'");
  s = dest_.Open(dst->destination, p_.destination.config_json,
                 std::make_unique<HostContext>(log_, dst->name, opt_.cancel, &metrics_,
                                               &metrics_mu_));
  if (!s.ok()) return s.WithContext("opening destination '" + dst->name + "'");
  return Status::OK();
}

Status RunSession::ReadBatch(const weir_read_request& req, OwnedBatch& out) {
  return WithRetry("source read", [&]() -> Status {
    out.Reset();
    weir_error err{};
    weir_status st = source_.vt()->read(source_.get(), &req, &out.b, &err);
    if (st != WEIR_OK) {
      out.Reset();
      return Status::FromError(st, &err);
    }
    if (out.b.count > 0 && out.b.format != WEIR_FORMAT_NDJSON) {
      return Status::Error("source returned a batch in unknown format " +
                           std::to_string(out.b.format));
    }
    if (out.b.count > 0 && out.b.high_watermark.size == 0) {
      return Status::Error("source returned records without a high watermark");
    }
    return Status::OK();
  });
}

Result<StartCut> RunSession::EnsureStartCut() {
  auto existing = store_.GetStartCut(p_.name, p_.stream);
  if (!existing.ok()) {
    if (existing.status().code() == WEIR_NOT_IMPLEMENTED && p_.start == "beginning") {
      return StartCut{"", "beginning", 0};  // a store without cuts: all history is incremental
    }
    return existing.status().WithContext("reading the start cut");
  }
  if (*existing) return **existing;
  WEIR_ASSIGN_OR_RETURN(PipelineState st, store_.LoadPipeline(p_.name, p_.stream));
  StartCut cut{"", "beginning", NowMs()};
  if (st.next_batch_seq > 1 || st.pending) {
    if (p_.start == "now") {
      log_->warn("pipeline '{}' has start \"now\" but its stream already has batches; its start "
                 "cut is the beginning (the incremental export already covers all history)",
                 p_.name);
    }
  } else if (p_.start == "now") {
    if (source_plugin_ == nullptr) return Status::Error("EnsureStartCut before Setup");
    if (source_plugin_->abi_minor < 2) {
      return Status::NotImplemented(
          p_.file.string() + ": $.start: \"now\" needs the source to report its head "
          "(WEIR_READ_HEAD, plugin ABI 1.2), but plugin '" + source_plugin_->name +
          "' implements ABI 1." + std::to_string(source_plugin_->abi_minor) +
          "; upgrade the plugin or use start \"beginning\"");
    }
    weir_read_request req{};
    req.struct_size = sizeof(req);
    req.mode = WEIR_READ_HEAD;
    req.stream = p_.stream.c_str();
    OwnedBatch head;
    WEIR_RETURN_NOT_OK(ReadBatch(req, head).WithContext("asking the source for its head"));
    cut.watermark.assign(reinterpret_cast<const char*>(head.b.high_watermark.data),
                         head.b.high_watermark.size);
    cut.mode = "now";
    log_->info("start cut fixed at the source's head {}: records before it are history "
               "(weir backfill), records after it the incremental export",
               HexPreview(cut.watermark));
  }
  WEIR_RETURN_NOT_OK(store_.SetStartCut(p_.name, p_.stream, cut).WithContext("fixing the start "
                                                                             "cut"));
  return cut;
}

Status RunSession::ProcessBatch(Intent intent, BatchMode mode) {
  const bool exact = mode != BatchMode::kNew;
  weir_read_request req{};
  req.struct_size = sizeof(req);
  req.mode = intent.mode;
  req.stream = p_.stream.c_str();
  req.from_wm = Bytes(intent.from_wm);
  req.max_records = p_.batch.max_records;
  req.max_bytes = p_.batch.max_bytes;
  req.window_start_ms = intent.window_start_ms;
  req.window_end_ms = intent.window_end_ms;
  req.bound_wm = Bytes(intent.bound_wm);
  if (exact) req.to_wm = Bytes(intent.to_wm);

  OwnedBatch batch;
  WEIR_RETURN_NOT_OK(ReadBatch(req, batch));
  std::string hwm(reinterpret_cast<const char*>(batch.b.high_watermark.data),
                  batch.b.high_watermark.size);
  if (exact) {
    // The destination's idempotency rests on the replay carrying exactly the same records.
    if (batch.b.count != intent.rows || hwm != intent.to_wm) {
      return Status::Error(
          "source returned " + std::to_string(batch.b.count) + " records ending at watermark " +
          HexPreview(hwm) + " when replaying batch " + std::to_string(intent.batch_seq) +
          ", which had " + std::to_string(intent.rows) + " records ending at " +
          HexPreview(intent.to_wm) +
          "; the source data changed (retention?) — refusing to write a different batch under "
          "the same key");
    }
  } else {
    if (batch.b.count == 0) return Status::OK();
    intent.to_wm = hwm;
    intent.rows = batch.b.count;
    intent.bytes = batch.b.size;
    WEIR_RETURN_NOT_OK(store_.RecordIntent(intent).WithContext("recording batch intent"));
  }
  const std::string key = IdempotencyKey(p_.name, p_.stream, intent.batch_seq);
  weir_write_request w{};
  w.struct_size = sizeof(w);
  w.pipeline = p_.name.c_str();
  w.project = p_.project.c_str();
  w.stream = p_.stream.c_str();
  w.batch_seq = intent.batch_seq;
  w.idempotency_key = key.c_str();
  w.batch = &batch.b;
  log_->debug("batch {}: {} records, {} bytes, watermark {} -> {}{}", intent.batch_seq,
              intent.rows, intent.bytes, HexPreview(intent.from_wm), HexPreview(intent.to_wm),
              mode == BatchMode::kReplay    ? " (replay)"
              : mode == BatchMode::kRewrite ? " (redo)"
                                            : "");
  WEIR_RETURN_NOT_OK(WithRetry("destination write", [&]() -> Status {
    weir_error err{};
    weir_status st = dest_.vt()->write(dest_.get(), &w, &err);
    return st == WEIR_OK ? Status::OK() : Status::FromError(st, &err);
  }));
  WEIR_RETURN_NOT_OK(WithRetry("destination flush", [&]() -> Status {
    weir_error err{};
    weir_status st = dest_.vt()->flush(dest_.get(), &err);
    return st == WEIR_OK ? Status::OK() : Status::FromError(st, &err);
  }));
  if (mode != BatchMode::kRewrite) {
    WEIR_RETURN_NOT_OK(
        store_.CommitIntent(intent, out_.run_id).WithContext("committing batch watermark"));
  }
  out_.rows += intent.rows;
  out_.bytes += intent.bytes;
  out_.batches += 1;
  if (mode == BatchMode::kReplay) out_.replayed += 1;
  Progress(false);
  return Status::OK();
}

bool RunSession::Begin() {
  auto lock = store_.TryLockPipeline(p_.name);
  if (!lock.ok()) {
    out_.status = "failed";
    out_.error = lock.status();
    out_.exit_code = kExitBusy;
    return false;
  }
  lock_ = std::move(lock).value();
  auto interrupted = store_.MarkInterruptedRuns(p_.name);
  auto run_id = store_.StartRun(p_.name, opt_.kind, static_cast<int64_t>(::getpid()));
  if (!run_id.ok() || !interrupted.ok()) {
    out_.status = "failed";
    out_.error = run_id.ok() ? interrupted.status() : run_id.status();
    out_.exit_code = kExitState;
    return false;
  }
  out_.run_id = *run_id;

  // Per-run log file, plus stderr for the operator.
  std::error_code ec;
  std::filesystem::create_directories(opt_.logs_dir, ec);
  out_.log_path = opt_.logs_dir / ("run-" + std::to_string(out_.run_id) + ".log");
  std::vector<spdlog::sink_ptr> sinks;
  try {
    auto file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(out_.log_path.string());
    file_sink->set_level(spdlog::level::debug);
    sinks.push_back(file_sink);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weir: cannot open run log %s: %s\n", out_.log_path.string().c_str(),
                 e.what());
  }
  if (opt_.echo_logs) {
    auto err_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    err_sink->set_level(opt_.progress ? spdlog::level::warn : spdlog::level::info);
    sinks.push_back(err_sink);
  }
  log_ = std::make_shared<spdlog::logger>(p_.name + "#" + std::to_string(out_.run_id),
                                          sinks.begin(), sinks.end());
  log_->set_level(spdlog::level::debug);
  log_->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l [%n] %v", spdlog::pattern_time_type::utc);
  log_->flush_on(spdlog::level::debug);
  (void)store_.SetRunLogPath(out_.run_id, out_.log_path.string());
  if (*interrupted > 0) {
    log_->warn("{} earlier run(s) of this pipeline ended without finishing; marked interrupted",
               *interrupted);
  }
  log_->info("run {} of pipeline '{}' ({} {} -> {}, stream {}) started", out_.run_id, p_.name,
             opt_.kind, p_.source.plugin, p_.destination.plugin, p_.stream);
  return true;
}

RunOutcome RunSession::Finish(const Status& s) {
  Progress(true);
  {
    std::lock_guard<std::mutex> guard(metrics_mu_);
    out_.metrics = metrics_;
  }
  std::string metrics_line;
  for (const auto& [name, value] : out_.metrics) {
    metrics_line += " " + name + "=" + std::to_string(static_cast<int64_t>(value));
  }
  if (s.ok()) {
    // Whether this step reached the end of the source: `weir status` tells catching-up from
    // incremental by it, and measures lag from the last run that ended caught up.
    out_.metrics["host.caught_up"] = out_.caught_up ? 1 : 0;
    out_.status = out_.batches == 0 ? "no_data" : "succeeded";
    out_.exit_code = out_.caught_up ? kExitOk : kExitMoreToDo;
  } else if (s.code() == WEIR_CANCELLED) {
    out_.status = "cancelled";
    out_.exit_code = kExitCancelled;
  } else {
    out_.status = "failed";
    out_.exit_code = s.code() == WEIR_INVALID_CONFIG     ? kExitUsage
                     : s.code() == WEIR_NOT_IMPLEMENTED ? kExitPlugin
                                                        : kExitRunFailed;
  }
  out_.error = s;
  if (s.ok()) {
    log_->info("run {} {}: {} rows, {} bytes, {} batches{}{}", out_.run_id, out_.status,
               out_.rows, out_.bytes, out_.batches,
               out_.replayed > 0 ? " (" + std::to_string(out_.replayed) + " replayed)" : "",
               metrics_line.empty() ? "" : "; metrics:" + metrics_line);
  } else {
    log_->error("run {} {}: {} (after {} rows in {} batches){}", out_.run_id, out_.status,
                s.ToString(), out_.rows, out_.batches,
                metrics_line.empty() ? "" : "; metrics:" + metrics_line);
  }
  if (!out_.metrics.empty()) {
    Status ms = store_.SetRunMetrics(out_.run_id, out_.metrics);
    if (!ms.ok() && ms.code() != WEIR_NOT_IMPLEMENTED) {
      log_->warn("cannot record the metrics of run {}: {}", out_.run_id, ms.ToString());
    }
  }
  Status fin = store_.FinishRun(out_.run_id, out_.status, s.ok() ? "" : s.ToString());
  if (!fin.ok()) {
    log_->error("cannot record the end of run {}: {}", out_.run_id, fin.ToString());
    if (out_.exit_code == kExitOk) out_.exit_code = kExitState;
  }
  log_->flush();
  return out_;
}

}  // namespace internal

namespace {

using internal::BatchMode;
using internal::RunSession;

/// The incremental loop: replay a pending intent, then RANGE batches after the watermark.
Status IncrementalLoop(RunSession& s, uint64_t max_batches) {
  const Pipeline& p = s.pipeline();
  WEIR_RETURN_NOT_OK(s.EnsureStartCut().status());
  while (true) {
    if (s.Cancelled()) return Status::Cancelled("run cancelled");
    if (s.Stopping()) return Status::Cancelled("run stopped after its last committed batch");
    WEIR_ASSIGN_OR_RETURN(PipelineState st, s.store().LoadPipeline(p.name, p.stream));
    if (st.pending) {
      s.log().warn(
          "replaying batch {} left pending by an interrupted run (same key, same records)",
          st.pending->batch_seq);
      WEIR_RETURN_NOT_OK(s.ProcessBatch(*st.pending, BatchMode::kReplay));
      continue;
    }
    Intent intent;
    intent.pipeline = p.name;
    intent.stream = p.stream;
    intent.batch_seq = st.next_batch_seq;
    intent.from_wm = st.watermark;
    intent.mode = WEIR_READ_RANGE;
    intent.run_id = s.out().run_id;
    uint64_t before = s.out().batches;
    WEIR_RETURN_NOT_OK(s.ProcessBatch(std::move(intent), BatchMode::kNew));
    if (s.out().batches == before) return Status::OK();  // caught up
    if (max_batches != 0 && s.out().batches >= max_batches) {
      s.out().caught_up = false;  // the step limit: more may be waiting
      return Status::OK();
    }
  }
}

/// An open source or destination instance (for CheckPipelinePlugins).
using SourceHandle = internal::SourceHandle;
using DestinationHandle = internal::DestinationHandle;

}  // namespace

std::string IdempotencyKey(const std::string& pipeline, const std::string& stream,
                           uint64_t seq) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%012" PRIu64, seq);
  return pipeline + "." + stream + "." + buf;
}

Status ResolvePlugins(const Pipeline& p, const PluginRegistry& reg,
                      const LoadedPlugin** out_source, const LoadedPlugin** out_destination) {
  auto resolve = [&](const PluginRef& ref, bool want_source,
                     const LoadedPlugin** out) -> Status {
    const char* side = want_source ? "source" : "destination";
    const LoadedPlugin* lp = reg.Find(ref.plugin);
    if (lp == nullptr) {
      std::string msg = p.file.string() + ": $." + side + ".plugin: no plugin named '" +
                        ref.plugin + "' is loaded";
      for (const auto& r : reg.refusals()) {
        if (r.path.filename().string().find(ref.plugin) != std::string::npos) {
          msg += " (" + r.ToString() + ")";
        }
      }
      return Status::NotImplemented(msg + "; see `weir plugins list`");
    }
    if (want_source ? !lp->is_source() : !lp->is_destination()) {
      return Status::NotImplemented(p.file.string() + ": $." + side + ".plugin: plugin '" +
                                    ref.plugin + "' is a " + lp->KindsString() + ", not a " +
                                    side);
    }
    if (!lp->supports_stream(p.stream)) {
      std::string list;
      for (const auto& s : lp->streams) list += (list.empty() ? "" : ", ") + s;
      return Status::NotImplemented(p.file.string() + ": $.stream: plugin '" + ref.plugin +
                                    "' does not support stream '" + p.stream +
                                    "' (it supports: " + list + ")");
    }
    *out = lp;
    return Status::OK();
  };
  WEIR_RETURN_NOT_OK(resolve(p.source, true, out_source));
  return resolve(p.destination, false, out_destination);
}

Status CheckPipelinePlugins(const Pipeline& p, const PluginRegistry& reg) {
  const LoadedPlugin* src = nullptr;
  const LoadedPlugin* dst = nullptr;
  WEIR_RETURN_NOT_OK(ResolvePlugins(p, reg, &src, &dst));
  auto logger = std::make_shared<spdlog::logger>("check");  // no sinks: plugin logs dropped
  std::map<std::string, double> metrics;
  std::mutex mu;
  std::atomic<bool> never{false};
  {
    SourceHandle h;
    Status s = h.Open(src->source, p.source.config_json,
                      std::make_unique<HostContext>(logger, src->name, &never, &metrics, &mu));
    if (s.ok()) s = h.Check();
    if (!s.ok()) {
      return Status(s).WithContext(p.file.string() + ": source '" + src->name + "' config");
    }
  }
  DestinationHandle h;
  Status s = h.Open(dst->destination, p.destination.config_json,
                    std::make_unique<HostContext>(logger, dst->name, &never, &metrics, &mu));
  if (s.ok()) s = h.Check();
  if (!s.ok()) {
    return Status(s).WithContext(p.file.string() + ": destination '" + dst->name + "' config");
  }
  return Status::OK();
}

RunOutcome RunPipeline(const Pipeline& pipeline, const PluginRegistry& registry,
                       StateStore& store, const RunOptions& options) {
  try {
    RunSession session(pipeline, registry, store, options);
    if (!session.Begin()) return session.out();
    Status s = session.Setup();
    if (s.ok()) s = IncrementalLoop(session, options.max_batches);
    return session.Finish(s);
  } catch (const std::exception& e) {
    RunOutcome out;
    out.status = "failed";
    out.error = Status::Error(std::string("internal error: ") + e.what());
    out.exit_code = kExitRunFailed;
    return out;
  }
}

}  // namespace weir::host
