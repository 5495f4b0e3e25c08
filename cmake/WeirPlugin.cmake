# cmake/WeirPlugin.cmake — weir_add_plugin(): build a weir plugin the way the host expects.
#
# A plugin is a MODULE library with hidden visibility whose version script exports only the
# ABI entry symbol (weir_plugin_entry_v1), so nothing of the plugin's own dependencies leaks
# into the host's symbol namespace. Installed with the SDK, so third-party plugins use it too:
#
#   find_package(weir REQUIRED)
#   weir_add_plugin(NAME hello-destination SOURCES hello.cpp LIBS some::lib)
#
# Options: OUTPUT_DIR (default: ${WEIR_PLUGIN_OUTPUT_DIR} if set, else <build>/plugins),
#          NO_VERSION_SCRIPT (for deliberately broken test plugins),
#          INSTALL (`cmake --install` puts the .so into the host's default plugins directory:
#          WEIR_PLUGIN_INSTALL_DIR from find_package(weir), else <prefix>/<libdir>/weir/plugins).
include_guard(GLOBAL)

set(_WEIR_PLUGIN_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(weir_add_plugin)
  cmake_parse_arguments(P "NO_VERSION_SCRIPT;INSTALL" "NAME;OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  if(NOT P_NAME)
    message(FATAL_ERROR "weir_add_plugin: NAME is required")
  endif()
  set(target "weir-plugin-${P_NAME}")
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE weir::sdk ${P_LIBS})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME "${P_NAME}"
    PREFIX "libweir-"
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(P_OUTPUT_DIR)
    set(out "${P_OUTPUT_DIR}")
  elseif(WEIR_PLUGIN_OUTPUT_DIR)
    set(out "${WEIR_PLUGIN_OUTPUT_DIR}")
  else()
    set(out "${CMAKE_BINARY_DIR}/plugins")
  endif()
  set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${out}")
  if(NOT P_NO_VERSION_SCRIPT)
    set(script "${_WEIR_PLUGIN_CMAKE_DIR}/weir_plugin.map")
    target_link_options(${target} PRIVATE "LINKER:--version-script=${script}"
                                          "LINKER:--no-undefined")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${script}")
  endif()
  if(P_INSTALL)
    if(WEIR_INSTALL_PLUGIN_DIR)      # weir's own tree
      set(dest "${WEIR_INSTALL_PLUGIN_DIR}")
    elseif(WEIR_PLUGIN_INSTALL_DIR)  # find_package(weir): the installed host's directory
      set(dest "${WEIR_PLUGIN_INSTALL_DIR}")
    else()
      include(GNUInstallDirs)
      set(dest "${CMAKE_INSTALL_LIBDIR}/weir/plugins")
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION "${dest}")
  endif()
endfunction()
