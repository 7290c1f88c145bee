// The project's readers (models/src/archives.hpp) against cereal's own archives over
// streams, on the published surrogates and the demonstration file: both read every
// field the same, in the binary file and in its JSON mirror.
#include <catch2/catch.hpp>

// cereal's JSON archive before any other rapidjson header (it sets rapidjson's flags).
#include <cereal/archives/json.hpp>
#include <cereal/archives/portable_binary.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "cs/format_io.hpp"
#include "cs/runtime/demonstration.hpp"
#include "format_serialize.hpp"
#include "throws.hpp"

using Catch::Matchers::Contains;
using cs::FormatError;
using cs::format::Encoding;
using cs::format::SurrogateFile;

namespace {

struct Sample {
    std::string name;
    std::string bytes;
};

// Every published surrogate and a demonstration file, as binary files.
std::vector<Sample> samples() {
    std::vector<Sample> found;
    const std::filesystem::path published =
        std::filesystem::path(CS_SOURCE_DIR) / "models" / "published";
    for (const auto& entry : std::filesystem::directory_iterator(published)) {
        if (entry.path().extension() == ".surrogate") {
            std::ifstream in(entry.path(), std::ios::binary);
            found.push_back({entry.path().filename().string(),
                             std::string(std::istreambuf_iterator<char>(in), {})});
        }
    }
    found.push_back(
        {"demonstration", cs::format::write_bytes(cs::runtime::make_demonstration_surrogate(3, 7),
                                                  Encoding::binary)});
    return found;
}

// The body as cereal::PortableBinaryOutputArchive writes it: equal bodies mean that
// every field of the two files is equal, bit for bit.
std::string body_of(const SurrogateFile& file) {
    std::ostringstream stream(std::ios::binary);
    {
        cereal::PortableBinaryOutputArchive archive(stream);
        cs::format::serialize_body(archive, const_cast<SurrogateFile&>(file));
    }
    return stream.str();
}

// What the file format's reader did before it had its own archives: cereal's portable
// binary archive over a stream (the header and the checksum are plain bytes).
SurrogateFile cereal_binary(const std::string& bytes) {
    SurrogateFile file;
    file.format_major = static_cast<uint16_t>(static_cast<unsigned char>(bytes[8]) |
                                              static_cast<unsigned char>(bytes[9]) << 8);
    file.format_minor = static_cast<uint16_t>(static_cast<unsigned char>(bytes[10]) |
                                              static_cast<unsigned char>(bytes[11]) << 8);
    std::istringstream stream(bytes.substr(12, bytes.size() - 20), std::ios::binary);
    cereal::PortableBinaryInputArchive archive(stream);
    cs::format::serialize_body(archive, file);
    return file;
}

SurrogateFile cereal_json(const std::string& text, std::string& magic, std::string& checksum) {
    SurrogateFile file;
    std::istringstream stream(text);
    cereal::JSONInputArchive archive(stream);
    cs::format::field(archive, "magic", magic);
    cs::format::field(archive, "format_major", file.format_major);
    cs::format::field(archive, "format_minor", file.format_minor);
    cs::format::serialize_body(archive, file);
    cs::format::field(archive, "checksum", checksum);
    return file;
}

// The project's binary reader over a body alone; the whole body must be read.
SurrogateFile read_body(std::string_view body) {
    cs::format::detail::FieldPath path;
    cs::format::detail::BinaryInputArchive archive(body, path);
    SurrogateFile file;
    cs::format::serialize_body(archive, file);
    CHECK(archive.remaining() == 0);
    return file;
}

}  // namespace

TEST_CASE("the binary reader reads every field as cereal's portable binary archive does") {
    for (const auto& sample : samples()) {
        INFO(sample.name);
        const SurrogateFile ours = cs::format::read_bytes(sample.bytes);
        const SurrogateFile theirs = cereal_binary(sample.bytes);
        const std::string body = sample.bytes.substr(12, sample.bytes.size() - 20);
        CHECK(body_of(ours) == body);
        CHECK(body_of(theirs) == body);
        CHECK(ours.format_major == theirs.format_major);
        CHECK(ours.format_minor == theirs.format_minor);
        CHECK(ours.members.size() == theirs.members.size());
        CHECK(ours.members.back().weights == theirs.members.back().weights);
        CHECK(ours.conditions.back().name == theirs.conditions.back().name);

        // The checksum is hashed without the bytes; it must be the one cereal's bytes give.
        CHECK(ours.checksum == cs::format::fnv1a(body));
        CHECK(cs::format::checksum(ours) == ours.checksum);
        CHECK(cs::format::write_bytes(ours, Encoding::binary) == sample.bytes);
    }
}

