# bench/snowflake.cmake — the snowflake destination's bench (included from bench/CMakeLists.txt):
#   snowflake_bench   rows/s into PostgreSQL through the plugin vs a bare ODBC array-insert loop
# Run everything, psql \copy included, with: bash bench/run-snowflake
if(NOT TARGET weir-plugin-snowflake)
  return()  # unixODBC missing: plugins/snowflake said why
endif()
find_package(ODBC REQUIRED)
add_executable(snowflake_bench ${CMAKE_CURRENT_LIST_DIR}/snowflake_bench.cpp)
target_link_libraries(snowflake_bench PRIVATE weir::snowflake_core weir::testkit ODBC::ODBC)
set_target_properties(snowflake_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin")
add_dependencies(snowflake_bench weir-plugin-snowflake)
weir_set_warnings(snowflake_bench)
