# cmake/WeirWarnings.cmake — weir_set_warnings(target): the project's warning flags.
# WEIR_WARNINGS_AS_ERRORS (on in CI) turns them into errors.
function(weir_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wcast-align
                         -Wformat=2
                         $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor -Woverloaded-virtual>)
  if(WEIR_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
