# bench/s3.cmake — s3_bench, the s3 destination's figures (driven by `bash bench/run-s3`).
# Included by bench/CMakeLists.txt (include(s3.cmake OPTIONAL)); lands in build/bin.
if(NOT TARGET weir-plugin-s3)
  return()
endif()
if(NOT TARGET PkgConfig::libdeflate)
  pkg_check_modules(libdeflate REQUIRED IMPORTED_TARGET libdeflate)
endif()
add_executable(s3_bench ${CMAKE_CURRENT_LIST_DIR}/s3_bench.cpp)
# weir::testkit: PluginLibrary / FakeHost drive the plugin through its C vtable like the host.
target_link_libraries(s3_bench PRIVATE weir::testkit PkgConfig::libdeflate Threads::Threads)
set_target_properties(s3_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin")
add_dependencies(s3_bench weir-plugin-s3)
if(TARGET weir::s3_client)  # the `upload` phase: weir's S3 client alone, next to curl
  target_link_libraries(s3_bench PRIVATE weir::s3_client)
  target_compile_definitions(s3_bench PRIVATE WEIR_BENCH_HAVE_S3_CLIENT=1)
endif()
weir_set_warnings(s3_bench)
