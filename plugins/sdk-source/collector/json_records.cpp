// plugins/sdk-source/collector/json_records.cpp — record splitting and profile operations.
#include "collector/json_records.hpp"

namespace weir::sdksource {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  return s;
}

bool Blank(std::string_view line) { return TrimLeft(line).empty(); }

std::string TooMany(size_t n, const Limits& limits) {
  return "too many records: " + std::to_string(n) + " > max_records_per_request (" +
         std::to_string(limits.max_records_per_request) + ")";
}

/// Where a JSON array body that failed to parse as a whole goes wrong: the first top-level
/// element that fails on its own ("record 2 (bytes 81-130): <reason>"), or where the array
/// itself is cut short or followed by something else. The whole-body parser only says what
/// went wrong; a client with a thousand records needs to know which one. Only runs on the
/// error path; a scan without recursion, so nesting depth costs nothing here.
std::string LocateArrayError(simdjson::dom::parser& parser, std::string_view body,
                             simdjson::error_code whole) {
  std::string reason = simdjson::error_message(whole);
  auto bytes = [](size_t from, size_t to) {
    return "(bytes " + std::to_string(from) + "-" + std::to_string(to) + ")";
  };
  size_t pos = 1;  // after '['
  auto skip_ws = [&] {
    while (pos < body.size() &&
           (body[pos] == ' ' || body[pos] == '\n' || body[pos] == '\r' || body[pos] == '\t')) {
      ++pos;
    }
  };
  skip_ws();
  if (pos < body.size() && body[pos] == ']') {
    return "after the array's closing bracket at byte " + std::to_string(pos) + ": " + reason;
  }
  for (size_t index = 0;; ++index) {
    skip_ws();
    const size_t start = pos;
    size_t depth = 0;
    bool in_string = false;
    for (; pos < body.size(); ++pos) {
      const char c = body[pos];
      if (in_string) {
        if (c == '\\') {
          ++pos;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) break;
        --depth;
      } else if (c == ',' && depth == 0) {
        break;
      }
    }
    if (pos >= body.size()) {
      return "record " + std::to_string(index) + " " + bytes(start, body.size()) +
             ": the body ends inside it (truncated?): " + reason;
    }
    std::string_view element = body.substr(start, pos - start);
    while (!element.empty() && (element.back() == ' ' || element.back() == '\n' ||
                                element.back() == '\r' || element.back() == '\t')) {
      element.remove_suffix(1);
    }
    simdjson::dom::element ignored;
    if (auto e = parser.parse(element.data(), element.size()).get(ignored)) {
      return "record " + std::to_string(index) + " " + bytes(start, start + element.size()) + ": " +
             simdjson::error_message(e);
    }
    if (body[pos] == '}') {
      return "record " + std::to_string(index) + ": unexpected '}' at byte " + std::to_string(pos) +
             ": " + reason;
    }
    if (body[pos] == ']') {
      ++pos;
      skip_ws();
      if (pos < body.size()) {
        return "after the array's closing bracket at byte " + std::to_string(pos) + ": " + reason;
      }
      break;
    }
    ++pos;  // the comma
  }
  return reason;
}

}  // namespace

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

