// The reference velocity field (arXiv:2402.15558) in LibTorch, with deterministic
// or mean-field Gaussian layers, and the conditional flow-matching loss. This
// header includes LibTorch: only the trainer's sources and its tests include it.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "cs/format.hpp"

namespace cs::trainer {

// One set of weights for every linear layer, blocks' layers in file order: the
// posterior mean, or one draw held fixed for a whole batch or solve.
struct Layer {
    torch::Tensor weight;  // [out, in]
    torch::Tensor bias;    // [out]
};
using Weights = std::vector<Layer>;

class FlowModel : public torch::nn::Module {
  public:
    // Weights start as PyTorch's nn.Linear does, U(-1/sqrt(in), 1/sqrt(in)), drawn
    // from `generator`; rho (variational) starts at initial_rho everywhere.
    FlowModel(const format::Architecture& architecture, int64_t n_conditions, bool variational,
              double initial_rho, at::Generator& generator);

    bool variational() const { return variational_; }
    int64_t n_conditions() const { return n_conditions_; }
    const format::Architecture& architecture() const { return architecture_; }

    // The means (the point estimate for a deterministic model).
    Weights mean() const;
    // mu + softplus(rho) * eps, eps ~ N(0, 1) from `generator` (drawn on the CPU, so
    // the numbers do not depend on the device). Differentiable in mu and rho.
    Weights draw(at::Generator& generator) const;
    // KL(q || N(0, 1)) summed over every weight and bias; zero when deterministic.
    torch::Tensor kl_divergence() const;

    // v(t, x, c) for t [n], x [n], c [n, C]; returns [n].
    torch::Tensor velocity(const Weights& weights, const torch::Tensor& t, const torch::Tensor& x,
                           const torch::Tensor& c) const;

    // v and dv/dx in one pass. The state is one number, so dv/dx is a forward-mode
    // derivative: a second scalar per row carried through every layer (a linear layer
    // maps it by W, an ELU multiplies it by elu'(a)). Differentiable in the weights.
    std::pair<torch::Tensor, torch::Tensor> velocity_and_derivative(const Weights& weights,
                                                                    const torch::Tensor& t,
                                                                    const torch::Tensor& x,
                                                                    const torch::Tensor& c) const;
    // The layers after the first of `block` for a pre-activation and its tangent.
    std::pair<torch::Tensor, torch::Tensor> block_rest(const Weights& weights, uint32_t block,
                                                       torch::Tensor hidden,
                                                       torch::Tensor tangent) const;
    const torch::Tensor& frequencies() const { return frequencies_; }  // pi * k

    // Flat float32 vectors in the file's layout.
    std::vector<float> flat_mean() const;
    std::vector<float> flat_rho() const;
    void load_mean(const std::vector<float>& flat);
    void load_rho(const std::vector<float>& flat);

  private:
    format::Architecture architecture_;
    int64_t n_conditions_ = 0;
    bool variational_ = false;
    torch::Tensor frequencies_;  // pi * k, a buffer
    std::vector<torch::Tensor> weight_mean_;
    std::vector<torch::Tensor> bias_mean_;
    std::vector<torch::Tensor> weight_rho_;
    std::vector<torch::Tensor> bias_rho_;
};

// The layers of a flat weight vector in the file's layout, as tensors of `options`.
Weights unflatten(const format::Architecture& architecture, int64_t n_conditions,
                  const std::vector<float>& flat, const torch::TensorOptions& options);
std::vector<float> flatten(const Weights& weights);
// The same layers as views into one flat tensor [n_weights]: gradients flow to it.
Weights unflatten(const format::Architecture& architecture, int64_t n_conditions,
                  const torch::Tensor& flat);

// The CFM loss of DESIGN.md for targets x [n] and conditions c [n, C]:
// t ~ U(0, 1), z ~ N(0, 1), y = (1 - t) x + (s + (1 - s) t) z, u = (1 - s) z - x,
// mean (v(t, y, c) - u)^2 with s = sigma_min. t and z come from `generator`.
torch::Tensor cfm_loss(const FlowModel& model, const Weights& weights, const torch::Tensor& x,
                       const torch::Tensor& c, at::Generator& generator);

// Fixed-step RK4 from t0 to t1 for states x0 [n], the runtime's scheme.
torch::Tensor solve_rk4(const FlowModel& model, const Weights& weights, const torch::Tensor& x0,
                        const torch::Tensor& c, double t0, double t1, uint32_t steps);

// The exact log-likelihood log p(x | c) = log N(z; 0, 1) + integral_0^1 dv/dx dt of
// DESIGN.md, integrating (x, log det) from t = 0 (data) to t = 1 (noise) with `steps`
// fixed RK4 steps. Returns [n]; differentiable in the weights.
torch::Tensor log_likelihood(const FlowModel& model, const Weights& weights, const torch::Tensor& x,
                             const torch::Tensor& c, uint32_t steps);

// A CPU generator seeded from (seed, stream, counter) by a hash, so that the noise
// of any step can be recreated from counters alone (exact resume).
at::Generator seeded_generator(uint64_t seed, uint64_t stream, uint64_t counter);

}  // namespace cs::trainer
