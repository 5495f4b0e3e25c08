/* sdk/include/weir/plugin.h — the weir plugin ABI, version 1.
 *
 * This is the only header a weir plugin needs. A plugin is a shared object that exports one
 * symbol, `weir_plugin_entry_v1` (WEIR_ENTRY_SYMBOL). The host finds that symbol in the ELF
 * symbol table *before* loading the file, so a plugin built for another ABI major (which would
 * export `weir_plugin_entry_v2`) is refused without running any of its code.
 *
 * Object model
 *   host ── entry(host_info) ──▶ weir_plugin (descriptor: name, version, kinds, streams,
 *                                  config JSON Schema, source and/or destination vtable)
 *   vtable->open(config JSON, host services) ──▶ weir_instance* (one per pipeline run)
 *   source:      check, read(request) ──▶ weir_batch         (batch owned by the plugin)
 *   destination: check, write(request, batch), flush ──▶ durable
 *
 * Rules that hold for every function here
 *   - Every struct that crosses the boundary starts with `struct_size`, set by whoever fills
 *     it. Structs only ever grow at the end; a reader checks struct_size before touching a
 *     field added after v1.0. Add new members at the END only.
 *   - Every function returns a weir_status. On anything but WEIR_OK it fills the caller-owned,
 *     caller-zeroed `weir_error` (message, retryable, SQLSTATE, vendor code) and the caller
 *     must call weir_error_release() on it when done. On WEIR_OK the error is left untouched.
 *   - Ownership: whoever allocates frees, through the `release` callback stored in the struct.
 *     Borrowed inputs (const pointers passed to a call) are valid only during that call.
 *   - Threading: calls on one weir_instance are serialized by the host (never concurrent).
 *     Different instances may be used from different threads at the same time, so a plugin
 *     keeps no mutable globals. Host services may be called from any thread.
 *   - No C++ exception, longjmp or signal ever crosses this boundary.
 *
 * Versioning
 *   WEIR_ABI_MAJOR changes only for an incompatible change, and then the entry symbol's name
 *   changes with it. WEIR_ABI_MINOR grows when members are appended. The host passes the minor
 *   range it understands; the plugin answers with the minor it implements (within that range)
 *   or returns WEIR_NOT_IMPLEMENTED.
 *
 * Compiles as C11 (-Wpedantic) and C++17; depends only on <stdint.h> and <stddef.h>.
 *
 * Usage (a plugin in C; see plugin.hpp for the C++ wrapper most plugins should use):
 *
 *   WEIR_EXPORT int32_t weir_plugin_entry_v1(const struct weir_host_info* host,
 *                                            struct weir_plugin* out_plugin,
 *                                            struct weir_error* out_error) {
 *     if (host->abi_minor_max < 0) { ...fill out_error...; return WEIR_NOT_IMPLEMENTED; }
 *     out_plugin->struct_size = sizeof *out_plugin;
 *     out_plugin->abi_minor = 0;
 *     out_plugin->name = "my-destination";
 *     ...
 *     return WEIR_OK;
 *   }
 */
#ifndef WEIR_PLUGIN_H
#define WEIR_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Versions and the entry symbol                                                                */

#define WEIR_ABI_MAJOR 1
#define WEIR_ABI_MINOR 2
/** Name of the one symbol a v1 plugin exports. The major is part of the name. */
#define WEIR_ENTRY_SYMBOL "weir_plugin_entry_v1"
/** Prefix shared by every major's entry symbol; lets the host name the major it found. */
#define WEIR_ENTRY_SYMBOL_PREFIX "weir_plugin_entry_v"

#if defined(__GNUC__) || defined(__clang__)
#define WEIR_EXPORT __attribute__((visibility("default")))
#else
#define WEIR_EXPORT
#endif

/* ------------------------------------------------------------------------------------------ */
/* Status codes                                                                                 */

typedef int32_t weir_status;
#define WEIR_OK 0
/** A failure described by the weir_error; its `retryable` flag says whether to try again. */
#define WEIR_ERROR 1
/** The plugin cannot serve this request (ABI minor range, stream, read mode). Not retryable. */
#define WEIR_NOT_IMPLEMENTED 2
/** The host's is_cancelled() returned true and the call stopped early. Nothing was committed
 *  by the plugin for this call; the host treats the call as not done. */
