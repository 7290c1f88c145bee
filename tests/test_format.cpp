// The surrogate file: round trips, validation messages and corrupt input.
#include <catch2/catch.hpp>

#include "throws.hpp"

#include <cstdio>
#include <fstream>

#include "cs/format_io.hpp"
#include "cs/runtime/demonstration.hpp"
#include "cs/runtime/ensemble.hpp"

using Catch::Matchers::Contains;
using cs::FormatError;
using cs::format::Encoding;

namespace {

const cs::format::SurrogateFile& demo() {
    static const auto file = cs::runtime::make_demonstration_surrogate(2, 11);
    return file;
}

// Replaces the 8 bytes at `offset` with `value` and re-seals the checksum, so that
// only the structure is wrong.
std::string patch_u64(std::string bytes, size_t offset, uint64_t value) {
    for (int i = 0; i < 8; ++i) {
        bytes[offset + static_cast<size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xff);
    }
    const uint64_t hash = cs::format::fnv1a(std::string_view(bytes).substr(12, bytes.size() - 20));
    for (int i = 0; i < 8; ++i) {
        bytes[bytes.size() - 8 + static_cast<size_t>(i)] =
            static_cast<char>((hash >> (8 * i)) & 0xff);
    }
    return bytes;
}

// The offset of the member count: the 8 bytes after the last string of `random`.
size_t member_count_offset(const std::string& bytes) {
    const std::string marker = "inverse-cdf-as241";
    const size_t found = bytes.find(marker);
    REQUIRE(found != std::string::npos);
    return found + marker.size();
}

}  // namespace

TEST_CASE("the reference architecture has 31 617 parameters for six conditions") {
    CHECK(cs::format::parameter_count(cs::format::Architecture{}, 6) == 31617);
}

TEST_CASE("binary and JSON round trips keep every field") {
    for (auto encoding : {Encoding::binary, Encoding::json}) {
        const std::string bytes = cs::format::write_bytes(demo(), encoding);
        const auto back = cs::format::read_bytes(bytes);
        CHECK(back.members.size() == demo().members.size());
        CHECK(back.members[1].weights == demo().members[1].weights);
        CHECK(back.conditions[1].name == "jet_pt");
        CHECK(back.conditions[1].unit == "GeV");
        CHECK(back.conditions[1].scale == demo().conditions[1].scale);
        CHECK(back.support.covariance == demo().support.covariance);
        CHECK(back.provenance.hyperparameters.size() == demo().provenance.hyperparameters.size());
        CHECK(back.test_vectors.size() == demo().test_vectors.size());
        CHECK(back.checksum == cs::format::checksum(demo()));
        // The same content gives the same bytes.
        CHECK(cs::format::write_bytes(back, encoding) == bytes);
    }
}

TEST_CASE("the binary file starts with the magic and the format version") {
    const std::string bytes = cs::format::write_bytes(demo(), Encoding::binary);
    CHECK(static_cast<unsigned char>(bytes[0]) == 0x89);
    CHECK(bytes.substr(1, 6) == "SURROG");
    CHECK(bytes[8] == 1);
    CHECK(bytes[9] == 0);
}

TEST_CASE("files are written atomically") {
    const std::string path = std::string(CS_BINARY_DIR) + "/tests/atomic.surrogate";
    cs::format::write_file(demo(), path, Encoding::binary);
    CHECK(cs::format::read_file(path).members.size() == 2);
    std::ifstream partial(path + ".partial");
    CHECK_FALSE(partial.good());

    // An invalid file is refused before anything is written.
    auto broken = demo();
    broken.conditions[0].scale = 0.0;
    CHECK_THROWS_AS(cs::format::write_file(broken, path, Encoding::binary), FormatError);
    CHECK(cs::format::read_file(path).conditions[0].scale == demo().conditions[0].scale);
    std::remove(path.c_str());
}

TEST_CASE("an unknown major version is refused with the versions this build reads") {
    std::string bytes = cs::format::write_bytes(demo(), Encoding::binary);
    bytes[8] = 2;
    CHECK_THROWS_TYPED(cs::format::read_bytes(bytes), FormatError,
                       Contains("format version 2.0") && Contains("this build reads 1.0"));

    std::string json = cs::format::write_bytes(demo(), Encoding::json);
    const size_t position = json.find("\"format_major\": 1");
    REQUIRE(position != std::string::npos);
    json.replace(position, 17, "\"format_major\": 7");
    CHECK_THROWS_TYPED(cs::format::read_bytes(json), FormatError, Contains("this build reads"));
}

