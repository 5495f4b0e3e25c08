// host/pipeline/pipeline.cpp — parsing and validating pipeline definition files (simdjson DOM).
#include "pipeline/pipeline.hpp"

#include <date/tz.h>
#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "weir/config_json.hpp"
#include "weir/validate.hpp"

namespace weir::host {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

/// Error context: "file: $.path: message".
class Ctx {
 public:
  explicit Ctx(std::string file) : file_(std::move(file)) {}
  Status Err(const std::string& path, const std::string& msg) const {
    return Status::InvalidConfig(file_ + ": " + path + ": " + msg);
  }
  /// `s` (a "$.path: message" error from weir/config_json.hpp) prefixed with the file name.
  Status InFile(const Status& s) const { return s.WithContext(file_); }

 private:
  std::string file_;
};

Status ExpandEnv(const Ctx& ctx, const std::string& path, std::string_view in, const EnvLookup& env,
                 std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size();) {
    if (in.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
    } else if (in.compare(i, 2, "${") == 0) {
      size_t end = in.find('}', i + 2);
      if (end == std::string_view::npos) {
        return ctx.Err(path, "unterminated ${...} reference");
      }
      std::string name(in.substr(i + 2, end - i - 2));
      if (!IsValidEnvName(name)) return ctx.Err(path, "invalid environment variable name '${" + name + "}'");
      auto v = env(name);
      if (!v) return ctx.Err(path, "environment variable " + name + " is not set");
      out += *v;
      i = end + 1;
    } else {
      out += in[i++];
    }
  }
  return Status::OK();
}

/// Re-serializes `e` as compact JSON, resolving ${ENV} in strings when `env` is set.
Status Serialize(const Ctx& ctx, const std::string& path, element e, const EnvLookup* env,
                 std::string& out) {
  switch (e.type()) {
    case element_type::OBJECT: {
      out += '{';
      bool first = true;
      for (auto field : object(e)) {
        if (!first) out += ',';
        first = false;
        out += JsonQuote(field.key);
        out += ':';
        WEIR_RETURN_NOT_OK(
            Serialize(ctx, path + "." + std::string(field.key), field.value, env, out));
      }
      out += '}';
      return Status::OK();
    }
    case element_type::ARRAY: {
      out += '[';
      size_t i = 0;
      for (element v : simdjson::dom::array(e)) {
        if (i > 0) out += ',';
        WEIR_RETURN_NOT_OK(Serialize(ctx, path + "[" + std::to_string(i) + "]", v, env, out));
        ++i;
      }
      out += ']';
      return Status::OK();
    }
    case element_type::STRING: {
      std::string_view s = std::string_view(e);
      if (env != nullptr) {
        std::string expanded;
        WEIR_RETURN_NOT_OK(ExpandEnv(ctx, path, s, *env, expanded));
        out += JsonQuote(expanded);
      } else {
        out += JsonQuote(s);
      }
      return Status::OK();
    }
    case element_type::INT64:
      out += std::to_string(int64_t(e));
      return Status::OK();
    case element_type::UINT64:
      out += std::to_string(uint64_t(e));
      return Status::OK();
    case element_type::DOUBLE: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", double(e));
      out += buf;
      return Status::OK();
    }
    case element_type::BOOL:
      out += bool(e) ? "true" : "false";
      return Status::OK();
    case element_type::NULL_VALUE:
      out += "null";
      return Status::OK();
  }
  return ctx.Err(path, "unsupported JSON value");
}

// Fields of the pipeline file are read with the SDK's strict getters (weir/config_json.hpp), so
// the host refuses exactly what a plugin refuses in its config: unknown keys, keys given twice,
// wrong types, out-of-range integers and strings with a NUL byte (project, stream and plugin
// names reach plugins as C strings, where a NUL would cut them short). Their messages read
// "$.batch.max_records: must be between 1 and 100000000"; Ctx::InFile adds the file name.

/// CheckConfigKeys with the pipeline's path style: `path` "$" or "$.batch" names keys "$.name",
/// "$.batch.max_records".
Status CheckKeys(const Ctx& ctx, object obj, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
  return ctx.InFile(CheckConfigKeys(obj, path + ".", allowed));
}

