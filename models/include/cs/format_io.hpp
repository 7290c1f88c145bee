// Reading, writing and validating surrogate files. Every reader validates the whole
// file before returning it and throws cs::FormatError naming the bad field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cs/errors.hpp"
#include "cs/format.hpp"

namespace cs::format {

enum class Encoding { binary, json };

// Reads a file in either encoding (JSON is recognised by its leading '{').
SurrogateFile read_file(const std::string& path);
SurrogateFile read_bytes(std::string_view bytes);

// Serializes a file; the checksum is recomputed, so callers need not seal it.
std::string write_bytes(const SurrogateFile& file, Encoding encoding);

// Writes through a temporary file in the same folder and a rename: a failed write
// never leaves a partial file at `path`.
void write_file(const SurrogateFile& file, const std::string& path, Encoding encoding);

// Checks every field; throws FormatError with the field's path. Does not check the
// test vectors against a velocity field (the runtime does that at load).
void validate(const SurrogateFile& file);

// FNV-1a (64 bit) over the portable binary body: detects corruption, not tampering.
uint64_t checksum(const SurrogateFile& file);

// The hash behind the checksum, over any bytes; `hash` continues an earlier one.
inline constexpr uint64_t kFnv1aStart = 0xcbf29ce484222325ull;
uint64_t fnv1a(std::string_view bytes, uint64_t hash = kFnv1aStart);

// Versions this build reads, for messages: "1.0".
std::string readable_versions();

}  // namespace cs::format
