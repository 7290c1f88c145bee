// surrogate-train: trains a classifier surrogate on a table of jets (pandas HDF5 or
// CSV) and writes it as a surrogate file, runs AdamMCMC chains from a point estimate
// and merges them. Data and results go to stdout, progress and errors to stderr.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cs/format_io.hpp"
#include "cs/trainer/chain.hpp"
#include "cs/trainer/reference_import.hpp"
#include "cs/trainer/trainer.hpp"

namespace {

using Settings = std::map<std::string, std::string>;

const char* const kUsage = R"(usage: surrogate-train <command> [options]

Trains the conditional flow of arXiv:2402.15558 with conditional flow matching,
as a point estimate (cfm) or as a mean-field variational posterior (variational),
and writes a surrogate file that the runtime reads.

commands:
  fit       train on a table of jets and write a surrogate file
  mcmc      run an AdamMCMC chain (arXiv:2312.14027) from a point-estimate file and
            write the point estimate and the kept members as one surrogate file
  merge     merge chains started from the same point estimate:
            surrogate-train merge --output FILE [--json FILE] CHAIN1 CHAIN2 ...
  import    turn a state dict of the reference Python code (torch.save of a plain
            dict of tensors; plain or Flipout layers) into a surrogate file
  config    print every option of fit with its default, in the configuration-file form
  help      print this text

options of fit (each may also be a line "name = value" of a --config file; the
command line wins; flags take "true" or "false" there):
  --config FILE             read options from FILE; its effective content is
                            recorded in the surrogate's provenance
  --data FILE               pandas HDF5 (key "df", fixed or table) or .csv [required]
  --conditions A,B,...      condition columns, in order
                            [label_top,jet_pt,jet_eta,jet_phi,jet_energy,jet_nparticles]
  --score NAME              tagger score column [jet_p_top_ParT_full]
  --drop-bad-rows           skip rows with non-finite values or scores outside [0, 1]
                            (the count is reported) instead of failing
  --max-rows N              read only the first N rows
  --validation-fraction F   fraction of rows held out for validation [0.1]
  --split-seed N            seed of the train/validation split [7]
  --normalization fit|jetclass
                            fit: mean and std of the training rows; jetclass: the
                            reference's constants for processed JetClass [fit]
  --method cfm|variational  [cfm]
  --epochs N                [10]
  --batch-size N            [4096]
  --learning-rate X         AdamW learning rate [0.001]
  --weight-decay X          AdamW decoupled weight decay [0]
  --schedule constant|exponential|cosine   [constant]
  --decay X                 exponential: factor per epoch [0.9]
  --minimum-fraction X      cosine: final over initial learning rate [0.01]
  --seed N                  initialization, shuffling and noise [1]
  --kl-weight X             variational: ELBO = CFM + X * KL / N_train [1]
  --initial-rho X           variational: sigma = softplus(rho) starts there [-6]
  --draws N                 variational: members drawn besides the mean [10]
  --device auto|cpu|cuda    [auto]
  --threads N               LibTorch intra-op threads; 0 keeps its default [1]
  --checkpoint FILE         write a checkpoint at every epoch's end (atomically)
  --checkpoint-every N      and every N optimizer steps [0: epochs only]
  --resume                  continue from --checkpoint if it exists; the result
                            equals that of an uninterrupted run
  --output FILE             surrogate file, portable binary [required]
  --json FILE               also write its JSON mirror
  --metrics FILE            metrics log, one JSON object per epoch
  --tagger TEXT             what the surrogate mimics, for the provenance
  --description TEXT        free text for the provenance

options of mcmc (the step's defaults are the reference's):
  --start FILE              point-estimate surrogate file; its first member starts
                            the chain, its conditions and normalization are used [required]
  --data FILE               the training table, as for fit [required]
  --score, --drop-bad-rows, --max-rows, --validation-fraction, --split-seed
                            as for fit: the defaults select fit's training rows
  --temperature X           lambda: the target is exp(-lambda * mean NLL) [50]
  --sigma X                 isotropic proposal width; 0: 0.05 / sqrt(n_weights) [0]
  --sigma-direction X       stretch along the Adam update, in units of its length [1]
  --learning-rate X         Adam's [5e-6]
  --beta1 X, --beta2 X      Adam's [0.9, 0.999]; with beta1 > 0 the chain is only
                            approximately reversible (docs/adam-mcmc.md)
  --restart-after N         reset the Adam moments after N rejections in a row [100]
  --fixed-batch             one batch for every step (its loss is reused: one
                            likelihood gradient per step instead of two)
  --batch-size N            rows per step [4096]
  --batch-steps K           steps on each minibatch before the next; its loss at the
                            current state is reused, so K steps cost K + 1 likelihood
                            gradients instead of 2 K [1]
  --reuse-gradient          keep the loss and gradient at the current state from the
                            step that proposed it, also across minibatches (the
                            reference's fixed_batches=False): one gradient per step,
                            an approximate chain (docs/adam-mcmc.md)
  --likelihood-steps N      fixed RK4 steps of the log-likelihood [8]
  --chunk-rows N            rows per backward pass, bounding memory [8192]
  --burn-in N               steps before the first member [0]
  --thin N                  steps between members [100]
  --members N               members kept [10]; the chain runs burn-in + thin * members steps
  --seed N                  proposals and minibatches; chains to merge need different seeds [1]
  --device, --threads       as for fit
  --checkpoint FILE         checkpoint (atomically) every --checkpoint-every steps [50]
                            and at the end
  --resume                  continue from --checkpoint if it exists, exactly
  --output FILE, --json FILE
  --metrics FILE            one JSON object per step: acceptance, loss, step length

options of import:
  --state-dict FILE         the reference CNF's state dict [required]
  --data FILE               jets like those it was trained on, as for fit: they give
                            the training-support summary (and, with --normalization
                            fit, the normalization) [required]
  --conditions, --score, --drop-bad-rows, --max-rows
                            as for fit; the conditions in the order the reference
                            concatenated them
  --normalization jetclass|fit
                            jetclass: the reference's fixed constants [jetclass]
  --draws N                 Flipout: members drawn besides the mean [10]
  --seed N                  of the draws [1]
  --tagger TEXT, --description TEXT, --output FILE, --json FILE   as for fit

Limitations: checkpoints resume only the run that wrote them (same method, seed,
batch size, epochs and data size); a CUDA run is not bit-identical to a CPU run.
)";

using OptionTable = std::vector<std::pair<std::string, std::string>>;

// Names with defaults, in the order `config` prints them; flags are "false".
const OptionTable& defaults() {
    static const OptionTable values = {
        {"data", ""},
        {"conditions", "label_top,jet_pt,jet_eta,jet_phi,jet_energy,jet_nparticles"},
        {"score", "jet_p_top_ParT_full"},
        {"drop-bad-rows", "false"},
        {"max-rows", "0"},
        {"validation-fraction", "0.1"},
        {"split-seed", "7"},
        {"normalization", "fit"},
        {"method", "cfm"},
        {"epochs", "10"},
        {"batch-size", "4096"},
        {"learning-rate", "0.001"},
        {"weight-decay", "0"},
        {"schedule", "constant"},
        {"decay", "0.9"},
        {"minimum-fraction", "0.01"},
        {"seed", "1"},
        {"kl-weight", "1"},
        {"initial-rho", "-6"},
        {"draws", "10"},
        {"device", "auto"},
        {"threads", "1"},
        {"checkpoint", ""},
        {"checkpoint-every", "0"},
        {"resume", "false"},
        {"output", ""},
        {"json", ""},
        {"metrics", ""},
        {"tagger", "ParT (jet_p_top_ParT_full)"},
        {"description", ""},
    };
    return values;
}

const OptionTable& mcmc_defaults() {
    static const OptionTable values = {
        {"start", ""},
        {"data", ""},
        {"score", "jet_p_top_ParT_full"},
        {"drop-bad-rows", "false"},
        {"max-rows", "0"},
        {"validation-fraction", "0.1"},
        {"split-seed", "7"},
        {"temperature", "50"},
        {"sigma", "0"},
        {"sigma-direction", "1"},
        {"learning-rate", "5e-6"},
        {"beta1", "0.9"},
        {"beta2", "0.999"},
        {"restart-after", "100"},
        {"fixed-batch", "false"},
        {"batch-steps", "1"},
        {"reuse-gradient", "false"},
        {"batch-size", "4096"},
        {"likelihood-steps", "8"},
        {"chunk-rows", "8192"},
        {"burn-in", "0"},
        {"thin", "100"},
        {"members", "10"},
        {"seed", "1"},
        {"device", "auto"},
        {"threads", "1"},
        {"checkpoint", ""},
        {"checkpoint-every", "50"},
        {"resume", "false"},
        {"output", ""},
        {"json", ""},
        {"metrics", ""},
    };
    return values;
}

const OptionTable& import_defaults() {
    static const OptionTable values = {
        {"state-dict", ""},
        {"data", ""},
        {"conditions", "label_top,jet_pt,jet_eta,jet_phi,jet_energy,jet_nparticles"},
        {"score", "jet_p_top_ParT_full"},
        {"drop-bad-rows", "false"},
        {"max-rows", "0"},
        {"normalization", "jetclass"},
        {"draws", "10"},
        {"seed", "1"},
        {"tagger", "ParT (jet_p_top_ParT_full)"},
        {"description", ""},
        {"output", ""},
        {"json", ""},
    };
    return values;
}

bool is_flag(const std::string& name) {
    return name == "drop-bad-rows" || name == "resume" || name == "fixed-batch" ||
           name == "reuse-gradient";
}

class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

bool known(const OptionTable& table, const std::string& name) {
    for (const auto& [key, value] : table) {
        if (key == name) {
            return true;
        }
    }
    return false;
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos) {
        return "";
    }
    return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// "name = value" lines; '#' starts a comment.
void read_config(const std::string& path, Settings& settings) {
    std::ifstream stream(path);
    if (!stream) {
        throw UsageError("--config: cannot open '" + path + "'");
    }
    std::string line;
    for (int number = 1; std::getline(stream, line); ++number) {
        line = trim(line.substr(0, line.find('#')));
        if (line.empty()) {
            continue;
        }
        const auto equals = line.find('=');
        const std::string name = trim(line.substr(0, equals));
        if (equals == std::string::npos || !known(defaults(), name)) {
            throw UsageError("'" + path + "' line " + std::to_string(number) +
                             ": expected \"name = value\" with a known option, got \"" + line +
                             "\"");
        }
        settings[name] = trim(line.substr(equals + 1));
    }
}

Settings parse_arguments(int argc, char** argv, const OptionTable& table) {
    Settings command_line;
    for (int i = 2; i < argc; ++i) {
        const std::string argument = argv[i];
        const bool option = argument.rfind("--", 0) == 0;
        const bool config = argument == "--config" && &table == &defaults();
        if (!option || (!known(table, argument.substr(2)) && !config)) {
            throw UsageError("unknown option \"" + argument + "\" (see surrogate-train help)");
        }
        const std::string name = argument.substr(2);
        if (is_flag(name)) {
            command_line[name] = "true";
            continue;
        }
        if (i + 1 >= argc) {
            throw UsageError("option " + argument + " needs a value");
        }
        command_line[name] = argv[++i];
    }

    Settings settings(table.begin(), table.end());
    if (command_line.count("config")) {
        read_config(command_line["config"], settings);
        command_line.erase("config");
    }
    for (const auto& [name, value] : command_line) {
        settings[name] = value;
    }
    return settings;
}

double real(const Settings& settings, const std::string& name) {
    const std::string& text = settings.at(name);
    try {
        size_t used = 0;
        const double value = std::stod(text, &used);
        if (used == text.size()) {
            return value;
        }
    } catch (const std::exception&) {
    }
    throw UsageError("--" + name + ": expected a number, got \"" + text + "\"");
}

uint64_t integer(const Settings& settings, const std::string& name) {
    const std::string& text = settings.at(name);
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
        throw UsageError("--" + name + ": expected a non-negative integer, got \"" + text + "\"");
    }
    return std::stoull(text);
}

