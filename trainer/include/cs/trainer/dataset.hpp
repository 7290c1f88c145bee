// Training data as the trainer wants it: normalized conditions and targets
// x = logit(score) / 20, split into training and validation, read through the
// data library (pandas HDF5 or CSV).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cs/data/table.hpp"
#include "cs/data/transform.hpp"

namespace cs::trainer {

// Rows of normalized conditions (row-major, rows x n_conditions) and their targets.
struct Samples {
    std::vector<float> conditions;
    std::vector<float> targets;
    std::size_t n_conditions = 0;

    std::size_t rows() const { return targets.size(); }
};

struct DataOptions {
    std::string path;
    std::vector<std::string> conditions = {"label_top", "jet_pt",     "jet_eta",
                                           "jet_phi",   "jet_energy", "jet_nparticles"};
    std::string score = "jet_p_top_ParT_full";
    bool drop_bad_rows = false;
    double validation_fraction = 0.1;
    uint64_t split_seed = 7;
    // "fit" (mean and standard deviation of the training rows), "jetclass" (the
    // reference's fixed constants, DESIGN.md) or "given" (given_normalization, for
    // instance that of a surrogate file a chain starts from).
    std::string normalization = "fit";
    data::Normalization given_normalization;
    std::size_t max_rows = data::kAllRows;
};

struct PreparedData {
    Samples train;
    Samples validation;
    data::Normalization normalization;
    std::size_t dropped_rows = 0;
    std::string description;  // the file, its columns and the row counts
};

// Reads, transforms, splits and normalizes; throws data::DataError for bad files.
PreparedData load_data(const DataOptions& options);

// The same from columns in memory (physical conditions[c][row], scores in [0, 1]),
// for tests and callers that generate their data.
PreparedData prepare_data(const data::Table& table, const DataOptions& options);

}  // namespace cs::trainer
