// tests/state/state_test_util.hpp — shared helpers for the state store tests.
//
// TempDir makes a unique directory (mkdtemp) and removes it afterwards, so tests run in
// parallel without fixed paths. Intents built by MakeIntent use watermarks with embedded NULs
// and 0xFF bytes to prove that the store keeps them byte-exact.
#ifndef WEIR_TESTS_STATE_STATE_TEST_UTIL_HPP
#define WEIR_TESTS_STATE_STATE_TEST_UTIL_HPP

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "host/state/sqlite_state_store.hpp"
#include "host/state/state_store.hpp"

namespace weir::host::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "weir-state-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
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
