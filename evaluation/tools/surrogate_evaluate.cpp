// The `surrogate-evaluate` command: how well a surrogate does the three things it
// must do (DESIGN.md): reproduce the classification, carry the per-jet spread, and
// grow its epistemic spread outside the training data. Measures follow the reference
// (arXiv:2402.15558); on toy data it also compares with the exact truth. Exact CDFs,
// quantiles and tag probabilities replace sampling wherever they can.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "cs/data/table.hpp"
#include "cs/evaluation/metrics.hpp"
#include "cs/evaluation/svg_plot.hpp"
#include "cs/format_io.hpp"
#include "cs/random.hpp"
#include "cs/runtime/ensemble.hpp"
#include "cs/surrogate.hpp"
#include "cs/toy/truth.hpp"

namespace {

using cs::evaluation::coverage;
using cs::evaluation::midpoint_levels;
using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

constexpr const char* kUsage = R"(usage: surrogate-evaluate FILE --data PATH [options]

Evaluates a surrogate on a table of jets (pandas HDF5 or CSV) that holds its
conditions and the tagger's score, and writes the results as JSON.

Options:
  --data PATH            jets: the surrogate's condition columns and the score column
  --score-column NAME    the tagger's score (default jet_p_top_ParT_full)
  --label-column NAME    the truth label, 1 for signal (default label_top)
  --max-jets N           jets read from the start of the table (default 20000)
  --spread-jets N        jets for the same-noise spread and the shift study (default 400)
  --shifts A,B,...       factors applied to jet_pt, jet_energy and jet_nparticles in the
                         out-of-distribution study (default 1,1.25,1.5,2,3)
  --truth toy            also compare with the exact truth of the toy experiment
  --truth-jets N         jets compared with the truth (default 200)
  --truth-draws N        truth draws per jet (default 2000)
  --seed S               random seed (default 1)
  --output PATH          results JSON (written atomically; default stdout)
  --report DIR           also write the figures (SVG) and a self-contained report.html

Progress goes to stderr. Exit status 0 on success, 1 on bad input, 2 on bad usage.
)";

struct Options {
    std::string surrogate;
    std::string data;
    std::string score_column = "jet_p_top_ParT_full";
    std::string label_column = "label_top";
    size_t max_jets = 20000;
    size_t spread_jets = 400;
    std::vector<double> shifts = {1.0, 1.25, 1.5, 2.0, 3.0};
    bool truth = false;
    size_t truth_jets = 200;
    size_t truth_draws = 2000;
    uint64_t seed = 1;
    std::string output;
    std::string report;
};

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

size_t parse_count(const std::string& text, const std::string& what) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || value < 1 || value != std::floor(value) || value > 1e9) {
        throw UsageError(what + " must be a whole number from 1 to 10^9, not \"" + text + "\"");
    }
    return static_cast<size_t>(value);
}

Options parse_options(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word == "--help") {
            std::cout << kUsage;
            std::exit(0);
        }
        if (word.rfind("--", 0) != 0) {
            if (!options.surrogate.empty()) {
                throw UsageError("unexpected argument \"" + word + "\"");
            }
            options.surrogate = word;
            continue;
        }
        if (i + 1 >= argc) {
            throw UsageError("option " + word + " needs a value");
        }
        const std::string value = argv[++i];
        if (word == "--data") {
            options.data = value;
        } else if (word == "--score-column") {
            options.score_column = value;
        } else if (word == "--label-column") {
            options.label_column = value;
        } else if (word == "--max-jets") {
            options.max_jets = parse_count(value, word);
        } else if (word == "--spread-jets") {
            options.spread_jets = parse_count(value, word);
        } else if (word == "--truth") {
            if (value != "toy") {
                throw UsageError("--truth knows only \"toy\"");
            }
            options.truth = true;
        } else if (word == "--truth-jets") {
            options.truth_jets = parse_count(value, word);
        } else if (word == "--truth-draws") {
            options.truth_draws = parse_count(value, word);
        } else if (word == "--seed") {
            options.seed = parse_count(value, word);
        } else if (word == "--output") {
            options.output = value;
        } else if (word == "--report") {
            options.report = value;
        } else if (word == "--shifts") {
            options.shifts.clear();
            std::stringstream stream(value);
            std::string item;
            while (std::getline(stream, item, ',')) {
                char* end = nullptr;
                const double shift = std::strtod(item.c_str(), &end);
                if (item.empty() || *end != '\0' || !(shift > 0.0)) {
                    throw UsageError("--shifts takes positive numbers, not \"" + item + "\"");
                }
                options.shifts.push_back(shift);
            }
        } else {
            throw UsageError("unknown option " + word);
        }
    }
    if (options.surrogate.empty() || options.data.empty()) {
        throw UsageError("needs a surrogate FILE and --data PATH");
    }
    return options;
}

