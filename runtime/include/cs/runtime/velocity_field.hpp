// The velocity field v(t, x, c) of one member, evaluated for a batch with Eigen.
//
//   block input  = [time embedding (2K) | state (1, then width) | conditions (C)]
//   block        = linear -> ELU -> linear -> ELU -> ... -> linear (no activation)
//   last block   -> v (one number per row)
//
// Along one solve the conditions do not change, and at a shared time the time
// embedding is the same for every row: each block's first layer is split so
// those two shares are computed once (condition()) and per step (a column). A
// block's last layer has no activation after it, so it is folded into the state
// part of the next block's first layer: five 64 x 64 products per row, not seven.
//
// The network is then a chain of stages, out = act(W in + bias + offset), and the rows
// go through the whole chain in panels of a few dozen, so a panel's activations stay
// in the first-level cache. Each stage is one small matrix product whose kernel keeps
// a few rows' outputs in vector registers and sums every output over its inputs in
// order, whatever the vector width; the ELU follows in a second pass. With portable
// arithmetic (the default) no product is fused with a sum, so native and WebAssembly
// builds compute the same bits (cs/arithmetic.hpp).
#pragma once

#include <vector>
#include "cs/runtime/eigen.hpp"

#include "cs/arithmetic.hpp"
#include "cs/format.hpp"

namespace cs::runtime {

using RowIndex = std::vector<Eigen::Index>;

class VelocityField {
  public:
    VelocityField(const format::Architecture& architecture, Eigen::Index n_conditions,
                  const std::vector<float>& weights, Arithmetic arithmetic = Arithmetic::portable);

    // The conditions' share of every block's first layer, plus its bias, for the rows
    // of `normalized` (one column per row, C rows). Each block's matrix has the
    // block's first-layer outputs, padded with zeros to the kernel's width, as rows.
    struct Conditioned {
        std::vector<Eigen::MatrixXf> block_offsets;
        Eigen::Index rows = 0;
    };
    Conditioned condition(const Eigen::MatrixXf& normalized) const;

    // Scratch space, reused between calls; one per thread.
    struct Workspace {
        Eigen::MatrixXf values[2];    // a panel's activations, one column per row
        Eigen::MatrixXf tangents[2];  // their derivatives with respect to x
        Eigen::MatrixXf embedding;    // per-row times: the panel's distinct times embedded
        Eigen::MatrixXf time_terms;   // per-row times: a block's time share per distinct time
        std::vector<double> distinct_times;      // per-row times: each run of equal times once
        std::vector<Eigen::Index> time_columns;  // per-row times: each row's distinct time
        Eigen::MatrixXf shared_time;             // shared time: every block's time share (columns)
        std::vector<const float*> offsets;
        std::vector<const float*> times;
    };

    // v at time(s) t for states x. t holds one time for all rows or one per row.
    // `rows`, when given, selects the columns of `conditioned` that x belongs to.
    // With `derivative`, also dv/dx by forward-mode differentiation.
    void evaluate(const Eigen::ArrayXd& t, const Eigen::ArrayXd& x, const Conditioned& conditioned,
                  const RowIndex* rows, Workspace& workspace, Eigen::ArrayXd& velocity,
                  Eigen::ArrayXd* derivative) const;

    Eigen::Index n_conditions() const { return n_conditions_; }
    Eigen::Index n_parameters() const { return n_parameters_; }

    // Floating-point operations per row of one evaluation (multiply-adds count 2).
    double flops_per_row(bool with_derivative) const;

    // The time embedding [cos(k pi t)..., sin(k pi t)...] for the given times (2K x n).
    Eigen::MatrixXf embed_time(const Eigen::ArrayXd& t) const;

  private:
    // out = act(weight * in + bias [+ the block's offsets and time share]).
    struct Stage {
        Eigen::MatrixXf weight;  // padded outputs x inputs, zero rows below `out`
        Eigen::VectorXf bias;    // padded outputs
        Eigen::Index in = 0;
        Eigen::Index out = 0;
        bool activation = false;
        int block = -1;  // the block whose first layer this is, or -1
    };
    struct BlockStart {
        Eigen::MatrixXf time_weight;       // padded outputs x 2K
        Eigen::MatrixXf condition_weight;  // padded outputs x C
        Eigen::VectorXf bias;              // padded outputs
    };

    template <bool Tangent, bool Fused>
    void run_panel(Eigen::Index first, Eigen::Index count, const Eigen::ArrayXd& t,
                   const Eigen::ArrayXd& x, const Conditioned& conditioned, const RowIndex* rows,
                   Workspace& work, Eigen::ArrayXd& velocity, Eigen::ArrayXd* derivative) const;

    std::vector<Stage> stages_;
    std::vector<BlockStart> block_starts_;
    std::vector<double> frequencies_;
    Eigen::Index n_conditions_ = 0;
    Eigen::Index n_parameters_ = 0;
    Eigen::Index padded_width_ = 0;
    bool fused_ = false;
};

}  // namespace cs::runtime
