// tests/s3/plugin/file_store_test.cpp — MakeFileObjectStore: keys as paths, atomic puts that
// leave no temp files, conditional puts, listing by prefix, and keys that could escape the root.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "object_store.hpp"
#include "test_util.hpp"

namespace weir::s3 {
namespace {

std::unique_ptr<ObjectStore> Store(const std::string& root) {
  auto s = MakeFileObjectStore(root, Hooks{});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

TEST(S3PluginFileStore, PutGetListDelete) {
  s3_test::TempDir dir;
  auto store = Store(dir / "root");  // created on the first Put
  EXPECT_EQ(store->Describe(), "file://" + dir.path() + "/root");
  ASSERT_TRUE(store->Put("p/mp_master_event/2026/11/22/10/a.json.gz", "one", {}).ok());
  ASSERT_TRUE(store->Put("p/mp_master_event/2026/11/22/11/b.json.gz", "two", {}).ok());
  ASSERT_TRUE(store->Put("p/mp_people_data/c.json.gz", "three", {}).ok());
  ASSERT_TRUE(store->Put("top.txt", "four", {}).ok());
  EXPECT_EQ(s3_test::ReadFile(dir / "root/p/mp_master_event/2026/11/22/10/a.json.gz"), "one");

  auto got = store->Get("p/mp_people_data/c.json.gz");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, "three");
  auto missing = store->Get("p/nothing/here.json");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  EXPECT_EQ(store->List("").value(),
            (std::vector<std::string>{"p/mp_master_event/2026/11/22/10/a.json.gz",
                                      "p/mp_master_event/2026/11/22/11/b.json.gz",
                                      "p/mp_people_data/c.json.gz", "top.txt"}));
  EXPECT_EQ(store->List("p/mp_master_event/2026/11/22/1").value(),
            (std::vector<std::string>{"p/mp_master_event/2026/11/22/10/a.json.gz",
                                      "p/mp_master_event/2026/11/22/11/b.json.gz"}));
  EXPECT_EQ(store->List("p/mp_people").value(),
            (std::vector<std::string>{"p/mp_people_data/c.json.gz"}));
  EXPECT_TRUE(store->List("zzz/")->empty());

  ASSERT_TRUE(store->Delete("top.txt").ok());
  ASSERT_TRUE(store->Delete("top.txt").ok()) << "deleting a missing object is not an error";
  EXPECT_FALSE(store->Get("top.txt")->has_value());
}

TEST(S3PluginFileStore, OverwriteReplacesButConditionalPutKeepsTheFirst) {
  s3_test::TempDir dir;
  auto store = Store(dir.path());
  ASSERT_TRUE(store->Put("k/x.json", "first", {}).ok());
  ASSERT_TRUE(store->Put("k/x.json", "second", {}).ok());
  EXPECT_EQ(store->Get("k/x.json").value().value(), "second");
  PutOptions conditional;
  conditional.if_none_match = true;
  ASSERT_TRUE(store->Put("k/x.json", "third", conditional).ok()) << "existing = a replay";
  EXPECT_EQ(store->Get("k/x.json").value().value(), "second");
  ASSERT_TRUE(store->Put("k/y.json", "new", conditional).ok());
  EXPECT_EQ(store->Get("k/y.json").value().value(), "new");
  // No temp files are left behind in the object's directory.
  EXPECT_EQ(s3_test::ReadTree(dir.path()).size(), 2u);
}

TEST(S3PluginFileStore, RefusesKeysThatEscapeTheRootOrCollideWithTempFiles) {
  s3_test::TempDir dir;
  auto store = Store(dir / "root");
  for (const char* key :
       {"", "../x", "a/../../x", "a//b", "/abs", "a/./b", "a/", "a/.weir-tmp-b"}) {
    Status s = store->Put(key, "x", {});
    EXPECT_FALSE(s.ok()) << "'" << key << "'";
    EXPECT_NE(s.message().find("invalid object key"), std::string::npos) << s.message();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "x"));
}

TEST(S3PluginFileStore, LeftoverTempFilesAreNotListed) {
  s3_test::TempDir dir;
  auto store = Store(dir.path());
  ASSERT_TRUE(store->Put("a/b.json", "x", {}).ok());
  s3_test::WriteFile(dir / "a/.weir-tmp-c.json.123.0", "partial");
  EXPECT_EQ(store->List("a/").value(), (std::vector<std::string>{"a/b.json"}));
}

TEST(S3PluginFileStore, ConcurrentPutsIntoNewDirectories) {
  s3_test::TempDir dir;
  auto store = Store(dir.path());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const std::string key = "d" + std::to_string(i % 5) + "/e/" + std::to_string(t) + "-" +
                                std::to_string(i) + ".json";
        EXPECT_TRUE(store->Put(key, key, {}).ok()) << key;
      }
    });
  }
  for (auto& th : threads) th.join();
  auto keys = store->List("");
  ASSERT_EQ(keys->size(), 80u);
  for (const auto& k : *keys) EXPECT_EQ(store->Get(k).value().value(), k);
}

TEST(S3PluginFileStore, ErrorsNameThePath) {
  s3_test::TempDir dir;
  s3_test::WriteFile(dir / "file", "not a directory");
  auto store = Store(dir / "file");
  Status s = store->Put("a/b.json", "x", {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir / "file"), std::string::npos) << s.message();
  EXPECT_FALSE(MakeFileObjectStore("relative/dir", Hooks{}).ok());
}

}  // namespace
}  // namespace weir::s3
