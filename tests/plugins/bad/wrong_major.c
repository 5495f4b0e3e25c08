/* tests/plugins/bad/wrong_major.c — a plugin built for a future ABI major 2.
 *
 * Exports only `weir_plugin_entry_v2`, so a v1 host must refuse it from the symbol table alone
 * ("built for weir ABI major 2, ...") without loading it; its constructor marker proves that. */
#include "constructor_marker.h"
#include "weir/plugin.h"

WEIR_EXPORT int32_t weir_plugin_entry_v2(const struct weir_host_info* host,
                                         struct weir_plugin* out_plugin,
                                         struct weir_error* out_error) {
  (void)host;
  (void)out_plugin;
  (void)out_error;
  return WEIR_NOT_IMPLEMENTED;
}
