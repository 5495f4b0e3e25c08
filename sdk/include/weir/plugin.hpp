// sdk/include/weir/plugin.hpp — header-only C++17 wrapper over the weir C ABI (plugin.h).
//
// A plugin is one or two classes plus one WEIR_PLUGIN(...) line. The wrapper provides the
// `weir_plugin_entry_v1` symbol, negotiates the ABI minor, and turns every C call into a call
// on your class through noexcept trampolines that convert exceptions into weir_error values.
// Calls made while the host has already cancelled return WEIR_CANCELLED without reaching you.
//
// Usage:
//
//   class MyDestination : public weir::Destination {
//    public:
//     static weir::Result<std::unique_ptr<MyDestination>> Open(std::string_view config,
//                                                              weir::Host host);
//     weir::Status Check() override;
//     weir::Status Write(const weir::WriteRequest& request) override;
//     weir::Status Flush() override;
//   };
//
//   WEIR_PLUGIN((weir::PluginInfo{"my-destination", "1.0.0", "Writes NDJSON files",
//                                 {"events", "users"}, kMySchemaJson}),
//               weir::NoSource, MyDestination)
//
// The same Status / Result types are used by the weir host itself.
#ifndef WEIR_PLUGIN_HPP
#define WEIR_PLUGIN_HPP

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "weir/plugin.h"

namespace weir {

// ---------------------------------------------------------------------------------------------
// Status and Result

/// The outcome of an operation that can fail for expected reasons (I/O, config, bad data).
/// Cheap to copy when OK. Maps one-to-one onto weir_status + weir_error.
class [[nodiscard]] Status {
 public:
  Status() = default;

  static Status OK() { return Status(); }
  /// A failure. `retryable` says whether repeating the same call may succeed.
  static Status Error(std::string message, bool retryable = false) {
    return Status(WEIR_ERROR, std::move(message), retryable);
  }
  static Status Retryable(std::string message) { return Error(std::move(message), true); }
  static Status InvalidConfig(std::string message) {
    return Status(WEIR_INVALID_CONFIG, std::move(message), false);
  }
  static Status NotImplemented(std::string message) {
    return Status(WEIR_NOT_IMPLEMENTED, std::move(message), false);
  }
  static Status Cancelled(std::string message = "cancelled") {
    return Status(WEIR_CANCELLED, std::move(message), false);
  }

  bool ok() const { return code_ == WEIR_OK; }
  weir_status code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return retryable_; }
  const std::string& sqlstate() const { return sqlstate_; }
  int32_t vendor_code() const { return vendor_code_; }

  /// Attaches a SQLSTATE (5 characters) and/or vendor code; returns *this for chaining.
  Status& WithSqlState(std::string sqlstate) & {
    sqlstate_ = std::move(sqlstate);
    return *this;
  }
  Status&& WithSqlState(std::string sqlstate) && {
    sqlstate_ = std::move(sqlstate);
    return std::move(*this);
  }
  Status& WithVendorCode(int32_t code) & {
    vendor_code_ = code;
    return *this;
  }
  Status&& WithVendorCode(int32_t code) && {
    vendor_code_ = code;
    return std::move(*this);
  }
  /// Prefixes the message with context ("reading config: " + message).
  Status WithContext(std::string_view context) const {
    Status s = *this;
    if (!s.ok()) s.message_ = std::string(context) + ": " + s.message_;
    return s;
  }

  /// A one-line rendering: "message [retryable] (SQLSTATE 08001, code 7)".
  std::string ToString() const {
    if (ok()) return "OK";
    std::string out = message_;
    if (retryable_) out += " [retryable]";
    if (!sqlstate_.empty() || vendor_code_ != 0) {
      out += " (";
      if (!sqlstate_.empty()) out += "SQLSTATE " + sqlstate_;
      if (vendor_code_ != 0) {
        if (!sqlstate_.empty()) out += ", ";
        out += "code " + std::to_string(vendor_code_);
      }
      out += ")";
    }
    return out;
  }

