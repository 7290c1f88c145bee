// The AdamMCMC step over a flat parameter tensor, and chains over the flow's weights
// with the exact log-likelihood as the loss, checkpoints and export. One of the
// library's LibTorch translation units.
#include "cs/trainer/adam_mcmc.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>

#include "cs/trainer/chain.hpp"
#include "cs/trainer/options.hpp"
#include "cs/trainer/torch_model.hpp"
#include "cs/trainer/trainer.hpp"

namespace cs::trainer {
namespace {

torch::Tensor as_double(const torch::Tensor& values) {
    return values.detach().to(torch::kFloat64);
}

double squared_norm(const torch::Tensor& values) {
    return values.square().sum().item<double>();
}

// Adam's moments after one more gradient, and the update -lr m_hat / (sqrt(v_hat) + eps).
std::pair<AdamMoments, torch::Tensor> adam_update(const AdamMoments& moments,
                                                  const torch::Tensor& gradient,
                                                  const AdamMcmcOptions& options) {
    const torch::Tensor g = as_double(gradient);
    AdamMoments next;
    const bool fresh = !moments.first.defined();
    next.first =
        (fresh ? torch::zeros_like(g) : options.beta1 * moments.first) + (1.0 - options.beta1) * g;
    next.second = (fresh ? torch::zeros_like(g) : options.beta2 * moments.second) +
                  (1.0 - options.beta2) * g.square();
    next.count = (fresh ? 0 : moments.count) + 1;

    const double correction1 = 1.0 - std::pow(options.beta1, static_cast<double>(next.count));
    const double correction2 = 1.0 - std::pow(options.beta2, static_cast<double>(next.count));
    const torch::Tensor update = -options.learning_rate * (next.first / correction1) /
                                 ((next.second / correction2).sqrt() + options.epsilon);
    return {next, update};
}

}  // namespace

LossFunction differentiate(std::function<torch::Tensor(const torch::Tensor&)> loss) {
    return [loss = std::move(loss)](const torch::Tensor& parameters) {
        const torch::Tensor point = parameters.detach().clone().requires_grad_(true);
        const torch::Tensor value = loss(point);
        const torch::Tensor gradient = torch::autograd::grad({value}, {point})[0];
        return LossAndGradient{value.item<double>(), gradient.detach()};
    };
}

double proposal_sigma(const AdamMcmcOptions& options, int64_t n_weights) {
    return options.sigma > 0.0 ? options.sigma : 0.05 / std::sqrt(static_cast<double>(n_weights));
}

double log_proposal_density(const torch::Tensor& difference, const torch::Tensor& update,
                            double sigma, double sigma_direction) {
    constexpr double kLogTwoPi = 1.8378770664093454836;
    const auto n = static_cast<double>(difference.numel());
    const double s2 = sigma * sigma;
    const double d2 = sigma_direction * sigma_direction;
    const double update_squared = squared_norm(update);
    const double along = (difference * update).sum().item<double>();

    // Sigma = s2 I + d2 u u^T: det = s2^n (1 + d2 |u|^2 / s2), and by Sherman-Morrison
    // x^T Sigma^-1 x = (|x|^2 - d2 (u.x)^2 / (s2 + d2 |u|^2)) / s2
    const double log_det = n * std::log(s2) + std::log1p(d2 * update_squared / s2);
    const double quadratic =
        (squared_norm(difference) - d2 * along * along / (s2 + d2 * update_squared)) / s2;
    return -0.5 * (n * kLogTwoPi + log_det + quadratic);
}

StepOutcome adam_mcmc_step(ChainState& state, const LossFunction& loss,
                           const AdamMcmcOptions& options, at::Generator& generator) {
    const torch::Tensor theta = as_double(state.parameters);
    const int64_t n = theta.numel();
    const double sigma = proposal_sigma(options, n);
    StepOutcome outcome;

    // the loss and the Adam step at the current state
    if (!options.fixed_batch || !state.has_loss) {
        const LossAndGradient current = loss(state.parameters);
        state.loss = current.loss;
        state.gradient = current.gradient;
        state.has_loss = true;
    }
    const auto [forward_moments, update] = adam_update(state.moments, state.gradient, options);
    const torch::Tensor mean = theta + update;

    // the proposal: isotropic noise plus one scalar times u
    const torch::Tensor isotropic = torch::randn({n}, generator, torch::kFloat64);
    const double along = torch::randn({1}, generator, torch::kFloat64).item<double>();
    const double uniform = torch::rand({1}, generator, torch::kFloat64).item<double>();
    const torch::Tensor proposal =
        (mean + sigma * isotropic.to(mean.device()) + options.sigma_direction * along * update)
            .to(state.parameters.dtype());
    const torch::Tensor proposal_double = as_double(proposal);

    // the loss there and the reverse proposal: an Adam step from the proposal with the
    // moments the forward step started from
    const LossAndGradient proposed = loss(proposal);
    const auto reverse = adam_update(state.moments, proposed.gradient, options);
    const torch::Tensor reverse_mean = proposal_double + reverse.second;

    const double log_forward =
        log_proposal_density(proposal_double - mean, update, sigma, options.sigma_direction);
    const double log_backward =
        log_proposal_density(theta - reverse_mean, reverse.second, sigma, options.sigma_direction);
    outcome.log_acceptance =
        -options.temperature * (proposed.loss - state.loss) + log_backward - log_forward;
    outcome.proposed_loss = proposed.loss;
    outcome.step_length = std::sqrt(squared_norm(proposal_double - theta));
    outcome.update_length = std::sqrt(squared_norm(update));

    // a proposal with a non-finite loss is never taken, not even without the correction
    const bool finite = std::isfinite(proposed.loss) && std::isfinite(outcome.log_acceptance);
    outcome.accepted =
        finite && (!options.metropolis || std::log(uniform) < outcome.log_acceptance);
    if (outcome.accepted) {
        state.parameters = proposal;
        state.moments = forward_moments;
        state.loss = proposed.loss;
        state.gradient = proposed.gradient;
        state.rejections_in_a_row = 0;
        ++state.accepted;
    } else {
        ++state.rejections_in_a_row;
        if (options.restart_after > 0 && state.rejections_in_a_row >= options.restart_after) {
            state.moments = AdamMoments{};
            state.rejections_in_a_row = 0;
            ++state.restarts;
            outcome.restarted = true;
        }
    }
    ++state.step;
    outcome.loss = state.loss;
    return outcome;
}

}  // namespace cs::trainer
