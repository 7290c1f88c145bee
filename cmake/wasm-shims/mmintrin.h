/* Empty on purpose: Emscripten has no MMX, and Eigen's SSE path only needs the
 * header to exist when compiled with -msse4.1 for WebAssembly SIMD. */
