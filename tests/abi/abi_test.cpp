// tests/abi/abi_test.cpp — behaviour of the C++ wrapper (plugin.hpp) on both sides of the ABI.
//
// Status <-> weir_error, BatchBuilder -> weir_batch -> BatchView and the header-only helpers
// (json.hpp, files.hpp) are tested in-process.
// The WEIR_PLUGIN trampolines are tested across a real module boundary: abi_probe_plugin.cpp is
// built with weir_add_plugin() (WEIR_ABI_PROBE_PLUGIN is its path) and dlopen'ed here, because
// WEIR_PLUGIN defines the extern "C" entry symbol, which must not live in this binary.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "weir/files.hpp"
#include "weir/json.hpp"
#include "weir/plugin.h"
#include "weir/plugin.hpp"
#include "weir/validate.hpp"

namespace {

// ---------------------------------------------------------------------------------------------
// Status <-> weir_error

TEST(Json, QuotesEscapeExactlyWhatRfc8259Requires) {
  EXPECT_EQ(weir::JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(weir::JsonQuote("q\"b\\"), "\"q\\\"b\\\\\"");
  EXPECT_EQ(weir::JsonQuote(std::string("\n\r\t\b\f\x01\x1f", 7)),
            "\"\\n\\r\\t\\b\\f\\u0001\\u001f\"");
  EXPECT_EQ(weir::JsonQuote("caf\xc3\xa9 \xe6\x97\xa5 /</"), "\"caf\xc3\xa9 \xe6\x97\xa5 /</\"");
  std::string out = "x";
  weir::AppendJsonString(out, std::string("a\0b", 3));
  EXPECT_EQ(out, "x\"a\\u0000b\"");
}

// ---------------------------------------------------------------------------------------------
// files.hpp: KeyFileName and UniqueFd
//
// The expected hashes are FNV-1a 64 of the original key, computed independently (Python):
// file names are how plugins recognise replayed batches, so the exact output is pinned.

TEST(KeyFileName, PlainKeyIsReturnedUnchanged) {
  EXPECT_EQ(weir::KeyFileName("demo.events.000000000001"), "demo.events.000000000001");
  EXPECT_EQ(weir::KeyFileName("A-z_0.9"), "A-z_0.9");
  const std::string longest(160, 'k');  // exactly at the limit: kept, no hash
  EXPECT_EQ(weir::KeyFileName(longest), longest);
}

TEST(KeyFileName, UnsafeBytesAreReplacedAndTheKeyHashed) {
  EXPECT_EQ(weir::KeyFileName("a/b c"), "a_b_c.x9ec6f9bc43112c30");
  // Every byte of a multi-byte UTF-8 character is replaced on its own.
  EXPECT_EQ(weir::KeyFileName("\xc3\xa9v\xc3\xa9nement/\xc3\xbc"),
            "__v__nement___.xc6bcb485837de636");
  EXPECT_EQ(weir::KeyFileName(std::string("a\0b", 3)).substr(0, 5), "a_b.x");
}

TEST(KeyFileName, KeysDifferingInAReplacedByteGetDifferentNames) {
  const std::string slash = weir::KeyFileName("a/b");
  const std::string space = weir::KeyFileName("a b");
  EXPECT_EQ(slash, "a_b.xe620c3190468cf61");
  EXPECT_EQ(space, "a_b.xe63f991904833892");
  EXPECT_NE(slash, space);
  EXPECT_NE(slash, weir::KeyFileName("a_b"));
  EXPECT_EQ(weir::KeyFileName("a_b"), "a_b");
}

TEST(KeyFileName, LongKeyIsCutAndHashed) {
  const std::string key(500, 'k');
  const std::string name = weir::KeyFileName(key);
  EXPECT_EQ(name, std::string(160, 'k') + ".xca9f0b1b4329f689");
  EXPECT_EQ(name.size(), 160u + 18u);
  // Keys sharing their first 160 bytes still get different names.
  EXPECT_NE(name, weir::KeyFileName(std::string(161, 'k')));
  EXPECT_NE(weir::KeyFileName(std::string(161, 'k')), std::string(160, 'k'));
}

TEST(KeyFileName, EmptyDotAndDotDotGetAHash) {
  EXPECT_EQ(weir::KeyFileName(""), ".xcbf29ce484222325");
  EXPECT_EQ(weir::KeyFileName("."), "..xaf63a34c86018bb1");
  EXPECT_EQ(weir::KeyFileName(".."), "...x07da1a07b4a03f2d");
}

TEST(KeyFileName, IsDeterministicAndAlwaysASafeComponent) {
  const std::vector<std::string> keys = {
      "", "x", "../../etc/passwd", std::string(300, '/'), "\xff\xfe", "demo.events.000000000001"};
  for (const std::string& key : keys) {
    const std::string name = weir::KeyFileName(key);
    EXPECT_EQ(name, weir::KeyFileName(key)) << key;
    EXPECT_FALSE(name.empty()) << key;
    EXPECT_LE(name.size(), 178u) << key;
    EXPECT_NE(name, ".");
    EXPECT_NE(name, "..");
    for (char c : name) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')
          << key << " -> " << name;
    }
  }
}

TEST(UniqueFd, OwnsMovesReleasesAndCloses) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  weir::UniqueFd read_end(fds[0]);
  weir::UniqueFd write_end(fds[1]);
  EXPECT_TRUE(read_end.valid());
  EXPECT_EQ(read_end.get(), fds[0]);