  /// Fills a caller-zeroed weir_error; the message is heap-allocated and freed by its release.
  void FillError(weir_error* out) const noexcept {
    if (out == nullptr || ok()) return;
    out->struct_size = sizeof(weir_error);
    out->code = code_;
    out->retryable = retryable_ ? 1 : 0;
    std::memset(out->sqlstate, 0, sizeof(out->sqlstate));
    std::memcpy(out->sqlstate, sqlstate_.data(), std::min<size_t>(sqlstate_.size(), 5));
    out->vendor_code = vendor_code_;
    out->message = static_cast<char*>(std::malloc(message_.size() + 1));
    if (out->message != nullptr) {
      std::memcpy(out->message, message_.c_str(), message_.size() + 1);
    }
    out->private_data = nullptr;
    out->release = &ReleaseError;
  }

  /// Takes over (and releases) a weir_error filled by the other side of the ABI.
  static Status FromError(weir_status code, weir_error* error) {
    Status s(code == WEIR_OK ? WEIR_ERROR : code, "", false);
    if (error != nullptr) {
      if (error->message != nullptr) s.message_ = error->message;
      s.retryable_ = error->retryable != 0;
      s.sqlstate_ = std::string(error->sqlstate, strnlen(error->sqlstate, 5));
      s.vendor_code_ = error->vendor_code;
      weir_error_release(error);
    }
    if (s.message_.empty()) {
      s.message_ = "plugin returned status " + std::to_string(code) + " without a message";
    }
    return s;
  }

 private:
  Status(weir_status code, std::string message, bool retryable)
      : code_(code), message_(std::move(message)), retryable_(retryable) {}

  static void ReleaseError(weir_error* error) noexcept {
    if (error == nullptr) return;
    std::free(error->message);  // free(NULL) is fine: the second call is a no-op
    error->message = nullptr;
    error->release = nullptr;
  }

  weir_status code_ = WEIR_OK;
  std::string message_;
  bool retryable_ = false;
  std::string sqlstate_;
  int32_t vendor_code_ = 0;
};

/// A value or a failed Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                                // NOLINT
  Result(Status status) : v_(std::move(status)) {}                         // NOLINT
  template <typename U, typename = std::enable_if_t<std::is_convertible_v<U&&, T> &&
                                                    !std::is_same_v<std::decay_t<U>, T> &&
                                                    !std::is_same_v<std::decay_t<U>, Status>>>
  Result(U&& value) : v_(T(std::forward<U>(value))) {}                     // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::OK() : std::get<Status>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

#define WEIR_CONCAT_INNER_(a, b) a##b
#define WEIR_CONCAT_(a, b) WEIR_CONCAT_INNER_(a, b)

/// Returns the Status from the enclosing function if it is not OK.
#define WEIR_RETURN_NOT_OK(expr)              \
  do {                                        \
    ::weir::Status weir_status_ = (expr);     \
    if (!weir_status_.ok()) return weir_status_; \
  } while (0)

// `tmp` names a variable and `lhs` may be a declaration ("auto x"): neither can be
// parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define WEIR_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

/// `WEIR_ASSIGN_OR_RETURN(auto x, MakeX());` — declares/assigns or returns the failure.
#define WEIR_ASSIGN_OR_RETURN(lhs, expr) \
  WEIR_ASSIGN_OR_RETURN_IMPL_(WEIR_CONCAT_(weir_result_, __LINE__), lhs, expr)

// ---------------------------------------------------------------------------------------------
// Host services

/// A thin, copyable view of the host services table given to open(). Valid until close().
class Host {
 public:
  Host() = default;
  explicit Host(const weir_host_services* services) : s_(services) {}

