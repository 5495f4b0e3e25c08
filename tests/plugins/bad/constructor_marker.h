/* tests/plugins/bad/constructor_marker.h — lets a test prove a plugin's code never ran.
 *
 * A bad plugin that includes this gets a static constructor: when the environment variable
 * WEIR_TEST_CONSTRUCTOR_MARKER names a file, loading the plugin (dlopen) creates that file.
 * The loader test sets the variable to a fresh temp path, asks the loader to vet the plugin,
 * and checks afterwards that the file does not exist. Include it from exactly one .c file. */
#ifndef WEIR_TEST_CONSTRUCTOR_MARKER_H
#define WEIR_TEST_CONSTRUCTOR_MARKER_H

#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void weir_test_write_constructor_marker(void) {
  const char* path = getenv("WEIR_TEST_CONSTRUCTOR_MARKER");
  if (path != NULL && path[0] != '\0') {
    FILE* f = fopen(path, "w");
    if (f != NULL) {
      fputs("constructor ran\n", f);
      fclose(f);
    }
  }
}

#endif /* WEIR_TEST_CONSTRUCTOR_MARKER_H */
