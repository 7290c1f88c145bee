// Batch evaluation of the reference velocity field (arXiv:2402.15558, appendix).
#include "cs/runtime/velocity_field.hpp"

#include <cmath>

#include "cs/errors.hpp"

namespace cs::runtime {
namespace {

constexpr double kPi = 3.14159265358979323846;

// ELU in place, written as max(a, 0) + exp(min(a, 0)) - 1: Eigen 3.4 does not
// vectorize select(), and a scalar exp made the activation cost more than the
// matrix products.
void elu_in_place(Eigen::MatrixXf& values) {
    auto array = values.array();
    array = array.max(0.0f) + array.min(0.0f).exp() - 1.0f;
}

// Chain rule through an ELU from its output: elu'(a) = 1 for a > 0 and exp(a) =
// elu(a) + 1 otherwise, that is min(elu(a), 0) + 1.
void chain_elu(const Eigen::MatrixXf& activated, Eigen::MatrixXf& tangent) {
    tangent.array() *= activated.array().min(0.0f) + 1.0f;
}

}  // namespace

VelocityField::VelocityField(const format::Architecture& architecture, Eigen::Index n_conditions,
                             const std::vector<float>& weights)
    : frequencies_(architecture.time_embedding.frequencies),
      n_conditions_(n_conditions),
      width_(architecture.width) {
    const auto expected = format::parameter_count(architecture, n_conditions);
    if (weights.size() != expected) {
        throw FormatError("members.weights", "expected " + std::to_string(expected) +
                                                 " weights, found " +
                                                 std::to_string(weights.size()));
    }
    n_parameters_ = static_cast<Eigen::Index>(expected);

    // Weights are stored [out][in] row-major: map them as row-major matrices.
    using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Index embedding = 2 * static_cast<Eigen::Index>(frequencies_.size());
    size_t offset = 0;
    auto take = [&](Eigen::Index rows, Eigen::Index cols) {
        Eigen::MatrixXf matrix = Eigen::Map<const RowMajor>(weights.data() + offset, rows, cols);
        offset += static_cast<size_t>(rows * cols);
        return matrix;
    };

    for (uint32_t b = 0; b < architecture.n_blocks; ++b) {
        const bool last_block = b + 1 == architecture.n_blocks;
        const Eigen::Index block_output = last_block ? 1 : width_;
        const Eigen::Index state = b == 0 ? 1 : width_;
        const Eigen::Index in = embedding + state + n_conditions;
        Block block;
        for (uint32_t l = 0; l < architecture.layers_per_block; ++l) {
            const bool last_layer = l + 1 == architecture.layers_per_block;
            const Eigen::Index out = last_layer ? block_output : width_;
            const Eigen::Index layer_in = l == 0 ? in : width_;
            Eigen::MatrixXf weight = take(out, layer_in);
            Eigen::VectorXf bias = take(out, 1);
            if (l == 0) {
                // Column order of the first layer: [time embedding | state | conditions].
                block.time_weight = weight.leftCols(embedding);
                block.state_weight = weight.middleCols(embedding, state);
                block.condition_weight = weight.rightCols(n_conditions);
                block.first_bias = bias;
            } else {
                block.layers.push_back({std::move(weight), std::move(bias)});
            }
        }
        blocks_.push_back(std::move(block));
    }

    // Fold every block's last layer into the next block's first layer, in double
    // precision: W_state (W_last a + b_last) = (W_state W_last) a + W_state b_last.
    for (size_t b = 1; b < blocks_.size(); ++b) {
        Block& previous = blocks_[b - 1];
        if (previous.layers.empty()) {
            continue;
        }
        Block& block = blocks_[b];
        const Layer& last = previous.layers.back();
        const Eigen::MatrixXd state = block.state_weight.cast<double>();
        block.first_bias += (state * last.bias.cast<double>()).cast<float>();
        block.state_weight = (state * last.weight.cast<double>()).cast<float>();
        previous.layers.pop_back();
        previous.folded = true;
    }
}

Eigen::MatrixXf VelocityField::embed_time(const Eigen::ArrayXd& t) const {
    const auto k = static_cast<Eigen::Index>(frequencies_.size());
    Eigen::MatrixXf embedding(2 * k, t.size());
    for (Eigen::Index i = 0; i < k; ++i) {
        const double angle = frequencies_[static_cast<size_t>(i)] * kPi;
        for (Eigen::Index j = 0; j < t.size(); ++j) {
            embedding(i, j) = static_cast<float>(std::cos(angle * t(j)));
            embedding(k + i, j) = static_cast<float>(std::sin(angle * t(j)));
        }
    }
    return embedding;
}

VelocityField::Conditioned VelocityField::condition(const Eigen::MatrixXf& normalized) const {
    if (normalized.rows() != n_conditions_) {
        throw EvaluationError("velocity field expects " + std::to_string(n_conditions_) +
                              " conditions per row, got " + std::to_string(normalized.rows()));
    }
    Conditioned conditioned;
    conditioned.rows = normalized.cols();
    for (const auto& block : blocks_) {
        Eigen::MatrixXf offsets = block.condition_weight * normalized;
        offsets.colwise() += block.first_bias;
        conditioned.block_offsets.push_back(std::move(offsets));
    }
    return conditioned;
}

void VelocityField::evaluate(const Eigen::ArrayXd& t, const Eigen::ArrayXd& x,
                             const Conditioned& conditioned, const RowIndex* rows, Workspace& work,
                             Eigen::ArrayXd& velocity, Eigen::ArrayXd* derivative) const {
    const Eigen::Index n = x.size();
    const bool shared_time = t.size() == 1;
    if (!shared_time && t.size() != n) {
        throw EvaluationError("velocity field got " + std::to_string(t.size()) + " times for " +
                              std::to_string(n) + " states");
    }
    const Eigen::Index available =
        rows ? static_cast<Eigen::Index>(rows->size()) : conditioned.rows;
    if (available != n) {
        throw EvaluationError("velocity field got " + std::to_string(n) + " states for " +
                              std::to_string(available) + " conditioned rows");
    }

    work.embedding = embed_time(t);
    const bool with_derivative = derivative != nullptr;
    for (size_t b = 0; b < blocks_.size(); ++b) {
        const Block& block = blocks_[b];

        // first layer: conditions (precomputed) + time + state
        if (rows) {
            work.offsets = conditioned.block_offsets[b](Eigen::all, *rows);
        }
        const Eigen::MatrixXf& offsets = rows ? work.offsets : conditioned.block_offsets[b];
        if (shared_time) {
            const Eigen::VectorXf time_column = block.time_weight * work.embedding.col(0);
            work.next = offsets;
            work.next.colwise() += time_column;
        } else {
            work.next.noalias() = block.time_weight * work.embedding;
            work.next += offsets;
        }
        if (b == 0) {
            const Eigen::RowVectorXf state = x.cast<float>().matrix().transpose();
            work.next.noalias() += block.state_weight * state;
            if (with_derivative) {
                work.next_tangent = block.state_weight.replicate(1, n);
            }
        } else {
            work.next.noalias() += block.state_weight * work.hidden;
            if (with_derivative) {
                work.next_tangent.noalias() = block.state_weight * work.tangent;
            }
        }
        work.hidden.swap(work.next);
        if (with_derivative) {
            work.tangent.swap(work.next_tangent);
        }

        // remaining layers: activation, then linear
        for (const Layer& layer : block.layers) {
            elu_in_place(work.hidden);
            if (work.keep_features && b + 1 == blocks_.size() && &layer == &block.layers.back()) {
                work.features = work.hidden;
            }
            if (with_derivative) {
                chain_elu(work.hidden, work.tangent);
                work.next_tangent.noalias() = layer.weight * work.tangent;
                work.tangent.swap(work.next_tangent);
            }
            work.next.noalias() = layer.weight * work.hidden;
            work.next.colwise() += layer.bias;
            work.hidden.swap(work.next);
        }
        if (block.folded) {
            elu_in_place(work.hidden);
            if (with_derivative) {
                chain_elu(work.hidden, work.tangent);
            }
        }
    }

    velocity = work.hidden.row(0).transpose().cast<double>().array();
    if (with_derivative) {
        *derivative = work.tangent.row(0).transpose().cast<double>().array();
    }
}

double VelocityField::flops_per_row(bool with_derivative) const {
    double flops = 0.0;
    for (size_t b = 0; b < blocks_.size(); ++b) {
        const Block& block = blocks_[b];
        double matrix = static_cast<double>(block.state_weight.size());
        for (const Layer& layer : block.layers) {
            matrix += static_cast<double>(layer.weight.size());
        }
        flops += 2.0 * matrix * (with_derivative ? 2.0 : 1.0);
    }
    return flops;
}

}  // namespace cs::runtime
