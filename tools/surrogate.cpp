// The `surrogate` command: inspect, verify and query published surrogate files.
// Data goes to stdout (or --output, written atomically), messages to stderr.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cs/format_io.hpp"
#include "cs/runtime/demonstration.hpp"
#include "cs/runtime/ensemble.hpp"
#include "cs/surrogate.hpp"

namespace {

constexpr const char* kUsage = R"(usage: surrogate <command> [options]

Commands:
  inspect FILE                 the model card: a readable summary (--format json: as JSON)
  verify FILE                  check the checksum and the test vectors
  query FILE --input JETS      quantiles, tag probabilities, spread and support per jet
  sample FILE --input JETS     Monte Carlo scores from the ensemble
  demo-file --output FILE      write the demonstration surrogate (not a trained model)

Options:
  --input PATH        jets as CSV (a header with the condition names) or JSON (an
                      object or an array of objects, condition name -> value)
  --output PATH       write there (atomically) instead of to stdout
  --format csv|json   query output format (default csv); inspect: text|json
  --levels A,B,...    quantile levels in (0, 1) (default 0.05,0.16,0.5,0.84,0.95)
  --cuts A,B,...      working points for P(score > cut) (default 0.5)
  --per-member        query: also print every member's quantiles and tag probabilities
  --n N               sample: draws per jet (default 100)
  --seed S            sample: random seed (default 1)
  --first-jet K       sample: index of the first jet, for sharded runs (default 0)
  --members N         demo-file: number of members (default 11)
  --json              demo-file: write the JSON mirror instead of the binary file
  --solver dopri5|rk4, --atol X, --rtol X, --step-control batch|per-sample
                      override the file's default solver

Conditions are in the units the file's card states (`surrogate inspect`). Every
condition must be given; unknown columns are an error. Exit status: 0 on success,
1 for bad input or a bad file, 2 for bad usage.
)";

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Arguments {
    std::string command;
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;
    bool has(const std::string& name) const { return options.count(name) > 0; }
    std::string get(const std::string& name, const std::string& fallback) const {
        const auto found = options.find(name);
        return found == options.end() ? fallback : found->second;
    }
};

Arguments parse_arguments(int argc, char** argv) {
    const std::vector<std::string> flags = {"--per-member", "--json", "--help"};
    Arguments arguments;
    for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word.rfind("--", 0) == 0) {
            bool is_flag = false;
            for (const auto& flag : flags) {
                is_flag = is_flag || flag == word;
            }
            if (is_flag) {
                arguments.options[word] = "1";
            } else if (i + 1 < argc) {
                arguments.options[word] = argv[++i];
            } else {
                throw UsageError("option " + word + " needs a value");
            }
        } else if (arguments.command.empty()) {
            arguments.command = word;
        } else {
            arguments.positional.push_back(word);
        }
    }
    return arguments;
}

double parse_number(const std::string& text, const std::string& what) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) {
        throw std::runtime_error(what + ": \"" + text + "\" is not a number");
    }
    return value;
}

std::vector<double> parse_list(const std::string& text, const std::string& what) {
    std::vector<double> values;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        values.push_back(parse_number(item, what));
    }
    if (values.empty()) {
        throw std::runtime_error(what + ": expected a comma-separated list of numbers");
    }
    return values;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot open '" + path + "'");
    }
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

void write_output(const std::string& text, const Arguments& arguments) {
    if (!arguments.has("--output")) {
        std::cout << text;
        return;
    }
    const std::string path = arguments.get("--output", "");
    const std::string temporary = path + ".partial";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) {
            std::remove(temporary.c_str());
            throw std::runtime_error("cannot write '" + path + "'");
        }
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        throw std::runtime_error("cannot write '" + path + "'");
    }
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r");
    const auto last = text.find_last_not_of(" \t\r");
    return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

