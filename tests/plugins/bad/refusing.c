/* tests/plugins/bad/refusing.c — a plugin that refuses the ABI negotiation.
 *
 * It claims to need ABI minor 99, returns WEIR_NOT_IMPLEMENTED and fills the weir_error with a
 * heap message and a release callback, as plugin.h prescribes. */
#include <stdlib.h>
#include <string.h>

#include "weir/plugin.h"

static void ReleaseError(struct weir_error* error) {
  free(error->message);
  error->message = NULL;
  error->release = NULL;
}

WEIR_EXPORT int32_t weir_plugin_entry_v1(const struct weir_host_info* host,
                                         struct weir_plugin* out_plugin,
                                         struct weir_error* out_error) {
  static const char kMessage[] = "refusing plugin needs ABI minor 99, the host offers too few";
  (void)host;
  (void)out_plugin;
  out_error->struct_size = sizeof *out_error;
  out_error->code = WEIR_NOT_IMPLEMENTED;
  out_error->message = (char*)malloc(sizeof kMessage);
  if (out_error->message != NULL) memcpy(out_error->message, kMessage, sizeof kMessage);
  out_error->retryable = 0;
  out_error->release = ReleaseError;
  return WEIR_NOT_IMPLEMENTED;
}
