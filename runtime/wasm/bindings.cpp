// The runtime as seen from JavaScript: open a surrogate file, read its card, summarize
// jets, draw Monte Carlo scores. Every call answers a JSON string, {"ok": true, ...}
// or {"ok": false, "error": "..."}; no C++ exception ever reaches JavaScript. Numbers
// are written with "%.8g", as the `surrogate` command prints them.
#include <emscripten/bind.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cs/format.hpp"
#include "cs/runtime/ensemble.hpp"
#include "cs/surrogate.hpp"

namespace {

// The page holds one surrogate at a time; opening another replaces it.
std::unique_ptr<cs::Surrogate> current;

// Requests larger than this are refused, so a mistaken call cannot exhaust memory.
constexpr size_t kMaxJetsPerCall = 10000;
constexpr size_t kMaxLevels = 999;
constexpr size_t kMaxCuts = 100;
constexpr double kMaxDraws = 100000;

class Json {
  public:
    Json() : writer_(buffer_) {}

    // Keys are string literals: taking them as const char* keeps a std::string
    // construction out of every call (4 KB of the module).
    void key(const char* name) { writer_.Key(name); }
    void text(const std::string& value) { writer_.String(value.c_str()); }
    void flag(bool value) { writer_.Bool(value); }
    void begin_object() { writer_.StartObject(); }
    void end_object() { writer_.EndObject(); }
    void begin_array() { writer_.StartArray(); }
    void end_array() { writer_.EndArray(); }

    // "%.8g" like the command line; JSON has no infinities, so they become null.
    void number(double value) { printed(value, "%.8g"); }

    // "%.17g": the double itself, for numbers that travel between workers.
    void exact(double value) { printed(value, "%.17g"); }

    void numbers(const std::vector<double>& values) {
        begin_array();
        for (double value : values) {
            number(value);
        }
        end_array();
    }

    void field(const char* name, const std::string& value) {
        key(name);
        text(value);
    }

    void field(const char* name, double value) {
        key(name);
        number(value);
    }

    std::string str() const { return buffer_.GetString(); }

  private:
    void printed(double value, const char* format) {
        if (!std::isfinite(value)) {
            writer_.Null();
            return;
        }
        char text[32];
        const int length = std::snprintf(text, sizeof text, format, value);
        writer_.RawValue(text, static_cast<size_t>(length), rapidjson::kNumberType);
    }

