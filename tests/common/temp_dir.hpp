// tests/common/temp_dir.hpp — a fresh temporary directory for one test, removed afterwards.
//
// Header-only, shared by every suite that needs scratch space. mkdtemp() makes the name unique,
// so tests run in parallel without fixed paths; the directory and everything in it is removed on
// destruction (errors ignored: a test must not fail while cleaning up). Each suite keeps its own
// prefix so a leftover directory says which suite left it.
//
//   weir::test::TempDir dir("weir-store");          // $TMPDIR/weir-store-AbC123
//   std::ofstream(dir.path() / "a.json") << "{}";
//   WriteFile(dir / "b.json", "{}");               // operator/ gives a std::string
#ifndef WEIR_TESTS_COMMON_TEMP_DIR_HPP
#define WEIR_TESTS_COMMON_TEMP_DIR_HPP

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace weir::test {

/// A directory `<temp_directory_path()>/<prefix>-XXXXXX`, created by the constructor and removed
/// with its contents by the destructor. Not copyable: exactly one owner removes it.
class TempDir {
 public:
  /// Creates the directory; throws std::runtime_error naming the template and the reason.
  explicit TempDir(std::string_view prefix) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp(" + tmpl + "): " + std::strerror(errno));
    }
    str_ = tmpl;
    path_ = str_;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& path() const { return path_; }
  /// The path as a string, for callers that build configs and messages by concatenation.
  const std::string& str() const { return str_; }
  /// `<dir>/<name>` as a string (converts implicitly to std::filesystem::path where needed).
  std::string operator/(std::string_view name) const {
    std::string out = str_;
    out += '/';
    out += name;
    return out;
  }

 private:
  std::string str_;
  std::filesystem::path path_;
};

}  // namespace weir::test

#endif  // WEIR_TESTS_COMMON_TEMP_DIR_HPP