TEST_CASE("the JSON reader reads every field as cereal's JSON archive does") {
    for (const auto& sample : samples()) {
        INFO(sample.name);
        const SurrogateFile binary = cs::format::read_bytes(sample.bytes);
        const std::string json = cs::format::write_bytes(binary, Encoding::json);

        const SurrogateFile ours = cs::format::read_bytes(json);
        std::string magic;
        std::string checksum;
        const SurrogateFile theirs = cereal_json(json, magic, checksum);
        CHECK(magic == cs::format::kJsonMagic);
        CHECK(body_of(ours) == body_of(binary));
        CHECK(body_of(theirs) == body_of(binary));
        CHECK(ours.format_major == theirs.format_major);
        CHECK(ours.format_minor == theirs.format_minor);
        CHECK(ours.checksum == binary.checksum);
        CHECK(cs::format::write_bytes(ours, Encoding::json) == json);
    }
}

TEST_CASE("a big-endian body, as cereal writes one on such a machine, reads the same") {
    const SurrogateFile file = cs::runtime::make_demonstration_surrogate(2, 5);
    std::ostringstream stream(std::ios::binary);
    {
        cereal::PortableBinaryOutputArchive archive(
            stream, cereal::PortableBinaryOutputArchive::Options::BigEndian());
        cs::format::serialize_body(archive, const_cast<SurrogateFile&>(file));
    }
    const std::string body = stream.str();
    REQUIRE(body[0] == 0);
    CHECK(body_of(read_body(body)) == body_of(file));
}

TEST_CASE("the readers name the field where a damaged file stops") {
    const SurrogateFile file = cs::runtime::make_demonstration_surrogate(2, 5);
    const std::string body = body_of(file);

    SECTION("a body cut inside the weights, or with a byte order mark of neither 0 nor 1") {
        const std::string_view cut = std::string_view(body).substr(0, body.size() - 64000);
        CHECK_THROWS_TYPED(read_body(cut), FormatError,
                           Contains("members[1].weights") && Contains("bytes remain"));
        std::string bad = body;
        bad[0] = 7;
        CHECK_THROWS_TYPED(read_body(bad), FormatError, Contains("byte order"));
    }
    SECTION("JSON values of the wrong kind, out of range or missing") {
        const std::string json = cs::format::write_bytes(file, Encoding::json);
        const auto edited = [&](const std::string& from, const std::string& to) {
            std::string copy = json;
            const size_t at = copy.find(from);
            REQUIRE(at != std::string::npos);
            return copy.replace(at, from.size(), to);
        };
        CHECK_THROWS_TYPED(cs::format::read_bytes(edited("\"width\": 64", "\"width\": -64")),
                           FormatError, Contains("architecture.width") && Contains("found -64"));
        CHECK_THROWS_TYPED(
            cs::format::read_bytes(edited("\"format_minor\": 0", "\"format_minor\": 70000")),
            FormatError, Contains("format_minor") && Contains("65535"));
        CHECK_THROWS_TYPED(cs::format::read_bytes(edited("\"name\": \"jet_pt\"", "\"name\": 3")),
                           FormatError, Contains("conditions[1].name") && Contains("a string"));
        CHECK_THROWS_TYPED(cs::format::read_bytes(edited("\"origin\"", "\"origin_\"")), FormatError,
                           Contains("members[0].origin") && Contains("missing"));
        CHECK_THROWS_TYPED(cs::format::read_bytes(edited("\"members\": [", "\"members\": {")),
                           FormatError, Contains("unreadable JSON") && Contains("at byte"));
        CHECK_THROWS_TYPED(cs::format::read_bytes(json + std::string(1, '\0')), FormatError,
                           Contains("NUL"));
    }
}
