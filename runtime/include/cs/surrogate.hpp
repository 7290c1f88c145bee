// The embedding API: load a published surrogate and ask about jets given by named
// conditions in physical units. No Eigen here; every call is const and may run
// from several threads at once. Errors: cs::FormatError for a bad file,
// cs::EvaluationError for a bad query (see cs/errors.hpp).
//
//   cs::Surrogate surrogate = cs::Surrogate::load("models/toy-variational.surrogate");
//   cs::JetSummary s = surrogate.summarize({{"label_top", 1}, {"jet_pt", 650}, ...});
//   double p = s.tag_probability[0];  // P(score > 0.5), with s.tag_probability_std
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cs/arithmetic.hpp"
#include "cs/errors.hpp"
#include "cs/format.hpp"
#include "cs/summary.hpp"

namespace cs {

namespace runtime {
class Ensemble;
}

// A jet: condition name -> value in the unit the surrogate's card states.
using Conditions = std::map<std::string, double>;

class Surrogate {
  public:
    // `arithmetic`: portable (the default) gives the page's and the command line's
    // numbers bit for bit; fused is faster natively (cs/arithmetic.hpp).
    static Surrogate load(const std::string& path, Arithmetic arithmetic = Arithmetic::portable);
    static Surrogate from_bytes(const std::string& bytes,
                                Arithmetic arithmetic = Arithmetic::portable);
    explicit Surrogate(format::SurrogateFile file, Arithmetic arithmetic = Arithmetic::portable);

    const format::SurrogateFile& file() const;
    std::vector<std::string> condition_names() const;
    size_t n_members() const;

    // Quantiles, tag probabilities with their spread, moments and support of a jet.
    JetSummary summarize(const Conditions& jet, const QueryOptions& query = {}) const;
    std::vector<JetSummary> summarize(const std::vector<Conditions>& jets,
                                      const QueryOptions& query = {}) const;

    // P(score > cut), averaged over members.
    double tag_probability(const Conditions& jet, double cut) const;
    // Density of the score at `score`, averaged over members.
    double density(const Conditions& jet, double score) const;
    // Monte Carlo scores from the ensemble's predictive distribution; `jet_index`
    // addresses the random numbers, so a jet gets the same draws in any batch.
    std::vector<double> sample(const Conditions& jet, uint32_t n, uint64_t seed,
                               uint64_t jet_index = 0) const;
    SupportCheck check_support(const Conditions& jet) const;

    // The lower-level API over Eigen types (cs/runtime/ensemble.hpp).
    const runtime::Ensemble& ensemble() const { return *ensemble_; }

  private:
    std::vector<double> row(const Conditions& jet) const;

    std::shared_ptr<const runtime::Ensemble> ensemble_;
};

}  // namespace cs
