// sdk/testkit/checks.cpp — the conformance check bodies and the helpers they share.
//
// Every helper returns weir::Status so a body reads as a straight sequence of steps; KIT_CHECK
// turns the first failed step into the check's verdict. Every weir_error a plugin returns goes
// through InspectError (struct_size, code, message, release, release twice), and every batch
// through ValidateAndCopy (struct_size, format, arrays, offsets, JSON records, limits), so those
// rules are asserted wherever an error or batch shows up, not only in their own checks.
#include "checks.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_scan.hpp"
#include "weir/plugin.hpp"
#include "weir/validate.hpp"

namespace weir::testkit::internal {
namespace {

#define KIT_CHECK(expr)                                                 \
  do {                                                                  \
    ::weir::Status kit_status_ = (expr);                                \
    if (!kit_status_.ok()) return Verdict::Fail(kit_status_.message()); \
  } while (0)

/// An ABI minor no plugin can implement, for the refusal check.
constexpr uint32_t kUnservableMinor = 1u << 20;
/// Batch limits the read checks ask for.
constexpr uint64_t kReadMaxRecords = 100;
constexpr uint64_t kReadMaxBytes = 8u << 20;
/// Configs every plugin must refuse.
constexpr const char* kGarbageConfigs[] = {"not json", "[]", "{\"definitely_not_a_key\":1}"};

std::string StatusName(weir_status s) {
  switch (s) {
    case WEIR_OK:
      return "WEIR_OK";
    case WEIR_ERROR:
      return "WEIR_ERROR";
    case WEIR_NOT_IMPLEMENTED:
      return "WEIR_NOT_IMPLEMENTED";
    case WEIR_CANCELLED:
      return "WEIR_CANCELLED";
    case WEIR_INVALID_CONFIG:
      return "WEIR_INVALID_CONFIG";
    default:
      return "status " + std::to_string(s);
  }
}

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[(static_cast<uint8_t>(c) >> 4) & 0xf]);
    out.push_back(kDigits[static_cast<uint8_t>(c) & 0xf]);
  }
  return out.empty() ? "(empty)" : out;
}

/// At most 80 characters of `s`, for messages.
std::string Excerpt(std::string_view s) {
  return s.size() <= 80 ? std::string(s) : std::string(s.substr(0, 77)) + "...";
}

/// Checks a weir_error filled by `call`, which returned `returned` (not WEIR_OK): struct_size,
/// code, message and release are set; release clears release and message; calling the saved
/// release a second time is harmless (if it is not, the child crashes and the check says so).
Status InspectError(const std::string& call, weir_status returned, weir_error* err,
                    std::string* message, const StepFn& step) {
  const std::string where = call + " returned " + StatusName(returned) + " but its weir_error ";
  if (err->struct_size < sizeof(weir_error)) {
    return Status::Error(where + "has struct_size " + std::to_string(err->struct_size) +
                         " (must be set, at least " + std::to_string(sizeof(weir_error)) + ")");
  }
  if (err->release == nullptr) return Status::Error(where + "has a NULL release");
  if (err->message == nullptr || err->message[0] == '\0') {
    return Status::Error(where + "has no message (it must say what went wrong)");
  }
  if (err->code != returned) {
    return Status::Error(where + "has code " + StatusName(err->code) +
                         " (must equal the returned status)");
  }
  *message = err->message;
  step("releasing the error of " + call + " (twice)");
  void (*saved_release)(weir_error*) = err->release;
  saved_release(err);
  if (err->release != nullptr || err->message != nullptr) {
    return Status::Error("the weir_error release of " + call +
                         " did not set release and message to NULL");
  }
  saved_release(err);
  return Status::OK();
}

/// OK when `returned` is WEIR_OK and `err` was left untouched; otherwise a failure carrying the
/// plugin's message (after inspecting the error).
Status CallOk(const std::string& call, weir_status returned, weir_error* err, const StepFn& step) {
  if (returned == WEIR_OK) {
    if (err->release != nullptr || err->message != nullptr) {
      return Status::Error(call +
                           " returned WEIR_OK but filled its weir_error (it must stay "
                           "untouched on success)");
    }
    return Status::OK();
  }
  std::string message;
  WEIR_RETURN_NOT_OK(InspectError(call, returned, err, &message, step));
  return Status::Error(call + " failed with " + StatusName(returned) + ": " + message);
}

/// Loads and negotiates with the default range [0, WEIR_ABI_MINOR].
Result<std::unique_ptr<PluginLibrary>> Load(const std::string& so_path, const StepFn& step) {
  step("loading and negotiating");
  std::string error;
  auto lib = PluginLibrary::Load(so_path, &error);
  if (!lib) return Status::Error(error);
  return lib;
}

Result<std::string> PickStream(const weir_plugin& d, const std::string& wanted) {
  if (d.streams == nullptr || d.stream_count == 0 || d.streams[0] == nullptr) {
    return Status::Error("the plugin declares no streams");
  }
  if (wanted.empty()) return std::string(d.streams[0]);
  std::string declared;
  for (size_t i = 0; i < d.stream_count; ++i) {
    if (d.streams[i] != nullptr && wanted == d.streams[i]) return wanted;
    declared += (declared.empty() ? "" : ", ") + std::string(d.streams[i] ? d.streams[i] : "?");
  }
  return Status::Error("Options::stream '" + wanted + "' is not declared by the plugin (it " +
                       "declares: " + declared + ")");
}

