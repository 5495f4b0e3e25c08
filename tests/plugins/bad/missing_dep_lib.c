/* tests/plugins/bad/missing_dep_lib.c — the dependency missing_dependency.c needs; it is built
 * outside every plugin directory and no RPATH points at it. */
__attribute__((visibility("default"))) int weir_test_missing_dep_answer(void) { return 42; }