  weir::UniqueFd moved(std::move(write_end));
  EXPECT_FALSE(write_end.valid());  // NOLINT(bugprone-use-after-move): the moved-from state
  EXPECT_EQ(moved.get(), fds[1]);
  EXPECT_EQ(moved.Close(), 0);
  EXPECT_FALSE(moved.valid());
  EXPECT_EQ(::fcntl(fds[1], F_GETFD), -1);  // really closed
  EXPECT_EQ(moved.Close(), 0);              // nothing left to close

  const int raw = read_end.release();
  EXPECT_EQ(raw, fds[0]);
  EXPECT_FALSE(read_end.valid());
  EXPECT_NE(::fcntl(raw, F_GETFD), -1);  // release() did not close it
  read_end.reset(raw);
  read_end = weir::UniqueFd();  // move-assigning closes the old descriptor
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
}

TEST(UniqueFd, CloseReportsErrno) {
  // A descriptor number that is not open: close() fails with EBADF, and Close() says so.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  weir::UniqueFd stale(fds[0]);
  EXPECT_EQ(stale.Close(), EBADF);
  EXPECT_FALSE(stale.valid());
}

TEST(Status, FillErrorAndFromErrorRoundTripEveryField) {
  const weir::Status original =
      weir::Status::Retryable("upload to bucket 'b' failed").WithSqlState("08001").WithVendorCode(
          503);
  weir_error error{};
  original.FillError(&error);
  EXPECT_EQ(error.struct_size, sizeof(weir_error));
  EXPECT_EQ(error.code, WEIR_ERROR);
  ASSERT_NE(error.message, nullptr);
  EXPECT_STREQ(error.message, "upload to bucket 'b' failed");
  EXPECT_EQ(error.retryable, 1);
  EXPECT_STREQ(error.sqlstate, "08001");
  EXPECT_EQ(error.vendor_code, 503);
  ASSERT_NE(error.release, nullptr);

  const weir::Status back = weir::Status::FromError(error.code, &error);
  EXPECT_EQ(back.code(), WEIR_ERROR);
  EXPECT_EQ(back.message(), "upload to bucket 'b' failed");
  EXPECT_TRUE(back.retryable());
  EXPECT_EQ(back.sqlstate(), "08001");
  EXPECT_EQ(back.vendor_code(), 503);
  // FromError takes the error over and releases it.
  EXPECT_EQ(error.release, nullptr);
  EXPECT_EQ(error.message, nullptr);
}

TEST(Status, EveryCodeSurvivesTheRoundTrip) {
  const std::vector<weir::Status> statuses = {
      weir::Status::Error("e"), weir::Status::InvalidConfig("config: 'dir' is required"),
      weir::Status::NotImplemented("n"), weir::Status::Cancelled()};
  for (const weir::Status& s : statuses) {
    weir_error error{};
    s.FillError(&error);
    EXPECT_EQ(error.code, s.code());
    EXPECT_EQ(error.retryable, 0);
    EXPECT_EQ(error.sqlstate[0], '\0');
    const weir::Status back = weir::Status::FromError(error.code, &error);
    EXPECT_EQ(back.code(), s.code());
    EXPECT_EQ(back.message(), s.message());
  }
}

TEST(Status, FillErrorOnOkLeavesTheErrorZeroed) {
  weir_error error{};
  weir::Status::OK().FillError(&error);
  EXPECT_EQ(error.code, 0);
  EXPECT_EQ(error.message, nullptr);
  EXPECT_EQ(error.release, nullptr);
}

TEST(Status, FillErrorTruncatesSqlStateToFiveCharacters) {
  weir_error error{};
  weir::Status::Error("x").WithSqlState("4200012345").FillError(&error);
  EXPECT_STREQ(error.sqlstate, "42000");
  weir_error_release(&error);
}

TEST(Status, FromErrorWithoutMessageSaysSo) {
  weir_error error{};
  const weir::Status s = weir::Status::FromError(WEIR_INVALID_CONFIG, &error);
  EXPECT_EQ(s.code(), WEIR_INVALID_CONFIG);
  EXPECT_EQ(s.message(), "plugin returned status 4 without a message");
  // A plugin that returns WEIR_OK to FromError is still reported as a failure.
  EXPECT_EQ(weir::Status::FromError(WEIR_OK, nullptr).code(), WEIR_ERROR);
}

