// surrogate-toy: writes toy datasets and prints the exact truth of the toy tagger's
// score for given conditions. Data goes to stdout, messages to stderr.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cs/data/table.hpp"
#include "cs/toy/columns.hpp"
#include "cs/toy/truth.hpp"

namespace {

const char* const kUsage = R"(usage: surrogate-toy COMMAND [OPTIONS]

The toy experiment of the classifier-surrogates project: top and QCD jets, a
stochastic detector and an exact likelihood-ratio tagger, in the processed JetClass
columns (docs/toy-experiment.md).

commands
  generate   write train, validation and test files
      --output-dir DIR      where to write toy_train.h5, toy_validation.h5, toy_test.h5
      --train N --validation N --test N
                            jets per split (defaults 200000, 50000, 50000; 0 skips)
      --seed S              random seed (default 1); the same seed gives the same bytes
      --format h5|csv       file format (default h5: pandas fixed layout, key "df")
      --range nominal|extended
                            nominal: pt 500-1000 GeV, |eta| < 2 (processed JetClass);
                            extended: pt 500-3000 GeV, |eta| < 4 (out-of-range studies)
      --pt-min X --pt-max X --eta-min X --eta-max X --nparticles-min N --nparticles-max N
                            override the range (detector-level values; eta-min and
                            eta-max bound |eta|: --eta-min 2.5 gives forward jets only)
      --compress L          HDF5 deflate level 0-9 (default 0)
  truth      the true score distribution for one jet's conditions, or for each row
             of a file
      --label 0|1 --pt X --eta X --phi X --energy X --nparticles N
                            the conditions (GeV); energy, pt and eta fix the jet mass
      --sdmass X --tau T1,T2,T3,T4
                            optional substructure conditions
      --input FILE [--first R] [--count N] [--substructure]
                            instead: every row of a toy (or JetClass-shaped) file;
                            prints one CSV line per row
      --draws N             draws per jet (default 100000; 2000 with --input)
      --quantiles A,B,...   default 0.05,0.16,0.5,0.84,0.95
      --cuts C,...          tag probabilities P(score > C); default 0.5,0.9
      --seed S              random seed of the draws (default 1)
      --samples             print every drawn score instead (one jet only)
  bench      jets per second (processor time) for generation and truth draws, one thread
      --jets N              default 1000000

Files are written under a temporary name and renamed when complete. Errors are
one line on stderr and a non-zero exit status.

Limitations: the toy is Gaussian in transformed variables by design (that is what
makes its tagger and truth exact); what differs from JetClass is listed in
docs/toy-experiment.md.
)";

class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// --name value pairs and --flag switches after the command.
class Options {
  public:
    Options(int argc, char** argv, int first, const std::vector<std::string>& flags) {
        for (int i = first; i < argc; ++i) {
            const std::string name = argv[i];
            if (name.rfind("--", 0) != 0) {
                throw UsageError("unexpected argument '" + name + "'");
            }
            const std::string key = name.substr(2);
            if (std::find(flags.begin(), flags.end(), key) != flags.end()) {
                values_[key] = "1";
                continue;
            }
            if (i + 1 >= argc) {
                throw UsageError("option " + name + " needs a value");
            }
            values_[key] = argv[++i];
        }
    }

    bool has(const std::string& key) const { return values_.count(key) > 0; }

    std::string text(const std::string& key, const std::string& fallback) const {
        used_.push_back(key);
        const auto found = values_.find(key);
        return found == values_.end() ? fallback : found->second;
    }

    double number(const std::string& key, double fallback) const {
        const std::string value = text(key, "");
        if (value.empty()) {
            return fallback;
        }
        std::size_t end = 0;
        double result = 0.0;
        try {
            result = std::stod(value, &end);
        } catch (const std::exception&) {
            end = 0;
        }
        if (end != value.size()) {
            throw UsageError("--" + key + " " + value + ": expected a number");
        }
        return result;
    }

    long long integer(const std::string& key, long long fallback) const {
        const double value = number(key, static_cast<double>(fallback));
        if (value != std::floor(value) || value < 0) {
            throw UsageError("--" + key + ": expected a non-negative integer");
        }
        return static_cast<long long>(value);
    }

    double required(const std::string& key) const {
        if (!has(key)) {
            throw UsageError("missing --" + key);
        }
        return number(key, 0.0);
    }

    std::vector<double> numbers(const std::string& key, const std::string& fallback) const {
        std::vector<double> result;
        std::stringstream list(text(key, fallback));
        std::string item;
        while (std::getline(list, item, ',')) {
            try {
                result.push_back(std::stod(item));
            } catch (const std::exception&) {
                throw UsageError("--" + key + ": '" + item + "' is not a number");
            }
        }
        return result;
    }

