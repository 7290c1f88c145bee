// Serialization of surrogate files with cereal. Binary loading reads every length
// against the bytes that remain, so a corrupt count is an error, never a huge
// allocation; the path of the field being read is kept for the error message.
#include "cs/format_io.hpp"

// Full-precision parsing, so that a JSON mirror reads back bit for bit.
#define RAPIDJSON_PARSE_DEFAULT_FLAGS kParseFullPrecisionFlag
#include <cereal/archives/json.hpp>
#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>
#include <type_traits>

#include "cs/random.hpp"

namespace cs::format {
namespace {

// ---------------------------------------------------------------------------
// field paths while loading

struct LoadContext {
    std::istream* stream = nullptr;
    uint64_t total = 0;
    std::vector<std::string> path;
    std::string failure_path;

    std::string current() const {
        std::string joined;
        for (const auto& part : path) {
            if (!joined.empty() && part.front() != '[') {
                joined += '.';
            }
            joined += part;
        }
        return joined;
    }

    uint64_t remaining() const {
        const auto position = static_cast<uint64_t>(stream->tellg());
        return position <= total ? total - position : 0;
    }
};

thread_local LoadContext* load_context = nullptr;

// Pushes a field name for the duration of its loading; records the path if an
// exception leaves the field.
class FieldScope {
  public:
    explicit FieldScope(std::string name) : exceptions_(std::uncaught_exceptions()) {
        if (load_context != nullptr) {
            load_context->path.push_back(std::move(name));
        }
    }
    ~FieldScope() {
        if (load_context == nullptr) {
            return;
        }
        if (std::uncaught_exceptions() > exceptions_ && load_context->failure_path.empty()) {
            load_context->failure_path = load_context->current();
        }
        load_context->path.pop_back();
    }
    FieldScope(const FieldScope&) = delete;
    FieldScope& operator=(const FieldScope&) = delete;

