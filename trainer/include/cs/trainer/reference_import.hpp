// Surrogates trained with the reference Python code of arXiv:2402.15558: its CNF's
// state dict, saved with torch.save as a plain dict of tensors, read into the
// file's architecture and weight layout. The reference names its blocks
// net.mlps1, net.mlp1, net.mlp2, ... with linear layers at indices 0, 2, 4, ...
// (ELU between them), holding .weight and .bias, or with Flipout layers .mu_weight,
// .rho_weight, .mu_bias and .rho_bias (sigma = softplus(rho)); the time
// frequencies are the buffer `freqs` = pi * [1, 2, 3]. Before every block it
// concatenates [cos(freqs t), sin(freqs t), state, conditions], the order of
// DESIGN.md. This header has no LibTorch in it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cs/format.hpp"
#include "cs/trainer/trainer.hpp"

namespace cs::trainer {

struct ReferenceModel {
    format::Architecture architecture;
    std::size_t n_conditions = 0;
    // cfm for plain linear layers (the mean), variational for Flipout (mu and rho).
    Posterior posterior;
    std::string prefix;                    // what came before "mlps1." in the keys
    std::vector<std::string> unused_keys;  // buffers the import does not need
    std::string dtype;                     // of the stored weights ("float", "double")
};

// Reads a state dict written by torch.save. Throws TrainingError naming the file
// and the key for a file that is not a dict of tensors, a missing layer, a shape
// that does not continue the blocks, mixed plain and Flipout layers, or frequencies
// that are not positive.
ReferenceModel read_reference_state_dict(const std::string& path);

// The same from the bytes of such a file; `name` is used in error messages.
ReferenceModel parse_reference_state_dict(const std::vector<char>& bytes, const std::string& name);

}  // namespace cs::trainer
