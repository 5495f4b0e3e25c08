/* tests/plugins/bad/missing_symbol.c — a shared object that is not a weir plugin at all.
 *
 * Exports a function, but no `weir_plugin_entry_v*`; must be refused from the symbol table
 * ("no weir entry symbol ...") without loading (its constructor marker proves that). */
#include "constructor_marker.h"
#include "weir/plugin.h"

WEIR_EXPORT int weir_test_not_a_plugin(int x) { return x + 1; }
