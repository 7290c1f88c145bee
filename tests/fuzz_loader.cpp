// Fuzz target for the surrogate loader: any bytes must give a surrogate or a
// cs::FormatError, never a crash, a hang or another exception. Built for libFuzzer
// with -DCS_LIBFUZZER=ON (clang); otherwise a small driver below mutates a corpus of
// valid files with the project's random numbers, so the test suite runs it briefly.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "cs/format_io.hpp"
#include "cs/random.hpp"
#include "cs/runtime/demonstration.hpp"
#include "cs/runtime/ensemble.hpp"

namespace {

// True when the bytes load as a surrogate, false for a format error; any other
// exception escapes and fails the run.
bool loads(const std::string& bytes) {
    try {
        const cs::runtime::Ensemble ensemble(cs::format::read_bytes(bytes));
        return true;
    } catch (const cs::FormatError&) {
        return false;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    loads(std::string(reinterpret_cast<const char*>(data), size));
    return 0;
}

#ifndef CS_LIBFUZZER

namespace {

// One random edit: flip bits, overwrite a run with random bytes, truncate, duplicate
// a span, or write a large little-endian count at a random position.
std::string mutate(std::string bytes, const cs::CounterRandom& random, uint64_t item) {
    const auto size = static_cast<uint32_t>(bytes.size());
    const uint32_t position = size ? random.below(size, item, 1) : 0;
    switch (random.below(5, item, 0)) {
        case 0:
            for (uint32_t i = 0; i < 1 + random.below(8, item, 2); ++i) {
                const uint32_t at = random.below(size, item, 10 + i);
                bytes[at] = static_cast<char>(bytes[at] ^ (1 << random.below(8, item, 30 + i)));
            }
            break;
        case 1:
            for (uint32_t i = 0; i < 16 && position + i < size; ++i) {
                bytes[position + i] = static_cast<char>(random.below(256, item, 50 + i));
            }
            break;
        case 2:
            bytes.resize(position);
            break;
        case 3:
            bytes.insert(position, bytes.substr(position, random.below(64, item, 3)));
            break;
        default: {
            const uint64_t count = uint64_t{1} << (8 + random.below(56, item, 4));
            for (uint32_t i = 0; i < 8 && position + i < size; ++i) {
                bytes[position + i] = static_cast<char>((count >> (8 * i)) & 0xff);
            }
        }
    }
    return bytes;
}

}  // namespace

// Usage: fuzz_loader ITERATIONS. Mutates the binary and JSON demonstration files.
int main(int argc, char** argv) {
    const long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 2000;
    const auto file = cs::runtime::make_demonstration_surrogate(2, 5);
    const std::vector<std::string> corpus = {
        cs::format::write_bytes(file, cs::format::Encoding::binary),
        cs::format::write_bytes(file, cs::format::Encoding::json)};
    const cs::CounterRandom random(20261203);

    long accepted = 0;
    for (long i = 0; i < iterations; ++i) {
        const auto item = static_cast<uint64_t>(i);
        std::string bytes = corpus[item % corpus.size()];
        // Most edits break the checksum; half of the binary inputs are re-sealed so
        // that the parser itself meets the damage.
        bytes = mutate(bytes, random, item);
        if (item % 4 == 2 && bytes.size() > 20) {
            const uint64_t hash =
                cs::format::fnv1a(std::string_view(bytes).substr(12, bytes.size() - 20));
            for (size_t b = 0; b < 8; ++b) {
                bytes[bytes.size() - 8 + b] = static_cast<char>((hash >> (8 * b)) & 0xff);
            }
        }
        try {
            accepted += loads(bytes) ? 1 : 0;
        } catch (const std::exception& error) {
            std::fprintf(stderr, "input %ld: unexpected exception: %s\n", i, error.what());
            return 1;
        }
    }
    std::printf("%ld inputs: %ld accepted, %ld refused with a format error\n", iterations, accepted,
                iterations - accepted);
    return 0;
}

#endif
