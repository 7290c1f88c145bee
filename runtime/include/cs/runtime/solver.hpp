// ODE solvers for the flow: fixed-step RK4 and adaptive Dormand-Prince 5(4), with
// the log-determinant integrated alongside when asked (d log det / dt = dv/dx).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>
#include "cs/runtime/eigen.hpp"

#include "cs/runtime/velocity_field.hpp"

namespace cs::runtime {

enum class Method { rk4, dopri5 };

// batch: one step size for a batch of rows, set by its largest error (the reference's
// controller); per_sample: every row has its own step size and stops on its own.
enum class StepControl { batch, per_sample };

// Under batch step control, the rows that share their steps: consecutive runs of rows,
// given by their lengths, which add up to the number of rows (the ensemble gives each
// jet's rows a group of their own). Each group steps and stops on its own and gets the
// bits it would get solved alone. Empty: all rows are one group.
using StepGroups = std::vector<Eigen::Index>;

struct SolverOptions {
    Method method = Method::dopri5;
    StepControl step_control = StepControl::batch;
    double atol = 1e-6;
    double rtol = 1e-5;
    uint32_t max_steps = 10000;  // attempted steps (accepted and rejected) per solve
    uint32_t rk4_steps = 32;
};

SolverOptions solver_options(const format::Solver& solver);
Method parse_method(const std::string& name);
StepControl parse_step_control(const std::string& name);

// The right-hand side of dx/dt = v(t, x) for a batch. t holds one time for all rows
// or one per row; `rows`, when given, names the rows x belongs to.
class OdeSystem {
  public:
    virtual ~OdeSystem() = default;
    virtual Eigen::Index rows() const = 0;
    virtual void velocity(const Eigen::ArrayXd& t, const Eigen::ArrayXd& x, const RowIndex* rows,
                          Eigen::ArrayXd& v, Eigen::ArrayXd* dv_dx) const = 0;
};

// An OdeSystem from a function, for tests and simple fields.
class FunctionSystem : public OdeSystem {
  public:
    using Function =
        std::function<void(const Eigen::ArrayXd& t, const Eigen::ArrayXd& x, const RowIndex* rows,
                           Eigen::ArrayXd& v, Eigen::ArrayXd* dv_dx)>;
    FunctionSystem(Eigen::Index rows, Function function)
        : rows_(rows), function_(std::move(function)) {}
    Eigen::Index rows() const override { return rows_; }
    void velocity(const Eigen::ArrayXd& t, const Eigen::ArrayXd& x, const RowIndex* rows,
                  Eigen::ArrayXd& v, Eigen::ArrayXd* dv_dx) const override {
        function_(t, x, rows, v, dv_dx);
    }

  private:
    Eigen::Index rows_;
    Function function_;
};

// One member's velocity field with its conditions bound; owns its scratch space,
// so use one per thread.
class FieldSystem : public OdeSystem {
  public:
    FieldSystem(const VelocityField& field, const Eigen::MatrixXf& normalized_conditions)
        : field_(field), conditioned_(field.condition(normalized_conditions)) {}
    Eigen::Index rows() const override { return conditioned_.rows; }
    void velocity(const Eigen::ArrayXd& t, const Eigen::ArrayXd& x, const RowIndex* rows,
                  Eigen::ArrayXd& v, Eigen::ArrayXd* dv_dx) const override {
        field_.evaluate(t, x, conditioned_, rows, workspace_, v, dv_dx);
    }

  private:
    const VelocityField& field_;
    VelocityField::Conditioned conditioned_;
    mutable VelocityField::Workspace workspace_;
};

struct SolveStatistics {
    uint32_t accepted = 0;
    uint32_t rejected = 0;
    uint64_t evaluations = 0;  // row-evaluations of the velocity field
};

struct SolveResult {
    Eigen::ArrayXd x;
    Eigen::ArrayXd log_det;  // integral of dv/dx from t0 to t1 (empty unless asked)
    SolveStatistics statistics;
};

// Integrates dx/dt = v from t0 to t1 (either direction) for every row of x0.
// Throws SolverError when the step cap is reached or a value becomes non-finite, and
// EvaluationError when `groups` does not cover the rows.
SolveResult solve(const OdeSystem& system, const Eigen::ArrayXd& x0, double t0, double t1,
                  const SolverOptions& options, bool with_log_det = false,
                  const StepGroups& groups = {});

// The Dormand-Prince 5(4) tableau (Dormand and Prince 1980), exposed for its tests.
struct DormandPrince {
    static constexpr int kStages = 7;
    static const double c[kStages];
    static const double a[kStages][kStages];
    static const double b[kStages];       // fifth order, the propagated solution
    static const double b_star[kStages];  // fourth order, for the error estimate
};

}  // namespace cs::runtime
