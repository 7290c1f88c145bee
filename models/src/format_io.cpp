// Serialization of surrogate files. Writing goes through cereal's own archives;
// reading through the project's archives over the bytes in memory (archives.hpp),
// which check every length against the bytes that remain and name the bad field.
#include "cs/format_io.hpp"

// cereal's JSON archive before any other rapidjson header: it sets the writer's flags.
#include <cereal/archives/json.hpp>
#include <cereal/archives/portable_binary.hpp>

#include <rapidjson/error/en.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>

#include "archives.hpp"
#include "cs/random.hpp"
#include "format_serialize.hpp"

namespace cs::format {
namespace {

std::string body_bytes(const SurrogateFile& file) {
    std::ostringstream stream(std::ios::binary);
    {
        cereal::PortableBinaryOutputArchive archive(stream);
        serialize_body(archive, const_cast<SurrogateFile&>(file));
    }
    return stream.str();
}

void put_u16(std::string& out, uint16_t value) {
    out.push_back(static_cast<char>(value & 0xff));
    out.push_back(static_cast<char>(value >> 8));
}

uint64_t get_le(std::string_view bytes, size_t offset, size_t width) {
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) {
        value |= uint64_t{static_cast<unsigned char>(bytes[offset + i])} << (8 * i);
    }
    return value;
}

std::string hex(uint64_t value) {
    char printed[24];
    std::snprintf(printed, sizeof printed, "0x%016llx", static_cast<unsigned long long>(value));
    return printed;
}

void check_version(uint16_t major, uint16_t minor) {
    if (major != kMajorVersion || minor > kMinorVersion) {
        throw FormatError("format_version",
                          "this file has format version " + std::to_string(major) + "." +
                              std::to_string(minor) + "; this build reads " + readable_versions());
    }
}

// Runs a load and turns every failure into a FormatError that names the field where
// reading stopped.
template <class Load>
void guarded_load(const detail::FieldPath& path, const char* encoding, Load&& load) {
    try {
        load();
    } catch (const FormatError&) {
        throw;
    } catch (const std::exception& error) {
        const std::string where = path.failure().empty() ? "body" : path.failure();
        throw FormatError(where, std::string("unreadable ") + encoding + " (" + error.what() +
                                     "): the file is truncated or corrupt");
    }
}

SurrogateFile read_binary(std::string_view bytes) {
    constexpr size_t kHeader = kMagic.size() + 4;
    constexpr size_t kTrailer = 8;
    if (bytes.size() < kMagic.size() ||
        !std::equal(kMagic.begin(), kMagic.end(), bytes.begin(),
                    [](uint8_t a, char b) { return a == static_cast<unsigned char>(b); })) {
        throw FormatError("magic",
                          "not a surrogate file (the first bytes are not the "
                          "surrogate magic, and it is not JSON)");
    }
    if (bytes.size() < kHeader + kTrailer) {
        throw FormatError("format_version", "file of " + std::to_string(bytes.size()) +
                                                " bytes is too short to hold a surrogate");
    }

    SurrogateFile file;
    file.format_major = static_cast<uint16_t>(get_le(bytes, kMagic.size(), 2));
    file.format_minor = static_cast<uint16_t>(get_le(bytes, kMagic.size() + 2, 2));
    check_version(file.format_major, file.format_minor);

    const std::string_view body = bytes.substr(kHeader, bytes.size() - kHeader - kTrailer);
    const uint64_t stored = get_le(bytes, bytes.size() - kTrailer, kTrailer);
    const uint64_t computed = fnv1a(body);
    if (stored != computed) {
        throw FormatError("checksum", "stored " + hex(stored) + " but the body hashes to " +
                                          hex(computed) + ": the file is corrupt or truncated");
    }
    file.checksum = stored;

    detail::FieldPath path;
    guarded_load(path, "binary archive", [&] {
        detail::BinaryInputArchive archive(body, path);
        serialize_body(archive, file);
        if (archive.remaining() != 0) {
            throw FormatError("body", std::to_string(archive.remaining()) +
                                          " unexpected bytes after the last field");
        }
    });
    return file;
}

// The parse reads a NUL-terminated copy, as the bindings parse their requests (one
// parser in the WebAssembly module), so a NUL byte would end the text early.
SurrogateFile read_json(std::string_view bytes) {
    const size_t nul = bytes.find('\0');
    if (nul != std::string_view::npos) {
        throw FormatError("body", "a NUL byte at byte " + std::to_string(nul) +
                                      " of the JSON: the file is corrupt");
    }
    const std::string text(bytes);
    rapidjson::Document document;
    document.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str());
    if (document.HasParseError()) {
        throw FormatError("body", "unreadable JSON at byte " +
                                      std::to_string(document.GetErrorOffset()) + " (" +
                                      rapidjson::GetParseError_En(document.GetParseError()) +
                                      "): the file is truncated or corrupt");
    }

