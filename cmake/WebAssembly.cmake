# Settings of the Emscripten build (emcmake cmake -S . -B build-wasm).
option(CS_WASM_SIMD "Use WebAssembly SIMD through Eigen's SSE path" ON)

# Without exceptions a truncated file would abort the module instead of throwing.
# WebAssembly's own exception handling, not Emscripten's JavaScript emulation: every
# call that may throw went out through a JavaScript trampoline (invoke_*), and the
# page's module was 303 090 bytes with them, 261 321 without, as fast (docs/web.md).
# Chromium 95, Firefox 100, Safari 15.2 and Node 17 and later run it.
add_compile_options(-fwasm-exceptions)
add_link_options(-fwasm-exceptions -sALLOW_MEMORY_GROWTH=1)
# Link-time optimization: the page's module shrank from 337 KB to 309 KB with it, and
# answers as fast.
add_compile_options(-flto)
add_link_options(-flto)
if(CS_WASM_SIMD)
    # Eigen 3.4 has no wasm backend; its SSE4.1 path maps onto wasm SIMD. The empty
    # mmintrin.h and the GCC version let Eigen's SSE headers compile (TOOLCHAIN.md).
    add_compile_options(-msimd128 -msse4.1 -fgnuc-version=6.3)
    include_directories(BEFORE SYSTEM ${CMAKE_CURRENT_LIST_DIR}/wasm-shims)
endif()

# Node 20 rejects the emulator Emscripten sets; tests run under plain node.
find_program(CS_NODE node REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${CS_NODE};--no-experimental-fetch)
