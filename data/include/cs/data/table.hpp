// Reading tables of jets: the selected columns of a pandas HDF5 file (fixed or
// table layout) or a CSV file, as float32 columns, whole or in chunks of rows.
//
//   TableRequest ──> TableReader ──next()──> Table (one chunk)  ──> ... ──> end
//        │                                     names, columns[c][row], rows dropped
//        └──────────> read_table() ──────────> Table (all rows)
//
// Only the requested columns are kept; a chunk holds max_rows rows of them, so
// memory stays proportional to the selection, not to the file.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cs/data/error.hpp"

namespace cs::data {

enum class Format {
    automatic,  // from the extension: .csv (also .csv.txt) is CSV, anything else HDF5
    hdf5,       // pandas HDF5, DataFrame.to_hdf(path, key=...), fixed or table layout
    csv,        // a header line of column names, then one row per line
};

// What to do with a row that has a non-finite value in a selected column, or a
// score outside [0, 1].
enum class BadRows {
    fail,  // throw DataError naming the column and the row
    drop,  // skip the row and count it (Table::dropped_rows, TableReader::dropped_rows)
};

inline constexpr std::size_t kAllRows = std::numeric_limits<std::size_t>::max();

struct TableRequest {
    std::vector<std::string> columns;  // the condition columns, in this order
    std::string score;                 // the score column; empty for none
    BadRows bad_rows = BadRows::fail;
    Format format = Format::automatic;
    std::string key = "df";     // the pandas key (HDF5 group) of the table
    std::size_t first_row = 0;  // row range in the file: [first_row, first_row + row_count)
    std::size_t row_count = kAllRows;
    // Deliver the score column as the target x = logit(p) / 20 (transform.hpp),
    // computed from the file's value in double precision: a float32 score near 1
    // would lose most of the digits of 1 - p that the logit needs.
    bool score_as_target = false;
};

// Selected columns of some rows, column-major: columns[c][row] belongs to names[c].
// names are the request's columns followed by its score column, if any. Values are
// read in double precision and stored as float32 (half the memory: 4 million rows of
// 12 columns take 192 MB).
struct Table {
    std::vector<std::string> names;
    std::vector<std::vector<float>> columns;
    std::size_t dropped_rows = 0;  // rows skipped under BadRows::drop while reading these

    std::size_t rows() const { return columns.empty() ? 0 : columns.front().size(); }

    // The column of that name; DataError (missing_column) listing the names if absent.
    const std::vector<float>& column(const std::string& name) const;
    std::vector<float>& column(const std::string& name);
    std::size_t index(const std::string& name) const;
};

class RowSource;

// Reads the selected columns of a file in consecutive chunks of rows.
class TableReader {
  public:
    // Opens the file and checks that every requested column exists; throws DataError.
    TableReader(const std::string& path, TableRequest request);
    ~TableReader();
    TableReader(TableReader&&) noexcept;
    TableReader& operator=(TableReader&&) noexcept;

    const std::string& path() const { return path_; }
    const TableRequest& request() const { return request_; }

    // Every column the file has, in the file's order.
    const std::vector<std::string>& available_columns() const;

    // Rows in the requested range, before dropping; unknown for CSV until read.
    std::optional<std::size_t> total_rows() const;

    // Replaces chunk with up to max_rows further rows (after dropping bad ones);
    // false once the range is exhausted. A chunk may hold fewer rows than asked
    // when rows were dropped.
    bool next(Table& chunk, std::size_t max_rows);

    // Rows dropped so far and rows delivered so far.
    std::size_t dropped_rows() const { return dropped_rows_; }
    std::size_t delivered_rows() const { return delivered_rows_; }

  private:
    std::string path_;
    TableRequest request_;
    std::unique_ptr<RowSource> source_;
    std::vector<std::vector<double>> buffer_;  // one chunk as read, before conversion
    std::vector<std::size_t> selected_;        // file column index of each requested column
    std::size_t next_file_row_ = 0;            // row index in the file of the next row to read
    std::size_t remaining_ = 0;                // rows of the range not yet read
    std::size_t dropped_rows_ = 0;
    std::size_t delivered_rows_ = 0;
};

// Every row of the requested range, read in chunks of chunk_rows. Throws DataError
// (empty) when no row is left.
Table read_table(const std::string& path, const TableRequest& request,
                 std::size_t chunk_rows = std::size_t{1} << 18);

// The column names of a file, in the file's order.
std::vector<std::string> list_columns(const std::string& path, Format format = Format::automatic,
                                      const std::string& key = "df");

// The format a path is read and written as.
Format resolve_format(const std::string& path, Format format);

}  // namespace cs::data
