/* tests/plugins/frozen_v1_0/frozen_v1_0.c — a weir plugin written against ABI v1.0, frozen.
 *
 * ============================================================================================
 *  DO NOT CHANGE THIS FILE. NOT EVEN TO "MODERNIZE" IT, FIX STYLE OR SILENCE A NEW WARNING.
 *  It stands for every third-party plugin already compiled against plugin.h v1.0: every later
 *  weir host must still load it and drive it through its vtables unchanged. If a host change
 *  makes the loader test fail on this plugin, the host change is wrong, not this file.
 *  (If a new compiler warns, silence it in this folder's CMakeLists.txt, not here.)
 * ============================================================================================
 *
 * Plain C11, only plugin.h. One plugin, name "frozen-v1-0", that is both
 *   - a source of stream "events" holding exactly 3 records (ingest seq 1..3; the watermark is
 *     the decimal seq of the last record returned), and
 *   - a destination that counts the records it is given: write() adds to a pending count,
 *     flush() makes it durable and reports the durable total through the host services, as a log
 *     line "frozen-v1-0: <n> records durable" and a counter "frozen.records" (added per flush).
 * The config must be a JSON object; anything else is WEIR_INVALID_CONFIG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir/plugin.h"

#define FROZEN_RECORDS 3
#define FROZEN_TIME_BASE_MS 1700000000000LL

static const char* const kStreams[] = {"events"};
static const char kSchema[] = "{\"type\":\"object\",\"additionalProperties\":true}";

struct frozen_instance {
  const struct weir_host_services* host;
  unsigned long long pending;
  unsigned long long durable;
  char last_key[128];
};

/* ---- errors ------------------------------------------------------------------------------- */

static void frozen_release_error(struct weir_error* error) {
  free(error->message);
  error->message = NULL;
  error->release = NULL;
}

static weir_status frozen_fail(struct weir_error* out_error, weir_status code,
                               const char* message) {
  size_t len = strlen(message);
  out_error->struct_size = sizeof *out_error;
  out_error->code = code;
  out_error->message = (char*)malloc(len + 1);
  if (out_error->message != NULL) memcpy(out_error->message, message, len + 1);
  out_error->retryable = 0;
  memset(out_error->sqlstate, 0, sizeof out_error->sqlstate);
  out_error->vendor_code = 0;
  out_error->private_data = NULL;
  out_error->release = frozen_release_error;
  return code;
}

/* ---- shared ------------------------------------------------------------------------------- */

static weir_status frozen_open(const char* config, size_t config_len,
                               const struct weir_host_services* host, weir_instance** out_instance,
                               struct weir_error* out_error) {
  size_t i = 0;
  struct frozen_instance* inst;
  *out_instance = NULL;
  while (config != NULL && i < config_len &&
         (config[i] == ' ' || config[i] == '\t' || config[i] == '\r' || config[i] == '\n')) {
    ++i;
  }
  if (config == NULL || i == config_len || config[i] != '{') {
    return frozen_fail(out_error, WEIR_INVALID_CONFIG, "frozen-v1-0: config must be a JSON object");
  }
  inst = (struct frozen_instance*)calloc(1, sizeof *inst);
  if (inst == NULL) return frozen_fail(out_error, WEIR_ERROR, "frozen-v1-0: out of memory");
  inst->host = host;
  *out_instance = (weir_instance*)inst;
  return WEIR_OK;
}

static weir_status frozen_check(weir_instance* instance, struct weir_error* out_error) {
  if (instance == NULL) return frozen_fail(out_error, WEIR_ERROR, "frozen-v1-0: NULL instance");
  return WEIR_OK;
}

static void frozen_close(weir_instance* instance) { free(instance); }

/* ---- source ------------------------------------------------------------------------------- */

struct frozen_batch {
  char data[FROZEN_RECORDS * 160];
  int64_t times[FROZEN_RECORDS];
  uint64_t seqs[FROZEN_RECORDS];
  size_t offsets[FROZEN_RECORDS + 1];
  char watermark[8];
};

