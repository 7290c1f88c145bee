// The runtime's answers: the velocity field against a literal implementation of
// the reference, exact quantiles and tag probabilities against Monte Carlo, the
// density, the ensemble split, support, and the embedding API.
#include <catch2/catch.hpp>

#include "throws.hpp"

#include <algorithm>
#include <cmath>

#include "cs/format_io.hpp"
#include "cs/random.hpp"
#include "cs/runtime/demonstration.hpp"
#include "cs/runtime/ensemble.hpp"
#include "cs/surrogate.hpp"

using Catch::Matchers::Contains;
using cs::runtime::Ensemble;

namespace {

constexpr double kPi = 3.14159265358979323846;

const cs::format::SurrogateFile& demo_file() {
    static const auto file = cs::runtime::make_demonstration_surrogate(5, 7);
    return file;
}

const cs::Surrogate& demo() {
    static const cs::Surrogate surrogate(demo_file());
    return surrogate;
}

const cs::Conditions kTopJet = {{"label_top", 1.0},    {"jet_pt", 640.0},
                                {"jet_eta", 0.3},      {"jet_phi", -1.2},
                                {"jet_energy", 900.0}, {"jet_nparticles", 50.0}};

Eigen::MatrixXd as_row(const cs::Conditions& jet) {
    Eigen::MatrixXd row(1, 6);
    int c = 0;
    for (const auto& name : demo().condition_names()) {
        row(0, c++) = jet.at(name);
    }
    return row;
}

// The velocity field written out literally from DESIGN.md, in double precision:
// before every block [cos(k pi t) k=1..3, sin(k pi t) k=1..3, state, conditions].
double literal_velocity(const std::vector<float>& weights, double t, double x,
                        const std::vector<double>& normalized) {
    size_t offset = 0;
    std::vector<double> state = {x};
    for (int block = 0; block < 3; ++block) {
        std::vector<double> input;
        for (int k = 1; k <= 3; ++k) {
            input.push_back(std::cos(k * kPi * t));
        }
        for (int k = 1; k <= 3; ++k) {
            input.push_back(std::sin(k * kPi * t));
        }
        input.insert(input.end(), state.begin(), state.end());
        input.insert(input.end(), normalized.begin(), normalized.end());
        for (int layer = 0; layer < 3; ++layer) {
            const size_t out = (block == 2 && layer == 2) ? 1 : 64;
            std::vector<double> output(out, 0.0);
            for (size_t o = 0; o < out; ++o) {
                for (size_t i = 0; i < input.size(); ++i) {
                    output[o] += weights[offset + o * input.size() + i] * input[i];
                }
            }
            offset += out * input.size();
            for (size_t o = 0; o < out; ++o) {
                output[o] += weights[offset + o];
                if (layer < 2) {
                    output[o] = output[o] > 0 ? output[o] : std::exp(output[o]) - 1.0;
                }
            }
            offset += out;
            input = output;
        }
        state = input;
    }
    REQUIRE(offset == weights.size());
    return state[0];
}

}  // namespace

TEST_CASE("the velocity field matches a literal implementation of the reference") {
    // Random weights of the reference size, so every column of every layer matters.
    const cs::format::Architecture architecture;
    const cs::CounterRandom random(3);
    std::vector<float> weights;
    for (uint64_t i = 0; i < cs::format::parameter_count(architecture, 6); ++i) {
        weights.push_back(static_cast<float>(0.3 * random.normal(i, 0)));
    }
    const cs::runtime::VelocityField field(architecture, 6, weights);
    const Eigen::MatrixXf normalized = demo().ensemble().normalize(as_row(kTopJet));
    const std::vector<double> conditions(normalized.data(), normalized.data() + 6);
    const auto conditioned = field.condition(normalized);
    cs::runtime::VelocityField::Workspace workspace;
    for (double t : {0.0, 0.25, 0.8}) {
        for (double x : {-0.3, 0.02, 0.9}) {
            Eigen::ArrayXd v;
            field.evaluate(Eigen::ArrayXd::Constant(1, t), Eigen::ArrayXd::Constant(1, x),
                           conditioned, nullptr, workspace, v, nullptr);
            // float32 sums of about 80 terms per unit through nine layers: relative 1e-5.
            CHECK(v(0) ==
                  Approx(literal_velocity(weights, t, x, conditions)).epsilon(1e-4).margin(1e-5));
        }
    }
}