// The jets of the evaluation: conditions in the surrogate's order, score, label.
struct Jets {
    Eigen::MatrixXd conditions;
    std::vector<double> scores;
    std::vector<int> labels;
    size_t dropped = 0;
};

Jets read_jets(const cs::Surrogate& surrogate, const Options& options) {
    cs::data::TableRequest request;
    request.columns = surrogate.condition_names();
    request.score = options.score_column;
    request.bad_rows = cs::data::BadRows::drop;
    request.row_count = options.max_jets;
    const cs::data::Table table = cs::data::read_table(options.data, request);

    Jets jets;
    const auto n = static_cast<Eigen::Index>(table.rows());
    jets.conditions.resize(n, static_cast<Eigen::Index>(request.columns.size()));
    for (size_t c = 0; c < request.columns.size(); ++c) {
        const auto& column = table.columns[c];
        for (Eigen::Index j = 0; j < n; ++j) {
            jets.conditions(j, static_cast<Eigen::Index>(c)) = column[static_cast<size_t>(j)];
        }
    }
    const auto& score = table.column(options.score_column);
    jets.scores.assign(score.begin(), score.end());
    const auto label =
        std::find(request.columns.begin(), request.columns.end(), options.label_column);
    if (label == request.columns.end()) {
        throw std::runtime_error("the surrogate has no condition \"" + options.label_column +
                                 "\" to take the truth label from (see --label-column)");
    }
    const auto& labels = table.columns[static_cast<size_t>(label - request.columns.begin())];
    for (float value : labels) {
        jets.labels.push_back(value > 0.5f ? 1 : 0);
    }
    jets.dropped = table.dropped_rows;
    return jets;
}

double mean(const std::vector<double>& values) {
    return values.empty() ? 0.0
                          : std::accumulate(values.begin(), values.end(), 0.0) /
                                static_cast<double>(values.size());
}

double quantile(std::vector<double> values, double level) {
    if (values.empty()) {
        return 0.0;
    }
    std::sort(values.begin(), values.end());
    const double position = level * static_cast<double>(values.size() - 1);
    const auto lower = static_cast<size_t>(std::floor(position));
    const size_t upper = std::min(lower + 1, values.size() - 1);
    return values[lower] +
           (position - static_cast<double>(lower)) * (values[upper] - values[lower]);
}

void write_array(Writer& writer, const char* key, const std::vector<double>& values) {
    writer.Key(key);
    writer.StartArray();
    for (double value : values) {
        writer.Double(value);
    }
    writer.EndArray();
}

void progress(const std::string& message) {
    std::cerr << "surrogate-evaluate: " << message << "\n";
}

// Per-jet answers over the whole table: PIT of the tagger score and tag probability
// at 0.5 for every member, and one sampled score per jet.
struct PerJet {
    std::vector<std::vector<double>> pit;  // [member][jet]
    std::vector<std::vector<double>> tag;  // [member][jet]
    std::vector<double> sampled;
};

PerJet per_jet_answers(const cs::runtime::Ensemble& ensemble, const Jets& jets, uint64_t seed) {
    const auto options = ensemble.default_solver();
    const Eigen::Index n = jets.conditions.rows();
    const auto members = static_cast<size_t>(ensemble.n_members());
    PerJet result;
    result.pit.resize(members);
    result.tag.resize(members);
    constexpr Eigen::Index kChunk = 2048;
    for (Eigen::Index start = 0; start < n; start += kChunk) {
        const Eigen::Index rows = std::min(kChunk, n - start);
        const Eigen::MatrixXd conditions = jets.conditions.middleRows(start, rows);
        Eigen::MatrixXd scores(rows, 1);
        for (Eigen::Index j = 0; j < rows; ++j) {
            scores(j, 0) = jets.scores[static_cast<size_t>(start + j)];
        }
        const auto pit = ensemble.cdf(conditions, scores, options);
        const auto tag = ensemble.tag_probability(conditions, {0.5}, options);
        for (size_t m = 0; m < members; ++m) {
            for (Eigen::Index j = 0; j < rows; ++j) {
                result.pit[m].push_back(pit[m](j, 0));
                result.tag[m].push_back(tag[m](j, 0));
            }
        }
        const Eigen::MatrixXd sampled =
            ensemble.sample(conditions, 1, seed, static_cast<uint64_t>(start), options);
        for (Eigen::Index j = 0; j < rows; ++j) {
            result.sampled.push_back(sampled(j, 0));
        }
        progress("per-jet answers: " + std::to_string(start + rows) + " of " + std::to_string(n) +
                 " jets");
    }
    return result;
}

