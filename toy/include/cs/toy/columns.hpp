// The toy's jets as rows of the processed JetClass columns, and the streamed
// writing of whole datasets.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cs/data/table.hpp"
#include "cs/data/writer.hpp"
#include "cs/toy/truth.hpp"

namespace cs::toy {

inline constexpr const char* kScoreColumn = "jet_p_top_ParT_full";

// Every column a toy file has, in order: the processed JetClass columns, then the
// generator-level parton (aux_genpart_*), then toy-only columns (toy_*).
const std::vector<data::ColumnSpec>& jet_columns();

// The condition columns of the reference surrogate, with or without substructure.
std::vector<std::string> condition_columns(bool with_substructure);

// The truth's conditions from one row of a table read with condition_columns()
// (a toy file or a processed JetClass file); DataError if a column is missing.
Conditions conditions_from_row(const data::Table& table, std::size_t row, bool with_substructure);

// Appends the jet's values to columns (one vector per jet_columns() entry).
void append_row(const Jet& jet, std::vector<std::vector<double>>& columns);

// Writes jets [0, jets) of the generator to path (HDF5 or CSV by extension or
// options.format), atomically, in chunks of chunk_jets; progress(done) after each.
void write_dataset(const std::string& path, const Generator& generator, std::uint64_t jets,
                   const data::WriteOptions& options, std::size_t chunk_jets = 1u << 16,
                   const std::function<void(std::uint64_t)>& progress = {});

}  // namespace cs::toy
