/* tests/plugins/bad/segfault.c — an entry function that dereferences a null pointer.
 *
 * Both the pointer and the pointee are volatile: with a volatile pointer alone GCC 12 at -O2
 * still drops the store as dead. The host's probe must report the SIGSEGV and live. Not
 * checked by UBSan (the asan preset): its null check would report the store and exit 1
 * before the fault happens. */
#include "weir/plugin.h"

__attribute__((no_sanitize("undefined"))) WEIR_EXPORT int32_t weir_plugin_entry_v1(const struct weir_host_info* host,
                                         struct weir_plugin* out_plugin,
                                         struct weir_error* out_error) {
  volatile int* volatile nowhere = NULL;
  (void)host;
  (void)out_plugin;
  (void)out_error;
  *nowhere = 42;
  return WEIR_OK;
}