// What the report's figures show, collected while the measures are written.
struct Figures {
    std::vector<double> levels;
    std::vector<double> coverage;
    std::vector<double> coverage_lower;
    std::vector<double> coverage_upper;
    std::vector<double> truth_coverage;
    std::vector<double> accuracy;    // per jet
    std::vector<double> tag_spread;  // per jet
};

// The reference's measures on the table.
void write_reference_measures(Writer& writer, const Jets& jets, const PerJet& answers,
                              Figures& figures) {
    const size_t n = jets.scores.size();
    const size_t members = answers.pit.size();
    const auto levels = midpoint_levels(50);

    // accuracy: the share of the score distribution on the correct side of 0.5
    std::vector<double> surrogate_accuracy(n);
    std::vector<double> tag_spread(n);
    std::vector<double> ensemble_pit(n);
    double tagger_correct = 0.0;
    double sampled_correct = 0.0;
    for (size_t j = 0; j < n; ++j) {
        double sum = 0.0;
        double sum_squares = 0.0;
        double pit = 0.0;
        for (size_t m = 0; m < members; ++m) {
            sum += answers.tag[m][j];
            sum_squares += answers.tag[m][j] * answers.tag[m][j];
            pit += answers.pit[m][j];
        }
        const double p = sum / static_cast<double>(members);
        surrogate_accuracy[j] = jets.labels[j] == 1 ? p : 1.0 - p;
        tag_spread[j] =
            std::sqrt(std::max(0.0, sum_squares / static_cast<double>(members) - p * p));
        ensemble_pit[j] = pit / static_cast<double>(members);
        tagger_correct += ((jets.scores[j] > 0.5) == (jets.labels[j] == 1)) ? 1.0 : 0.0;
        sampled_correct += ((answers.sampled[j] > 0.5) == (jets.labels[j] == 1)) ? 1.0 : 0.0;
    }

    writer.Key("accuracy");
    writer.StartObject();
    writer.Key("surrogate_mean");
    writer.Double(mean(surrogate_accuracy));
    writer.Key("surrogate_sampled");
    writer.Double(sampled_correct / static_cast<double>(n));
    writer.Key("tagger");
    writer.Double(tagger_correct / static_cast<double>(n));
    writer.EndObject();

    // coverage of the tagger's score by the surrogate's quantiles, through the PIT
    writer.Key("coverage");
    writer.StartObject();
    write_array(writer, "levels", levels);
    const auto ensemble_coverage = coverage(ensemble_pit, levels);
    write_array(writer, "ensemble", ensemble_coverage);
    std::vector<double> lower(levels.size(), 1.0);
    std::vector<double> upper(levels.size(), 0.0);
    writer.Key("members");
    writer.StartArray();
    for (size_t m = 0; m < members; ++m) {
        const auto member = coverage(answers.pit[m], levels);
        writer.StartArray();
        for (size_t l = 0; l < levels.size(); ++l) {
            writer.Double(member[l]);
            lower[l] = std::min(lower[l], member[l]);
            upper[l] = std::max(upper[l], member[l]);
        }
        writer.EndArray();
    }
    writer.EndArray();
    figures.levels = levels;
    figures.coverage = ensemble_coverage;
    figures.coverage_lower = lower;
    figures.coverage_upper = upper;
    write_array(writer, "member_lower", lower);
    write_array(writer, "member_upper", upper);
    double worst = 0.0;
    for (size_t l = 0; l < levels.size(); ++l) {
        worst = std::max(worst, std::fabs(ensemble_coverage[l] - levels[l]));
    }
    writer.Key("largest_deviation");
    writer.Double(worst);
    writer.EndObject();

    // histograms and ROC
    const auto sampled_histogram = cs::evaluation::histogram(answers.sampled, 50, 0.0, 1.0);
    const auto tagger_histogram = cs::evaluation::histogram(jets.scores, 50, 0.0, 1.0);
    writer.Key("score_histogram_js_distance");
    writer.Double(cs::evaluation::jensen_shannon_distance(sampled_histogram, tagger_histogram));
    writer.Key("roc_area");
    writer.StartObject();
    writer.Key("surrogate_sampled");
    writer.Double(cs::evaluation::roc_area(answers.sampled, jets.labels));
    writer.Key("tagger");
    writer.Double(cs::evaluation::roc_area(jets.scores, jets.labels));
    writer.EndObject();

    figures.accuracy = surrogate_accuracy;
    figures.tag_spread = tag_spread;
    writer.Key("tag_probability_spread");
    writer.StartObject();
    writer.Key("mean");
    writer.Double(mean(tag_spread));
    writer.Key("median");
    writer.Double(quantile(tag_spread, 0.5));
    writer.Key("quantile_0.9");
    writer.Double(quantile(tag_spread, 0.9));
    writer.EndObject();
}

