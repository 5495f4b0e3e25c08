// plugins/sdk-source/collector/segment.cpp — Segment HTTP Tracking API → canonical records.
#include "collector/segment.hpp"

#include "collector/decode.hpp"
#include "collector/json_records.hpp"
#include "collector/normalize.hpp"

namespace weir::sdksource {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

std::optional<SegmentEndpoint> KindFromType(std::string_view type) {
  if (type == "track") return SegmentEndpoint::kTrack;
  if (type == "page") return SegmentEndpoint::kPage;
  if (type == "screen") return SegmentEndpoint::kScreen;
  if (type == "group") return SegmentEndpoint::kGroup;
  if (type == "identify") return SegmentEndpoint::kIdentify;
  if (type == "alias") return SegmentEndpoint::kAlias;
  return std::nullopt;
}

class SegmentParser {
 public:
  SegmentParser(const HttpRequestView& request, const Limits& limits, ParsedRequest& parsed)
      : request_(request), limits_(limits), parsed_(parsed) {}

  /// One message; appends its records or returns why it is bad.
  std::optional<FieldError> Message(SegmentEndpoint kind, element message,
                                    std::optional<element> batch_context) {
    if (message.type() != element_type::OBJECT) {
      return FieldError{"", std::string("expected a message object, found ") +
                                JsonTypeWithArticle(message.type())};
    }
    object msg(message);
    std::string user_id, anonymous_id;
    if (auto e = ReadId(msg["userId"], "userId", limits_, false, user_id)) return e;
    if (auto e = ReadId(msg["anonymousId"], "anonymousId", limits_, false, anonymous_id)) return e;

    int64_t time_ms = request_.now_ms;
    for (const char* key : {"timestamp", "originalTimestamp"}) {
      element t;
      if (msg[key].get(t) == simdjson::SUCCESS && t.type() != element_type::NULL_VALUE) {
        if (auto reason = TimeFromJson(t, time_ms)) return FieldError{key, *reason};
        break;
      }
    }
    std::string message_id;
    if (auto e = ReadId(msg["messageId"], "messageId", limits_, false, message_id)) return e;

    std::optional<element> context = batch_context;
    element ctx;
    if (msg["context"].get(ctx) == simdjson::SUCCESS && ctx.type() != element_type::NULL_VALUE) {
      if (ctx.type() != element_type::OBJECT) {
        return FieldError{
            "context", std::string("expected an object, found ") + JsonTypeWithArticle(ctx.type())};
      }
      context = ctx;
    }

    if (kind == SegmentEndpoint::kAlias) {
      std::string previous_id;
      if (auto e = ReadId(msg["previousId"], "previousId", limits_, true, previous_id)) return e;
      if (previous_id.empty()) return FieldError{"previousId", "must not be empty"};
      if (user_id.empty()) return FieldError{"userId", "missing (alias needs userId)"};
      Keep(Record::Identity(WriteIdentity(previous_id, user_id, time_ms), time_ms));
      return std::nullopt;
    }
    const std::string& distinct_id = user_id.empty() ? anonymous_id : user_id;
    if (distinct_id.empty()) return FieldError{"userId", "userId or anonymousId is required"};

    if (kind == SegmentEndpoint::kIdentify) {
      element traits;
      bool has_traits = msg["traits"].get(traits) == simdjson::SUCCESS &&
                        traits.type() != element_type::NULL_VALUE;
      std::vector<Record> out;
      if (has_traits) {
        ProfileOp op;
        if (auto e = ParseProfileOp(ProfileOp::Kind::kSet, traits, "traits", limits_, op)) {
          return e;
        }
        if (op.argument_json != "{}") {
          out.push_back(Record::Profile(distinct_id, {std::move(op)}, time_ms));
        }
      }
      if (!user_id.empty() && !anonymous_id.empty() && user_id != anonymous_id) {
        out.push_back(Record::Identity(WriteIdentity(anonymous_id, user_id, time_ms), time_ms));
      }
      for (auto& r : out) Keep(std::move(r));
      return std::nullopt;
    }

    // Everything else is an event.
    std::string_view event;
    std::string group_id;  // outlives `props`, which borrows it
    PropertyBuilder props(limits_);
    element el;
    auto add_properties = [&](const char* key) -> std::optional<FieldError> {
      if (msg[key].get(el) != simdjson::SUCCESS || el.type() == element_type::NULL_VALUE) {
        return std::nullopt;
      }
      if (el.type() != element_type::OBJECT) {
        return FieldError{
            key, std::string("expected an object, found ") + JsonTypeWithArticle(el.type())};
      }
      props.AddObject(object(el));
      return std::nullopt;
    };
    auto string_field = [&](const char* key, std::string_view& out) -> std::optional<FieldError> {
      element v;
      if (msg[key].get(v) != simdjson::SUCCESS || v.type() == element_type::NULL_VALUE) {
        return std::nullopt;
      }
      if (v.type() != element_type::STRING) {
        return FieldError{key,
                          std::string("expected a string, found ") + JsonTypeWithArticle(v.type())};
      }
      out = std::string_view(v);
      return std::nullopt;
    };
    switch (kind) {
      case SegmentEndpoint::kTrack: {
        if (msg["event"].get(el) != simdjson::SUCCESS) return FieldError{"event", "missing"};
        if (el.type() != element_type::STRING) {
          return FieldError{
              "event", std::string("expected a string, found ") + JsonTypeWithArticle(el.type())};
        }
        event = std::string_view(el);
        if (event.empty()) return FieldError{"event", "must not be empty"};
        if (event.size() > limits_.max_name_bytes) {
          return FieldError{"event", "longer than max_name_bytes (" +
                                         std::to_string(limits_.max_name_bytes) + ")"};
        }
        if (auto e = add_properties("properties")) return e;
        break;
      }
      case SegmentEndpoint::kPage:
      case SegmentEndpoint::kScreen: {
        event = kind == SegmentEndpoint::kPage ? "Page Viewed" : "Screen Viewed";
        if (auto e = add_properties("properties")) return e;
        std::string_view name, category;
        if (auto e = string_field("name", name)) return e;
        if (auto e = string_field("category", category)) return e;
        if (!name.empty()) props.AddDerivedString("name", name);
        if (!category.empty()) props.AddDerivedString("category", category);
        break;
      }
      case SegmentEndpoint::kGroup: {
        event = "Group";
        if (auto e = ReadId(msg["groupId"], "groupId", limits_, true, group_id)) return e;
        if (group_id.empty()) return FieldError{"groupId", "must not be empty"};
        props.AddDerivedString("group_id", group_id);
        if (msg["traits"].get(el) == simdjson::SUCCESS && el.type() != element_type::NULL_VALUE) {
          if (el.type() != element_type::OBJECT) {
            return FieldError{"traits", std::string("expected an object, found ") +
                                            JsonTypeWithArticle(el.type())};
          }
          props.AddDerived("$group_traits", el);
        }
        break;
      }
      default:
        break;
    }
    if (context) props.AddDerived("$segment_context", *context);
    if (!user_id.empty() && !anonymous_id.empty()) props.AddDerivedString("$anon_id", anonymous_id);
    std::string props_json;
    if (auto e = props.Write(props_json, "properties")) {
      // A problem inside context or traits is reported under its own name.
      if (e->field.rfind("properties.$segment_context", 0) == 0) {
        e->field.replace(0, 27, "context");
      } else if (e->field.rfind("properties.$group_traits", 0) == 0) {
        e->field.replace(0, 24, "traits");
      }
      return e;
    }
    if (message_id.empty()) {
      message_id = DeriveInsertId(parsed_.project, event, distinct_id, time_ms, props_json);
    }
    Keep(Record::Event(WriteEvent(event, time_ms, distinct_id, message_id, props_json), time_ms));
    return std::nullopt;
  }

