// The exact likelihood-ratio tagger: each category's detector-level variables are
// Gaussian, and the count n is the rounding of a Gaussian variable, so
// p(x, n | category) = N(x; m, C) * P(log n interval | x) in closed form.
#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "cs/toy/experiment.hpp"
#include "normal_interval.hpp"

namespace cs::toy {

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
                    component.whitening[i][j] = j <= i ? whitening(i, j) : 0.0;
                }
            }
            component.multiplicity_mean = mean[kVariables + kLogMultiplicity];
            component.multiplicity_width =
                std::sqrt(joint(kLogMultiplicity, kLogMultiplicity) - cross.dot(regression));
            components_[static_cast<int>(region)].push_back(component);
        }
        if (components_[static_cast<int>(region)].size() > kMaxComponents) {
            throw std::logic_error("toy tagger: more categories than kMaxComponents");
        }
    }
}

double Tagger::log_likelihood_ratio(const Variables& detector, int multiplicity,
                                    Region region) const {
    const auto& components = components_[static_cast<int>(region)];
    const std::size_t count = components.size();

    // the Gaussian part of each component, an upper bound of its log density
    std::array<double, kMaxComponents> bound{};
    std::array<double, kMaxComponents> multiplicity_mean{};
    for (std::size_t c = 0; c < count; ++c) {
        const Component& component = components[c];
        std::array<double, kSeen> residual{};
        multiplicity_mean[c] = component.multiplicity_mean;
        for (int i = 0; i < kSeen; ++i) {
            residual[i] = detector[i] - component.mean[i];
            multiplicity_mean[c] += component.regression[i] * residual[i];
        }
        // the whitening is lower triangular; the full product (zeros above the
        // diagonal) has a fixed length and vectorizes
        double squares = 0.0;
        for (int i = 0; i < kSeen; ++i) {
            double whitened = 0.0;
            for (int j = 0; j < kSeen; ++j) {
                whitened += component.whitening[i][j] * residual[j];
            }
            squares += whitened * whitened;
        }
        bound[c] = component.log_weight + component.log_normalization - 0.5 * squares;
    }

    // the count's probability, P(log multiplicity in n's interval), is at most 1: a
    // component whose bound lies 40 below its class's leading density changes that
    // class's sum by less than exp(-40) relative, and is skipped
    const double lower = multiplicity_lower(multiplicity);
    const double upper = multiplicity_upper(multiplicity);
    const auto density = [&](std::size_t c) {
        const double width = components[c].multiplicity_width;
        return bound[c] + log_normal_interval((lower - multiplicity_mean[c]) / width,
                                              (upper - multiplicity_mean[c]) / width);
    };
    double log_class[2] = {0.0, 0.0};
    for (int label = 0; label < 2; ++label) {
        std::size_t leading = count;
        for (std::size_t c = 0; c < count; ++c) {
            if (components[c].label == label && (leading == count || bound[c] > bound[leading])) {
                leading = c;
            }
        }
        const double leading_density = density(leading);
        double sum = 1.0;
        for (std::size_t c = 0; c < count; ++c) {
            if (c != leading && components[c].label == label &&
                bound[c] > leading_density - kNegligible) {
                sum += std::exp(density(c) - leading_density);
            }
        }
        log_class[label] = leading_density + (sum == 1.0 ? 0.0 : std::log(sum));
    }
    return log_class[1] - log_class[0];
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
