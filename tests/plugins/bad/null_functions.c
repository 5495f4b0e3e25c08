/* tests/plugins/bad/null_functions.c — negotiates fine but its destination vtable has NULL
 * `write` and `flush`; the host must refuse the descriptor with the validator's message. */
#include "weir/plugin.h"

static weir_status Open(const char* config, size_t config_len,
                        const struct weir_host_services* host, weir_instance** out_instance,
                        struct weir_error* out_error) {
  (void)config;
  (void)config_len;
  (void)host;
  (void)out_error;
  *out_instance = NULL;
  return WEIR_OK;
}

static weir_status Check(weir_instance* instance, struct weir_error* out_error) {
  (void)instance;
  (void)out_error;
  return WEIR_OK;
}

static void Close(weir_instance* instance) { (void)instance; }

static const struct weir_destination_vtable kDestination = {
    sizeof(struct weir_destination_vtable), Open, Check, NULL /* write */, NULL /* flush */, Close};
static const char* const kStreams[] = {"events"};

WEIR_EXPORT int32_t weir_plugin_entry_v1(const struct weir_host_info* host,
                                         struct weir_plugin* out_plugin,
                                         struct weir_error* out_error) {
  (void)host;
  (void)out_error;
  out_plugin->struct_size = sizeof *out_plugin;
  out_plugin->abi_minor = 0;
  out_plugin->name = "null-functions";
  out_plugin->version = "0.0.1";
  out_plugin->description = "destination whose vtable lacks write and flush";
  out_plugin->kinds = WEIR_KIND_DESTINATION;
  out_plugin->streams = kStreams;
  out_plugin->stream_count = 1;
  out_plugin->config_schema = "{\"type\":\"object\"}";
  out_plugin->destination = &kDestination;
  return WEIR_OK;
}