// ---------------------------------------------------------------------------------------------
// Source side

struct ReadSpec {
  std::string from_wm;
  std::string to_wm;
  uint64_t max_records = kReadMaxRecords;
  uint64_t max_bytes = kReadMaxBytes;
};

std::string Describe(const ReadSpec& spec) {
  std::string s = "read(from_wm=" + Hex(spec.from_wm);
  if (!spec.to_wm.empty()) s += ", to_wm=" + Hex(spec.to_wm);
  s += ", max_records=" + std::to_string(spec.max_records) +
       ", max_bytes=" + std::to_string(spec.max_bytes) + ")";
  return s;
}

/// A copy of a batch's contents, for comparisons after the batch was released.
struct BatchCopy {
  size_t count = 0;
  std::string data;
  std::vector<int64_t> times;
  std::vector<uint64_t> seqs;
  std::vector<std::string> records;  // each with its '\n'
  std::string high_watermark;
};

/// Releases a batch on scope exit.
struct OwnedBatch {
  weir_batch batch{};
  OwnedBatch() = default;
  OwnedBatch(const OwnedBatch&) = delete;
  OwnedBatch& operator=(const OwnedBatch&) = delete;
  ~OwnedBatch() { weir_batch_release(&batch); }
};

/// Checks everything a destination relies on in a batch and copies it out.
Result<BatchCopy> ValidateAndCopy(const weir_batch& b, const ReadSpec& spec,
                                  const std::string& what) {
  BatchCopy copy;
  const std::string bad = what + " returned a batch whose ";
  if (b.count == 0) {
    if (b.struct_size != 0 && b.struct_size < sizeof(weir_batch)) {
      return Status::Error(bad + "struct_size is " + std::to_string(b.struct_size));
    }
    return copy;
  }
  if (b.struct_size < sizeof(weir_batch)) {
    return Status::Error(bad + "struct_size is " + std::to_string(b.struct_size) +
                         " (must be set, at least " + std::to_string(sizeof(weir_batch)) + ")");
  }
  if (b.format != WEIR_FORMAT_NDJSON) {
    return Status::Error(bad + "format is " + std::to_string(b.format) +
                         " (v1 batches are WEIR_FORMAT_NDJSON = 1)");
  }
  if (b.release == nullptr) return Status::Error(bad + "release is NULL");
  if (b.data == nullptr || b.size == 0) {
    return Status::Error(bad + "count is " + std::to_string(b.count) + " but data is empty");
  }
  if (b.event_time_ms == nullptr) return Status::Error(bad + "event_time_ms array is NULL");
  if (b.ingest_seq == nullptr) return Status::Error(bad + "ingest_seq array is NULL");
  if (b.high_watermark.size == 0 || b.high_watermark.data == nullptr) {
    return Status::Error(bad + "high_watermark is empty although it holds records");
  }
  if (spec.to_wm.empty()) {
    if (spec.max_records != 0 && b.count > spec.max_records) {
      return Status::Error(bad + "count " + std::to_string(b.count) + " exceeds max_records " +
                           std::to_string(spec.max_records));
    }
    if (spec.max_bytes != 0 && b.count > 1 && b.size > spec.max_bytes) {
      return Status::Error(bad + "size " + std::to_string(b.size) + " exceeds max_bytes " +
                           std::to_string(spec.max_bytes) + " with more than one record");
    }
  }
  const std::string_view data(reinterpret_cast<const char*>(b.data), b.size);
  copy.count = b.count;
  copy.data = std::string(data);
  copy.times.assign(b.event_time_ms, b.event_time_ms + b.count);
  copy.seqs.assign(b.ingest_seq, b.ingest_seq + b.count);
  copy.high_watermark = std::string(ToView(b.high_watermark));
  if (b.offsets != nullptr) {
    if (b.offsets[0] != 0) return Status::Error(bad + "offsets[0] is not 0");
    if (b.offsets[b.count] != b.size) {
      return Status::Error(bad + "offsets[count] is " + std::to_string(b.offsets[b.count]) +
                           ", not size " + std::to_string(b.size));
    }
    for (size_t i = 0; i < b.count; ++i) {
      if (b.offsets[i + 1] <= b.offsets[i]) {
        return Status::Error(bad + "offsets are not strictly increasing at record " +
                             std::to_string(i));
      }
      copy.records.emplace_back(data.substr(b.offsets[i], b.offsets[i + 1] - b.offsets[i]));
    }
  } else {
    size_t begin = 0;
    while (begin < data.size()) {
      size_t nl = data.find('\n', begin);
      if (nl == std::string_view::npos) nl = data.size() - 1;  // reported below: no '\n'
      copy.records.emplace_back(data.substr(begin, nl + 1 - begin));
      begin = nl + 1;
    }
    if (copy.records.size() != b.count) {
      return Status::Error(bad + "data holds " + std::to_string(copy.records.size()) +
                           " lines but count is " + std::to_string(b.count));
    }
  }
  for (size_t i = 0; i < copy.records.size(); ++i) {
    std::string_view r = copy.records[i];
    if (r.back() != '\n') {
      return Status::Error(bad + "record " + std::to_string(i) + " does not end with '\\n'");
    }
    r.remove_suffix(1);
    if (r.find('\n') != std::string_view::npos) {
      return Status::Error(bad + "record " + std::to_string(i) +
                           " spans several lines (offsets disagree with the newlines)");
    }
    std::string why;
    if (!IsJson(r, /*require_object=*/true, &why)) {
      return Status::Error(bad + "record " + std::to_string(i) + " is not a JSON object (" + why +
                           "): " + Excerpt(r));
    }
    if (i > 0 && copy.seqs[i] < copy.seqs[i - 1]) {
      return Status::Error(bad + "ingest_seq decreases at record " + std::to_string(i) + " (" +
                           std::to_string(copy.seqs[i - 1]) + " then " +
                           std::to_string(copy.seqs[i]) + "); range reads are in ingest order");
    }
  }
  return copy;
}