    // Every option given must have been read by the command.
    void check_all_used() const {
        for (const auto& [key, value] : values_) {
            if (std::find(used_.begin(), used_.end(), key) == used_.end()) {
                throw UsageError("unknown option --" + key + " for this command");
            }
        }
    }

  private:
    std::map<std::string, std::string> values_;
    mutable std::vector<std::string> used_;
};

// Progress on a terminal as an updated line, otherwise a plain line every 10 %.
class Progress {
  public:
    Progress(std::string what, std::uint64_t total)
        : what_(std::move(what)), total_(total), terminal_(isatty(STDERR_FILENO) != 0) {}

    void operator()(std::uint64_t done) {
        const int percent = total_ == 0 ? 100 : static_cast<int>(100 * done / total_);
        if (terminal_) {
            std::cerr << '\r' << what_ << ": " << done << " / " << total_ << " jets (" << percent
                      << " %)" << (done == total_ ? "\n" : "") << std::flush;
        } else if (percent / 10 > reported_ / 10 || done == total_) {
            std::cerr << what_ << ": " << done << " / " << total_ << " jets\n";
            reported_ = percent;
        }
    }

  private:
    std::string what_;
    std::uint64_t total_;
    bool terminal_;
    int reported_ = -1;
};

cs::toy::Selection selection_from(const Options& options) {
    const std::string range = options.text("range", "nominal");
    if (range != "nominal" && range != "extended") {
        throw UsageError("--range " + range + ": expected nominal or extended");
    }
    cs::toy::Selection selection =
        range == "nominal" ? cs::toy::nominal_selection() : cs::toy::extended_selection();
    selection.pt_min = options.number("pt-min", selection.pt_min);
    selection.pt_max = options.number("pt-max", selection.pt_max);
    selection.abs_eta_min = options.number("eta-min", selection.abs_eta_min);
    selection.abs_eta_max = options.number("eta-max", selection.abs_eta_max);
    selection.multiplicity_min =
        static_cast<int>(options.integer("nparticles-min", selection.multiplicity_min));
    selection.multiplicity_max =
        static_cast<int>(options.integer("nparticles-max", selection.multiplicity_max));
    return selection;
}

int generate(const Options& options) {
    const std::string directory = options.text("output-dir", "");
    if (directory.empty()) {
        throw UsageError("missing --output-dir");
    }
    const auto seed = static_cast<std::uint64_t>(options.integer("seed", 1));
    const std::string format = options.text("format", "h5");
    if (format != "h5" && format != "csv") {
        throw UsageError("--format " + format + ": expected h5 or csv");
    }
    cs::data::WriteOptions write;
    write.format = format == "csv" ? cs::data::Format::csv : cs::data::Format::hdf5;
    write.compression = static_cast<int>(options.integer("compress", 0));
    const cs::toy::Selection selection = selection_from(options);
    const std::uint64_t counts[] = {
        static_cast<std::uint64_t>(options.integer("train", 200000)),
        static_cast<std::uint64_t>(options.integer("validation", 50000)),
        static_cast<std::uint64_t>(options.integer("test", 50000))};
    options.check_all_used();

    std::filesystem::create_directories(directory);
    const char* names[] = {"train", "validation", "test"};
    const cs::toy::Stream streams[] = {cs::toy::kTrainStream, cs::toy::kValidationStream,
                                       cs::toy::kTestStream};
    for (int split = 0; split < 3; ++split) {
        if (counts[split] == 0) {
            continue;
        }
        const std::string path = directory + "/toy_" + names[split] + "." + format;
        const cs::toy::Generator generator(seed, streams[split], selection);
        Progress progress(path, counts[split]);
        cs::toy::write_dataset(path, generator, counts[split], write, 1u << 16,
                               [&](std::uint64_t done) { progress(done); });
    }
    return 0;
}

void print_summary(const cs::toy::TruthDistribution& truth, const std::vector<double>& quantiles,
                   const std::vector<double>& cuts, std::ostream& out, char separator) {
    for (double alpha : quantiles) {
        if (separator == ' ') {
            out << "quantile " << alpha << ' ';
        }
        out << truth.quantile(alpha) << (separator == ' ' ? '\n' : separator);
    }
    for (double cut : cuts) {
        if (separator == ' ') {
            out << "tag_probability " << cut << ' ';
        }
        out << truth.tag_probability(cut) << (separator == ' ' ? '\n' : separator);
    }
    if (separator == ' ') {
        out << "mean ";
    }
    out << truth.mean() << '\n';
}

