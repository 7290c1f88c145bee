// A file that appears under its name only when complete: written under a
// temporary name in the same directory, then renamed into place.
#pragma once

#include <string>

namespace cs::data {

class AtomicFile {
  public:
    explicit AtomicFile(std::string path);
    ~AtomicFile();  // removes the temporary file unless commit() succeeded
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    const std::string& path() const { return path_; }
    const std::string& temporary_path() const { return temporary_path_; }

    // Renames the temporary file onto path(); throws DataError (write_failed).
    void commit();

  private:
    std::string path_;
    std::string temporary_path_;
    bool committed_ = false;
};

}  // namespace cs::data
