// The lower-level runtime API over Eigen types: an ensemble of velocity fields with
// the file's normalization, support and score transform, answering for batches.
// Conditions are a matrix with one row per jet and one column per condition, in
// physical units and in the file's order.
#pragma once

#include <memory>
#include <utility>
#include <vector>
#include "cs/runtime/eigen.hpp"

#include "cs/format.hpp"
#include "cs/runtime/solver.hpp"
#include "cs/runtime/velocity_field.hpp"
#include "cs/summary.hpp"

namespace cs::runtime {

class Ensemble {
  public:
    // Builds the members and checks the file's test vectors; throws FormatError.
    explicit Ensemble(format::SurrogateFile file, Arithmetic arithmetic = Arithmetic::portable);

    const format::SurrogateFile& file() const { return file_; }
    Eigen::Index n_members() const { return static_cast<Eigen::Index>(fields_.size()); }
    Eigen::Index n_conditions() const { return static_cast<Eigen::Index>(file_.conditions.size()); }
    const VelocityField& member(Eigen::Index m) const;
    const SolverOptions& default_solver() const { return solver_; }

    // (value - offset) / scale, transposed to one column per jet; checks the values.
    Eigen::MatrixXf normalize(const Eigen::MatrixXd& conditions) const;

    double logit(double score) const;
    double score(double logit) const;

    // Noise z to the flow's x at t = 0 (one z per row of `normalized`'s columns).
    // `groups`: the rows that share their steps under batch step control (solve()).
    // The answers below give each jet's rows a group of their own, so that a jet's
    // answer does not depend on the other jets of the call.
    Eigen::ArrayXd transform(Eigen::Index m, const Eigen::MatrixXf& normalized,
                             const Eigen::ArrayXd& noise, const SolverOptions& options,
                             const StepGroups& groups = {}) const;
    // x at t = 0 to noise z; with `log_det`, also the integral of dv/dx.
    Eigen::ArrayXd inverse(Eigen::Index m, const Eigen::MatrixXf& normalized,
                           const Eigen::ArrayXd& x, const SolverOptions& options,
                           Eigen::ArrayXd* log_det = nullptr, const StepGroups& groups = {}) const;

    // [member](jet, level): exact score quantiles, for the members [first_member,
    // first_member + count) (a negative count: to the last member).
    std::vector<Eigen::MatrixXd> quantiles(const Eigen::MatrixXd& conditions,
                                           const std::vector<double>& levels,
                                           const SolverOptions& options,
                                           Eigen::Index first_member = 0,
                                           Eigen::Index count = -1) const;
    // [member](jet, cut): P(score > cut) = 1 - Phi(T^-1(logit(cut))), for the same
    // range of members.
    std::vector<Eigen::MatrixXd> tag_probability(const Eigen::MatrixXd& conditions,
                                                 const std::vector<double>& cuts,
                                                 const SolverOptions& options,
                                                 Eigen::Index first_member = 0,
                                                 Eigen::Index count = -1) const;
    // [member](jet, k): log density of the score at scores(jet, k).
    std::vector<Eigen::MatrixXd> log_density(const Eigen::MatrixXd& conditions,
                                             const Eigen::MatrixXd& scores,
                                             const SolverOptions& options) const;

    // [member](jet, k): P(score <= scores(jet, k)), the probability integral transform;
    // scores of exactly 0 or 1 give 0 or 1 without a solve.
    std::vector<Eigen::MatrixXd> cdf(const Eigen::MatrixXd& conditions,
                                     const Eigen::MatrixXd& scores,
                                     const SolverOptions& options) const;

    // Monte Carlo scores (jet, k) from the ensemble's predictive distribution: for
    // draw k of jet j a member and a noise value, both addressed by (seed, first_jet
    // + j, k), so any sharding of the jets gives the same numbers. `member` >= 0
    // samples that member only.
    Eigen::MatrixXd sample(
        const Eigen::MatrixXd& conditions, uint32_t n_per_jet, uint64_t seed, uint64_t first_jet,
        const SolverOptions& options, Eigen::Index member = -1,
        Eigen::Matrix<uint32_t, Eigen::Dynamic, Eigen::Dynamic>* members = nullptr) const;

    // Support checks, one per jet.
    std::vector<SupportCheck> support(const Eigen::MatrixXd& conditions) const;

    // Quantiles, tag probabilities, moments and support of every jet.
    std::vector<JetSummary> summarize(const Eigen::MatrixXd& conditions, const QueryOptions& query,
                                      const SolverOptions& options) const;

    // summarize() in two parts, so that the members can be solved apart (in several
    // Web Workers, say): the solves, for a range of members, and the summary from
    // the solutions of every member. Solutions joined in member order give exactly
    // what summarize() gives.
    struct MemberSolutions {
        std::vector<Eigen::MatrixXd> quantiles;        // [member](jet, summary_levels())
        std::vector<Eigen::MatrixXd> tag_probability;  // [member](jet, cut)
    };
    // The levels a summary solves: the query's quantile levels, then the moment grid's
    // levels that are not among them.
    static std::vector<double> summary_levels(const QueryOptions& query);
    MemberSolutions solve_members(const Eigen::MatrixXd& conditions, const QueryOptions& query,
                                  const SolverOptions& options, Eigen::Index first_member,
                                  Eigen::Index count) const;
    // Throws EvaluationError unless `solutions` holds every member, in the shapes
    // solve_members() gives, with probabilities in [0, 1].
    std::vector<JetSummary> combine(const Eigen::MatrixXd& conditions, const QueryOptions& query,
                                    const MemberSolutions& solutions) const;

  private:
    void check_test_vectors() const;
    // [first, first + count) after checking it; a negative count runs to the end.
    std::pair<Eigen::Index, Eigen::Index> member_range(Eigen::Index first,
                                                       Eigen::Index count) const;

    format::SurrogateFile file_;
    std::vector<std::unique_ptr<VelocityField>> fields_;
    SolverOptions solver_;
    Eigen::VectorXd support_mean_;
    Eigen::MatrixXd support_lower_;  // Cholesky factor of the support covariance
};

}  // namespace cs::runtime
