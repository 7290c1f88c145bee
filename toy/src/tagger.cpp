// The exact likelihood-ratio tagger: each category's detector-level variables are
// Gaussian, and the count n is the rounding of a Gaussian variable, so
// p(x, n | category) = N(x; m, C) * P(log n interval | x) in closed form.
#include <Eigen/Dense>
#include <cmath>
#include <limits>

#include "cs/toy/experiment.hpp"
#include "normal_interval.hpp"

namespace cs::toy {
namespace {

double log_sum_exp(double a, double b) {
    if (a == -std::numeric_limits<double>::infinity()) {
        return b;
    }
    if (b == -std::numeric_limits<double>::infinity()) {
        return a;
    }
    const double high = std::fmax(a, b);
    return high + std::log1p(std::exp(std::fmin(a, b) - high));
}

}  // namespace

Tagger::Tagger(const Model& model) {
    constexpr int kJoint = 2 * kVariables;
    using Seen = Eigen::Matrix<double, kSeen, kSeen>;
    using SeenVector = Eigen::Matrix<double, kSeen, 1>;

    for (Region region : {Region::tracker, Region::forward}) {
        for (std::size_t k = 0; k < model.categories().size(); ++k) {
            const auto& mean = model.joint_mean(k, region);
            const auto& covariance = model.joint_covariance(k, region);
            const auto joint = [&](int row, int column) {
                return covariance[(kVariables + row) * kJoint + kVariables + column];
            };

            // the seen detector variables and the multiplicity's regression on them
            Seen seen;
            SeenVector cross;
            for (int i = 0; i < kSeen; ++i) {
                for (int j = 0; j < kSeen; ++j) {
                    seen(i, j) = joint(i, j);
                }
                cross(i) = joint(kLogMultiplicity, i);
            }
            const Eigen::LLT<Seen> cholesky(seen);
            const Seen factor = cholesky.matrixL();
            const Seen whitening = factor.triangularView<Eigen::Lower>().solve(Seen::Identity());
            const SeenVector regression = cholesky.solve(cross);

            Component component;
            component.label = model.categories()[k].label;
            component.log_weight = std::log(model.categories()[k].weight);
            component.log_normalization = -factor.diagonal().array().log().sum();
            for (int i = 0; i < kSeen; ++i) {
                component.mean[i] = mean[kVariables + i];
                component.regression[i] = regression(i);
                for (int j = 0; j < kSeen; ++j) {
                    component.whitening[i][j] = whitening(i, j);
                }
            }
            component.multiplicity_mean = mean[kVariables + kLogMultiplicity];
            component.multiplicity_width =
                std::sqrt(joint(kLogMultiplicity, kLogMultiplicity) - cross.dot(regression));
            components_[static_cast<int>(region)].push_back(component);
        }
    }
}

double Tagger::log_likelihood_ratio(const Variables& detector, int multiplicity,
                                    Region region) const {
    const double lower = multiplicity_lower(multiplicity);
    const double upper = multiplicity_upper(multiplicity);
    double log_top = -std::numeric_limits<double>::infinity();
    double log_qcd = -std::numeric_limits<double>::infinity();

    for (const Component& component : components_[static_cast<int>(region)]) {
        // Gaussian part: whitened residual, lower-triangular product
        std::array<double, kSeen> residual{};
        double multiplicity_mean = component.multiplicity_mean;
        for (int i = 0; i < kSeen; ++i) {
            residual[i] = detector[i] - component.mean[i];
            multiplicity_mean += component.regression[i] * residual[i];
        }
        double squares = 0.0;
        for (int i = 0; i < kSeen; ++i) {
            double whitened = 0.0;
            for (int j = 0; j <= i; ++j) {
                whitened += component.whitening[i][j] * residual[j];
            }
            squares += whitened * whitened;
        }

        // the count: probability that the log multiplicity falls in n's interval
        const double width = component.multiplicity_width;
        const double log_count = log_normal_interval((lower - multiplicity_mean) / width,
                                                     (upper - multiplicity_mean) / width);
        const double log_density =
            component.log_weight + component.log_normalization - 0.5 * squares + log_count;
        double& total = component.label == 1 ? log_top : log_qcd;
        total = log_sum_exp(total, log_density);
    }
    return log_top - log_qcd;
}

double Tagger::score_logit(double log_likelihood_ratio) {
    return kLogitCompression * std::asinh(log_likelihood_ratio / kLogitCompression);
}

double Tagger::score(const Variables& detector, int multiplicity, Region region) const {
    const double logit = score_logit(log_likelihood_ratio(detector, multiplicity, region));
    return logit >= 0.0 ? 1.0 / (1.0 + std::exp(-logit))
                        : std::exp(logit) / (1.0 + std::exp(logit));
}

}  // namespace cs::toy
