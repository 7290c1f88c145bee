// AdamMCMC chains over the flow's weights, started at a point-estimate surrogate
// file, without LibTorch in the interface: running a chain with checkpoints, turning
// its kept members into a surrogate file, and merging several chains' files.
//
//   point estimate file ──run_chain()──> kept members ──chain_surrogate()──> file
//   files of chains with different seeds ──merge_chains()──> one ensemble
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cs/format.hpp"
#include "cs/trainer/dataset.hpp"

namespace cs::trainer {

struct ChainOptions {
    // the step (AdamMcmcOptions); defaults are the reference's (DESIGN.md)
    double temperature = 50.0;
    double sigma = 0.0;  // 0: 0.05 / sqrt(n_weights)
    double sigma_direction = 1.0;
    double learning_rate = 5e-6;
    double beta1 = 0.9;  // Adam's; 0 makes the chain exactly reversible (docs/adam-mcmc.md)
    double beta2 = 0.999;
    uint32_t restart_after = 100;
    bool fixed_batch = false;  // one batch for every step instead of a new minibatch each
    // steps on each minibatch before the next: within one the loss and gradient at
    // the current state are known from the step before, so a step costs one gradient
    // evaluation instead of two, and K steps cost K + 1
    uint32_t batch_steps = 1;
    // keep the loss and gradient at the current state from the step that proposed it,
    // also across minibatches, as the reference's MCMC_by_bp does with
    // fixed_batches=False: one gradient a step, but the acceptance ratio then weighs
    // the current state's loss on an earlier minibatch against the proposal's on this one
    bool reuse_gradient = false;

    uint32_t batch_size = 4096;
    uint32_t likelihood_steps = 8;  // fixed RK4 steps of the log-likelihood's solve
    uint32_t chunk_rows = 8192;     // rows per backward pass, bounding memory

    // members: after burn_in steps, one every `thin` steps, `members` in all
    uint64_t burn_in = 0;
    uint64_t thin = 100;
    uint32_t members = 10;

    uint64_t seed = 1;  // chains that are to be merged need different seeds
    std::string device = "auto";
    int threads = 1;

    std::string checkpoint;
    uint64_t checkpoint_every = 50;
    bool resume = false;
};

// The rows of chain step `step` (counting from 0): the one fixed batch, or rows
// [first, first + batch_size) of the shuffled order of `epoch`, minibatch
// floor(step / batch_steps) of the chain; `fresh` when the step starts a minibatch.
struct ChainBatch {
    uint64_t epoch = 0;
    int64_t first = 0;
    bool fresh = false;
};
ChainBatch chain_batch(const ChainOptions& options, uint64_t step, int64_t n_rows);

struct ChainStepReport {
    uint64_t step = 0;  // steps done, counting from 1
    uint64_t total_steps = 0;
    bool accepted = false;
    double acceptance_rate = 0.0;  // over the whole chain so far
    double loss = 0.0;             // mean negative log-likelihood at the chain's state
    double proposed_loss = 0.0;
    double step_length = 0.0;
    double update_length = 0.0;
    bool restarted = false;
    bool kept = false;       // this state became a member
    uint64_t gradients = 0;  // loss gradients evaluated by the chain so far (this run)
};

struct ChainResult {
    std::vector<format::Member> members;  // origin "chain-step", step = chain step
    uint64_t steps = 0;
    uint64_t accepted = 0;
    uint64_t restarts = 0;
    uint64_t resumed_from_step = 0;
    double sigma = 0.0;  // the isotropic width used
    std::string device;
};

uint64_t chain_steps(const ChainOptions& options);

// Data for a chain: the conditions and normalization of `start` (not refitted).
DataOptions chain_data_options(const format::SurrogateFile& start, const std::string& path);

// Runs the chain from the first member of `start`; with options.resume and an existing
// checkpoint, continues from it to the same result as an uninterrupted run.
ChainResult run_chain(const ChainOptions& options, const format::SurrogateFile& start,
                      const PreparedData& data,
                      const std::function<void(const ChainStepReport&)>& on_step = {});

// Every option as (name, value) text, recorded in the provenance.
std::vector<std::pair<std::string, std::string>> describe(const ChainOptions& options);

// The start's point estimate followed by the kept members, with the start's
// conditions and support, method "adam-mcmc", the settings in the provenance and
// fresh test vectors.
format::SurrogateFile chain_surrogate(const format::SurrogateFile& start, const ChainResult& result,
                                      const ChainOptions& options);

// One ensemble from chains started at the same point estimate: its point estimate
// once, then every chain's members in order. Throws TrainingError when the files
// disagree in architecture, conditions or point estimate.
format::SurrogateFile merge_chains(const std::vector<format::SurrogateFile>& files);

}  // namespace cs::trainer