TEST_CASE("quantiles of the demonstration match its exact Gaussian score model") {
    // Member 0 of the demonstration: logit(score) / 20 ~ N(0.13 label' + 0.012 pt', 0.045^2).
    const Ensemble& ensemble = demo().ensemble();
    const Eigen::MatrixXd jet = as_row(kTopJet);
    const double mean = 0.13 * 1.0 + 0.012 * (640.0 - 623.166764) / 109.143856;
    const std::vector<double> levels = {0.001, 0.1, 0.5, 0.9, 0.999};
    const auto quantiles = ensemble.quantiles(jet, levels, ensemble.default_solver());
    for (size_t l = 0; l < levels.size(); ++l) {
        const double x = mean + 0.045 * cs::normal_quantile(levels[l]);
        // The solve holds the local error below atol + rtol |x| (1e-6 + 1e-5 |x|).
        CHECK(ensemble.logit(quantiles[0](0, static_cast<Eigen::Index>(l))) ==
              Approx(x).margin(2e-5));
    }
    const double p = ensemble.tag_probability(jet, {0.9}, ensemble.default_solver())[0](0, 0);
    CHECK(p == Approx(1.0 - cs::normal_cdf((ensemble.logit(0.9) - mean) / 0.045)).margin(1e-4));
}

TEST_CASE("dv/dx from forward mode matches finite differences") {
    const Ensemble& ensemble = demo().ensemble();
    const cs::runtime::FieldSystem system(ensemble.member(0), ensemble.normalize(as_row(kTopJet)));
    const Eigen::ArrayXd t = Eigen::ArrayXd::Constant(1, 0.4);
    for (double x : {-0.2, 0.1, 0.5}) {
        Eigen::ArrayXd v;
        Eigen::ArrayXd dv_dx;
        Eigen::ArrayXd up;
        Eigen::ArrayXd down;
        system.velocity(t, Eigen::ArrayXd::Constant(1, x), nullptr, v, &dv_dx);
        const double h = 1e-3;
        system.velocity(t, Eigen::ArrayXd::Constant(1, x + h), nullptr, up, nullptr);
        system.velocity(t, Eigen::ArrayXd::Constant(1, x - h), nullptr, down, nullptr);
        // Central difference error O(h^2) plus float rounding / h: about 1e-3.
        CHECK(dv_dx(0) == Approx((up(0) - down(0)) / (2 * h)).epsilon(2e-3).margin(2e-3));
    }
}

TEST_CASE("per-row times give the same velocities as a shared time") {
    const Ensemble& ensemble = demo().ensemble();
    Eigen::MatrixXd rows(3, 6);
    rows << as_row(kTopJet), as_row(kTopJet), as_row(kTopJet);
    rows(1, 1) = 900.0;
    rows(2, 0) = 0.0;
    const cs::runtime::FieldSystem system(ensemble.member(1), ensemble.normalize(rows));
    const Eigen::ArrayXd x = Eigen::ArrayXd::LinSpaced(3, -0.1, 0.2);
    Eigen::ArrayXd shared;
    Eigen::ArrayXd per_row;
    system.velocity(Eigen::ArrayXd::Constant(1, 0.6), x, nullptr, shared, nullptr);
    system.velocity(Eigen::ArrayXd::Constant(3, 0.6), x, nullptr, per_row, nullptr);
    // The same bits: a step group solved among others is then the group solved alone.
    CHECK((shared == per_row).all());
    // Runs of equal times share their embedding; a row's velocity is its own still.
    Eigen::ArrayXd times(3);
    times << 0.6, 0.6, 0.25;
    Eigen::ArrayXd mixed;
    Eigen::ArrayXd last;
    system.velocity(times, x, nullptr, mixed, nullptr);
    const cs::runtime::RowIndex third = {2};
    system.velocity(Eigen::ArrayXd::Constant(1, 0.25), x.tail(1), &third, last, nullptr);
    CHECK((mixed.head(2) == shared.head(2)).all());
    CHECK(mixed(2) == last(0));
}