/// RequiredString: present, a string, non-empty, no NUL byte.
Result<std::string> GetRequiredString(const Ctx& ctx, object obj, const std::string& path,
                                      const char* key) {
  auto r = RequiredString(obj, path + ".", key);
  if (!r.ok()) return ctx.InFile(r.status());
  return r;
}

/// OptionalString: `def` when absent, else a string (non-empty unless `allow_empty`) without a
/// NUL byte.
Result<std::string> GetOptionalString(const Ctx& ctx, object obj, const std::string& path,
                                      const char* key, std::string def, bool allow_empty = false) {
  auto r = OptionalString(obj, path + ".", key, std::move(def), allow_empty);
  if (!r.ok()) return ctx.InFile(r.status());
  return r;
}

/// OptionalInt: `def` when absent, else an integer within [min, max].
Result<int64_t> GetInt(const Ctx& ctx, object obj, const std::string& path, const char* key,
                       int64_t def, int64_t min, int64_t max) {
  auto r = OptionalInt(obj, path + ".", key, def, min, max);
  if (!r.ok()) return ctx.InFile(r.status());
  return r;
}

/// The object at obj[key]; an empty optional when absent and not required.
Result<std::optional<object>> GetObject(const Ctx& ctx, object obj, const std::string& path,
                                        const char* key, bool required) {
  element v;
  if (obj[key].get(v) != simdjson::SUCCESS) {
    if (required) return ctx.Err(path + "." + key, "required (an object)");
    return std::optional<object>();
  }
  if (v.type() != element_type::OBJECT) {
    return ctx.Err(path + "." + key,
                   std::string("expected an object, found ") + JsonTypeWithArticle(v.type()));
  }
  return std::optional<object>(object(v));
}

Result<PluginRef> ParsePluginRef(const Ctx& ctx, object root, const char* key,
                                 const EnvLookup& env) {
  const std::string path = std::string("$.") + key;
  WEIR_ASSIGN_OR_RETURN(std::optional<object> maybe_obj, GetObject(ctx, root, "$", key, true));
  object obj = *maybe_obj;
  WEIR_RETURN_NOT_OK(CheckKeys(ctx, obj, path, {"plugin", "config"}));
  PluginRef ref;
  WEIR_ASSIGN_OR_RETURN(ref.plugin, GetRequiredString(ctx, obj, path, "plugin"));
  if (!IsValidPluginName(ref.plugin)) {
    return ctx.Err(path + ".plugin", "'" + ref.plugin + "' is not a valid plugin name");
  }
  element config;
  if (obj["config"].get(config) != simdjson::SUCCESS) {
    ref.config_json = ref.config_raw = "{}";
    return ref;
  }
  if (config.type() != element_type::OBJECT) {
    return ctx.Err(path + ".config",
                   std::string("expected an object, found ") + JsonTypeWithArticle(config.type()));
  }
  WEIR_RETURN_NOT_OK(Serialize(ctx, path + ".config", config, nullptr, ref.config_raw));
  WEIR_RETURN_NOT_OK(Serialize(ctx, path + ".config", config, &env, ref.config_json));
  return ref;
}

