// Seconds per AdamMCMC step on the flow's weights next to one plain evaluation of the
// exact log-likelihood, on one CPU thread, at two batch sizes. Results go to stdout.
#include <ctime>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cs/format.hpp"
#include "cs/trainer/adam_mcmc.hpp"
#include "cs/trainer/options.hpp"
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

// The fastest of `repeats` runs of `run` (which returns its own Timing, so that it
// can prepare untimed), against the noise of a shared machine.
template <typename Run>
Timing best_of(int repeats, Run&& run) {
    Timing best{1e300, 1e300};
    for (int r = 0; r < repeats; ++r) {
        const Timing timing = run();
        best.wall = std::min(best.wall, timing.wall);
        best.processor = std::min(best.processor, timing.processor);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    cs::trainer::set_threads(1);  // LibTorch's and OpenBLAS's threads
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
    std::printf(
        "# processor seconds per step; reuse: a new minibatch every step with --reuse-gradient;\n"
        "# K2, K4: minibatch steps with 2 or 4 steps per batch\n");
    std::printf("%8s %13s %9s %12s %9s %9s %9s %8s %8s %8s %8s %8s\n", "batch", "likelihood_s",
                "fixed_s", "minibatch_s", "reuse_s", "K2_s", "K4_s", "fixed/L", "mini/L", "reuse/L",
                "K2/L", "K4/L");
    for (const int64_t batch : batches) {
        // two batches: the second is the next minibatch of a chain that reuses the
        // gradient at its state
        const torch::Tensor x = 0.1 * torch::randn({batch}, generator);
        const torch::Tensor c = torch::randn({batch, kConditions}, generator);
        const torch::Tensor next_x = 0.1 * torch::randn({batch}, generator);
        const torch::Tensor next_c = torch::randn({batch, kConditions}, generator);

        // one plain evaluation of the log-likelihood, no gradient, in the chain's chunks
        // (one solve of 131 072 rows at once runs out of the caches and took longer than
        // a chunked gradient). It and the steps are the best of three runs at the small
        // batch and one run at the large one: the best of three evaluations against a
        // single step would make the ratios look worse than they are.
        const int repeats = batch <= 8192 ? 3 : 1;
        const Timing likelihood = best_of(repeats, [&] {
            return time_once([&] {
                torch::NoGradGuard no_grad;
                const cs::trainer::Weights weights =
                    cs::trainer::unflatten(architecture, kConditions, start);
                double total = 0.0;
                for (int64_t first = 0; first < batch; first += kChunkRows) {
                    const int64_t last = std::min(batch, first + kChunkRows);
                    total += cs::trainer::log_likelihood(model, weights, x.slice(0, first, last),
                                                         c.slice(0, first, last), kLikelihoodSteps)
                                 .sum()
                                 .item<double>();
                }
                return total;
            });
        });

        // the chain's loss: mean negative log-likelihood and its gradient, chunked
        std::vector<double> gradient_seconds;  // wall seconds of every loss call, in order
        const auto loss_on = [&](const torch::Tensor& rows_x, const torch::Tensor& rows_c) {
            return [&, rows_x, rows_c](const torch::Tensor& parameters) {
                const auto called = std::chrono::steady_clock::now();
                const torch::Tensor point = parameters.detach().clone().requires_grad_(true);
                const cs::trainer::Weights weights =
                    cs::trainer::unflatten(architecture, kConditions, point);
                double total = 0.0;
                for (int64_t first = 0; first < batch; first += kChunkRows) {
                    const int64_t last = std::min(batch, first + kChunkRows);
                    const torch::Tensor negative =
                        -cs::trainer::log_likelihood(model, weights, rows_x.slice(0, first, last),
                                                     rows_c.slice(0, first, last), kLikelihoodSteps)
                             .sum() /
                        static_cast<double>(batch);
                    negative.backward();
                    total += negative.item<double>();
                }
                gradient_seconds.push_back(
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - called)
                        .count());
                return cs::trainer::LossAndGradient{total, point.grad().detach()};
            };
        };
        const cs::trainer::LossFunction loss = loss_on(x, c);
        const cs::trainer::LossFunction next_loss = loss_on(next_x, next_c);

        // a step of each variant; the fixed batch's first step also evaluates the start,
        // so its second step is the one timed. With K steps per minibatch the chain
        // evaluates the start on each new batch, then reuses it: K steps from a state
        // whose loss is not known, divided by K.
        // Each variant's timed steps also list their loss gradients' wall seconds, so
        // that a step's time can be told apart from the gradients inside it.
        // With `alternate` the timed steps take the two batches in turn, the state's loss
        // and gradient kept from the step before (--reuse-gradient).
        auto steps = [&](const char* name, bool fixed_batch, int count, bool alternate = false) {
            return best_of(repeats, [&] {
                cs::trainer::AdamMcmcOptions options;
                options.fixed_batch = fixed_batch;
                cs::trainer::ChainState state;
                state.parameters = start.clone();
                at::Generator noise = cs::trainer::seeded_generator(1, 12, 0);
                if (fixed_batch && (count == 1 || alternate)) {
                    cs::trainer::adam_mcmc_step(state, loss, options, noise);
                }
                gradient_seconds.clear();
                Timing timing = time_once([&] {
                    for (int k = 0; k < count; ++k) {
                        const bool next = alternate && k % 2 == 0;
                        cs::trainer::adam_mcmc_step(state, next ? next_loss : loss, options, noise);
                    }
                });
                std::printf("#   %s: %zu gradients in %d steps (%.3f s wall), each", name,
                            gradient_seconds.size(), count, timing.wall);
                for (const double seconds : gradient_seconds) {
                    std::printf(" %.3f", seconds);
                }
                std::printf(" s\n");
                std::fflush(stdout);
                timing.processor /= count;
                timing.wall /= count;
                return timing;
            });
        };
        const Timing fixed = steps("fixed batch", true, 1);
        const Timing minibatch = steps("minibatch", false, 1);
        const Timing reuse = steps("reuse", true, 2, true);
        const Timing two = steps("K = 2", true, 2);
        const Timing four = steps("K = 4", true, 4);
        const double l = likelihood.processor;
        std::printf("%8lld %13.3f %9.3f %12.3f %9.3f %9.3f %9.3f %8.2f %8.2f %8.2f %8.2f %8.2f\n",
                    static_cast<long long>(batch), l, fixed.processor, minibatch.processor,
                    reuse.processor, two.processor, four.processor, fixed.processor / l,
                    minibatch.processor / l, reuse.processor / l, two.processor / l,
                    four.processor / l);
        std::printf(
            "# wall seconds: likelihood %.3f, fixed-batch step %.3f, minibatch step %.3f, "
            "reusing the gradient %.3f, 2 and 4 steps per minibatch %.3f %.3f\n",
            likelihood.wall, fixed.wall, minibatch.wall, reuse.wall, two.wall, four.wall);
        std::fflush(stdout);
    }
    return 0;
}
