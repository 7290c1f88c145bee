// The AdamMCMC step over a flat parameter tensor, and chains over the flow's weights
// with the exact log-likelihood as the loss, checkpoints and export. One of the
// library's LibTorch translation units.
#include "cs/trainer/adam_mcmc.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>

#include "cs/format_io.hpp"
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

// ---- chains over the flow's weights ----

namespace {

// Streams of seeded_generator() for a chain; the training loop's are 1 to 4.
enum ChainStream : uint64_t {
    kChainShuffle = 11,
    kChainProposal = 12,
};

torch::Device chain_device(const std::string& name) {
    const bool cuda = torch::cuda::is_available();
    if (name == "cpu" || (name == "auto" && !cuda)) {
        return torch::kCPU;
    }
    if ((name == "cuda" || name == "auto") && cuda) {
        return torch::kCUDA;
    }
    if (name == "cuda") {
        throw TrainingError("device: cuda was asked for, but this LibTorch sees no CUDA device");
    }
    throw TrainingError("device: unknown \"" + name + "\" (expected auto, cpu or cuda)");
}

AdamMcmcOptions step_options(const ChainOptions& options) {
    AdamMcmcOptions step;
    step.temperature = options.temperature;
    step.sigma = options.sigma;
    step.sigma_direction = options.sigma_direction;
    step.learning_rate = options.learning_rate;
    step.beta1 = options.beta1;
    step.beta2 = options.beta2;
    // within a minibatch the loss is one function, as with a fixed batch; a reused
    // gradient is kept across minibatches as well
    step.fixed_batch = options.fixed_batch || options.batch_steps > 1 || options.reuse_gradient;
    step.restart_after = options.restart_after;
    return step;
}

std::string text(double value) {
    std::ostringstream stream;
    stream.precision(17);
    stream << value;
    return stream.str();
}

// Identifies the chain a checkpoint belongs to.
std::string chain_fingerprint(const ChainOptions& options, const PreparedData& data) {
    std::string run;
    for (const auto& [name, value] : describe(options)) {
        if (name != "device" && name != "threads" && name != "chunk_rows") {
            run += name + "=" + value + " ";
        }
    }
    return run + "rows=" + std::to_string(data.train.rows());
}

void write_number(torch::serialize::OutputArchive& archive, const std::string& key,
                  uint64_t value) {
    archive.write(key, torch::tensor(static_cast<int64_t>(value), torch::kInt64));
}

uint64_t read_number(torch::serialize::InputArchive& archive, const std::string& key) {
    torch::Tensor value;
    archive.read(key, value);
    return static_cast<uint64_t>(value.item<int64_t>());
}

torch::Tensor text_tensor(const std::string& value) {
    return torch::tensor(std::vector<int64_t>(value.begin(), value.end()), torch::kInt64);
}

std::string tensor_text(const torch::Tensor& value) {
    const torch::Tensor codes = value.to(torch::kCPU).contiguous();
    std::string result;
    for (int64_t i = 0; i < codes.numel(); ++i) {
        result.push_back(static_cast<char>(codes.data_ptr<int64_t>()[i]));
    }
    return result;
}

torch::Tensor members_tensor(const std::vector<format::Member>& members, int64_t n) {
    torch::Tensor all = torch::zeros({static_cast<int64_t>(members.size()), n}, torch::kFloat32);
    for (size_t m = 0; m < members.size(); ++m) {
        all[static_cast<int64_t>(m)].copy_(
            torch::from_blob(const_cast<float*>(members[m].weights.data()), {n}, torch::kFloat32));
    }
    return all;
}

// Written under a temporary name and renamed: a chain killed while writing leaves the
// previous checkpoint intact.
void save_chain(const std::string& path, const std::string& run, const ChainState& state,
                const std::vector<format::Member>& members) {
    torch::serialize::OutputArchive archive;
    archive.write("run", text_tensor(run));
    archive.write("parameters", state.parameters.to(torch::kCPU));
    const bool moments = state.moments.first.defined();
    write_number(archive, "has_moments", moments ? 1 : 0);
    if (moments) {
        archive.write("first", state.moments.first.to(torch::kCPU));
        archive.write("second", state.moments.second.to(torch::kCPU));
    }
    write_number(archive, "moment_count", static_cast<uint64_t>(state.moments.count));
    write_number(archive, "step", state.step);
    write_number(archive, "accepted", state.accepted);
    write_number(archive, "restarts", state.restarts);
    write_number(archive, "rejections_in_a_row", state.rejections_in_a_row);
    // The loss and gradient known at the state: a reused gradient may come from an
    // earlier minibatch, so a resumed chain cannot evaluate it again.
    write_number(archive, "has_loss", state.has_loss ? 1 : 0);
    if (state.has_loss) {
        archive.write("loss", torch::tensor({state.loss}, torch::kFloat64));
        archive.write("gradient", state.gradient.to(torch::kCPU));
    }
    const int64_t n = state.parameters.numel();
    archive.write("members", members_tensor(members, n));
    std::vector<int64_t> steps;
    for (const format::Member& member : members) {
        steps.push_back(static_cast<int64_t>(member.step));
    }
    archive.write("member_steps", torch::tensor(steps, torch::kInt64));

    const std::string temporary = path + ".partial";
    archive.save_to(temporary);
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) {
        throw TrainingError("checkpoint '" + path +
                            "': cannot rename into place: " + error.message());
    }
}

