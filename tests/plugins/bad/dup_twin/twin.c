/* tests/plugins/bad/dup_twin/twin.c — a valid destination named "twin", built twice
 * (libweir-twin-a.so, libweir-twin-b.so) into bad/dup: the second one scanned must be refused as
 * a duplicate name. TWIN_VERSION tells the two builds apart. */
#include "weir/plugin.h"

static weir_status Open(const char* config, size_t config_len,
                        const struct weir_host_services* host, weir_instance** out_instance,
                        struct weir_error* out_error) {
  static int dummy;
  (void)config;
  (void)config_len;
  (void)host;
  (void)out_error;
  *out_instance = (weir_instance*)&dummy;
  return WEIR_OK;
}

static weir_status Check(weir_instance* instance, struct weir_error* out_error) {
  (void)instance;
  (void)out_error;
  return WEIR_OK;
}

static weir_status Write(weir_instance* instance, const struct weir_write_request* request,
                         struct weir_error* out_error) {
  (void)instance;
  (void)request;
  (void)out_error;
  return WEIR_OK;
}

static weir_status Flush(weir_instance* instance, struct weir_error* out_error) {
  (void)instance;
  (void)out_error;
  return WEIR_OK;
}

static void Close(weir_instance* instance) { (void)instance; }

static const struct weir_destination_vtable kDestination = {
    sizeof(struct weir_destination_vtable), Open, Check, Write, Flush, Close};
static const char* const kStreams[] = {"events"};

WEIR_EXPORT int32_t weir_plugin_entry_v1(const struct weir_host_info* host,
                                         struct weir_plugin* out_plugin,
                                         struct weir_error* out_error) {
  (void)host;
  (void)out_error;
  out_plugin->struct_size = sizeof *out_plugin;
  out_plugin->abi_minor = 0;
  out_plugin->name = "twin";
  out_plugin->version = TWIN_VERSION;
  out_plugin->description = "one of two plugins with the same name";
  out_plugin->kinds = WEIR_KIND_DESTINATION;
  out_plugin->streams = kStreams;
  out_plugin->stream_count = 1;
  out_plugin->config_schema = "{}";
  out_plugin->destination = &kDestination;
  return WEIR_OK;
}