TEST(Status, ErrorReleaseTwiceIsSafe) {
  weir_error error{};
  weir::Status::Error("released twice").FillError(&error);
  const auto release = error.release;
  ASSERT_NE(release, nullptr);
  release(&error);
  EXPECT_EQ(error.message, nullptr);
  EXPECT_EQ(error.release, nullptr);
  release(&error);             // a saved copy of release, called again: no double free
  weir_error_release(&error);  // the helper sees release == NULL and does nothing
  EXPECT_EQ(error.message, nullptr);
}

TEST(Status, ToStringAndWithContext) {
  EXPECT_EQ(weir::Status::OK().ToString(), "OK");
  EXPECT_EQ(weir::Status::Retryable("timeout").WithSqlState("08001").WithVendorCode(7).ToString(),
            "timeout [retryable] (SQLSTATE 08001, code 7)");
  EXPECT_EQ(weir::Status::Error("bad").WithVendorCode(2).ToString(), "bad (code 2)");
  EXPECT_EQ(weir::Status::InvalidConfig("missing 'dir'").WithContext("open").message(),
            "open: missing 'dir'");
  EXPECT_TRUE(weir::Status::OK().WithContext("open").ok());
}

// ---------------------------------------------------------------------------------------------
// BatchBuilder -> weir_batch -> BatchView

TEST(Batch, BuilderToCBatchToViewRoundTrip) {
  weir::BatchBuilder builder;
  builder.Add(R"({"event":"a"})", 1000, 7);
  builder.Add("", -5, 8);  // an empty record still gets its own line
  builder.Add(R"({"event":"c"})", 3000, 9);
  const std::string watermark("seg\0\x01\xff", 6);  // opaque bytes, embedded NUL included
  builder.set_high_watermark(watermark);
  EXPECT_EQ(builder.count(), 3u);

  weir_batch batch{};
  builder.Release(&batch);
  EXPECT_EQ(batch.struct_size, sizeof(weir_batch));
  EXPECT_EQ(batch.format, static_cast<uint32_t>(WEIR_FORMAT_NDJSON));
  ASSERT_EQ(batch.count, 3u);
  const std::string expected_data = "{\"event\":\"a\"}\n\n{\"event\":\"c\"}\n";
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(batch.data), batch.size), expected_data);
  ASSERT_NE(batch.offsets, nullptr);
  EXPECT_EQ(batch.offsets[0], 0u);
  EXPECT_EQ(batch.offsets[1], 14u);
  EXPECT_EQ(batch.offsets[2], 15u);
  EXPECT_EQ(batch.offsets[3], batch.size);  // count + 1 entries

  const weir::BatchView view(&batch);
  EXPECT_TRUE(view.has_offsets());
  EXPECT_EQ(view.count(), 3u);
  EXPECT_EQ(view.record(0), R"({"event":"a"})");
  EXPECT_EQ(view.record(1), "");
  EXPECT_EQ(view.record(2), R"({"event":"c"})");
  EXPECT_EQ(view.event_time_ms(0), 1000);
  EXPECT_EQ(view.event_time_ms(1), -5);
  EXPECT_EQ(view.ingest_seq(2), 9u);
  EXPECT_EQ(view.high_watermark().size(), 6u);
  EXPECT_EQ(view.high_watermark(), watermark);
  EXPECT_EQ(view.data(), expected_data);

  weir_batch_release(&batch);
  EXPECT_EQ(batch.release, nullptr);
  EXPECT_EQ(batch.data, nullptr);
}

TEST(Batch, EmptyBuilderGivesAnEmptyBatch) {
  weir::BatchBuilder builder;
  weir_batch batch{};
  builder.Release(&batch);
  EXPECT_EQ(batch.count, 0u);
  EXPECT_EQ(batch.size, 0u);
  ASSERT_NE(batch.offsets, nullptr);
  EXPECT_EQ(batch.offsets[0], 0u);
  weir_batch_release(&batch);
}

// BatchBuilder::AppendNdjson: a buffer that already is NDJSON, taken over with its starts.

