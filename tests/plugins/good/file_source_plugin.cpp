// tests/plugins/good/file_source_plugin.cpp — the `file-source` plugin: canonical records from an
// append-only NDJSON file.
//
// Built as build/plugins/libweir-file-source.so. Used by the run-loop tests (including the one
// that kill -9s `weir run` and checks exactly-once delivery), the conformance-kit tests and the
// README quick start. Config:
//
//   {"path": "/data/events.ndjson", "delay_ms": 0}
//
// The file holds one canonical record (DESIGN.md §2) per line. The watermark is the 1-based
// number of the last line returned, as 8 bytes big-endian (so byte order is numeric order).
// Records are passed through byte-exact (the line without its '\n'); event time is the record's
// integer "time" field (for the users stream "updated_at" is used when "time" is absent); the
// ingest sequence is the line number. Blank lines are skipped but keep their number. Only
// complete lines count, so a writer may append while weir reads. `delay_ms` sleeps at the start
// of each read, polling the host's cancellation flag, to let tests interrupt a run mid-call.
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "file_util.hpp"
#include "ndjson_file.hpp"
#include "weir/config_json.hpp"
#include "weir/plugin.hpp"

namespace weir::testplugins {
namespace {

constexpr const char* kSourceSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "file-source",
  "description": "Reads canonical records from an append-only NDJSON file, one record per line.",
  "type": "object",
  "additionalProperties": false,
  "required": ["path"],
  "properties": {
    "path": {
      "type": "string",
      "minLength": 1,
      "description": "NDJSON file of canonical records, one JSON object per line; append-only."
    },
    "delay_ms": {
      "type": "integer",
      "minimum": 0,
      "maximum": 3600000,
      "default": 0,
      "description": "Sleep this long at the start of every read (polling cancellation); for tests."
    }
  }
})json";

constexpr int64_t kMaxDelayMs = 3600000;
/// How many lines to scan between two polls of the host's cancellation flag.
constexpr uint64_t kCancelPollLines = 1024;
/// Upper bound on bytes read from the file in one pread while assembling a batch.
constexpr uint64_t kReadChunkBytes = 1 << 20;

std::string EncodeWatermark(uint64_t line) {
  std::string wm(8, '\0');
  for (int i = 7; i >= 0; --i) {
    wm[static_cast<size_t>(i)] = static_cast<char>(line & 0xff);
    line >>= 8;
  }
  return wm;
}