/// OK when `got` holds exactly `want`'s records starting at `want_first`, with the same times,
/// sequences, and (when `compare_wm`) high watermark.
Status SameRecords(const BatchCopy& want, size_t want_first, const BatchCopy& got,
                   const std::string& what, bool compare_wm) {
  const size_t n = want.count - want_first;
  if (got.count != n) {
    return Status::Error(what + " returned " + std::to_string(got.count) + " records, expected " +
                         std::to_string(n));
  }
  for (size_t i = 0; i < n; ++i) {
    const size_t w = want_first + i;
    if (got.records[i] != want.records[w]) {
      return Status::Error(what + ": record " + std::to_string(i) + " differs: got " +
                           Excerpt(got.records[i]) + " expected " + Excerpt(want.records[w]));
    }
    if (got.times[i] != want.times[w] || got.seqs[i] != want.seqs[w]) {
      return Status::Error(what + ": record " + std::to_string(i) +
                           " has a different event time or ingest sequence");
    }
  }
  if (compare_wm && got.high_watermark != want.high_watermark) {
    return Status::Error(what + ": high watermark " + Hex(got.high_watermark) + " differs from " +
                         Hex(want.high_watermark));
  }
  return Status::OK();
}

/// What tells the source side from the destination side of a plugin for PluginSession.
struct SourceSide {
  using Vtable = weir_source_vtable;
  static constexpr uint32_t kKind = WEIR_KIND_SOURCE;
  static constexpr const char* kName = "source";
  static constexpr const char* kConfigOption = "Options::source_config / --source-config";
  static const Vtable* Of(const weir_plugin& d) { return d.source; }
  static const std::string& Config(const Options& o) { return o.source_config; }
};
struct DestinationSide {
  using Vtable = weir_destination_vtable;
  static constexpr uint32_t kKind = WEIR_KIND_DESTINATION;
  static constexpr const char* kName = "destination";
  static constexpr const char* kConfigOption =
      "Options::destination_config / --destination-config";
  static const Vtable* Of(const weir_plugin& d) { return d.destination; }
  static const std::string& Config(const Options& o) { return o.destination_config; }
};

/// An open source or destination instance (Side) on a loaded plugin; closed on destruction.
/// Session is the derived class that adds the side's calls.
template <class Side, class Session>
class PluginSession {
 public:
  /// Loads, picks the stream and opens with the side's config. Returns a verdict when the
  /// check cannot go on (plugin without the side, no config: skip; anything else: fail).
  static std::optional<Verdict> Start(const std::string& so_path, const Options& options,
                                      const StepFn& step, std::unique_ptr<Session>* out) {
    const std::string side = Side::kName;
    auto session = std::unique_ptr<Session>(new Session(step));
    auto lib = Load(so_path, step);
    if (!lib.ok()) return Verdict::Fail(lib.status().message());
    session->lib_ = std::move(lib).value();
    const weir_plugin& d = session->lib_->descriptor();
    if ((d.kinds & Side::kKind) == 0 || Side::Of(d) == nullptr) {
      return Verdict::Skip("the plugin is not a " + side);
    }
    const std::string& config = Side::Config(options);
    if (config.empty()) {
      return Verdict::Skip("no " + side + " config given (" + Side::kConfigOption + ")");
    }
    auto stream = PickStream(d, options.stream);
    if (!stream.ok()) return Verdict::Fail(stream.status().message());
    session->stream_ = std::move(stream).value();
    session->vt_ = Side::Of(d);
    step(side + " open");
    weir_error err{};
    weir_instance* instance = nullptr;
    const weir_status st = session->vt_->open(config.data(), config.size(),
                                              session->host_.services(), &instance, &err);
    Status s = CallOk(side + " open with the given config", st, &err, step);
    if (!s.ok()) return Verdict::Fail(s.message());
    if (instance == nullptr) {
      return Verdict::Fail(side + " open returned WEIR_OK but no instance");
    }
    session->instance_ = instance;
    *out = std::move(session);
    return std::nullopt;
  }