void load_chain(const std::string& path, const std::string& run, const torch::Device& device,
                ChainState& state, std::vector<format::Member>& members) {
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path, torch::kCPU);
    } catch (const c10::Error&) {
        throw TrainingError("checkpoint '" + path + "': not a readable chain checkpoint");
    }
    torch::Tensor stored;
    archive.read("run", stored);
    if (tensor_text(stored) != run) {
        throw TrainingError("checkpoint '" + path + "': belongs to another chain (" +
                            tensor_text(stored) + "; this chain is " + run + ")");
    }
    torch::Tensor parameters;
    archive.read("parameters", parameters);
    state.parameters = parameters.to(device);
    state.moments = AdamMoments{};
    if (read_number(archive, "has_moments") == 1) {
        archive.read("first", state.moments.first);
        archive.read("second", state.moments.second);
        state.moments.first = state.moments.first.to(device);
        state.moments.second = state.moments.second.to(device);
    }
    state.moments.count = static_cast<int64_t>(read_number(archive, "moment_count"));
    state.step = read_number(archive, "step");
    state.accepted = read_number(archive, "accepted");
    state.restarts = read_number(archive, "restarts");
    state.rejections_in_a_row = static_cast<uint32_t>(read_number(archive, "rejections_in_a_row"));
    state.has_loss = read_number(archive, "has_loss") == 1;
    if (state.has_loss) {
        torch::Tensor loss;
        archive.read("loss", loss);
        state.loss = loss.item<double>();
        archive.read("gradient", state.gradient);
        state.gradient = state.gradient.to(device);
    }

    torch::Tensor kept;
    torch::Tensor steps;
    archive.read("members", kept);
    archive.read("member_steps", steps);
    members.clear();
    for (int64_t m = 0; m < kept.size(0); ++m) {
        const torch::Tensor row = kept[m].contiguous();
        members.push_back(
            {"chain-step", static_cast<uint64_t>(steps[m].item<int64_t>()),
             std::vector<float>(row.data_ptr<float>(), row.data_ptr<float>() + row.numel())});
    }
}

}  // namespace

ChainBatch chain_batch(const ChainOptions& options, uint64_t step, int64_t n_rows) {
    if (options.batch_size == 0 || options.batch_steps == 0 || n_rows <= 0) {
        throw TrainingError("chain: batch size, batch steps and rows must be positive");
    }
    if (options.fixed_batch) {
        return {0, 0, false};
    }
    const auto batch = std::min(n_rows, static_cast<int64_t>(options.batch_size));
    const auto batches_per_epoch = static_cast<uint64_t>((n_rows + batch - 1) / batch);
    const uint64_t minibatch = step / options.batch_steps;
    return {minibatch / batches_per_epoch,
            static_cast<int64_t>(minibatch % batches_per_epoch) * batch,
            step % options.batch_steps == 0};
}

