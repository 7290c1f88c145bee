// The truth sampler: conditioning each category's joint Gaussian of (particle level,
// detector level) on the observed detector-level variables and on the interval of
// the observed count, then drawing the particle level and re-running the detector.
#include "cs/toy/truth.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "normal_interval.hpp"

namespace cs::toy {
namespace {

constexpr int kJoint = 2 * kVariables;
constexpr int kDetector = kVariables;  // offset of detector-level variables in z

double logit(double p) {
    return std::log(p / (1.0 - p));
}

[[noreturn]] void reject(const std::string& message) {
    throw std::invalid_argument("truth conditions: " + message);
}

// Random-number indices of one truth draw.
enum TruthDraw : std::uint32_t {
    kPickCategory = 0,
    kPickMultiplicity = 1,
    kPickParticle = 2,                           // 2 + j
    kPickDetector = kPickParticle + kVariables,  // 11 + j
};

}  // namespace

struct TruthSampler::Posterior {
    // log multiplicity given the point observations: mean, width, and the observed
    // count's interval in units of that width
    double multiplicity_mean = 0.0;
    double multiplicity_width = 1.0;
    NormalInterval count_interval{0.0, 1.0};
    // particle level given the point observations and the log multiplicity:
    // mean + slope (log multiplicity - multiplicity_mean) + factor xi
    Eigen::Matrix<double, kVariables, 1> mean;
    Eigen::Matrix<double, kVariables, 1> slope;
    Eigen::Matrix<double, kVariables, kVariables> factor;
};

TruthSampler::~TruthSampler() = default;
TruthSampler::TruthSampler(TruthSampler&&) noexcept = default;

Conditions conditions_of(const Jet& jet, bool with_substructure) {
    const Observables seen = jet.detector_level();
    Conditions conditions;
    conditions.label = jet.label;
    conditions.pt = seen.pt;
    conditions.eta = seen.eta;
    conditions.phi = seen.phi;
    conditions.energy = seen.energy;
    conditions.multiplicity = seen.multiplicity;
    if (with_substructure) {
        conditions.softdrop_mass = seen.softdrop_mass;
        conditions.tau = seen.tau;
    }
    return conditions;
}

TruthSampler::TruthSampler(const Conditions& conditions, const Model& model)
    : model_(model),
      tagger_(model),
      region_(region_of(conditions.eta)),
      multiplicity_(conditions.multiplicity) {
    // the observed detector-level variables, checked to be those of a possible jet
    if (conditions.label != 0 && conditions.label != 1) {
        reject("label " + std::to_string(conditions.label) + " (expected 0 or 1)");
    }
    if (!(conditions.pt > 0.0) || !std::isfinite(conditions.eta) || conditions.multiplicity < 1) {
        reject("expected pt > 0, a finite eta and at least one constituent");
    }
    const double momentum = conditions.pt * std::cosh(conditions.eta);
    if (!(conditions.energy > momentum)) {
        reject("energy " + std::to_string(conditions.energy) + " GeV is not above pt cosh(eta) = " +
               std::to_string(momentum) + " GeV (a jet has positive mass)");
    }
    mass_ = std::sqrt((conditions.energy - momentum) * (conditions.energy + momentum));
    observed_[kLogPt] = std::log(conditions.pt);
    observed_[kLogMass] = std::log(mass_);
    is_observed_[kLogPt] = true;
    is_observed_[kLogMass] = true;
    if (conditions.softdrop_mass) {
        const double fraction = *conditions.softdrop_mass / mass_;
        if (!(fraction > 0.0 && fraction < 1.0)) {
            reject("soft-drop mass " + std::to_string(*conditions.softdrop_mass) +
                   " GeV (expected between 0 and the jet mass " + std::to_string(mass_) + " GeV)");
        }
        observed_[kSoftDropLogit] = logit(fraction);
        is_observed_[kSoftDropLogit] = true;
    }
    if (conditions.tau) {
        const auto& tau = *conditions.tau;
        double previous = 1.0;
        for (int n = 0; n < 4; ++n) {
            if (!(tau[n] > 0.0 && tau[n] < previous)) {
                reject("tau" + std::to_string(n + 1) + " = " + std::to_string(tau[n]) +
                       " (expected 1 > tau1 > tau2 > tau3 > tau4 > 0)");
            }
            observed_[kTau1Logit + n] = logit(tau[n] / previous);
            is_observed_[kTau1Logit + n] = true;
            previous = tau[n];
        }
    }

    // z indices of the point observations, and of what stays unknown: the particle
    // level and the detector-level log multiplicity (known only to an interval)
    std::vector<int> known;
    for (int j = 0; j < kVariables; ++j) {
        if (is_observed_[j]) {
            known.push_back(kDetector + j);
        }
    }
    std::vector<int> unknown;
    for (int j = 0; j < kVariables; ++j) {
        unknown.push_back(j);
    }
    unknown.push_back(kDetector + kLogMultiplicity);
    const int n_known = static_cast<int>(known.size());
    const int n_unknown = static_cast<int>(unknown.size());

    const double lower = multiplicity_lower(multiplicity_);
    const double upper = multiplicity_upper(multiplicity_);
    std::vector<double> log_weights;
    for (std::size_t k = 0; k < model.categories().size(); ++k) {
        posteriors_.emplace_back();
        if (model.categories()[k].label != conditions.label) {
            log_weights.push_back(-std::numeric_limits<double>::infinity());
            continue;
        }
        const auto& mean = model.joint_mean(k, region_);
        const auto& covariance = model.joint_covariance(k, region_);
        const auto joint = [&](int row, int column) { return covariance[row * kJoint + column]; };

        // the Gaussian of the point observations, and the unknowns' conditional on them
        Eigen::MatrixXd known_covariance(n_known, n_known);
        Eigen::MatrixXd cross(n_unknown, n_known);
        Eigen::VectorXd residual(n_known);
        for (int a = 0; a < n_known; ++a) {
            residual(a) = observed_[known[a] - kDetector] - mean[known[a]];
            for (int b = 0; b < n_known; ++b) {
                known_covariance(a, b) = joint(known[a], known[b]);
            }
            for (int u = 0; u < n_unknown; ++u) {
                cross(u, a) = joint(unknown[u], known[a]);
            }
        }
        Eigen::MatrixXd unknown_covariance(n_unknown, n_unknown);
        Eigen::VectorXd unknown_mean(n_unknown);
        for (int u = 0; u < n_unknown; ++u) {
            unknown_mean(u) = mean[unknown[u]];
            for (int v = 0; v < n_unknown; ++v) {
                unknown_covariance(u, v) = joint(unknown[u], unknown[v]);
            }
        }
        const Eigen::LLT<Eigen::MatrixXd> cholesky(known_covariance);
        const Eigen::VectorXd solved = cholesky.solve(residual);
        const Eigen::MatrixXd factor = cholesky.matrixL();
        const double log_density =
            -0.5 * residual.dot(solved) - factor.diagonal().array().log().sum();
        const Eigen::VectorXd conditional_mean = unknown_mean + cross * solved;
        const Eigen::MatrixXd conditional_covariance =
            unknown_covariance - cross * cholesky.solve(cross.transpose());

        // the log multiplicity (last unknown) and the particle level given it
        Posterior& posterior = posteriors_.back();
        const int last = n_unknown - 1;
        posterior.multiplicity_mean = conditional_mean(last);
        posterior.multiplicity_width = std::sqrt(conditional_covariance(last, last));
        const double variance = conditional_covariance(last, last);
        posterior.slope = conditional_covariance.block<kVariables, 1>(0, last) / variance;
        posterior.mean = conditional_mean.head<kVariables>();
        const Eigen::MatrixXd particle_covariance =
            conditional_covariance.topLeftCorner<kVariables, kVariables>() -
            posterior.slope * posterior.slope.transpose() * variance;
        posterior.factor = Eigen::LLT<Eigen::MatrixXd>(particle_covariance).matrixL();

        posterior.count_interval =
            NormalInterval((lower - posterior.multiplicity_mean) / posterior.multiplicity_width,
                           (upper - posterior.multiplicity_mean) / posterior.multiplicity_width);
        const double log_count = posterior.count_interval.log_probability();
        log_weights.push_back(std::log(model.categories()[k].weight) + log_density + log_count);
    }

    // P(category | conditions)
    const double highest = *std::max_element(log_weights.begin(), log_weights.end());
    if (!std::isfinite(highest)) {
        reject("no category of the label can produce these conditions");
    }
    double total = 0.0;
    for (double log_weight : log_weights) {
        probabilities_.push_back(std::exp(log_weight - highest));
        total += probabilities_.back();
    }
    for (double& probability : probabilities_) {
        probability /= total;
    }
}

double TruthSampler::draw(const CounterRandom& random, std::uint64_t item) const {
    // the category
    const double pick = random.uniform(item, kPickCategory);
    std::size_t category = 0;
    double cumulative = 0.0;
    for (std::size_t k = 0; k < probabilities_.size(); ++k) {
        if (probabilities_[k] > 0.0) {
            category = k;
            cumulative += probabilities_[k];
            if (pick < cumulative) {
                break;
            }
        }
    }
    const Posterior& posterior = posteriors_[category];

    // the log multiplicity inside the interval of the observed count
    const double log_multiplicity =
        posterior.multiplicity_mean +
        posterior.multiplicity_width *
            posterior.count_interval.draw(random.uniform(item, kPickMultiplicity));

    // the particle level given everything observed
    Eigen::Matrix<double, kVariables, 1> noise;
    for (int j = 0; j < kVariables; ++j) {
        noise(j) = random.normal(item, kPickParticle + static_cast<std::uint32_t>(j));
    }
    const Eigen::Matrix<double, kVariables, 1> particle =
        posterior.mean + posterior.slope * (log_multiplicity - posterior.multiplicity_mean) +
        posterior.factor.triangularView<Eigen::Lower>() * noise;

    // the detector again for what the conditions do not fix, then the tagger
    const Response& response = model_.response(region_);
    Variables detector = observed_;
    for (int j = 0; j < kVariables; ++j) {
        if (!is_observed_[j]) {
            detector[j] = response.gain[j] * particle(j) + response.shift[j] +
                          response.noise[j] *
                              random.normal(item, kPickDetector + static_cast<std::uint32_t>(j));
        }
    }
    detector[kLogMultiplicity] = log_multiplicity;
    return tagger_.score(detector, multiplicity_, region_);
}

double TruthDistribution::quantile(double alpha) const {
    if (scores.empty()) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    // the empirical quantile with linear interpolation between order statistics
    const double position = std::clamp(alpha, 0.0, 1.0) * static_cast<double>(scores.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, scores.size() - 1);
    const double fraction = position - static_cast<double>(below);
    return scores[below] + fraction * (scores[above] - scores[below]);
}

double TruthDistribution::tag_probability(double cut) const {
    const auto first_above = std::upper_bound(scores.begin(), scores.end(), cut);
    return static_cast<double>(scores.end() - first_above) / static_cast<double>(scores.size());
}

double TruthDistribution::mean() const {
    double sum = 0.0;
    for (double score : scores) {
        sum += score;
    }
    return sum / static_cast<double>(scores.size());
}

TruthDistribution true_distribution(const Conditions& conditions, std::size_t draws,
                                    std::uint64_t seed) {
    const TruthSampler sampler(conditions);
    const CounterRandom random(seed, kTruthStream);
    TruthDistribution distribution;
    distribution.scores.reserve(draws);
    for (std::size_t item = 0; item < draws; ++item) {
        distribution.scores.push_back(sampler.draw(random, item));
    }
    std::sort(distribution.scores.begin(), distribution.scores.end());
    return distribution;
}

}  // namespace cs::toy