#define WEIR_CANCELLED 3
/** The configuration is invalid. The message names the field. Not retryable. */
#define WEIR_INVALID_CONFIG 4

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                       */

/** An error filled by the callee into a struct the caller zeroed.
 *
 * The caller zero-initializes it (all members 0 / NULL) before the call; `struct_size` may be
 * left 0. On failure the callee sets every member. `message` is UTF-8, NUL-terminated, owned
 * by the callee and valid until `release` is called. The caller must call `release` (or the
 * weir_error_release() helper) exactly when done with it. `release` sets `release` to NULL;
 * calling a saved copy of the release function a second time on the same struct is safe and
 * does nothing. A message never contains a secret (password, key, token).
 * \since 1.0 */
struct weir_error {
  uint32_t struct_size;
  /** The weir_status the call returned (WEIR_ERROR, WEIR_INVALID_CONFIG, ...). */
  int32_t code;
  /** Human-readable, names what went wrong and where. Owned by the callee. */
  char* message;
  /** Non-zero: the same call may succeed if repeated (network blip, 5xx, deadlock). */
  int32_t retryable;
  /** Five-character SQLSTATE plus NUL, or all zero when there is none. */
  char sqlstate[6];
  /** Vendor / driver / HTTP code, 0 when there is none. */
  int32_t vendor_code;
  /** Frees what the callee allocated and sets `release` and `message` to NULL. */
  void (*release)(struct weir_error* error);
  /** For the callee's own use. */
  void* private_data;
};

