// Eigen, included the same way by every runtime source. For WebAssembly with SIMD,
// Eigen's SSE path runs through Emscripten's SSE-to-wasm headers; its GEMM kernel
// holds one empty inline-asm register barrier that wasm cannot compile, so asm is
// hidden while Eigen is included (after the standard headers it might touch).
#pragma once

#if defined(__EMSCRIPTEN__) && defined(__SSE2__)
#include <cmath>
#include <complex>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>
#define __asm__(...)
#include <Eigen/Cholesky>
#include <Eigen/Core>
#undef __asm__
#else
#include <Eigen/Cholesky>
#include <Eigen/Core>
#endif
