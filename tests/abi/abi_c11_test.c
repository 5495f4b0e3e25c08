/* tests/abi/abi_c11_test.c — plugin.h is plain, pedantic C11 and its v1.0 layout is frozen.
 *
 * Built with -std=c11 -Wall -Wextra -Wpedantic -Werror (C_EXTENSIONS OFF), so a C++-ism or a
 * compiler extension slipping into the header fails the build. The _Static_asserts pin what a
 * plugin compiled against v1.0 relies on: struct_size first in every struct, the widths of
 * fixed-size members, the values of every constant, and (on LP64 targets) the offset of every
 * v1.0 member and the v1.0 size of every struct. A future minor may only append members, which
 * grows sizes but leaves every offset below unchanged — so when a minor is added, update the
 * WEIR_ASSERT_SIZE lines deliberately, never the offsets. The runtime part checks the release
 * helpers' "safe twice / safe on zeroed" contract from C.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir/plugin.h"

#define WEIR_MEMBER_SIZE(type, member) sizeof(((struct type*)0)->member)
#define WEIR_ASSERT_FIRST(type) \
  _Static_assert(offsetof(struct type, struct_size) == 0, #type ": struct_size must be first"); \
  _Static_assert(WEIR_MEMBER_SIZE(type, struct_size) == 4, #type ": struct_size is 32 bits")
#define WEIR_ASSERT_OFFSET(type, member, offset) \
  _Static_assert(offsetof(struct type, member) == (offset), #type "." #member " moved")
#define WEIR_ASSERT_SIZE(type, size) \
  _Static_assert(sizeof(struct type) == (size), #type ": v1.0 size changed")

/* struct_size is the first member of every struct that crosses the boundary. */
WEIR_ASSERT_FIRST(weir_error);
WEIR_ASSERT_FIRST(weir_host_services);
WEIR_ASSERT_FIRST(weir_host_info);
WEIR_ASSERT_FIRST(weir_batch);
WEIR_ASSERT_FIRST(weir_read_request);
WEIR_ASSERT_FIRST(weir_source_vtable);
WEIR_ASSERT_FIRST(weir_write_request);
WEIR_ASSERT_FIRST(weir_destination_vtable);
WEIR_ASSERT_FIRST(weir_plugin);
WEIR_ASSERT_FIRST(weir_service_vtable);

