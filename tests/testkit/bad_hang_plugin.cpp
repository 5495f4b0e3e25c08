// tests/testkit/bad_hang_plugin.cpp — a raw-C-ABI source whose read() never returns.
//
// Negotiation, descriptor, config validation and error filling are all correct; read() waits
// for data forever and never polls is_cancelled(), as a source blocked on a dead connection
// might. The conformance kit must report every check that reads as timed out.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "weir/plugin.h"

namespace {

struct HangInstance {
  int unused;
};

void ReleaseError(weir_error* error) {
  std::free(error->message);
  error->message = nullptr;
  error->release = nullptr;
}

weir_status Fail(weir_status code, const char* message, weir_error* out_error) {
  out_error->struct_size = sizeof(weir_error);
  out_error->code = code;
  out_error->message = static_cast<char*>(std::malloc(std::strlen(message) + 1));
  std::strcpy(out_error->message, message);
  out_error->retryable = 0;
  out_error->vendor_code = 0;
  out_error->release = &ReleaseError;
  out_error->private_data = nullptr;
  return code;
}

weir_status Open(const char* config, size_t config_len, const weir_host_services* /*host*/,
                 weir_instance** out_instance, weir_error* out_error) {
  if (config_len != 2 || std::memcmp(config, "{}", 2) != 0) {
    return Fail(WEIR_INVALID_CONFIG, "config: expected exactly {}", out_error);
  }
  *out_instance = reinterpret_cast<weir_instance*>(new HangInstance{0});
  return WEIR_OK;
}

weir_status Check(weir_instance* /*instance*/, weir_error* /*out_error*/) { return WEIR_OK; }

weir_status Read(weir_instance* /*instance*/, const weir_read_request* /*request*/,
                 weir_batch* /*out_batch*/, weir_error* /*out_error*/) {
  for (;;) ::sleep(1);  // the bug: never returns, never polls is_cancelled()
}

void Close(weir_instance* instance) { delete reinterpret_cast<HangInstance*>(instance); }

const weir_source_vtable kVtable = {sizeof(weir_source_vtable), &Open, &Check, &Read, &Close};
const char* const kStreams[] = {"events"};

}  // namespace

extern "C" WEIR_EXPORT weir_status weir_plugin_entry_v1(const weir_host_info* host,
                                                        weir_plugin* out_plugin,
                                                        weir_error* out_error) {
  if (host->abi_major != WEIR_ABI_MAJOR || host->abi_minor_min > WEIR_ABI_MINOR) {
    return Fail(WEIR_NOT_IMPLEMENTED, "testkit-bad-hang implements ABI 1.0 only", out_error);
  }
  out_plugin->struct_size = sizeof(weir_plugin);
  out_plugin->abi_minor = 0;
  out_plugin->name = "testkit-bad-hang";
  out_plugin->version = "0.0.1";
  out_plugin->description = "Test plugin: a source whose read never returns";
  out_plugin->kinds = WEIR_KIND_SOURCE;
  out_plugin->streams = kStreams;
  out_plugin->stream_count = 1;
  out_plugin->config_schema = R"({"type": "object", "additionalProperties": false})";
  out_plugin->source = &kVtable;
  out_plugin->destination = nullptr;
  out_plugin->release = nullptr;
  out_plugin->private_data = nullptr;
  return WEIR_OK;
}