    rapidjson::StringBuffer buffer_;
    rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

std::string failure(const std::string& message) {
    Json json;
    json.begin_object();
    json.key("ok");
    json.flag(false);
    json.field("error", message);
    json.end_object();
    return json.str();
}

// Runs `answer` and turns anything it throws into {"ok": false, "error": ...}.
template <typename Function>
std::string guarded(Function answer) {
    try {
        return answer();
    } catch (const cs::FormatError& error) {
        return failure(std::string("not a usable surrogate file: ") + error.what());
    } catch (const cs::EvaluationError& error) {
        return failure(error.what());
    } catch (const std::exception& error) {
        return failure(error.what());
    } catch (...) {
        return failure("unknown error in the runtime");
    }
}

const cs::Surrogate& opened() {
    if (!current) {
        throw std::runtime_error("no surrogate is open");
    }
    return *current;
}

void write_card(Json& json, const cs::format::SurrogateFile& file) {
    const auto& provenance = file.provenance;
    json.field("format",
               std::to_string(file.format_major) + "." + std::to_string(file.format_minor));
    json.field("producer", file.producer + " " + file.producer_version);
    json.field("tagger", provenance.tagger);
    json.field("training_data", provenance.training_data);
    json.field("method", provenance.method);
    json.field("created", provenance.created);
    json.field("description", provenance.description);
    json.key("demonstration");
    json.flag(provenance.method == "demonstration");

    json.key("hyperparameters");
    json.begin_array();
    for (const auto& entry : provenance.hyperparameters) {
        json.begin_object();
        json.field("key", entry.key);
        json.field("value", entry.value);
        json.end_object();
    }
    json.end_array();
    json.key("metrics");
    json.begin_array();
    for (const auto& metric : provenance.metrics) {
        json.begin_object();
        json.field("key", metric.key);
        json.field("value", metric.value);
        json.end_object();
    }
    json.end_array();

    json.key("conditions");
    json.begin_array();
    for (const auto& condition : file.conditions) {
        json.begin_object();
        json.field("name", condition.name);
        json.field("unit", condition.unit);
        json.field("description", condition.description);
        json.field("offset", condition.offset);
        json.field("scale", condition.scale);
        json.field("min", condition.support.min);
        json.field("max", condition.support.max);
        json.key("quantile_levels");
        json.numbers(condition.support.quantile_levels);
        json.key("quantiles");
        json.numbers(condition.support.quantiles);
        json.end_object();
    }
    json.end_array();

    // Members grouped by origin, in the order they first appear.
    std::vector<std::string> origins;
    std::map<std::string, int> counts;
    for (const auto& member : file.members) {
        if (counts[member.origin]++ == 0) {
            origins.push_back(member.origin);
        }
    }
    json.key("members");
    json.begin_array();
    for (const auto& origin : origins) {
        json.begin_object();
        json.field("origin", origin);
        json.field("count", counts[origin]);
        json.end_object();
    }
    json.end_array();
    json.field("n_members", static_cast<double>(file.members.size()));
    json.field("parameters_per_member", static_cast<double>(cs::format::parameter_count(
                                            file.architecture, file.conditions.size())));
    json.field("architecture", std::to_string(file.architecture.n_blocks) + " blocks x " +
                                   std::to_string(file.architecture.layers_per_block) +
                                   " layers, width " + std::to_string(file.architecture.width) +
                                   ", " + file.architecture.activation);
    json.field("solver", file.solver.method + " (" + file.solver.step_control + " steps)");
    json.field("solver_atol", file.solver.atol);
    json.field("solver_rtol", file.solver.rtol);
    json.field("support_jets", static_cast<double>(file.support.n_jets));
    json.field("support_threshold", file.support.distance_threshold);
}

std::string open_surrogate(const std::string& bytes) {
    return guarded([&] {
        auto surrogate = std::make_unique<cs::Surrogate>(cs::Surrogate::from_bytes(bytes));
        current = std::move(surrogate);
        Json json;
        json.begin_object();
        json.key("ok");
        json.flag(true);
        json.key("card");
        json.begin_object();
        write_card(json, current->file());
        json.end_object();
        json.end_object();
        return json.str();
    });
}

std::vector<double> number_list(const rapidjson::Value& request, const char* name, size_t limit) {
    if (!request.HasMember(name) || !request[name].IsArray()) {
        throw std::runtime_error(std::string("request: \"") + name +
                                 "\" must be an array of numbers");
    }
    const auto& array = request[name];
    if (array.Size() == 0 || array.Size() > limit) {
        throw std::runtime_error(std::string("request: \"") + name + "\" holds " +
                                 std::to_string(array.Size()) + " numbers; expected 1 to " +
                                 std::to_string(limit));
    }
    std::vector<double> values;
    for (rapidjson::SizeType i = 0; i < array.Size(); ++i) {
        if (!array[i].IsNumber()) {
            throw std::runtime_error(std::string("request: ") + name + "[" + std::to_string(i) +
                                     "] is not a number");
        }
        const double value = array[i].GetDouble();
        if (!(value > 0.0 && value < 1.0)) {
            throw std::runtime_error(std::string("request: ") + name + "[" + std::to_string(i) +
                                     "] = " + std::to_string(value) +
                                     "; expected a number in (0, 1)");
        }
        values.push_back(value);
    }
    return values;
}

std::vector<cs::Conditions> request_jets(const rapidjson::Value& request) {
    if (!request.HasMember("jets") || !request["jets"].IsArray()) {
        throw std::runtime_error("request: \"jets\" must be an array of objects");
    }
    const auto& array = request["jets"];
    if (array.Size() == 0 || array.Size() > kMaxJetsPerCall) {
        throw std::runtime_error("request: " + std::to_string(array.Size()) +
                                 " jets; expected 1 to " + std::to_string(kMaxJetsPerCall));
    }
    std::vector<cs::Conditions> jets;
    for (rapidjson::SizeType j = 0; j < array.Size(); ++j) {
        const std::string where = "jet " + std::to_string(j);
        if (!array[j].IsObject()) {
            throw std::runtime_error(where + ": expected an object of condition name -> number");
        }
        cs::Conditions jet;
        for (auto member = array[j].MemberBegin(); member != array[j].MemberEnd(); ++member) {
            const std::string name = member->name.GetString();
            if (!member->value.IsNumber()) {
                throw std::runtime_error(where + ": " + name + " is not a number");
            }
            jet[name] = member->value.GetDouble();
        }
        jets.push_back(std::move(jet));
    }
    return jets;
}

void write_summary(Json& json, const cs::JetSummary& summary) {
    json.begin_object();
    json.key("quantile_levels");
    json.numbers(summary.quantile_levels);
    json.key("quantiles");
    json.numbers(summary.quantiles);
    json.key("quantile_lower");
    json.numbers(summary.quantile_lower);
    json.key("quantile_upper");
    json.numbers(summary.quantile_upper);
    json.key("member_quantiles");
    json.begin_array();
    for (const auto& member : summary.member_quantiles) {
        json.numbers(member);
    }
    json.end_array();

    json.key("cuts");
    json.numbers(summary.cuts);
    json.key("tag_probability");
    json.numbers(summary.tag_probability);
    json.key("tag_probability_std");
    json.numbers(summary.tag_probability_std);
    json.key("member_tag_probability");
    json.begin_array();
    for (const auto& member : summary.member_tag_probability) {
        json.numbers(member);
    }
    json.end_array();

    json.field("mean_score", summary.mean_score);
    json.key("member_mean_score");
    json.numbers(summary.member_mean_score);
    json.field("aleatoric_std", summary.aleatoric_std);
    json.field("epistemic_std", summary.epistemic_std);
    json.field("total_std", summary.total_std);
    json.field("same_noise_spread", summary.same_noise_spread);

    json.key("support");
    json.begin_object();
    json.field("distance", summary.support.distance);
    json.field("distance_quantile", summary.support.distance_quantile);
    json.key("out_of_support");
    json.flag(summary.support.out_of_support);
    json.key("outside_range");
    json.begin_array();
    for (const auto& name : summary.support.outside_range) {
        json.text(name);
    }
    json.end_array();
    json.end_object();
    json.end_object();
}

// Numbers are parsed to the nearest double, as strtod reads the command line's input.
void parse_request(const std::string& text, rapidjson::Document& request) {
    request.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str());
    if (request.HasParseError() || !request.IsObject()) {
        throw std::runtime_error("request: not a JSON object");
    }
}

// A whole number in [low, high] from request[name].
uint64_t whole_number(const rapidjson::Value& request, const char* name, double low, double high) {
    if (!request.HasMember(name) || !request[name].IsNumber()) {
        throw std::runtime_error(std::string("request: \"") + name + "\" must be a number");
    }
    const double value = request[name].GetDouble();
    if (!(value >= low && value <= high) || value != std::floor(value)) {
        throw std::runtime_error(std::string("request: ") + name + " = " + std::to_string(value) +
                                 "; expected a whole number from " + std::to_string(low) + " to " +
                                 std::to_string(high));
    }
    return static_cast<uint64_t>(value);
}

cs::QueryOptions request_query(const rapidjson::Value& request) {
    cs::QueryOptions query;
    query.quantile_levels = number_list(request, "levels", kMaxLevels);
    query.cuts = number_list(request, "cuts", kMaxCuts);
    return query;
}

// The jets as a matrix in the file's order of conditions; the support check names a
// missing, unknown or non-finite condition.
Eigen::MatrixXd condition_matrix(const cs::Surrogate& surrogate,
                                 const std::vector<cs::Conditions>& jets) {
    const auto names = surrogate.condition_names();
    Eigen::MatrixXd conditions(static_cast<Eigen::Index>(jets.size()),
                               static_cast<Eigen::Index>(names.size()));
    for (size_t j = 0; j < jets.size(); ++j) {
        surrogate.check_support(jets[j]);
        for (size_t c = 0; c < names.size(); ++c) {
            conditions(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c)) =
                jets[j].at(names[c]);
        }
    }
    return conditions;
}

