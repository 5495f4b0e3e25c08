// plugins/sdk-source/store/json_value.hpp — a minimal mutable JSON value for profile state
// (private).
//
// simdjson parses but cannot edit, and profile operations ($set, $add, $union, ...) edit a
// properties object, so the store keeps this small value model: objects keep insertion order
// (a profile's property order is deterministic: first set, first listed), numbers keep their
// integer-ness (int64, uint64 or double), and serialization escapes strings per RFC 8259.
//
//   WEIR_ASSIGN_OR_RETURN(json::Value props, json::Parse(R"({"a":1})"));
//   props.Set("b", json::Value::String("x\n"));
//   std::string text = props.ToJson();   // {"a":1,"b":"x\n"}
#ifndef WEIR_SDK_SOURCE_STORE_JSON_VALUE_HPP
#define WEIR_SDK_SOURCE_STORE_JSON_VALUE_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "weir/plugin.hpp"

namespace weir::sdksource::json {

class Value {
 public:
  enum class Type { kNull, kBool, kInt, kUint, kDouble, kString, kArray, kObject };

  Value() = default;  ///< null
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Uint(uint64_t u);
  static Value Double(double d);
  static Value String(std::string s);
  static Value Array();
  static Value Object();

  Type type() const { return type_; }
  bool is_number() const {
    return type_ == Type::kInt || type_ == Type::kUint || type_ == Type::kDouble;
  }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_string() const { return type_ == Type::kString; }
  const std::string& string_value() const { return str_; }
  int64_t int_value() const { return int_; }
  uint64_t uint_value() const { return uint_; }
  /// The number as a double (any numeric type).
  double AsDouble() const;

  /// Array elements, or object member values (parallel to keys()).
  std::vector<Value>& items() { return items_; }
  const std::vector<Value>& items() const { return items_; }
  /// Object member names, in insertion order.
  const std::vector<std::string>& keys() const { return keys_; }

  /// Object: the member named `key`, or nullptr.
  Value* Find(std::string_view key);
  const Value* Find(std::string_view key) const;
  /// Object: replaces the member's value in place, or appends a new member.
  void Set(std::string_view key, Value v);
  /// Object: removes the member; returns whether it existed.
  bool Erase(std::string_view key);

  /// Deep equality. Numbers compare by value (1 == 1.0); objects ignore member order.
  bool Equals(const Value& other) const;

  /// Appends compact JSON text.
  void AppendJson(std::string& out) const;
  std::string ToJson() const {
    std::string out;
    AppendJson(out);
    return out;
  }

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  int64_t int_ = 0;
  uint64_t uint_ = 0;
  double double_ = 0;
  std::string str_;
  std::vector<Value> items_;
  std::vector<std::string> keys_;
};

/// Appends `s` as a quoted JSON string: `"` `\` and control characters are escaped, everything
/// else (UTF-8) is copied. `s` must be valid UTF-8 for the output to be valid JSON.
void AppendString(std::string& out, std::string_view s);

/// Parses JSON text (validated, including UTF-8) into a Value; the error says why.
Result<Value> Parse(std::string_view text);

/// True when `s` is valid UTF-8.
bool ValidUtf8(std::string_view s);

}  // namespace weir::sdksource::json

#endif  // WEIR_SDK_SOURCE_STORE_JSON_VALUE_HPP