 private:
  void Keep(Record record) {
    // An all-or-nothing request that already failed stores nothing: skip the copies.
    if (parsed_.failures.empty()) parsed_.records.push_back(std::move(record));
  }

  const HttpRequestView& request_;
  const Limits& limits_;
  ParsedRequest& parsed_;
};

}  // namespace

ParsedRequest ParseSegment(SegmentEndpoint endpoint, const HttpRequestView& request,
                           const CollectorConfig& config) {
  ParsedRequest parsed;
  const Limits& limits = config.limits;
  auto& parser = ThreadParser();
  element root;
  if (auto error = parser.parse(request.body.data(), request.body.size()).get(root)) {
    // Credentials first: a request with a bad key gets 401 whatever its body.
    auto user = BasicAuthUser(request.authorization);
    if (user && config.ProjectForWriteKey(*user) == nullptr) {
      parsed.Fail(401, "invalid write key");
    } else if (!user) {
      parsed.Fail(401, "missing write key (Basic auth user name or \"writeKey\" in the body)");
    } else {
      parsed.Fail(400, std::string("body is not valid JSON: ") + simdjson::error_message(error));
    }
    return parsed;
  }
  // Write key: Basic auth user name, else "writeKey" in the body.
  std::optional<std::string> key = BasicAuthUser(request.authorization);
  if ((!key || key->empty()) && root.type() == element_type::OBJECT) {
    element wk;
    if (root["writeKey"].get(wk) == simdjson::SUCCESS && wk.type() == element_type::STRING) {
      key = std::string(std::string_view(wk));
    }
  }
  if (!key || key->empty()) {
    parsed.Fail(401, "missing write key (Basic auth user name or \"writeKey\" in the body)");
    return parsed;
  }
  const std::string* project = config.ProjectForWriteKey(*key);
  if (project == nullptr) {
    parsed.Fail(401, "invalid write key");
    return parsed;
  }
  parsed.project = *project;
  if (root.type() != element_type::OBJECT) {
    parsed.Fail(400,
                std::string("expected a JSON object, found ") + JsonTypeWithArticle(root.type()));
    return parsed;
  }

  SegmentParser segment(request, limits, parsed);
  auto run = [&](size_t index, SegmentEndpoint kind, element message,
                 std::optional<element> batch_context) {
    if (auto e = segment.Message(kind, message, batch_context)) {
      parsed.failures.push_back(
          RecordFailure{index, std::move(e->field), std::move(e->reason), ""});
      return false;  // all-or-nothing: the first failure decides
    }
    ++parsed.accepted;
    return true;
  };

  if (endpoint != SegmentEndpoint::kBatch) {
    parsed.input_count = 1;
    run(0, endpoint, root, std::nullopt);
    return parsed;
  }
  element batch;
  if (root["batch"].get(batch) != simdjson::SUCCESS) {
    parsed.Fail(400, "batch: missing");
    return parsed;
  }
  if (batch.type() != element_type::ARRAY) {
    parsed.Fail(
        400, std::string("batch: expected an array, found ") + JsonTypeWithArticle(batch.type()));
    return parsed;
  }
  std::optional<element> batch_context;
  element ctx;
  if (root["context"].get(ctx) == simdjson::SUCCESS && ctx.type() == element_type::OBJECT) {
    batch_context = ctx;
  }
  simdjson::dom::array messages(batch);
  parsed.input_count = messages.size();
  if (parsed.input_count > limits.max_records_per_request) {
    parsed.Fail(400, "too many records: " + std::to_string(parsed.input_count) +
                         " > max_records_per_request (" +
                         std::to_string(limits.max_records_per_request) + ")");
    return parsed;
  }
  size_t index = 0;
  for (element message : messages) {
    element type;
    std::optional<SegmentEndpoint> kind;
    if (message.type() == element_type::OBJECT && message["type"].get(type) == simdjson::SUCCESS &&
        type.type() == element_type::STRING) {
      kind = KindFromType(std::string_view(type));
    }
    if (!kind) {
      parsed.failures.push_back(
          RecordFailure{index, "type",
                        message.type() != element_type::OBJECT
                            ? std::string("expected a message object, found ") +
                                  JsonTypeWithArticle(message.type())
                            : "expected one of track, page, screen, group, identify, alias",
                        ""});
      break;
    }
    if (!run(index, *kind, message, batch_context)) break;
    ++index;
  }
  return parsed;
}

HttpResponse RenderSegment(const ParsedRequest& /*parsed*/, const Outcome& outcome) {
  HttpResponse response;
  response.status = outcome.status;
  if (outcome.status < 300) {
    response.body = "{\"success\":true}";
    return response;
  }
  std::string& b = response.body;
  b = "{\"success\":false,\"error\":";
  if (outcome.failure != nullptr) {
    AppendJsonString(b, outcome.failure->Message());
    b += ",\"index\":" + std::to_string(outcome.failure->index);
  } else {
    AppendJsonString(b, outcome.error);
  }
  b.push_back('}');
  return response;
}

}  // namespace weir::sdksource
