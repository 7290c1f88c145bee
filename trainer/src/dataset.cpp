// From a table of jets to normalized training and validation samples.
#include <cmath>

#include "cs/data/error.hpp"
#include "cs/trainer/dataset.hpp"
#include "cs/trainer/options.hpp"

namespace cs::trainer {
namespace {

Samples samples_of(const data::Table& table, const std::vector<std::string>& conditions,
                   const std::string& score) {
    Samples samples;
    samples.n_conditions = conditions.size();
    const size_t rows = table.rows();
    samples.conditions.resize(rows * conditions.size());
    for (size_t c = 0; c < conditions.size(); ++c) {
        const std::vector<float>& column = table.column(conditions[c]);
        for (size_t r = 0; r < rows; ++r) {
            samples.conditions[r * conditions.size() + c] = column[r];
        }
    }
    samples.targets = table.column(score);
    return samples;
}

}  // namespace

PreparedData prepare_data(const data::Table& table, const DataOptions& options) {
    if (options.conditions.empty()) {
        throw TrainingError("data: no condition columns were named");
    }
    if (!(options.validation_fraction >= 0.0 && options.validation_fraction < 1.0)) {
        throw TrainingError("data: validation fraction must lie in [0, 1)");
    }

    // targets x = logit(score) / 20, then the split
    data::Table transformed = table;
    data::scores_to_targets(transformed.column(options.score));
    const data::Split split =
        data::split_rows(transformed.rows(), options.validation_fraction, options.split_seed);
    data::Table train = data::take_rows(transformed, split.train);
    data::Table validation = data::take_rows(transformed, split.validation);
    if (train.rows() == 0) {
        throw TrainingError("data: no rows are left for training");
    }

    // normalization from the training rows only, or the reference's constants
    PreparedData prepared;
    if (options.normalization == "fit") {
        prepared.normalization = data::fit_normalization(train, options.conditions);
    } else if (options.normalization == "jetclass") {
        prepared.normalization = data::jetclass_normalization(options.conditions);
    } else if (options.normalization == "given") {
        if (options.given_normalization.names != options.conditions) {
            throw TrainingError("data: the given normalization is not of the named conditions");
        }
        prepared.normalization = options.given_normalization;
    } else {
        throw TrainingError("data: unknown normalization \"" + options.normalization +
                            "\" (expected fit, jetclass or given)");
    }
    data::normalize(train, prepared.normalization);
    data::normalize(validation, prepared.normalization);

    prepared.train = samples_of(train, options.conditions, options.score);
    prepared.validation = samples_of(validation, options.conditions, options.score);
    prepared.dropped_rows = table.dropped_rows;
    return prepared;
}

PreparedData load_data(const DataOptions& options) {
    data::TableRequest request;
    request.columns = options.conditions;
    request.score = options.score;
    request.bad_rows = options.drop_bad_rows ? data::BadRows::drop : data::BadRows::fail;
    request.row_count = options.max_rows;
    const data::Table table = data::read_table(options.path, request);

    PreparedData prepared = prepare_data(table, options);
    std::string columns;
    for (const std::string& name : options.conditions) {
        columns += (columns.empty() ? "" : ", ") + name;
    }
    prepared.description = options.path + ": " + std::to_string(table.rows()) + " rows (" +
                           std::to_string(prepared.train.rows()) + " training, " +
                           std::to_string(prepared.validation.rows()) + " validation, " +
                           std::to_string(table.dropped_rows) + " dropped); conditions " + columns +
                           "; score " + options.score;
    return prepared;
}

}  // namespace cs::trainer