namespace {

ChainResult run_chain_inside(const ChainOptions& options, const format::SurrogateFile& start,
                             const PreparedData& data,
                             const std::function<void(const ChainStepReport&)>& on_step) {
    if (options.thin == 0 || options.members == 0 || options.batch_size == 0 ||
        options.likelihood_steps == 0 || options.chunk_rows == 0 || options.batch_steps == 0) {
        throw TrainingError(
            "chain: thin, members, batch size, batch steps, likelihood steps and chunk rows "
            "must be positive");
    }
    if (options.resume && options.checkpoint.empty()) {
        throw TrainingError("chain: resume needs a checkpoint path");
    }
    if (data.train.rows() == 0 || data.train.n_conditions != start.conditions.size()) {
        throw TrainingError("chain: the data has " + std::to_string(data.train.n_conditions) +
                            " conditions and " + std::to_string(data.train.rows()) +
                            " rows; the start file has " + std::to_string(start.conditions.size()) +
                            " conditions");
    }
    if (options.threads > 0) {
        set_threads(options.threads);
    }
    const torch::Device device = chain_device(options.device);

    // the model (its weights are views of the flat parameters) and the data
    const auto n_conditions = static_cast<int64_t>(start.conditions.size());
    at::Generator unused = seeded_generator(0, 0, 0);
    FlowModel model(start.architecture, n_conditions, false, 0.0, unused);
    model.to(device);
    const auto n_rows = static_cast<int64_t>(data.train.rows());
    const auto float32 = torch::TensorOptions().dtype(torch::kFloat32);
    const torch::Tensor all_x =
        torch::from_blob(const_cast<float*>(data.train.targets.data()), {n_rows}, float32)
            .to(device, false, true);
    const torch::Tensor all_c = torch::from_blob(const_cast<float*>(data.train.conditions.data()),
                                                 {n_rows, n_conditions}, float32)
                                    .to(device, false, true);

    // the mean negative log-likelihood of some rows and its gradient, in chunks
    uint64_t gradients = 0;
    auto loss_of = [&](const torch::Tensor& rows) -> LossFunction {
        return [&, rows](const torch::Tensor& parameters) {
            ++gradients;
            const torch::Tensor point = parameters.detach().clone().requires_grad_(true);
            const Weights weights = unflatten(start.architecture, n_conditions, point);
            const int64_t n = rows.numel();
            const auto chunk = static_cast<int64_t>(options.chunk_rows);
            double total = 0.0;
            for (int64_t first = 0; first < n; first += chunk) {
                const torch::Tensor part = rows.slice(0, first, std::min(n, first + chunk));
                const torch::Tensor negative =
                    -log_likelihood(model, weights, all_x.index_select(0, part),
                                    all_c.index_select(0, part), options.likelihood_steps)
                         .sum() /
                    static_cast<double>(n);
                negative.backward();
                total += negative.item<double>();
            }
            return LossAndGradient{total, point.grad().detach()};
        };
    };

    // where to start
    ChainResult result;
    result.device = device.str();
    ChainState state;
    state.parameters = torch::tensor(start.members.at(0).weights, float32).to(device);
    const int64_t n_weights = state.parameters.numel();
    const std::string run = chain_fingerprint(options, data);
    if (options.resume && std::filesystem::exists(options.checkpoint)) {
        load_chain(options.checkpoint, run, device, state, result.members);
        result.resumed_from_step = state.step;
    }

    const AdamMcmcOptions step_settings = step_options(options);
    result.sigma = proposal_sigma(step_settings, n_weights);
    const uint64_t total = chain_steps(options);
    const auto batch = std::min(n_rows, static_cast<int64_t>(options.batch_size));
    uint64_t shuffled_epoch = UINT64_MAX;
    torch::Tensor order;
    while (state.step < total) {
        // the step's rows; a new minibatch invalidates the loss known at the state,
        // unless the gradient is reused across minibatches
        const ChainBatch rows_of_step = chain_batch(options, state.step, n_rows);
        if (rows_of_step.fresh && !options.reuse_gradient) {
            state.has_loss = false;
        }
        if (rows_of_step.epoch != shuffled_epoch) {
            at::Generator shuffle =
                seeded_generator(options.seed, kChainShuffle, rows_of_step.epoch);
            order = torch::randperm(n_rows, shuffle).to(device);
            shuffled_epoch = rows_of_step.epoch;
        }
        const int64_t first = rows_of_step.first;
        const torch::Tensor rows = order.slice(0, first, std::min(n_rows, first + batch));

        at::Generator noise = seeded_generator(options.seed, kChainProposal, state.step);
        const StepOutcome outcome = adam_mcmc_step(state, loss_of(rows), step_settings, noise);

        ChainStepReport report;
        report.step = state.step;
        report.total_steps = total;
        report.accepted = outcome.accepted;
        report.acceptance_rate =
            static_cast<double>(state.accepted) / static_cast<double>(state.step);
        report.loss = outcome.loss;
        report.proposed_loss = outcome.proposed_loss;
        report.step_length = outcome.step_length;
        report.update_length = outcome.update_length;
        report.restarted = outcome.restarted;
        report.gradients = gradients;
        if (state.step > options.burn_in && (state.step - options.burn_in) % options.thin == 0) {
            const torch::Tensor weights = state.parameters.to(torch::kCPU).contiguous();
            result.members.push_back(
                {"chain-step", state.step,
                 std::vector<float>(weights.data_ptr<float>(),
                                    weights.data_ptr<float>() + weights.numel())});
            report.kept = true;
        }
        const bool last = state.step == total;
        if (!options.checkpoint.empty() && (last || (options.checkpoint_every > 0 &&
                                                     state.step % options.checkpoint_every == 0))) {
            save_chain(options.checkpoint, run, state, result.members);
        }
        if (on_step) {
            on_step(report);
        }
    }
    result.steps = state.step;
    result.accepted = state.accepted;
    result.restarts = state.restarts;
    return result;
}

}  // namespace

