// plugins/sdk-source/store/profiles.hpp — the writer's current profile per distinct_id and the
// Mixpanel profile-operation semantics (private).
//
// The state is the latest users-stream snapshot per distinct_id (its JSON text; deleted
// profiles are absent), so rebuilding it on open is a replay of the users stream where the
// last snapshot per id wins. Applying a Record::Profile parses that snapshot's properties into
// a json::Value, applies the operations in order and produces the next snapshot:
//   $set       overwrite each listed property
//   $set_once  set only properties that are absent
//   $unset     remove the listed property names
//   $add       add numbers (absent counts as 0); a non-numeric property or argument is skipped
//   $append    append a value to a list property (absent -> [value]); non-lists are skipped
//   $union     add list items not yet present (absent -> the list without duplicates)
//   $remove    remove every item equal to the value from a list property
//   $delete    delete the profile (snapshot {"distinct_id","updated_at","deleted":true})
// Properties keep insertion order. Not thread-safe: the store calls it under its append lock,
// in seq order.
#ifndef WEIR_SDK_SOURCE_STORE_PROFILES_HPP
#define WEIR_SDK_SOURCE_STORE_PROFILES_HPP

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/json_value.hpp"
#include "store/store.hpp"

namespace weir::sdksource {

/// A profile operation whose argument has been parsed and checked.
struct ParsedProfileOp {
  ProfileOp::Kind kind = ProfileOp::Kind::kSet;
  json::Value argument;
};

/// "$set", "$set_once", ... for messages and docs.
const char* ProfileOpName(ProfileOp::Kind kind);

/// Parses and checks the arguments (an object, or an array for $unset; ignored for $delete).
/// Runs outside the append lock; the error names the operation.
Result<std::vector<ParsedProfileOp>> ParseProfileOps(const std::vector<ProfileOp>& ops);

class ProfileTable {
 public:
  /// Applies `ops` to the profile of `distinct_id` and returns the snapshot to append to the
  /// users stream (updated_at = max(time_ms, the profile's previous updated_at), so it never
  /// goes backwards). `distinct_id` must be valid UTF-8.
  std::string Apply(const std::string& distinct_id, const std::vector<ParsedProfileOp>& ops,
                    int64_t time_ms);
  /// Replays one snapshot read back from the users stream (rebuild on open).
  Status Replay(std::string_view snapshot);
  /// The current snapshot of `distinct_id`, or nullopt if unknown or deleted.
  std::optional<std::string> Get(std::string_view distinct_id) const;
  size_t size() const { return profiles_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> profiles_;
};

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_STORE_PROFILES_HPP
