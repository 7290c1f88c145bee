// What the trainer does to columns before learning: the score transform
// x = logit(p) / 20 of arXiv:2402.15558, per-condition normalization
// (value - offset) / scale, and a deterministic train/validation split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cs/data/table.hpp"

namespace cs::data {

// The divisor of the logit in the reference model.
inline constexpr double kLogitScale = 20.0;

// Scores are clipped to [kScoreClip, 1 - kScoreClip] before the logit, so that
// scores of exactly 0 or 1 (a float32 tagger output saturates there) map to
// finite targets: |x| <= logit(1 - 1e-7) / 20 = 0.806. 1e-7 is about the spacing
// of float32 just below 1 (5.96e-8), so no distinct float32 score below 1 but the
// last one is moved.
inline constexpr double kScoreClip = 1e-7;

// x = logit(clip(p)) / 20.
double score_to_target(double score, double clip = kScoreClip);
// p = sigmoid(20 x), computed without overflow for any x.
double target_to_score(double target);

// In place on a column of scores.
void scores_to_targets(std::vector<float>& scores, double clip = kScoreClip);

// normalized = (value - offset) / scale, per named column.
struct Normalization {
    std::vector<std::string> names;
    std::vector<double> offset;
    std::vector<double> scale;

    std::size_t size() const { return names.size(); }
};

// Mean and standard deviation of each named column of the table (the training
// data); a column of one constant value gets scale 1 rather than 0.
Normalization fit_normalization(const Table& table, const std::vector<std::string>& names);

// The fixed constants of the reference for processed JetClass columns (DESIGN.md):
// throws DataError (invalid_argument) for a name without a constant, listing those known.
Normalization jetclass_normalization(const std::vector<std::string>& names);

// The names that have JetClass constants.
std::vector<std::string> jetclass_normalized_columns();

// Applies or undoes the normalization on the table's columns of those names.
void normalize(Table& table, const Normalization& normalization);
void denormalize(Table& table, const Normalization& normalization);

// Rows of a table split into training and validation. Row r goes to validation
// when a counter-based uniform number of (seed, r) is below the fraction, so the
// split of a row never depends on the others or on chunking; the validation size
// is therefore binomial around fraction * rows.
struct Split {
    std::vector<std::size_t> train;
    std::vector<std::size_t> validation;
};

Split split_rows(std::size_t rows, double validation_fraction, std::uint64_t seed);

// Whether row r belongs to validation; split_rows uses it.
bool is_validation_row(std::size_t row, double validation_fraction, std::uint64_t seed);

// The rows of a table at the given indices, in that order.
Table take_rows(const Table& table, const std::vector<std::size_t>& rows);

}  // namespace cs::data
