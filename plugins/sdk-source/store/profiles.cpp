// plugins/sdk-source/store/profiles.cpp — applying Mixpanel profile operations to the current
// profile state and producing users-stream snapshots (see profiles.hpp).
#include "store/profiles.hpp"

#include <algorithm>

#include <simdjson.h>

#include <charconv>
#include <cmath>

namespace weir::sdksource {
namespace {

using json::Value;

bool ContainsEqual(const Value& list, const Value& item) {
  for (const Value& v : list.items()) {
    if (v.Equals(item)) return true;
  }
  return false;
}

/// n + m, staying an integer when both are integers and the sum fits; nullopt if the result
/// would not be a finite number.
std::optional<Value> AddNumbers(const Value& a, const Value& b) {
  if (a.type() == Value::Type::kInt && b.type() == Value::Type::kInt) {
    int64_t sum = 0;
    if (!__builtin_add_overflow(a.int_value(), b.int_value(), &sum)) return Value::Int(sum);
  }
  const double sum = a.AsDouble() + b.AsDouble();
  if (!std::isfinite(sum)) return std::nullopt;
  return Value::Double(sum);
}

void ApplyOne(Value& props, const ParsedProfileOp& op) {
  const Value& arg = op.argument;
  switch (op.kind) {
    case ProfileOp::Kind::kSet:
      for (size_t i = 0; i < arg.keys().size(); ++i) props.Set(arg.keys()[i], arg.items()[i]);
      return;
    case ProfileOp::Kind::kSetOnce:
      for (size_t i = 0; i < arg.keys().size(); ++i) {
        if (props.Find(arg.keys()[i]) == nullptr) props.Set(arg.keys()[i], arg.items()[i]);
      }
      return;
    case ProfileOp::Kind::kUnset:
      for (const Value& name : arg.items()) {
        if (name.is_string()) props.Erase(name.string_value());
      }
      return;
    case ProfileOp::Kind::kAdd:
      for (size_t i = 0; i < arg.keys().size(); ++i) {
        const Value& n = arg.items()[i];
        if (!n.is_number()) continue;
        Value* cur = props.Find(arg.keys()[i]);
        if (cur == nullptr) {
          props.Set(arg.keys()[i], n);
        } else if (cur->is_number()) {
          if (auto sum = AddNumbers(*cur, n)) *cur = std::move(*sum);
        }
      }
      return;
    case ProfileOp::Kind::kAppend:
      for (size_t i = 0; i < arg.keys().size(); ++i) {
        Value* cur = props.Find(arg.keys()[i]);
        if (cur == nullptr) {
          Value list = Value::Array();
          list.items().push_back(arg.items()[i]);
          props.Set(arg.keys()[i], std::move(list));
        } else if (cur->is_array()) {
          cur->items().push_back(arg.items()[i]);
        }
      }
      return;
    case ProfileOp::Kind::kUnion:
      for (size_t i = 0; i < arg.keys().size(); ++i) {
        const Value& add = arg.items()[i];
        if (!add.is_array()) continue;
        Value* cur = props.Find(arg.keys()[i]);
        if (cur == nullptr) {
          props.Set(arg.keys()[i], Value::Array());
          cur = props.Find(arg.keys()[i]);
        } else if (!cur->is_array()) {
          continue;
        }
        for (const Value& item : add.items()) {
          if (!ContainsEqual(*cur, item)) cur->items().push_back(item);
        }
      }
      return;
    case ProfileOp::Kind::kRemove:
      for (size_t i = 0; i < arg.keys().size(); ++i) {
        Value* cur = props.Find(arg.keys()[i]);
        if (cur == nullptr || !cur->is_array()) continue;
        auto& items = cur->items();
        std::erase_if(items, [&](const Value& v) { return v.Equals(arg.items()[i]); });
      }
      return;
    case ProfileOp::Kind::kDelete:
      return;  // handled by the caller
  }
}

void AppendSnapshotHead(std::string& out, std::string_view distinct_id, int64_t time_ms) {
  out += "{\"distinct_id\":";
  json::AppendString(out, distinct_id);
  out += ",\"updated_at\":";
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), time_ms);
  out.append(buf, r.ptr);
}

}  // namespace

