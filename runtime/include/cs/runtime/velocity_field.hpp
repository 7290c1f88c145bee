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
#pragma once

#include <vector>
#include "cs/runtime/eigen.hpp"

#include "cs/format.hpp"

namespace cs::runtime {

using RowIndex = std::vector<Eigen::Index>;

class VelocityField {
  public:
    VelocityField(const format::Architecture& architecture, Eigen::Index n_conditions,
                  const std::vector<float>& weights);

    // The conditions' share of every block's first layer, plus its bias, for the rows
    // of `normalized` (one column per row, C rows).
    struct Conditioned {
        std::vector<Eigen::MatrixXf> block_offsets;
        Eigen::Index rows = 0;
    };
    Conditioned condition(const Eigen::MatrixXf& normalized) const;

    // Scratch matrices, reused between calls; one per thread.
    struct Workspace {
        Eigen::MatrixXf hidden;
        Eigen::MatrixXf next;
        Eigen::MatrixXf tangent;
        Eigen::MatrixXf next_tangent;
        Eigen::MatrixXf time_term;
        Eigen::MatrixXf embedding;
        Eigen::MatrixXf offsets;
        // When set, evaluate() keeps the input of the very last layer (the features
        // the velocity is linear in) in `features`.
        bool keep_features = false;
        Eigen::MatrixXf features;
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
    struct Layer {
        Eigen::MatrixXf weight;  // out x in
        Eigen::VectorXf bias;
    };
    struct Block {
        Eigen::MatrixXf time_weight;       // width x 2K
        Eigen::MatrixXf state_weight;      // width x (1 or width)
        Eigen::MatrixXf condition_weight;  // width x C
        Eigen::VectorXf first_bias;
        std::vector<Layer> layers;  // the layers after the first
        // The block's last linear layer was folded into the next block's first layer
        // (two linear maps with no activation between them are one): the block ends
        // with an activation instead.
        bool folded = false;
    };

    std::vector<Block> blocks_;
    std::vector<double> frequencies_;
    Eigen::Index n_conditions_ = 0;
    Eigen::Index n_parameters_ = 0;
    Eigen::Index width_ = 0;
};

}  // namespace cs::runtime
