// CSV tables: a header line of names, then one row a line, comma-separated. Reads
// what pandas' DataFrame.to_csv writes (an unnamed index column first is ignored,
// an empty field is NaN, True/False are 1/0) and writes without an index column,
// each number in the shortest text that reads back to the same value.
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>

#include "cs/data/atomic_file.hpp"
#include "cs/data/error.hpp"
#include "row_source.hpp"

namespace cs::data {
namespace {

// Splits one line at commas; a field in double quotes may hold commas and "" for ".
std::vector<std::string_view> split_fields(std::string_view line, std::string& unquoted) {
    std::vector<std::string_view> fields;
    std::size_t position = 0;
    // views point into unquoted: reserving the whole line means it never reallocates
    unquoted.clear();
    unquoted.reserve(line.size());
    while (true) {
        if (position < line.size() && line[position] == '"') {
            // quoted fields are rare (names): copy them, unescaped, to a side buffer
            std::string field;
            ++position;
            while (position < line.size()) {
                if (line[position] == '"' && position + 1 < line.size() &&
                    line[position + 1] == '"') {
                    field += '"';
                    position += 2;
                } else if (line[position] == '"') {
                    ++position;
                    break;
                } else {
                    field += line[position++];
                }
            }
            const std::size_t offset = unquoted.size();
            unquoted += field;
            fields.emplace_back(std::string_view(unquoted).substr(offset, field.size()));
            const std::size_t comma = line.find(',', position);
            if (comma == std::string_view::npos) {
                break;
            }
            position = comma + 1;
            continue;
        }
        const std::size_t comma = line.find(',', position);
        fields.push_back(line.substr(position, comma - position));
        if (comma == std::string_view::npos) {
            break;
        }
        position = comma + 1;
    }
    return fields;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return text;
}

class CsvSource final : public RowSource {
  public:
    explicit CsvSource(const std::string& path);

    const std::vector<std::string>& names() const override { return names_; }
    std::optional<std::size_t> rows() const override { return std::nullopt; }
    std::size_t read(std::size_t first, std::size_t count, const std::vector<std::size_t>& columns,
                     std::vector<std::vector<double>>& out) override;

  private:
    bool next_line(std::string& line);
    double parse(std::string_view field, std::size_t column) const;

    std::string path_;
    std::ifstream input_;
    std::vector<std::string> names_;
    std::size_t next_row_ = 0;  // data row index of the next line
    std::size_t line_number_ = 0;
    std::string unquoted_;
    // pandas writes its index as a first column with an empty name: it is skipped
    std::size_t skipped_fields_ = 0;
};

CsvSource::CsvSource(const std::string& path) : path_(path), input_(path, std::ios::binary) {
    if (!input_) {
        throw DataError(DataError::Kind::unreadable, path, "cannot open the file for reading");
    }
    std::string header;
    if (!next_line(header)) {
        throw DataError(DataError::Kind::empty, path,
                        "the file is empty (expected a header line of column names)");
    }

    const auto fields = split_fields(header, unquoted_);
    for (std::size_t field = 0; field < fields.size(); ++field) {
        const auto name = trim(fields[field]);
        if (field == 0 && name.empty() && fields.size() > 1) {
            skipped_fields_ = 1;
            continue;
        }
        names_.emplace_back(name);
    }
}

bool CsvSource::next_line(std::string& line) {
    while (std::getline(input_, line)) {
        ++line_number_;
        if (!trim(line).empty()) {
            return true;
        }
    }
    return false;
}

double CsvSource::parse(std::string_view field, std::size_t column) const {
    field = trim(field);
    if (field.empty()) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    if (field == "True") {
        return 1.0;
    }
    if (field == "False") {
        return 0.0;
    }
    double value = 0.0;
    const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (error == std::errc::result_out_of_range) {
        return field.front() == '-' ? -std::numeric_limits<double>::infinity()
                                    : std::numeric_limits<double>::infinity();
    }
    if (error != std::errc() || end != field.data() + field.size()) {
        throw DataError(DataError::Kind::bad_value, path_,
                        "line " + std::to_string(line_number_) + ", column '" + names_[column] +
                            "': '" + std::string(field) + "' is not a number");
    }
    return value;
}

std::size_t CsvSource::read(std::size_t first, std::size_t count,
                            const std::vector<std::size_t>& columns,
                            std::vector<std::vector<double>>& out) {
    if (first < next_row_) {
        throw DataError(DataError::Kind::invalid_argument, path_,
                        "CSV files are read forwards only (asked for row " + std::to_string(first) +
                            " after row " + std::to_string(next_row_) + ")");
    }
    out.assign(columns.size(), {});
    std::string line;

    // skip to the first row of the range
    while (next_row_ < first) {
        if (!next_line(line)) {
            return 0;
        }
        ++next_row_;
    }

    std::size_t rows = 0;
    while (rows < count && next_line(line)) {
        const auto fields = split_fields(line, unquoted_);
        if (fields.size() != names_.size() + skipped_fields_) {
            throw DataError(DataError::Kind::layout, path_,
                            "line " + std::to_string(line_number_) + " has " +
                                std::to_string(fields.size()) + " fields (expected " +
                                std::to_string(names_.size() + skipped_fields_) +
                                ", as in the header)");
        }
        for (std::size_t i = 0; i < columns.size(); ++i) {
            out[i].push_back(parse(fields[columns[i] + skipped_fields_], columns[i]));
        }
        ++rows;
        ++next_row_;
    }
    return rows;
}

class CsvWriter final : public TableWriter {
  public:
    CsvWriter(const std::string& path, std::vector<ColumnSpec> columns);

