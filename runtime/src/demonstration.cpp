// The demonstration surrogate. Its velocity field is affine, v = beta x + h(c),
// which the reference network represents exactly: every hidden unit carries one
// input shifted by a bias B that keeps it positive, where ELU is the identity.
// Integrated from t = 1 (x = z) to t = 0 it gives x = exp(-beta) z + mean(c) with
// h(c) = beta mean(c) / (exp(-beta) - 1): logit(score) / 20 is exactly Gaussian,
// with width exp(-beta) and a mean linear in the normalized conditions. Members
// differ by small random slopes, so they agree near the centre of the conditions
// and drift apart away from it: a small, honest picture of epistemic spread.
#include "cs/runtime/demonstration.hpp"

#include <algorithm>
#include <cmath>
#include "cs/runtime/eigen.hpp"

#include "cs/format_io.hpp"
#include "cs/random.hpp"
#include "cs/runtime/velocity_field.hpp"

namespace cs::runtime {

std::vector<format::Condition> jetclass_conditions() {
    struct Row {
        const char* name;
        const char* unit;
        const char* description;
        double mean;
        double std;
    };
    const Row rows[] = {
        {"label_top", "", "truth label: 1 for top, 0 for QCD", 0.5, 0.5},
        {"jet_pt", "GeV", "jet transverse momentum", 623.166764, 109.143856},
        {"jet_eta", "", "jet pseudorapidity", 7.92356175e-05, 0.875131335},
        {"jet_phi", "rad", "jet azimuth", -3.36014642e-04, 1.81404007},
        {"jet_energy", "GeV", "jet energy", 906.941547, 349.699836},
        {"jet_nparticles", "", "number of jet constituents", 43.0536727, 16.9453641},
    };
    std::vector<format::Condition> conditions;
    for (const Row& row : rows) {
        format::Condition condition;
        condition.name = row.name;
        condition.unit = row.unit;
        condition.description = row.description;
        condition.offset = row.mean;
        condition.scale = row.std;
        conditions.push_back(condition);
    }
    return conditions;
}

namespace {

constexpr int kSupportSamples = 20000;

// Mean of logit(score) / 20 in the normalized conditions (label' = +-1, pt', ...).
constexpr double kLabelSlope = 0.13;
constexpr double kPtSlope = 0.012;
constexpr double kWidth = 0.045;
// Bias that keeps every hidden unit in ELU's linear range for conditions down to
// -4 / kCarry standard deviations and noise down to -kShift.
constexpr float kShift = 8.0f;
constexpr float kCarry = 0.25f;

// Normalized conditions of the demonstration's "training data": a balanced label
// and standard normal kinematics.
Eigen::VectorXf draw_conditions(const CounterRandom& random, uint64_t item) {
    Eigen::VectorXf normalized(6);
    normalized(0) = random.uniform(item, 0) < 0.5 ? -1.0f : 1.0f;
    for (uint32_t c = 1; c < 6; ++c) {
        normalized(c) = static_cast<float>(random.normal(item, c));
    }
    return normalized;
}

// Weights of the reference architecture for v = beta x + slopes . c + constant.
std::vector<float> affine_weights(const format::Architecture& architecture, double beta,
                                  const std::vector<double>& slopes, double constant) {
    const uint32_t width = architecture.width;
    const auto n_conditions = static_cast<uint32_t>(slopes.size());
    const uint32_t carried = 1 + n_conditions;
    const uint32_t embedding =
        2 * static_cast<uint32_t>(architecture.time_embedding.frequencies.size());
    std::vector<float> weights;

    auto layer = [&](uint32_t in, uint32_t out, auto weight, float bias) {
        for (uint32_t o = 0; o < out; ++o) {
            for (uint32_t i = 0; i < in; ++i) {
                weights.push_back(weight(o, i));
            }
        }
        weights.insert(weights.end(), out, bias);
    };
    auto identity = [](uint32_t o, uint32_t i) { return o == i ? 1.0f : 0.0f; };

    for (uint32_t b = 0; b < architecture.n_blocks; ++b) {
        const auto in =
            static_cast<uint32_t>(format::block_input_width(architecture, n_conditions, b));
        // first layer: unit 0 carries the state, units 1..C the (scaled) conditions
        layer(
            in, width,
            [&](uint32_t o, uint32_t i) {
                if (o == 0) {
                    return i == embedding ? 1.0f : 0.0f;
                }
                if (o < carried) {
                    if (b == 0) {
                        return i == embedding + o ? kCarry : 0.0f;
                    }
                    return i == embedding + o ? 1.0f : 0.0f;
                }
                return 0.0f;
            },
            kShift);
        for (uint32_t l = 1; l + 1 < architecture.layers_per_block; ++l) {
            layer(width, width, identity, 0.0f);
        }
        if (b + 1 < architecture.n_blocks) {
            layer(width, width, identity, -kShift);
            continue;
        }
        // last layer: the affine velocity, minus what the shift added
        double shift_total = beta;
        for (double slope : slopes) {
            shift_total += slope / kCarry;
        }
        layer(
            width, 1,
            [&](uint32_t, uint32_t i) {
                if (i == 0) {
                    return static_cast<float>(beta);
                }
                return i < carried ? static_cast<float>(slopes[i - 1] / kCarry) : 0.0f;
            },
            static_cast<float>(constant - kShift * shift_total));
    }
    return weights;
}

format::Member demonstration_member(const format::Architecture& architecture, uint32_t index,
                                    const CounterRandom& random) {
    // Member 0 is the unperturbed model; the others add slopes of about 0.004 per
    // standard deviation of each condition to the mean and vary the width by 3%.
    const bool centre = index == 0;
    std::vector<double> mean_slopes = {kLabelSlope, kPtSlope, 0.0, 0.0, 0.0, 0.0};
    double width = kWidth;
    if (!centre) {
        for (uint32_t c = 0; c < mean_slopes.size(); ++c) {
            mean_slopes[c] += 0.004 * random.normal(index, c);
        }
        width *= std::exp(0.03 * random.normal(index, 10));
    }
    const double beta = -std::log(width);
    const double factor = beta / (std::exp(-beta) - 1.0);
    std::vector<double> slopes;
    for (double slope : mean_slopes) {
        slopes.push_back(factor * slope);
    }

    format::Member member;
    member.origin = "demonstration";
    member.step = index;
    member.weights = affine_weights(architecture, beta, slopes, 0.0);
    return member;
}

double quantile_of(std::vector<double> values, double level) {
    std::sort(values.begin(), values.end());
    const double position = level * static_cast<double>(values.size() - 1);
    const auto lower = static_cast<size_t>(std::floor(position));
    const size_t upper = std::min(lower + 1, values.size() - 1);
    const double fraction = position - static_cast<double>(lower);
    return values[lower] + fraction * (values[upper] - values[lower]);
}

void fill_support(format::SurrogateFile& file, const CounterRandom& random) {
    const std::vector<double> levels = {0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999};
    const size_t n = file.conditions.size();
    Eigen::MatrixXd normalized(kSupportSamples, static_cast<Eigen::Index>(n));
    for (int i = 0; i < kSupportSamples; ++i) {
        normalized.row(i) = draw_conditions(random, static_cast<uint64_t>(i)).cast<double>();
    }

    for (size_t c = 0; c < n; ++c) {
        auto& condition = file.conditions[c];
        std::vector<double> physical;
        for (int i = 0; i < kSupportSamples; ++i) {
            physical.push_back(normalized(i, static_cast<Eigen::Index>(c)) * condition.scale +
                               condition.offset);
        }
        condition.support.min = *std::min_element(physical.begin(), physical.end());
        condition.support.max = *std::max_element(physical.begin(), physical.end());
        condition.support.quantile_levels = levels;
        for (double level : levels) {
            condition.support.quantiles.push_back(quantile_of(physical, level));
        }
    }

    const Eigen::VectorXd mean = normalized.colwise().mean();
    const Eigen::MatrixXd centred = normalized.rowwise() - mean.transpose();
    const Eigen::MatrixXd covariance = centred.transpose() * centred / (kSupportSamples - 1.0);
    const Eigen::LLT<Eigen::MatrixXd> factor(covariance);
    std::vector<double> distances;
    for (int i = 0; i < kSupportSamples; ++i) {
        distances.push_back(factor.matrixL().solve(centred.row(i).transpose()).norm());
    }

    auto& support = file.support;
    support.n_jets = kSupportSamples;
    support.mean.assign(mean.data(), mean.data() + mean.size());
    for (Eigen::Index i = 0; i < covariance.rows(); ++i) {
        for (Eigen::Index j = 0; j < covariance.cols(); ++j) {
            support.covariance.push_back(covariance(i, j));
        }
    }
    support.distance_levels = levels;
    for (double level : levels) {
        support.distance_quantiles.push_back(quantile_of(distances, level));
    }
    support.distance_threshold = support.distance_quantiles.back();
}

void add_test_vectors(format::SurrogateFile& file) {
    const double times[] = {0.0, 0.37, 1.0};
    const double states[] = {-0.2, 0.05, 1.3};
    for (uint32_t m : {0u, static_cast<uint32_t>(file.members.size() - 1)}) {
        const VelocityField field(file.architecture, 6, file.members[m].weights);
        for (int i = 0; i < 3; ++i) {
            format::TestVector vector;
            vector.member = m;
            vector.time = times[i];
            vector.state = states[i];
            vector.conditions = {1.0 * (i % 2), 550.0 + 100.0 * i, 0.4 - 0.5 * i,
                                 1.0,           800.0 + 90.0 * i,  30.0 + 10.0 * i};
            Eigen::MatrixXf normalized(6, 1);
            for (int c = 0; c < 6; ++c) {
                const auto& condition = file.conditions[static_cast<size_t>(c)];
                normalized(c, 0) = static_cast<float>(
                    (vector.conditions[static_cast<size_t>(c)] - condition.offset) /
                    condition.scale);
            }
            VelocityField::Workspace workspace;
            Eigen::ArrayXd v;
            Eigen::ArrayXd dv_dx;
            field.evaluate(Eigen::ArrayXd::Constant(1, vector.time),
                           Eigen::ArrayXd::Constant(1, vector.state), field.condition(normalized),
                           nullptr, workspace, v, &dv_dx);
            vector.velocity = v(0);
            vector.velocity_derivative = dv_dx(0);
            file.test_vectors.push_back(vector);
        }
    }
}

}  // namespace

format::SurrogateFile make_demonstration_surrogate(uint32_t n_members, uint64_t seed) {
    format::SurrogateFile file;
    file.producer = "surrogate demo-file";
    file.producer_version = "0.1.0";
    file.conditions = jetclass_conditions();

    const CounterRandom random(seed, 100);
    for (uint32_t m = 0; m < n_members; ++m) {
        file.members.push_back(demonstration_member(file.architecture, m, random));
    }
    fill_support(file, CounterRandom(seed, 99));
    add_test_vectors(file);

    auto& provenance = file.provenance;
    provenance.tagger =
        "none: a demonstration with an exact Gaussian score model, not a trained surrogate";
    provenance.training_data =
        "no data: balanced labels, standard normal kinematics in JetClass-normalized units";
    provenance.method = "demonstration";
    provenance.created = "2026-12-03";
    provenance.description =
        "Exact affine flows for logit(score)/20 ~ N(0.13 label' + 0.012 pt', 0.045^2) "
        "(primes: JetClass-normalized conditions); members add random slopes of about 0.004 "
        "per standard deviation. For trying the runtime, the command line and the page only.";
    provenance.hyperparameters = {{"members", std::to_string(n_members)},
                                  {"seed", std::to_string(seed)},
                                  {"label_slope", std::to_string(kLabelSlope)},
                                  {"pt_slope", std::to_string(kPtSlope)},
                                  {"width", std::to_string(kWidth)}};
    return file;
}

}  // namespace cs::runtime
