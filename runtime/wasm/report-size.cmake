# Prints the size of a built .wasm file against the page's 300 KB target.
file(SIZE ${WASM} bytes)
math(EXPR kilobytes "(${bytes} + 512) / 1024")
if(bytes GREATER 307200)
    message(WARNING "${WASM}: ${kilobytes} KB, above the 300 KB target")
else()
    message(STATUS "${WASM}: ${kilobytes} KB (target: under 300 KB)")
endif()
