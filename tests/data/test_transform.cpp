// The score transform, normalizations and the train/validation split.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "cs/data/transform.hpp"

TEST_CASE("the score transform is logit / 20 and its inverse sigmoid(20 x)") {
    for (double score : {1e-6, 0.01, 0.3, 0.5, 0.9, 0.999999}) {
        const double target = cs::data::score_to_target(score);
        CHECK(target == Approx(std::log(score / (1.0 - score)) / 20.0).epsilon(1e-14));
        CHECK(cs::data::target_to_score(target) == Approx(score).epsilon(1e-13));
    }
    CHECK(cs::data::score_to_target(0.5) == 0.0);
}

TEST_CASE("scores of exactly 0 and 1 are clipped to finite targets") {
    // the clip moves 1 - 1e-7 by one rounding of 1 - 1e-7 in double: 1e-9 relative
    const double bound = std::log((1.0 - 1e-7) / 1e-7) / 20.0;
    CHECK(cs::data::score_to_target(1.0) == Approx(bound).epsilon(1e-9));
    CHECK(cs::data::score_to_target(0.0) == Approx(-bound).epsilon(1e-9));
    CHECK(cs::data::target_to_score(100.0) == 1.0);
    CHECK(cs::data::target_to_score(-1.0) == Approx(2.0611536181902037e-09).epsilon(1e-12));
    CHECK(std::isfinite(cs::data::target_to_score(-1e6)));
}

TEST_CASE("a fitted normalization is the mean and the population standard deviation") {
    cs::data::Table table;
    table.names = {"a", "constant"};
    table.columns = {{1.0f, 2.0f, 3.0f, 4.0f}, {7.0f, 7.0f, 7.0f, 7.0f}};
    const auto normalization = cs::data::fit_normalization(table, {"a", "constant"});
    CHECK(normalization.offset[0] == Approx(2.5));
    CHECK(normalization.scale[0] == Approx(std::sqrt(1.25)));
    CHECK(normalization.scale[1] == 1.0);

    cs::data::normalize(table, normalization);
    CHECK(table.column("a")[0] == Approx(-1.5 / std::sqrt(1.25)));
    cs::data::denormalize(table, normalization);
    CHECK(table.column("a")[3] == Approx(4.0f));
}

TEST_CASE("the JetClass constants are found by name and map the label to -1 and +1") {
    const auto normalization = cs::data::jetclass_normalization({"label_top", "jet_pt"});
    CHECK(normalization.offset == std::vector<double>{0.5, 623.166764});
    CHECK(normalization.scale == std::vector<double>{0.5, 109.143856});
    CHECK(cs::data::jetclass_normalized_columns().size() == 11);
    CHECK_THROWS_WITH(cs::data::jetclass_normalization({"jet_mass"}),
                      Catch::Contains("'jet_mass'") && Catch::Contains("jet_tau4"));
}

TEST_CASE("the split is complete, disjoint, reproducible and about the fraction asked") {
    const std::size_t rows = 100000;
    const auto split = cs::data::split_rows(rows, 0.2, 42);
    CHECK(split.train.size() + split.validation.size() == rows);
    std::set<std::size_t> all(split.train.begin(), split.train.end());
    all.insert(split.validation.begin(), split.validation.end());
    CHECK(all.size() == rows);

    // binomial: 20000 +- 126; five standard deviations
    CHECK(std::fabs(static_cast<double>(split.validation.size()) - 20000.0) < 5 * 126.5);
    CHECK(cs::data::split_rows(rows, 0.2, 42).validation == split.validation);
    CHECK(cs::data::split_rows(rows, 0.2, 43).validation != split.validation);
    CHECK_THROWS(cs::data::split_rows(rows, 1.5, 42));
}

TEST_CASE("take_rows picks rows in the order given") {
    cs::data::Table table;
    table.names = {"a"};
    table.columns = {{10.0f, 11.0f, 12.0f}};
    const auto taken = cs::data::take_rows(table, {2, 0});
    CHECK(taken.column("a") == std::vector<float>{12.0f, 10.0f});
}