TEST(Batch, AppendNdjsonTakesOverAValidBufferAndKeepsTheRecords) {
  weir::BatchBuilder builder;
  builder.Add(R"({"event":"first"})", 1, 1);  // not empty: the buffer is appended, not moved
  std::string ndjson = "{\"a\":1}\n\n{\"c\":3}\n";  // an empty record is a record, as with Add()
  const size_t starts[] = {0, 8, 9};
  const int64_t times[] = {10, 20, 30};
  const uint64_t seqs[] = {2, 3, 4};
  builder.AppendNdjson(std::move(ndjson), starts, times, seqs, 3);
  EXPECT_TRUE(builder.status().ok()) << builder.status().message();
  ASSERT_EQ(builder.count(), 4u);

  weir::BatchBuilder moved;  // empty: takes the buffer over
  std::string only = "{}\n{\"b\":2}\n";
  const size_t only_starts[] = {0, 3};
  moved.AppendNdjson(std::move(only), only_starts, times, seqs, 2);
  EXPECT_TRUE(moved.status().ok()) << moved.status().message();

  weir_batch batch{};
  builder.Release(&batch);
  const weir::BatchView view(&batch);
  ASSERT_EQ(view.count(), 4u);
  EXPECT_EQ(view.record(0), R"({"event":"first"})");
  EXPECT_EQ(view.record(1), R"({"a":1})");
  EXPECT_EQ(view.record(2), "");
  EXPECT_EQ(view.record(3), R"({"c":3})");
  EXPECT_EQ(view.event_time_ms(3), 30);
  EXPECT_EQ(view.ingest_seq(1), 2u);
  weir_batch_release(&batch);

  weir_batch second{};
  moved.Release(&second);
  const weir::BatchView view2(&second);
  ASSERT_EQ(view2.count(), 2u);
  EXPECT_EQ(view2.record(0), "{}");
  EXPECT_EQ(view2.record(1), R"({"b":2})");
  weir_batch_release(&second);
}

TEST(Batch, AppendNdjsonOfNothingIsANoOp) {
  weir::BatchBuilder builder;
  builder.AppendNdjson(std::string(), nullptr, nullptr, nullptr, 0);
  EXPECT_TRUE(builder.status().ok()) << builder.status().message();
  EXPECT_EQ(builder.count(), 0u);
  builder.Add("{}", 1, 1);
  builder.AppendNdjson(std::string(), nullptr, nullptr, nullptr, 0);
  EXPECT_TRUE(builder.status().ok()) << builder.status().message();
  EXPECT_EQ(builder.count(), 1u);
  EXPECT_EQ(builder.bytes(), 3u);
}

// Each bad layout is refused with a message naming the problem; nothing is appended and the
// caller's buffer is left alone; the first error sticks.
TEST(Batch, AppendNdjsonRefusesABadLayoutAndAppendsNothing) {
  const int64_t times[] = {1, 2, 3};
  const uint64_t seqs[] = {1, 2, 3};
  struct Case {
    const char* what;
    std::string ndjson;
    std::vector<size_t> starts;
    const char* message;
  } cases[] = {
      {"data without records", "{}\n", {},
       "BatchBuilder::AppendNdjson: no records but 3 bytes of data"},
      {"first start not 0", "{}\n{}\n", {3, 3},
       "BatchBuilder::AppendNdjson: starts[0] is 3, not 0"},
      {"starts decreasing", "{}\n{}\n{}\n", {0, 6, 3},
       "BatchBuilder::AppendNdjson: starts[2] is 3 after starts[1] 6 (starts must increase and "
       "stay below the 9 bytes of data)"},
      {"a start repeated", "{}\n{}\n", {0, 0},
       "BatchBuilder::AppendNdjson: starts[1] is 0 after starts[0] 0 (starts must increase and "
       "stay below the 6 bytes of data)"},
      {"a start past the data", "{}\n{}\n", {0, 6},
       "BatchBuilder::AppendNdjson: starts[1] is 6 after starts[0] 0 (starts must increase and "
       "stay below the 6 bytes of data)"},
      {"a start inside a record", "{\"a\":1}\n{}\n", {0, 4},
       "BatchBuilder::AppendNdjson: record 0 does not end in '\\n' (byte 3)"},
      {"last record without newline", "{}\n{}", {0, 3},
       "BatchBuilder::AppendNdjson: record 1 (the last) does not end in '\\n'"},
      {"records but no data", "", {0},
       "BatchBuilder::AppendNdjson: record 0 (the last) does not end in '\\n'"},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.what);
    weir::BatchBuilder builder;
    builder.Add("{\"kept\":1}", 1, 1);
    const std::string original = c.ndjson;
    builder.AppendNdjson(std::move(c.ndjson), c.starts.empty() ? nullptr : c.starts.data(), times,
                         seqs, c.starts.size());
    EXPECT_EQ(builder.status().code(), WEIR_ERROR);
    EXPECT_EQ(builder.status().message(), c.message);
    EXPECT_EQ(c.ndjson, original);  // not moved from
    EXPECT_EQ(builder.count(), 1u);
    EXPECT_EQ(builder.bytes(), 11u);
    // The first error sticks: a later good call appends but does not clear it.
    std::string good = "{}\n";
    const size_t zero = 0;
    builder.AppendNdjson(std::move(good), &zero, times, seqs, 1);
    EXPECT_EQ(builder.status().message(), c.message);
  }
  // NULL arrays with records.
  weir::BatchBuilder builder;
  const size_t starts[] = {0};
  builder.AppendNdjson("{}\n", starts, nullptr, seqs, 1);
  EXPECT_EQ(builder.status().message(),
            "BatchBuilder::AppendNdjson: NULL starts, event_time_ms or ingest_seq for 1 records");
  weir::BatchBuilder empty_builder;  // an empty builder must not take the buffer over either
  std::string kept = "{}\n";
  const size_t bad[] = {1};
  empty_builder.AppendNdjson(std::move(kept), bad, times, seqs, 1);
  EXPECT_EQ(kept, "{}\n");
  EXPECT_EQ(empty_builder.bytes(), 0u);
  EXPECT_FALSE(empty_builder.status().ok());
}

