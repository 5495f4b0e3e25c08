// tests/state/state_test_util.hpp — shared helpers for the state store tests.
//
// TempDir makes a unique directory (mkdtemp) and removes it afterwards, so tests run in
// parallel without fixed paths. Intents built by MakeIntent use watermarks with embedded NULs
// and 0xFF bytes to prove that the store keeps them byte-exact.
#ifndef WEIR_TESTS_STATE_STATE_TEST_UTIL_HPP
#define WEIR_TESTS_STATE_STATE_TEST_UTIL_HPP

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "host/state/sqlite_state_store.hpp"
#include "host/state/state_store.hpp"
#include "temp_dir.hpp"

namespace weir::host::testing {

/// A fresh directory under TMPDIR (weir-state-XXXXXX), removed with everything in it.
class TempDir : public weir::test::TempDir {
 public:
  TempDir() : weir::test::TempDir("weir-state") {}
};

/// A watermark that would break any C-string or text handling: NUL, 0xFF, high bytes.
inline std::string Wm(const std::string& tag) {
  std::string s("\x00\xff", 2);
  s += tag;
  s += std::string("\x00\x80\xfe\xff", 4);
  return s;
}

inline Intent MakeIntent(const std::string& pipeline, const std::string& stream, uint64_t seq,
                         std::string from_wm, std::string to_wm, uint64_t rows, uint64_t bytes,
                         int64_t run_id) {
  Intent in;
  in.pipeline = pipeline;
  in.stream = stream;
  in.batch_seq = seq;
  in.from_wm = std::move(from_wm);
  in.to_wm = std::move(to_wm);
  in.rows = rows;
  in.bytes = bytes;
  in.run_id = run_id;
  return in;
}

/// Opens or fails the test.
inline std::unique_ptr<StateStore> MustOpen(const std::filesystem::path& db,
                                            const SqliteStateStoreOptions& opts = {}) {
  auto r = OpenSqliteStateStore(db, opts);
  if (!r.ok()) {
    ADD_FAILURE() << "open " << db << ": " << r.status().ToString();
    return nullptr;
  }
  return std::move(r).value();
}

}  // namespace weir::host::testing

#endif  // WEIR_TESTS_STATE_STATE_TEST_UTIL_HPP