const char* ProfileOpName(ProfileOp::Kind kind) {
  switch (kind) {
    case ProfileOp::Kind::kSet:
      return "$set";
    case ProfileOp::Kind::kSetOnce:
      return "$set_once";
    case ProfileOp::Kind::kUnset:
      return "$unset";
    case ProfileOp::Kind::kAdd:
      return "$add";
    case ProfileOp::Kind::kAppend:
      return "$append";
    case ProfileOp::Kind::kUnion:
      return "$union";
    case ProfileOp::Kind::kRemove:
      return "$remove";
    case ProfileOp::Kind::kDelete:
      return "$delete";
  }
  return "$unknown";
}

Result<std::vector<ParsedProfileOp>> ParseProfileOps(const std::vector<ProfileOp>& ops) {
  std::vector<ParsedProfileOp> parsed;
  parsed.reserve(ops.size());
  for (const ProfileOp& op : ops) {
    ParsedProfileOp p;
    p.kind = op.kind;
    if (op.kind != ProfileOp::Kind::kDelete) {
      auto value = json::Parse(op.argument_json);
      if (!value.ok()) return value.status().WithContext(ProfileOpName(op.kind));
      p.argument = std::move(value).value();
      const bool want_array = op.kind == ProfileOp::Kind::kUnset;
      if (want_array ? !p.argument.is_array() : !p.argument.is_object()) {
        return Status::Error(std::string(ProfileOpName(op.kind)) + ": argument must be a JSON " +
                             (want_array ? "array of property names" : "object"));
      }
    }
    parsed.push_back(std::move(p));
  }
  return parsed;
}

std::string ProfileTable::Apply(const std::string& distinct_id,
                                const std::vector<ParsedProfileOp>& ops, int64_t time_ms) {
  auto it = profiles_.find(distinct_id);
  // Only an explicit $delete (not followed by other operations) deletes; any other record,
  // even one whose operations change nothing, leaves a profile that exists.
  bool deleted = false;
  Value props = Value::Object();
  // updated_at never goes backwards for a profile: operations apply in arrival order, so a
  // late-arriving operation (older event time) still produces the newest state, and a
  // destination that keeps the row with the highest updated_at must keep this snapshot.
  int64_t updated_at = time_ms;
  if (it != profiles_.end()) {
    // The stored snapshot was produced by this class, so it parses; fall back to empty anyway.
    if (auto snapshot = json::Parse(it->second); snapshot.ok()) {
      if (Value* p = snapshot->Find("properties"); p != nullptr && p->is_object()) {
        props = std::move(*p);
      }
      if (Value* u = snapshot->Find("updated_at"); u != nullptr && u->type() == Value::Type::kInt) {
        updated_at = std::max(updated_at, u->int_value());
      }
    }
  }
  for (const ParsedProfileOp& op : ops) {
    if (op.kind == ProfileOp::Kind::kDelete) {
      props = Value::Object();
      deleted = true;
      continue;
    }
    deleted = false;
    ApplyOne(props, op);
  }

  std::string snapshot;
  AppendSnapshotHead(snapshot, distinct_id, updated_at);
  if (deleted) {
    snapshot += ",\"deleted\":true}";
    if (it != profiles_.end()) profiles_.erase(it);
    return snapshot;
  }
  snapshot += ",\"properties\":";
  props.AppendJson(snapshot);
  snapshot += '}';
  if (it != profiles_.end()) {
    it->second = snapshot;
  } else {
    profiles_.emplace(distinct_id, snapshot);
  }
  return snapshot;
}

Status ProfileTable::Replay(std::string_view snapshot) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(snapshot.data(), snapshot.size()).get(root); error) {
    return Status::Error(std::string("users snapshot is not valid JSON: ") +
                         simdjson::error_message(error));
  }
  std::string_view id;
  if (root["distinct_id"].get(id) != simdjson::SUCCESS) {
    return Status::Error("users snapshot has no string distinct_id");
  }
  bool deleted = false;
  if (auto d = root["deleted"]; d.error() == simdjson::SUCCESS) {
    if (d.get(deleted) != simdjson::SUCCESS) deleted = false;
  }
  if (deleted) {
    if (auto it = profiles_.find(id); it != profiles_.end()) profiles_.erase(it);
    return Status::OK();
  }
  if (auto it = profiles_.find(id); it != profiles_.end()) {
    it->second.assign(snapshot);
  } else {
    profiles_.emplace(std::string(id), std::string(snapshot));
  }
  return Status::OK();
}

std::optional<std::string> ProfileTable::Get(std::string_view distinct_id) const {
  auto it = profiles_.find(distinct_id);
  if (it == profiles_.end()) return std::nullopt;
  return it->second;
}

}  // namespace weir::sdksource