// The read trampoline fails the read with the builder's error instead of delivering a batch.
struct BadNdjsonSource : weir::Source {
  static weir::Result<std::unique_ptr<BadNdjsonSource>> Open(std::string_view, weir::Host) {
    return std::make_unique<BadNdjsonSource>();
  }
  weir::Status Check() override { return weir::Status::OK(); }
  weir::Status Read(const weir::ReadRequest&, weir::BatchBuilder& out) override {
    const size_t starts[] = {0, 2};  // record 0 is "{}\n": the second start is off by one
    const int64_t times[] = {1, 2};
    const uint64_t seqs[] = {1, 2};
    out.AppendNdjson("{}\n{}\n", starts, times, seqs, 2);
    out.set_high_watermark("wm");
    return weir::Status::OK();  // the source does not look at status(): the SDK does
  }
};

TEST(Batch, ReadTrampolineFailsTheReadOnARefusedAppendNdjson) {
  weir::internal::Instance<BadNdjsonSource> instance{std::make_unique<BadNdjsonSource>(),
                                                     weir::Host()};
  weir_read_request request{};
  request.struct_size = sizeof(request);
  request.mode = WEIR_READ_RANGE;
  request.stream = "events";
  weir_batch batch{};
  weir_error error{};
  EXPECT_EQ(weir::internal::ReadImpl<BadNdjsonSource>(
                reinterpret_cast<weir_instance*>(&instance), &request, &batch, &error),
            WEIR_ERROR);
  EXPECT_STREQ(error.message,
               "read: BatchBuilder::AppendNdjson: record 0 does not end in '\\n' (byte 1)");
  weir_error_release(&error);
  EXPECT_EQ(batch.release, nullptr);  // no batch handed over
  EXPECT_EQ(batch.count, 0u);
}

TEST(Batch, ReleaseTwiceIsSafe) {
  weir::BatchBuilder builder;
  builder.Add("{}", 1, 1);
  weir_batch batch{};
  builder.Release(&batch);
  const auto release = batch.release;
  ASSERT_NE(release, nullptr);
  release(&batch);
  EXPECT_EQ(batch.release, nullptr);
  EXPECT_EQ(batch.private_data, nullptr);
  release(&batch);  // a saved copy, again: no double delete
  weir_batch_release(&batch);
  weir_batch zeroed{};
  weir_batch_release(&zeroed);
}

// ---------------------------------------------------------------------------------------------
// Result, WEIR_ASSIGN_OR_RETURN, WEIR_RETURN_NOT_OK

weir::Result<int> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return weir::Status::InvalidConfig("config: 'port' must be a number, got '" +
                                       std::string(text) + "'");
  }
  return std::stoi(std::string(text));
}

weir::Result<std::string> Endpoint(std::string_view host, std::string_view port) {
  WEIR_ASSIGN_OR_RETURN(int p, ParsePort(port));  // declares
  std::string out;
  // A second use in the same scope (distinct temporaries), assigning an existing variable.
  WEIR_ASSIGN_OR_RETURN(out,
                        weir::Result<std::string>(std::string(host) + ":" + std::to_string(p)));
  return out;
}

TEST(Result, AssignOrReturnAssignsOrPropagatesTheExactStatus) {
  const weir::Result<std::string> good = Endpoint("db", "5432");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.value(), "db:5432");
  EXPECT_TRUE(good.status().ok());

  const weir::Result<std::string> bad = Endpoint("db", "54x2");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), WEIR_INVALID_CONFIG);
  EXPECT_EQ(bad.status().message(), "config: 'port' must be a number, got '54x2'");
}

TEST(Result, HoldsMoveOnlyValuesAndConvertibleOnes) {
  weir::Result<std::unique_ptr<int>> r = std::make_unique<int>(42);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> owned = std::move(r).value();
  EXPECT_EQ(*owned, 42);
  const weir::Result<std::string> from_literal = "converted";
  EXPECT_EQ(from_literal.value(), "converted");
}

