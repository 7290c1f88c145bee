// The ODE solvers on fields with known solutions, and the Dormand-Prince tableau.
#include <catch2/catch.hpp>

#include "throws.hpp"

#include <cmath>

#include "cs/errors.hpp"
#include "cs/runtime/solver.hpp"

using cs::runtime::DormandPrince;
using cs::runtime::FunctionSystem;
using cs::runtime::Method;
using cs::runtime::RowIndex;
using cs::runtime::SolverOptions;
using cs::runtime::StepControl;
using cs::runtime::StepGroups;

namespace {

// Broadcasts a per-row or shared time to the active rows.
Eigen::ArrayXd times_for(const Eigen::ArrayXd& t, Eigen::Index n) {
    return t.size() == 1 ? Eigen::ArrayXd::Constant(n, t(0)) : t;
}

FunctionSystem constant_field(Eigen::Index rows, double speed) {
    return FunctionSystem(rows, [speed](const Eigen::ArrayXd&, const Eigen::ArrayXd& x,
                                        const RowIndex*, Eigen::ArrayXd& v, Eigen::ArrayXd* dv_dx) {
        v = Eigen::ArrayXd::Constant(x.size(), speed);
        if (dv_dx) {
            *dv_dx = Eigen::ArrayXd::Zero(x.size());
        }
    });
}

// dx/dt = lambda_i x with a rate per row: x(t) = x0 exp(lambda_i t).
FunctionSystem linear_field(const Eigen::ArrayXd& rates) {
    return FunctionSystem(
        rates.size(), [rates](const Eigen::ArrayXd&, const Eigen::ArrayXd& x, const RowIndex* rows,
                              Eigen::ArrayXd& v, Eigen::ArrayXd* dv_dx) {
            const Eigen::ArrayXd own = rows ? rates(*rows).eval() : rates;
            v = own * x;
            if (dv_dx) {
                *dv_dx = own;
            }
        });
}

// dx/dt = 3 t^2: x(t) = x0 + t^3, a cubic that RK4 integrates exactly.
FunctionSystem cubic_field(Eigen::Index rows) {
    return FunctionSystem(rows, [](const Eigen::ArrayXd& t, const Eigen::ArrayXd& x,
                                   const RowIndex*, Eigen::ArrayXd& v, Eigen::ArrayXd* dv_dx) {
        v = 3.0 * times_for(t, x.size()).square();
        if (dv_dx) {
            *dv_dx = Eigen::ArrayXd::Zero(x.size());
        }
    });
}

SolverOptions options_for(Method method, StepControl control = StepControl::batch) {
    SolverOptions options;
    options.method = method;
    options.step_control = control;
    return options;
}

}  // namespace

TEST_CASE("the Dormand-Prince tableau satisfies its order conditions") {
    // Row sums give the nodes; both weight sets satisfy the quadrature conditions
    // sum b_i c_i^(k-1) = 1/k up to their order (5 and 4), exactly in rationals, so
    // to rounding here.
    for (int i = 0; i < DormandPrince::kStages; ++i) {
        double row = 0.0;
        for (int j = 0; j < i; ++j) {
            row += DormandPrince::a[i][j];
        }
        CHECK(row == Approx(DormandPrince::c[i]).margin(1e-14));
    }
    for (int k = 1; k <= 5; ++k) {
        double fifth = 0.0;
        double fourth = 0.0;
        for (int i = 0; i < DormandPrince::kStages; ++i) {
            fifth += DormandPrince::b[i] * std::pow(DormandPrince::c[i], k - 1);
            fourth += DormandPrince::b_star[i] * std::pow(DormandPrince::c[i], k - 1);
        }
        CHECK(fifth == Approx(1.0 / k).margin(1e-14));
        if (k <= 4) {
            CHECK(fourth == Approx(1.0 / k).margin(1e-14));
        }
    }
    // A fifth-order condition of the tree kind: sum b_i a_ij c_j^3 = 1/20.
    double tree = 0.0;
    for (int i = 0; i < DormandPrince::kStages; ++i) {
        for (int j = 0; j < i; ++j) {
            tree += DormandPrince::b[i] * DormandPrince::a[i][j] * std::pow(DormandPrince::c[j], 3);
        }
    }
    CHECK(tree == Approx(1.0 / 20).margin(1e-14));
    // First same as last: the last row of a is the fifth-order weight vector.
    for (int j = 0; j < DormandPrince::kStages; ++j) {
        CHECK(DormandPrince::a[6][j] == DormandPrince::b[j]);
    }
}