bool flag(const Settings& settings, const std::string& name) {
    const std::string& text = settings.at(name);
    if (text != "true" && text != "false") {
        throw UsageError("--" + name + ": expected true or false, got \"" + text + "\"");
    }
    return text == "true";
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        if (!trim(item).empty()) {
            items.push_back(trim(item));
        }
    }
    return items;
}

std::string json_number(double value) {
    if (!std::isfinite(value)) {
        return "null";
    }
    std::ostringstream stream;
    stream.precision(9);
    stream << value;
    return stream.str();
}

std::string epoch_json(const cs::trainer::EpochReport& report) {
    return "{\"epoch\": " + std::to_string(report.epoch) +
           ", \"step\": " + std::to_string(report.step) +
           ", \"train_loss\": " + json_number(report.train_loss) +
           ", \"train_cfm\": " + json_number(report.train_cfm) +
           ", \"validation_loss\": " + json_number(report.validation_loss) +
           ", \"kl\": " + json_number(report.kl) +
           ", \"learning_rate\": " + json_number(report.learning_rate) +
           ", \"skipped_steps\": " + std::to_string(report.skipped_steps) +
           ", \"seconds\": " + json_number(report.seconds) + "}";
}

// A bar redrawn at most ten times a second on a terminal; nothing otherwise (the
// epoch lines are the plain periodic output).
class Progress {
  public:
    Progress() : terminal_(isatty(fileno(stderr)) != 0) {}

