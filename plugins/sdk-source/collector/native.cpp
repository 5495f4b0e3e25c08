// plugins/sdk-source/collector/native.cpp — POST /v1/events and /v1/users → canonical records.
#include "collector/native.hpp"

#include "collector/decode.hpp"
#include "collector/json_records.hpp"
#include "collector/normalize.hpp"

namespace weir::sdksource {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

std::optional<FieldError> Event(element record, const Limits& limits, const std::string& project,
                                std::vector<Record>& out, std::string& insert_id_out) {
  if (record.type() != element_type::OBJECT) {
    return FieldError{
        "", std::string("expected an event object, found ") + JsonTypeWithArticle(record.type())};
  }
  object obj(record);
  for (auto field : obj) {
    if (field.key != "event" && field.key != "time" && field.key != "distinct_id" &&
        field.key != "insert_id" && field.key != "properties") {
      return FieldError{std::string(field.key),
                        "unknown field (events have event, time, distinct_id, insert_id, "
                        "properties)"};
    }
  }
  std::string insert_id;
  if (auto e = ReadId(obj["insert_id"], "insert_id", limits, false, insert_id)) return e;
  insert_id_out = insert_id;
  element el;
  if (obj["event"].get(el) != simdjson::SUCCESS) return FieldError{"event", "missing"};
  if (el.type() != element_type::STRING) {
    return FieldError{"event",
                      std::string("expected a string, found ") + JsonTypeWithArticle(el.type())};
  }
  std::string_view event = el;
  if (event.empty()) return FieldError{"event", "must not be empty"};
  if (event.size() > limits.max_name_bytes) {
    return FieldError{"event",
                      "longer than max_name_bytes (" + std::to_string(limits.max_name_bytes) + ")"};
  }
  int64_t time_ms = 0;
  if (obj["time"].get(el) != simdjson::SUCCESS) return FieldError{"time", "missing"};
  if (auto reason = TimeFromJson(el, time_ms)) return FieldError{"time", *reason};
  std::string distinct_id;
  if (auto e = ReadId(obj["distinct_id"], "distinct_id", limits, true, distinct_id)) return e;

  PropertyBuilder props(limits);
  if (obj["properties"].get(el) == simdjson::SUCCESS && el.type() != element_type::NULL_VALUE) {
    if (el.type() != element_type::OBJECT) {
      return FieldError{"properties",
                        std::string("expected an object, found ") + JsonTypeWithArticle(el.type())};
    }
    props.AddObject(object(el));
  }
  std::string props_json;
  if (auto e = props.Write(props_json, "properties")) return e;
  if (insert_id.empty()) {
    insert_id = DeriveInsertId(project, event, distinct_id, time_ms, props_json);
  }
  out.push_back(
      Record::Event(WriteEvent(event, time_ms, distinct_id, insert_id, props_json), time_ms));
  return std::nullopt;
}

std::optional<FieldError> User(element record, const Limits& limits, int64_t now_ms,
                               std::vector<Record>& out) {
  if (record.type() != element_type::OBJECT) {
    return FieldError{
        "", std::string("expected a user object, found ") + JsonTypeWithArticle(record.type())};
  }
  object obj(record);
  std::string distinct_id;
  if (auto e = ReadId(obj["distinct_id"], "distinct_id", limits, true, distinct_id)) return e;
  if (distinct_id.empty()) return FieldError{"distinct_id", "must not be empty"};
  int64_t time_ms = now_ms;
  element el;
  if (obj["time"].get(el) == simdjson::SUCCESS) {
    if (auto reason = TimeFromJson(el, time_ms)) return FieldError{"time", *reason};
  }
  std::vector<ProfileOp> ops;
  for (auto field : obj) {
    if (field.key == "distinct_id" || field.key == "time") continue;
    auto kind = ProfileOpKind(field.key);
    if (!kind) {
      return FieldError{std::string(field.key),
                        "unknown field (users have distinct_id, time and the operations $set, "
                        "$set_once, $unset, $add, $append, $union, $remove, $delete)"};
    }
    ProfileOp op;
    if (auto e = ParseProfileOp(*kind, field.value, field.key, limits, op)) return e;
    ops.push_back(std::move(op));
  }
  if (ops.empty()) return FieldError{"", "no profile operation"};
  out.push_back(Record::Profile(std::move(distinct_id), std::move(ops), time_ms));
  return std::nullopt;
}

}  // namespace

ParsedRequest ParseNative(NativeEndpoint endpoint, const HttpRequestView& request,
                          const CollectorConfig& config) {
  ParsedRequest parsed;
  std::optional<std::string> token = BearerToken(request.authorization);
  if (!token) token = BasicAuthUser(request.authorization);
  if (!token || token->empty()) {
    parsed.Fail(401, "missing credentials: send \"Authorization: Bearer <token>\"");
    return parsed;
  }
  const std::string* project = config.ProjectForToken(*token);
  if (project == nullptr) {
    parsed.Fail(401, "unknown token");
    return parsed;
  }
  parsed.project = *project;
  const Limits& limits = config.limits;
  auto on_record = [&](size_t index, element record) {
    std::string insert_id;
    auto e = endpoint == NativeEndpoint::kEvents
                 ? Event(record, limits, parsed.project, parsed.records, insert_id)
                 : User(record, limits, request.now_ms, parsed.records);
    if (e) {
      parsed.failures.push_back(
          RecordFailure{index, std::move(e->field), std::move(e->reason), insert_id});
      return false;  // all-or-nothing: the first failure decides
    }
    ++parsed.accepted;
    return true;
  };
  auto on_bad_line = [&](size_t index, std::string reason) {
    parsed.failures.push_back(RecordFailure{index, "", std::move(reason), ""});
    return false;
  };
  ForEachRecord(ThreadParser(), request.body, limits, parsed, on_record, on_bad_line);
  return parsed;
}

HttpResponse RenderNative(const ParsedRequest& parsed, const Outcome& outcome) {
  HttpResponse response;
  response.status = outcome.status;
  std::string& b = response.body;
  if (outcome.status < 300) {
    b = "{\"accepted\":" + std::to_string(parsed.accepted) + "}";
    return response;
  }
  b = "{\"error\":";
  if (outcome.failure != nullptr) {
    AppendJsonString(b, "invalid record");
    b += ",\"index\":" + std::to_string(outcome.failure->index) + ",\"field\":";
    AppendJsonString(b, outcome.failure->field);
    b += ",\"reason\":";
    AppendJsonString(b, outcome.failure->reason);
  } else {
    AppendJsonString(b, outcome.error);
  }
  b.push_back('}');
  return response;
}

}  // namespace weir::sdksource
