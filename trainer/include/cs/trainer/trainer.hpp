// Training a classifier surrogate and turning it into a surrogate file. This
// header has no LibTorch in it: the network lives in cs/trainer/torch_model.hpp,
// which only the trainer's own sources include.
//
//   PreparedData ──train()──> Posterior (flat mean, flat rho) ──make_surrogate()──> file
//        └─ checkpoint file, written atomically, read back by train() on resume
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cs/format.hpp"
#include "cs/trainer/dataset.hpp"
#include "cs/trainer/options.hpp"

namespace cs::trainer {

// The learned weights in the file's layout. For cfm, rho is empty; for
// variational, mean and rho hold mu and rho of every weight (sigma = softplus(rho)).
struct Posterior {
    Method method = Method::cfm;
    std::vector<float> mean;
    std::vector<float> rho;
};

struct StepReport {
    uint32_t epoch = 0;
    uint64_t step = 0;
    uint64_t total_steps = 0;
    double loss = 0.0;
};

struct EpochReport {
    uint32_t epoch = 0;  // epochs completed, counting from 1
    uint64_t step = 0;
    double train_loss = 0.0;       // mean objective over the epoch's finite steps
    double train_cfm = 0.0;        // its CFM part
    double validation_loss = 0.0;  // CFM with the posterior mean, fixed noise
    double kl = 0.0;               // KL(q || prior) at the end of the epoch (variational)
    double learning_rate = 0.0;
    uint64_t skipped_steps = 0;  // steps whose loss was not finite, over the whole run
    double seconds = 0.0;        // wall time of the epoch
};

struct Callbacks {
    std::function<void(const StepReport&)> on_step;
    std::function<void(const EpochReport&)> on_epoch;
};

struct TrainingResult {
    Posterior posterior;
    std::vector<EpochReport> epochs;  // the epochs this call ran (not those resumed over)
    uint32_t resumed_from_epoch = 0;
    uint64_t resumed_from_step = 0;
    uint64_t skipped_steps = 0;
    std::string device;
};

format::Architecture reference_architecture();

// Trains, or continues from options.checkpoint when options.resume is set and it
// exists. Throws TrainingError for bad options or a checkpoint of another run.
TrainingResult train(const TrainingOptions& options, const PreparedData& data,
                     const Callbacks& callbacks = {});

// The velocity field and dv/dx computed by LibTorch (float64) for rows of
// normalized conditions (row-major, one row per state).
struct VelocityValues {
    std::vector<double> velocity;
    std::vector<double> derivative;
};
VelocityValues torch_velocity(const format::Architecture& architecture, std::size_t n_conditions,
                              const std::vector<float>& weights, const std::vector<double>& times,
                              const std::vector<double>& states,
                              const std::vector<double>& conditions);

struct ExportOptions {
    // The posterior's architecture: the reference's unless imported (reference_import.hpp).
    format::Architecture architecture;
    uint32_t draws = 10;  // variational: weight draws besides the posterior mean
    uint64_t seed = 1;
    std::string tagger = "ParT (jet_p_top_ParT_full)";
    std::string created;  // ISO 8601 date; empty for today
    std::string description;
    std::vector<format::Entry> hyperparameters;
    std::vector<format::Metric> metrics;
};

// A complete, valid surrogate file: members, normalization, support summary of
// the training conditions, provenance and test vectors computed with LibTorch.
format::SurrogateFile make_surrogate(const Posterior& posterior, const PreparedData& data,
                                     const ExportOptions& options);

// Replaces the file's test vectors by LibTorch's velocity values for its first and
// last member at training-like conditions (the support quantiles of each feature).
void add_test_vectors(format::SurrogateFile& file);

// Member weights of a variational posterior: mu + softplus(rho) * eps with eps from
// the project's counter-based generator (seed, draw).
std::vector<float> draw_weights(const Posterior& posterior, uint64_t seed, uint64_t draw);

}  // namespace cs::trainer
