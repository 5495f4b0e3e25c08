# plugins/sdk-source/plugin.cmake — the sdk-source plugin (included by CMakeLists.txt):
#   build/plugins/libweir-sdk-source.so  streams events, users, identities from the store, and
#   (ABI 1.1) the collector as a service: weir service run sdk-source --config FILE
# A MODULE links only static, PIC libraries: weir::sdk_source_store is built that way.
if(NOT TARGET weir::sdk_source_store)
  # Lets the tree configure while the store is being written; never the case once it exists.
  message(STATUS "weir::sdk_source_store not defined yet: skipping the sdk-source plugin")
  return()
endif()
weir_add_plugin(NAME sdk-source INSTALL
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/source_plugin.cpp
    ${CMAKE_CURRENT_LIST_DIR}/source_batch.cpp
    ${CMAKE_CURRENT_LIST_DIR}/source_config.cpp
    ${CMAKE_CURRENT_LIST_DIR}/source_reader.cpp
  LIBS weir::sdk_source_collector weir::sdk_source_store simdjson::simdjson)
weir_set_warnings(weir-plugin-sdk-source)