TEST(Result, ReturnNotOkStopsAtTheFirstFailure) {
  int steps = 0;
  auto step = [&](bool ok) {
    ++steps;
    return ok ? weir::Status::OK() : weir::Status::Retryable("step " + std::to_string(steps));
  };
  auto run = [&]() -> weir::Status {
    WEIR_RETURN_NOT_OK(step(true));
    WEIR_RETURN_NOT_OK(step(false));
    WEIR_RETURN_NOT_OK(step(true));
    return weir::Status::OK();
  };
  const weir::Status s = run();
  EXPECT_EQ(steps, 2);
  EXPECT_EQ(s.message(), "step 2");
  EXPECT_TRUE(s.retryable());
}

// ---------------------------------------------------------------------------------------------
// The WEIR_PLUGIN trampolines, through a dlopen'ed plugin

/// Host services that record what the plugin does.
struct TestHost {
  std::vector<std::string> logs;
  bool cancelled = false;
  weir_host_services services{};

  TestHost() {
    services.struct_size = sizeof(weir_host_services);
    services.host_data = this;
    services.log = [](void* self, int32_t, const char* message, size_t len) {
      static_cast<TestHost*>(self)->logs.emplace_back(message, len);
    };
    services.metric = [](void*, const char*, int32_t, double) {};
    services.is_cancelled = [](void* self) -> int32_t {
      return static_cast<TestHost*>(self)->cancelled ? 1 : 0;
    };
    services.get_secret = [](void*, const char*, const char**, size_t*) -> weir_status {
      return WEIR_ERROR;
    };
  }

  bool Logged(std::string_view line) const {
    return std::find(logs.begin(), logs.end(), line) != logs.end();
  }
};

class Trampolines : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Loaded once and never unloaded, as the host does.
    handle_ = dlopen(WEIR_ABI_PROBE_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    entry_ = reinterpret_cast<weir_plugin_entry_fn>(dlsym(handle_, WEIR_ENTRY_SYMBOL));
    ASSERT_NE(entry_, nullptr) << "no " << WEIR_ENTRY_SYMBOL << " in " << WEIR_ABI_PROBE_PLUGIN;
  }

  void SetUp() override {
    ASSERT_NE(entry_, nullptr);
    const weir_host_info info{sizeof(weir_host_info), WEIR_ABI_MAJOR, 0, WEIR_ABI_MINOR,
                              "abi_test"};
    weir_error error{};
    ASSERT_EQ(entry_(&info, &plugin_, &error), WEIR_OK)
        << weir::Status::FromError(WEIR_ERROR, &error).ToString();
    ASSERT_NE(plugin_.destination, nullptr);
    ASSERT_NE(plugin_.source, nullptr);
  }

  /// Opens a destination with `config`, expecting success.
  weir_instance* OpenDestination(std::string_view config) {
    weir_instance* instance = nullptr;
    weir_error error{};
    const weir_status status = plugin_.destination->open(config.data(), config.size(),
                                                         &host_.services, &instance, &error);
    EXPECT_EQ(status, WEIR_OK) << weir::Status::FromError(status, &error).ToString();
    return instance;
  }

  /// Writes a one-record batch to `stream`; returns the status and fills `error`.
  weir_status WriteTo(weir_instance* instance, const char* stream, weir_error* error) {
    weir::BatchBuilder builder;
    builder.Add("{}", 1, 1);
    weir_batch batch{};
    builder.Release(&batch);
    weir_write_request request{};
    request.struct_size = sizeof(request);
    request.pipeline = "p";
    request.project = "proj";
    request.stream = stream;
    request.batch_seq = 1;
    request.idempotency_key = "p-events-1";
    request.batch = &batch;
    const weir_status status = plugin_.destination->write(instance, &request, error);
    weir_batch_release(&batch);
    return status;
  }

  static void* handle_;
  static weir_plugin_entry_fn entry_;
  weir_plugin plugin_{};
  TestHost host_;
};

void* Trampolines::handle_ = nullptr;
weir_plugin_entry_fn Trampolines::entry_ = nullptr;

TEST_F(Trampolines, NegotiatesTheHighestCommonMinorAndAValidDescriptor) {
  const weir_host_info info{sizeof(weir_host_info), WEIR_ABI_MAJOR, 0, WEIR_ABI_MINOR + 5,
                            "future host"};
  weir_plugin plugin{};
  weir_error error{};
  ASSERT_EQ(entry_(&info, &plugin, &error), WEIR_OK);
  EXPECT_EQ(plugin.abi_minor, static_cast<uint32_t>(WEIR_ABI_MINOR));
  EXPECT_EQ(plugin.struct_size, sizeof(weir_plugin));
  EXPECT_STREQ(plugin.name, "abi-probe");
  EXPECT_EQ(plugin.kinds, WEIR_KIND_SOURCE | WEIR_KIND_DESTINATION);
  EXPECT_EQ(plugin.stream_count, 3u);
  const weir::Status valid = weir::ValidateDescriptor(plugin, 0, WEIR_ABI_MINOR + 5);
  EXPECT_TRUE(valid.ok()) << valid.message();
  EXPECT_EQ(error.release, nullptr);  // untouched on WEIR_OK
}

