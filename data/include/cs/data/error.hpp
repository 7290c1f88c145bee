// The one error type of the data library: what went wrong, in which file, and
// what was expected, with a kind that callers can branch on.
#pragma once

#include <stdexcept>
#include <string>

namespace cs::data {

class DataError : public std::runtime_error {
  public:
    enum class Kind {
        unreadable,        // the file cannot be opened or is not of the expected format
        layout,            // the file opens but its structure is not a pandas table
        empty,             // the table has no rows (or none left after dropping bad rows)
        missing_column,    // a requested column is not in the table
        bad_value,         // a non-finite value, or a score outside [0, 1]
        invalid_argument,  // a request that cannot be satisfied, whatever the file
        write_failed,      // a file could not be written or renamed into place
    };

    DataError(Kind kind, std::string path, const std::string& message)
        : std::runtime_error(path.empty() ? message : "'" + path + "': " + message),
          kind_(kind),
          path_(std::move(path)) {}

    Kind kind() const { return kind_; }
    const std::string& path() const { return path_; }

  private:
    Kind kind_;
    std::string path_;
};

}  // namespace cs::data