// Shifted copies of the first jets, with what the surrogate says about them.
struct ShiftResult {
    double shift = 1.0;
    std::vector<double> epistemic;   // per jet: std of member mean scores
    std::vector<double> spread;      // per jet: the same-noise spread
    std::vector<double> tag_spread;  // per jet: std of member tag probabilities
    std::vector<double> accuracy;    // per jet: the surrogate's accuracy
    std::vector<double> tag;         // per jet: the ensemble's P(score > 0.5)
    double out_of_support = 0.0;     // share flagged
};

Eigen::MatrixXd shifted(const cs::Surrogate& surrogate, Eigen::MatrixXd conditions, double shift) {
    const auto names = surrogate.condition_names();
    for (size_t c = 0; c < names.size(); ++c) {
        if (names[c] == "jet_pt" || names[c] == "jet_energy" || names[c] == "jet_nparticles") {
            conditions.col(static_cast<Eigen::Index>(c)) *= shift;
        }
    }
    return conditions;
}

std::vector<ShiftResult> shift_study(const cs::Surrogate& surrogate, const Jets& jets,
                                     const Options& options) {
    const auto& ensemble = surrogate.ensemble();
    const Eigen::Index n = std::min<Eigen::Index>(static_cast<Eigen::Index>(options.spread_jets),
                                                  jets.conditions.rows());
    cs::QueryOptions query;
    query.quantile_levels = {0.5};
    query.cuts = {0.5};
    query.moment_points = 16;
    std::vector<ShiftResult> results;
    for (double shift : options.shifts) {
        ShiftResult result;
        result.shift = shift;
        const Eigen::MatrixXd conditions = shifted(surrogate, jets.conditions.topRows(n), shift);
        const auto summaries = ensemble.summarize(conditions, query, ensemble.default_solver());
        double flagged = 0.0;
        for (Eigen::Index j = 0; j < n; ++j) {
            const auto& s = summaries[static_cast<size_t>(j)];
            result.epistemic.push_back(s.epistemic_std);
            result.spread.push_back(s.same_noise_spread);
            result.tag_spread.push_back(s.tag_probability_std[0]);
            result.tag.push_back(s.tag_probability[0]);
            const double p = s.tag_probability[0];
            result.accuracy.push_back(jets.labels[static_cast<size_t>(j)] == 1 ? p : 1.0 - p);
            flagged += s.support.out_of_support ? 1.0 : 0.0;
        }
        result.out_of_support = flagged / static_cast<double>(n);
        results.push_back(std::move(result));
        progress("shift study: factor " + std::to_string(shift) + " done");
    }
    return results;
}

// The toy experiment's conditions for a row of the surrogate's conditions.
cs::toy::Conditions toy_conditions(const cs::Surrogate& surrogate, const Eigen::RowVectorXd& row) {
    const auto names = surrogate.condition_names();
    cs::toy::Conditions conditions;
    std::array<double, 4> tau{};
    int taus = 0;
    for (size_t c = 0; c < names.size(); ++c) {
        const double value = row(static_cast<Eigen::Index>(c));
        const std::string& name = names[c];
        if (name == "label_top") {
            conditions.label = value > 0.5 ? 1 : 0;
        } else if (name == "jet_pt") {
            conditions.pt = value;
        } else if (name == "jet_eta") {
            conditions.eta = value;
        } else if (name == "jet_phi") {
            conditions.phi = value;
        } else if (name == "jet_energy") {
            conditions.energy = value;
        } else if (name == "jet_nparticles") {
            conditions.multiplicity = static_cast<int>(std::lround(value));
        } else if (name == "jet_sdmass") {
            conditions.softdrop_mass = value;
        } else if (name.rfind("jet_tau", 0) == 0 && name.size() == 8) {
            tau[static_cast<size_t>(name[7] - '1') % 4] = value;
            ++taus;
        } else {
            throw std::runtime_error("the toy truth does not know the condition \"" + name + "\"");
        }
    }
    if (taus == 4) {
        conditions.tau = tau;
    }
    return conditions;
}

// The surrogate's ensemble CDF on a grid of scores, for one jet.
std::vector<double> surrogate_cdf(const cs::runtime::Ensemble& ensemble,
                                  const Eigen::RowVectorXd& row, const std::vector<double>& grid) {
    Eigen::MatrixXd scores(1, static_cast<Eigen::Index>(grid.size()));
    for (size_t i = 0; i < grid.size(); ++i) {
        scores(0, static_cast<Eigen::Index>(i)) = grid[i];
    }
    const auto members = ensemble.cdf(row, scores, ensemble.default_solver());
    std::vector<double> cdf(grid.size(), 0.0);
    for (const auto& member : members) {
        for (size_t i = 0; i < grid.size(); ++i) {
            cdf[i] += member(0, static_cast<Eigen::Index>(i)) / static_cast<double>(members.size());
        }
    }
    return cdf;
}