  PluginSession(const PluginSession&) = delete;
  PluginSession& operator=(const PluginSession&) = delete;
  ~PluginSession() {
    if (instance_ != nullptr) {
      step_(std::string(Side::kName) + " close");
      vt_->close(instance_);
    }
  }

  FakeHost& host() { return host_; }
  const std::string& stream() const { return stream_; }

  Status Check() {
    const std::string what = std::string(Side::kName) + " check";
    step_(what);
    weir_error err{};
    return CallOk(what, vt_->check(instance_, &err), &err, step_);
  }

 protected:
  explicit PluginSession(const StepFn& step) : step_(step) {}

  StepFn step_;
  FakeHost host_;
  std::unique_ptr<PluginLibrary> lib_;
  const typename Side::Vtable* vt_ = nullptr;
  weir_instance* instance_ = nullptr;
  std::string stream_;
};

class SourceSession : public PluginSession<SourceSide, SourceSession> {
 public:
  const weir_source_vtable* vtable() const { return vt_; }
  weir_instance* instance() const { return instance_; }

  weir_read_request Request(const ReadSpec& spec) const {
    weir_read_request r{};
    r.struct_size = sizeof(r);
    r.mode = WEIR_READ_RANGE;
    r.stream = stream_.c_str();
    r.from_wm = {reinterpret_cast<const uint8_t*>(spec.from_wm.data()), spec.from_wm.size()};
    r.to_wm = {reinterpret_cast<const uint8_t*>(spec.to_wm.data()), spec.to_wm.size()};
    r.max_records = spec.max_records;
    r.max_bytes = spec.max_bytes;
    return r;
  }

  /// Reads, validates the batch, copies and releases it.
  Result<BatchCopy> Read(const ReadSpec& spec) {
    const std::string what = Describe(spec);
    step_(what);
    const weir_read_request request = Request(spec);
    OwnedBatch batch;
    weir_error err{};
    const weir_status st = vt_->read(instance_, &request, &batch.batch, &err);
    WEIR_RETURN_NOT_OK(CallOk(what, st, &err, step_));
    return ValidateAndCopy(batch.batch, spec, what);
  }

 private:
  friend class PluginSession<SourceSide, SourceSession>;
  explicit SourceSession(const StepFn& step) : PluginSession(step) {}
};

#define KIT_START_SOURCE(session)         \
  std::unique_ptr<SourceSession> session; \
  if (auto kit_v_ = SourceSession::Start(so_path, options, step, &session)) return *kit_v_

/// Reads the first batch; a Skip verdict when it has fewer than `need` records.
std::optional<Verdict> NeedRecords(const BatchCopy& b, size_t need, const SourceSession& s) {
  if (b.count >= need) return std::nullopt;
  return Verdict::Skip("needs at least " + std::to_string(need) + " records in stream '" +
                       s.stream() + "' but the source returned " + std::to_string(b.count) +
                       " from the beginning; point source_config at data");
}

// ---------------------------------------------------------------------------------------------
// Destination side

/// Three canonical records of `stream` (DESIGN.md §2), deterministic for a given key.
class SyntheticBatch {
 public:
  SyntheticBatch(const std::string& stream, const std::string& key) {
    constexpr int64_t kBaseTime = 1700000000000;  // 2023-11-14T22:13:20Z
    for (int i = 0; i < 3; ++i) {
      const std::string n = std::to_string(i);
      const int64_t t = kBaseTime + i * 1000;
      std::string r;
      if (stream == "users") {
        r = R"({"distinct_id":"testkit-user-)" + n + R"(","updated_at":)" + std::to_string(t) +
            R"(,"properties":{"$name":"Testkit User )" + n + R"(","n":)" + n + "}}";
      } else if (stream == "identities") {
        r = R"({"distinct_id":"testkit-device-)" + n + R"(","user_id":"testkit-user-)" + n +
            R"(","time":)" + std::to_string(t) + "}";
      } else {
        r = R"({"event":"weir_testkit","time":)" + std::to_string(t) +
            R"(,"distinct_id":"testkit-user-)" + n + R"(","insert_id":")" + key + "-" + n +
            R"(","properties":{"n":)" + n + R"(,"source":"weir-testkit"}})";
      }
      offsets_.push_back(data_.size());
      data_ += r + "\n";
      times_.push_back(t);
      seqs_.push_back(static_cast<uint64_t>(i + 1));
    }
    offsets_.push_back(data_.size());
    wm_ = std::string(7, '\0') + std::string(1, '\3');
    batch_.struct_size = sizeof(weir_batch);
    batch_.format = WEIR_FORMAT_NDJSON;
    batch_.data = reinterpret_cast<const uint8_t*>(data_.data());
    batch_.size = data_.size();
    batch_.count = times_.size();
    batch_.event_time_ms = times_.data();
    batch_.ingest_seq = seqs_.data();
    batch_.offsets = offsets_.data();
    batch_.high_watermark = {reinterpret_cast<const uint8_t*>(wm_.data()), wm_.size()};
  }
  SyntheticBatch(const SyntheticBatch&) = delete;
  SyntheticBatch& operator=(const SyntheticBatch&) = delete;

  const weir_batch* batch() const { return &batch_; }

 private:
  std::string data_;
  std::vector<int64_t> times_;
  std::vector<uint64_t> seqs_;
  std::vector<size_t> offsets_;
  std::string wm_;
  weir_batch batch_{};
};