std::string summaries_answer(const std::vector<cs::JetSummary>& summaries) {
    Json json;
    json.begin_object();
    json.key("ok");
    json.flag(true);
    json.key("jets");
    json.begin_array();
    for (const auto& summary : summaries) {
        write_summary(json, summary);
    }
    json.end_array();
    json.end_object();
    return json.str();
}

// request: {"jets": [{name: value, ...}, ...], "levels": [...], "cuts": [...]}. The
// jets are answered as one batch, through the file's default solver, as
// `surrogate query` answers the jets of one input file.
std::string summarize(const std::string& request_text) {
    return guarded([&] {
        const cs::Surrogate& surrogate = opened();
        rapidjson::Document request;
        parse_request(request_text, request);
        const auto query = request_query(request);
        return summaries_answer(surrogate.summarize(request_jets(request), query));
    });
}

// What solveMembers and combine read first: the request, its levels and cuts, and
// its jets as a matrix, for the open surrogate.
const cs::Surrogate& summary_request(const std::string& text, rapidjson::Document& request,
                                     cs::QueryOptions& query, Eigen::MatrixXd& conditions) {
    const cs::Surrogate& surrogate = opened();
    parse_request(text, request);
    query = request_query(request);
    conditions = condition_matrix(surrogate, request_jets(request));
    return surrogate;
}

