/* tests/plugins/bad/missing_dependency.c — a plugin linked against a library the dynamic
 * linker cannot find at run time (built without an RPATH to it), so dlopen() fails with
 * "cannot open shared object file"; the host must say so. */
#include "weir/plugin.h"

int weir_test_missing_dep_answer(void); /* in missing_dep_lib.c, a separate .so */

WEIR_EXPORT int32_t weir_plugin_entry_v1(const struct weir_host_info* host,
                                         struct weir_plugin* out_plugin,
                                         struct weir_error* out_error) {
  (void)host;
  (void)out_plugin;
  (void)out_error;
  return weir_test_missing_dep_answer() == 42 ? WEIR_ERROR : WEIR_NOT_IMPLEMENTED;
}
