// tests/plugins/bad/throwing.cpp — an entry function that lets a C++ exception escape.
//
// Written by hand (not with WEIR_PLUGIN, whose wrapper would catch it) to break the ABI rule
// "no exception crosses the boundary"; the host must refuse it, not terminate.
#include <stdexcept>

#include "weir/plugin.h"

extern "C" WEIR_EXPORT int32_t weir_plugin_entry_v1(const weir_host_info* host,
                                                    weir_plugin* out_plugin,
                                                    weir_error* out_error) {
  (void)out_plugin;
  (void)out_error;
  if (host != nullptr) throw std::runtime_error("throwing plugin: entry exploded on purpose");
  return WEIR_ERROR;
}
