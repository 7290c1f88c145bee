// The score transform, normalizations and splits.
#include "cs/data/transform.hpp"

#include <algorithm>
#include <cmath>

#include "cs/data/error.hpp"
#include "cs/random.hpp"

namespace cs::data {

double score_to_target(double score, double clip) {
    const double clipped = std::clamp(score, clip, 1.0 - clip);
    return std::log(clipped / (1.0 - clipped)) / kLogitScale;
}

double target_to_score(double target) {
    const double logit = kLogitScale * target;
    if (logit >= 0.0) {
        return 1.0 / (1.0 + std::exp(-logit));
    }
    const double odds = std::exp(logit);
    return odds / (1.0 + odds);
}

void scores_to_targets(std::vector<float>& scores, double clip) {
    for (float& score : scores) {
        score = static_cast<float>(score_to_target(score, clip));
    }
}

Normalization fit_normalization(const Table& table, const std::vector<std::string>& names) {
    Normalization normalization;
    for (const auto& name : names) {
        const auto& values = table.column(name);

        // two passes in double: the mean, then the spread around it
        double sum = 0.0;
        for (float value : values) {
            sum += value;
        }
        const double mean = values.empty() ? 0.0 : sum / static_cast<double>(values.size());
        double squares = 0.0;
        for (float value : values) {
            squares += (value - mean) * (value - mean);
        }
        const double variance = values.empty() ? 0.0 : squares / static_cast<double>(values.size());
        const double deviation = std::sqrt(variance);

        normalization.names.push_back(name);
        normalization.offset.push_back(mean);
        normalization.scale.push_back(deviation > 0.0 ? deviation : 1.0);
    }
    return normalization;
}

namespace {

struct Constant {
    const char* name;
    double mean;
    double deviation;
};

// From the reference code's normalization of processed JetClass (DESIGN.md).
constexpr Constant kJetClassConstants[] = {
    {"label_top", 0.5, 0.5},
    {"jet_pt", 623.166764, 109.143856},
    {"jet_eta", 7.92356175e-05, 0.875131335},
    {"jet_phi", -3.36014642e-04, 1.81404007},
    {"jet_energy", 906.941547, 349.699836},
    {"jet_nparticles", 43.0536727, 16.9453641},
    {"jet_sdmass", 107.352269, 76.0797433},
    {"jet_tau1", 0.184643913, 0.118626813},
    {"jet_tau2", 0.0886405459, 0.0576037338},
    {"jet_tau3", 0.0494997103, 0.0298865181},
    {"jet_tau4", 0.0385121050, 0.0216299983},
};

}  // namespace

std::vector<std::string> jetclass_normalized_columns() {
    std::vector<std::string> names;
    for (const auto& constant : kJetClassConstants) {
        names.emplace_back(constant.name);
    }
    return names;
}

Normalization jetclass_normalization(const std::vector<std::string>& names) {
    Normalization normalization;
    for (const auto& name : names) {
        const auto* found =
            std::find_if(std::begin(kJetClassConstants), std::end(kJetClassConstants),
                         [&](const Constant& c) { return name == c.name; });
        if (found == std::end(kJetClassConstants)) {
            std::string known;
            for (const auto& constant : kJetClassConstants) {
                known += (known.empty() ? "" : ", ") + std::string(constant.name);
            }
            throw DataError(
                DataError::Kind::invalid_argument, "",
                "no JetClass normalization constant for '" + name + "' (known: " + known + ")");
        }
        normalization.names.push_back(name);
        normalization.offset.push_back(found->mean);
        normalization.scale.push_back(found->deviation);
    }
    return normalization;
}

void normalize(Table& table, const Normalization& normalization) {
    for (std::size_t i = 0; i < normalization.size(); ++i) {
        for (float& value : table.column(normalization.names[i])) {
            value = static_cast<float>((value - normalization.offset[i]) / normalization.scale[i]);
        }
    }
}

void denormalize(Table& table, const Normalization& normalization) {
    for (std::size_t i = 0; i < normalization.size(); ++i) {
        for (float& value : table.column(normalization.names[i])) {
            value = static_cast<float>(value * normalization.scale[i] + normalization.offset[i]);
        }
    }
}

namespace {

// A stream of the project's generator reserved for splits.
constexpr std::uint32_t kSplitStream = 0x5350u;

}  // namespace

bool is_validation_row(std::size_t row, double validation_fraction, std::uint64_t seed) {
    const CounterRandom random(seed, kSplitStream);
    return random.uniform(row, 0) < validation_fraction;
}

Split split_rows(std::size_t rows, double validation_fraction, std::uint64_t seed) {
    if (!(validation_fraction >= 0.0 && validation_fraction <= 1.0)) {
        throw DataError(DataError::Kind::invalid_argument, "",
                        "validation fraction " + std::to_string(validation_fraction) +
                            " (expected a number in [0, 1])");
    }
    Split split;
    for (std::size_t row = 0; row < rows; ++row) {
        auto& part =
            is_validation_row(row, validation_fraction, seed) ? split.validation : split.train;
        part.push_back(row);
    }
    return split;
}

Table take_rows(const Table& table, const std::vector<std::size_t>& rows) {
    Table taken;
    taken.names = table.names;
    taken.columns.resize(table.columns.size());
    for (std::size_t column = 0; column < table.columns.size(); ++column) {
        taken.columns[column].reserve(rows.size());
        for (std::size_t row : rows) {
            taken.columns[column].push_back(table.columns[column].at(row));
        }
    }
    return taken;
}

}  // namespace cs::data