  void Log(int32_t level, std::string_view message) const {
    if (s_ != nullptr) s_->log(s_->host_data, level, message.data(), message.size());
  }
  void Info(std::string_view m) const { Log(WEIR_LOG_INFO, m); }
  void Warn(std::string_view m) const { Log(WEIR_LOG_WARN, m); }
  void Debug(std::string_view m) const { Log(WEIR_LOG_DEBUG, m); }
  void Error(std::string_view m) const { Log(WEIR_LOG_ERROR, m); }
  void Counter(const char* name, double value) const {
    if (s_ != nullptr) s_->metric(s_->host_data, name, WEIR_METRIC_COUNTER, value);
  }
  void Gauge(const char* name, double value) const {
    if (s_ != nullptr) s_->metric(s_->host_data, name, WEIR_METRIC_GAUGE, value);
  }
  bool IsCancelled() const { return s_ != nullptr && s_->is_cancelled(s_->host_data) != 0; }
  /// The secret's value, or nullopt when the host has none by that name.
  std::optional<std::string_view> Secret(const char* name) const {
    if (s_ == nullptr) return std::nullopt;
    const char* v = nullptr;
    size_t n = 0;
    if (s_->get_secret(s_->host_data, name, &v, &n) != WEIR_OK) return std::nullopt;
    return std::string_view(v, n);
  }
  const weir_host_services* raw() const { return s_; }

 private:
  const weir_host_services* s_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Batches

/// Read-only view of a weir_batch (what a destination receives).
class BatchView {
 public:
  explicit BatchView(const weir_batch* b) : b_(b) {}
  size_t count() const { return b_->count; }
  std::string_view data() const {
    return {reinterpret_cast<const char*>(b_->data), b_->size};
  }
  int64_t event_time_ms(size_t i) const { return b_->event_time_ms[i]; }
  uint64_t ingest_seq(size_t i) const { return b_->ingest_seq[i]; }
  /// The i-th record without its trailing newline.
  std::string_view record(size_t i) const {
    const char* base = reinterpret_cast<const char*>(b_->data);
    size_t begin = b_->offsets[i], end = b_->offsets[i + 1];
    if (end > begin && base[end - 1] == '\n') --end;
    return {base + begin, end - begin};
  }
  bool has_offsets() const { return b_->offsets != nullptr; }
  std::string_view high_watermark() const {
    return {reinterpret_cast<const char*>(b_->high_watermark.data), b_->high_watermark.size};
  }
  const weir_batch* raw() const { return b_; }

 private:
  const weir_batch* b_;
};

/// Builds a batch inside a source; Release() hands it to the host as a weir_batch.
class BatchBuilder {
 public:
  /// Appends one record. `json` is one canonical record without a newline.
  void Add(std::string_view json, int64_t event_time_ms, uint64_t ingest_seq) {
    offsets_.push_back(data_.size());
    data_.append(json);
    data_.push_back('\n');
    times_.push_back(event_time_ms);
    seqs_.push_back(ingest_seq);
  }
  /// Appends `count` records already laid out as NDJSON in `ndjson`: each record's JSON
  /// followed by '\n', back to back, nothing else; `starts[i]` is where record i begins. An
  /// empty builder takes the buffer over without copying it: the fast path for a source whose
  /// storage already holds NDJSON (sdk-source's store reads).
  ///
  /// The layout is checked in O(count), without reading the records' bytes: `count` 0 needs an
  /// empty `ndjson`; otherwise the arrays must not be null, starts[0] must be 0, the starts must
  /// increase strictly and stay inside `ndjson`, and the byte before each next start and the
  /// last byte of `ndjson` must be '\n' (so every record ends in its own newline). A wrong
  /// `starts` would otherwise cut records in the wrong places. On a violation nothing is
  /// appended (`ndjson` is left as it was) and the builder keeps the first such error, a
  /// WEIR_ERROR naming the index, in status(). The function stays void, so existing callers
  /// compile unchanged; the SDK's read trampoline checks status() after Source::Read and fails
  /// the read with it instead of handing the host a batch (a source that builds a batch
  /// outside Read() checks status() itself).
  void AppendNdjson(std::string&& ndjson, const size_t* starts, const int64_t* event_time_ms,
                    const uint64_t* ingest_seq, size_t count) {
    Status layout = CheckNdjsonLayout(ndjson, starts, event_time_ms, ingest_seq, count);
    if (!layout.ok()) {
      if (status_.ok()) status_ = std::move(layout);
      return;
    }
    const size_t base = data_.size();
    if (base == 0) {
      data_ = std::move(ndjson);
    } else {
      data_.append(ndjson);
    }
    offsets_.reserve(offsets_.size() + count);
    times_.reserve(times_.size() + count);
    seqs_.reserve(seqs_.size() + count);
    for (size_t i = 0; i < count; ++i) {
      offsets_.push_back(base + starts[i]);
      times_.push_back(event_time_ms[i]);
      seqs_.push_back(ingest_seq[i]);
    }
  }
  /// OK, or the first error of an AppendNdjson() whose input was refused (see there).
  const Status& status() const { return status_; }
  size_t count() const { return times_.size(); }
  size_t bytes() const { return data_.size(); }
  void set_high_watermark(std::string wm) { high_watermark_ = std::move(wm); }