static void frozen_release_batch(struct weir_batch* batch) {
  free(batch->private_data);
  batch->private_data = NULL;
  batch->data = NULL;
  batch->event_time_ms = NULL;
  batch->ingest_seq = NULL;
  batch->offsets = NULL;
  batch->high_watermark.data = NULL;
  batch->release = NULL;
}

/* Parses a watermark: empty -> `empty_value`; "0".."3" -> that seq; anything else -> -1. */
static int frozen_parse_wm(struct weir_bytes wm, int empty_value) {
  if (wm.size == 0) return empty_value;
  if (wm.size == 1 && wm.data[0] >= '0' && wm.data[0] <= '0' + FROZEN_RECORDS) {
    return wm.data[0] - '0';
  }
  return -1;
}

static weir_status frozen_read(weir_instance* instance, const struct weir_read_request* request,
                               struct weir_batch* out_batch, struct weir_error* out_error) {
  int from, to, bound, seq;
  size_t used = 0, count = 0;
  struct frozen_batch* b;
  if (instance == NULL || request == NULL || out_batch == NULL) {
    return frozen_fail(out_error, WEIR_ERROR, "frozen-v1-0: read: NULL argument");
  }
  if (request->stream == NULL || strcmp(request->stream, "events") != 0) {
    return frozen_fail(out_error, WEIR_NOT_IMPLEMENTED,
                       "frozen-v1-0: read: only stream 'events' is supported");
  }
  if (request->mode != WEIR_READ_RANGE && request->mode != WEIR_READ_WINDOW) {
    return frozen_fail(out_error, WEIR_NOT_IMPLEMENTED, "frozen-v1-0: read: unknown read mode");
  }
  from = frozen_parse_wm(request->from_wm, 0);
  to = frozen_parse_wm(request->to_wm, FROZEN_RECORDS);
  bound = request->mode == WEIR_READ_WINDOW ? frozen_parse_wm(request->bound_wm, FROZEN_RECORDS + 1)
                                            : FROZEN_RECORDS + 1;
  if (from < 0 || to < 0 || bound < 0) {
    return frozen_fail(out_error, WEIR_ERROR,
                       "frozen-v1-0: read: a watermark is not one of \"0\"..\"3\"");
  }
  b = (struct frozen_batch*)calloc(1, sizeof *b);
  if (b == NULL) return frozen_fail(out_error, WEIR_ERROR, "frozen-v1-0: out of memory");
  for (seq = from + 1; seq <= to && seq < bound; ++seq) {
    int64_t time_ms = FROZEN_TIME_BASE_MS + (int64_t)seq * 1000;
    int n;
    if (request->max_records != 0 && count >= request->max_records) break;
    if (request->mode == WEIR_READ_WINDOW &&
        (time_ms < request->window_start_ms || time_ms >= request->window_end_ms)) {
      continue;
    }
    n = snprintf(b->data + used, sizeof b->data - used,
                 "{\"event\":\"frozen\",\"time\":%lld,\"distinct_id\":\"frozen-user\","
                 "\"insert_id\":\"frozen-%d\",\"properties\":{\"n\":%d}}\n",
                 (long long)time_ms, seq, seq);
    if (n < 0 || (size_t)n >= sizeof b->data - used) break;
    b->offsets[count] = used;
    b->times[count] = time_ms;
    b->seqs[count] = (uint64_t)seq;
    used += (size_t)n;
    ++count;
    b->watermark[0] = (char)('0' + seq);
  }
  b->offsets[count] = used;
  memset(out_batch, 0, sizeof *out_batch);
  out_batch->struct_size = sizeof *out_batch;
  out_batch->format = WEIR_FORMAT_NDJSON;
  out_batch->data = (const uint8_t*)b->data;
  out_batch->size = used;
  out_batch->count = count;
  out_batch->event_time_ms = b->times;
  out_batch->ingest_seq = b->seqs;
  out_batch->offsets = b->offsets;
  out_batch->high_watermark.data = (const uint8_t*)b->watermark;
  out_batch->high_watermark.size = count > 0 ? 1 : 0;
  out_batch->private_data = b;
  out_batch->release = frozen_release_batch;
  return WEIR_OK;
}