// Interpolated CDF on the grid (linear in the grid index's score).
double interpolate(const std::vector<double>& grid, const std::vector<double>& cdf, double x) {
    const auto upper = std::upper_bound(grid.begin(), grid.end(), x) - grid.begin();
    if (upper == 0) {
        return cdf.front();
    }
    if (static_cast<size_t>(upper) == grid.size()) {
        return cdf.back();
    }
    const auto lower = static_cast<size_t>(upper - 1);
    const double fraction = (x - grid[lower]) / (grid[lower + 1] - grid[lower]);
    return cdf[lower] + fraction * (cdf[lower + 1] - cdf[lower]);
}

void write_truth_measures(Writer& writer, const cs::Surrogate& surrogate, const Jets& jets,
                          const Options& options, Figures& figures) {
    const auto& ensemble = surrogate.ensemble();

    // A grid dense where scores pile up: uniform in the logit, plus the working points.
    std::vector<double> grid = {0.0, 1.0, 0.1, 0.5, 0.9};
    for (int i = 0; i <= 400; ++i) {
        grid.push_back(1.0 / (1.0 + std::exp(-(-16.0 + 32.0 * i / 400.0))));
    }
    std::sort(grid.begin(), grid.end());
    grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
    const std::vector<double> cuts = {0.1, 0.5, 0.9};

    std::vector<double> w1;
    std::vector<double> ks;
    std::vector<double> pooled_pit;
    std::map<double, std::vector<double>> tag_error;
    std::vector<double> truth_accuracy;
    std::vector<double> surrogate_accuracy;
    size_t skipped = 0;
    const size_t n = std::min(options.truth_jets, static_cast<size_t>(jets.conditions.rows()));
    for (size_t j = 0; j < n; ++j) {
        const Eigen::RowVectorXd row = jets.conditions.row(static_cast<Eigen::Index>(j));
        cs::toy::TruthDistribution truth;
        try {
            truth = cs::toy::true_distribution(toy_conditions(surrogate, row), options.truth_draws,
                                               options.seed + j);
        } catch (const std::invalid_argument&) {
            ++skipped;
            continue;
        }
        const auto cdf = surrogate_cdf(ensemble, row, grid);
        std::vector<double> truth_cdf;
        for (double x : grid) {
            truth_cdf.push_back(cs::evaluation::empirical_cdf(truth.scores, x));
        }
        w1.push_back(cs::evaluation::wasserstein1(grid, cdf, truth_cdf));
        ks.push_back(cs::evaluation::kolmogorov_smirnov(cdf, truth_cdf));
        for (size_t d = 0; d < truth.scores.size(); d += 10) {
            pooled_pit.push_back(interpolate(grid, cdf, truth.scores[d]));
        }
        for (double cut : cuts) {
            const double surrogate_tag = 1.0 - interpolate(grid, cdf, cut);
            tag_error[cut].push_back(surrogate_tag - truth.tag_probability(cut));
        }
        const bool top = jets.labels[j] == 1;
        truth_accuracy.push_back(top ? truth.tag_probability(0.5) : 1 - truth.tag_probability(0.5));
        surrogate_accuracy.push_back(top ? 1.0 - interpolate(grid, cdf, 0.5)
                                         : interpolate(grid, cdf, 0.5));
        if ((j + 1) % 50 == 0) {
            progress("truth: " + std::to_string(j + 1) + " of " + std::to_string(n) + " jets");
        }
    }

    writer.Key("truth");
    writer.StartObject();
    writer.Key("jets");
    writer.Uint64(w1.size());
    writer.Key("skipped_jets");
    writer.Uint64(skipped);
    writer.Key("draws_per_jet");
    writer.Uint64(options.truth_draws);
    writer.Key("wasserstein1_median");
    writer.Double(quantile(w1, 0.5));
    writer.Key("wasserstein1_mean");
    writer.Double(mean(w1));
    writer.Key("kolmogorov_smirnov_median");
    writer.Double(quantile(ks, 0.5));
    const auto levels = midpoint_levels(50);
    const auto covered = coverage(pooled_pit, levels);
    figures.truth_coverage = covered;
    writer.Key("coverage_of_truth");
    writer.StartObject();
    write_array(writer, "levels", levels);
    write_array(writer, "coverage", covered);
    double worst = 0.0;
    for (size_t l = 0; l < levels.size(); ++l) {
        worst = std::max(worst, std::fabs(covered[l] - levels[l]));
    }
    writer.Key("largest_deviation");
    writer.Double(worst);
    writer.EndObject();
    writer.Key("tag_probability_error");
    writer.StartObject();
    for (const auto& [cut, errors] : tag_error) {
        std::vector<double> absolute;
        for (double error : errors) {
            absolute.push_back(std::fabs(error));
        }
        char key[32];
        std::snprintf(key, sizeof key, "cut_%g", cut);
        writer.Key(key);
        writer.StartObject();
        writer.Key("mean_absolute");
        writer.Double(mean(absolute));
        writer.Key("mean_signed");
        writer.Double(mean(errors));
        writer.EndObject();
    }
    writer.EndObject();
    const auto truth_histogram = cs::evaluation::histogram(truth_accuracy, 20, 0.0, 1.0);
    const auto surrogate_histogram = cs::evaluation::histogram(surrogate_accuracy, 20, 0.0, 1.0);
    writer.Key("accuracy_histogram_js_distance");
    writer.Double(
        w1.empty() ? 0.0
                   : cs::evaluation::jensen_shannon_distance(surrogate_histogram, truth_histogram));
    writer.EndObject();
}

