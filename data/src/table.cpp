// TableReader: column selection, chunking and the bad-row policy, on top of the
// format-specific row sources; read_table and the writer factory.
#include "cs/data/table.hpp"

#include <cmath>
#include <set>

#include "cs/data/transform.hpp"
#include "cs/data/writer.hpp"
#include "row_source.hpp"

namespace cs::data {

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string joined(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names) {
        text += (text.empty() ? "" : ", ") + name;
    }
    return text;
}

std::unique_ptr<RowSource> open_source(const std::string& path, Format format,
                                       const std::string& key) {
    if (resolve_format(path, format) == Format::csv) {
        return open_csv_source(path);
    }
    return open_hdf5_source(path, key);
}

}  // namespace

Format resolve_format(const std::string& path, Format format) {
    if (format != Format::automatic) {
        return format;
    }
    return ends_with(path, ".csv") || ends_with(path, ".csv.txt") ? Format::csv : Format::hdf5;
}

std::size_t Table::index(const std::string& name) const {
    for (std::size_t column = 0; column < names.size(); ++column) {
        if (names[column] == name) {
            return column;
        }
    }
    throw DataError(DataError::Kind::missing_column, "",
                    "no column '" + name + "' in the table (it has: " + joined(names) + ")");
}

const std::vector<float>& Table::column(const std::string& name) const {
    return columns[index(name)];
}

std::vector<float>& Table::column(const std::string& name) {
    return columns[index(name)];
}

TableReader::TableReader(const std::string& path, TableRequest request)
    : path_(path), request_(std::move(request)) {
    source_ = open_source(path_, request_.format, request_.key);

    // every requested column must exist: name the missing one and list the others
    std::vector<std::string> wanted = request_.columns;
    if (!request_.score.empty()) {
        wanted.push_back(request_.score);
    }
    if (wanted.empty()) {
        throw DataError(DataError::Kind::invalid_argument, path_,
                        "no columns requested (expected condition columns or a score column)");
    }
    const auto& names = source_->names();
    for (const auto& name : wanted) {
        std::size_t column = 0;
        while (column < names.size() && names[column] != name) {
            ++column;
        }
        if (column == names.size()) {
            throw DataError(DataError::Kind::missing_column, path_,
                            "no column '" + name + "' (the file has: " + joined(names) + ")");
        }
        selected_.push_back(column);
    }

    // the row range, and an error for a file without rows
    const auto rows = source_->rows();
    if (rows && *rows == 0) {
        throw DataError(DataError::Kind::empty, path_, "the table has no rows");
    }
    next_file_row_ = request_.first_row;
    remaining_ = request_.row_count;
    if (rows) {
        const std::size_t available = request_.first_row < *rows ? *rows - request_.first_row : 0;
        remaining_ = std::min(remaining_, available);
    }
}

TableReader::~TableReader() = default;
TableReader::TableReader(TableReader&&) noexcept = default;
TableReader& TableReader::operator=(TableReader&&) noexcept = default;

const std::vector<std::string>& TableReader::available_columns() const {
    return source_->names();
}

std::optional<std::size_t> TableReader::total_rows() const {
    if (!source_->rows()) {
        return std::nullopt;
    }
    return remaining_ + delivered_rows_ + dropped_rows_;
}