/* ---- destination -------------------------------------------------------------------------- */

static weir_status frozen_write(weir_instance* instance, const struct weir_write_request* request,
                                struct weir_error* out_error) {
  struct frozen_instance* inst = (struct frozen_instance*)instance;
  const char* key;
  if (inst == NULL || request == NULL || request->batch == NULL) {
    return frozen_fail(out_error, WEIR_ERROR, "frozen-v1-0: write: NULL argument");
  }
  if (request->stream == NULL || strcmp(request->stream, "events") != 0) {
    return frozen_fail(out_error, WEIR_NOT_IMPLEMENTED,
                       "frozen-v1-0: write: only stream 'events' is supported");
  }
  key = request->idempotency_key != NULL ? request->idempotency_key : "";
  /* A replay of the batch just written is a no-op. */
  if (key[0] != '\0' && strncmp(key, inst->last_key, sizeof inst->last_key) == 0) return WEIR_OK;
  strncpy(inst->last_key, key, sizeof inst->last_key - 1);
  inst->last_key[sizeof inst->last_key - 1] = '\0';
  inst->pending += request->batch->count;
  return WEIR_OK;
}

static weir_status frozen_flush(weir_instance* instance, struct weir_error* out_error) {
  struct frozen_instance* inst = (struct frozen_instance*)instance;
  char line[96];
  int n;
  if (inst == NULL) return frozen_fail(out_error, WEIR_ERROR, "frozen-v1-0: flush: NULL instance");
  if (inst->host != NULL) {
    inst->host->metric(inst->host->host_data, "frozen.records", WEIR_METRIC_COUNTER,
                       (double)inst->pending);
  }
  inst->durable += inst->pending;
  inst->pending = 0;
  n = snprintf(line, sizeof line, "frozen-v1-0: %llu records durable", inst->durable);
  if (inst->host != NULL && n > 0) {
    inst->host->log(inst->host->host_data, WEIR_LOG_INFO, line, (size_t)n);
  }
  return WEIR_OK;
}

/* ---- descriptor --------------------------------------------------------------------------- */

static const struct weir_source_vtable kSource = {sizeof(struct weir_source_vtable), frozen_open,
                                                  frozen_check, frozen_read, frozen_close};
static const struct weir_destination_vtable kDestination = {sizeof(struct weir_destination_vtable),
                                                            frozen_open,
                                                            frozen_check,
                                                            frozen_write,
                                                            frozen_flush,
                                                            frozen_close};

WEIR_EXPORT int32_t weir_plugin_entry_v1(const struct weir_host_info* host,
                                         struct weir_plugin* out_plugin,
                                         struct weir_error* out_error) {
  if (host == NULL || out_plugin == NULL) return WEIR_ERROR;
  if (host->abi_major != 1 || host->abi_minor_min > 0) {
    return frozen_fail(out_error, WEIR_NOT_IMPLEMENTED, "frozen-v1-0 implements ABI 1.0 only");
  }
  out_plugin->struct_size = sizeof *out_plugin;
  out_plugin->abi_minor = 0;
  out_plugin->name = "frozen-v1-0";
  out_plugin->version = "1.0.0";
  out_plugin->description = "frozen ABI v1.0 test plugin: 3-record source, counting destination";
  out_plugin->kinds = WEIR_KIND_SOURCE | WEIR_KIND_DESTINATION;
  out_plugin->streams = kStreams;
  out_plugin->stream_count = 1;
  out_plugin->config_schema = kSchema;
  out_plugin->source = &kSource;
  out_plugin->destination = &kDestination;
  out_plugin->release = NULL;
  out_plugin->private_data = NULL;
  return WEIR_OK;
}