void write_shift_study(Writer& writer, const std::vector<ShiftResult>& study) {
    writer.Key("shift_study");
    writer.StartArray();
    for (const auto& result : study) {
        writer.StartObject();
        writer.Key("shift");
        writer.Double(result.shift);
        writer.Key("epistemic_std_mean");
        writer.Double(mean(result.epistemic));
        writer.Key("same_noise_spread_mean");
        writer.Double(mean(result.spread));
        writer.Key("tag_probability_spread_mean");
        writer.Double(mean(result.tag_spread));
        writer.Key("accuracy_mean");
        writer.Double(mean(result.accuracy));
        writer.Key("out_of_support_share");
        writer.Double(result.out_of_support);
        writer.EndObject();
    }
    writer.EndArray();
}

void write_output(const std::string& text, const std::string& path) {
    if (path.empty()) {
        std::cout << text;
        return;
    }
    const std::string temporary = path + ".partial";
    FILE* out = std::fopen(temporary.c_str(), "wb");
    if (out == nullptr || std::fwrite(text.data(), 1, text.size(), out) != text.size() ||
        std::fclose(out) != 0 || std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        throw std::runtime_error("cannot write '" + path + "'");
    }
}

// ---------------------------------------------------------------------------
// the report: figures like the paper's, and an HTML page that shows them

const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};

std::string coverage_figure(const Figures& figures) {
    cs::evaluation::SvgPlot plot("Coverage of the tagger score by the surrogate's quantiles",
                                 "nominal level", "share of jets below the quantile");
    plot.x_range(0.0, 1.0);
    plot.y_range(0.0, 1.0);
    plot.add(cs::evaluation::Band{"members (lowest to highest)", figures.levels,
                                  figures.coverage_lower, figures.coverage_upper, kColours[0]});
    plot.add(cs::evaluation::Series{"ensemble", figures.levels, figures.coverage, kColours[0]});
    if (!figures.truth_coverage.empty()) {
        plot.add(cs::evaluation::Series{"ensemble vs exact truth", figures.levels,
                                        figures.truth_coverage, kColours[1]});
    }
    plot.add(cs::evaluation::Series{"perfect calibration", {0.0, 1.0}, {0.0, 1.0}, "#555", true});
    return plot.render();
}

std::string shift_figure(const std::vector<ShiftResult>& study, bool accuracy) {
    std::vector<double> shifts;
    std::vector<double> first;
    std::vector<double> second;
    std::vector<double> third;
    for (const auto& result : study) {
        shifts.push_back(result.shift);
        first.push_back(accuracy ? mean(result.accuracy) : mean(result.spread));
        second.push_back(accuracy ? result.out_of_support : mean(result.tag_spread));
        third.push_back(mean(result.epistemic));
    }
    cs::evaluation::SvgPlot plot(
        accuracy ? "Accuracy out of distribution" : "Epistemic spread out of distribution",
        "factor applied to jet_pt, jet_energy and jet_nparticles",
        accuracy ? "mean per jet" : "mean per jet (score units)");
    if (accuracy) {
        plot.y_range(0.0, 1.0);
        plot.add(
            cs::evaluation::Series{"surrogate accuracy", shifts, first, kColours[0], false, true});
        plot.add(cs::evaluation::Series{"share flagged out of support", shifts, second, kColours[1],
                                        false, true});
    } else {
        plot.add(cs::evaluation::Series{"same-noise spread (max - min)", shifts, first, kColours[0],
                                        false, true});
        plot.add(cs::evaluation::Series{"std of member tag probabilities", shifts, second,
                                        kColours[1], false, true});
        plot.add(cs::evaluation::Series{"epistemic std of the score", shifts, third, kColours[2],
                                        false, true});
    }
    return plot.render();
}