// The page's workers split a summary by members: each solves some members
// (solveMembers), one joins the solutions of all (combine), and the answer is
// summarize()'s to the last bit, because the solutions travel as "%.17g".

// request: summarize's, with "first_member" and "members" (how many), and optionally
// "quantiles": false, which leaves the quantiles out: the page keeps a jet's quantile
// solutions, so a new working point for the same jet needs only the backward solves.
// answer: {"ok": true, "quantiles": [per member: jets x summary levels, jet by jet],
// "tag_probability": [per member: jets x cuts]}.
std::string solve_members(const std::string& request_text) {
    return guarded([&] {
        rapidjson::Document request;
        cs::QueryOptions query;
        Eigen::MatrixXd conditions;
        const cs::Surrogate& surrogate = summary_request(request_text, request, query, conditions);
        const double n = static_cast<double>(surrogate.n_members());
        const auto first = static_cast<Eigen::Index>(whole_number(request, "first_member", 0, n));
        const auto count = static_cast<Eigen::Index>(whole_number(request, "members", 1, n));
        bool with_quantiles = true;
        if (request.HasMember("quantiles")) {
            if (!request["quantiles"].IsBool()) {
                throw std::runtime_error("request: \"quantiles\" must be true or false");
            }
            with_quantiles = request["quantiles"].GetBool();
        }
        const auto& ensemble = surrogate.ensemble();
        const auto& options = ensemble.default_solver();
        cs::runtime::Ensemble::MemberSolutions solutions;
        if (with_quantiles) {
            solutions = ensemble.solve_members(conditions, query, options, first, count);
        } else {
            solutions.tag_probability =
                ensemble.tag_probability(conditions, query.cuts, options, first, count);
        }

        Json json;
        json.begin_object();
        json.key("ok");
        json.flag(true);
        const auto write = [&json](const char* name, const std::vector<Eigen::MatrixXd>& all) {
            json.key(name);
            json.begin_array();
            for (const auto& matrix : all) {
                json.begin_array();
                for (Eigen::Index j = 0; j < matrix.rows(); ++j) {
                    for (Eigen::Index k = 0; k < matrix.cols(); ++k) {
                        json.exact(matrix(j, k));
                    }
                }
                json.end_array();
            }
            json.end_array();
        };
        if (with_quantiles) {
            write("quantiles", solutions.quantiles);
        }
        write("tag_probability", solutions.tag_probability);
        json.end_object();
        return json.str();
    });
}

