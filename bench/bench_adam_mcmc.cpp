// Seconds per AdamMCMC step on the flow's weights next to one plain evaluation of the
// exact log-likelihood, on one CPU thread, at two batch sizes. Results go to stdout.
#include <ctime>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cs/format.hpp"
#include "cs/trainer/adam_mcmc.hpp"
#include "cs/trainer/torch_model.hpp"

namespace {

constexpr int64_t kConditions = 6;
constexpr uint32_t kLikelihoodSteps = 8;  // the chain's default
constexpr int64_t kChunkRows = 8192;      // the chain's default backward chunk

struct Timing {
    double wall = 0.0;
    double processor = 0.0;
};

template <typename Work>
Timing time_once(Work&& work) {
    const auto wall_start = std::chrono::steady_clock::now();
    const std::clock_t processor_start = std::clock();
    work();
    Timing timing;
    timing.processor = static_cast<double>(std::clock() - processor_start) / CLOCKS_PER_SEC;
    timing.wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return timing;
}

}  // namespace

int main(int argc, char** argv) {
    at::set_num_threads(1);
    std::vector<int64_t> batches = {4096, 131072};
    if (argc > 1) {
        batches = {std::atoll(argv[1])};
    }
    const cs::format::Architecture architecture;
    at::Generator generator = cs::trainer::seeded_generator(1, 0, 0);
    const cs::trainer::FlowModel model(architecture, kConditions, false, 0.0, generator);
    const std::vector<float> flat = model.flat_mean();
    const torch::Tensor start = torch::tensor(flat, torch::kFloat32);

    std::printf("# one thread, RK4 with %u steps, backward in chunks of %lld rows\n",
                kLikelihoodSteps, static_cast<long long>(kChunkRows));
    std::printf("%8s %14s %16s %16s %8s %8s\n", "batch", "likelihood_s", "fixed_step_s",
                "minibatch_s", "fixed/L", "mini/L");
    for (const int64_t batch : batches) {
        const torch::Tensor x = 0.1 * torch::randn({batch}, generator);
        const torch::Tensor c = torch::randn({batch, kConditions}, generator);

        // one plain evaluation of the log-likelihood, no gradient
        const Timing likelihood = time_once([&] {
            torch::NoGradGuard no_grad;
            const cs::trainer::Weights weights =
                cs::trainer::unflatten(architecture, kConditions, start);
            cs::trainer::log_likelihood(model, weights, x, c, kLikelihoodSteps)
                .sum()
                .item<double>();
        });

        // the chain's loss: mean negative log-likelihood and its gradient, chunked
        const cs::trainer::LossFunction loss = [&](const torch::Tensor& parameters) {
            const torch::Tensor point = parameters.detach().clone().requires_grad_(true);
            const cs::trainer::Weights weights =
                cs::trainer::unflatten(architecture, kConditions, point);
            double total = 0.0;
            for (int64_t first = 0; first < batch; first += kChunkRows) {
                const int64_t last = std::min(batch, first + kChunkRows);
                const torch::Tensor negative =
                    -cs::trainer::log_likelihood(model, weights, x.slice(0, first, last),
                                                 c.slice(0, first, last), kLikelihoodSteps)
                         .sum() /
                    static_cast<double>(batch);
                negative.backward();
                total += negative.item<double>();
            }
            return cs::trainer::LossAndGradient{total, point.grad().detach()};
        };

        // a step of each variant; the fixed batch's first step also evaluates the start,
        // so its second step is the one timed
        auto step = [&](bool fixed_batch) {
            cs::trainer::AdamMcmcOptions options;
            options.fixed_batch = fixed_batch;
            cs::trainer::ChainState state;
            state.parameters = start.clone();
            at::Generator noise = cs::trainer::seeded_generator(1, 12, 0);
            if (fixed_batch) {
                cs::trainer::adam_mcmc_step(state, loss, options, noise);
            }
            return time_once([&] { cs::trainer::adam_mcmc_step(state, loss, options, noise); });
        };
        const Timing fixed = step(true);
        const Timing minibatch = step(false);
        std::printf("%8lld %14.3f %16.3f %16.3f %8.2f %8.2f\n", static_cast<long long>(batch),
                    likelihood.processor, fixed.processor, minibatch.processor,
                    fixed.processor / likelihood.processor,
                    minibatch.processor / likelihood.processor);
        std::printf("# wall seconds: likelihood %.3f, fixed-batch step %.3f, minibatch step %.3f\n",
                    likelihood.wall, fixed.wall, minibatch.wall);
        std::fflush(stdout);
    }
    return 0;
}