    void step(const cs::trainer::StepReport& report) {
        if (!terminal_) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::milliseconds(100) && report.step != report.total_steps) {
            return;
        }
        last_ = now;
        const int filled = static_cast<int>(30.0 * static_cast<double>(report.step) /
                                            static_cast<double>(report.total_steps));
        std::fprintf(stderr, "\r[%-30s] step %llu/%llu loss %.5f", std::string(filled, '#').c_str(),
                     static_cast<unsigned long long>(report.step),
                     static_cast<unsigned long long>(report.total_steps), report.loss);
        drawn_ = true;
    }

    void epoch(const cs::trainer::EpochReport& report, uint32_t epochs) {
        if (drawn_) {
            std::fprintf(stderr, "\r%80s\r", "");
            drawn_ = false;
        }
        std::fprintf(stderr,
                     "epoch %u/%u: train %.6f validation %.6f kl %.3g lr %.3g skipped %llu "
                     "(%.1f s)\n",
                     report.epoch, epochs, report.train_loss, report.validation_loss, report.kl,
                     report.learning_rate, static_cast<unsigned long long>(report.skipped_steps),
                     report.seconds);
    }

  private:
    bool terminal_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point last_{};
};

void write_surrogate(const cs::format::SurrogateFile& file, const Settings& settings) {
    cs::format::write_file(file, settings.at("output"), cs::format::Encoding::binary);
    if (!settings.at("json").empty()) {
        cs::format::write_file(file, settings.at("json"), cs::format::Encoding::json);
    }
}

