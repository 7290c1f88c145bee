// The training loop (AdamW, learning-rate schedules, validation, skipped steps)
// and its checkpoints. All randomness comes from generators seeded by counters
// (seed, epoch, step), so a checkpoint needs only the model, the optimizer and
// the counters to continue exactly.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "cs/trainer/options.hpp"
#include "cs/trainer/torch_model.hpp"
#include "cs/trainer/trainer.hpp"

namespace cs::trainer {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Streams of seeded_generator(): each use of randomness has its own.
enum Stream : uint64_t {
    kInitialization = 1,
    kShuffle = 2,
    kStep = 3,
    kValidation = 4,
};

torch::Device resolve_device(const std::string& name) {
    if (name == "cpu") {
        return torch::kCPU;
    }
    const bool cuda = torch::cuda::is_available();
    if (name == "cuda") {
        if (!cuda) {
            throw TrainingError(
                "device: cuda was asked for, but this LibTorch sees no CUDA device");
        }
        return torch::kCUDA;
    }
    if (name == "auto") {
        return cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    }
    throw TrainingError("device: unknown \"" + name + "\" (expected auto, cpu or cuda)");
}

void check_options(const TrainingOptions& options, const PreparedData& data) {
    if (options.epochs == 0 || options.batch_size == 0 || options.validation_batch == 0) {
        throw TrainingError("options: epochs, batch_size and validation_batch must be positive");
    }
    if (!(options.learning_rate > 0.0) || !(options.weight_decay >= 0.0)) {
        throw TrainingError("options: learning_rate must be positive, weight_decay non-negative");
    }
    if (data.train.rows() == 0) {
        throw TrainingError("data: no training rows");
    }
    if (data.train.conditions.size() != data.train.rows() * data.train.n_conditions) {
        throw TrainingError("data: conditions and targets of the training rows disagree in size");
    }
    if (options.resume && options.checkpoint.empty()) {
        throw TrainingError("options: resume needs a checkpoint path");
    }
}

double learning_rate(const TrainingOptions& options, uint64_t step, uint64_t steps_per_epoch,
                     uint64_t total_steps) {
    switch (options.schedule) {
        case Schedule::constant:
            return options.learning_rate;
        case Schedule::exponential:
            return options.learning_rate *
                   std::pow(options.decay, static_cast<double>(step) / steps_per_epoch);
        case Schedule::cosine: {
            const double progress =
                total_steps > 1 ? static_cast<double>(step) / static_cast<double>(total_steps - 1)
                                : 1.0;
            const double low = options.minimum_fraction;
            return options.learning_rate *
                   (low + (1.0 - low) * 0.5 * (1.0 + std::cos(kPi * progress)));
        }
    }
    return options.learning_rate;
}

void set_learning_rate(torch::optim::AdamW& optimizer, double rate) {
    for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamWOptions&>(group.options()).lr(rate);
    }
}

torch::Tensor to_tensor(const std::vector<float>& values, std::vector<int64_t> shape,
                        const torch::Device& device) {
    return torch::from_blob(const_cast<float*>(values.data()), shape,
                            torch::TensorOptions().dtype(torch::kFloat32))
        .to(device, false, true);
}

// Where the loop stands; everything a checkpoint holds besides model and optimizer.
struct Progress {
    uint32_t epoch = 0;           // completed epochs
    uint64_t batch_in_epoch = 0;  // batches of the current epoch done
    uint64_t step = 0;            // batches done over the run
    uint64_t skipped = 0;
    double loss_sum = 0.0;  // of the current epoch's finite steps
    double cfm_sum = 0.0;
    uint64_t loss_count = 0;
};

// Identifies the run a checkpoint belongs to; resuming another run is an error.
std::string fingerprint(const TrainingOptions& options, const PreparedData& data) {
    return method_name(options.method) + " seed " + std::to_string(options.seed) + " batch " +
           std::to_string(options.batch_size) + " epochs " + std::to_string(options.epochs) +
           " rows " + std::to_string(data.train.rows()) + " conditions " +
           std::to_string(data.train.n_conditions);
}

void write_integer(torch::serialize::OutputArchive& archive, const std::string& key,
                   uint64_t value) {
    archive.write(key, torch::tensor(static_cast<int64_t>(value), torch::kInt64));
}

uint64_t read_integer(torch::serialize::InputArchive& archive, const std::string& key) {
    torch::Tensor value;
    archive.read(key, value);
    return static_cast<uint64_t>(value.item<int64_t>());
}

void write_real(torch::serialize::OutputArchive& archive, const std::string& key, double value) {
    archive.write(key, torch::tensor(value, torch::kFloat64));
}

double read_real(torch::serialize::InputArchive& archive, const std::string& key) {
    torch::Tensor value;
    archive.read(key, value);
    return value.item<double>();
}