TEST_CASE("exact quantiles agree with Monte Carlo within binomial error") {
    const Ensemble& ensemble = demo().ensemble();
    const auto options = ensemble.default_solver();
    const Eigen::MatrixXd jet = as_row(kTopJet);
    const std::vector<double> levels = {0.05, 0.25, 0.5, 0.75, 0.95};
    const auto exact = ensemble.quantiles(jet, levels, options);

    const uint32_t n = 20000;
    const Eigen::MatrixXd draws = ensemble.sample(jet, n, 42, 0, options, 3);
    for (size_t l = 0; l < levels.size(); ++l) {
        const double cut = exact[3](0, static_cast<Eigen::Index>(l));
        const double below = (draws.array() < cut).cast<double>().mean();
        // The share below the exact quantile is binomial: 4 standard errors.
        const double error = std::sqrt(levels[l] * (1 - levels[l]) / n);
        CHECK(std::fabs(below - levels[l]) < 4 * error);
    }
}

TEST_CASE("tag probabilities agree with Monte Carlo and invert the quantiles") {
    const Ensemble& ensemble = demo().ensemble();
    const auto options = ensemble.default_solver();
    const Eigen::MatrixXd jet = as_row(kTopJet);

    const auto median = ensemble.quantiles(jet, {0.5, 0.9}, options);
    const double cut = median[0](0, 0);
    const auto tag = ensemble.tag_probability(jet, {cut, median[0](0, 1)}, options);
    // Forward and backward solves each carry the solver tolerance (about 1e-5).
    CHECK(tag[0](0, 0) == Approx(0.5).margin(1e-3));
    CHECK(tag[0](0, 1) == Approx(0.1).margin(1e-3));

    const uint32_t n = 20000;
    const Eigen::MatrixXd draws = ensemble.sample(jet, n, 5, 0, options, 0);
    const double above = (draws.array() > 0.8).cast<double>().mean();
    const double p = ensemble.tag_probability(jet, {0.8}, options)[0](0, 0);
    CHECK(std::fabs(above - p) < 4 * std::sqrt(p * (1 - p) / n) + 1e-4);
}

TEST_CASE("the density integrates to one and to the tag probability") {
    const Ensemble& ensemble = demo().ensemble();
    const auto options = ensemble.default_solver();
    const Eigen::MatrixXd jet = as_row(kTopJet);

    // Integrate in the logit x, where the distribution is smooth: p(s) ds = p(s(x)) s' dx.
    // The grid spans the exact quantiles 1e-4 and 1 - 1e-4 of this member.
    const auto range = ensemble.quantiles(jet, {1e-4, 1 - 1e-4}, options)[1];
    const int n = 400;
    const Eigen::ArrayXd x =
        Eigen::ArrayXd::LinSpaced(n, ensemble.logit(range(0, 0)), ensemble.logit(range(0, 1)));
    Eigen::MatrixXd scores(1, n);
    for (int i = 0; i < n; ++i) {
        scores(0, i) = ensemble.score(x(i));
    }
    const Eigen::MatrixXd log_density = ensemble.log_density(jet, scores, options)[1];
    double total = 0.0;
    double above = 0.0;
    const double dx = x(1) - x(0);
    for (int i = 0; i < n; ++i) {
        const double s = scores(0, i);
        const double weight = (i == 0 || i == n - 1) ? 0.5 : 1.0;
        const double mass = weight * std::exp(log_density(0, i)) * 20.0 * s * (1 - s) * dx;
        total += mass;
        above += x(i) > ensemble.logit(0.5) ? mass : 0.0;
    }
    // The grid holds 1 - 2e-4 of the mass; the trapezoid error is below 1e-3.
    CHECK(total == Approx(1.0 - 2e-4).margin(1e-3));
    CHECK(above == Approx(ensemble.tag_probability(jet, {0.5}, options)[1](0, 0)).margin(1e-2));
}

