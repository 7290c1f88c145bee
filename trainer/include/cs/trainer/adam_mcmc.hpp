// One AdamMCMC step (Bieringer et al., arXiv:2312.14027) over a flat parameter tensor
// and a loss function, so the same code samples a flow's weights and, in the tests,
// a model whose posterior is known in closed form. This header includes LibTorch.
//
//   theta ──Adam step──> mu = theta + u ──noise──> theta' ~ N(mu, sigma^2 I + sigma_dir^2 u u^T)
//   theta' ──Adam step, old moments──> mu' = theta' + u'    (the reverse proposal)
//   accept with min(1, exp(-lambda (L' - L)) q(theta | theta') / q(theta' | theta))
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>

namespace cs::trainer {

struct AdamMcmcOptions {
    double temperature = 50.0;     // lambda: the target is exp(-lambda * loss)
    double sigma = 0.0;            // isotropic proposal width; 0: 0.05 / sqrt(n_weights)
    double sigma_direction = 1.0;  // stretch along the Adam update u, in units of |u|
    double learning_rate = 5e-6;   // Adam's
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-8;
    // false accepts every proposal: the unadjusted chain, biased; kept for comparison
    bool metropolis = true;
    // true when the loss is the same function at every step (one fixed batch): its value
    // and gradient at the current state are reused, one evaluation per step instead of two
    bool fixed_batch = false;
    // the Adam moments are reset after this many rejections in a row; 0 never
    uint32_t restart_after = 0;
};

// The loss at a point and its gradient there, both of the same dtype as the point.
struct LossAndGradient {
    double loss = 0.0;
    torch::Tensor gradient;
};
using LossFunction = std::function<LossAndGradient(const torch::Tensor& parameters)>;

// A LossFunction from a differentiable scalar function, by autograd.
LossFunction differentiate(std::function<torch::Tensor(const torch::Tensor&)> loss);

// Adam's moments (float64) and the number of updates they hold.
struct AdamMoments {
    torch::Tensor first;
    torch::Tensor second;
    int64_t count = 0;
};

struct ChainState {
    torch::Tensor parameters;  // [n], any floating dtype and device
    AdamMoments moments;       // empty until the first step
    uint64_t step = 0;
    uint64_t accepted = 0;
    uint64_t restarts = 0;
    uint32_t rejections_in_a_row = 0;
    // with a fixed batch (or a reused gradient): the loss and gradient at `parameters`,
    // when known
    bool has_loss = false;
    double loss = 0.0;
    torch::Tensor gradient;
};

struct StepOutcome {
    bool accepted = false;
    bool restarted = false;       // the Adam moments were reset after this step
    double loss = 0.0;            // at the state the chain holds after the step
    double proposed_loss = 0.0;   // at the proposal
    double log_acceptance = 0.0;  // log of the Metropolis-Hastings ratio (may exceed 0)
    double step_length = 0.0;     // |theta' - theta|
    double update_length = 0.0;   // |u|, the Adam update's length
};

// sigma with the reference's default 0.05 / sqrt(n_weights) when options.sigma is 0.
double proposal_sigma(const AdamMcmcOptions& options, int64_t n_weights);

// log N(difference; 0, sigma^2 I + sigma_dir^2 u u^T) for difference = theta' - mu, in
// closed form: log det = 2 n log sigma + log(1 + sigma_dir^2 |u|^2 / sigma^2), and the
// inverse by Sherman-Morrison. Float64 tensors [n].
double log_proposal_density(const torch::Tensor& difference, const torch::Tensor& update,
                            double sigma, double sigma_direction);

// One step. The noise (n + 1 normals: the isotropic part and ONE scalar for the
// rank-one part, so the draw has exactly the density above) and the acceptance
// uniform come from `generator`, drawn on the CPU.
StepOutcome adam_mcmc_step(ChainState& state, const LossFunction& loss,
                           const AdamMcmcOptions& options, at::Generator& generator);

}  // namespace cs::trainer