// Jets from CSV: a header of condition names, one jet per line.
std::vector<cs::Conditions> read_csv_jets(const std::string& text, const std::string& path) {
    std::stringstream stream(text);
    std::string line;
    std::vector<std::string> header;
    std::vector<cs::Conditions> jets;
    size_t line_number = 0;
    while (std::getline(stream, line)) {
        ++line_number;
        if (trim(line).empty() || trim(line)[0] == '#') {
            continue;
        }
        std::vector<std::string> cells;
        std::stringstream row(line);
        std::string cell;
        while (std::getline(row, cell, ',')) {
            cells.push_back(trim(cell));
        }
        if (!line.empty() && line.back() == ',') {
            cells.emplace_back();
        }
        if (header.empty()) {
            header = cells;
            continue;
        }
        if (cells.size() != header.size()) {
            throw std::runtime_error(path + ":" + std::to_string(line_number) + ": " +
                                     std::to_string(cells.size()) + " values for " +
                                     std::to_string(header.size()) + " columns");
        }
        cs::Conditions jet;
        for (size_t c = 0; c < cells.size(); ++c) {
            const double value = parse_number(
                cells[c], path + ":" + std::to_string(line_number) + ": column " + header[c]);
            if (!std::isfinite(value)) {
                throw std::runtime_error(path + ":" + std::to_string(line_number) + ": column " +
                                         header[c] + " is " + cells[c] +
                                         "; expected a finite number");
            }
            jet[header[c]] = value;
        }
        jets.push_back(std::move(jet));
    }
    if (header.empty()) {
        throw std::runtime_error(path + ": empty file, expected a header of condition names");
    }
    return jets;
}

cs::Conditions json_jet(const rapidjson::Value& object, const std::string& where) {
    if (!object.IsObject()) {
        throw std::runtime_error(where + ": expected an object of condition name -> number");
    }
    cs::Conditions jet;
    for (auto member = object.MemberBegin(); member != object.MemberEnd(); ++member) {
        const std::string name = member->name.GetString();
        if (!member->value.IsNumber()) {
            throw std::runtime_error(where + "." + name + ": expected a number");
        }
        jet[name] = member->value.GetDouble();
    }
    return jet;
}

std::vector<cs::Conditions> read_jets(const std::string& path) {
    const std::string text = read_text(path);
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || (text[first] != '{' && text[first] != '[')) {
        return read_csv_jets(text, path);
    }
    rapidjson::Document document;
    document.Parse(text.c_str());
    if (document.HasParseError()) {
        throw std::runtime_error(path + ": invalid JSON at offset " +
                                 std::to_string(document.GetErrorOffset()) + ": " +
                                 rapidjson::GetParseError_En(document.GetParseError()));
    }
    std::vector<cs::Conditions> jets;
    if (document.IsArray()) {
        for (rapidjson::SizeType i = 0; i < document.Size(); ++i) {
            jets.push_back(json_jet(document[i], path + "[" + std::to_string(i) + "]"));
        }
    } else {
        jets.push_back(json_jet(document, path));
    }
    return jets;
}

// Checks a jet against the file's conditions, naming the first problem.
void check_jet(const cs::Surrogate& surrogate, const cs::Conditions& jet, size_t index) {
    const auto names = surrogate.condition_names();
    for (const auto& [name, value] : jet) {
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            std::string list;
            for (const auto& known : names) {
                list += (list.empty() ? "" : ", ") + known;
            }
            throw std::runtime_error("jet " + std::to_string(index) + ": unknown column \"" + name +
                                     "\" (this surrogate takes " + list + ")");
        }
        if (!std::isfinite(value)) {
            throw std::runtime_error("jet " + std::to_string(index) + ": " + name +
                                     " is not finite");
        }
    }
    for (const auto& name : names) {
        if (jet.count(name) == 0) {
            throw std::runtime_error("jet " + std::to_string(index) + ": missing column \"" + name +
                                     "\"");
        }
    }
}