  /// Moves the contents into a caller-zeroed weir_batch owned by the host from now on.
  void Release(weir_batch* out) {
    auto* owned = new Owned{std::move(data_), std::move(times_), std::move(seqs_),
                            std::move(offsets_), std::move(high_watermark_)};
    owned->offsets.push_back(owned->data.size());
    out->struct_size = sizeof(weir_batch);
    out->format = WEIR_FORMAT_NDJSON;
    out->data = reinterpret_cast<const uint8_t*>(owned->data.data());
    out->size = owned->data.size();
    out->count = owned->times.size();
    out->event_time_ms = owned->times.data();
    out->ingest_seq = owned->seqs.data();
    out->offsets = owned->offsets.data();
    out->high_watermark.data = reinterpret_cast<const uint8_t*>(owned->wm.data());
    out->high_watermark.size = owned->wm.size();
    out->private_data = owned;
    out->release = &ReleaseBatch;
  }

 private:
  struct Owned {
    std::string data;
    std::vector<int64_t> times;
    std::vector<uint64_t> seqs;
    std::vector<size_t> offsets;
    std::string wm;
  };
  /// AppendNdjson()'s input check; see there.
  static Status CheckNdjsonLayout(std::string_view ndjson, const size_t* starts,
                                  const int64_t* event_time_ms, const uint64_t* ingest_seq,
                                  size_t count) {
    const std::string where = "BatchBuilder::AppendNdjson: ";
    if (count == 0) {
      if (ndjson.empty()) return Status::OK();
      return Status::Error(where + "no records but " + std::to_string(ndjson.size()) +
                           " bytes of data");
    }
    if (starts == nullptr || event_time_ms == nullptr || ingest_seq == nullptr) {
      return Status::Error(where + "NULL starts, event_time_ms or ingest_seq for " +
                           std::to_string(count) + " records");
    }
    if (starts[0] != 0) {
      return Status::Error(where + "starts[0] is " + std::to_string(starts[0]) + ", not 0");
    }
    for (size_t i = 1; i < count; ++i) {
      if (starts[i] <= starts[i - 1] || starts[i] >= ndjson.size()) {
        return Status::Error(where + "starts[" + std::to_string(i) + "] is " +
                             std::to_string(starts[i]) + " after starts[" +
                             std::to_string(i - 1) + "] " + std::to_string(starts[i - 1]) +
                             " (starts must increase and stay below the " +
                             std::to_string(ndjson.size()) + " bytes of data)");
      }
      if (ndjson[starts[i] - 1] != '\n') {
        return Status::Error(where + "record " + std::to_string(i - 1) +
                             " does not end in '\\n' (byte " + std::to_string(starts[i] - 1) +
                             ")");
      }
    }
    if (ndjson.empty() || ndjson.back() != '\n') {
      return Status::Error(where + "record " + std::to_string(count - 1) +
                           " (the last) does not end in '\\n'");
    }
    return Status::OK();
  }

  static void ReleaseBatch(weir_batch* b) noexcept {
    delete static_cast<Owned*>(b->private_data);
    b->private_data = nullptr;
    b->data = nullptr;
    b->event_time_ms = nullptr;
    b->ingest_seq = nullptr;
    b->offsets = nullptr;
    b->release = nullptr;
  }