// The data options fit and import share: file, columns, bad rows, row limit and the
// normalization.
cs::trainer::DataOptions table_options(const Settings& settings) {
    cs::trainer::DataOptions data_options;
    data_options.path = settings.at("data");
    data_options.conditions = split_list(settings.at("conditions"));
    data_options.score = settings.at("score");
    data_options.drop_bad_rows = flag(settings, "drop-bad-rows");
    const uint64_t max_rows = integer(settings, "max-rows");
    data_options.max_rows = max_rows == 0 ? cs::data::kAllRows : max_rows;
    data_options.normalization = settings.at("normalization");
    return data_options;
}

int fit(const Settings& settings) {
    for (const char* required : {"data", "output"}) {
        if (settings.at(required).empty()) {
            throw UsageError(std::string("fit needs --") + required);
        }
    }

    // options
    cs::trainer::DataOptions data_options = table_options(settings);
    data_options.validation_fraction = real(settings, "validation-fraction");
    data_options.split_seed = integer(settings, "split-seed");

    cs::trainer::TrainingOptions options;
    options.method = cs::trainer::parse_method(settings.at("method"));
    options.epochs = static_cast<uint32_t>(integer(settings, "epochs"));
    options.batch_size = static_cast<uint32_t>(integer(settings, "batch-size"));
    options.learning_rate = real(settings, "learning-rate");
    options.weight_decay = real(settings, "weight-decay");
    options.schedule = cs::trainer::parse_schedule(settings.at("schedule"));
    options.decay = real(settings, "decay");
    options.minimum_fraction = real(settings, "minimum-fraction");
    options.seed = integer(settings, "seed");
    options.kl_weight = real(settings, "kl-weight");
    options.initial_rho = real(settings, "initial-rho");
    options.device = settings.at("device");
    options.threads = static_cast<int>(integer(settings, "threads"));
    options.checkpoint = settings.at("checkpoint");
    options.checkpoint_every = integer(settings, "checkpoint-every");
    options.resume = flag(settings, "resume");
    const auto draws = static_cast<uint32_t>(integer(settings, "draws"));

    // data
    const cs::trainer::PreparedData data = cs::trainer::load_data(data_options);
    std::fprintf(stderr, "surrogate-train: %s\n", data.description.c_str());

    // training, logged per epoch
    std::ofstream metrics;
    if (!settings.at("metrics").empty()) {
        const auto mode = options.resume ? std::ios::app : std::ios::trunc;
        metrics.open(settings.at("metrics"), std::ios::out | mode);
        if (!metrics) {
            throw UsageError("--metrics: cannot write '" + settings.at("metrics") + "'");
        }
    }
    Progress progress;
    cs::trainer::Callbacks callbacks;
    callbacks.on_step = [&](const cs::trainer::StepReport& report) { progress.step(report); };
    callbacks.on_epoch = [&](const cs::trainer::EpochReport& report) {
        progress.epoch(report, options.epochs);
        if (metrics.is_open()) {
            metrics << epoch_json(report) << '\n' << std::flush;
        }
    };
    const cs::trainer::TrainingResult result = cs::trainer::train(options, data, callbacks);
    if (result.resumed_from_step > 0) {
        std::fprintf(stderr, "surrogate-train: resumed at epoch %u, step %llu\n",
                     result.resumed_from_epoch,
                     static_cast<unsigned long long>(result.resumed_from_step));
    }

    // export, with the effective configuration and the final losses
    cs::trainer::ExportOptions export_options;
    export_options.draws = draws;
    export_options.seed = options.seed;
    export_options.tagger = settings.at("tagger");
    export_options.description = settings.at("description");
    std::string config;
    for (const auto& [name, value] : settings) {
        config += name + " = " + value + "\n";
    }
    export_options.hyperparameters.push_back({"config", config});
    for (const auto& [name, value] : cs::trainer::describe(options)) {
        export_options.hyperparameters.push_back({name, value});
    }
    export_options.hyperparameters.push_back({"device_used", result.device});
    if (!result.epochs.empty()) {
        const cs::trainer::EpochReport& last = result.epochs.back();
        export_options.metrics = {{"final_train_loss", last.train_loss},
                                  {"final_train_cfm", last.train_cfm},
                                  {"final_validation_loss", last.validation_loss},
                                  {"final_kl", last.kl}};
    }
    export_options.metrics.push_back({"skipped_steps", static_cast<double>(result.skipped_steps)});
    export_options.metrics.push_back({"dropped_rows", static_cast<double>(data.dropped_rows)});
    // a loss that was never finite (no validation rows, every step skipped) is left out
    auto& metrics_out = export_options.metrics;
    metrics_out.erase(
        std::remove_if(metrics_out.begin(), metrics_out.end(),
                       [](const auto& metric) { return !std::isfinite(metric.value); }),
        metrics_out.end());
    const cs::format::SurrogateFile file =
        cs::trainer::make_surrogate(result.posterior, data, export_options);
    write_surrogate(file, settings);

    std::cout << "{\"output\": \"" << settings.at("output")
              << "\", \"members\": " << file.members.size() << ", \"epochs\": " << options.epochs
              << ", \"skipped_steps\": " << result.skipped_steps << "}\n";
    return 0;
}