cs::runtime::SolverOptions solver_from(const cs::runtime::Ensemble& ensemble,
                                       const Arguments& arguments) {
    auto options = ensemble.default_solver();
    if (arguments.has("--solver")) {
        options.method = cs::runtime::parse_method(arguments.get("--solver", ""));
    }
    if (arguments.has("--step-control")) {
        options.step_control = cs::runtime::parse_step_control(arguments.get("--step-control", ""));
    }
    if (arguments.has("--atol")) {
        options.atol = parse_number(arguments.get("--atol", ""), "--atol");
    }
    if (arguments.has("--rtol")) {
        options.rtol = parse_number(arguments.get("--rtol", ""), "--rtol");
    }
    return options;
}

std::string number(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.8g", value);
    return buffer;
}

std::string level_name(const std::string& prefix, double level) {
    return prefix + number(level);
}

const std::string& file_argument(const Arguments& arguments) {
    if (arguments.positional.empty()) {
        throw UsageError(arguments.command + " needs a surrogate FILE");
    }
    return arguments.positional[0];
}

// The model card as JSON: what a page or a catalogue shows about a surrogate.
std::string json_card(const cs::format::SurrogateFile& file) {
    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    const auto text = [&writer](const char* key, const std::string& value) {
        writer.Key(key);
        writer.String(value.c_str());
    };
    const auto& provenance = file.provenance;
    writer.StartObject();
    text("format_version",
         std::to_string(file.format_major) + "." + std::to_string(file.format_minor));
    text("producer", file.producer + " " + file.producer_version);
    text("tagger", provenance.tagger);
    text("training_data", provenance.training_data);
    text("method", provenance.method);
    text("created", provenance.created);
    text("description", provenance.description);
    std::ostringstream checksum;
    checksum << "0x" << std::hex << file.checksum;
    text("checksum", checksum.str());
    writer.Key("parameters_per_member");
    writer.Uint64(cs::format::parameter_count(file.architecture, file.conditions.size()));
    writer.Key("members");
    writer.StartObject();
    std::map<std::string, int> origins;
    for (const auto& member : file.members) {
        ++origins[member.origin];
    }
    for (const auto& [origin, count] : origins) {
        writer.Key(origin.c_str());
        writer.Int(count);
    }
    writer.EndObject();
    writer.Key("conditions");
    writer.StartArray();
    for (const auto& condition : file.conditions) {
        writer.StartObject();
        text("name", condition.name);
        text("unit", condition.unit);
        text("description", condition.description);
        writer.Key("training_range");
        writer.StartArray();
        writer.Double(condition.support.min);
        writer.Double(condition.support.max);
        writer.EndArray();
        writer.EndObject();
    }
    writer.EndArray();
    text("solver", file.solver.method + ", " + file.solver.step_control + " step control, atol " +
                       number(file.solver.atol) + ", rtol " + number(file.solver.rtol));
    writer.Key("hyperparameters");
    writer.StartObject();
    for (const auto& entry : provenance.hyperparameters) {
        text(entry.key.c_str(), entry.value);
    }
    writer.EndObject();
    writer.Key("metrics");
    writer.StartObject();
    for (const auto& metric : provenance.metrics) {
        writer.Key(metric.key.c_str());
        writer.Double(metric.value);
    }
    writer.EndObject();
    writer.EndObject();
    return std::string(buffer.GetString()) + "\n";
}