  std::string data_;
  std::vector<int64_t> times_;
  std::vector<uint64_t> seqs_;
  std::vector<size_t> offsets_;
  std::string high_watermark_;
  Status status_;  // the first refused AppendNdjson(), if any
};

// ---------------------------------------------------------------------------------------------
// Requests and the classes a plugin implements

inline std::string_view ToView(weir_bytes b) {
  return {reinterpret_cast<const char*>(b.data), b.size};
}

/// The host's read request, with views instead of raw bytes. Valid during Read().
struct ReadRequest {
  int32_t mode = WEIR_READ_RANGE;
  std::string_view stream;
  std::string_view from_wm;
  std::string_view to_wm;  ///< non-empty: replay exactly (from_wm, to_wm]
  uint64_t max_records = 0;
  uint64_t max_bytes = 0;
  int64_t window_start_ms = 0;
  int64_t window_end_ms = 0;
  std::string_view bound_wm;
};

/// The host's write request. Valid during Write().
struct WriteRequest {
  std::string_view pipeline;
  std::string_view project;
  std::string_view stream;
  uint64_t batch_seq = 0;
  std::string_view idempotency_key;
  BatchView batch{nullptr};
};

/// Base of a source plugin. A subclass also provides
///   static weir::Result<std::unique_ptr<Subclass>> Open(std::string_view config, weir::Host);
class Source {
 public:
  virtual ~Source() = default;
  virtual Status Check() = 0;
  /// Fills `out` per DESIGN.md §3 and sets its high watermark. Leave `out` empty when there is
  /// nothing to read.
  virtual Status Read(const ReadRequest& request, BatchBuilder& out) = 0;
};

/// Base of a destination plugin. A subclass also provides
///   static weir::Result<std::unique_ptr<Subclass>> Open(std::string_view config, weir::Host);
class Destination {
 public:
  virtual ~Destination() = default;
  virtual Status Check() = 0;
  virtual Status Write(const WriteRequest& request) = 0;
  virtual Status Flush() = 0;
};

/// Base of a service (ABI 1.1): a long-running task such as an HTTP collector. A subclass also
/// provides  static weir::Result<std::unique_ptr<Subclass>> Open(std::string_view, weir::Host);
class Service {
 public:
  virtual ~Service() = default;
  /// Runs until host.IsCancelled() (poll it at least every 200 ms), then stops cleanly and
  /// returns OK; returns early only on failure.
  virtual Status Run() = 0;
};

/// Placeholders for a plugin that is only a destination / only a source / has no service.
struct NoSource {};
struct NoDestination {};
struct NoService {};

/// What WEIR_PLUGIN needs to describe the plugin. Strings must have static storage duration.
struct PluginInfo {
  const char* name;
  const char* version;
  const char* description;
  std::vector<const char*> streams;
  const char* config_schema;
};

namespace internal {

/// Runs `fn` and converts any escaping exception into a Status.
template <typename Fn>
Status Guard(const char* what, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status::Error(std::string(what) + ": out of memory", true);
  } catch (const std::exception& e) {
    return Status::Error(std::string(what) + ": unexpected exception: " + e.what());
  } catch (...) {
    return Status::Error(std::string(what) + ": unexpected non-standard exception");
  }
}

inline weir_status Finish(const Status& s, weir_error* out_error) noexcept {
  if (!s.ok()) s.FillError(out_error);
  return s.code();
}

template <typename T>
struct Instance {
  std::unique_ptr<T> impl;
  Host host;
};

template <typename T>
weir_status OpenImpl(const char* config, size_t len, const weir_host_services* services,
                     weir_instance** out, weir_error* err) noexcept {
  if (out == nullptr) return WEIR_ERROR;
  *out = nullptr;
  Status s = Guard("open", [&]() -> Status {
    Host host(services);
    auto r = T::Open(std::string_view(config == nullptr ? "" : config, config == nullptr ? 0 : len),
                     host);
    if (!r.ok()) return r.status();
    auto* inst = new Instance<T>{std::move(r).value(), host};
    *out = reinterpret_cast<weir_instance*>(inst);
    return Status::OK();
  });
  return Finish(s, err);
}

template <typename T>
Instance<T>* Cast(weir_instance* i) {
  return reinterpret_cast<Instance<T>*>(i);
}

template <typename T>
void CloseImpl(weir_instance* i) noexcept {
  try {
    delete Cast<T>(i);
  } catch (...) {  // a throwing destructor must not cross the ABI
  }
}

template <typename T>
weir_status CheckImpl(weir_instance* i, weir_error* err) noexcept {
  if (i == nullptr) return Finish(Status::Error("check: NULL instance"), err);
  auto* inst = Cast<T>(i);
  return Finish(Guard("check", [&] { return inst->impl->Check(); }), err);
}

template <typename T>
weir_status ReadImpl(weir_instance* i, const weir_read_request* req, weir_batch* out,
                     weir_error* err) noexcept {
  if (i == nullptr || req == nullptr || out == nullptr) {
    return Finish(Status::Error("read: NULL argument"), err);
  }
  auto* inst = Cast<T>(i);
  if (inst->host.IsCancelled()) return Finish(Status::Cancelled("read cancelled by host"), err);
  Status s = Guard("read", [&]() -> Status {
    ReadRequest r;
    r.mode = req->mode;
    r.stream = req->stream == nullptr ? std::string_view() : std::string_view(req->stream);
    r.from_wm = ToView(req->from_wm);
    r.to_wm = ToView(req->to_wm);
    r.max_records = req->max_records;
    r.max_bytes = req->max_bytes;
    r.window_start_ms = req->window_start_ms;
    r.window_end_ms = req->window_end_ms;
    r.bound_wm = ToView(req->bound_wm);
    BatchBuilder builder;
    WEIR_RETURN_NOT_OK(inst->impl->Read(r, builder));
    // A refused AppendNdjson() fails the read rather than delivering a partial batch.
    if (!builder.status().ok()) return builder.status().WithContext("read");
    builder.Release(out);
    return Status::OK();
  });
  return Finish(s, err);
}

template <typename T>
weir_status WriteImpl(weir_instance* i, const weir_write_request* req, weir_error* err) noexcept {
  if (i == nullptr || req == nullptr || req->batch == nullptr) {
    return Finish(Status::Error("write: NULL argument"), err);
  }
  auto* inst = Cast<T>(i);
  if (inst->host.IsCancelled()) return Finish(Status::Cancelled("write cancelled by host"), err);
  Status s = Guard("write", [&]() -> Status {
    auto sv = [](const char* p) { return p == nullptr ? std::string_view() : std::string_view(p); };
    WriteRequest w;
    w.pipeline = sv(req->pipeline);
    w.project = sv(req->project);
    w.stream = sv(req->stream);
    w.batch_seq = req->batch_seq;
    w.idempotency_key = sv(req->idempotency_key);
    w.batch = BatchView(req->batch);
    return inst->impl->Write(w);
  });
  return Finish(s, err);
}

template <typename T>
weir_status FlushImpl(weir_instance* i, weir_error* err) noexcept {
  if (i == nullptr) return Finish(Status::Error("flush: NULL instance"), err);
  auto* inst = Cast<T>(i);
  return Finish(Guard("flush", [&] { return inst->impl->Flush(); }), err);
}

template <typename T>
const weir_source_vtable* SourceVtable() {
  if constexpr (std::is_same_v<T, NoSource>) {
    return nullptr;
  } else {
    static const weir_source_vtable vt = {sizeof(weir_source_vtable), &OpenImpl<T>,
                                          &CheckImpl<T>, &ReadImpl<T>, &CloseImpl<T>};
    return &vt;
  }
}

template <typename T>
const weir_destination_vtable* DestinationVtable() {
  if constexpr (std::is_same_v<T, NoDestination>) {
    return nullptr;
  } else {
    static const weir_destination_vtable vt = {sizeof(weir_destination_vtable),
                                               &OpenImpl<T>,  &CheckImpl<T>, &WriteImpl<T>,
                                               &FlushImpl<T>, &CloseImpl<T>};
    return &vt;
  }
}

template <typename T>
weir_status RunImpl(weir_instance* i, weir_error* err) noexcept {
  if (i == nullptr) return Finish(Status::Error("run: NULL instance"), err);
  auto* inst = Cast<T>(i);
  return Finish(Guard("run", [&] { return inst->impl->Run(); }), err);
}

template <typename T>
const weir_service_vtable* ServiceVtable() {
  if constexpr (std::is_same_v<T, NoService>) {
    return nullptr;
  } else {
    static const weir_service_vtable vt = {sizeof(weir_service_vtable), &OpenImpl<T>,
                                           &RunImpl<T>, &CloseImpl<T>};
    return &vt;
  }
}

template <typename Src, typename Dst, typename Svc = NoService>
weir_status Entry(const PluginInfo& info, const weir_host_info* host, weir_plugin* out,
                  weir_error* err) noexcept {
  if (host == nullptr || out == nullptr) return WEIR_ERROR;
  if (host->abi_major != WEIR_ABI_MAJOR || host->abi_minor_min > WEIR_ABI_MINOR) {
    return Finish(Status::NotImplemented(
                      std::string("plugin '") + info.name + "' implements ABI " +
                      std::to_string(WEIR_ABI_MAJOR) + "." + std::to_string(WEIR_ABI_MINOR) +
                      ", host asks for " + std::to_string(host->abi_major) + "." +
                      std::to_string(host->abi_minor_min) + "-" +
                      std::to_string(host->abi_minor_max)),
                  err);
  }
  out->struct_size = sizeof(weir_plugin);
  // Answer the highest minor both sides know.
  out->abi_minor = host->abi_minor_max < WEIR_ABI_MINOR ? host->abi_minor_max : WEIR_ABI_MINOR;
  out->name = info.name;
  out->version = info.version;
  out->description = info.description;
  out->kinds = (std::is_same_v<Src, NoSource> ? 0u : WEIR_KIND_SOURCE) |
               (std::is_same_v<Dst, NoDestination> ? 0u : WEIR_KIND_DESTINATION);
  out->streams = info.streams.data();
  out->stream_count = info.streams.size();
  out->config_schema = info.config_schema;
  out->source = SourceVtable<Src>();
  out->destination = DestinationVtable<Dst>();
  out->release = nullptr;  // everything above has static storage duration
  out->private_data = nullptr;
  // A 1.0 host (max minor 0) neither reads nor expects the service member: offer it only when
  // the host understands 1.1. A service-only plugin has nothing to offer a 1.0 host.
  out->service = out->abi_minor >= 1 ? ServiceVtable<Svc>() : nullptr;
  if (out->service != nullptr) out->kinds |= WEIR_KIND_SERVICE;
  if (out->kinds == 0) {
    return Finish(Status::NotImplemented(std::string("plugin '") + info.name +
                                         "' only offers a service, which needs ABI 1.1"),
                  err);
  }
  return WEIR_OK;
}

}  // namespace internal
}  // namespace weir

