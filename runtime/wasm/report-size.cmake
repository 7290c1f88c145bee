# Prints the size of a built .wasm file against the page's 300 KB target, on one line.
# The target is read in decimal kilobytes, the stricter reading: 300 000 bytes.
file(SIZE ${WASM} bytes)
math(EXPR tenths_of_kib "(${bytes} * 10 + 512) / 1024")
math(EXPR whole "${tenths_of_kib} / 10")
math(EXPR tenth "${tenths_of_kib} % 10")
if(bytes GREATER 300000)
    set(verdict "above the 300 KB target (300 000 bytes)")
else()
    set(verdict "under the 300 KB target (300 000 bytes)")
endif()
get_filename_component(name ${WASM} NAME)
message(STATUS "WebAssembly module ${name}: ${bytes} bytes (${whole}.${tenth} KiB), ${verdict}")
