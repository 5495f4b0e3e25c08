// tests/security/collector_modes_test.cpp — the collector's store (the customers' events and
// profiles) is its owner's only, whatever the umask of whoever starts `weir-collector`: every
// directory 0700, every file 0600. Real `weir-collector`, real HTTP.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "../hostile/hostile_util.hpp"
#include "file_modes.hpp"

namespace {

namespace fs = std::filesystem;
namespace hostile = weir::test::hostile;
using weir::test::security::ExpectOwnerOnlyBelow;
using weir::test::security::Mode;

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
  // Both streams' segments and the commit records exist, so real files were checked.
  EXPECT_GE(ExpectOwnerOnlyBelow(store), 2);
}

}  // namespace