/// A key no earlier run used: the check's name, the pid and the wall clock.
std::string FreshKey(const char* check) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return std::string("weir-testkit-") + check + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(ms);
}

class DestinationSession : public PluginSession<DestinationSide, DestinationSession> {
 public:
  weir_status RawWrite(const std::string& key, const SyntheticBatch& batch, weir_error* err) {
    weir_write_request r{};
    r.struct_size = sizeof(r);
    r.pipeline = "weir-testkit";
    r.project = "weir-testkit";
    r.stream = stream_.c_str();
    r.batch_seq = 1;
    r.idempotency_key = key.c_str();
    r.batch = batch.batch();
    return vt_->write(instance_, &r, err);
  }

  Status Write(const std::string& key, const SyntheticBatch& batch, const std::string& what) {
    step_(what);
    weir_error err{};
    return CallOk(what, RawWrite(key, batch, &err), &err, step_);
  }

  Status Flush(const std::string& what) {
    step_(what);
    weir_error err{};
    return CallOk(what, vt_->flush(instance_, &err), &err, step_);
  }

 private:
  friend class PluginSession<DestinationSide, DestinationSession>;
  explicit DestinationSession(const StepFn& step) : PluginSession(step) {}
};

#define KIT_START_DESTINATION(session)         \
  std::unique_ptr<DestinationSession> session; \
  if (auto kit_v_ = DestinationSession::Start(so_path, options, step, &session)) return *kit_v_

// ---------------------------------------------------------------------------------------------
// Garbage config, shared by the source and destination variants

using OpenFn = weir_status (*)(const char*, size_t, const weir_host_services*, weir_instance**,
                               weir_error*);
using CloseFn = void (*)(weir_instance*);

Verdict RejectsGarbage(const char* side, OpenFn open, CloseFn close, const StepFn& step) {
  std::string notes;
  for (const char* garbage : kGarbageConfigs) {
    const std::string call = std::string(side) + " open with config '" + garbage + "'";
    step(call);
    FakeHost host;
    weir_instance* instance = nullptr;
    weir_error err{};
    const weir_status st = open(garbage, std::strlen(garbage), host.services(), &instance, &err);
    if (st == WEIR_OK) {
      if (instance != nullptr) close(instance);
      return Verdict::Fail(call +
                           " returned WEIR_OK; an invalid config must be refused with "
                           "WEIR_INVALID_CONFIG naming the problem");
    }
    std::string message;
    KIT_CHECK(InspectError(call, st, &err, &message, step));
    if (instance != nullptr) {
      return Verdict::Fail(call + " failed but set *out_instance (it must stay NULL)");
    }
    if (st != WEIR_INVALID_CONFIG) {
      notes += (notes.empty() ? "" : "; ") + std::string("'") + garbage + "' got " +
               StatusName(st) + " (WEIR_INVALID_CONFIG is expected)";
    }
  }
  return Verdict::Pass(notes);
}

// ---------------------------------------------------------------------------------------------
// The checks

Verdict EntrySymbol(const std::string& so_path, const Options&, const StepFn& step) {
  step("dlopen and dlsym " WEIR_ENTRY_SYMBOL);
  std::string error;
  weir_plugin_entry_fn entry = LoadEntry(so_path, &error);
  if (entry == nullptr) return Verdict::Fail(error);
  weir_host_info info{};
  info.struct_size = sizeof(info);
  info.abi_major = WEIR_ABI_MAJOR;
  info.abi_minor_min = 0;
  info.abi_minor_max = WEIR_ABI_MINOR;
  info.host_version = "weir-testkit";
  weir_plugin d{};
  weir_error err{};
  step("calling the entry with host range 0.." + std::to_string(WEIR_ABI_MINOR));
  KIT_CHECK(CallOk("the entry function (host ABI " + std::to_string(WEIR_ABI_MAJOR) + ".0-" +
                       std::to_string(WEIR_ABI_MINOR) + ")",
                   entry(&info, &d, &err), &err, step));
  if (d.struct_size == 0)
    return Verdict::Fail(
        "the entry returned WEIR_OK but left the "
        "descriptor's struct_size 0");
  return Verdict::Pass("negotiated ABI " + std::to_string(WEIR_ABI_MAJOR) + "." +
                       std::to_string(d.abi_minor) + " with '" +
                       (d.name != nullptr ? d.name : "?") + "' " +
                       (d.version != nullptr ? d.version : "?"));
}