/// Defines the plugin's entry symbol. INFO is an expression of type weir::PluginInfo (wrap it
/// in parentheses if it contains commas); SOURCE / DESTINATION are your classes or
/// weir::NoSource / weir::NoDestination. Use once per plugin.
#define WEIR_PLUGIN(INFO, SOURCE, DESTINATION) \
  WEIR_PLUGIN_WITH_SERVICE(INFO, SOURCE, DESTINATION, ::weir::NoService)

/// As WEIR_PLUGIN, plus SERVICE: a weir::Service subclass offered to hosts that speak ABI 1.1.
#define WEIR_PLUGIN_WITH_SERVICE(INFO, SOURCE, DESTINATION, SERVICE)                           \
  extern "C" WEIR_EXPORT weir_status weir_plugin_entry_v1(                                     \
      const weir_host_info* host, weir_plugin* out_plugin, weir_error* out_error) {            \
    try {                                                                                      \
      static const ::weir::PluginInfo weir_info_ = INFO;                                       \
      return ::weir::internal::Entry<SOURCE, DESTINATION, SERVICE>(weir_info_, host,          \
                                                                   out_plugin, out_error);     \
    } catch (...) {                                                                            \
      return ::weir::internal::Finish(::weir::Status::Error("plugin descriptor threw"),        \
                                      out_error);                                              \
    }                                                                                          \
  }

#endif  // WEIR_PLUGIN_HPP
