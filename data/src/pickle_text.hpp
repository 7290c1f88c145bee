// The strings of a Python pickle written with protocol 0, as PyTables stores list
// attributes such as pandas' values_block_N_kind and non_index_axes.
#pragma once

#include <string>
#include <vector>

namespace cs::data {

// Each protocol-0 unicode string (a line "V<text>") in order of appearance, decoded
// from raw-unicode-escape to UTF-8. Other opcodes are skipped.
std::vector<std::string> pickled_strings(const std::string& pickle);

}  // namespace cs::data