// Accuracy and tag-probability spread in ten quantile bins of one condition.
std::string condition_figure(const std::string& name, const std::string& unit,
                             const std::vector<double>& values, const Figures& figures) {
    std::vector<size_t> order(values.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return values[a] < values[b]; });
    std::vector<double> centre;
    std::vector<double> accuracy;
    std::vector<double> spread;
    const size_t bins = 10;
    for (size_t b = 0; b < bins; ++b) {
        const size_t begin = b * order.size() / bins;
        const size_t end = (b + 1) * order.size() / bins;
        if (end <= begin) {
            continue;
        }
        double x = 0.0;
        double a = 0.0;
        double s = 0.0;
        for (size_t i = begin; i < end; ++i) {
            x += values[order[i]];
            a += figures.accuracy[order[i]];
            s += figures.tag_spread[order[i]];
        }
        const auto n = static_cast<double>(end - begin);
        centre.push_back(x / n);
        accuracy.push_back(1.0 - a / n);
        spread.push_back(s / n);
    }
    cs::evaluation::SvgPlot plot("Against " + name, name + (unit.empty() ? "" : " [" + unit + "]"),
                                 "mean per jet, ten quantile bins");
    plot.add(cs::evaluation::Series{"1 - accuracy", centre, accuracy, kColours[0], false, true});
    plot.add(cs::evaluation::Series{"std of member tag probabilities", centre, spread, kColours[1],
                                    false, true});
    return plot.render();
}

// Score distributions of single jets: each member's density and the ensemble's, over
// the logit, with the exact truth when the toy is available.
std::string jet_figure(const cs::Surrogate& surrogate, const Eigen::RowVectorXd& row,
                       const std::string& title, const Options& options) {
    const auto& ensemble = surrogate.ensemble();
    std::vector<double> xs;
    Eigen::MatrixXd scores(1, 161);
    for (int i = 0; i <= 160; ++i) {
        const double x = -0.8 + 1.6 * i / 160.0;
        xs.push_back(20.0 * x);
        scores(0, i) = ensemble.score(x);
    }
    const auto members = ensemble.log_density(row, scores, ensemble.default_solver());
    std::vector<double> lower(xs.size(), 1e300);
    std::vector<double> upper(xs.size(), 0.0);
    std::vector<double> average(xs.size(), 0.0);
    for (const auto& member : members) {
        for (size_t i = 0; i < xs.size(); ++i) {
            // density of the logit: p(score) dscore/dlogit = p(score) s (1 - s)
            const double s = scores(0, static_cast<Eigen::Index>(i));
            const double density = std::exp(member(0, static_cast<Eigen::Index>(i))) * s * (1 - s);
            lower[i] = std::min(lower[i], density);
            upper[i] = std::max(upper[i], density);
            average[i] += density / static_cast<double>(members.size());
        }
    }
    cs::evaluation::SvgPlot plot(title, "logit(score)", "density");
    plot.add(cs::evaluation::Band{"members (lowest to highest)", xs, lower, upper, kColours[0]});
    plot.add(cs::evaluation::Series{"ensemble", xs, average, kColours[0]});
    if (options.truth) {
        try {
            const auto truth =
                cs::toy::true_distribution(toy_conditions(surrogate, row), 20000, options.seed);
            std::vector<double> logits;
            for (double s : truth.scores) {
                logits.push_back(std::log(s / (1.0 - s)));
            }
            const auto counts = cs::evaluation::histogram(logits, 80, -16.0, 16.0);
            std::vector<double> centres;
            std::vector<double> density;
            for (size_t b = 0; b < counts.size(); ++b) {
                centres.push_back(-16.0 + 0.4 * (static_cast<double>(b) + 0.5));
                density.push_back(counts[b] / (0.4 * static_cast<double>(logits.size())));
            }
            plot.add(cs::evaluation::Series{"exact truth (20 000 draws)", centres, density,
                                            kColours[1], true});
        } catch (const std::invalid_argument&) {
            // conditions no toy jet can have: no truth to show
        }
    }
    return plot.render();
}

