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

// The first row of every step group, then the number of rows.
std::vector<Eigen::Index> group_begins(const StepGroups& groups, Eigen::Index rows,
                                       StepControl control) {
    std::vector<Eigen::Index> begin{0};
    if (control == StepControl::per_sample) {
        for (Eigen::Index row = 1; row <= rows; ++row) {
            begin.push_back(row);
        }
        return begin;
    }
    if (groups.empty()) {
        begin.push_back(rows);
        return begin;
    }
    for (const Eigen::Index count : groups) {
        if (count < 0) {
            throw EvaluationError("solver: a step group of " + std::to_string(count) + " rows");
        }
        begin.push_back(begin.back() + count);
    }
    if (begin.back() != rows) {
        throw EvaluationError("solver: step groups of " + std::to_string(begin.back()) +
                              " rows in all for " + std::to_string(rows) + " rows");
    }
    return begin;
}

// to = from(rows), and count entries of `from` from `at` on back into `to` at `row`.
// Plain loops: the arrays are short next to a field evaluation, and Eigen's indexed
// and block assignments, inlined at every use, made the WebAssembly module 6 KB larger.
void gather(const Eigen::ArrayXd& from, const RowIndex& rows, Eigen::ArrayXd& to) {
    to.resize(static_cast<Eigen::Index>(rows.size()));
    for (size_t i = 0; i < rows.size(); ++i) {
        to(static_cast<Eigen::Index>(i)) = from(rows[i]);
    }
}

void put_back(const Eigen::ArrayXd& from, Eigen::Index at, Eigen::Index count, Eigen::ArrayXd& to,
              Eigen::Index row) {
    std::copy_n(from.data() + at, count, to.data() + row);
}

// Dormand-Prince with the reference's controller for groups of consecutive rows: the
// rows of a group share a time and a step, set by their largest scaled error, and a
// group that reaches t1 leaves the batch. What the other groups do changes nothing in
// a group's arithmetic, so each gets the bits it would get solved alone. The
// reference's batch control is the case of one group, per-sample control that of
// groups of one row. `begin` holds the first row of every group and, last, the number
// of rows.
SolveResult solve_dopri(const OdeSystem& system, const Eigen::ArrayXd& x0, double t0, double t1,
                        const SolverOptions& options, bool with_log_det,
                        const std::vector<Eigen::Index>& begin) {
    using DP = DormandPrince;
    const Eigen::Index n = x0.size();
    const size_t n_groups = begin.size() - 1;
    State state{x0, with_log_det ? Eigen::ArrayXd::Zero(n).eval() : Eigen::ArrayXd()};
    SolveStatistics statistics;
    std::vector<double> t(n_groups, t0);
    std::vector<double> h(n_groups, t1 - t0);  // the whole interval first
    std::vector<uint32_t> attempts(n_groups, 0);
    const double direction = t1 >= t0 ? 1.0 : -1.0;

    // The first stage for all rows; later ones come from the last stage (FSAL).
    Derivative first;
    Eigen::ArrayXd time(1);
    time(0) = t0;
    evaluate(system, time, state, nullptr, with_log_det, first, statistics);

    std::vector<size_t> active;  // groups, in order
    for (size_t g = 0; g < n_groups; ++g) {
        if (t0 != t1 && begin[g + 1] > begin[g]) {
            active.push_back(g);
        }
    }
    auto rows_of = [&](size_t g) { return begin[g + 1] - begin[g]; };

    Derivative k[DP::kStages];
    State local;
    State result;
    Eigen::ArrayXd error;
    Eigen::ArrayXd step;
    RowIndex rows;
    std::vector<double> group_step;
    while (!active.empty()) {
        // Each group's step, cut at t1.
        group_step.clear();
        for (const size_t g : active) {
            if (attempts[g] >= options.max_steps) {
                step_cap(options.max_steps, t[g], t1, h[g]);
            }
            const double hg = direction * (t[g] + h[g] - t1) > 0.0 ? t1 - t[g] : h[g];
            if (t[g] + hg == t[g]) {
                throw SolverError("solver: step size underflow at t = " + number_text(t[g]));
            }
            group_step.push_back(hg);
        }

        // The active rows, with one time and step for all when one group is left.
        const bool all_rows = active.size() == n_groups;
        rows.clear();
        for (const size_t g : active) {
            for (Eigen::Index row = begin[g]; row < begin[g + 1]; ++row) {
                rows.push_back(row);
            }
        }
        gather(state.x, rows, local.x);
        gather(first.v, rows, k[0].v);
        if (with_log_det) {
            gather(state.log_det, rows, local.log_det);
            gather(first.dv_dx, rows, k[0].dv_dx);
        }
        if (active.size() == 1) {
            time.resize(1);
            step.resize(1);
            time(0) = t[active[0]];
            step(0) = group_step[0];
        } else {
            time.resize(local.x.size());
            step.resize(local.x.size());
            Eigen::Index at = 0;
            for (size_t i = 0; i < active.size(); ++i) {
                const Eigen::Index count = rows_of(active[i]);
                std::fill_n(time.data() + at, count, t[active[i]]);
                std::fill_n(step.data() + at, count, group_step[i]);
                at += count;
            }
        }

        dopri_step(system, time, step, local, all_rows ? nullptr : &rows, with_log_det, options, k,
                   result, error, statistics);

        std::vector<size_t> still_active;
        Eigen::Index at = 0;  // the group's first row among the active rows
        for (size_t i = 0; i < active.size(); ++i) {
            const size_t g = active[i];
            const Eigen::Index count = rows_of(g);
            const double norm = *std::max_element(error.data() + at, error.data() + at + count);
            if (!std::isfinite(norm)) {
                std::string where;
                if (n_groups > 1) {
                    where = " in rows " + std::to_string(begin[g]) + " to " +
                            std::to_string(begin[g + 1] - 1);
                }
                throw SolverError("solver: non-finite error estimate at t = " + number_text(t[g]) +
                                  where);
            }
            ++attempts[g];
            bool done = false;
            if (norm <= 1.0) {
                done = direction * (t[g] + group_step[i] - t1) >= 0.0;
                t[g] = done ? t1 : t[g] + group_step[i];
                put_back(result.x, at, count, state.x, begin[g]);
                put_back(k[DP::kStages - 1].v, at, count, first.v, begin[g]);
                if (with_log_det) {
                    put_back(result.log_det, at, count, state.log_det, begin[g]);
                    put_back(k[DP::kStages - 1].dv_dx, at, count, first.dv_dx, begin[g]);
                }
                ++statistics.accepted;
            } else {
                ++statistics.rejected;
            }
            h[g] = group_step[i] * step_factor(norm);
            if (!done) {
                still_active.push_back(g);
            }
            at += count;
        }
        active.swap(still_active);
    }
    return {state.x, state.log_det, statistics};
}

}  // namespace

SolveResult solve(const OdeSystem& system, const Eigen::ArrayXd& x0, double t0, double t1,
                  const SolverOptions& options, bool with_log_det, const StepGroups& groups) {
    if (x0.size() != system.rows()) {
        throw EvaluationError("solver: " + std::to_string(x0.size()) + " initial states for " +
                              std::to_string(system.rows()) + " rows");
    }
    const std::vector<Eigen::Index> begin = group_begins(groups, x0.size(), options.step_control);
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
    return solve_dopri(system, x0, t0, t1, options, with_log_det, begin);
}

}  // namespace cs::runtime