std::string step_json(const cs::trainer::ChainStepReport& report) {
    return "{\"step\": " + std::to_string(report.step) +
           ", \"accepted\": " + (report.accepted ? "true" : "false") +
           ", \"acceptance_rate\": " + json_number(report.acceptance_rate) +
           ", \"loss\": " + json_number(report.loss) +
           ", \"proposed_loss\": " + json_number(report.proposed_loss) +
           ", \"step_length\": " + json_number(report.step_length) +
           ", \"update_length\": " + json_number(report.update_length) +
           ", \"restarted\": " + (report.restarted ? "true" : "false") +
           ", \"kept\": " + (report.kept ? "true" : "false") +
           ", \"gradients\": " + std::to_string(report.gradients) + "}";
}

int mcmc(const Settings& settings) {
    for (const char* required : {"start", "data", "output"}) {
        if (settings.at(required).empty()) {
            throw UsageError(std::string("mcmc needs --") + required);
        }
    }
    const cs::format::SurrogateFile start = cs::format::read_file(settings.at("start"));

    // the data, with the start file's conditions and normalization
    cs::trainer::DataOptions data_options =
        cs::trainer::chain_data_options(start, settings.at("data"));
    data_options.score = settings.at("score");
    data_options.drop_bad_rows = flag(settings, "drop-bad-rows");
    const uint64_t max_rows = integer(settings, "max-rows");
    data_options.max_rows = max_rows == 0 ? cs::data::kAllRows : max_rows;
    data_options.validation_fraction = real(settings, "validation-fraction");
    data_options.split_seed = integer(settings, "split-seed");
    const cs::trainer::PreparedData data = cs::trainer::load_data(data_options);
    std::fprintf(stderr, "surrogate-train: %s\n", data.description.c_str());

    cs::trainer::ChainOptions options;
    options.temperature = real(settings, "temperature");
    options.sigma = real(settings, "sigma");
    options.sigma_direction = real(settings, "sigma-direction");
    options.learning_rate = real(settings, "learning-rate");
    options.beta1 = real(settings, "beta1");
    options.beta2 = real(settings, "beta2");
    options.restart_after = static_cast<uint32_t>(integer(settings, "restart-after"));
    options.fixed_batch = flag(settings, "fixed-batch");
    options.batch_steps = static_cast<uint32_t>(integer(settings, "batch-steps"));
    options.reuse_gradient = flag(settings, "reuse-gradient");
    options.batch_size = static_cast<uint32_t>(integer(settings, "batch-size"));
    options.likelihood_steps = static_cast<uint32_t>(integer(settings, "likelihood-steps"));
    options.chunk_rows = static_cast<uint32_t>(integer(settings, "chunk-rows"));
    options.burn_in = integer(settings, "burn-in");
    options.thin = integer(settings, "thin");
    options.members = static_cast<uint32_t>(integer(settings, "members"));
    options.seed = integer(settings, "seed");
    options.device = settings.at("device");
    options.threads = static_cast<int>(integer(settings, "threads"));
    options.checkpoint = settings.at("checkpoint");
    options.checkpoint_every = integer(settings, "checkpoint-every");
    options.resume = flag(settings, "resume");

    // the chain, logged per step; plain progress lines every 10% of the steps
    std::ofstream metrics;
    if (!settings.at("metrics").empty()) {
        const auto mode = options.resume ? std::ios::app : std::ios::trunc;
        metrics.open(settings.at("metrics"), std::ios::out | mode);
        if (!metrics) {
            throw UsageError("--metrics: cannot write '" + settings.at("metrics") + "'");
        }
    }
    const uint64_t total = cs::trainer::chain_steps(options);
    const uint64_t every = std::max<uint64_t>(1, total / 10);
    auto on_step = [&](const cs::trainer::ChainStepReport& report) {
        if (metrics.is_open()) {
            metrics << step_json(report) << '\n' << std::flush;
        }
        if (report.step % every == 0 || report.step == total) {
            std::fprintf(stderr, "step %llu/%llu: loss %.6f acceptance %.3f step length %.3g\n",
                         static_cast<unsigned long long>(report.step),
                         static_cast<unsigned long long>(total), report.loss,
                         report.acceptance_rate, report.step_length);
        }
    };
    const cs::trainer::ChainResult result = cs::trainer::run_chain(options, start, data, on_step);
    if (result.resumed_from_step > 0) {
        std::fprintf(stderr, "surrogate-train: resumed at step %llu\n",
                     static_cast<unsigned long long>(result.resumed_from_step));
    }

    cs::format::SurrogateFile file = cs::trainer::chain_surrogate(start, result, options);
    file.provenance.hyperparameters.push_back({"chain_data", data.description});
    write_surrogate(file, settings);
    std::cout << "{\"output\": \"" << settings.at("output")
              << "\", \"members\": " << file.members.size() << ", \"steps\": " << result.steps
              << ", \"acceptance_rate\": "
              << json_number(result.steps ? static_cast<double>(result.accepted) /
                                                static_cast<double>(result.steps)
                                          : 0.0)
              << ", \"restarts\": " << result.restarts << "}\n";
    return 0;
}

