// tests/snowflake/conformance_main.cpp — the weir conformance kit against libweir-snowflake.so,
// loading into the tests' PostgreSQL (postgresql dialect), one GoogleTest test per check.
//
// The kit needs the destination config when the tests are registered, so main() starts the
// server first — except when gtest only lists the tests (gtest_discover_tests at build time),
// where a placeholder config registers the same names, and for a run of only checks that never
// connect (ctest runs one check per process). Without PostgreSQL the tests are skipped with the
// reason, or fail under CI=true.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "pg_server.hpp"
#include "weir/testkit_gtest.hpp"

namespace {

using weir::snowflake::testing::InCi;
using weir::snowflake::testing::PgServer;

class RequirePostgres : public ::testing::Environment {
 public:
  void SetUp() override {
    if (PgServer::Shared() != nullptr) return;
    if (InCi()) {
      FAIL() << PgServer::UnavailableReason();
    } else {
      GTEST_SKIP() << PgServer::UnavailableReason();
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  bool listing = false;
  for (int i = 1; i < argc; ++i)
    listing = listing || std::strcmp(argv[i], "--gtest_list_tests") == 0;
  // ctest runs one check per process: start PostgreSQL only for the checks that connect.
  const std::string filter = ::testing::GTEST_FLAG(filter);
  bool connects = filter.find_first_of("*?") != std::string::npos;
  for (const char* check : {"destination_open_check_close", "destination_write_flush",
                            "destination_replay_same_key", "destination_cancellation"}) {
    connects = connects || filter.find(check) != std::string::npos;
  }
  weir::testkit::Options options;
  options.destination_config = R"({"dsn":"unused","schema":"KIT"})";
  if (!listing && connects) {
    ::testing::AddGlobalTestEnvironment(new RequirePostgres());
    if (PgServer* pg = PgServer::Shared()) {
      pg->ResetSchema("KIT");
      options.destination_config = pg->PluginConfig("KIT");
    }
  }
  weir::testkit::RegisterConformanceTests("SnowflakeConformance", WEIR_SNOWFLAKE_SO, options);
  return RUN_ALL_TESTS();
}