TEST_CASE("corrupt binary files are rejected with a format error") {
    const std::string good = cs::format::write_bytes(demo(), Encoding::binary);

    SECTION("wrong magic") {
        std::string bytes = good;
        bytes[3] = 'X';
        CHECK_THROWS_TYPED(cs::format::read_bytes(bytes), FormatError, Contains("magic"));
        CHECK_THROWS_AS(cs::format::read_bytes("hello"), FormatError);
        CHECK_THROWS_AS(cs::format::read_bytes(""), FormatError);
    }
    SECTION("truncated at many lengths") {
        for (size_t length : {size_t{9}, size_t{12}, size_t{20}, size_t{200}, good.size() / 2,
                              good.size() - 9, good.size() - 1}) {
            CHECK_THROWS_AS(cs::format::read_bytes(good.substr(0, length)), FormatError);
        }
    }
    SECTION("a flipped bit anywhere in the body fails the checksum") {
        for (size_t offset = 12; offset < good.size(); offset += good.size() / 37) {
            std::string bytes = good;
            bytes[offset] = static_cast<char>(bytes[offset] ^ 0x10);
            CHECK_THROWS_AS(cs::format::read_bytes(bytes), FormatError);
        }
    }
    SECTION("a member count of 2^31 with a valid checksum is refused without allocating") {
        const std::string bytes = patch_u64(good, member_count_offset(good), uint64_t{1} << 31);
        CHECK_THROWS_TYPED(cs::format::read_bytes(bytes), FormatError,
                           Contains("members") && Contains("remain"));
    }
    SECTION("a huge string length is refused") {
        // The producer string's length is the first u64 after the endianness byte.
        const std::string bytes = patch_u64(good, 13, uint64_t{1} << 40);
        CHECK_THROWS_TYPED(cs::format::read_bytes(bytes), FormatError, Contains("producer"));
    }
}

TEST_CASE("validation names the field and what was expected") {
    auto expect = [](cs::format::SurrogateFile file, const std::string& field,
                     const std::string& message) {
        try {
            cs::format::validate(file);
            FAIL("validation accepted a bad " << field);
        } catch (const FormatError& error) {
            CHECK(error.field() == field);
            CHECK_THAT(error.what(), Contains(message));
        }
    };
    auto file = demo();
    file.members[1].weights.pop_back();
    expect(file, "members[1].weights", "expected 31617 weights");

    file = demo();
    file.members[0].weights[17] = std::nanf("");
    expect(file, "members[0].weights[17]", "finite");

    file = demo();
    file.architecture.activation = "relu";
    expect(file, "architecture.activation", "\"relu\" is not supported");

    file = demo();
    file.conditions[2].name = "jet_pt";
    expect(file, "conditions[2].name", "duplicate");

    file = demo();
    file.support.covariance.pop_back();
    expect(file, "support.covariance", "expected 36 values");

    file = demo();
    file.random.generator = "mt19937";
    expect(file, "random.generator", "philox4x32-10");

    file = demo();
    file.test_vectors[0].member = 9;
    expect(file, "test_vectors[0].member", "does not exist");
}

TEST_CASE("JSON with a missing or mistyped field is refused") {
    std::string json = cs::format::write_bytes(demo(), Encoding::json);
    std::string missing = json;
    const size_t position = missing.find("\"rtol\"");
    REQUIRE(position != std::string::npos);
    missing.replace(position, 6, "\"rtolx\"");
    CHECK_THROWS_TYPED(cs::format::read_bytes(missing), FormatError, Contains("rtol"));

    std::string mistyped = json;
    const size_t width = mistyped.find("\"width\": 64");
    REQUIRE(width != std::string::npos);
    mistyped.replace(width, 11, "\"width\": \"x\"");
    CHECK_THROWS_AS(cs::format::read_bytes(mistyped), FormatError);

    CHECK_THROWS_AS(cs::format::read_bytes(json.substr(0, json.size() / 2)), FormatError);
}

TEST_CASE("an edited JSON value fails the checksum") {
    std::string json = cs::format::write_bytes(demo(), Encoding::json);
    const size_t position = json.find("\"atol\": ");
    REQUIRE(position != std::string::npos);
    json.replace(position, 8, "\"atol\": 2");
    CHECK_THROWS_TYPED(cs::format::read_bytes(json), FormatError, Contains("checksum"));
}

TEST_CASE("test vectors that the weights do not reproduce are refused at load") {
    auto file = demo();
    file.test_vectors[1].velocity += 0.01;
    CHECK_THROWS_TYPED(cs::runtime::Ensemble(file), FormatError,
                       Contains("test_vectors[1].velocity"));
    file = demo();
    std::swap(file.members[0], file.members[1]);
    CHECK_THROWS_AS(cs::runtime::Ensemble(file), FormatError);
}
