// How the runtime rounds the network's float32 arithmetic.
#pragma once

namespace cs {

enum class Arithmetic {
    // Every product and every sum rounded on its own, each sum in a fixed order: the
    // same bits in every build, native or WebAssembly, with or without fused
    // multiply-add in the processor. The page and the command line use it.
    portable,
    // Products and sums fused into one rounding where the processor has fused
    // multiply-add (AVX2 machines): faster natively, and the answers differ from the
    // portable ones within the solver's tolerance. In WebAssembly it is `portable`.
    fused,
};

}  // namespace cs
