// From a trained posterior to a surrogate file: members, conditions with their
// normalization and training support, provenance and test vectors.
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <ctime>

#include "cs/format_io.hpp"
#include "cs/random.hpp"
#include "cs/runtime/demonstration.hpp"
#include "cs/trainer/trainer.hpp"

namespace cs::trainer {
namespace {

const std::vector<double> kSupportLevels = {0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999};

// Linear interpolation between order statistics.
double quantile_of(const std::vector<double>& sorted, double level) {
    const double position = level * static_cast<double>(sorted.size() - 1);
    const auto lower = static_cast<size_t>(std::floor(position));
    const size_t upper = std::min(lower + 1, sorted.size() - 1);
    const double fraction = position - static_cast<double>(lower);
    return sorted[lower] + fraction * (sorted[upper] - sorted[lower]);
}

std::vector<double> quantiles_of(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    std::vector<double> quantiles;
    for (double level : kSupportLevels) {
        quantiles.push_back(quantile_of(values, level));
    }
    return quantiles;
}

// Names, units and normalization; JetClass columns get their units and descriptions.
std::vector<format::Condition> conditions_of(const data::Normalization& normalization) {
    const std::vector<format::Condition> known = runtime::jetclass_conditions();
    std::vector<format::Condition> conditions;
    for (size_t c = 0; c < normalization.size(); ++c) {
        format::Condition condition;
        condition.name = normalization.names[c];
        for (const format::Condition& reference : known) {
            if (reference.name == condition.name) {
                condition.unit = reference.unit;
                condition.description = reference.description;
            }
        }
        condition.offset = normalization.offset[c];
        condition.scale = normalization.scale[c];
        conditions.push_back(condition);
    }
    return conditions;
}

// Per-feature ranges and quantiles in physical units; mean, covariance and the
// Mahalanobis distances of the training rows in normalized units.
void fill_support(format::SurrogateFile& file, const Samples& train) {
    const auto n = static_cast<Eigen::Index>(train.rows());
    const auto width = static_cast<Eigen::Index>(train.n_conditions);
    using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::MatrixXd normalized =
        Eigen::Map<const RowMajor>(train.conditions.data(), n, width).cast<double>();

    for (Eigen::Index c = 0; c < width; ++c) {
        format::Condition& condition = file.conditions[static_cast<size_t>(c)];
        std::vector<double> physical(static_cast<size_t>(n));
        for (Eigen::Index r = 0; r < n; ++r) {
            physical[static_cast<size_t>(r)] =
                normalized(r, c) * condition.scale + condition.offset;
        }
        condition.support.min = *std::min_element(physical.begin(), physical.end());
        condition.support.max = *std::max_element(physical.begin(), physical.end());
        condition.support.quantile_levels = kSupportLevels;
        condition.support.quantiles = quantiles_of(std::move(physical));
    }

    // A constant condition (one label only) would make the covariance singular: a
    // small ridge keeps the factor defined without moving the other distances.
    const Eigen::VectorXd mean = normalized.colwise().mean();
    const Eigen::MatrixXd centred = normalized.rowwise() - mean.transpose();
    Eigen::MatrixXd covariance = centred.transpose() * centred / std::max(1.0, n - 1.0);
    covariance.diagonal().array() += 1e-9;
    const Eigen::LLT<Eigen::MatrixXd> factor(covariance);
    std::vector<double> distances(static_cast<size_t>(n));
    const Eigen::MatrixXd whitened = factor.matrixL().solve(centred.transpose());
    for (Eigen::Index r = 0; r < n; ++r) {
        distances[static_cast<size_t>(r)] = whitened.col(r).norm();
    }

    format::Support& support = file.support;
    support.n_jets = static_cast<uint64_t>(n);
    support.mean.assign(mean.data(), mean.data() + mean.size());
    support.covariance.clear();
    for (Eigen::Index i = 0; i < width; ++i) {
        for (Eigen::Index j = 0; j < width; ++j) {
            support.covariance.push_back(covariance(i, j));
        }
    }
    support.distance_levels = kSupportLevels;
    support.distance_quantiles = quantiles_of(std::move(distances));
    support.distance_threshold = support.distance_quantiles.back();
}

std::string today() {
    const std::time_t now = std::time(nullptr);
    char text[16];
    std::strftime(text, sizeof text, "%Y-%m-%d", std::gmtime(&now));
    return text;
}

}  // namespace

// Three velocity values per tested member at training-like conditions (the support
// quantiles of each feature), computed by LibTorch.
void add_test_vectors(format::SurrogateFile& file) {
    file.test_vectors.clear();
    const std::vector<double> times = {0.0, 0.37, 1.0};
    const std::vector<double> states = {-0.2, 0.05, 1.3};
    const std::vector<size_t> levels = {1, 3, 5};  // indices into kSupportLevels
    const size_t width = file.conditions.size();

    std::vector<double> physical;
    std::vector<double> normalized;
    for (size_t i = 0; i < times.size(); ++i) {
        for (const format::Condition& condition : file.conditions) {
            const double value = condition.support.quantiles[levels[i]];
            physical.push_back(value);
            normalized.push_back((value - condition.offset) / condition.scale);
        }
    }

    std::vector<uint32_t> members = {0};
    if (file.members.size() > 1) {
        members.push_back(static_cast<uint32_t>(file.members.size() - 1));
    }
    for (uint32_t m : members) {
        const VelocityValues values = torch_velocity(
            file.architecture, width, file.members[m].weights, times, states, normalized);
        for (size_t i = 0; i < times.size(); ++i) {
            format::TestVector vector;
            vector.member = m;
            vector.time = times[i];
            vector.state = states[i];
            vector.conditions.assign(
                physical.begin() + static_cast<std::ptrdiff_t>(i * width),
                physical.begin() + static_cast<std::ptrdiff_t>((i + 1) * width));
            vector.velocity = values.velocity[i];
            vector.velocity_derivative = values.derivative[i];
            file.test_vectors.push_back(vector);
        }
    }
}

std::vector<float> draw_weights(const Posterior& posterior, uint64_t seed, uint64_t draw) {
    if (posterior.rho.size() != posterior.mean.size()) {
        throw TrainingError("posterior: " + std::to_string(posterior.mean.size()) + " means but " +
                            std::to_string(posterior.rho.size()) + " rho values");
    }
    const CounterRandom random(seed, 200);
    std::vector<float> weights(posterior.mean.size());
    for (size_t i = 0; i < weights.size(); ++i) {
        // softplus, written to stay finite for large rho
        const double rho = posterior.rho[i];
        const double sigma = rho > 20.0 ? rho : std::log1p(std::exp(rho));
        const double noise = random.normal(draw, static_cast<uint32_t>(i));
        weights[i] = static_cast<float>(posterior.mean[i] + sigma * noise);
    }
    return weights;
}

format::SurrogateFile make_surrogate(const Posterior& posterior, const PreparedData& data,
                                     const ExportOptions& options) {
    format::SurrogateFile file;
    file.producer = "surrogate-train";
    file.producer_version = "0.1.0";
    file.architecture = options.architecture;
    file.conditions = conditions_of(data.normalization);
    fill_support(file, data.train);

    // members: the point estimate, or the posterior mean followed by the draws
    if (posterior.method == Method::cfm) {
        file.members.push_back({"point-estimate", 0, posterior.mean});
    } else {
        file.members.push_back({"variational-mean", 0, posterior.mean});
        for (uint32_t d = 0; d < options.draws; ++d) {
            file.members.push_back(
                {"variational-draw", d + 1, draw_weights(posterior, options.seed, d)});
        }
    }
    add_test_vectors(file);

    format::Provenance& provenance = file.provenance;
    provenance.tagger = options.tagger;
    provenance.training_data = data.description;
    provenance.method = method_name(posterior.method);
    provenance.created = options.created.empty() ? today() : options.created;
    provenance.description = options.description;
    provenance.hyperparameters = options.hyperparameters;
    provenance.metrics = options.metrics;
    format::validate(file);
    return file;
}

}  // namespace cs::trainer