TEST_F(Trampolines, MinorMinAboveOursIsNotImplemented) {
  const weir_host_info info{sizeof(weir_host_info), WEIR_ABI_MAJOR, WEIR_ABI_MINOR + 1,
                            WEIR_ABI_MINOR + 3, "newer host"};
  weir_plugin plugin{};
  weir_error error{};
  EXPECT_EQ(entry_(&info, &plugin, &error), WEIR_NOT_IMPLEMENTED);
  EXPECT_EQ(error.code, WEIR_NOT_IMPLEMENTED);
  ASSERT_NE(error.message, nullptr);
  const std::string message = error.message;
  EXPECT_NE(message.find("abi-probe"), std::string::npos) << message;
  EXPECT_NE(message.find("1." + std::to_string(WEIR_ABI_MINOR + 1)), std::string::npos) << message;
  EXPECT_EQ(error.retryable, 0);
  weir_error_release(&error);
  EXPECT_EQ(plugin.name, nullptr);  // nothing described
}

TEST_F(Trampolines, OtherMajorIsNotImplemented) {
  const weir_host_info info{sizeof(weir_host_info), WEIR_ABI_MAJOR + 1, 0, 0, "v2 host"};
  weir_plugin plugin{};
  weir_error error{};
  EXPECT_EQ(entry_(&info, &plugin, &error), WEIR_NOT_IMPLEMENTED);
  weir_error_release(&error);
}

TEST_F(Trampolines, InvalidConfigComesBackWithItsMessageAndNoInstance) {
  weir_instance* instance = reinterpret_cast<weir_instance*>(&host_);  // must be overwritten
  weir_error error{};
  EXPECT_EQ(plugin_.destination->open("bad", 3, &host_.services, &instance, &error),
            WEIR_INVALID_CONFIG);
  EXPECT_EQ(instance, nullptr);
  EXPECT_EQ(error.code, WEIR_INVALID_CONFIG);
  EXPECT_STREQ(error.message, "config: field 'x' is bad");
  weir_error_release(&error);
}

TEST_F(Trampolines, ExceptionsInOpenBecomeErrors) {
  for (const std::string config : {"throw", "nonstd"}) {
    weir_instance* instance = nullptr;
    weir_error error{};
    EXPECT_EQ(plugin_.source->open(config.data(), config.size(), &host_.services, &instance,
                                   &error),
              WEIR_ERROR);
    EXPECT_EQ(instance, nullptr);
    ASSERT_NE(error.message, nullptr);
    const std::string message = error.message;
    EXPECT_EQ(message, config == "throw" ? "open: unexpected exception: open exploded"
                                         : "open: unexpected non-standard exception");
    weir_error_release(&error);
  }
}

TEST_F(Trampolines, ExceptionInWriteIsAnErrorWithItsMessageAndTheInstanceStaysUsable) {
  weir_instance* instance = OpenDestination("ok");
  ASSERT_NE(instance, nullptr);
  weir_error error{};
  EXPECT_EQ(WriteTo(instance, "throw", &error), WEIR_ERROR);
  EXPECT_TRUE(host_.Logged("write called"));
  ASSERT_NE(error.message, nullptr);
  EXPECT_STREQ(error.message, "write: unexpected exception: boom in Write");
  EXPECT_EQ(error.retryable, 0);
  weir_error_release(&error);

  weir_error error2{};
  EXPECT_EQ(WriteTo(instance, "nonstd", &error2), WEIR_ERROR);
  EXPECT_STREQ(error2.message, "write: unexpected non-standard exception");
  weir_error_release(&error2);

  weir_error error3{};
  EXPECT_EQ(WriteTo(instance, "events", &error3), WEIR_OK);
  EXPECT_TRUE(host_.Logged("wrote 1 records under p-events-1"));
  EXPECT_EQ(error3.release, nullptr);
  plugin_.destination->close(instance);
  EXPECT_TRUE(host_.Logged("destination closed"));
}

TEST_F(Trampolines, CancelledWriteReturnsCancelledWithoutCallingTheClass) {
  weir_instance* instance = OpenDestination("ok");
  ASSERT_NE(instance, nullptr);
  host_.cancelled = true;
  weir_error error{};
  EXPECT_EQ(WriteTo(instance, "events", &error), WEIR_CANCELLED);
  EXPECT_EQ(error.code, WEIR_CANCELLED);
  EXPECT_NE(error.message, nullptr);
  weir_error_release(&error);
  EXPECT_FALSE(host_.Logged("write called"));
  host_.cancelled = false;
  plugin_.destination->close(instance);
}

