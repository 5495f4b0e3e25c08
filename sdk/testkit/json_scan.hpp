// sdk/testkit/json_scan.hpp — a small strict JSON syntax checker for the conformance kit.
//
// The kit must not depend on a JSON library (third parties link it into their own tests), yet
// it has to tell whether a plugin's config schema and each record of a batch are JSON. This is
// a recursive-descent recognizer for RFC 8259 text: it builds nothing, only accepts or rejects,
// and on rejection says what was expected at which byte offset.
//
//   std::string why;
//   if (!weir::testkit::internal::IsJson(text, /*require_object=*/true, &why)) { ... why ... }
#ifndef WEIR_SDK_TESTKIT_JSON_SCAN_HPP
#define WEIR_SDK_TESTKIT_JSON_SCAN_HPP

#include <string>
#include <string_view>

namespace weir::testkit::internal {

/// True when `text` is exactly one JSON value (surrounded by optional whitespace), and, with
/// `require_object`, that value is an object. Otherwise false with `*error` (if non-NULL) set
/// to e.g. "at byte 17: expected ':' after an object key". Nesting deeper than 512 is rejected.
bool IsJson(std::string_view text, bool require_object, std::string* error);

}  // namespace weir::testkit::internal

#endif  // WEIR_SDK_TESTKIT_JSON_SCAN_HPP
