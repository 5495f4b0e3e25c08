// tests/security/collector_modes_test.cpp — the collector's store (the customers' events and
// profiles) is its owner's only, whatever the umask of whoever starts `weir-collector`: every
// directory 0700, every file 0600. Real `weir-collector`, real HTTP.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "../hostile/hostile_util.hpp"

namespace {

namespace fs = std::filesystem;
namespace hostile = weir::test::hostile;

mode_t Mode(const fs::path& p) {
  struct stat st{};
  if (::stat(p.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

TEST(CollectorModes, StoreDirectoriesAndFilesAreTheOwnersOnlyUnderAPermissiveUmask) {
  weir::test::TempDir dir("weir-sec-collector");
  const mode_t old = ::umask(022);  // inherited by the collector process
  hostile::Collector c = hostile::StartCollector(dir.path());
  ::umask(old);
  weir::test::ProcessGuard guard(c.process);
  ASSERT_GT(c.port, 0) << weir::test::ReadWholeFile(c.process.err);
  const hostile::Answer events = hostile::Post(
      c.port, "/v1/events", hostile::Bearer(),
      R"({"event":"signup","distinct_id":"u1","insert_id":"sec-1","time":1700000000000})"
      "\n");
  ASSERT_EQ(events.status, 200) << events.body;
  const hostile::Answer users = hostile::Post(
      c.port, "/v1/users", hostile::Bearer(),
      R"({"distinct_id":"u1","time":1700000000000,"$set":{"plan":"pro"}})"
      "\n");
  ASSERT_EQ(users.status, 200) << users.body;

  const fs::path store = dir.path() / "collected";
  ASSERT_TRUE(fs::is_directory(store));
  EXPECT_EQ(Mode(store), 0700u) << store;
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(store)) {
    const mode_t want = e.is_directory() ? 0700 : 0600;
    EXPECT_EQ(Mode(e.path()), want) << e.path() << std::oct << " has mode " << Mode(e.path());
    files += e.is_regular_file() ? 1 : 0;
  }
  // Both streams' segments and the commit records exist, so the loop checked real files.
  EXPECT_GE(files, 2);
}

}  // namespace