    void append(const std::vector<std::vector<double>>& columns) override;
    void commit() override;
    std::size_t rows() const override { return rows_; }

  private:
    AtomicFile file_;
    std::vector<ColumnSpec> columns_;
    std::ofstream output_;
    std::size_t rows_ = 0;
    std::string line_;
};

CsvWriter::CsvWriter(const std::string& path, std::vector<ColumnSpec> columns)
    : file_(path), columns_(std::move(columns)) {
    output_.open(file_.temporary_path(), std::ios::binary | std::ios::trunc);
    if (!output_) {
        throw DataError(DataError::Kind::write_failed, path,
                        "cannot create the temporary file '" + file_.temporary_path() + "'");
    }
    for (std::size_t column = 0; column < columns_.size(); ++column) {
        output_ << (column == 0 ? "" : ",") << columns_[column].name;
    }
    output_ << '\n';
}

// The shortest decimal text that reads back to the same value of the column's type.
void append_number(std::string& line, double value, ColumnType type) {
    char buffer[64];
    std::to_chars_result result{};
    if (type == ColumnType::int64) {
        result = std::to_chars(buffer, buffer + sizeof buffer, std::llround(value));
    } else if (type == ColumnType::float32) {
        result = std::to_chars(buffer, buffer + sizeof buffer, static_cast<float>(value));
    } else {
        result = std::to_chars(buffer, buffer + sizeof buffer, value);
    }
    line.append(buffer, result.ptr);
}

void CsvWriter::append(const std::vector<std::vector<double>>& columns) {
    const std::size_t count = appended_rows(file_.path(), columns, columns_.size());
    for (std::size_t row = 0; row < count; ++row) {
        line_.clear();
        for (std::size_t column = 0; column < columns.size(); ++column) {
            if (column > 0) {
                line_ += ',';
            }
            append_number(line_, columns[column][row], columns_[column].type);
        }
        line_ += '\n';
        output_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
    }
    rows_ += count;
    if (!output_) {
        throw DataError(DataError::Kind::write_failed, file_.path(),
                        "writing to '" + file_.temporary_path() + "' failed (disk full?)");
    }
}

void CsvWriter::commit() {
    output_.close();
    if (!output_) {
        throw DataError(DataError::Kind::write_failed, file_.path(),
                        "closing '" + file_.temporary_path() + "' failed");
    }
    file_.commit();
}

}  // namespace

std::unique_ptr<RowSource> open_csv_source(const std::string& path) {
    return std::make_unique<CsvSource>(path);
}

std::unique_ptr<TableWriter> open_csv_writer(const std::string& path,
                                             std::vector<ColumnSpec> columns) {
    return std::make_unique<CsvWriter>(path, std::move(columns));
}

}  // namespace cs::data