  private:
    int exceptions_;
};

template <class Archive>
constexpr bool kBinaryInput = std::is_same_v<Archive, cereal::PortableBinaryInputArchive>;

void check_count(uint64_t count, uint64_t element_bytes) {
    const uint64_t remaining = load_context->remaining();
    if (element_bytes > 0 && count > remaining / element_bytes) {
        throw FormatError(load_context->current(),
                          "length " + std::to_string(count) + " needs at least " +
                              std::to_string(element_bytes) + " bytes each but only " +
                              std::to_string(remaining) + " bytes remain");
    }
}

template <class T>
void load_binary(cereal::PortableBinaryInputArchive& archive, T& value);

inline void load_binary(cereal::PortableBinaryInputArchive& archive, std::string& value) {
    cereal::size_type size = 0;
    archive(cereal::make_size_tag(size));
    check_count(size, 1);
    value.resize(static_cast<size_t>(size));
    archive(cereal::binary_data(value.data(), static_cast<size_t>(size)));
}

template <class T>
void load_binary(cereal::PortableBinaryInputArchive& archive, std::vector<T>& values) {
    cereal::size_type size = 0;
    archive(cereal::make_size_tag(size));
    if constexpr (std::is_arithmetic_v<T>) {
        check_count(size, sizeof(T));
        values.resize(static_cast<size_t>(size));
        archive(cereal::binary_data(values.data(), static_cast<size_t>(size) * sizeof(T)));
    } else {
        check_count(size, 1);
        values.resize(static_cast<size_t>(size));
        for (size_t i = 0; i < values.size(); ++i) {
            FieldScope scope("[" + std::to_string(i) + "]");
            serialize(archive, values[i]);
        }
    }
}

template <class T>
void load_binary(cereal::PortableBinaryInputArchive& archive, T& value) {
    if constexpr (std::is_arithmetic_v<T>) {
        archive(value);
    } else {
        serialize(archive, value);
    }
}

// One named field: guarded loading for the binary reader, cereal's own otherwise.
template <class Archive, class T>
void field(Archive& archive, const char* name, T& value) {
    FieldScope scope(name);
    if constexpr (kBinaryInput<Archive>) {
        load_binary(archive, value);
    } else {
        archive(cereal::make_nvp(name, value));
    }
}

}  // namespace

// ---------------------------------------------------------------------------
// the structures, field by field (the order is the binary layout)

template <class Archive>
void serialize(Archive& archive, TimeEmbedding& value) {
    field(archive, "kind", value.kind);
    field(archive, "frequencies", value.frequencies);
    field(archive, "layout", value.layout);
}

template <class Archive>
void serialize(Archive& archive, Architecture& value) {
    field(archive, "kind", value.kind);
    field(archive, "n_blocks", value.n_blocks);
    field(archive, "width", value.width);
    field(archive, "layers_per_block", value.layers_per_block);
    field(archive, "activation", value.activation);
    field(archive, "time_embedding", value.time_embedding);
    field(archive, "time_convention", value.time_convention);
    field(archive, "sigma_min", value.sigma_min);
    field(archive, "weight_layout", value.weight_layout);
}

template <class Archive>
void serialize(Archive& archive, ScoreTransform& value) {
    field(archive, "kind", value.kind);
    field(archive, "scale", value.scale);
}

template <class Archive>
void serialize(Archive& archive, FeatureSupport& value) {
    field(archive, "min", value.min);
    field(archive, "max", value.max);
    field(archive, "quantile_levels", value.quantile_levels);
    field(archive, "quantiles", value.quantiles);
}

template <class Archive>
void serialize(Archive& archive, Condition& value) {
    field(archive, "name", value.name);
    field(archive, "unit", value.unit);
    field(archive, "description", value.description);
    field(archive, "offset", value.offset);
    field(archive, "scale", value.scale);
    field(archive, "support", value.support);
}

template <class Archive>
void serialize(Archive& archive, Support& value) {
    field(archive, "n_jets", value.n_jets);
    field(archive, "mean", value.mean);
    field(archive, "covariance", value.covariance);
    field(archive, "distance_levels", value.distance_levels);
    field(archive, "distance_quantiles", value.distance_quantiles);
    field(archive, "distance_threshold", value.distance_threshold);
}

template <class Archive>
void serialize(Archive& archive, Solver& value) {
    field(archive, "method", value.method);
    field(archive, "step_control", value.step_control);
    field(archive, "atol", value.atol);
    field(archive, "rtol", value.rtol);
    field(archive, "max_steps", value.max_steps);
    field(archive, "rk4_steps", value.rk4_steps);
}

template <class Archive>
void serialize(Archive& archive, Random& value) {
    field(archive, "generator", value.generator);
    field(archive, "normal_transform", value.normal_transform);
}

template <class Archive>
void serialize(Archive& archive, Member& value) {
    field(archive, "origin", value.origin);
    field(archive, "step", value.step);
    field(archive, "weights", value.weights);
}

template <class Archive>
void serialize(Archive& archive, Entry& value) {
    field(archive, "key", value.key);
    field(archive, "value", value.value);
}

template <class Archive>
void serialize(Archive& archive, Metric& value) {
    field(archive, "key", value.key);
    field(archive, "value", value.value);
}

template <class Archive>
void serialize(Archive& archive, Provenance& value) {
    field(archive, "tagger", value.tagger);
    field(archive, "training_data", value.training_data);
    field(archive, "method", value.method);
    field(archive, "created", value.created);
    field(archive, "description", value.description);
    field(archive, "hyperparameters", value.hyperparameters);
    field(archive, "metrics", value.metrics);
}

template <class Archive>
void serialize(Archive& archive, TestVector& value) {
    field(archive, "member", value.member);
    field(archive, "time", value.time);
    field(archive, "state", value.state);
    field(archive, "conditions", value.conditions);
    field(archive, "velocity", value.velocity);
    field(archive, "velocity_derivative", value.velocity_derivative);
}

namespace {

// The body: everything between the version and the checksum.
template <class Archive>
void serialize_body(Archive& archive, SurrogateFile& file) {
    field(archive, "producer", file.producer);
    field(archive, "producer_version", file.producer_version);
    field(archive, "architecture", file.architecture);
    field(archive, "score_transform", file.score_transform);
    field(archive, "conditions", file.conditions);
    field(archive, "support", file.support);
    field(archive, "solver", file.solver);
    field(archive, "random", file.random);
    field(archive, "members", file.members);
    field(archive, "provenance", file.provenance);
    field(archive, "test_vectors", file.test_vectors);
    field(archive, "test_tolerance", file.test_tolerance);
}

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
    std::ostringstream out;
    out << "0x" << std::hex << std::setw(16) << std::setfill('0') << value;
    return out.str();
}

void check_version(uint16_t major, uint16_t minor) {
    if (major != kMajorVersion || minor > kMinorVersion) {
        throw FormatError("format_version",
                          "this file has format version " + std::to_string(major) + "." +
                              std::to_string(minor) + "; this build reads " + readable_versions());
    }
}

// Runs a cereal load with a path-tracking context; turns every failure into a
// FormatError that names the field where reading stopped.
template <class Load>
void guarded_load(std::istream& stream, uint64_t total, const char* encoding, Load&& load) {
    LoadContext context;
    context.stream = &stream;
    context.total = total;
    load_context = &context;
    try {
        load();
    } catch (const FormatError&) {
        load_context = nullptr;
        throw;
    } catch (const std::exception& error) {
        load_context = nullptr;
        const std::string where = context.failure_path.empty() ? "body" : context.failure_path;
        throw FormatError(where, std::string("unreadable ") + encoding + " (" + error.what() +
                                     "): the file is truncated or corrupt");
    }
    load_context = nullptr;
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

    std::istringstream stream{std::string(body), std::ios::binary};
    guarded_load(stream, body.size(), "binary archive", [&] {
        cereal::PortableBinaryInputArchive archive(stream);
        serialize_body(archive, file);
    });
    const auto consumed = static_cast<uint64_t>(stream.tellg());
    if (consumed != body.size()) {
        throw FormatError("body", std::to_string(body.size() - consumed) +
                                      " unexpected bytes after the last field");
    }
    return file;
}

SurrogateFile read_json(std::string_view bytes) {
    SurrogateFile file;
    std::string magic;
    std::string stored_checksum;
    std::istringstream stream{std::string(bytes)};
    guarded_load(stream, bytes.size(), "JSON", [&] {
        cereal::JSONInputArchive archive(stream);
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

uint64_t fnv1a(std::string_view bytes) {
    uint64_t hash = 0xcbf29ce484222325ull;
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
    return fnv1a(body_bytes(file));
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