TEST_F(Trampolines, CancelledReadReturnsCancelledWithoutCallingTheClass) {
  weir_instance* instance = nullptr;
  weir_error error{};
  ASSERT_EQ(plugin_.source->open("ok", 2, &host_.services, &instance, &error), WEIR_OK);
  host_.cancelled = true;
  weir_read_request request{};
  request.struct_size = sizeof(request);
  request.mode = WEIR_READ_RANGE;
  request.stream = "events";
  weir_batch batch{};
  EXPECT_EQ(plugin_.source->read(instance, &request, &batch, &error), WEIR_CANCELLED);
  EXPECT_EQ(error.code, WEIR_CANCELLED);
  weir_error_release(&error);
  EXPECT_FALSE(host_.Logged("read called"));
  EXPECT_EQ(batch.release, nullptr);  // no batch was handed over
  plugin_.source->close(instance);
  EXPECT_TRUE(host_.Logged("source closed"));
}

TEST_F(Trampolines, ReadHandsOverAnOwnedBatch) {
  weir_instance* instance = nullptr;
  weir_error error{};
  ASSERT_EQ(plugin_.source->open("ok", 2, &host_.services, &instance, &error), WEIR_OK);
  weir_read_request request{};
  request.struct_size = sizeof(request);
  request.mode = WEIR_READ_RANGE;
  request.stream = "events";
  weir_batch batch{};
  ASSERT_EQ(plugin_.source->read(instance, &request, &batch, &error), WEIR_OK);
  EXPECT_TRUE(host_.Logged("read called"));
  const weir::BatchView view(&batch);
  ASSERT_EQ(view.count(), 2u);
  EXPECT_EQ(view.record(1), R"({"event":"b"})");
  EXPECT_EQ(view.event_time_ms(1), 2000);
  EXPECT_EQ(view.high_watermark(), std::string_view("wm\0end", 6));
  plugin_.source->close(instance);  // the batch outlives the instance that produced it
  EXPECT_EQ(view.record(0), R"({"event":"a"})");
  weir_batch_release(&batch);
  EXPECT_EQ(batch.release, nullptr);
}

TEST_F(Trampolines, ExceptionInReadLeavesTheBatchZeroed) {
  weir_instance* instance = nullptr;
  weir_error error{};
  ASSERT_EQ(plugin_.source->open("ok", 2, &host_.services, &instance, &error), WEIR_OK);
  weir_read_request request{};
  request.struct_size = sizeof(request);
  request.stream = "throw";
  weir_batch batch{};
  EXPECT_EQ(plugin_.source->read(instance, &request, &batch, &error), WEIR_ERROR);
  EXPECT_STREQ(error.message, "read: unexpected exception: boom in Read");
  weir_error_release(&error);
  EXPECT_EQ(batch.release, nullptr);
  EXPECT_EQ(batch.count, 0u);
  plugin_.source->close(instance);
}

TEST_F(Trampolines, CheckErrorKeepsRetryableSqlStateAndVendorCode) {
  weir_instance* instance = OpenDestination("failcheck");
  ASSERT_NE(instance, nullptr);
  weir_error error{};
  EXPECT_EQ(plugin_.destination->check(instance, &error), WEIR_ERROR);
  const weir::Status s = weir::Status::FromError(WEIR_ERROR, &error);
  EXPECT_EQ(s.message(), "check: probe upload failed");
  EXPECT_TRUE(s.retryable());
  EXPECT_EQ(s.sqlstate(), "08001");
  EXPECT_EQ(s.vendor_code(), 503);
  plugin_.destination->close(instance);
}

TEST_F(Trampolines, FlushReachesTheClass) {
  weir_instance* instance = OpenDestination("ok");
  ASSERT_NE(instance, nullptr);
  weir_error error{};
  EXPECT_EQ(plugin_.destination->flush(instance, &error), WEIR_OK);
  EXPECT_TRUE(host_.Logged("flush called"));
  plugin_.destination->close(instance);
}

TEST_F(Trampolines, NullArgumentsAreErrorsNotCrashes) {
  weir_instance* instance = OpenDestination("ok");
  ASSERT_NE(instance, nullptr);
  weir_write_request request{};
  request.struct_size = sizeof(request);
  request.stream = "events";
  request.idempotency_key = "k";
  weir_error error{};
  EXPECT_EQ(plugin_.destination->write(instance, &request, &error), WEIR_ERROR);  // batch NULL
  EXPECT_STREQ(error.message, "write: NULL argument");
  weir_error_release(&error);
  EXPECT_EQ(plugin_.destination->check(nullptr, &error), WEIR_ERROR);
  weir_error_release(&error);
  EXPECT_FALSE(host_.Logged("write called"));
  plugin_.destination->close(instance);
}

TEST_F(Trampolines, OnlyTheEntrySymbolIsExported) {
  EXPECT_NE(dlsym(handle_, "weir_plugin_entry_v1"), nullptr);
  EXPECT_EQ(dlsym(handle_, "weir_abi_probe_hidden_marker"), nullptr);
}

}  // namespace