TEST_CASE("a constant field moves every row by the same amount") {
    const Eigen::ArrayXd x0 = Eigen::ArrayXd::LinSpaced(5, -2.0, 2.0);
    for (auto control : {StepControl::batch, StepControl::per_sample}) {
        for (auto method : {Method::rk4, Method::dopri5}) {
            const auto result =
                solve(constant_field(5, 0.7), x0, 1.0, 0.0, options_for(method, control), true);
            CHECK(((result.x - (x0 - 0.7)).abs() < 1e-12).all());
            CHECK((result.log_det.abs() < 1e-15).all());
        }
    }
}

TEST_CASE("a linear field gives exponentials and their log-determinant") {
    Eigen::ArrayXd rates(4);
    rates << -1.5, -0.2, 0.5, 2.0;
    const Eigen::ArrayXd x0 = Eigen::ArrayXd::Constant(4, 1.25);
    const Eigen::ArrayXd exact = x0 * rates.exp();

    SECTION("Dormand-Prince within its tolerance, in both step controls") {
        for (auto control : {StepControl::batch, StepControl::per_sample}) {
            auto options = options_for(Method::dopri5, control);
            const auto result = solve(linear_field(rates), x0, 0.0, 1.0, options, true);
            // The local error is held below atol + rtol |x|; the global error is a few times that.
            CHECK(((result.x - exact).abs() < 20 * (options.atol + options.rtol * exact.abs()))
                      .all());
            CHECK(
                ((result.log_det - rates).abs() < 20 * (options.atol + options.rtol * 2.0)).all());
        }
    }
    SECTION("RK4 converges at fourth order") {
        auto coarse = options_for(Method::rk4);
        coarse.rk4_steps = 10;
        auto fine = coarse;
        fine.rk4_steps = 20;
        const double error_coarse =
            (solve(linear_field(rates), x0, 0.0, 1.0, coarse).x - exact).abs().maxCoeff();
        const double error_fine =
            (solve(linear_field(rates), x0, 0.0, 1.0, fine).x - exact).abs().maxCoeff();
        // Halving the step divides the error by 2^4 = 16, up to higher-order terms.
        CHECK(error_coarse / error_fine == Approx(16.0).epsilon(0.1));
    }
    SECTION("integrating backwards undoes the forward solve") {
        const auto options = options_for(Method::dopri5);
        const auto forward = solve(linear_field(rates), x0, 0.0, 1.0, options);
        const auto back = solve(linear_field(rates), forward.x, 1.0, 0.0, options);
        CHECK(((back.x - x0).abs() < 1e-4).all());
    }
}

TEST_CASE("the field 3 t^2 is integrated exactly by RK4 and to tolerance by Dormand-Prince") {
    const Eigen::ArrayXd x0 = Eigen::ArrayXd::LinSpaced(3, 0.0, 1.0);
    auto rk4 = options_for(Method::rk4);
    rk4.rk4_steps = 3;
    const auto exact = solve(cubic_field(3), x0, 0.0, 1.0, rk4);
    // Simpson's rule, which RK4 reduces to here, is exact for cubics: rounding only.
    CHECK(((exact.x - (x0 + 1.0)).abs() < 1e-14).all());

    for (auto control : {StepControl::batch, StepControl::per_sample}) {
        const auto adaptive =
            solve(cubic_field(3), x0, 1.0, 0.0, options_for(Method::dopri5, control));
        CHECK(((adaptive.x - (x0 - 1.0)).abs() < 1e-9).all());
        CHECK(adaptive.statistics.accepted >= 1);
    }
}

TEST_CASE("the batch controller starts with the whole interval") {
    // A constant field has zero error estimate, so one step covers [1, 0]: seven
    // stage evaluations (six new stages plus the first) for each row.
    const auto result = solve(constant_field(3, 1.0), Eigen::ArrayXd::Zero(3), 1.0, 0.0,
                              options_for(Method::dopri5));
    CHECK(result.statistics.accepted == 1);
    CHECK(result.statistics.rejected == 0);
    CHECK(result.statistics.evaluations == 7 * 3);
}

TEST_CASE("per-sample step control lets easy rows finish early") {
    Eigen::ArrayXd rates(2);
    rates << 0.0, 8.0;
    const auto batch = solve(linear_field(rates), Eigen::ArrayXd::Ones(2), 0.0, 1.0,
                             options_for(Method::dopri5, StepControl::batch));
    const auto per_sample = solve(linear_field(rates), Eigen::ArrayXd::Ones(2), 0.0, 1.0,
                                  options_for(Method::dopri5, StepControl::per_sample));
    CHECK(per_sample.statistics.evaluations < batch.statistics.evaluations);
    CHECK(per_sample.x(0) == Approx(1.0).margin(1e-12));
    CHECK(per_sample.x(1) == Approx(std::exp(8.0)).epsilon(1e-4));
}