bool ValidHhMm(const std::string& s) {
  if (s.size() != 5 || s[2] != ':') return false;
  for (int i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  return h < 24 && m < 60;
}

// "6h" -> 21600: hours 1..23, minutes or seconds 1..59 (the next unit up is the one to use).
std::optional<int64_t> ParseEvery(const std::string& every) {
  if (every.size() < 2 || every.size() > 3) return std::nullopt;
  int n = 0;
  for (size_t i = 0; i + 1 < every.size(); ++i) {
    if (every[i] < '0' || every[i] > '9') return std::nullopt;
    n = n * 10 + (every[i] - '0');
  }
  switch (every.back()) {
    case 'h':
      if (n >= 1 && n <= 23) return int64_t{n} * 3600;
      return std::nullopt;
    case 'm':
      if (n >= 1 && n <= 59) return int64_t{n} * 60;
      return std::nullopt;
    case 's':
      if (n >= 1 && n <= 59) return int64_t{n};
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

bool KnownTimeZone(const std::string& name) {
  if (name.find("..") != std::string::npos) return false;
  try {
    return date::locate_zone(name) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

Result<Schedule> ParseSchedule(const Ctx& ctx, object root) {
  Schedule sched;
  element v;
  if (root["schedule"].get(v) != simdjson::SUCCESS || v.type() == element_type::NULL_VALUE) {
    return sched;
  }
  if (v.type() != element_type::OBJECT) {
    return ctx.Err("$.schedule",
                   "expected an object such as {\"every\": \"1h\"} or "
                   "{\"daily\": \"02:00\", \"timezone\": \"Europe/Berlin\"}");
  }
  object obj(v);
  WEIR_RETURN_NOT_OK(CheckKeys(ctx, obj, "$.schedule", {"every", "daily", "timezone"}));
  WEIR_ASSIGN_OR_RETURN(std::string every, GetOptionalString(ctx, obj, "$.schedule", "every", ""));
  WEIR_ASSIGN_OR_RETURN(std::string daily, GetOptionalString(ctx, obj, "$.schedule", "daily", ""));
  WEIR_ASSIGN_OR_RETURN(sched.timezone,
                        GetOptionalString(ctx, obj, "$.schedule", "timezone", "UTC"));
  if (!every.empty() && !daily.empty()) {
    return ctx.Err("$.schedule", "give either 'every' or 'daily', not both");
  }
  if (!every.empty()) {
    std::optional<int64_t> period = ParseEvery(every);
    if (!period) {
      return ctx.Err("$.schedule.every",
                     "expected \"Nh\" (N from 1 to 23), \"Nm\" or \"Ns\" (N from 1 to 59), "
                     "found \"" + every + "\"");
    }
    sched.kind = Schedule::Kind::kEvery;
    sched.every_seconds = *period;
  } else if (!daily.empty()) {
    if (!ValidHhMm(daily)) {
      return ctx.Err("$.schedule.daily", "expected \"HH:MM\" (24-hour), found \"" + daily + "\"");
    }
    sched.kind = Schedule::Kind::kDaily;
    sched.daily_at = daily;
  } else {
    return ctx.Err("$.schedule", "expected 'every' or 'daily'");
  }
  if (sched.timezone.empty() || !KnownTimeZone(sched.timezone)) {
    return ctx.Err("$.schedule.timezone",
                   "unknown time zone \"" + sched.timezone +
                       "\": expected an IANA name from the system tzdata such as \"UTC\", "
                       "\"Europe/London\" or \"America/New_York\"");
  }
  return sched;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string Schedule::ToString() const {
  switch (kind) {
    case Kind::kNone:
      return "manual";
    case Kind::kEvery:
      if (every_seconds % 3600 == 0) return "every " + std::to_string(every_seconds / 3600) + "h";
      if (every_seconds % 60 == 0) return "every " + std::to_string(every_seconds / 60) + "m";
      return "every " + std::to_string(every_seconds) + "s";
    case Kind::kDaily:
      return "daily at " + daily_at + " " + timezone;
  }
  return "manual";
}

bool IsValidEnvName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsValidPipelineName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '-' || c == '_'));
    if (!ok) return false;
  }
  return true;
}

namespace {

/// Largest pipeline file read: real ones are a few hundred bytes; this only stops a huge file
/// (or a mistyped path to a data file) from being read into memory whole.
constexpr off_t kMaxPipelineFileBytes = 16 << 20;

/// Reads a pipeline file. Only a regular file is read: opened non-blocking, so a FIFO (or a
/// device) named *.json in the pipelines directory is refused at once instead of blocking
/// `weir status` or serve's reload forever until something writes to it.
Status ReadPipelineText(const std::filesystem::path& file, std::string& out) {
  const std::string name = file.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status::InvalidConfig(name + ": cannot read: " + std::strerror(errno));
  struct stat st {};
  Status status = Status::OK();
  if (::fstat(fd, &st) != 0) {
    status = Status::InvalidConfig(name + ": cannot read: " + std::strerror(errno));
  } else if (S_ISDIR(st.st_mode)) {
    status = Status::InvalidConfig(name + ": not a regular file (it is a directory)");
  } else if (!S_ISREG(st.st_mode)) {
    status = Status::InvalidConfig(name + ": not a regular file");
  } else if (st.st_size > kMaxPipelineFileBytes) {
    status = Status::InvalidConfig(name + ": " + std::to_string(st.st_size) +
                                   " bytes; a pipeline file is at most 16 MiB");
  } else {
    out.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < out.size()) {
      const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    out.resize(got);  // a file that shrank while read is parsed as what was read
  }
  ::close(fd);
  return status;
}

}  // namespace

Result<Pipeline> LoadPipelineFile(const std::filesystem::path& file, const EnvLookup& env) {
  const Ctx ctx(file.string());
  std::string raw;
  WEIR_RETURN_NOT_OK(ReadPipelineText(file, raw));
  simdjson::padded_string text(raw);
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(text).get(doc)) {
    return Status::InvalidConfig(file.string() +
                                 ": not valid JSON: " + simdjson::error_message(err));
  }
  if (doc.type() != element_type::OBJECT) {
    return ctx.Err("$",
                   std::string("expected an object, found ") + JsonTypeWithArticle(doc.type()));
  }
  object root(doc);
  WEIR_RETURN_NOT_OK(CheckKeys(ctx, root, "$",
                               {"name", "project", "stream", "source", "destination", "schedule",
                                "start", "batch", "retry", "description"}));
  Pipeline p;
  p.file = file;
  WEIR_ASSIGN_OR_RETURN(p.name, GetRequiredString(ctx, root, "$", "name"));
  if (!IsValidPipelineName(p.name)) {
    return ctx.Err("$.name", "'" + p.name +
                                 "' is not a valid name: use lowercase letters, digits, '-' and "
                                 "'_', starting with a letter or digit");
  }
  if (file.extension() == ".json" && file.stem().string() != p.name) {
    return ctx.Err("$.name", "'" + p.name + "' must equal the file name '" + file.stem().string() +
                                 "' (one file per pipeline)");
  }
  WEIR_ASSIGN_OR_RETURN(p.project, GetRequiredString(ctx, root, "$", "project"));
  WEIR_ASSIGN_OR_RETURN(p.stream, GetOptionalString(ctx, root, "$", "stream", "events"));
  // Free text, not kept: checked like every other string of the file.
  WEIR_RETURN_NOT_OK(
      GetOptionalString(ctx, root, "$", "description", "", /*allow_empty=*/true).status());
  if (!IsValidPipelineName(p.stream)) {
    return ctx.Err("$.stream", "'" + p.stream + "' is not a valid stream name");
  }
  WEIR_ASSIGN_OR_RETURN(p.source, ParsePluginRef(ctx, root, "source", env));
  WEIR_ASSIGN_OR_RETURN(p.destination, ParsePluginRef(ctx, root, "destination", env));
  WEIR_ASSIGN_OR_RETURN(p.schedule, ParseSchedule(ctx, root));
  WEIR_ASSIGN_OR_RETURN(p.start, GetOptionalString(ctx, root, "$", "start", "beginning"));
  if (p.start != "beginning" && p.start != "now") {
    return ctx.Err("$.start", "expected \"beginning\" (the incremental export starts with the "
                              "oldest record) or \"now\" (it starts with what arrives after its "
                              "first run; `weir backfill` exports the history), found \"" +
                                  p.start + "\"");
  }

  WEIR_ASSIGN_OR_RETURN(std::optional<object> batch_obj, GetObject(ctx, root, "$", "batch", false));
  if (batch_obj) {
    object batch = *batch_obj;
    WEIR_RETURN_NOT_OK(CheckKeys(ctx, batch, "$.batch", {"max_records", "max_bytes"}));
    WEIR_ASSIGN_OR_RETURN(int64_t max_records,
                          GetInt(ctx, batch, "$.batch", "max_records",
                                 static_cast<int64_t>(p.batch.max_records), 1, 100'000'000));
    WEIR_ASSIGN_OR_RETURN(int64_t max_bytes,
                          GetInt(ctx, batch, "$.batch", "max_bytes",
                                 static_cast<int64_t>(p.batch.max_bytes), 1024, 4ll << 30));
    p.batch.max_records = static_cast<uint64_t>(max_records);
    p.batch.max_bytes = static_cast<uint64_t>(max_bytes);
  }

  WEIR_ASSIGN_OR_RETURN(std::optional<object> retry_obj, GetObject(ctx, root, "$", "retry", false));
  if (!retry_obj) return p;
  object retry = *retry_obj;
  WEIR_RETURN_NOT_OK(
      CheckKeys(ctx, retry, "$.retry", {"max_attempts", "initial_backoff_ms", "max_backoff_ms"}));
  WEIR_ASSIGN_OR_RETURN(int64_t attempts, GetInt(ctx, retry, "$.retry", "max_attempts",
                                                 p.retry.max_attempts, 1, 100));
  WEIR_ASSIGN_OR_RETURN(int64_t initial, GetInt(ctx, retry, "$.retry", "initial_backoff_ms",
                                                p.retry.initial_backoff_ms, 0, 3'600'000));
  WEIR_ASSIGN_OR_RETURN(int64_t cap, GetInt(ctx, retry, "$.retry", "max_backoff_ms",
                                            p.retry.max_backoff_ms, 0, 3'600'000));
  if (cap < initial) {
    return ctx.Err("$.retry.max_backoff_ms", "must be at least initial_backoff_ms");
  }
  p.retry.max_attempts = static_cast<int>(attempts);
  p.retry.initial_backoff_ms = static_cast<int>(initial);
  p.retry.max_backoff_ms = static_cast<int>(cap);
  return p;
}

Result<std::string> ResolveConfigJson(std::string_view json, const std::string& origin,
                                      const EnvLookup& env) {
  const Ctx ctx(origin);
  simdjson::padded_string text(json);
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(text).get(doc)) {
    return Status::InvalidConfig(origin + ": not valid JSON: " + simdjson::error_message(err));
  }
  if (doc.type() != element_type::OBJECT) {
    return ctx.Err("$",
                   std::string("expected an object, found ") + JsonTypeWithArticle(doc.type()));
  }
  std::string out;
  WEIR_RETURN_NOT_OK(Serialize(ctx, "$", doc, &env, out));
  return out;
}