int run_inspect(const Arguments& arguments) {
    const auto file = cs::format::read_file(file_argument(arguments));
    const std::string format = arguments.get("--format", "text");
    if (format == "json") {
        write_output(json_card(file), arguments);
        return 0;
    }
    if (format != "text") {
        throw UsageError("inspect: --format must be text or json");
    }
    std::ostringstream out;
    const auto& provenance = file.provenance;
    out << "surrogate file, format " << file.format_major << "." << file.format_minor
        << ", written by " << file.producer << " " << file.producer_version << "\n"
        << "  mimics:        " << provenance.tagger << "\n"
        << "  training data: " << provenance.training_data << "\n"
        << "  method:        " << provenance.method << ", created " << provenance.created << "\n"
        << "  description:   " << provenance.description << "\n"
        << "model\n"
        << "  velocity field: " << file.architecture.n_blocks << " blocks x "
        << file.architecture.layers_per_block << " layers, width " << file.architecture.width
        << ", " << file.architecture.activation << ", time embedding "
        << file.architecture.time_embedding.frequencies.size() << " frequencies\n"
        << "  parameters:     "
        << cs::format::parameter_count(file.architecture, file.conditions.size()) << " per member\n"
        << "  score:          x = logit(score) / " << file.score_transform.scale << "\n"
        << "  solver:         " << file.solver.method << " (" << file.solver.step_control
        << " steps, atol " << file.solver.atol << ", rtol " << file.solver.rtol << ")\n"
        << "conditions (training range, and median)\n";
    for (const auto& condition : file.conditions) {
        double median = 0.5 * (condition.support.min + condition.support.max);
        const auto& levels = condition.support.quantile_levels;
        for (size_t i = 0; i < levels.size(); ++i) {
            if (levels[i] == 0.5) {
                median = condition.support.quantiles[i];
            }
        }
        out << "  " << condition.name << (condition.unit.empty() ? "" : " [" + condition.unit + "]")
            << ": " << number(condition.support.min) << " to " << number(condition.support.max)
            << ", median " << number(median) << "  (" << condition.description << ")\n";
    }
    out << "members: " << file.members.size() << "\n";
    std::map<std::string, int> origins;
    for (const auto& member : file.members) {
        ++origins[member.origin];
    }
    for (const auto& [origin, count] : origins) {
        out << "  " << count << " x " << origin << "\n";
    }
    if (!provenance.hyperparameters.empty()) {
        out << "hyperparameters\n";
        for (const auto& entry : provenance.hyperparameters) {
            // A value of several lines (the trainer's whole configuration) goes
            // below its key, indented, so that its lines do not read as keys.
            if (entry.value.find('\n') == std::string::npos) {
                out << "  " << entry.key << " = " << entry.value << "\n";
                continue;
            }
            out << "  " << entry.key << ":\n";
            std::istringstream lines(entry.value);
            for (std::string line; std::getline(lines, line);) {
                out << "    " << line << "\n";
            }
        }
    }
    if (!provenance.metrics.empty()) {
        out << "metrics\n";
        for (const auto& metric : provenance.metrics) {
            out << "  " << metric.key << " = " << number(metric.value) << "\n";
        }
    }
    out << "support: " << file.support.n_jets << " training jets, out of support beyond distance "
        << number(file.support.distance_threshold) << "\n";
    write_output(out.str(), arguments);
    return 0;
}

int run_verify(const Arguments& arguments) {
    const auto& path = file_argument(arguments);
    const cs::Surrogate surrogate = cs::Surrogate::load(path);
    std::ostringstream out;
    out << "ok: " << path << " (checksum 0x" << std::hex << surrogate.file().checksum << std::dec
        << ", " << surrogate.file().test_vectors.size() << " test vectors reproduced to "
        << surrogate.file().test_tolerance << ", " << surrogate.n_members() << " members)\n";
    write_output(out.str(), arguments);
    return 0;
}

std::vector<cs::Conditions> input_jets(const cs::Surrogate& surrogate, const Arguments& arguments) {
    if (!arguments.has("--input")) {
        throw UsageError(arguments.command + " needs --input JETS (CSV or JSON)");
    }
    auto jets = read_jets(arguments.get("--input", ""));
    if (jets.empty()) {
        throw std::runtime_error(arguments.get("--input", "") + ": no jets");
    }
    for (size_t i = 0; i < jets.size(); ++i) {
        check_jet(surrogate, jets[i], i);
    }
    return jets;
}

