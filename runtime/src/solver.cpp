// Fixed-step RK4 and adaptive Dormand-Prince 5(4). The adaptive controller follows
// the reference: first step the whole interval, scaled error atol + rtol * |y|,
// step factor 0.9 err^(-1/5) clipped to [0.1, 10].
#include "cs/runtime/solver.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "cs/errors.hpp"

namespace cs::runtime {

const double DormandPrince::c[kStages] = {0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0};
const double DormandPrince::a[kStages][kStages] = {
    {0, 0, 0, 0, 0, 0, 0},
    {1.0 / 5, 0, 0, 0, 0, 0, 0},
    {3.0 / 40, 9.0 / 40, 0, 0, 0, 0, 0},
    {44.0 / 45, -56.0 / 15, 32.0 / 9, 0, 0, 0, 0},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729, 0, 0, 0},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656, 0, 0},
    {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0}};
const double DormandPrince::b[kStages] = {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784,
                                          11.0 / 84,  0};
const double DormandPrince::b_star[kStages] = {
    5179.0 / 57600, 0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100, 1.0 / 40};

Method parse_method(const std::string& name) {
    if (name == "dopri5") {
        return Method::dopri5;
    }
    if (name == "rk4") {
        return Method::rk4;
    }
    throw EvaluationError("unknown solver \"" + name + "\" (expected \"dopri5\" or \"rk4\")");
}

StepControl parse_step_control(const std::string& name) {
    if (name == "batch") {
        return StepControl::batch;
    }
    if (name == "per-sample") {
        return StepControl::per_sample;
    }
    throw EvaluationError("unknown step control \"" + name +
                          "\" (expected \"batch\" or \"per-sample\")");
}

SolverOptions solver_options(const format::Solver& solver) {
    SolverOptions options;
    options.method = parse_method(solver.method);
    options.step_control = parse_step_control(solver.step_control);
    options.atol = solver.atol;
    options.rtol = solver.rtol;
    options.max_steps = solver.max_steps;
    options.rk4_steps = solver.rk4_steps;
    return options;
}