bool TableReader::next(Table& chunk, std::size_t max_rows) {
    chunk.names = request_.columns;
    if (!request_.score.empty()) {
        chunk.names.push_back(request_.score);
    }
    chunk.dropped_rows = 0;
    if (remaining_ == 0 || max_rows == 0) {
        chunk.columns.assign(chunk.names.size(), {});
        return false;
    }

    const std::size_t first = next_file_row_;
    const std::size_t read =
        source_->read(first, std::min(max_rows, remaining_), selected_, buffer_);
    next_file_row_ += read;
    remaining_ = read == 0 ? 0 : remaining_ - read;
    if (read == 0) {
        chunk.columns.assign(chunk.names.size(), {});
        return false;
    }

    // a row is bad if a value is not finite (also once in float32) or the score lies
    // outside [0, 1]; good rows are converted, bad ones fail the read or are counted
    const std::size_t score_column =
        request_.score.empty() ? chunk.names.size() : selected_.size() - 1;
    chunk.columns.assign(chunk.names.size(), {});
    for (auto& values : chunk.columns) {
        values.reserve(read);
    }
    for (std::size_t row = 0; row < read; ++row) {
        std::size_t bad_column = chunk.names.size();
        for (std::size_t column = 0; column < buffer_.size(); ++column) {
            const double value = buffer_[column][row];
            const bool outside = column == score_column && !(value >= 0.0 && value <= 1.0);
            if (outside || !std::isfinite(static_cast<float>(value))) {
                bad_column = column;
                break;
            }
        }
        if (bad_column < chunk.names.size()) {
            if (request_.bad_rows == BadRows::fail) {
                const std::string expected =
                    bad_column == score_column ? "a score in [0, 1]" : "a finite float32 number";
                throw DataError(DataError::Kind::bad_value, path_,
                                "column '" + chunk.names[bad_column] + "', row " +
                                    std::to_string(first + row) + ": value " +
                                    std::to_string(buffer_[bad_column][row]) + " (expected " +
                                    expected + "; the drop policy skips such rows)");
            }
            ++chunk.dropped_rows;
            continue;
        }
        for (std::size_t column = 0; column < buffer_.size(); ++column) {
            const double value = buffer_[column][row];
            const bool target = column == score_column && request_.score_as_target;
            chunk.columns[column].push_back(
                static_cast<float>(target ? score_to_target(value) : value));
        }
    }
    dropped_rows_ += chunk.dropped_rows;
    delivered_rows_ += chunk.rows();
    return true;
}

Table read_table(const std::string& path, const TableRequest& request, std::size_t chunk_rows) {
    TableReader reader(path, request);
    Table table;
    Table chunk;
    if (const auto rows = reader.total_rows()) {
        table.columns.assign(request.columns.size() + (request.score.empty() ? 0 : 1), {});
        for (auto& values : table.columns) {
            values.reserve(*rows);
        }
    }
    while (reader.next(chunk, chunk_rows)) {
        table.names = chunk.names;
        table.columns.resize(chunk.columns.size());
        for (std::size_t column = 0; column < chunk.columns.size(); ++column) {
            table.columns[column].insert(table.columns[column].end(), chunk.columns[column].begin(),
                                         chunk.columns[column].end());
        }
    }
    table.names = chunk.names;
    table.dropped_rows = reader.dropped_rows();
    if (table.rows() == 0) {
        throw DataError(DataError::Kind::empty, path,
                        reader.dropped_rows() == 0
                            ? "no rows in the requested range"
                            : "all " + std::to_string(reader.dropped_rows()) +
                                  " rows were dropped as bad (non-finite values or scores "
                                  "outside [0, 1])");
    }
    return table;
}

std::vector<std::string> list_columns(const std::string& path, Format format,
                                      const std::string& key) {
    return open_source(path, format, key)->names();
}

std::size_t appended_rows(const std::string& path, const std::vector<std::vector<double>>& columns,
                          std::size_t expected) {
    if (columns.size() != expected) {
        throw DataError(DataError::Kind::invalid_argument, path,
                        "append got " + std::to_string(columns.size()) + " columns (expected " +
                            std::to_string(expected) + ")");
    }
    const std::size_t count = columns.front().size();
    for (const auto& values : columns) {
        if (values.size() != count) {
            throw DataError(DataError::Kind::invalid_argument, path,
                            "append got columns of different lengths");
        }
    }
    return count;
}

std::unique_ptr<TableWriter> open_table_writer(const std::string& path,
                                               std::vector<ColumnSpec> columns,
                                               const WriteOptions& options) {
    std::set<std::string> seen;
    for (const auto& column : columns) {
        if (!seen.insert(column.name).second) {
            throw DataError(DataError::Kind::invalid_argument, path,
                            "column '" + column.name + "' is named twice");
        }
    }
    if (columns.empty()) {
        throw DataError(DataError::Kind::invalid_argument, path, "no columns to write");
    }
    if (resolve_format(path, options.format) == Format::csv) {
        return open_csv_writer(path, std::move(columns));
    }
    return open_hdf5_writer(path, std::move(columns), options);
}

}  // namespace cs::data
