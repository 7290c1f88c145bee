# Compiler flags shared by every target of the project.
option(CS_WERROR "Treat compiler warnings as errors" OFF)

add_library(cs_warnings INTERFACE)
target_compile_options(cs_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow
    $<$<BOOL:${CS_WERROR}>:-Werror>
    $<$<CONFIG:Release>:-O3>)

# Eigen code must never be built with -Os or -Oz: it runs 20-50 times slower.
add_library(cs_arch INTERFACE)
if(CS_NATIVE_ARCH AND NOT EMSCRIPTEN)
    target_compile_options(cs_arch INTERFACE -march=native)
endif()