int import_reference(const Settings& settings) {
    for (const char* required : {"state-dict", "data", "output"}) {
        if (settings.at(required).empty()) {
            throw UsageError(std::string("import needs --") + required);
        }
    }
    const std::string& path = settings.at("state-dict");
    const cs::trainer::ReferenceModel model = cs::trainer::read_reference_state_dict(path);

    cs::trainer::DataOptions data_options = table_options(settings);
    data_options.validation_fraction = 0.0;
    if (data_options.normalization != "jetclass" && data_options.normalization != "fit") {
        throw UsageError("--normalization: expected jetclass or fit, got \"" +
                         data_options.normalization + "\"");
    }
    if (data_options.conditions.size() != model.n_conditions) {
        throw UsageError(path + ": the network takes " + std::to_string(model.n_conditions) +
                         " conditions, --conditions names " +
                         std::to_string(data_options.conditions.size()));
    }
    const cs::trainer::PreparedData data = cs::trainer::load_data(data_options);
    std::fprintf(stderr, "surrogate-train: %s\n", data.description.c_str());
    std::fprintf(stderr, "surrogate-train: %s: %s, %u blocks of width %u, %zu weights (%s)\n",
                 path.c_str(), model.posterior.rho.empty() ? "plain layers" : "Flipout layers",
                 model.architecture.n_blocks, model.architecture.width, model.posterior.mean.size(),
                 model.dtype.c_str());

    cs::trainer::ExportOptions options;
    options.architecture = model.architecture;
    options.draws = static_cast<uint32_t>(integer(settings, "draws"));
    options.seed = integer(settings, "seed");
    options.tagger = settings.at("tagger");
    options.description = settings.at("description").empty()
                              ? "Imported from the reference implementation's state dict " + path
                              : settings.at("description");
    options.hyperparameters = {{"imported_from", path},
                               {"imported_dtype", model.dtype},
                               {"imported_prefix", model.prefix},
                               {"normalization", data_options.normalization}};
    if (!model.unused_keys.empty()) {
        // Flipout layers' noise and prior buffers: named by kind, not one by one
        std::set<std::string> kinds;
        for (const std::string& key : model.unused_keys) {
            kinds.insert(key.substr(key.rfind('.') + 1));
        }
        std::string text = std::to_string(model.unused_keys.size()) + " (";
        for (const std::string& kind : kinds) {
            text += (text.back() == '(' ? "" : ", ") + kind;
        }
        options.hyperparameters.push_back({"imported_unused_buffers", text + ")"});
    }
    const cs::format::SurrogateFile file =
        cs::trainer::make_surrogate(model.posterior, data, options);
    write_surrogate(file, settings);
    std::cout << "{\"output\": \"" << settings.at("output")
              << "\", \"members\": " << file.members.size() << ", \"method\": \""
              << file.provenance.method << "\"}\n";
    return 0;
}