int run_query(const Arguments& arguments) {
    const cs::Surrogate surrogate = cs::Surrogate::load(file_argument(arguments));
    const auto jets = input_jets(surrogate, arguments);
    cs::QueryOptions query;
    query.quantile_levels =
        parse_list(arguments.get("--levels", "0.05,0.16,0.5,0.84,0.95"), "--levels");
    query.cuts = parse_list(arguments.get("--cuts", "0.5"), "--cuts");
    const bool per_member = arguments.has("--per-member");
    const std::string format = arguments.get("--format", "csv");
    if (format != "csv" && format != "json") {
        throw UsageError("--format must be csv or json");
    }

    // Matrix of conditions in file order, through the lower-level API so the solver
    // options of the command line apply.
    const auto& ensemble = surrogate.ensemble();
    const auto names = surrogate.condition_names();
    Eigen::MatrixXd conditions(static_cast<Eigen::Index>(jets.size()),
                               static_cast<Eigen::Index>(names.size()));
    for (size_t j = 0; j < jets.size(); ++j) {
        for (size_t c = 0; c < names.size(); ++c) {
            conditions(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c)) =
                jets[j].at(names[c]);
        }
    }
    const auto summaries = ensemble.summarize(conditions, query, solver_from(ensemble, arguments));

    // One record per jet: named columns in a fixed order.
    std::vector<std::string> columns = names;
    for (const char* name :
         {"mean_score", "aleatoric_std", "epistemic_std", "total_std", "same_noise_spread"}) {
        columns.emplace_back(name);
    }
    for (double cut : query.cuts) {
        columns.push_back(level_name("tag_probability_", cut));
        columns.push_back(level_name("tag_probability_std_", cut));
    }
    for (double level : query.quantile_levels) {
        columns.push_back(level_name("quantile_", level));
        columns.push_back(level_name("quantile_lower_", level));
        columns.push_back(level_name("quantile_upper_", level));
    }
    if (per_member) {
        for (size_t m = 0; m < surrogate.n_members(); ++m) {
            for (double cut : query.cuts) {
                columns.push_back("member" + std::to_string(m) +
                                  level_name("_tag_probability_", cut));
            }
            for (double level : query.quantile_levels) {
                columns.push_back("member" + std::to_string(m) + level_name("_quantile_", level));
            }
        }
    }
    columns.emplace_back("support_distance");
    columns.emplace_back("support_distance_quantile");
    columns.emplace_back("out_of_support");

    std::vector<std::vector<double>> records;
    for (size_t j = 0; j < jets.size(); ++j) {
        const auto& s = summaries[j];
        std::vector<double> record;
        for (const auto& name : names) {
            record.push_back(jets[j].at(name));
        }
        for (double value :
             {s.mean_score, s.aleatoric_std, s.epistemic_std, s.total_std, s.same_noise_spread}) {
            record.push_back(value);
        }
        for (size_t k = 0; k < query.cuts.size(); ++k) {
            record.push_back(s.tag_probability[k]);
            record.push_back(s.tag_probability_std[k]);
        }
        for (size_t l = 0; l < query.quantile_levels.size(); ++l) {
            record.push_back(s.quantiles[l]);
            record.push_back(s.quantile_lower[l]);
            record.push_back(s.quantile_upper[l]);
        }
        if (per_member) {
            for (size_t m = 0; m < surrogate.n_members(); ++m) {
                for (double p : s.member_tag_probability[m]) {
                    record.push_back(p);
                }
                for (double q : s.member_quantiles[m]) {
                    record.push_back(q);
                }
            }
        }
        record.push_back(s.support.distance);
        record.push_back(s.support.distance_quantile);
        record.push_back(s.support.out_of_support ? 1.0 : 0.0);
        records.push_back(std::move(record));
    }

    std::ostringstream out;
    if (format == "csv") {
        for (size_t c = 0; c < columns.size(); ++c) {
            out << (c ? "," : "") << columns[c];
        }
        out << "\n";
        for (const auto& record : records) {
            for (size_t c = 0; c < record.size(); ++c) {
                out << (c ? "," : "") << number(record[c]);
            }
            out << "\n";
        }
    } else {
        out << "[\n";
        for (size_t j = 0; j < records.size(); ++j) {
            out << "  {";
            for (size_t c = 0; c < columns.size(); ++c) {
                out << (c ? ", " : "") << "\"" << columns[c] << "\": " << number(records[j][c]);
            }
            out << "}" << (j + 1 < records.size() ? "," : "") << "\n";
        }
        out << "]\n";
    }
    write_output(out.str(), arguments);
    return 0;
}