int truth_for_file(const Options& options) {
    const std::string path = options.text("input", "");
    const bool substructure = options.has("substructure");
    options.text("substructure", "");
    cs::data::TableRequest request;
    request.columns = cs::toy::condition_columns(substructure);
    request.first_row = static_cast<std::size_t>(options.integer("first", 0));
    request.row_count = static_cast<std::size_t>(options.integer("count", 1000));
    const auto draws = static_cast<std::size_t>(options.integer("draws", 2000));
    const auto seed = static_cast<std::uint64_t>(options.integer("seed", 1));
    const auto quantiles = options.numbers("quantiles", "0.05,0.16,0.5,0.84,0.95");
    const auto cuts = options.numbers("cuts", "0.5,0.9");
    options.check_all_used();

    const cs::data::Table table = cs::data::read_table(path, request);
    std::cout << "row";
    for (double alpha : quantiles) {
        std::cout << ",quantile_" << alpha;
    }
    for (double cut : cuts) {
        std::cout << ",tag_probability_" << cut;
    }
    std::cout << ",mean\n";
    std::cout.precision(9);
    for (std::size_t row = 0; row < table.rows(); ++row) {
        const auto conditions = cs::toy::conditions_from_row(table, row, substructure);
        // each row its own seed offset, so a row's answer does not depend on the range
        const auto truth =
            cs::toy::true_distribution(conditions, draws, seed + request.first_row + row);
        std::cout << request.first_row + row << ',';
        print_summary(truth, quantiles, cuts, std::cout, ',');
    }
    return 0;
}

int truth(const Options& options) {
    if (options.has("input")) {
        return truth_for_file(options);
    }
    cs::toy::Conditions conditions;
    conditions.label = static_cast<int>(options.required("label"));
    conditions.pt = options.required("pt");
    conditions.eta = options.required("eta");
    conditions.phi = options.number("phi", 0.0);
    conditions.energy = options.required("energy");
    conditions.multiplicity = static_cast<int>(options.required("nparticles"));
    if (options.has("sdmass")) {
        conditions.softdrop_mass = options.number("sdmass", 0.0);
    }
    if (options.has("tau")) {
        const auto tau = options.numbers("tau", "");
        if (tau.size() != 4) {
            throw UsageError("--tau: expected four comma-separated values tau1,tau2,tau3,tau4");
        }
        conditions.tau = {tau[0], tau[1], tau[2], tau[3]};
    }
    const auto draws = static_cast<std::size_t>(options.integer("draws", 100000));
    const auto seed = static_cast<std::uint64_t>(options.integer("seed", 1));
    const auto quantiles = options.numbers("quantiles", "0.05,0.16,0.5,0.84,0.95");
    const auto cuts = options.numbers("cuts", "0.5,0.9");
    const bool samples = options.has("samples");
    options.text("samples", "");
    options.check_all_used();
    if (draws == 0) {
        throw UsageError("--draws: expected at least one draw");
    }

    const auto distribution = cs::toy::true_distribution(conditions, draws, seed);
    std::cout.precision(9);
    if (samples) {
        // sorted draws; the order of the draws carries no information
        for (double score : distribution.scores) {
            std::cout << score << '\n';
        }
        return 0;
    }
    print_summary(distribution, quantiles, cuts, std::cout, ' ');
    return 0;
}

int bench(const Options& options) {
    const auto jets = static_cast<std::uint64_t>(options.integer("jets", 1000000));
    options.check_all_used();
    // processor time of this process: a per-core rate even on a busy machine
    const auto seconds_since = [](std::clock_t start) {
        return static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
    };

    // generation including the tagger, without writing
    const cs::toy::Generator generator(1, cs::toy::kTrainStream);
    double checksum = 0.0;
    std::clock_t start = std::clock();
    for (std::uint64_t jet = 0; jet < jets; ++jet) {
        checksum += generator.generate(jet).score;
    }
    const double generate_seconds = seconds_since(start);

    // truth draws for one typical top jet
    const cs::toy::TruthSampler sampler(cs::toy::conditions_of(generator.generate(0), false));
    const cs::CounterRandom random(1, cs::toy::kTruthStream);
    start = std::clock();
    for (std::uint64_t item = 0; item < jets; ++item) {
        checksum += sampler.draw(random, item);
    }
    const double truth_seconds = seconds_since(start);

    std::cout << "generated_jets_per_second " << static_cast<double>(jets) / generate_seconds
              << "\ntruth_draws_per_second " << static_cast<double>(jets) / truth_seconds << "\n";
    std::cerr << "bench: " << jets << " jets, one thread, checksum " << checksum << '\n';
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    if (command == "--help" || command == "-h" || command == "help") {
        std::cout << kUsage;
        return 0;
    }
    try {
        if (command == "generate") {
            return generate(Options(argc, argv, 2, {}));
        }
        if (command == "truth") {
            return truth(Options(argc, argv, 2, {"samples", "substructure"}));
        }
        if (command == "bench") {
            return bench(Options(argc, argv, 2, {}));
        }
        throw UsageError("unknown command '" + command + "'");
    } catch (const UsageError& error) {
        std::cerr << "surrogate-toy: " << error.what() << " (see surrogate-toy --help)\n";
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "surrogate-toy: " << error.what() << '\n';
        return 1;
    }
}
