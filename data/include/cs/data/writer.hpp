// Streamed writing of tables: rows are appended in chunks, so memory stays flat
// however many rows a file gets. HDF5 output uses pandas' fixed layout, so that
// pandas.read_hdf(path, "df") and this library's reader both read it; CSV output
// has a header line and no index column. Files appear only when complete.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "cs/data/table.hpp"

namespace cs::data {

enum class ColumnType { float32, float64, int64 };

struct ColumnSpec {
    std::string name;
    ColumnType type = ColumnType::float32;
};

struct WriteOptions {
    Format format = Format::automatic;
    std::string key = "df";
    int compression = 0;                // HDF5 deflate level 0 (none) to 9
    std::size_t chunk_rows = 1u << 16;  // HDF5 chunk and write-buffer length in rows
};

class TableWriter {
  public:
    virtual ~TableWriter() = default;  // without commit(), the partial file is removed

    // Appends rows: columns[c] holds the new values of column c, all of one length.
    // int64 columns take the values rounded to the nearest integer.
    virtual void append(const std::vector<std::vector<double>>& columns) = 0;

    // Writes what is buffered, closes the file and renames it into place.
    virtual void commit() = 0;

    virtual std::size_t rows() const = 0;
};

// Throws DataError (invalid_argument) for no columns or repeated names,
// (write_failed) when the temporary file cannot be created.
std::unique_ptr<TableWriter> open_table_writer(const std::string& path,
                                               std::vector<ColumnSpec> columns,
                                               const WriteOptions& options = {});

}  // namespace cs::data