uint64_t chain_steps(const ChainOptions& options) {
    return options.burn_in + options.thin * options.members;
}

DataOptions chain_data_options(const format::SurrogateFile& start, const std::string& path) {
    DataOptions options;
    options.path = path;
    options.conditions.clear();
    options.normalization = "given";
    for (const format::Condition& condition : start.conditions) {
        options.conditions.push_back(condition.name);
        options.given_normalization.names.push_back(condition.name);
        options.given_normalization.offset.push_back(condition.offset);
        options.given_normalization.scale.push_back(condition.scale);
    }
    return options;
}

ChainResult run_chain(const ChainOptions& options, const format::SurrogateFile& start,
                      const PreparedData& data,
                      const std::function<void(const ChainStepReport&)>& on_step) {
    try {
        return run_chain_inside(options, start, data, on_step);
    } catch (const c10::Error& error) {
        throw TrainingError(std::string("LibTorch: ") + error.what_without_backtrace());
    }
}

std::vector<std::pair<std::string, std::string>> describe(const ChainOptions& options) {
    return {
        {"temperature", text(options.temperature)},
        {"sigma", options.sigma > 0.0 ? text(options.sigma) : "0.05 / sqrt(n_weights)"},
        {"sigma_direction", text(options.sigma_direction)},
        {"learning_rate", text(options.learning_rate)},
        {"beta1", text(options.beta1)},
        {"beta2", text(options.beta2)},
        {"restart_after", std::to_string(options.restart_after)},
        {"fixed_batch", options.fixed_batch ? "true" : "false"},
        {"batch_steps", std::to_string(options.batch_steps)},
        {"reuse_gradient", options.reuse_gradient ? "true" : "false"},
        {"batch_size", std::to_string(options.batch_size)},
        {"likelihood_steps", std::to_string(options.likelihood_steps)},
        {"chunk_rows", std::to_string(options.chunk_rows)},
        {"burn_in", std::to_string(options.burn_in)},
        {"thin", std::to_string(options.thin)},
        {"members", std::to_string(options.members)},
        {"seed", std::to_string(options.seed)},
        {"device", options.device},
        {"threads", std::to_string(options.threads)},
    };
}

format::SurrogateFile chain_surrogate(const format::SurrogateFile& start, const ChainResult& result,
                                      const ChainOptions& options) {
    format::SurrogateFile file = start;
    file.members = {start.members.at(0)};
    file.members.insert(file.members.end(), result.members.begin(), result.members.end());

    format::Provenance& provenance = file.provenance;
    provenance.hyperparameters.push_back({"start_method", start.provenance.method});
    provenance.method = "adam-mcmc";
    for (const auto& [name, value] : describe(options)) {
        provenance.hyperparameters.push_back({"chain_" + name, value});
    }
    provenance.hyperparameters.push_back({"chain_sigma_used", text(result.sigma)});
    provenance.metrics.push_back({"chain_steps", static_cast<double>(result.steps)});
    provenance.metrics.push_back(
        {"chain_acceptance_rate",
         result.steps ? static_cast<double>(result.accepted) / static_cast<double>(result.steps)
                      : 0.0});
    provenance.metrics.push_back({"chain_restarts", static_cast<double>(result.restarts)});
    add_test_vectors(file);
    format::validate(file);
    return file;
}

format::SurrogateFile merge_chains(const std::vector<format::SurrogateFile>& files) {
    if (files.empty()) {
        throw TrainingError("merge: no chain files");
    }
    format::SurrogateFile merged = files[0];
    for (size_t f = 1; f < files.size(); ++f) {
        const format::SurrogateFile& other = files[f];
        bool same = other.conditions.size() == merged.conditions.size() &&
                    other.members.at(0).weights == merged.members.at(0).weights;
        for (size_t c = 0; same && c < other.conditions.size(); ++c) {
            same = other.conditions[c].name == merged.conditions[c].name &&
                   other.conditions[c].offset == merged.conditions[c].offset &&
                   other.conditions[c].scale == merged.conditions[c].scale;
        }
        if (!same) {
            throw TrainingError("merge: chain file " + std::to_string(f + 1) +
                                " was not started from the same point estimate and conditions "
                                "as the first");
        }
        merged.members.insert(merged.members.end(), other.members.begin() + 1, other.members.end());
        for (const format::Entry& entry : other.provenance.hyperparameters) {
            if (entry.key == "chain_seed") {
                merged.provenance.hyperparameters.push_back({"merged_chain_seed", entry.value});
            }
        }
    }
    merged.provenance.hyperparameters.push_back({"merged_chains", std::to_string(files.size())});
    add_test_vectors(merged);
    format::validate(merged);
    return merged;
}

}  // namespace cs::trainer
