// tests/security/file_modes.hpp — checks that what weir created is its owner's only.
//
//   EXPECT_EQ(Mode(dir), 0700u);
//   int files = ExpectOwnerOnlyBelow(dir);  // every directory 0700, every file 0600
#ifndef WEIR_TESTS_SECURITY_FILE_MODES_HPP
#define WEIR_TESTS_SECURITY_FILE_MODES_HPP

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

namespace weir::test::security {

/// The permission bits of `p`, or 07777 when it cannot be stat'ed (never a wanted mode).
inline mode_t Mode(const std::filesystem::path& p) {
  struct stat st{};
  if (::stat(p.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

/// Fails the test for every directory below `root` that is not 0700 and every file that is not
/// 0600, naming it and its mode. Returns how many regular files it checked.
inline int ExpectOwnerOnlyBelow(const std::filesystem::path& root) {
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    const mode_t want = e.is_directory() ? 0700 : 0600;
    EXPECT_EQ(Mode(e.path()), want) << e.path() << std::oct << " has mode " << Mode(e.path());
    files += e.is_regular_file() ? 1 : 0;
  }
  return files;
}

}  // namespace weir::test::security

#endif  // WEIR_TESTS_SECURITY_FILE_MODES_HPP