    SurrogateFile file;
    std::string magic;
    std::string stored_checksum;
    detail::FieldPath path;
    guarded_load(path, "JSON", [&] {
        detail::JsonInputArchive archive(document, path);
        field(archive, "magic", magic);
        if (magic != kJsonMagic) {
            throw FormatError(
                "magic", "expected \"" + std::string(kJsonMagic) + "\", found \"" + magic + "\"");
        }
        field(archive, "format_major", file.format_major);
        field(archive, "format_minor", file.format_minor);
        check_version(file.format_major, file.format_minor);
        serialize_body(archive, file);
        field(archive, "checksum", stored_checksum);
    });

    const uint64_t computed = checksum(file);
    if (stored_checksum != hex(computed)) {
        throw FormatError("checksum", "stored " + stored_checksum + " but the content hashes to " +
                                          hex(computed) + ": the file was altered or corrupted");
    }
    file.checksum = computed;
    return file;
}

}  // namespace

// ---------------------------------------------------------------------------
// public functions

uint64_t fnv1a(std::string_view bytes, uint64_t hash) {
    for (unsigned char byte : bytes) {
        hash ^= byte;
        hash *= 0x100000001b3ull;
    }
    return hash;
}

std::string readable_versions() {
    std::string versions;
    for (uint16_t minor = 0; minor <= kMinorVersion; ++minor) {
        versions +=
            (minor == 0 ? "" : ", ") + std::to_string(kMajorVersion) + "." + std::to_string(minor);
    }
    return versions;
}

uint64_t checksum(const SurrogateFile& file) {
    detail::BodyHash hash;
    serialize_body(hash, const_cast<SurrogateFile&>(file));
    return hash.value();
}

std::string write_bytes(const SurrogateFile& file, Encoding encoding) {
    validate(file);
    const std::string body = body_bytes(file);
    const uint64_t hash = fnv1a(body);

    if (encoding == Encoding::binary) {
        std::string out(kMagic.begin(), kMagic.end());
        put_u16(out, file.format_major);
        put_u16(out, file.format_minor);
        out += body;
        for (int i = 0; i < 8; ++i) {
            out.push_back(static_cast<char>((hash >> (8 * i)) & 0xff));
        }
        return out;
    }

    std::ostringstream stream;
    {
        cereal::JSONOutputArchive archive(
            stream, cereal::JSONOutputArchive::Options(
                        324, cereal::JSONOutputArchive::Options::IndentChar::space, 1));
        std::string magic = kJsonMagic;
        std::string checksum_text = hex(hash);
        SurrogateFile copy = file;
        field(archive, "magic", magic);
        field(archive, "format_major", copy.format_major);
        field(archive, "format_minor", copy.format_minor);
        serialize_body(archive, copy);
        field(archive, "checksum", checksum_text);
    }
    stream << "\n";
    return stream.str();
}

SurrogateFile read_bytes(std::string_view bytes) {
    size_t first = 0;
    while (first < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[first]))) {
        ++first;
    }
    SurrogateFile file = (first < bytes.size() && bytes[first] == '{')
                             ? read_json(bytes.substr(first))
                             : read_binary(bytes);
    validate(file);
    return file;
}

SurrogateFile read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw FormatError("", "cannot open surrogate file '" + path + "'");
    }
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) {
        throw FormatError("", "cannot read surrogate file '" + path + "'");
    }
    try {
        return read_bytes(content.str());
    } catch (const FormatError& error) {
        throw FormatError(
            error.field(),
            std::string(error.what()).substr(error.field().empty() ? 0 : error.field().size() + 2) +
                " (in '" + path + "')");
    }
}

void write_file(const SurrogateFile& file, const std::string& path, Encoding encoding) {
    const std::string bytes = write_bytes(file, encoding);
    const std::string temporary = path + ".partial";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) {
            throw std::runtime_error("cannot create '" + temporary + "'");
        }
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) {
            out.close();
            std::remove(temporary.c_str());
            throw std::runtime_error("cannot write '" + temporary + "' (disk full?)");
        }
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        throw std::runtime_error("cannot rename '" + temporary + "' to '" + path + "'");
    }
}

}  // namespace cs::format
