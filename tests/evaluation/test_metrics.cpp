// The evaluation measures on cases with known answers.
#include <catch2/catch.hpp>

#include <cmath>

#include "cs/evaluation/metrics.hpp"
#include "cs/random.hpp"

using namespace cs::evaluation;

TEST_CASE("ROC area: perfect, inverted, ties and a Gaussian shift") {
    CHECK(roc_area({0.1, 0.2, 0.8, 0.9}, {0, 0, 1, 1}) == 1.0);
    CHECK(roc_area({0.9, 0.8, 0.2, 0.1}, {0, 0, 1, 1}) == 0.0);
    CHECK(roc_area({0.5, 0.5, 0.5, 0.5}, {0, 1, 0, 1}) == 0.5);

    // Unit Gaussians a distance d apart: AUC = Phi(d / sqrt 2); 20000 each gives a
    // standard error of about 0.003.
    const cs::CounterRandom random(4);
    std::vector<double> scores;
    std::vector<int> labels;
    for (int i = 0; i < 40000; ++i) {
        const int label = i % 2;
        scores.push_back(random.normal(static_cast<uint64_t>(i), 0) + label * 1.0);
        labels.push_back(label);
    }
    CHECK(roc_area(scores, labels) == Approx(cs::normal_cdf(1.0 / std::sqrt(2.0))).margin(0.012));
    CHECK_THROWS_AS(roc_area({0.1, 0.2}, {1, 1}), std::invalid_argument);
}

TEST_CASE("Jensen-Shannon distance: zero for equal, one for disjoint histograms") {
    CHECK(jensen_shannon_distance({1, 2, 3}, {2, 4, 6}) == Approx(0.0).margin(1e-12));
    CHECK(jensen_shannon_distance({1, 0}, {0, 1}) == Approx(1.0));
    const double half = jensen_shannon_distance({1, 1}, {1, 0});
    CHECK(half > 0.0);
    CHECK(half < 1.0);
}

TEST_CASE("Wasserstein-1 of a shifted uniform is the shift; KS is the largest gap") {
    std::vector<double> grid;
    std::vector<double> a;
    std::vector<double> b;
    for (int i = 0; i <= 1000; ++i) {
        const double x = i / 1000.0;
        grid.push_back(x);
        a.push_back(std::clamp(x / 0.5, 0.0, 1.0));          // uniform on [0, 0.5]
        b.push_back(std::clamp((x - 0.1) / 0.5, 0.0, 1.0));  // uniform on [0.1, 0.6]
    }
    CHECK(wasserstein1(grid, a, b) == Approx(0.1).margin(1e-6));
    CHECK(kolmogorov_smirnov(a, b) == Approx(0.2).margin(1e-9));
}

TEST_CASE("coverage of uniform PIT values follows the levels") {
    const cs::CounterRandom random(8);
    std::vector<double> pit;
    for (int i = 0; i < 10000; ++i) {
        pit.push_back(random.uniform(static_cast<uint64_t>(i), 0));
    }
    const auto levels = midpoint_levels(10);
    const auto covered = coverage(pit, levels);
    for (size_t l = 0; l < levels.size(); ++l) {
        // Binomial error at n = 10000: at most 0.005; four standard errors.
        CHECK(covered[l] == Approx(levels[l]).margin(0.02));
    }
    CHECK(midpoint_levels(4) == std::vector<double>{0.125, 0.375, 0.625, 0.875});
}