TEST_CASE("step groups step on their own and get the bits they would get alone") {
    Eigen::ArrayXd rates(5);
    rates << 0.0, 8.0, -3.0, 2.0, 0.5;
    Eigen::ArrayXd x0(5);
    x0 << 1.0, 0.5, 2.0, -1.0, 0.25;
    const StepGroups groups = {2, 1, 2};
    const auto options = options_for(Method::dopri5);
    for (const double t0 : {0.0, 1.0}) {
        const double t1 = 1.0 - t0;
        const auto grouped = solve(linear_field(rates), x0, t0, t1, options, true, groups);
        Eigen::Index first = 0;
        for (const Eigen::Index count : groups) {
            const Eigen::ArrayXd own_rates = rates.segment(first, count);
            const auto alone =
                solve(linear_field(own_rates), x0.segment(first, count), t0, t1, options, true);
            CHECK((grouped.x.segment(first, count) == alone.x).all());
            CHECK((grouped.log_det.segment(first, count) == alone.log_det).all());
            first += count;
        }
        // One group for all: the hardest row (rate 8) sets every row's steps, so the
        // easy rows differ within the tolerance and cost more evaluations.
        const auto together = solve(linear_field(rates), x0, t0, t1, options, true);
        CHECK((together.x != grouped.x).any());
        CHECK(((together.x - grouped.x).abs() <= 1e-4 * grouped.x.abs() + 1e-6).all());
        CHECK(grouped.statistics.evaluations < together.statistics.evaluations);
    }
}

TEST_CASE("groups of one row are per-sample step control, one group of all the batch") {
    Eigen::ArrayXd rates(3);
    rates << 1.0, -2.0, 4.0;
    const Eigen::ArrayXd x0 = Eigen::ArrayXd::Ones(3);
    const auto batch = options_for(Method::dopri5, StepControl::batch);
    const auto per_sample = solve(linear_field(rates), x0, 0.0, 1.0,
                                  options_for(Method::dopri5, StepControl::per_sample), true);
    const auto ones = solve(linear_field(rates), x0, 0.0, 1.0, batch, true, StepGroups{1, 1, 1});
    CHECK((per_sample.x == ones.x).all());
    CHECK((per_sample.log_det == ones.log_det).all());
    CHECK(per_sample.statistics.evaluations == ones.statistics.evaluations);
    const auto whole = solve(linear_field(rates), x0, 0.0, 1.0, batch, true, StepGroups{3});
    const auto plain = solve(linear_field(rates), x0, 0.0, 1.0, batch, true);
    CHECK((whole.x == plain.x).all());
    CHECK(whole.statistics.accepted == plain.statistics.accepted);
}

TEST_CASE("step groups that do not cover the rows are refused") {
    Eigen::ArrayXd rates(3);
    rates << 1.0, -2.0, 4.0;
    const auto options = options_for(Method::dopri5);
    CHECK_THROWS_TYPED(solve(linear_field(rates), Eigen::ArrayXd::Ones(3), 0.0, 1.0, options, false,
                             StepGroups{1, 1}),
                       cs::EvaluationError,
                       Catch::Matchers::Contains("step groups of 2 rows in all for 3 rows"));
    CHECK_THROWS_TYPED(solve(linear_field(rates), Eigen::ArrayXd::Ones(3), 0.0, 1.0, options, false,
                             StepGroups{4, -1}),
                       cs::EvaluationError, Catch::Matchers::Contains("a step group of -1 rows"));
    // A group without rows is allowed (a jet with nothing to solve).
    const auto result = solve(linear_field(rates), Eigen::ArrayXd::Ones(3), 0.0, 1.0, options,
                              false, StepGroups{1, 0, 2});
    CHECK(result.x(0) == Approx(std::exp(1.0)).epsilon(1e-4));
}

TEST_CASE("the step cap ends a stiff solve with a clear error") {
    Eigen::ArrayXd rates(1);
    rates << -5000.0;
    for (auto control : {StepControl::batch, StepControl::per_sample}) {
        auto options = options_for(Method::dopri5, control);
        options.max_steps = 50;
        CHECK_THROWS_TYPED(solve(linear_field(rates), Eigen::ArrayXd::Ones(1), 0.0, 1.0, options),
                           cs::SolverError, Catch::Matchers::Contains("raise max_steps"));
    }
}

TEST_CASE("a field that returns NaN is reported, not integrated") {
    const FunctionSystem broken(
        2, [](const Eigen::ArrayXd&, const Eigen::ArrayXd& x, const RowIndex*, Eigen::ArrayXd& v,
              Eigen::ArrayXd*) { v = Eigen::ArrayXd::Constant(x.size(), std::nan("")); });
    CHECK_THROWS_AS(solve(broken, Eigen::ArrayXd::Zero(2), 0.0, 1.0, options_for(Method::dopri5)),
                    cs::SolverError);
    CHECK_THROWS_AS(solve(broken, Eigen::ArrayXd::Zero(2), 0.0, 1.0, options_for(Method::rk4)),
                    cs::SolverError);
}
