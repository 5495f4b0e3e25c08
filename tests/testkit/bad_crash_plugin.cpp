// tests/testkit/bad_crash_plugin.cpp — a raw-C-ABI destination with several contract bugs.
//
// Written against plugin.h directly (no wrapper, which would hide these bugs):
//   - the entry answers WEIR_OK whatever minor range the host asks for;
//   - open() refuses every config but "{}" with WEIR_INVALID_CONFIG, without filling the error;
//   - write() crashes with SIGSEGV.
// check(), flush() and close() are fine.
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "weir/plugin.h"

namespace {

struct CrashInstance {
  int unused;
};

weir_status Open(const char* config, size_t config_len, const weir_host_services* /*host*/,
                 weir_instance** out_instance, weir_error* /*out_error*/) {
  if (config_len != 2 || std::memcmp(config, "{}", 2) != 0) {
    return WEIR_INVALID_CONFIG;  // the bug: out_error left zeroed
  }
  *out_instance = reinterpret_cast<weir_instance*>(new CrashInstance{0});
  return WEIR_OK;
}

weir_status Check(weir_instance* /*instance*/, weir_error* /*out_error*/) { return WEIR_OK; }

weir_status Write(weir_instance* /*instance*/, const weir_write_request* /*request*/,
                  weir_error* /*out_error*/) {
  std::raise(SIGSEGV);  // stands in for a wild pointer
  return WEIR_OK;
}

weir_status Flush(weir_instance* /*instance*/, weir_error* /*out_error*/) { return WEIR_OK; }

void Close(weir_instance* instance) { delete reinterpret_cast<CrashInstance*>(instance); }

const weir_destination_vtable kVtable = {
    sizeof(weir_destination_vtable), &Open, &Check, &Write, &Flush, &Close};
const char* const kStreams[] = {"events"};

}  // namespace

extern "C" WEIR_EXPORT weir_status weir_plugin_entry_v1(const weir_host_info* /*host*/,
                                                        weir_plugin* out_plugin,
                                                        weir_error* /*out_error*/) {
  // The bug: no look at the host's minor range.
  out_plugin->struct_size = sizeof(weir_plugin);
  out_plugin->abi_minor = 0;
  out_plugin->name = "testkit-bad-crash";
  out_plugin->version = "0.0.1";
  out_plugin->description = "Test plugin: a destination whose write crashes";
  out_plugin->kinds = WEIR_KIND_DESTINATION;
  out_plugin->streams = kStreams;
  out_plugin->stream_count = 1;
  out_plugin->config_schema = R"({"type": "object", "additionalProperties": false})";
  out_plugin->source = nullptr;
  out_plugin->destination = &kVtable;
  out_plugin->release = nullptr;
  out_plugin->private_data = nullptr;
  return WEIR_OK;
}