Verdict NegotiationRefusesUnknownMinor(const std::string& so_path, const Options&,
                                       const StepFn& step) {
  step("dlopen and dlsym " WEIR_ENTRY_SYMBOL);
  std::string error;
  weir_plugin_entry_fn entry = LoadEntry(so_path, &error);
  if (entry == nullptr) return Verdict::Fail(error);
  weir_host_info info{};
  info.struct_size = sizeof(info);
  info.abi_major = WEIR_ABI_MAJOR;
  info.abi_minor_min = kUnservableMinor;
  info.abi_minor_max = kUnservableMinor;
  info.host_version = "weir-testkit (future)";
  weir_plugin d{};
  weir_error err{};
  const std::string range = std::to_string(WEIR_ABI_MAJOR) + "." +
                            std::to_string(kUnservableMinor) + "-" +
                            std::to_string(kUnservableMinor);
  const std::string call = "the entry function (host ABI " + range + ")";
  step(call);
  const weir_status st = entry(&info, &d, &err);
  if (st == WEIR_OK) {
    return Verdict::Fail(call + " returned WEIR_OK (answered minor " + std::to_string(d.abi_minor) +
                         "); a plugin must answer WEIR_NOT_IMPLEMENTED when it implements no "
                         "minor in the host's range");
  }
  std::string message;
  KIT_CHECK(InspectError(call, st, &err, &message, step));
  if (st != WEIR_NOT_IMPLEMENTED) {
    return Verdict::Fail(call + " returned " + StatusName(st) +
                         ", expected WEIR_NOT_IMPLEMENTED (message: " + message + ")");
  }
  return Verdict::Pass("refused: " + message);
}

Verdict DescriptorValid(const std::string& so_path, const Options&, const StepFn& step) {
  auto lib = Load(so_path, step);
  if (!lib.ok()) return Verdict::Fail(lib.status().message());
  const weir_plugin& d = (*lib)->descriptor();
  step("validating the descriptor");
  KIT_CHECK(ValidateDescriptor(d, 0, WEIR_ABI_MINOR));
  if (d.description == nullptr || d.description[0] == '\0') {
    return Verdict::Fail(
        "descriptor: description is NULL or empty (say in one line what the "
        "plugin does)");
  }
  std::string streams;
  for (size_t i = 0; i < d.stream_count; ++i) streams += (i ? "," : "") + std::string(d.streams[i]);
  std::string kinds = (d.kinds & WEIR_KIND_SOURCE) ? "source" : "";
  if (d.kinds & WEIR_KIND_DESTINATION) kinds += kinds.empty() ? "destination" : "+destination";
  return Verdict::Pass(std::string(d.name) + " " + d.version + ", " + kinds + ", streams " +
                       streams);
}

Verdict ConfigSchemaIsJson(const std::string& so_path, const Options&, const StepFn& step) {
  auto lib = Load(so_path, step);
  if (!lib.ok()) return Verdict::Fail(lib.status().message());
  const weir_plugin& d = (*lib)->descriptor();
  if (d.config_schema == nullptr) return Verdict::Fail("config_schema is NULL");
  step("scanning config_schema");
  std::string why;
  if (!IsJson(d.config_schema, /*require_object=*/true, &why)) {
    return Verdict::Fail("config_schema is not a JSON object: " + why);
  }
  return Verdict::Pass();
}

Verdict SourceRejectsGarbageConfig(const std::string& so_path, const Options&, const StepFn& step) {
  auto lib = Load(so_path, step);
  if (!lib.ok()) return Verdict::Fail(lib.status().message());
  const weir_plugin& d = (*lib)->descriptor();
  if ((d.kinds & WEIR_KIND_SOURCE) == 0 || d.source == nullptr) {
    return Verdict::Skip("the plugin is not a source");
  }
  return RejectsGarbage("source", d.source->open, d.source->close, step);
}

Verdict DestinationRejectsGarbageConfig(const std::string& so_path, const Options&,
                                        const StepFn& step) {
  auto lib = Load(so_path, step);
  if (!lib.ok()) return Verdict::Fail(lib.status().message());
  const weir_plugin& d = (*lib)->descriptor();
  if ((d.kinds & WEIR_KIND_DESTINATION) == 0 || d.destination == nullptr) {
    return Verdict::Skip("the plugin is not a destination");
  }
  return RejectsGarbage("destination", d.destination->open, d.destination->close, step);
}

Verdict ErrorReleaseTwice(const std::string& so_path, const Options&, const StepFn& step) {
  auto lib = Load(so_path, step);
  if (!lib.ok()) return Verdict::Fail(lib.status().message());
  const weir_plugin& d = (*lib)->descriptor();
  OpenFn open = nullptr;
  CloseFn close = nullptr;
  const char* side = nullptr;
  if (d.source != nullptr) {
    open = d.source->open;
    close = d.source->close;
    side = "source";
  } else if (d.destination != nullptr) {
    open = d.destination->open;
    close = d.destination->close;
    side = "destination";
  } else {
    return Verdict::Fail("the plugin has neither a source nor a destination vtable");
  }
  const std::string call = std::string(side) + " open with config 'not json'";
  step(call);
  FakeHost host;
  weir_instance* instance = nullptr;
  weir_error err{};
  const weir_status st = open("not json", 8, host.services(), &instance, &err);
  if (st == WEIR_OK) {
    if (instance != nullptr) close(instance);
    return Verdict::Fail("could not obtain an error to release: " + call + " returned WEIR_OK");
  }
  std::string message;
  KIT_CHECK(InspectError(call, st, &err, &message, step));
  return Verdict::Pass("released twice: " + message);
}