void ForEachRecord(simdjson::dom::parser& parser, std::string_view body, const Limits& limits,
                   ParsedRequest& parsed, const std::function<bool(size_t, element)>& fn,
                   const std::function<bool(size_t, std::string)>& on_bad_line) {
  body = TrimLeft(body);
  if (body.empty()) {
    parsed.Fail(400, "empty body: expected a JSON array, a JSON object or NDJSON");
    return;
  }
  element root;
  auto error = parser.parse(body.data(), body.size()).get(root);
  if (!error) {
    if (root.type() == element_type::ARRAY) {
      simdjson::dom::array records(root);
      size_t n = records.size();
      parsed.input_count = n;
      if (n > limits.max_records_per_request) {
        parsed.Fail(400, TooMany(n, limits));
        return;
      }
      size_t i = 0;
      for (element record : records) {
        if (!fn(i++, record)) return;
      }
      return;
    }
    if (root.type() == element_type::OBJECT) {
      parsed.input_count = 1;
      fn(0, root);
      return;
    }
    parsed.Fail(400, std::string("expected a JSON array or object, found ") +
                         JsonTypeWithArticle(root.type()));
    return;
  }
  if (body.front() == '[') {
    parsed.Fail(400, "body is not valid JSON: " + LocateArrayError(parser, body, error));
    return;
  }
  if (body.front() != '{') {
    parsed.Fail(400, std::string("body is not valid JSON: ") + simdjson::error_message(error));
    return;
  }
  // NDJSON: count first so an oversized request is refused before any work.
  size_t n = 0;
  for (size_t pos = 0; pos < body.size();) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    if (!Blank(body.substr(pos, nl - pos))) ++n;
    pos = nl + 1;
  }
  parsed.input_count = n;
  if (n > limits.max_records_per_request) {
    parsed.Fail(400, TooMany(n, limits));
    return;
  }
  size_t index = 0;
  for (size_t pos = 0; pos < body.size();) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    if (Blank(line)) continue;
    element record;
    if (auto e = parser.parse(line.data(), line.size()).get(record)) {
      if (!on_bad_line(index++, std::string("invalid JSON: ") + simdjson::error_message(e))) {
        return;
      }
      continue;
    }
    if (!fn(index++, record)) return;
  }
}

std::optional<ProfileOp::Kind> ProfileOpKind(std::string_view key) {
  using K = ProfileOp::Kind;
  if (key == "$set") return K::kSet;
  if (key == "$set_once") return K::kSetOnce;
  if (key == "$unset") return K::kUnset;
  if (key == "$add") return K::kAdd;
  if (key == "$append") return K::kAppend;
  if (key == "$union") return K::kUnion;
  if (key == "$remove") return K::kRemove;
  if (key == "$delete") return K::kDelete;
  return std::nullopt;
}

std::optional<FieldError> ParseProfileOp(ProfileOp::Kind kind, element argument,
                                         std::string_view field, const Limits& limits,
                                         ProfileOp& out) {
  using K = ProfileOp::Kind;
  out.kind = kind;
  out.argument_json.clear();
  if (kind == K::kDelete) {
    out.argument_json = "null";
    return std::nullopt;
  }
  if (kind == K::kUnset) {
    if (argument.type() != element_type::ARRAY) {
      return FieldError{std::string(field), std::string("expected an array of property names, "
                                                        "found ") +
                                                JsonTypeWithArticle(argument.type())};
    }
    size_t i = 0, count = 0;
    for (element name : simdjson::dom::array(argument)) {
      if (name.type() != element_type::STRING) {
        return FieldError{
            std::string(field) + "[" + std::to_string(i) + "]",
            std::string("expected a property name, found ") + JsonTypeWithArticle(name.type())};
      }
      ++i;
      ++count;
    }
    if (count > limits.max_properties) {
      return FieldError{std::string(field), "names " + std::to_string(count) +
                                                " properties; max_properties is " +
                                                std::to_string(limits.max_properties)};
    }
    AppendCanonical(out.argument_json, argument);
    return std::nullopt;
  }
  if (argument.type() != element_type::OBJECT) {
    return FieldError{std::string(field), std::string("expected an object, found ") +
                                              JsonTypeWithArticle(argument.type())};
  }
  for (auto f : simdjson::dom::object(argument)) {
    if (kind == K::kAdd && f.value.type() != element_type::INT64 &&
        f.value.type() != element_type::UINT64 && f.value.type() != element_type::DOUBLE) {
      return FieldError{
          std::string(field) + "." + std::string(f.key),
          std::string("$add needs a number, found ") + JsonTypeWithArticle(f.value.type())};
    }
    if (kind == K::kUnion && f.value.type() != element_type::ARRAY) {
      return FieldError{
          std::string(field) + "." + std::string(f.key),
          std::string("$union needs an array, found ") + JsonTypeWithArticle(f.value.type())};
    }
  }
  PropertyBuilder props(limits);
  props.AddObject(simdjson::dom::object(argument));
  return props.Write(out.argument_json, field);
}

}  // namespace weir::sdksource