// request[name]: one array per member of rows x cols numbers, jet by jet.
std::vector<Eigen::MatrixXd> member_matrices(const rapidjson::Value& request, const char* name,
                                             size_t n_members, Eigen::Index rows,
                                             Eigen::Index cols) {
    if (!request.HasMember(name) || !request[name].IsArray() || request[name].Size() != n_members) {
        throw std::runtime_error(std::string("request: \"") + name + "\" must hold one array per " +
                                 "member, " + std::to_string(n_members) + " in all");
    }
    std::vector<Eigen::MatrixXd> matrices;
    for (rapidjson::SizeType m = 0; m < n_members; ++m) {
        const auto& values = request[name][m];
        const std::string where = std::string("request: ") + name + "[" + std::to_string(m) + "]";
        if (!values.IsArray() || values.Size() != static_cast<size_t>(rows * cols)) {
            throw std::runtime_error(where + " must hold " + std::to_string(rows * cols) +
                                     " numbers");
        }
        Eigen::MatrixXd matrix(rows, cols);
        for (Eigen::Index j = 0; j < rows; ++j) {
            for (Eigen::Index k = 0; k < cols; ++k) {
                const auto& value = values[static_cast<rapidjson::SizeType>(j * cols + k)];
                if (!value.IsNumber()) {
                    throw std::runtime_error(where + " holds something that is not a number");
                }
                matrix(j, k) = value.GetDouble();
            }
        }
        matrices.push_back(std::move(matrix));
    }
    return matrices;
}

// request: summarize's, with "quantiles" and "tag_probability" as solveMembers
// answers them, joined over every member in order. answer: summarize's.
std::string combine(const std::string& request_text) {
    return guarded([&] {
        rapidjson::Document request;
        cs::QueryOptions query;
        Eigen::MatrixXd conditions;
        const cs::Surrogate& surrogate = summary_request(request_text, request, query, conditions);
        const auto& ensemble = surrogate.ensemble();
        const auto levels = static_cast<Eigen::Index>(ensemble.summary_levels(query).size());
        cs::runtime::Ensemble::MemberSolutions solutions;
        solutions.quantiles =
            member_matrices(request, "quantiles", surrogate.n_members(), conditions.rows(), levels);
        solutions.tag_probability =
            member_matrices(request, "tag_probability", surrogate.n_members(), conditions.rows(),
                            static_cast<Eigen::Index>(query.cuts.size()));
        return summaries_answer(ensemble.combine(conditions, query, solutions));
    });
}

// request: {"jets": [one jet], "n": draws, "seed": seed}. Monte Carlo scores from the
// ensemble, addressed as jet 0 of `surrogate sample --n N --seed S`, with the member
// that gave each draw.
std::string sample(const std::string& request_text) {
    return guarded([&] {
        const cs::Surrogate& surrogate = opened();
        rapidjson::Document request;
        parse_request(request_text, request);
        const auto jets = request_jets(request);
        if (jets.size() != 1) {
            throw std::runtime_error("request: sample takes one jet");
        }
        const auto n = static_cast<uint32_t>(whole_number(request, "n", 1, kMaxDraws));
        const uint64_t seed = whole_number(request, "seed", 0, 9007199254740991.0);

        const Eigen::MatrixXd conditions = condition_matrix(surrogate, jets);
        const auto& ensemble = surrogate.ensemble();
        Eigen::Matrix<uint32_t, Eigen::Dynamic, Eigen::Dynamic> members;
        const Eigen::MatrixXd scores =
            ensemble.sample(conditions, n, seed, 0, ensemble.default_solver(), -1, &members);

        Json json;
        json.begin_object();
        json.key("ok");
        json.flag(true);
        json.key("scores");
        json.begin_array();
        for (Eigen::Index k = 0; k < scores.cols(); ++k) {
            json.number(scores(0, k));
        }
        json.end_array();
        json.key("members");
        json.begin_array();
        for (Eigen::Index k = 0; k < members.cols(); ++k) {
            json.number(members(0, k));
        }
        json.end_array();
        json.end_object();
        return json.str();
    });
}

}  // namespace

EMSCRIPTEN_BINDINGS(classifier_surrogates) {
    emscripten::function("openSurrogate", &open_surrogate);
    emscripten::function("summarize", &summarize);
    emscripten::function("sample", &sample);
    emscripten::function("solveMembers", &solve_members);
    emscripten::function("combine", &combine);
}