Verdict SourceOpenCheckClose(const std::string& so_path, const Options& options,
                             const StepFn& step) {
  KIT_START_SOURCE(s);
  KIT_CHECK(s->Check());
  return Verdict::Pass();
}

Verdict SourceReadBatchConsistent(const std::string& so_path, const Options& options,
                                  const StepFn& step) {
  KIT_START_SOURCE(s);
  ReadSpec spec;
  auto batch = s->Read(spec);
  KIT_CHECK(batch.status());
  if (auto v = NeedRecords(*batch, 1, *s)) return *v;
  return Verdict::Pass(std::to_string(batch->count) + " records, " +
                       std::to_string(batch->data.size()) + " bytes");
}

Verdict SourceReadLimits(const std::string& so_path, const Options& options, const StepFn& step) {
  KIT_START_SOURCE(s);
  ReadSpec two;
  two.max_records = 2;
  auto first_two = s->Read(two);
  KIT_CHECK(first_two.status());
  if (auto v = NeedRecords(*first_two, 2, *s)) return *v;

  ReadSpec one;
  one.max_records = 1;
  auto first = s->Read(one);
  KIT_CHECK(first.status());
  if (first->count != 1 || first->records[0] != first_two->records[0]) {
    return Verdict::Fail(Describe(one) + " must return exactly the first record; got " +
                         std::to_string(first->count) + " records");
  }
  ReadSpec next;
  next.from_wm = first->high_watermark;
  next.max_records = 1;
  auto second = s->Read(next);
  KIT_CHECK(second.status());
  if (second->count != 1 || second->records[0] != first_two->records[1]) {
    return Verdict::Fail(Describe(next) +
                         " (continuing after the first record) must return "
                         "exactly the second record; got " +
                         std::to_string(second->count) + " records" +
                         (second->count > 0 ? ", first " + Excerpt(second->records[0]) : ""));
  }
  ReadSpec tiny;
  tiny.max_records = 0;
  tiny.max_bytes = 1;
  auto at_least_one = s->Read(tiny);
  KIT_CHECK(at_least_one.status());
  if (at_least_one->count != 1 || at_least_one->records[0] != first_two->records[0]) {
    return Verdict::Fail(Describe(tiny) +
                         " must return exactly the first record (a batch holds "
                         "at least one record even when it alone exceeds "
                         "max_bytes); got " +
                         std::to_string(at_least_one->count) + " records");
  }
  return Verdict::Pass();
}

Verdict SourceReadDeterministic(const std::string& so_path, const Options& options,
                                const StepFn& step) {
  KIT_START_SOURCE(s);
  ReadSpec spec;
  auto a = s->Read(spec);
  KIT_CHECK(a.status());
  if (auto v = NeedRecords(*a, 1, *s)) return *v;
  auto b = s->Read(spec);
  KIT_CHECK(b.status());
  KIT_CHECK(SameRecords(*a, 0, *b, "the same " + Describe(spec) + " a second time", true));
  ReadSpec after;
  after.from_wm = a->high_watermark;
  auto c = s->Read(after);
  KIT_CHECK(c.status());
  auto d = s->Read(after);
  KIT_CHECK(d.status());
  KIT_CHECK(SameRecords(*c, 0, *d, "the same " + Describe(after) + " a second time", c->count > 0));
  return Verdict::Pass();
}

Verdict SourceReplayToWm(const std::string& so_path, const Options& options, const StepFn& step) {
  KIT_START_SOURCE(s);
  ReadSpec first_three;
  first_three.max_records = 3;
  auto original = s->Read(first_three);
  KIT_CHECK(original.status());
  if (auto v = NeedRecords(*original, 1, *s)) return *v;

  // Limits are advisory on replay: max_records = 1 must not shorten (from, to].
  ReadSpec replay;
  replay.to_wm = original->high_watermark;
  replay.max_records = 1;
  auto replayed = s->Read(replay);
  KIT_CHECK(replayed.status());
  KIT_CHECK(SameRecords(*original, 0, *replayed, "replay " + Describe(replay), true));

  if (original->count >= 2) {
    ReadSpec one;
    one.max_records = 1;
    auto first = s->Read(one);
    KIT_CHECK(first.status());
    ReadSpec tail;
    tail.from_wm = first->high_watermark;
    tail.to_wm = original->high_watermark;
    tail.max_records = 1;
    auto rest = s->Read(tail);
    KIT_CHECK(rest.status());
    KIT_CHECK(SameRecords(*original, 1, *rest, "replay " + Describe(tail), true));
  }
  return Verdict::Pass();
}

Verdict BatchReleaseTwice(const std::string& so_path, const Options& options, const StepFn& step) {
  KIT_START_SOURCE(s);
  ReadSpec spec;
  const weir_read_request request = s->Request(spec);
  step(Describe(spec));
  weir_batch batch{};
  weir_error err{};
  KIT_CHECK(
      CallOk(Describe(spec), s->vtable()->read(s->instance(), &request, &batch, &err), &err, step));
  if (batch.release == nullptr) {
    if (batch.count > 0) return Verdict::Fail("the batch holds records but its release is NULL");
    return Verdict::Skip(
        "the source returned an empty batch without a release; point "
        "source_config at data");
  }
  step("releasing the batch (twice)");
  void (*saved_release)(weir_batch*) = batch.release;
  saved_release(&batch);
  if (batch.release != nullptr) {
    return Verdict::Fail("the batch's release did not set release to NULL");
  }
  saved_release(&batch);
  return Verdict::Pass();
}