/* Fixed-width members (the same on every platform). */
_Static_assert(sizeof(weir_status) == 4, "weir_status is int32_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_error, code) == 4, "weir_error.code is int32_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_error, retryable) == 4, "weir_error.retryable is int32_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_error, sqlstate) == 6, "SQLSTATE is 5 chars + NUL");
_Static_assert(WEIR_MEMBER_SIZE(weir_error, vendor_code) == 4, "vendor_code is int32_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_host_info, abi_major) == 4, "abi_major is uint32_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_host_info, abi_minor_min) == 4, "abi_minor_min is uint32_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_host_info, abi_minor_max) == 4, "abi_minor_max is uint32_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_batch, format) == 4, "batch format is uint32_t");
_Static_assert(sizeof(*((struct weir_batch*)0)->event_time_ms) == 8, "event times are int64_t");
_Static_assert(sizeof(*((struct weir_batch*)0)->ingest_seq) == 8, "ingest seqs are uint64_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_read_request, mode) == 4, "read mode is int32_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_read_request, max_records) == 8, "max_records is uint64_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_read_request, max_bytes) == 8, "max_bytes is uint64_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_read_request, window_start_ms) == 8, "window is int64_t ms");
_Static_assert(WEIR_MEMBER_SIZE(weir_read_request, window_end_ms) == 8, "window is int64_t ms");
_Static_assert(WEIR_MEMBER_SIZE(weir_write_request, batch_seq) == 8, "batch_seq is uint64_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_plugin, abi_minor) == 4, "abi_minor is uint32_t");
_Static_assert(WEIR_MEMBER_SIZE(weir_plugin, kinds) == 4, "kinds is uint32_t");

/* Every constant's value is part of the v1 ABI. */
_Static_assert(WEIR_ABI_MAJOR == 1, "this test freezes ABI major 1");
_Static_assert(WEIR_ABI_MINOR >= 1, "minors only grow");
_Static_assert(WEIR_KIND_SERVICE == 4u, "kinds are frozen");
_Static_assert(WEIR_OK == 0 && WEIR_ERROR == 1 && WEIR_NOT_IMPLEMENTED == 2 &&
                   WEIR_CANCELLED == 3 && WEIR_INVALID_CONFIG == 4,
               "status codes are frozen");
_Static_assert(WEIR_LOG_TRACE == 0 && WEIR_LOG_DEBUG == 1 && WEIR_LOG_INFO == 2 &&
                   WEIR_LOG_WARN == 3 && WEIR_LOG_ERROR == 4,
               "log levels are frozen");
_Static_assert(WEIR_METRIC_COUNTER == 0 && WEIR_METRIC_GAUGE == 1, "metric kinds are frozen");
_Static_assert(WEIR_FORMAT_NDJSON == 1, "batch formats are frozen");
_Static_assert(WEIR_READ_RANGE == 1 && WEIR_READ_WINDOW == 2, "read modes are frozen");
_Static_assert(WEIR_KIND_SOURCE == 1u && WEIR_KIND_DESTINATION == 2u, "kinds are frozen");

#if defined(__LP64__) && (defined(__x86_64__) || defined(__aarch64__))
/* The v1.0 layout on LP64 Linux, member by member. */
WEIR_ASSERT_OFFSET(weir_error, struct_size, 0);
WEIR_ASSERT_OFFSET(weir_error, code, 4);
WEIR_ASSERT_OFFSET(weir_error, message, 8);
WEIR_ASSERT_OFFSET(weir_error, retryable, 16);
WEIR_ASSERT_OFFSET(weir_error, sqlstate, 20);
WEIR_ASSERT_OFFSET(weir_error, vendor_code, 28);
WEIR_ASSERT_OFFSET(weir_error, release, 32);
WEIR_ASSERT_OFFSET(weir_error, private_data, 40);
WEIR_ASSERT_SIZE(weir_error, 48);
WEIR_ASSERT_OFFSET(weir_host_services, struct_size, 0);
WEIR_ASSERT_OFFSET(weir_host_services, host_data, 8);
WEIR_ASSERT_OFFSET(weir_host_services, log, 16);
WEIR_ASSERT_OFFSET(weir_host_services, metric, 24);
WEIR_ASSERT_OFFSET(weir_host_services, is_cancelled, 32);
WEIR_ASSERT_OFFSET(weir_host_services, get_secret, 40);
WEIR_ASSERT_SIZE(weir_host_services, 48);
WEIR_ASSERT_OFFSET(weir_host_info, struct_size, 0);
WEIR_ASSERT_OFFSET(weir_host_info, abi_major, 4);
WEIR_ASSERT_OFFSET(weir_host_info, abi_minor_min, 8);
WEIR_ASSERT_OFFSET(weir_host_info, abi_minor_max, 12);
WEIR_ASSERT_OFFSET(weir_host_info, host_version, 16);
WEIR_ASSERT_SIZE(weir_host_info, 24);
WEIR_ASSERT_OFFSET(weir_bytes, data, 0);
WEIR_ASSERT_OFFSET(weir_bytes, size, 8);
WEIR_ASSERT_SIZE(weir_bytes, 16);
WEIR_ASSERT_OFFSET(weir_batch, struct_size, 0);
WEIR_ASSERT_OFFSET(weir_batch, format, 4);
WEIR_ASSERT_OFFSET(weir_batch, data, 8);
WEIR_ASSERT_OFFSET(weir_batch, size, 16);
WEIR_ASSERT_OFFSET(weir_batch, count, 24);
WEIR_ASSERT_OFFSET(weir_batch, event_time_ms, 32);
WEIR_ASSERT_OFFSET(weir_batch, ingest_seq, 40);
WEIR_ASSERT_OFFSET(weir_batch, offsets, 48);
WEIR_ASSERT_OFFSET(weir_batch, high_watermark, 56);
WEIR_ASSERT_OFFSET(weir_batch, release, 72);
WEIR_ASSERT_OFFSET(weir_batch, private_data, 80);
WEIR_ASSERT_SIZE(weir_batch, 88);
WEIR_ASSERT_OFFSET(weir_read_request, struct_size, 0);
WEIR_ASSERT_OFFSET(weir_read_request, mode, 4);
WEIR_ASSERT_OFFSET(weir_read_request, stream, 8);
WEIR_ASSERT_OFFSET(weir_read_request, from_wm, 16);
WEIR_ASSERT_OFFSET(weir_read_request, to_wm, 32);
WEIR_ASSERT_OFFSET(weir_read_request, max_records, 48);
WEIR_ASSERT_OFFSET(weir_read_request, max_bytes, 56);
WEIR_ASSERT_OFFSET(weir_read_request, window_start_ms, 64);
WEIR_ASSERT_OFFSET(weir_read_request, window_end_ms, 72);
WEIR_ASSERT_OFFSET(weir_read_request, bound_wm, 80);
WEIR_ASSERT_SIZE(weir_read_request, 96);
WEIR_ASSERT_OFFSET(weir_source_vtable, struct_size, 0);
WEIR_ASSERT_OFFSET(weir_source_vtable, open, 8);
WEIR_ASSERT_OFFSET(weir_source_vtable, check, 16);
WEIR_ASSERT_OFFSET(weir_source_vtable, read, 24);
WEIR_ASSERT_OFFSET(weir_source_vtable, close, 32);
WEIR_ASSERT_SIZE(weir_source_vtable, 40);
WEIR_ASSERT_OFFSET(weir_write_request, struct_size, 0);
WEIR_ASSERT_OFFSET(weir_write_request, pipeline, 8);
WEIR_ASSERT_OFFSET(weir_write_request, project, 16);
WEIR_ASSERT_OFFSET(weir_write_request, stream, 24);
WEIR_ASSERT_OFFSET(weir_write_request, batch_seq, 32);
WEIR_ASSERT_OFFSET(weir_write_request, idempotency_key, 40);
WEIR_ASSERT_OFFSET(weir_write_request, batch, 48);
WEIR_ASSERT_SIZE(weir_write_request, 56);
WEIR_ASSERT_OFFSET(weir_destination_vtable, struct_size, 0);
WEIR_ASSERT_OFFSET(weir_destination_vtable, open, 8);
WEIR_ASSERT_OFFSET(weir_destination_vtable, check, 16);
WEIR_ASSERT_OFFSET(weir_destination_vtable, write, 24);
WEIR_ASSERT_OFFSET(weir_destination_vtable, flush, 32);
WEIR_ASSERT_OFFSET(weir_destination_vtable, close, 40);
WEIR_ASSERT_SIZE(weir_destination_vtable, 48);
WEIR_ASSERT_OFFSET(weir_plugin, struct_size, 0);
WEIR_ASSERT_OFFSET(weir_plugin, abi_minor, 4);
WEIR_ASSERT_OFFSET(weir_plugin, name, 8);
WEIR_ASSERT_OFFSET(weir_plugin, version, 16);
WEIR_ASSERT_OFFSET(weir_plugin, description, 24);
WEIR_ASSERT_OFFSET(weir_plugin, kinds, 32);
WEIR_ASSERT_OFFSET(weir_plugin, streams, 40);
WEIR_ASSERT_OFFSET(weir_plugin, stream_count, 48);
WEIR_ASSERT_OFFSET(weir_plugin, config_schema, 56);
WEIR_ASSERT_OFFSET(weir_plugin, source, 64);
WEIR_ASSERT_OFFSET(weir_plugin, destination, 72);
WEIR_ASSERT_OFFSET(weir_plugin, release, 80);
WEIR_ASSERT_OFFSET(weir_plugin, private_data, 88);
_Static_assert(WEIR_PLUGIN_SIZE_1_0 == 96, "weir_plugin: v1.0 size changed");
/* 1.1 appended the service vtable. */
WEIR_ASSERT_OFFSET(weir_plugin, service, 96);
_Static_assert(WEIR_PLUGIN_SIZE_1_1 == 104, "weir_plugin: v1.1 size changed");
WEIR_ASSERT_SIZE(weir_plugin, 104);
WEIR_ASSERT_OFFSET(weir_service_vtable, open, 8);
WEIR_ASSERT_OFFSET(weir_service_vtable, run, 16);
WEIR_ASSERT_OFFSET(weir_service_vtable, close, 24);
WEIR_ASSERT_SIZE(weir_service_vtable, 32);
#endif

/* --- runtime: the release helpers, from C ----------------------------------------------- */

static int error_releases = 0;
static int batch_releases = 0;

static void ReleaseTestError(struct weir_error* error) {
  ++error_releases;
  free(error->message);
  error->message = NULL;
  error->release = NULL;
}

static void ReleaseTestBatch(struct weir_batch* batch) {
  ++batch_releases;
  batch->data = NULL;
  batch->release = NULL;
}

/* A C entry function: the typedef must accept it without a cast. */
static weir_status TestEntry(const struct weir_host_info* host, struct weir_plugin* out_plugin,
                             struct weir_error* out_error) {
  (void)out_plugin;
  if (host->abi_minor_min > WEIR_ABI_MINOR) {
    static const char kMessage[] = "no minor in range";
    out_error->struct_size = sizeof *out_error;
    out_error->code = WEIR_NOT_IMPLEMENTED;
    out_error->message = (char*)malloc(sizeof kMessage);
    if (out_error->message != NULL) memcpy(out_error->message, kMessage, sizeof kMessage);
    out_error->release = &ReleaseTestError;
    return WEIR_NOT_IMPLEMENTED;
  }
  return WEIR_OK;
}

#define WEIR_STR_(x) #x
#define WEIR_STR(x) WEIR_STR_(x)

static int failures = 0;
#define EXPECT(cond)                                           \
  do {                                                         \
    if (!(cond)) {                                             \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                              \
    }                                                          \
  } while (0)

int main(void) {
  /* The entry symbol's name is the prefix plus the major. */
  EXPECT(strcmp(WEIR_ENTRY_SYMBOL, WEIR_ENTRY_SYMBOL_PREFIX WEIR_STR(WEIR_ABI_MAJOR)) == 0);

  /* Zeroed structs need no release, and the helpers accept NULL. */
  struct weir_error zero_error = {0};
  struct weir_batch zero_batch = {0};
  weir_error_release(&zero_error);
  weir_error_release(NULL);
  weir_batch_release(&zero_batch);
  weir_batch_release(NULL);

  /* A filled error is released exactly once, however often the helper is called. */
  weir_plugin_entry_fn entry = &TestEntry;
  struct weir_host_info host = {sizeof host, WEIR_ABI_MAJOR, WEIR_ABI_MINOR + 1,
                                WEIR_ABI_MINOR + 1, "abi_c11_test"};
  struct weir_plugin plugin = {0};
  struct weir_error error = {0};
  EXPECT(entry(&host, &plugin, &error) == WEIR_NOT_IMPLEMENTED);
  EXPECT(error.code == WEIR_NOT_IMPLEMENTED);
  EXPECT(error.message != NULL && strcmp(error.message, "no minor in range") == 0);
  weir_error_release(&error);
  weir_error_release(&error);
  EXPECT(error_releases == 1);
  EXPECT(error.message == NULL && error.release == NULL);

  static const uint8_t kData[] = "{}\n";
  struct weir_batch batch = {0};
  batch.struct_size = sizeof batch;
  batch.format = WEIR_FORMAT_NDJSON;
  batch.data = kData;
  batch.size = 3;
  batch.count = 1;
  batch.release = &ReleaseTestBatch;
  weir_batch_release(&batch);
  weir_batch_release(&batch);
  EXPECT(batch_releases == 1);
  EXPECT(batch.release == NULL);

  if (failures == 0) printf("abi_c11_test: OK\n");
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