TEST_CASE("the summary splits the spread by the law of total variance") {
    const cs::JetSummary summary = demo().summarize(kTopJet);
    REQUIRE(summary.quantiles.size() == 99);
    REQUIRE(summary.member_quantiles.size() == 5);
    CHECK(summary.total_std * summary.total_std ==
          Approx(summary.aleatoric_std * summary.aleatoric_std +
                 summary.epistemic_std * summary.epistemic_std));
    for (size_t l = 0; l < summary.quantiles.size(); ++l) {
        CHECK(summary.quantile_lower[l] <= summary.quantiles[l] + 1e-12);
        CHECK(summary.quantiles[l] <= summary.quantile_upper[l] + 1e-12);
        if (l > 0) {
            CHECK(summary.quantiles[l] >= summary.quantiles[l - 1]);
        }
    }
    double mean = 0.0;
    for (double p : summary.member_mean_score) {
        mean += p / 5.0;
    }
    CHECK(summary.mean_score == Approx(mean));
    CHECK(summary.same_noise_spread > 0.0);
    CHECK(summary.tag_probability[0] > 0.5);
}

TEST_CASE("identical members have no epistemic spread") {
    auto file = demo_file();
    file.members.resize(1);
    file.members.push_back(file.members[0]);
    file.members.push_back(file.members[0]);
    file.test_vectors.resize(3);
    const cs::Surrogate surrogate(file);
    const auto summary = surrogate.summarize(kTopJet);
    CHECK(summary.epistemic_std == Approx(0.0).margin(1e-12));
    CHECK(summary.same_noise_spread == Approx(0.0).margin(1e-12));
    CHECK(summary.tag_probability_std[0] == Approx(0.0).margin(1e-12));
    for (size_t l = 0; l < summary.quantiles.size(); ++l) {
        CHECK(summary.quantiles[l] == Approx(summary.member_quantiles[0][l]).epsilon(1e-9));
    }
}

TEST_CASE("a jet far outside the training data is flagged and has a larger epistemic spread") {
    // A QCD jet: its scores stay away from 1 even at high pt, where top scores saturate.
    cs::Conditions qcd = kTopJet;
    qcd["label_top"] = 0.0;
    const auto inside = demo().summarize(qcd);
    CHECK_FALSE(inside.support.out_of_support);
    CHECK(inside.support.outside_range.empty());

    cs::Conditions far = qcd;
    far["jet_pt"] = 3000.0;
    far["jet_energy"] = 4000.0;
    const auto outside = demo().summarize(far);
    CHECK(outside.support.out_of_support);
    CHECK(outside.support.distance > inside.support.distance);
    CHECK(outside.support.outside_range == std::vector<std::string>{"jet_pt", "jet_energy"});
    CHECK(outside.epistemic_std > inside.epistemic_std);
}

TEST_CASE("bad conditions give an evaluation error naming the feature") {
    cs::Conditions missing = kTopJet;
    missing.erase("jet_pt");
    CHECK_THROWS_TYPED(demo().summarize(missing), cs::EvaluationError,
                       Contains("missing condition \"jet_pt\" [GeV]"));
    cs::Conditions unknown = kTopJet;
    unknown["jet_mass"] = 170.0;
    CHECK_THROWS_TYPED(demo().summarize(unknown), cs::EvaluationError,
                       Contains("unknown condition \"jet_mass\""));
    cs::Conditions not_finite = kTopJet;
    not_finite["jet_eta"] = std::nan("");
    CHECK_THROWS_TYPED(demo().summarize(not_finite), cs::EvaluationError, Contains("jet_eta"));
    CHECK_THROWS_TYPED(demo().tag_probability(kTopJet, 1.0), cs::EvaluationError,
                       Contains("strictly between 0 and 1"));
}

TEST_CASE("samples depend on the jet's index, not on the batch around it") {
    const Ensemble& ensemble = demo().ensemble();
    Eigen::MatrixXd both(2, 6);
    both << as_row(kTopJet), as_row(kTopJet);
    both(0, 0) = 0.0;
    for (const auto control :
         {cs::runtime::StepControl::batch, cs::runtime::StepControl::per_sample}) {
        auto options = ensemble.default_solver();
        options.step_control = control;
        const Eigen::MatrixXd pair = ensemble.sample(both, 16, 9, 100, options);
        const Eigen::MatrixXd alone = ensemble.sample(both.bottomRows(1), 16, 9, 101, options);
        // The same draws and, each jet's rows solved as a step group of their own, the
        // same bits.
        CHECK(pair.row(1) == alone.row(0));
        CHECK(((pair.row(1) - pair.row(0)).array().abs() > 1e-3).any());
    }
}