// Written under a temporary name in the same folder, then renamed: a run killed
// while writing leaves the previous checkpoint intact.
void save_checkpoint(const std::string& path, const std::string& run, FlowModel& model,
                     torch::optim::AdamW& optimizer, const Progress& progress) {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model_archive;
    torch::serialize::OutputArchive optimizer_archive;
    model.save(model_archive);
    optimizer.save(optimizer_archive);
    archive.write("model", model_archive);
    archive.write("optimizer", optimizer_archive);

    const std::vector<char> run_bytes(run.begin(), run.end());
    archive.write("run", torch::tensor(std::vector<int64_t>(run_bytes.begin(), run_bytes.end())));
    write_integer(archive, "epoch", progress.epoch);
    write_integer(archive, "batch_in_epoch", progress.batch_in_epoch);
    write_integer(archive, "step", progress.step);
    write_integer(archive, "skipped", progress.skipped);
    write_integer(archive, "loss_count", progress.loss_count);
    write_real(archive, "loss_sum", progress.loss_sum);
    write_real(archive, "cfm_sum", progress.cfm_sum);

    const std::string temporary = path + ".partial";
    archive.save_to(temporary);
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) {
        throw TrainingError("checkpoint '" + path +
                            "': cannot rename into place: " + error.message());
    }
}

Progress load_checkpoint(const std::string& path, const std::string& run, FlowModel& model,
                         torch::optim::AdamW& optimizer, const torch::Device& device) {
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path, device);
    } catch (const c10::Error&) {
        throw TrainingError("checkpoint '" + path + "': not a readable checkpoint");
    }
    torch::Tensor run_tensor;
    archive.read("run", run_tensor);
    std::string stored;
    const torch::Tensor codes = run_tensor.to(torch::kCPU).contiguous();
    for (int64_t i = 0; i < codes.numel(); ++i) {
        stored.push_back(static_cast<char>(codes.data_ptr<int64_t>()[i]));
    }
    if (stored != run) {
        throw TrainingError("checkpoint '" + path + "': belongs to another run (" + stored +
                            "; this run is " + run + ")");
    }

    torch::serialize::InputArchive model_archive;
    torch::serialize::InputArchive optimizer_archive;
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    model.load(model_archive);
    optimizer.load(optimizer_archive);

    Progress progress;
    progress.epoch = static_cast<uint32_t>(read_integer(archive, "epoch"));
    progress.batch_in_epoch = read_integer(archive, "batch_in_epoch");
    progress.step = read_integer(archive, "step");
    progress.skipped = read_integer(archive, "skipped");
    progress.loss_count = read_integer(archive, "loss_count");
    progress.loss_sum = read_real(archive, "loss_sum");
    progress.cfm_sum = read_real(archive, "cfm_sum");
    return progress;
}

// The CFM loss of the posterior mean on the validation rows, with the same t and z
// every epoch so that epochs compare.
double validation_loss(const FlowModel& model, const torch::Tensor& x, const torch::Tensor& c,
                       const TrainingOptions& options) {
    const int64_t n = x.size(0);
    if (n == 0) {
        return std::nan("");
    }
    torch::NoGradGuard no_grad;
    const Weights weights = model.mean();
    double total = 0.0;
    const auto batch = static_cast<int64_t>(options.validation_batch);
    for (int64_t first = 0; first < n; first += batch) {
        const int64_t last = std::min(n, first + batch);
        at::Generator generator =
            seeded_generator(options.seed, kValidation, static_cast<uint64_t>(first));
        const torch::Tensor loss =
            cfm_loss(model, weights, x.slice(0, first, last), c.slice(0, first, last), generator);
        total += loss.item<double>() * static_cast<double>(last - first);
    }
    return total / static_cast<double>(n);
}