/// Decodes an 8-byte big-endian line number; empty means 0 ("before the first line").
Result<uint64_t> DecodeWatermark(std::string_view wm, const char* what) {
  if (wm.empty()) return uint64_t{0};
  if (wm.size() != 8) {
    return Status::Error(std::string("file-source: ") + what + " must be empty or 8 bytes " +
                         "(a big-endian line number), got " + std::to_string(wm.size()) + " bytes");
  }
  uint64_t line = 0;
  for (char c : wm) line = (line << 8) | static_cast<uint8_t>(c);
  return line;
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

class FileSource final : public Source {
 public:
  static Result<std::unique_ptr<FileSource>> Open(std::string_view config, Host host) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    WEIR_RETURN_NOT_OK(ParseConfigObject(parser, config, {"path", "delay_ms"}, &obj));
    WEIR_ASSIGN_OR_RETURN(std::string path, RequiredString(obj, "config.", "path"));
    WEIR_ASSIGN_OR_RETURN(int64_t delay_ms,
                          OptionalInt(obj, "config.", "delay_ms", 0, 0, kMaxDelayMs));
    auto source = std::unique_ptr<FileSource>(new FileSource(std::move(path), delay_ms, host));
    UniqueFd fd;
    WEIR_RETURN_NOT_OK(source->file_.Refresh(&fd));
    return source;
  }

  Status Check() override {
    UniqueFd fd;
    return file_.Refresh(&fd).WithContext("check");
  }

  Status Read(const ReadRequest& request, BatchBuilder& out) override {
    if (request.stream != "events" && request.stream != "users" && request.stream != "identities") {
      return Status::NotImplemented("file-source: stream '" + std::string(request.stream) +
                                    "' is not supported (events, users, identities)");
    }
    if (request.mode != WEIR_READ_RANGE && request.mode != WEIR_READ_WINDOW) {
      return Status::NotImplemented("file-source: read mode " + std::to_string(request.mode) +
                                    " is not supported");
    }
    if (delay_ms_ > 0) WEIR_RETURN_NOT_OK(SleepPollingCancel(host_, delay_ms_, "file-source read"));

    WEIR_ASSIGN_OR_RETURN(const uint64_t from, DecodeWatermark(request.from_wm, "from_wm"));
    WEIR_ASSIGN_OR_RETURN(const uint64_t to, DecodeWatermark(request.to_wm, "to_wm"));
    WEIR_ASSIGN_OR_RETURN(const uint64_t bound, DecodeWatermark(request.bound_wm, "bound_wm"));
    const bool replay = !request.to_wm.empty();
    const bool window = request.mode == WEIR_READ_WINDOW;

    UniqueFd fd;
    WEIR_RETURN_NOT_OK(file_.Refresh(&fd));
    const uint64_t lines = file_.line_count();
    if (from > lines) {
      return Status::Error("file-source: from_wm points at line " + std::to_string(from) +
                           " but '" + file_.path() + "' has only " + std::to_string(lines) +
                           " complete lines (a watermark from another file?)");
    }
    uint64_t last = lines;
    if (replay) {
      if (to < from) {
        return Status::Error("file-source: to_wm (line " + std::to_string(to) +
                             ") is before from_wm (line " + std::to_string(from) + ")");
      }
      if (to > lines) {
        return Status::Error("file-source: to_wm points at line " + std::to_string(to) + " but '" +
                             file_.path() + "' has only " + std::to_string(lines) +
                             " complete lines (was the file truncated?)");
      }
      last = to;
    }
    if (window && !request.bound_wm.empty()) last = std::min(last, bound == 0 ? 0 : bound - 1);

    // On replay the limits are advisory: the same records fitted them the first time.
    const uint64_t max_records = replay ? 0 : request.max_records;
    const uint64_t max_bytes = replay ? 0 : request.max_bytes;
    uint64_t last_added = 0;
    std::string chunk;
    uint64_t line = from + 1;
    bool full = false;
    while (line <= last && !full) {
      uint64_t chunk_last = line;
      while (chunk_last < last &&
             file_.LineEnd(chunk_last + 1) - file_.LineStart(line) <= kReadChunkBytes) {
        ++chunk_last;
      }
      const uint64_t chunk_start = file_.LineStart(line);
      if (int err = PreadAll(fd.get(), chunk_start,
                             static_cast<size_t>(file_.LineEnd(chunk_last) - chunk_start), &chunk);
          err != 0) {
        return Status::Error(ErrnoMessage("file-source: cannot read", file_.path(), err), true);
      }
      for (; line <= chunk_last; ++line) {
        if (line % kCancelPollLines == 0 && host_.IsCancelled()) {
          return Status::Cancelled("file-source read cancelled by host");
        }
        const size_t begin = static_cast<size_t>(file_.LineStart(line) - chunk_start);
        const size_t end = static_cast<size_t>(file_.LineEnd(line) - chunk_start) - 1;  // '\n'
        const std::string_view record(chunk.data() + begin, end - begin);
        if (IsBlank(record)) continue;
        const bool records_full = max_records != 0 && out.count() >= max_records;
        const bool bytes_full =
            max_bytes != 0 && out.count() > 0 && out.bytes() + record.size() + 1 > max_bytes;
        if (records_full || (bytes_full && !window)) {
          full = true;
          break;
        }
        WEIR_ASSIGN_OR_RETURN(const int64_t time_ms, EventTime(record, line, request.stream));
        if (window && (time_ms < request.window_start_ms || time_ms >= request.window_end_ms)) {
          continue;
        }
        if (bytes_full) {
          full = true;
          break;
        }
        out.Add(record, time_ms, line);
        last_added = line;
      }
    }
    if (out.count() > 0) {
      out.set_high_watermark(EncodeWatermark(last_added));
      host_.Counter("file_source.records", static_cast<double>(out.count()));
    }
    host_.Debug("file-source: read " + std::to_string(out.count()) + " records after line " +
                std::to_string(from) + " of " + file_.path());
    return Status::OK();
  }

 private:
  FileSource(std::string path, int64_t delay_ms, Host host)
      : file_(std::move(path)), delay_ms_(delay_ms), host_(host) {}

  /// The record's event time: its integer "time" field (users: "updated_at" if no "time").
  Result<int64_t> EventTime(std::string_view record, uint64_t line, std::string_view stream) {
    const std::string where = "file-source: " + file_.path() + " line " + std::to_string(line);
    padded_.assign(record);
    padded_.resize(record.size() + simdjson::SIMDJSON_PADDING);
    simdjson::dom::element doc;
    if (auto error = parser_.parse(padded_.data(), record.size(), false).get(doc); error) {
      return Status::Error(where + ": malformed JSON (" + simdjson::error_message(error) + ")");
    }
    if (doc.type() != simdjson::dom::element_type::OBJECT) {
      return Status::Error(where + ": expected a JSON object, got " + JsonTypeName(doc));
    }
    const char* field = "time";
    simdjson::dom::element value;
    if (doc.at_key("time").get(value) != simdjson::SUCCESS) {
      if (stream == "users" && doc.at_key("updated_at").get(value) == simdjson::SUCCESS) {
        field = "updated_at";
      } else {
        return Status::Error(where +
                             ": missing integer field \"time\" (event time, ms since "
                             "the Unix epoch)");
      }
    }
    int64_t time_ms = 0;
    if (value.type() != simdjson::dom::element_type::INT64 ||
        value.get_int64().get(time_ms) != simdjson::SUCCESS) {
      return Status::Error(where + ": field \"" + field +
                           "\" must be an integer (ms since the Unix epoch), got " +
                           JsonTypeName(value));
    }
    return time_ms;
  }

  NdjsonFile file_;
  int64_t delay_ms_;
  Host host_;
  simdjson::dom::parser parser_;
  std::string padded_;
};

}  // namespace
}  // namespace weir::testplugins

WEIR_PLUGIN((weir::PluginInfo{
                "file-source",
                "1.0.0",
                "Reads canonical records from an append-only NDJSON file (one record per line; "
                "watermark = line number); for tests and the quick start",
                {"events", "users", "identities"},
                weir::testplugins::kSourceSchema}),
            weir::testplugins::FileSource, weir::NoDestination)
