// Temporary names beside the target and the rename that publishes a file.
#include "cs/data/atomic_file.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <system_error>

#include "cs/data/error.hpp"

namespace cs::data {

namespace {

std::atomic<unsigned> temporary_counter{0};

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
    // same directory, so the rename never crosses file systems; hidden, process-unique
    const std::filesystem::path target(path_);
    const std::string name = "." + target.filename().string() + ".tmp-" + std::to_string(getpid()) +
                             "-" + std::to_string(temporary_counter++);
    temporary_path_ = (target.parent_path() / name).string();
}

AtomicFile::~AtomicFile() {
    if (!committed_) {
        std::error_code ignored;
        std::filesystem::remove(temporary_path_, ignored);
    }
}

void AtomicFile::commit() {
    std::error_code error;
    std::filesystem::rename(temporary_path_, path_, error);
    if (error) {
        throw DataError(DataError::Kind::write_failed, path_,
                        "cannot rename the temporary file '" + temporary_path_ +
                            "' into place: " + error.message());
    }
    committed_ = true;
}

}  // namespace cs::data