Verdict SourceCancellation(const std::string& so_path, const Options& options, const StepFn& step) {
  KIT_START_SOURCE(s);
  s->host().SetCancelled(true);
  ReadSpec spec;
  const weir_read_request request = s->Request(spec);
  const std::string call = Describe(spec) + " with is_cancelled() = 1";
  step(call);
  OwnedBatch batch;
  weir_error err{};
  const weir_status st = s->vtable()->read(s->instance(), &request, &batch.batch, &err);
  if (st == WEIR_OK) {
    return Verdict::Fail(call +
                         " returned WEIR_OK; a cancelled read must stop with "
                         "WEIR_CANCELLED");
  }
  std::string message;
  KIT_CHECK(InspectError(call, st, &err, &message, step));
  if (st != WEIR_CANCELLED) {
    return Verdict::Pass("stopped, but with " + StatusName(st) +
                         " (WEIR_CANCELLED is expected): " + message);
  }
  return Verdict::Pass();
}

Verdict DestinationOpenCheckClose(const std::string& so_path, const Options& options,
                                  const StepFn& step) {
  KIT_START_DESTINATION(d);
  KIT_CHECK(d->Check());
  return Verdict::Pass();
}

Verdict DestinationWriteFlush(const std::string& so_path, const Options& options,
                              const StepFn& step) {
  KIT_START_DESTINATION(d);
  const std::string key = FreshKey("write_flush");
  SyntheticBatch batch(d->stream(), key);
  KIT_CHECK(d->Write(key, batch, "write of 3 records under key '" + key + "'"));
  KIT_CHECK(d->Flush("flush after the write"));
  return Verdict::Pass("wrote 3 " + d->stream() + " records under key '" + key + "'");
}

Verdict DestinationReplaySameKey(const std::string& so_path, const Options& options,
                                 const StepFn& step) {
  KIT_START_DESTINATION(d);
  const std::string key = FreshKey("replay");
  SyntheticBatch batch(d->stream(), key);
  KIT_CHECK(d->Write(key, batch, "first write under key '" + key + "'"));
  KIT_CHECK(d->Flush("flush after the first write"));
  KIT_CHECK(d->Write(key, batch,
                     "replayed write of the same batch under key '" + key +
                         "' (must be a no-op or an identical overwrite)"));
  KIT_CHECK(d->Flush("flush after the replayed write"));
  return Verdict::Pass();
}

Verdict DestinationCancellation(const std::string& so_path, const Options& options,
                                const StepFn& step) {
  KIT_START_DESTINATION(d);
  d->host().SetCancelled(true);
  const std::string key = FreshKey("cancel");
  SyntheticBatch batch(d->stream(), key);
  const std::string call = "write with is_cancelled() = 1";
  step(call);
  weir_error err{};
  const weir_status st = d->RawWrite(key, batch, &err);
  if (st == WEIR_OK) {
    return Verdict::Fail(call +
                         " returned WEIR_OK; a cancelled write must stop with "
                         "WEIR_CANCELLED");
  }
  std::string message;
  KIT_CHECK(InspectError(call, st, &err, &message, step));
  if (st != WEIR_CANCELLED) {
    return Verdict::Pass("stopped, but with " + StatusName(st) +
                         " (WEIR_CANCELLED is expected): " + message);
  }
  return Verdict::Pass();
}

}  // namespace

const std::vector<CheckDef>& AllChecks() {
  static const std::vector<CheckDef> kChecks = {
      {"entry_symbol", &EntrySymbol},
      {"negotiation_refuses_unknown_minor", &NegotiationRefusesUnknownMinor},
      {"descriptor_valid", &DescriptorValid},
      {"config_schema_is_json", &ConfigSchemaIsJson},
      {"source_rejects_garbage_config", &SourceRejectsGarbageConfig},
      {"destination_rejects_garbage_config", &DestinationRejectsGarbageConfig},
      {"error_release_twice", &ErrorReleaseTwice},
      {"source_open_check_close", &SourceOpenCheckClose},
      {"source_read_batch_consistent", &SourceReadBatchConsistent},
      {"source_read_limits", &SourceReadLimits},
      {"source_read_deterministic", &SourceReadDeterministic},
      {"source_replay_to_wm", &SourceReplayToWm},
      {"batch_release_twice", &BatchReleaseTwice},
      {"source_cancellation", &SourceCancellation},
      {"destination_open_check_close", &DestinationOpenCheckClose},
      {"destination_write_flush", &DestinationWriteFlush},
      {"destination_replay_same_key", &DestinationReplaySameKey},
      {"destination_cancellation", &DestinationCancellation},
  };
  return kChecks;
}

}  // namespace weir::testkit::internal
