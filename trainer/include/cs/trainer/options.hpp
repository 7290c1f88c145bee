// What a training run is told: the method, the optimizer and its schedule, the
// device, checkpointing. Plain values without LibTorch, shared by the library,
// the command and the tests.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cs::trainer {

// A configuration or a run that cannot go on: bad options, a checkpoint that does
// not belong to this run, a device that is not there.
class TrainingError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// cfm: the point estimate; variational: mean-field Gaussian weights (Bayes by
// backprop) trained on the ELBO.
enum class Method { cfm, variational };

// The learning rate over the run, as a function of the optimizer step:
// constant; exponential, lr * decay^(step / steps per epoch); cosine, from lr down
// to lr * minimum_fraction at the last step.
enum class Schedule { constant, exponential, cosine };

struct TrainingOptions {
    Method method = Method::cfm;
    uint32_t epochs = 10;
    uint32_t batch_size = 4096;
    double learning_rate = 1e-3;
    double weight_decay = 0.0;  // AdamW's decoupled weight decay
    Schedule schedule = Schedule::constant;
    double decay = 0.9;              // exponential: factor per epoch
    double minimum_fraction = 0.01;  // cosine: final learning rate over the initial one
    uint64_t seed = 1;

    // variational only: ELBO = CFM + kl_weight * KL / N_train; sigma = softplus(rho)
    // starts at softplus(initial_rho) for every weight.
    double kl_weight = 1.0;
    double initial_rho = -6.0;

    std::string device = "auto";  // auto, cpu or cuda
    int threads = 1;              // set_threads; 0 leaves LibTorch's default

    // Checkpoints every checkpoint_every optimizer steps and at the end of each
    // epoch, when a path is given; resume continues from that file if it exists.
    std::string checkpoint;
    uint64_t checkpoint_every = 0;
    bool resume = false;

    uint32_t validation_batch = 65536;
};

Method parse_method(const std::string& name);
Schedule parse_schedule(const std::string& name);
std::string method_name(Method method);
std::string schedule_name(Schedule schedule);

// Sets the threads LibTorch's operations use and, where LibTorch calls OpenBLAS,
// OpenBLAS's own: Debian's LibTorch does not pass its count on, and OpenBLAS would
// otherwise start one thread per core (a "one-thread" chain then ran on two).
void set_threads(int threads);

// Every option as (name, value) text, in a fixed order: recorded in the provenance.
std::vector<std::pair<std::string, std::string>> describe(const TrainingOptions& options);

}  // namespace cs::trainer
