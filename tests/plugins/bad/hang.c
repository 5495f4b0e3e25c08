/* tests/plugins/bad/hang.c — an entry function that never returns.
 *
 * Lives in its own folder (bad/hang) so that scanning the bad folder stays fast; the loader
 * test probes it with a short timeout and expects the child to be killed. */
#include <unistd.h>

#include "weir/plugin.h"

WEIR_EXPORT int32_t weir_plugin_entry_v1(const struct weir_host_info* host,
                                         struct weir_plugin* out_plugin,
                                         struct weir_error* out_error) {
  (void)host;
  (void)out_plugin;
  (void)out_error;
  for (;;) pause();
}