TrainingResult run_training(const TrainingOptions& options, const PreparedData& data,
                            const Callbacks& callbacks) {
    check_options(options, data);
    if (options.threads > 0) {
        set_threads(options.threads);
    }
    const torch::Device device = resolve_device(options.device);
    const bool variational = options.method == Method::variational;

    // model and optimizer
    at::Generator initialization = seeded_generator(options.seed, kInitialization, 0);
    const auto n_conditions = static_cast<int64_t>(data.train.n_conditions);
    FlowModel model(reference_architecture(), n_conditions, variational, options.initial_rho,
                    initialization);
    model.to(device);
    torch::optim::AdamW optimizer(
        model.parameters(),
        torch::optim::AdamWOptions(options.learning_rate).weight_decay(options.weight_decay));

    // data on the device
    const auto n_train = static_cast<int64_t>(data.train.rows());
    const torch::Tensor train_x = to_tensor(data.train.targets, {n_train}, device);
    const torch::Tensor train_c = to_tensor(data.train.conditions, {n_train, n_conditions}, device);
    const auto n_validation = static_cast<int64_t>(data.validation.rows());
    const torch::Tensor validation_x = to_tensor(data.validation.targets, {n_validation}, device);
    const torch::Tensor validation_c =
        to_tensor(data.validation.conditions, {n_validation, n_conditions}, device);

    // where to start
    TrainingResult result;
    result.device = device.str();
    const std::string run = fingerprint(options, data);
    Progress progress;
    if (options.resume && std::filesystem::exists(options.checkpoint)) {
        progress = load_checkpoint(options.checkpoint, run, model, optimizer, device);
        result.resumed_from_epoch = progress.epoch;
        result.resumed_from_step = progress.step;
    }

    const auto batch = static_cast<int64_t>(options.batch_size);
    const uint64_t steps_per_epoch = static_cast<uint64_t>((n_train + batch - 1) / batch);
    const uint64_t total_steps = steps_per_epoch * options.epochs;
    // ELBO = CFM + k KL / N_train; the KL keeps its gradient.
    const double kl_factor = options.kl_weight / static_cast<double>(n_train);

    while (progress.epoch < options.epochs) {
        const auto started = std::chrono::steady_clock::now();
        at::Generator shuffle = seeded_generator(options.seed, kShuffle, progress.epoch);
        const torch::Tensor order = torch::randperm(n_train, shuffle).to(device);

        for (; progress.batch_in_epoch < steps_per_epoch; ++progress.batch_in_epoch) {
            const double rate = learning_rate(options, progress.step, steps_per_epoch, total_steps);
            set_learning_rate(optimizer, rate);

            // one weight draw for the whole batch
            const auto first = static_cast<int64_t>(progress.batch_in_epoch) * batch;
            const torch::Tensor rows = order.slice(0, first, std::min(n_train, first + batch));
            at::Generator noise = seeded_generator(options.seed, kStep, progress.step);
            const Weights weights = model.draw(noise);
            const torch::Tensor cfm = cfm_loss(model, weights, train_x.index_select(0, rows),
                                               train_c.index_select(0, rows), noise);
            const torch::Tensor objective =
                variational ? cfm + kl_factor * model.kl_divergence() : cfm;

            const double value = objective.item<double>();
            optimizer.zero_grad();
            if (std::isfinite(value)) {
                objective.backward();
                optimizer.step();
                progress.loss_sum += value;
                progress.cfm_sum += cfm.item<double>();
                ++progress.loss_count;
            } else {
                ++progress.skipped;
            }
            ++progress.step;

            if (callbacks.on_step) {
                callbacks.on_step({progress.epoch, progress.step, total_steps, value});
            }
            const bool last_of_epoch = progress.batch_in_epoch + 1 == steps_per_epoch;
            if (!options.checkpoint.empty() && options.checkpoint_every > 0 && !last_of_epoch &&
                progress.step % options.checkpoint_every == 0) {
                Progress saved = progress;
                ++saved.batch_in_epoch;
                save_checkpoint(options.checkpoint, run, model, optimizer, saved);
            }
        }

        // end of the epoch: report, then checkpoint the start of the next
        EpochReport report;
        report.epoch = progress.epoch + 1;
        report.step = progress.step;
        const double count = static_cast<double>(progress.loss_count);
        report.train_loss = progress.loss_count ? progress.loss_sum / count : std::nan("");
        report.train_cfm = progress.loss_count ? progress.cfm_sum / count : std::nan("");
        report.validation_loss = validation_loss(model, validation_x, validation_c, options);
        if (variational) {
            torch::NoGradGuard no_grad;
            report.kl = model.kl_divergence().item<double>();
        }
        report.learning_rate =
            learning_rate(options, progress.step - 1, steps_per_epoch, total_steps);
        report.skipped_steps = progress.skipped;
        report.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

        ++progress.epoch;
        progress.batch_in_epoch = 0;
        progress.loss_sum = 0.0;
        progress.cfm_sum = 0.0;
        progress.loss_count = 0;
        if (!options.checkpoint.empty()) {
            save_checkpoint(options.checkpoint, run, model, optimizer, progress);
        }
        result.epochs.push_back(report);
        if (callbacks.on_epoch) {
            callbacks.on_epoch(report);
        }
    }

    result.posterior.method = options.method;
    result.posterior.mean = model.flat_mean();
    result.posterior.rho = model.flat_rho();
    result.skipped_steps = progress.skipped;
    return result;
}

}  // namespace

TrainingResult train(const TrainingOptions& options, const PreparedData& data,
                     const Callbacks& callbacks) {
    // LibTorch's own errors carry a stack trace; callers get one line.
    try {
        return run_training(options, data, callbacks);
    } catch (const c10::Error& error) {
        throw TrainingError(std::string("LibTorch: ") + error.what_without_backtrace());
    }
}

}  // namespace cs::trainer
