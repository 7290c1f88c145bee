// The exact truth: for the conditions a surrogate sees, the distribution of the
// tagger score. The sampler draws the category and the unobserved particle-level
// variables from their exact conditional distribution given the conditions (all
// conditional Gaussians, one of them cut to the interval of the observed count),
// re-runs the detector for the quantities not observed, and tags the jet.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "cs/toy/experiment.hpp"

namespace cs::toy {

// The surrogate's conditions, as in the processed JetClass columns.
struct Conditions {
    int label = 0;                        // label_top
    double pt = 0.0;                      // jet_pt [GeV]
    double eta = 0.0;                     // jet_eta
    double phi = 0.0;                     // jet_phi (the truth does not depend on it)
    double energy = 0.0;                  // jet_energy [GeV]; with pt and eta it fixes the jet mass
    int multiplicity = 1;                 // jet_nparticles
    std::optional<double> softdrop_mass;  // jet_sdmass [GeV], when conditioned on
    std::optional<std::array<double, 4>> tau;  // jet_tau1..4, when conditioned on
};

// The conditions of a generated jet, with or without the substructure.
Conditions conditions_of(const Jet& jet, bool with_substructure);

class TruthSampler {
  public:
    // Throws std::invalid_argument for conditions no jet can have (energy below
    // pt cosh(eta), soft-drop mass above the mass, tau values not falling in (0, 1), ...).
    explicit TruthSampler(const Conditions& conditions, const Model& model = toy::model());
    ~TruthSampler();
    TruthSampler(TruthSampler&&) noexcept;

    // One score from the true distribution; draw `item` of the random stream.
    double draw(const CounterRandom& random, std::uint64_t item) const;

    // P(category | conditions), indexed like model().categories().
    const std::vector<double>& category_probabilities() const { return probabilities_; }

    // The jet mass the conditions imply, sqrt(E^2 - (pt cosh eta)^2).
    double mass() const { return mass_; }

  private:
    struct Posterior;  // the conditional Gaussians of one category

    const Model& model_;
    Tagger tagger_;
    Region region_;
    int multiplicity_;
    double mass_ = 0.0;
    Variables observed_{};
    std::array<bool, kVariables> is_observed_{};
    std::vector<double> probabilities_;
    std::vector<Posterior> posteriors_;  // per category; empty ones have probability 0
};

// Summary of many draws: sorted scores, quantiles and tag probabilities.
struct TruthDistribution {
    std::vector<double> scores;  // sorted

    double quantile(double alpha) const;       // the alpha-quantile of the scores
    double tag_probability(double cut) const;  // P(score > cut)
    double mean() const;
};

TruthDistribution true_distribution(const Conditions& conditions, std::size_t draws,
                                    std::uint64_t seed);

}  // namespace cs::toy