TEST_CASE("a jet's answer does not depend on the other jets of the call") {
    const Ensemble& ensemble = demo().ensemble();
    const auto options = ensemble.default_solver();
    Eigen::MatrixXd jets(3, 6);
    jets << as_row(kTopJet), as_row(kTopJet), as_row(kTopJet);
    jets(1, 0) = 0.0;
    jets(2, 1) = 2500.0;  // out of support
    cs::QueryOptions query;
    query.quantile_levels = {0.02, 0.5, 0.9};
    query.cuts = {0.3, 0.5};
    query.moment_points = 8;
    Eigen::MatrixXd scores(3, 3);
    scores << 0.2, 0.6, 1.0, 0.05, 0.5, 0.95, 0.3, 0.99, 0.0;  // the last column for the CDF only

    const auto together = ensemble.summarize(jets, query, options);
    const auto cdf = ensemble.cdf(jets, scores, options);
    const auto density = ensemble.log_density(jets, scores.leftCols(2), options);
    for (Eigen::Index j = 0; j < jets.rows(); ++j) {
        const Eigen::MatrixXd jet = jets.row(j);
        const auto alone = ensemble.summarize(jet, query, options)[0];
        const auto& a = together[static_cast<size_t>(j)];
        CHECK(a.member_quantiles == alone.member_quantiles);
        CHECK(a.quantiles == alone.quantiles);
        CHECK(a.member_tag_probability == alone.member_tag_probability);
        CHECK(a.mean_score == alone.mean_score);
        CHECK(a.same_noise_spread == alone.same_noise_spread);
        const auto own_cdf = ensemble.cdf(jet, scores.row(j), options);
        const auto own_density = ensemble.log_density(jet, scores.row(j).head(2), options);
        for (Eigen::Index m = 0; m < ensemble.n_members(); ++m) {
            CHECK(cdf[static_cast<size_t>(m)].row(j) == own_cdf[static_cast<size_t>(m)]);
            CHECK(density[static_cast<size_t>(m)].row(j) == own_density[static_cast<size_t>(m)]);
        }
    }

    // The jets need different steps: solved as one step group, as the reference's
    // controller does for a batch, their quantiles move within the tolerance.
    Eigen::ArrayXd noise(9);
    for (Eigen::Index k = 0; k < 9; ++k) {
        noise(k) = cs::normal_quantile(query.quantile_levels[static_cast<size_t>(k % 3)]);
    }
    Eigen::MatrixXf repeated(6, 9);
    for (Eigen::Index k = 0; k < 9; ++k) {
        repeated.col(k) = ensemble.normalize(jets.row(k / 3)).col(0);
    }
    const Eigen::ArrayXd grouped = ensemble.transform(0, repeated, noise, options, {3, 3, 3});
    const Eigen::ArrayXd shared = ensemble.transform(0, repeated, noise, options);
    CHECK((grouped != shared).any());
    CHECK(((grouped - shared).abs() < 1e-3).all());
}

TEST_CASE("the CDF is the inverse of the quantile function") {
    const Ensemble& ensemble = demo().ensemble();
    const auto options = ensemble.default_solver();
    const Eigen::MatrixXd jet = as_row(kTopJet);
    const auto quantiles = ensemble.quantiles(jet, {0.2, 0.7}, options);
    Eigen::MatrixXd scores(1, 4);
    scores << quantiles[2](0, 0), quantiles[2](0, 1), 0.0, 1.0;
    const auto cdf = ensemble.cdf(jet, scores, options)[2];
    // A forward and a backward solve, each within the solver tolerance.
    CHECK(cdf(0, 0) == Approx(0.2).margin(1e-4));
    CHECK(cdf(0, 1) == Approx(0.7).margin(1e-4));
    CHECK(cdf(0, 2) == 0.0);
    CHECK(cdf(0, 3) == 1.0);
}