void write_report(const Options& options, const cs::Surrogate& surrogate, const Jets& jets,
                  const Figures& figures, const std::vector<ShiftResult>& study,
                  const std::string& results) {
    const std::string dir = options.report;
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) {
        throw std::runtime_error("cannot create the report folder '" + dir +
                                 "': " + error.message());
    }
    std::vector<std::pair<std::string, std::string>> figures_out = {
        {"coverage", coverage_figure(figures)},
        {"shift_spread", shift_figure(study, false)},
        {"shift_accuracy", shift_figure(study, true)}};

    // single jets: the first top jet, the first QCD jet, and that QCD jet shifted
    const auto names = surrogate.condition_names();
    Eigen::Index top = -1;
    Eigen::Index qcd = -1;
    for (Eigen::Index j = 0; j < jets.conditions.rows(); ++j) {
        const bool is_top = jets.labels[static_cast<size_t>(j)] == 1;
        if (is_top && top < 0) {
            top = j;
        }
        if (!is_top && qcd < 0) {
            qcd = j;
        }
    }
    if (top >= 0) {
        figures_out.emplace_back("jet_top", jet_figure(surrogate, jets.conditions.row(top),
                                                       "A top jet of the test set", options));
    }
    if (qcd >= 0) {
        figures_out.emplace_back("jet_qcd", jet_figure(surrogate, jets.conditions.row(qcd),
                                                       "A QCD jet of the test set", options));
        const Eigen::MatrixXd moved = shifted(surrogate, jets.conditions.row(qcd), 2.0);
        figures_out.emplace_back(
            "jet_qcd_shifted",
            jet_figure(surrogate, moved.row(0),
                       "The same QCD jet with pt, energy and multiplicity doubled", options));
    }
    for (size_t c = 0; c < names.size(); ++c) {
        if (names[c] == "label_top") {
            continue;
        }
        std::vector<double> values;
        for (Eigen::Index j = 0; j < jets.conditions.rows(); ++j) {
            values.push_back(jets.conditions(j, static_cast<Eigen::Index>(c)));
        }
        figures_out.emplace_back(
            "condition_" + names[c],
            condition_figure(names[c], surrogate.file().conditions[c].unit, values, figures));
    }

    std::ostringstream html;
    html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         << "<title>Evaluation of " << options.surrogate << "</title><style>"
         << "body{font-family:sans-serif;max-width:1000px;margin:auto;padding:1em}"
         << "figure{display:inline-block;width:min(480px,100%);margin:0.5em}svg{width:100%}"
         << "pre{background:#f4f4f4;padding:1em;overflow:auto;max-height:30em}</style></head>"
         << "<body><h1>Evaluation of <code>" << options.surrogate << "</code></h1>"
         << "<p>Tagger mimicked: " << surrogate.file().provenance.tagger
         << ". Method: " << surrogate.file().provenance.method << ", " << surrogate.n_members()
         << " members. Data: <code>" << options.data << "</code>, " << jets.scores.size()
         << " jets.</p>";
    for (const auto& [name, svg] : figures_out) {
        write_output(svg, dir + "/" + name + ".svg");
        html << "<figure>" << svg << "</figure>\n";
    }
    html << "<h2>All results</h2><pre>" << results << "</pre></body></html>\n";
    write_output(results, dir + "/results.json");
    write_output(html.str(), dir + "/report.html");
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Options options = parse_options(argc, argv);
        const cs::Surrogate surrogate = cs::Surrogate::load(options.surrogate);
        const Jets jets = read_jets(surrogate, options);
        progress("read " + std::to_string(jets.scores.size()) + " jets (" +
                 std::to_string(jets.dropped) + " rows with bad values dropped)");

        const PerJet answers = per_jet_answers(surrogate.ensemble(), jets, options.seed);
        const auto study = shift_study(surrogate, jets, options);

        rapidjson::StringBuffer buffer;
        Writer writer(buffer);
        writer.StartObject();
        writer.Key("surrogate");
        writer.String(options.surrogate.c_str());
        writer.Key("data");
        writer.String(options.data.c_str());
        writer.Key("jets");
        writer.Uint64(jets.scores.size());
        writer.Key("dropped_rows");
        writer.Uint64(jets.dropped);
        writer.Key("members");
        writer.Uint64(surrogate.n_members());
        Figures figures;
        write_reference_measures(writer, jets, answers, figures);
        write_shift_study(writer, study);
        if (options.truth) {
            write_truth_measures(writer, surrogate, jets, options, figures);
        }
        writer.EndObject();
        const std::string results = std::string(buffer.GetString()) + "\n";
        write_output(results, options.output);
        if (!options.report.empty()) {
            write_report(options, surrogate, jets, figures, study, results);
            progress("report written to " + options.report + "/report.html");
        }
        return 0;
    } catch (const UsageError& error) {
        std::cerr << "surrogate-evaluate: " << error.what() << " (see --help)\n";
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "surrogate-evaluate: " << error.what() << "\n";
        return 1;
    }
}