int merge(int argc, char** argv) {
    Settings settings = {{"output", ""}, {"json", ""}};
    std::vector<cs::format::SurrogateFile> chains;
    for (int i = 2; i < argc; ++i) {
        const std::string argument = argv[i];
        if (argument == "--output" || argument == "--json") {
            if (i + 1 >= argc) {
                throw UsageError("option " + argument + " needs a value");
            }
            settings[argument.substr(2)] = argv[++i];
        } else if (argument.rfind("--", 0) == 0) {
            throw UsageError("unknown option \"" + argument + "\" for merge");
        } else {
            chains.push_back(cs::format::read_file(argument));
        }
    }
    if (settings.at("output").empty() || chains.empty()) {
        throw UsageError("merge needs --output and at least one chain file");
    }
    const cs::format::SurrogateFile merged = cs::trainer::merge_chains(chains);
    write_surrogate(merged, settings);
    std::cout << "{\"output\": \"" << settings.at("output") << "\", \"chains\": " << chains.size()
              << ", \"members\": " << merged.members.size() << "}\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "help";
    try {
        if (command == "help" || command == "--help" || command == "-h") {
            std::cout << kUsage;
            return argc > 1 ? 0 : 2;
        }
        if (command == "config") {
            for (const auto& [name, value] : defaults()) {
                std::cout << name << " = " << value << '\n';
            }
            return 0;
        }
        if (command == "fit") {
            return fit(parse_arguments(argc, argv, defaults()));
        }
        if (command == "mcmc") {
            return mcmc(parse_arguments(argc, argv, mcmc_defaults()));
        }
        if (command == "import") {
            return import_reference(parse_arguments(argc, argv, import_defaults()));
        }
        if (command == "merge") {
            return merge(argc, argv);
        }
        throw UsageError("unknown command \"" + command +
                         "\" (expected fit, mcmc, merge, import, config or help)");
    } catch (const UsageError& error) {
        std::cerr << "surrogate-train: " << error.what() << '\n';
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "surrogate-train: error: " << error.what() << '\n';
        return 1;
    }
}
