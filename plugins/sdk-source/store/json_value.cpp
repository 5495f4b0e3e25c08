// plugins/sdk-source/store/json_value.cpp — the minimal JSON value model: building from a
// simdjson DOM, editing, comparing and serializing (see json_value.hpp).
#include "store/json_value.hpp"

#include "weir/json.hpp"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdio>

namespace weir::sdksource::json {
namespace {

Value FromElement(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      Value v = Value::Array();
      simdjson::dom::array array;
      if (e.get_array().get(array) != simdjson::SUCCESS) return v;
      for (simdjson::dom::element item : array) {
        v.items().push_back(FromElement(item));
      }
      return v;
    }
    case simdjson::dom::element_type::OBJECT: {
      Value v = Value::Object();
      simdjson::dom::object object;
      if (e.get_object().get(object) != simdjson::SUCCESS) return v;
      // Set (not push) so a duplicate name keeps one member: the last, as most parsers do.
      for (simdjson::dom::key_value_pair field : object) {
        v.Set(field.key, FromElement(field.value));
      }
      return v;
    }
    case simdjson::dom::element_type::INT64:
      return Value::Int(e.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:
      return Value::Uint(e.get_uint64().value_unsafe());
    case simdjson::dom::element_type::DOUBLE:
      return Value::Double(e.get_double().value_unsafe());
    case simdjson::dom::element_type::STRING:
      return Value::String(std::string(e.get_string().value_unsafe()));
    case simdjson::dom::element_type::BOOL:
      return Value::Bool(e.get_bool().value_unsafe());
    case simdjson::dom::element_type::NULL_VALUE:
      break;
  }
  return Value();
}

bool BothIntegers(const Value& a, const Value& b) {
  auto integral = [](const Value& v) {
    return v.type() == Value::Type::kInt || v.type() == Value::Type::kUint;
  };
  return integral(a) && integral(b);
}

bool IntegersEqual(const Value& a, const Value& b) {
  if (a.type() == b.type()) {
    return a.type() == Value::Type::kInt ? a.int_value() == b.int_value()
                                         : a.uint_value() == b.uint_value();
  }
  // kUint only holds values above INT64_MAX, so an int64 never equals one.
  return false;
}

}  // namespace

Value Value::Bool(bool b) {
  Value v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}
Value Value::Int(int64_t i) {
  Value v;
  v.type_ = Type::kInt;
  v.int_ = i;
  return v;
}
Value Value::Uint(uint64_t u) {
  if (u <= static_cast<uint64_t>(INT64_MAX)) return Int(static_cast<int64_t>(u));
  Value v;
  v.type_ = Type::kUint;
  v.uint_ = u;
  return v;
}
Value Value::Double(double d) {
  Value v;
  v.type_ = Type::kDouble;
  v.double_ = d;
  return v;
}
Value Value::String(std::string s) {
  Value v;
  v.type_ = Type::kString;
  v.str_ = std::move(s);
  return v;
}
Value Value::Array() {
  Value v;
  v.type_ = Type::kArray;
  return v;
}
Value Value::Object() {
  Value v;
  v.type_ = Type::kObject;
  return v;
}

double Value::AsDouble() const {
  switch (type_) {
    case Type::kInt:
      return static_cast<double>(int_);
    case Type::kUint:
      return static_cast<double>(uint_);
    case Type::kDouble:
      return double_;
    default:
      return 0;
  }
}

const Value* Value::Find(std::string_view key) const {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) return &items_[i];
  }
  return nullptr;
}

Value* Value::Find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value&>(*this).Find(key));
}

void Value::Set(std::string_view key, Value v) {
  if (Value* existing = Find(key)) {
    *existing = std::move(v);
    return;
  }
  keys_.emplace_back(key);
  items_.push_back(std::move(v));
}

bool Value::Erase(std::string_view key) {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) {
      keys_.erase(keys_.begin() + static_cast<std::ptrdiff_t>(i));
      items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(i));
      return true;
    }
  }
  return false;
}

bool Value::Equals(const Value& other) const {
  if (is_number() && other.is_number()) {
    if (BothIntegers(*this, other)) return IntegersEqual(*this, other);
    return AsDouble() == other.AsDouble();
  }
  if (type_ != other.type_) return false;
  switch (type_) {
    case Type::kNull:
      return true;
    case Type::kBool:
      return bool_ == other.bool_;
    case Type::kString:
      return str_ == other.str_;
    case Type::kArray:
      if (items_.size() != other.items_.size()) return false;
      for (size_t i = 0; i < items_.size(); ++i) {
        if (!items_[i].Equals(other.items_[i])) return false;
      }
      return true;
    case Type::kObject: {
      if (keys_.size() != other.keys_.size()) return false;
      for (size_t i = 0; i < keys_.size(); ++i) {
        const Value* theirs = other.Find(keys_[i]);
        if (theirs == nullptr || !items_[i].Equals(*theirs)) return false;
      }
      return true;
    }
    default:
      return false;  // numbers were handled above
  }
}

void AppendString(std::string& out, std::string_view s) { AppendJsonString(out, s); }

void Value::AppendJson(std::string& out) const {
  char buf[32];
  switch (type_) {
    case Type::kNull:
      out += "null";
      return;
    case Type::kBool:
      out += bool_ ? "true" : "false";
      return;
    case Type::kInt: {
      auto r = std::to_chars(buf, buf + sizeof(buf), int_);
      out.append(buf, r.ptr);
      return;
    }
    case Type::kUint: {
      auto r = std::to_chars(buf, buf + sizeof(buf), uint_);
      out.append(buf, r.ptr);
      return;
    }
    case Type::kDouble: {
      // JSON has no NaN or infinity; the profile code never produces them, but be total.
      if (!std::isfinite(double_)) {
        out += "null";
        return;
      }
      auto r = std::to_chars(buf, buf + sizeof(buf), double_);  // shortest round-trip form
      out.append(buf, r.ptr);
      return;
    }
    case Type::kString:
      AppendString(out, str_);
      return;
    case Type::kArray:
      out.push_back('[');
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i > 0) out.push_back(',');
        items_[i].AppendJson(out);
      }
      out.push_back(']');
      return;
    case Type::kObject:
      out.push_back('{');
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendString(out, keys_[i]);
        out.push_back(':');
        items_[i].AppendJson(out);
      }
      out.push_back('}');
      return;
  }
}

Result<Value> Parse(std::string_view text) {
  // One parser per thread: simdjson parsers are not thread-safe and reuse their buffers.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(text.data(), text.size()).get(root); error) {
    return Status::Error(std::string("invalid JSON: ") + simdjson::error_message(error));
  }
  return FromElement(root);
}

bool ValidUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

}  // namespace weir::sdksource::json