namespace {

// State of a batch: x and, when asked, the log-determinant.
struct State {
    Eigen::ArrayXd x;
    Eigen::ArrayXd log_det;
};

struct Derivative {
    Eigen::ArrayXd v;
    Eigen::ArrayXd dv_dx;
};

// A number as an ostream prints it by default (%g), for messages.
std::string number_text(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

void check_finite(const Eigen::ArrayXd& values, double t, const char* what) {
    if (!values.allFinite()) {
        throw SolverError(std::string("solver: non-finite ") + what + " at t = " + number_text(t));
    }
}

void evaluate(const OdeSystem& system, const Eigen::ArrayXd& t, const State& state,
              const RowIndex* rows, bool with_log_det, Derivative& out,
              SolveStatistics& statistics) {
    system.velocity(t, state.x, rows, out.v, with_log_det ? &out.dv_dx : nullptr);
    statistics.evaluations += static_cast<uint64_t>(state.x.size());
    check_finite(out.v, t(0), "velocity");
}

SolveResult solve_rk4(const OdeSystem& system, const Eigen::ArrayXd& x0, double t0, double t1,
                      const SolverOptions& options, bool with_log_det) {
    const double h = (t1 - t0) / options.rk4_steps;
    State state{x0, with_log_det ? Eigen::ArrayXd::Zero(x0.size()).eval() : Eigen::ArrayXd()};
    SolveStatistics statistics;
    Derivative k[4];
    Eigen::ArrayXd time(1);

    for (uint32_t step = 0; step < options.rk4_steps; ++step) {
        const double t = t0 + step * h;
        const double offsets[4] = {0.0, 0.5 * h, 0.5 * h, h};
        for (int stage = 0; stage < 4; ++stage) {
            State trial = state;
            if (stage > 0) {
                trial.x = state.x + offsets[stage] * k[stage - 1].v;
            }
            time(0) = t + offsets[stage];
            evaluate(system, time, trial, nullptr, with_log_det, k[stage], statistics);
        }
        state.x += h / 6.0 * (k[0].v + 2.0 * k[1].v + 2.0 * k[2].v + k[3].v);
        if (with_log_det) {
            state.log_det +=
                h / 6.0 * (k[0].dv_dx + 2.0 * k[1].dv_dx + 2.0 * k[2].dv_dx + k[3].dv_dx);
        }
        ++statistics.accepted;
    }
    return {state.x, state.log_det, statistics};
}

// One Dormand-Prince step of size h (one per row or shared) from `state` with first
// stage k[0] given; fills k[1..6], the fifth-order result and the scaled error per row.
void dopri_step(const OdeSystem& system, const Eigen::ArrayXd& t, const Eigen::ArrayXd& h,
                const State& state, const RowIndex* rows, bool with_log_det,
                const SolverOptions& options, Derivative (&k)[DormandPrince::kStages],
                State& result, Eigen::ArrayXd& error, SolveStatistics& statistics) {
    using DP = DormandPrince;
    // The step as one number per row, also when the whole batch shares it.
    const Eigen::ArrayXd h_rows =
        h.size() == 1 ? Eigen::ArrayXd::Constant(state.x.size(), h(0)).eval() : h;
    State trial;
    for (int stage = 1; stage < DP::kStages; ++stage) {
        trial.x = state.x;
        for (int j = 0; j < stage; ++j) {
            if (DP::a[stage][j] != 0.0) {
                trial.x += h_rows * DP::a[stage][j] * k[j].v;
            }
        }
        const Eigen::ArrayXd time = t + DP::c[stage] * h;
        evaluate(system, time, trial, rows, with_log_det, k[stage], statistics);
    }

    // The last stage is evaluated at the fifth-order solution (first same as last).
    result.x = state.x;
    Eigen::ArrayXd x_error = Eigen::ArrayXd::Zero(state.x.size());
    for (int j = 0; j < DP::kStages; ++j) {
        if (DP::b[j] != 0.0) {
            result.x += h_rows * DP::b[j] * k[j].v;
        }
        x_error += h_rows * (DP::b[j] - DP::b_star[j]) * k[j].v;
    }
    const Eigen::ArrayXd x_scale = options.atol + options.rtol * state.x.abs().max(result.x.abs());
    error = x_error.abs() / x_scale;

    if (with_log_det) {
        result.log_det = state.log_det;
        Eigen::ArrayXd l_error = Eigen::ArrayXd::Zero(state.x.size());
        for (int j = 0; j < DP::kStages; ++j) {
            result.log_det += h_rows * DP::b[j] * k[j].dv_dx;
            l_error += h_rows * (DP::b[j] - DP::b_star[j]) * k[j].dv_dx;
        }
        const Eigen::ArrayXd l_scale =
            options.atol + options.rtol * state.log_det.abs().max(result.log_det.abs());
        error = error.max(l_error.abs() / l_scale);
    }
}

double step_factor(double error) {
    if (error == 0.0) {
        return 10.0;
    }
    return std::clamp(0.9 * std::pow(error, -0.2), 0.1, 10.0);
}

[[noreturn]] void step_cap(uint32_t max_steps, double t, double t1, double h) {
    throw SolverError("solver: Dormand-Prince took " + std::to_string(max_steps) +
                      " steps and stopped at t = " + number_text(t) + " of " + number_text(t1) +
                      " (step " + number_text(h) + "); raise max_steps or loosen atol/rtol");
}

SolveResult solve_dopri_batch(const OdeSystem& system, const Eigen::ArrayXd& x0, double t0,
                              double t1, const SolverOptions& options, bool with_log_det) {
    using DP = DormandPrince;
    State state{x0, with_log_det ? Eigen::ArrayXd::Zero(x0.size()).eval() : Eigen::ArrayXd()};
    SolveStatistics statistics;
    Derivative k[DP::kStages];
    State result;
    Eigen::ArrayXd error;
    Eigen::ArrayXd time(1);
    Eigen::ArrayXd step(1);

    double t = t0;
    double h = t1 - t0;
    const double direction = h >= 0.0 ? 1.0 : -1.0;
    time(0) = t;
    evaluate(system, time, state, nullptr, with_log_det, k[0], statistics);

    while (direction * (t1 - t) > 0.0) {
        if (statistics.accepted + statistics.rejected >= options.max_steps) {
            step_cap(options.max_steps, t, t1, h);
        }
        if (direction * (t + h - t1) > 0.0) {
            h = t1 - t;
        }
        if (t + h == t) {
            throw SolverError("solver: step size underflow at t = " + std::to_string(t));
        }
        time(0) = t;
        step(0) = h;
        dopri_step(system, time, step, state, nullptr, with_log_det, options, k, result, error,
                   statistics);
        const double norm = error.size() > 0 ? error.maxCoeff() : 0.0;
        if (!std::isfinite(norm)) {
            throw SolverError("solver: non-finite error estimate at t = " + std::to_string(t));
        }
        if (norm <= 1.0) {
            const bool last = direction * (t + h - t1) >= 0.0;
            t = last ? t1 : t + h;
            state = result;
            k[0] = k[DP::kStages - 1];
            ++statistics.accepted;
        } else {
            ++statistics.rejected;
        }
        h *= step_factor(norm);
    }
    return {state.x, state.log_det, statistics};
}

// Per-sample control: each row keeps its own time and step; finished rows leave the
// active set, so the batch shrinks as rows reach t1.
SolveResult solve_dopri_per_sample(const OdeSystem& system, const Eigen::ArrayXd& x0, double t0,
                                   double t1, const SolverOptions& options, bool with_log_det) {
    using DP = DormandPrince;
    const Eigen::Index n = x0.size();
    State state{x0, with_log_det ? Eigen::ArrayXd::Zero(n).eval() : Eigen::ArrayXd()};
    SolveStatistics statistics;
    Eigen::ArrayXd t = Eigen::ArrayXd::Constant(n, t0);
    Eigen::ArrayXd h = Eigen::ArrayXd::Constant(n, t1 - t0);
    std::vector<uint32_t> attempts(static_cast<size_t>(n), 0);
    const double direction = t1 >= t0 ? 1.0 : -1.0;

    // The first stage for all rows; later ones come from the last stage (FSAL).
    Derivative first;
    {
        Eigen::ArrayXd time(1);
        time(0) = t0;
        evaluate(system, time, state, nullptr, with_log_det, first, statistics);
    }

    RowIndex active;
    for (Eigen::Index i = 0; i < n; ++i) {
        if (t0 != t1) {
            active.push_back(i);
        }
    }

    Derivative k[DP::kStages];
    State local;
    State result;
    Eigen::ArrayXd error;
    while (!active.empty()) {
        const auto m = static_cast<Eigen::Index>(active.size());
        Eigen::ArrayXd local_t = t(active);
        Eigen::ArrayXd local_h = h(active);
        for (Eigen::Index i = 0; i < m; ++i) {
            if (direction * (local_t(i) + local_h(i) - t1) > 0.0) {
                local_h(i) = t1 - local_t(i);
            }
        }
        local.x = state.x(active);
        k[0].v = first.v(active);
        if (with_log_det) {
            local.log_det = state.log_det(active);
            k[0].dv_dx = first.dv_dx(active);
        }

        dopri_step(system, local_t, local_h, local, &active, with_log_det, options, k, result,
                   error, statistics);

        RowIndex still_active;
        for (Eigen::Index i = 0; i < m; ++i) {
            const Eigen::Index row = active[static_cast<size_t>(i)];
            const double norm = error(i);
            if (!std::isfinite(norm)) {
                throw SolverError("solver: non-finite error estimate in row " +
                                  std::to_string(row));
            }
            if (++attempts[static_cast<size_t>(row)] > options.max_steps) {
                step_cap(options.max_steps, local_t(i), t1, local_h(i));
            }
            bool done = false;
            if (norm <= 1.0) {
                done = direction * (local_t(i) + local_h(i) - t1) >= 0.0;
                t(row) = done ? t1 : local_t(i) + local_h(i);
                state.x(row) = result.x(i);
                first.v(row) = k[DP::kStages - 1].v(i);
                if (with_log_det) {
                    state.log_det(row) = result.log_det(i);
                    first.dv_dx(row) = k[DP::kStages - 1].dv_dx(i);
                }
                ++statistics.accepted;
            } else {
                ++statistics.rejected;
            }
            h(row) = local_h(i) * step_factor(norm);
            if (!done) {
                if (t(row) + h(row) == t(row)) {
                    throw SolverError("solver: step size underflow in row " + std::to_string(row));
                }
                still_active.push_back(row);
            }
        }
        active.swap(still_active);
    }
    return {state.x, state.log_det, statistics};
}

}  // namespace

SolveResult solve(const OdeSystem& system, const Eigen::ArrayXd& x0, double t0, double t1,
                  const SolverOptions& options, bool with_log_det) {
    if (x0.size() != system.rows()) {
        throw EvaluationError("solver: " + std::to_string(x0.size()) + " initial states for " +
                              std::to_string(system.rows()) + " rows");
    }
    check_finite(x0, t0, "initial state");
    if (x0.size() == 0) {
        return {x0, with_log_det ? Eigen::ArrayXd(0) : Eigen::ArrayXd(), {}};
    }
    if (options.method == Method::rk4) {
        if (options.rk4_steps == 0) {
            throw SolverError("solver: RK4 needs at least one step");
        }
        return solve_rk4(system, x0, t0, t1, options, with_log_det);
    }
    if (!(options.atol > 0.0) || !(options.rtol >= 0.0)) {
        throw SolverError("solver: atol must be positive and rtol non-negative");
    }
    if (options.step_control == StepControl::per_sample) {
        return solve_dopri_per_sample(system, x0, t0, t1, options, with_log_det);
    }
    return solve_dopri_batch(system, x0, t0, t1, options, with_log_det);
}

}  // namespace cs::runtime