/** Releases `error` if it holds anything. Safe on a zeroed or already-released error. */
static inline void weir_error_release(struct weir_error* error) {
  if (error != NULL && error->release != NULL) {
    error->release(error);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Host services                                                                                */

#define WEIR_LOG_TRACE 0
#define WEIR_LOG_DEBUG 1
#define WEIR_LOG_INFO 2
#define WEIR_LOG_WARN 3
#define WEIR_LOG_ERROR 4

/** Adds `value` to a monotonically increasing counter (retries, bytes uploaded, ...). */
#define WEIR_METRIC_COUNTER 0
/** Sets a gauge to `value` (queue depth, in-flight parts, ...). */
#define WEIR_METRIC_GAUGE 1

/** Services the host offers a plugin instance. Passed to open(); valid, unchanged, until the
 * instance is closed. `host_data` is opaque to the plugin and is passed back to each function.
 * Every function here is thread-safe and may be called from any thread the plugin starts, as
 * long as the instance is open. Every function is non-NULL.
 * \since 1.0 */
struct weir_host_services {
  uint32_t struct_size;
  void* host_data;
  /** Writes one log line (UTF-8, `len` bytes, no trailing newline needed) into the run's log,
   * tagged with pipeline and run id by the host. Never log secrets. */
  void (*log)(void* host_data, int32_t level, const char* message, size_t len);
  /** Records a metric sample. `name` is NUL-terminated, [a-z0-9_.]+, e.g. "s3.retries". */
  void (*metric)(void* host_data, const char* name, int32_t kind, double value);
  /** Returns non-zero once the host wants the current call to stop (SIGINT/SIGTERM, deadline).
   * Long reads and writes poll it between units of work and return WEIR_CANCELLED. */
  int32_t (*is_cancelled)(void* host_data);
  /** Looks up a secret by name (for v1: an environment variable the operator allowed).
   * On success sets *out_value and *out_len to a borrowed buffer valid until the instance is
   * closed and returns WEIR_OK; returns WEIR_ERROR when there is no such secret. */
  weir_status (*get_secret)(void* host_data, const char* name, const char** out_value,
                            size_t* out_len);
};

/** What the host tells the entry function about itself. Borrowed: valid during the entry call.
 * \since 1.0 */
struct weir_host_info {
  uint32_t struct_size;
  /** Always WEIR_ABI_MAJOR of the host (the entry symbol's name already matched it). */
  uint32_t abi_major;
  /** The plugin must answer with a minor in [abi_minor_min, abi_minor_max]. */
  uint32_t abi_minor_min;
  uint32_t abi_minor_max;
  /** e.g. "weir 0.1.0". */
  const char* host_version;
};

/* ------------------------------------------------------------------------------------------ */
/* Data that crosses                                                                            */

/** A borrowed or owned run of bytes; ownership is stated wherever one is used. */
struct weir_bytes {
  const uint8_t* data;
  size_t size;
};

/** v1 batches carry newline-delimited JSON: one canonical record (DESIGN.md §2) per line, each
 * line ending in '\n'. */
#define WEIR_FORMAT_NDJSON 1

/** A batch of records produced by a source and handed, read-only, to a destination.
 *
 * Filled by the source's read(). Everything it points to is owned by the source and stays
 * valid until `release` is called by the host (who may first pass the batch to a destination's
 * write(); a destination must not keep pointers into it after write() returns).
 * `release` sets itself to NULL; a zeroed batch needs no release.
 * \since 1.0 */
struct weir_batch {
  uint32_t struct_size;
  /** WEIR_FORMAT_NDJSON in v1. */
  uint32_t format;
  /** `size` bytes of records in `format`. */
  const uint8_t* data;
  size_t size;
  /** Number of records; 0 means the source has nothing (more) in the requested range. */
  size_t count;
  /** `count` entries: each record's event time, milliseconds since the Unix epoch, UTC. */
  const int64_t* event_time_ms;
  /** `count` entries: each record's ingest sequence (arrival order in the source's store). */
  const uint64_t* ingest_seq;
  /** `count + 1` entries: record i spans data[offsets[i] .. offsets[i+1]). May be NULL, in
   * which case a destination that needs record boundaries scans for '\n'. */
  const size_t* offsets;
  /** The opaque watermark just after the last record of this batch (`to_wm`). Reading again
   * with from_wm = high_watermark continues after this batch. Meaningful when count > 0. */
  struct weir_bytes high_watermark;
  void (*release)(struct weir_batch* batch);
  void* private_data;
};

/** Releases `batch` if it holds anything. Safe on a zeroed or already-released batch. */
static inline void weir_batch_release(struct weir_batch* batch) {
  if (batch != NULL && batch->release != NULL) {
    batch->release(batch);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Instances and vtables                                                                        */

/** An open source or destination; created by open(), destroyed by close(). Opaque. */
typedef struct weir_instance weir_instance;

/* Watermarks are cuts. A watermark names the cut in ingest order just after the record it was
 * taken at (a batch's high_watermark: just after its last record; WEIR_READ_HEAD's: just after
 * the newest record). `from_wm` selects the records after a cut, `bound_wm` the records before
 * one, so for any watermark W, RANGE reads after W and WINDOW reads bounded by W partition the
 * records: each record is in exactly one of the two. */

/** Read by ingest order: records after the cut `from_wm`. */
#define WEIR_READ_RANGE 1
/** Read an event-time window (backfill): records with window_start_ms <= event time <
 * window_end_ms, after the cut `from_wm` (a cursor within the window), and before the cut
 * `bound_wm` in ingest order when bound_wm is non-empty (DESIGN.md §3): the record a bound
 * was taken at is included. */
#define WEIR_READ_WINDOW 2
/** Where the source stands now: return a batch with no records whose high_watermark names the
 * cut just after the newest committed record (for an empty source, a non-empty watermark that
 * names the beginning). Only from_wm/to_wm/limits are ignored. The host sends it only to
 * plugins answering abi_minor >= 2; it fixes a pipeline's start cut (`start: "now"`).
 * \since 1.2 */
#define WEIR_READ_HEAD 3

/** What the host asks a source for. Borrowed: valid during the read() call.
 * \since 1.0 */
struct weir_read_request {
  uint32_t struct_size;
  /** WEIR_READ_RANGE, WEIR_READ_WINDOW or (since 1.2) WEIR_READ_HEAD. */
  int32_t mode;
  /** NUL-terminated stream name, one of the descriptor's streams. */
  const char* stream;
  /** Exclusive lower bound. Empty (size 0) means "from the beginning". */
  struct weir_bytes from_wm;
  /** Inclusive upper bound. Empty: read forward within the limits below. Non-empty (replay
   * after a crash): return exactly the records in (from_wm, to_wm], in the same order as
   * the first time; the limits are then advisory (the same records fitted them before). */
  struct weir_bytes to_wm;
  /** Batch limits; a batch holds at least one record if any is available, even when that one
   * record alone exceeds max_bytes. 0 means no limit. */
  uint64_t max_records;
  uint64_t max_bytes;
  /** WEIR_READ_WINDOW only: [window_start_ms, window_end_ms) in event time, UTC ms. */
  int64_t window_start_ms;
  int64_t window_end_ms;
  /** WEIR_READ_WINDOW only: ingest-order bound, a cut: records up to and including the one
   * it was taken at; empty means none. */
  struct weir_bytes bound_wm;
};

/** Source operations. Every function pointer is non-NULL. \since 1.0 */
struct weir_source_vtable {
  uint32_t struct_size;
  /** Parses and validates `config` (a JSON object, `config_len` bytes, secrets already
   * resolved by the host) and creates an instance. On an invalid config returns
   * WEIR_INVALID_CONFIG naming the field. `host` stays valid until close(). On success the
   * caller owns *out_instance and must close() it. */
  weir_status (*open)(const char* config, size_t config_len, const struct weir_host_services* host,
                      weir_instance** out_instance, struct weir_error* out_error);
  /** Proves the configuration works (the store is readable, credentials are good) without
   * side effects. */
  weir_status (*check)(weir_instance* instance, struct weir_error* out_error);
  /** Reads the next batch described by `request` into the caller-zeroed `out_batch`.
   * The same request always yields the same records in the same order. On WEIR_OK the caller
   * owns *out_batch and calls weir_batch_release(). count == 0 means nothing to read. */
  weir_status (*read)(weir_instance* instance, const struct weir_read_request* request,
                      struct weir_batch* out_batch, struct weir_error* out_error);
  /** Destroys the instance. Never fails. The instance is not used afterwards. */
  void (*close)(weir_instance* instance);
};

/** What the host asks a destination to write. Borrowed: valid during the write() call.
 * \since 1.0 */
struct weir_write_request {
  uint32_t struct_size;
  /** NUL-terminated names, for layout and ledgers. */
  const char* pipeline;
  const char* project;
  const char* stream;
  /** The batch's sequence number within (pipeline, stream); starts at 1. */
  uint64_t batch_seq;
  /** NUL-terminated idempotency key derived from (pipeline, stream, batch_seq). Writing a key
   * that was already made durable must be a no-op or an identical overwrite. */
  const char* idempotency_key;
  /** The records. Borrowed; do not keep pointers into it after write() returns. */
  const struct weir_batch* batch;
};

/** Destination operations. Every function pointer is non-NULL. \since 1.0 */
struct weir_destination_vtable {
  uint32_t struct_size;
  /** As weir_source_vtable.open. */
  weir_status (*open)(const char* config, size_t config_len, const struct weir_host_services* host,
                      weir_instance** out_instance, struct weir_error* out_error);
  /** Proves the destination is writable (for example writes and deletes a probe object) and
   * reports exactly which step failed. */
  weir_status (*check)(weir_instance* instance, struct weir_error* out_error);
  /** Writes one batch under request->idempotency_key. May buffer; nothing is durable until
   * flush() returns WEIR_OK. */
  weir_status (*write)(weir_instance* instance, const struct weir_write_request* request,
                       struct weir_error* out_error);
  /** Returns WEIR_OK only once every batch written so far is durable. The host commits the
   * watermark only after this returns WEIR_OK. */
  weir_status (*flush)(weir_instance* instance, struct weir_error* out_error);
  /** Destroys the instance, discarding anything not flushed. Never fails. */
  void (*close)(weir_instance* instance);
};

/** A long-running task a plugin offers the host, such as the sdk-source collector's HTTP
 * server. The host (`weir service run`, later `weir serve`) opens an instance with a config,
 * calls run() on a thread of its own, and stops it by making host->is_cancelled() return
 * non-zero. Every function pointer is non-NULL.
 * \since 1.1 */
struct weir_service_vtable {
  uint32_t struct_size;
  /** As weir_source_vtable.open: validates `config` (WEIR_INVALID_CONFIG naming the field),
   * acquires what the service needs (ports, files) and returns an instance. */
  weir_status (*open)(const char* config, size_t config_len, const struct weir_host_services* host,
                      weir_instance** out_instance, struct weir_error* out_error);
  /** Runs until host->is_cancelled() returns non-zero, then stops cleanly (finishing work it has
   * acknowledged, e.g. in-flight requests) and returns WEIR_OK. Returns earlier only on a
   * failure, filling out_error. Polls is_cancelled() at least every 200 ms. Called once per
   * instance. */
  weir_status (*run)(weir_instance* instance, struct weir_error* out_error);
  /** Destroys the instance after run() returned (or if it was never called). Never fails. */
  void (*close)(weir_instance* instance);
};

/* ------------------------------------------------------------------------------------------ */
/* The descriptor                                                                               */

#define WEIR_KIND_SOURCE 1u
#define WEIR_KIND_DESTINATION 2u
/** \since 1.1: the plugin offers a service (weir_plugin.service). */
#define WEIR_KIND_SERVICE 4u

/** What the entry function fills in. Every string and array is owned by the plugin and valid
 * until `release` is called. A host calls it only if it unloads the plugin; the v1 host never
 * unloads, so in practice the descriptor lives until process exit. `release` may be NULL when
 * nothing was allocated.
 * \since 1.0 */
struct weir_plugin {
  uint32_t struct_size;
  /** The minor this plugin implements, within the host's range. */
  uint32_t abi_minor;
  /** Unique plugin name, [a-z0-9][a-z0-9-]*, e.g. "s3". */
  const char* name;
  /** The plugin's own version, e.g. "1.2.0". */
  const char* version;
  /** One line saying what it does. */
  const char* description;
  /** WEIR_KIND_SOURCE, WEIR_KIND_DESTINATION and (since 1.1) WEIR_KIND_SERVICE, or-ed. */
  uint32_t kinds;
  /** `stream_count` NUL-terminated stream names it supports ("events", "users", ...). */
  const char* const* streams;
  size_t stream_count;
  /** JSON Schema (draft 2020-12) of the config object, as JSON text. */
  const char* config_schema;
  /** Non-NULL exactly when kinds has WEIR_KIND_SOURCE / WEIR_KIND_DESTINATION. */
  const struct weir_source_vtable* source;
  const struct weir_destination_vtable* destination;
  void (*release)(struct weir_plugin* plugin);
  void* private_data;
  /* ---- added in 1.1: read only when abi_minor >= 1 and struct_size covers it ---- */
  /** Non-NULL exactly when kinds has WEIR_KIND_SERVICE. \since 1.1 */
  const struct weir_service_vtable* service;
};

/** Size of the v1.0 descriptor (up to and including private_data): what a 1.0 plugin sets as
 * struct_size. A host reads `service` only when struct_size >= WEIR_PLUGIN_SIZE_1_1. */
#define WEIR_PLUGIN_SIZE_1_0 (offsetof(struct weir_plugin, private_data) + sizeof(void*))
#define WEIR_PLUGIN_SIZE_1_1 (offsetof(struct weir_plugin, service) + sizeof(void*))

/** The entry function's type. The host zeroes *out_plugin and *out_error first.
 * Returns WEIR_OK with *out_plugin filled, or WEIR_NOT_IMPLEMENTED (no minor in range) or
 * WEIR_ERROR with *out_error filled. Called once per process, from one thread. */
typedef weir_status (*weir_plugin_entry_fn)(const struct weir_host_info* host,
                                            struct weir_plugin* out_plugin,
                                            struct weir_error* out_error);

#ifdef __cplusplus
}
#endif

#endif /* WEIR_PLUGIN_H */