int run_sample(const Arguments& arguments) {
    const cs::Surrogate surrogate = cs::Surrogate::load(file_argument(arguments));
    const auto jets = input_jets(surrogate, arguments);
    const double n = parse_number(arguments.get("--n", "100"), "--n");
    const double seed = parse_number(arguments.get("--seed", "1"), "--seed");
    const double first = parse_number(arguments.get("--first-jet", "0"), "--first-jet");
    if (n < 1 || n > 1e7 || n != std::floor(n)) {
        throw std::runtime_error("--n must be a whole number from 1 to 10^7");
    }
    if (seed < 0 || seed != std::floor(seed) || first < 0 || first != std::floor(first)) {
        throw std::runtime_error("--seed and --first-jet must be non-negative whole numbers");
    }
    const auto& ensemble = surrogate.ensemble();
    const auto names = surrogate.condition_names();
    Eigen::MatrixXd conditions(static_cast<Eigen::Index>(jets.size()),
                               static_cast<Eigen::Index>(names.size()));
    for (size_t j = 0; j < jets.size(); ++j) {
        for (size_t c = 0; c < names.size(); ++c) {
            conditions(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c)) =
                jets[j].at(names[c]);
        }
    }
    Eigen::Matrix<uint32_t, Eigen::Dynamic, Eigen::Dynamic> members;
    const Eigen::MatrixXd scores = ensemble.sample(
        conditions, static_cast<uint32_t>(n), static_cast<uint64_t>(seed),
        static_cast<uint64_t>(first), solver_from(ensemble, arguments), -1, &members);
    std::ostringstream out;
    out << "jet,draw,member,score\n";
    for (Eigen::Index j = 0; j < scores.rows(); ++j) {
        for (Eigen::Index k = 0; k < scores.cols(); ++k) {
            out << static_cast<uint64_t>(first) + static_cast<uint64_t>(j) << "," << k << ","
                << members(j, k) << "," << number(scores(j, k)) << "\n";
        }
    }
    write_output(out.str(), arguments);
    return 0;
}

int run_demo_file(const Arguments& arguments) {
    if (!arguments.has("--output")) {
        throw UsageError("demo-file needs --output FILE");
    }
    const double members = parse_number(arguments.get("--members", "11"), "--members");
    if (members < 1 || members > 1000 || members != std::floor(members)) {
        throw std::runtime_error("--members must be a whole number from 1 to 1000");
    }
    const auto file =
        cs::runtime::make_demonstration_surrogate(static_cast<uint32_t>(members), 2024);
    const auto encoding =
        arguments.has("--json") ? cs::format::Encoding::json : cs::format::Encoding::binary;
    cs::format::write_file(file, arguments.get("--output", ""), encoding);
    std::cerr << "wrote the demonstration surrogate (" << file.members.size()
              << " members; not a trained model) to " << arguments.get("--output", "") << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Arguments arguments = parse_arguments(argc, argv);
        if (arguments.has("--help") || arguments.command == "help") {
            std::cout << kUsage;
            return 0;
        }
        if (arguments.command == "inspect") {
            return run_inspect(arguments);
        }
        if (arguments.command == "verify") {
            return run_verify(arguments);
        }
        if (arguments.command == "query") {
            return run_query(arguments);
        }
        if (arguments.command == "sample") {
            return run_sample(arguments);
        }
        if (arguments.command == "demo-file") {
            return run_demo_file(arguments);
        }
        throw UsageError(arguments.command.empty()
                             ? "no command given"
                             : "unknown command \"" + arguments.command + "\"");
    } catch (const UsageError& error) {
        std::cerr << "surrogate: " << error.what() << " (see surrogate --help)\n";
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "surrogate: " << error.what() << "\n";
        return 1;
    }
}
