// plugins/sdk-source/collector/mixpanel.cpp — Mixpanel /track, /engage, /import → canonical
// records.
#include "collector/mixpanel.hpp"

#include <algorithm>

#include "collector/decode.hpp"
#include "collector/json_records.hpp"
#include "collector/normalize.hpp"

namespace weir::sdksource {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

bool IsForm(std::string_view content_type) {
  return content_type.find("application/x-www-form-urlencoded") != std::string_view::npos;
}

std::string_view TrimWs(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  return s;
}

/// The request's flag `name` (query string or form body) is "1" (or "true").
bool Flag(const HttpRequestView& request, std::string_view query, std::string_view name) {
  auto v = FormValue(query, name);
  if (!v && request.method == "POST" && IsForm(request.content_type)) {
    v = FormValue(request.body, name);
  }
  return v && (*v == "1" || *v == "true");
}

/// Mixpanel's own rule for $insert_id under strict validation.
bool ValidStrictInsertId(std::string_view id) {
  return !id.empty() && id.size() <= 36 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

/// Resolves the project of a request whose records each carry a token.
class ProjectResolver {
 public:
  ProjectResolver(const CollectorConfig& config, ParsedRequest& parsed)
      : config_(config), parsed_(parsed) {}

  /// Project from Basic auth (only /import): an unknown user name fails the request.
  void UseBasicAuth(std::string_view authorization) {
    auto user = BasicAuthUser(authorization);
    if (!user) return;
    const std::string* project = config_.ProjectForToken(*user);
    if (project == nullptr) {
      unknown_ = true;
      return;
    }
    default_project_ = *project;
    parsed_.project = *project;
  }

  /// Checks a record's token (nullopt = none sent). Returns false if the whole request must be
  /// refused (unknown token); sets `error` when just this record is wrong.
  bool Check(std::optional<std::string_view> token, std::string_view field,
             std::optional<FieldError>& error) {
    if (!token) {
      if (default_project_.empty()) {
        error = FieldError{std::string(field), "missing: every record needs its project token"};
      }
      return true;
    }
    const std::string* project = config_.ProjectForToken(*token);
    if (project == nullptr) {
      unknown_ = true;
      return false;
    }
    if (parsed_.project.empty()) parsed_.project = *project;
    if (*project != parsed_.project) {
      error = FieldError{std::string(field),
                         "token belongs to a different project than the rest of the request"};
    }
    return true;
  }

  /// A record that is not even JSON: its token (if any) cannot be read.
  void SawUnreadableRecord() { unreadable_ = true; }

  /// After all records: 401 if a token was unknown or no record named a project. When a record
  /// could not be parsed, a missing project is no surprise: the record's own error (400, with
  /// its index) says what is wrong, rather than "missing project token".
  void Finish() {
    if (parsed_.error_status != 0) return;
    if (unknown_) {
      parsed_.Fail(401, "unknown project token");
    } else if (parsed_.project.empty() && parsed_.input_count > 0 && !unreadable_) {
      parsed_.Fail(401, "missing project token (properties.token)");
    }
  }

 private:
  const CollectorConfig& config_;
  ParsedRequest& parsed_;
  std::string default_project_;
  bool unknown_ = false;
  bool unreadable_ = false;
};

std::optional<std::string_view> StringField(object obj, std::string_view key) {
  element v;
  if (obj[key].get(v) != simdjson::SUCCESS || v.type() != element_type::STRING) {
    return std::nullopt;
  }
  return std::string_view(v);
}

class MixpanelParser {
 public:
  MixpanelParser(MixpanelEndpoint endpoint, const HttpRequestView& request,
                 const CollectorConfig& config, ParsedRequest& parsed)
      : endpoint_(endpoint),
        request_(request),
        limits_(config.limits),
        parsed_(parsed),
        resolver_(config, parsed) {}

  void Run(std::string_view data) {
    if (endpoint_ == MixpanelEndpoint::kImport) resolver_.UseBasicAuth(request_.authorization);
    auto on_record = [&](size_t index, element record) {
      std::optional<FieldError> error;
      std::string insert_id;
      bool go_on = endpoint_ == MixpanelEndpoint::kEngage ? Engage(record, error)
                                                          : Event(record, error, insert_id);
      if (!go_on) return false;
      if (error) {
        parsed_.failures.push_back(
            RecordFailure{index, std::move(error->field), std::move(error->reason), insert_id});
      } else {
        ++parsed_.accepted;
      }
      return true;
    };
    auto on_bad_line = [&](size_t index, std::string reason) {
      parsed_.failures.push_back(RecordFailure{index, "", std::move(reason), ""});
      resolver_.SawUnreadableRecord();
      return true;
    };
    ForEachRecord(ThreadParser(), data, limits_, parsed_, on_record, on_bad_line);
    resolver_.Finish();
  }

 private:
  std::optional<std::string_view> Token(object props) {
    auto token = StringField(props, "token");
    return token ? token : StringField(props, "$token");
  }

  /// /track and /import events. Returns false to stop (unknown token).
  bool Event(element record, std::optional<FieldError>& error, std::string& insert_id_out) {
    const bool import = endpoint_ == MixpanelEndpoint::kImport;
    const bool strict = parsed_.partial;
    if (record.type() != element_type::OBJECT) {
      error = FieldError{
          "", std::string("expected an event object, found ") + JsonTypeWithArticle(record.type())};
      return true;
    }
    object obj(record);
    element props_el;
    bool has_props = obj["properties"].get(props_el) == simdjson::SUCCESS;
    if (has_props && props_el.type() != element_type::OBJECT) {
      error = FieldError{"properties", std::string("expected an object, found ") +
                                           JsonTypeWithArticle(props_el.type())};
      return true;
    }
    std::optional<std::string_view> token;
    object props;
    if (has_props) {
      props = object(props_el);
      token = Token(props);
      if (auto id = StringField(props, "$insert_id")) insert_id_out = std::string(*id);
    }
    if (!resolver_.Check(token, "properties.token", error)) return false;
    if (error) return true;
    if (!has_props) {
      error = FieldError{"properties", "missing"};
      return true;
    }

    element name_el;
    if (obj["event"].get(name_el) != simdjson::SUCCESS) {
      error = FieldError{"event", "missing"};
      return true;
    }
    if (name_el.type() != element_type::STRING) {
      error = FieldError{
          "event", std::string("expected a string, found ") + JsonTypeWithArticle(name_el.type())};
      return true;
    }
    std::string_view event = name_el;
    if (event.empty()) {
      error = FieldError{"event", "must not be empty"};
      return true;
    }
    if (event.size() > limits_.max_name_bytes) {
      error = FieldError{
          "event", "longer than max_name_bytes (" + std::to_string(limits_.max_name_bytes) + ")"};
      return true;
    }

    std::string distinct_id;
    if ((error = ReadId(props["distinct_id"], "properties.distinct_id", limits_, strict,
                        distinct_id))) {
      return true;
    }

    int64_t time_ms = request_.now_ms;
    element time_el;
    if (props["time"].get(time_el) == simdjson::SUCCESS) {
      if (auto reason = TimeFromJson(time_el, time_ms)) {
        error = FieldError{"properties.time", *reason};
        return true;
      }
    } else if (import) {
      error = FieldError{"properties.time", "missing (required by /import)"};
      return true;
    }

    std::string insert_id;
    element id_el;
    if (props["$insert_id"].get(id_el) == simdjson::SUCCESS) {
      if (id_el.type() != element_type::STRING) {
        error = FieldError{"properties.$insert_id", std::string("expected a string, found ") +
                                                        JsonTypeWithArticle(id_el.type())};
        return true;
      }
      insert_id = std::string_view(id_el);
      if (strict && !ValidStrictInsertId(insert_id)) {
        error = FieldError{"properties.$insert_id",
                           "must be 1 to 36 characters of letters, digits and '-'"};
        return true;
      }
      if (insert_id.size() > limits_.max_name_bytes) {
        error =
            FieldError{"properties.$insert_id", "longer than max_name_bytes (" +
                                                    std::to_string(limits_.max_name_bytes) + ")"};
        return true;
      }
    } else if (strict) {
      error = FieldError{"properties.$insert_id", "missing (required with strict=1)"};
      return true;
    }

    // Identity mappings carried by special events.
    std::string identity_from, identity_to;
    if (event == "$identify") {
      if ((error =
               ReadId(props["$anon_id"], "properties.$anon_id", limits_, true, identity_from)) ||
          (error = ReadId(props["$identified_id"], "properties.$identified_id", limits_, true,
                          identity_to))) {
        return true;
      }
    } else if (event == "$create_alias") {
      if ((error = ReadId(props["alias"], "properties.alias", limits_, true, identity_from))) {
        return true;
      }
      identity_to = distinct_id;
    }
    if (event == "$identify" || event == "$create_alias") {
      if (identity_from.empty() || identity_to.empty()) {
        error = FieldError{event == "$identify" ? "properties.$anon_id" : "properties.alias",
                           std::string(event) + " needs two non-empty ids"};
        return true;
      }
    }

    PropertyBuilder builder(limits_);
    builder.AddObject(props, {"token", "$token", "distinct_id", "time", "$insert_id"});
    std::string props_json;
    if ((error = builder.Write(props_json, "properties"))) return true;
    if (insert_id.empty()) {
      insert_id = DeriveInsertId(parsed_.project, event, distinct_id, time_ms, props_json);
    }
    // A record that already failed in an all-or-nothing request is not worth building.
    if (!parsed_.partial && !parsed_.failures.empty()) return true;
    parsed_.records.push_back(
        Record::Event(WriteEvent(event, time_ms, distinct_id, insert_id, props_json), time_ms));
    if (!identity_from.empty()) {
      parsed_.records.push_back(
          Record::Identity(WriteIdentity(identity_from, identity_to, time_ms), time_ms));
    }
    return true;
  }

  /// /engage profile updates. Returns false to stop (unknown token).
  bool Engage(element record, std::optional<FieldError>& error) {
    if (record.type() != element_type::OBJECT) {
      error = FieldError{"", std::string("expected a profile update object, found ") +
                                 JsonTypeWithArticle(record.type())};
      return true;
    }
    object obj(record);
    auto token = StringField(obj, "$token");
    if (!token) token = StringField(obj, "token");
    if (!resolver_.Check(token, "$token", error)) return false;
    if (error) return true;

    std::string distinct_id;
    if ((error = ReadId(obj["$distinct_id"], "$distinct_id", limits_, true, distinct_id))) {
      return true;
    }
    if (distinct_id.empty()) {
      error = FieldError{"$distinct_id", "must not be empty"};
      return true;
    }
    int64_t time_ms = request_.now_ms;
    element time_el;
    if (obj["$time"].get(time_el) == simdjson::SUCCESS) {
      if (auto reason = TimeFromJson(time_el, time_ms)) {
        error = FieldError{"$time", *reason};
        return true;
      }
    }
    static constexpr std::string_view kMeta[] = {
        "$token",        "token",     "$distinct_id", "$time",      "$ip",     "$ignore_time",
        "$ignore_alias", "$latitude", "$longitude",   "$device_id", "$user_id"};
    std::vector<ProfileOp> ops;
    for (auto field : obj) {
      if (std::find(std::begin(kMeta), std::end(kMeta), field.key) != std::end(kMeta)) continue;
      auto kind = ProfileOpKind(field.key);
      if (!kind) {
        error = FieldError{std::string(field.key),
                           "unknown profile operation (expected $set, $set_once, $unset, $add, "
                           "$append, $union, $remove or $delete)"};
        return true;
      }
      ProfileOp op;
      if ((error = ParseProfileOp(*kind, field.value, field.key, limits_, op))) return true;
      ops.push_back(std::move(op));
    }
    if (ops.empty()) {
      error = FieldError{"",
                         "no profile operation ($set, $set_once, $unset, $add, $append, "
                         "$union, $remove or $delete)"};
      return true;
    }
    if (!parsed_.partial && !parsed_.failures.empty()) return true;
    parsed_.records.push_back(Record::Profile(std::move(distinct_id), std::move(ops), time_ms));
    return true;
  }

  MixpanelEndpoint endpoint_;
  const HttpRequestView& request_;
  const Limits& limits_;
  ParsedRequest& parsed_;
  ProjectResolver resolver_;
};

void AppendFailure(std::string& out, const RecordFailure& f) {
  out += "{\"index\":" + std::to_string(f.index) + ",\"$insert_id\":";
  AppendJsonString(out, f.insert_id);
  out += ",\"field\":";
  AppendJsonString(out, f.field);
  out += ",\"message\":";
  AppendJsonString(out, f.reason);
  out.push_back('}');
}

}  // namespace

void ParseMixpanelFlags(const HttpRequestView& request, ParsedRequest& parsed) {
  std::string_view path, query;
  SplitTarget(request.target, path, query);
  parsed.verbose = Flag(request, query, "verbose");
  parsed.partial = path == "/import" && Flag(request, query, "strict");
}

ParsedRequest ParseMixpanel(MixpanelEndpoint endpoint, const HttpRequestView& request,
                            const CollectorConfig& config) {
  ParsedRequest parsed;
  ParseMixpanelFlags(request, parsed);
  parsed.partial = endpoint == MixpanelEndpoint::kImport && parsed.partial;
  std::string_view path, query;
  SplitTarget(request.target, path, query);

  std::optional<std::string> data;
  bool form = request.method == "POST" && IsForm(request.content_type);
  if (form) {
    data = FormValue(request.body, "data");
  } else if (request.method == "POST" && !TrimWs(request.body).empty()) {
    data = std::string(request.body);
  }
  if (!data) data = FormValue(query, "data");
  if (!data) {
    parsed.Fail(400,
                "missing data: send data=<base64 or JSON> in the query string or a form "
                "body, or a JSON body");
    return parsed;
  }
  std::string_view trimmed = TrimWs(*data);
  std::string decoded;
  if (!trimmed.empty() && trimmed.front() != '{' && trimmed.front() != '[') {
    if (!Base64Decode(trimmed, decoded)) {
      parsed.Fail(400, "data is neither JSON nor base64");
      return parsed;
    }
    trimmed = decoded;
  }
  MixpanelParser(endpoint, request, config, parsed).Run(trimmed);
  return parsed;
}

HttpResponse RenderMixpanel(MixpanelEndpoint endpoint, const ParsedRequest& parsed,
                            const Outcome& outcome) {
  HttpResponse response;
  response.status = outcome.status;
  std::string message = outcome.error;
  if (outcome.failure != nullptr) {
    message =
        "record " + std::to_string(outcome.failure->index) + ": " + outcome.failure->Message();
  }
  if (endpoint != MixpanelEndpoint::kImport) {
    if (parsed.verbose) {
      if (outcome.status < 300) {
        response.body = "{\"status\":1,\"error\":null}";
      } else {
        response.body = "{\"status\":0,\"error\":";
        AppendJsonString(response.body, message);
        response.body.push_back('}');
      }
    } else {
      response.content_type = "text/plain";
      response.body = outcome.status < 300 ? "1" : "0";
    }
    return response;
  }
  std::string& b = response.body;
  b = "{\"code\":" + std::to_string(outcome.status);
  if (outcome.status < 300) {
    b += ",\"num_records_imported\":" + std::to_string(parsed.accepted) + ",\"status\":\"OK\"}";
    return response;
  }
  b += ",\"error\":";
  if (outcome.partial) {
    AppendJsonString(b, "some data points in the request failed validation");
    b += ",\"failed_records\":[";
    for (size_t i = 0; i < parsed.failures.size(); ++i) {
      if (i > 0) b.push_back(',');
      AppendFailure(b, parsed.failures[i]);
    }
    b += "],\"num_records_imported\":" + std::to_string(parsed.accepted);
  } else if (outcome.failure != nullptr) {
    AppendJsonString(b, message + " (nothing was imported)");
    b += ",\"failed_records\":[";
    AppendFailure(b, *outcome.failure);
    b += "],\"num_records_imported\":0";
  } else {
    AppendJsonString(b, message);
  }
  b += ",\"status\":";
  AppendJsonString(b, HttpReason(outcome.status));
  b.push_back('}');
  return response;
}

}  // namespace weir::sdksource
