// A demonstration surrogate that needs no training data: random velocity fields
// whose last layer is fitted to the exact flow-matching field of a Gaussian score
// model. It exists to show the runtime, the CLI and the page before a trained
// surrogate is published; it mimics no real tagger, and its card says so.
#pragma once

#include <cstdint>

#include "cs/format.hpp"

namespace cs::runtime {

// The (label, pt, eta, phi, energy, multiplicity) conditions of the reference, with
// the processed JetClass normalization constants of DESIGN.md and an empty support.
std::vector<format::Condition> jetclass_conditions();

format::SurrogateFile make_demonstration_surrogate(uint32_t n_members, uint64_t seed);

}  // namespace cs::runtime