TEST_CASE("a range stored after a float32 round trip still holds its end points") {
    // Trainers store training ranges computed from float32 data: a label range of
    // [8e-9, 1 + 4e-9] must not flag labels of exactly 0 and 1.
    auto file = demo_file();
    file.conditions[0].support.min = 7.97e-9;
    file.conditions[0].support.max = 1.000000004;
    const cs::Surrogate surrogate(file);
    cs::Conditions qcd = kTopJet;
    qcd["label_top"] = 0.0;
    CHECK(surrogate.check_support(qcd).outside_range.empty());
    CHECK(surrogate.check_support(kTopJet).outside_range.empty());
    qcd["label_top"] = -0.01;
    CHECK(surrogate.check_support(qcd).outside_range == std::vector<std::string>{"label_top"});
}

TEST_CASE("members solved apart and combined give the summary exactly") {
    const Ensemble& ensemble = demo().ensemble();
    const auto options = ensemble.default_solver();
    Eigen::MatrixXd jets(2, 6);
    jets << as_row(kTopJet), as_row(kTopJet);
    jets(1, 1) = 2500.0;  // out of support
    cs::QueryOptions query;
    query.quantile_levels = {0.02, 0.5, 0.9};
    query.cuts = {0.3, 0.5};
    query.moment_points = 8;
    CHECK(Ensemble::summary_levels(query).size() == 3 + 8);

    // Three parts, as three workers would solve them, joined in member order.
    Ensemble::MemberSolutions joined;
    for (const auto& [first, count] : {std::pair{0, 2}, std::pair{2, 1}, std::pair{3, 2}}) {
        auto part = ensemble.solve_members(jets, query, options, first, count);
        CHECK(part.quantiles.size() == static_cast<size_t>(count));
        for (size_t m = 0; m < part.quantiles.size(); ++m) {
            joined.quantiles.push_back(part.quantiles[m]);
            joined.tag_probability.push_back(part.tag_probability[m]);
        }
    }
    const auto expected = ensemble.summarize(jets, query, options);
    const auto combined = ensemble.combine(jets, query, joined);
    REQUIRE(combined.size() == expected.size());
    for (size_t j = 0; j < expected.size(); ++j) {
        const auto& a = combined[j];
        const auto& b = expected[j];
        CHECK(a.quantiles == b.quantiles);
        CHECK(a.member_quantiles == b.member_quantiles);
        CHECK(a.quantile_lower == b.quantile_lower);
        CHECK(a.quantile_upper == b.quantile_upper);
        CHECK(a.tag_probability == b.tag_probability);
        CHECK(a.tag_probability_std == b.tag_probability_std);
        CHECK(a.member_tag_probability == b.member_tag_probability);
        CHECK(a.member_mean_score == b.member_mean_score);
        CHECK(a.mean_score == b.mean_score);
        CHECK(a.aleatoric_std == b.aleatoric_std);
        CHECK(a.epistemic_std == b.epistemic_std);
        CHECK(a.same_noise_spread == b.same_noise_spread);
        CHECK(a.support.out_of_support == b.support.out_of_support);
    }
    CHECK(combined[1].support.out_of_support);

    SECTION("solutions that do not fit are refused") {
        const auto refused = [&](auto change, const std::string& message) {
            auto broken = joined;
            change(broken);
            CHECK_THROWS_TYPED(ensemble.combine(jets, query, broken), cs::EvaluationError,
                               Contains(message));
        };
        refused([](auto& s) { s.quantiles.pop_back(); },
                "quantiles: 4 members given, the surrogate has 5");
        refused([](auto& s) { s.tag_probability[1].conservativeResize(2, 1); },
                "tag probabilities of member 1: 2 x 1 numbers, expected 2 x 2");
        refused([](auto& s) { s.quantiles[4](0, 3) = std::nan(""); },
                "quantiles of member 4: a value outside [0, 1]");
        CHECK_THROWS_TYPED(ensemble.solve_members(jets, query, options, 3, 3), cs::EvaluationError,
                           Contains("members 3 to 5 asked of a surrogate with 5 members"));
    }
}