Result<PipelineScan> LoadPipelineDir(const std::filesystem::path& dir, const EnvLookup& env) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    const bool exists = std::filesystem::exists(dir, ec);
    return Status::InvalidConfig("pipelines directory " + dir.string() +
                                 (exists ? " is not a directory" : " does not exist") +
                                 " (set --pipelines-dir or WEIR_PIPELINES_DIR)");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  PipelineScan scan;
  for (const auto& f : files) {
    auto p = LoadPipelineFile(f, env);
    if (p.ok()) {
      scan.pipelines.push_back(std::move(p).value());
    } else {
      scan.errors.push_back(p.status().message());
    }
  }
  return scan;
}

Result<Pipeline> FindPipeline(const std::filesystem::path& dir, const std::string& name_or_file,
                              const EnvLookup& env) {
  std::filesystem::path file;
  if (name_or_file.find('/') != std::string::npos ||
      std::filesystem::path(name_or_file).extension() == ".json") {
    file = name_or_file;
  } else {
    if (!IsValidPipelineName(name_or_file)) {
      return Status::InvalidConfig("'" + name_or_file + "' is not a valid pipeline name");
    }
    file = dir / (name_or_file + ".json");
  }
  std::error_code ec;
  // symlink_status: a symlink loop or a dangling link exists as a name; reading it then says
  // what is wrong with it instead of "does not exist".
  if (!std::filesystem::exists(std::filesystem::symlink_status(file, ec))) {
    return Status::InvalidConfig("no pipeline '" + name_or_file + "': " + file.string() +
                                 " does not exist (pipelines directory: " + dir.string() + ")");
  }
  return LoadPipelineFile(file, env);
}

}  // namespace weir::host
