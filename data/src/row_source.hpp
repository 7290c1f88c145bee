// What each file format implements: for TableReader, named columns and row ranges
// of the selected ones in double precision; for open_table_writer, a streamed writer.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cs/data/writer.hpp"

namespace cs::data {

class RowSource {
  public:
    virtual ~RowSource() = default;

    virtual const std::vector<std::string>& names() const = 0;
    virtual std::optional<std::size_t> rows() const = 0;

    // Replaces out[i] with rows [first, first + count) of file column columns[i];
    // returns how many rows there were (fewer than count at the end of the file).
    // Sources that stream (CSV) only accept first at or after the last row read.
    virtual std::size_t read(std::size_t first, std::size_t count,
                             const std::vector<std::size_t>& columns,
                             std::vector<std::vector<double>>& out) = 0;
};

std::unique_ptr<RowSource> open_hdf5_source(const std::string& path, const std::string& key);
std::unique_ptr<RowSource> open_csv_source(const std::string& path);

// The number of rows an append adds; DataError unless there are `expected` columns
// of one length.
std::size_t appended_rows(const std::string& path, const std::vector<std::vector<double>>& columns,
                          std::size_t expected);

std::unique_ptr<TableWriter> open_csv_writer(const std::string& path,
                                             std::vector<ColumnSpec> columns);
std::unique_ptr<TableWriter> open_hdf5_writer(const std::string& path,
                                              std::vector<ColumnSpec> columns,
                                              const WriteOptions& options);

}  // namespace cs::data
