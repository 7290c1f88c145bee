// Generating toy jets and tagging them: the generator draws particle-level jets and
// the detector's response with the project's counter-based random numbers (jet j
// uses item j only, so any chunking or threading gives the same jets), and the
// tagger computes the exact top-versus-QCD likelihood ratio of what it sees.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "cs/random.hpp"
#include "cs/toy/model.hpp"

namespace cs::toy {

using Variables = std::array<double, kVariables>;

// Physical quantities from the model's variables (either level).
struct Observables {
    double pt = 0.0;
    double eta = 0.0;
    double phi = 0.0;
    double mass = 0.0;
    double energy = 0.0;
    double softdrop_mass = 0.0;
    std::array<double, 4> tau{};
    double vertex_significance = 0.0;
    int multiplicity = 0;
};

Observables observables(const Variables& variables, double eta, double phi);

// The constituent count the continuous variable rounds to, at least one.
int rounded_multiplicity(double log_multiplicity);

// One jet: its label and category, both levels, and the tagger's score.
struct Jet {
    int label = 0;
    int category = 0;
    Variables particle{};
    Variables detector{};
    double eta = 0.0;  // directions are measured exactly: eta and phi are common
    double phi = 0.0;
    double score = 0.0;

    Observables particle_level() const { return observables(particle, eta, phi); }
    Observables detector_level() const { return observables(detector, eta, phi); }
};

// The tagger sees the detector-level variables (log pt, mass, soft-drop mass, the
// four N-subjettiness values, the vertex significance), the constituent count and
// the region. Its score is a strictly increasing function of the exact likelihood
// ratio, so it is an optimal classifier (the ROC curve of the likelihood ratio):
// logit(score) = L asinh(log LR / L) with L = 4. Near the decision boundary this is
// the calibrated P(top | inputs) for equal numbers of top and QCD jets; far from it
// the logit grows only logarithmically, as a trained network's logits saturate,
// instead of reaching hundreds (Gaussian tails) and piling every confident jet at
// the float limits of 0 and 1.
class Tagger {
  public:
    explicit Tagger(const Model& model = toy::model());

    // log p(detector, n | top) - log p(detector, n | QCD); detector[kLogMultiplicity]
    // is not used: the tagger sees only the count n.
    double log_likelihood_ratio(const Variables& detector, int multiplicity, Region region) const;

    // sigmoid(score_logit(log LR)).
    double score(const Variables& detector, int multiplicity, Region region) const;

    static constexpr double kLogitCompression = 4.0;
    static double score_logit(double log_likelihood_ratio);

  private:
    static constexpr int kSeen = kLogMultiplicity;  // continuous variables the tagger sees
    static constexpr std::size_t kMaxComponents = 8;
    static constexpr double kNegligible = 40.0;  // log density below the leading one

    struct Component {
        int label = 0;
        double log_weight = 0.0;
        std::array<double, kSeen> mean{};
        // inverse of the Cholesky factor of the covariance of the seen variables
        std::array<std::array<double, kSeen>, kSeen> whitening{};
        double log_normalization = 0.0;  // -log det of the Cholesky factor
        // log multiplicity given the seen variables: mean + regression . (x - mean)
        double multiplicity_mean = 0.0;
        std::array<double, kSeen> regression{};
        double multiplicity_width = 0.0;
    };

    std::array<std::vector<Component>, 2> components_;  // per region
};

// Draws jets of one selection from one seed and stream.
class Generator {
  public:
    Generator(std::uint64_t seed, std::uint32_t stream, Selection selection = nominal_selection(),
              const Model& model = toy::model());

    // Jet number `jet` of this seed and stream; throws std::runtime_error when the
    // selection on multiplicity rejects 10 000 attempts in a row.
    Jet generate(std::uint64_t jet) const;

    const Selection& selection() const { return selection_; }
    const Tagger& tagger() const { return tagger_; }

  private:
    struct Windows;  // the selection's windows as truncated normals, computed once

    const Model& model_;
    CounterRandom random_;
    Selection selection_;
    Tagger tagger_;
    std::shared_ptr<const Windows> windows_;
};

// Streams of the project's generator that the toy uses; a split or a truth query
// with its own stream never shares random numbers with another.
enum Stream : std::uint32_t {
    kTrainStream = 1,
    kValidationStream = 2,
    kTestStream = 3,
    kTruthStream = 16,
};

}  // namespace cs::toy
