// The surrogate file's structures field by field, for any cereal archive: the order
// of the fields is the binary layout. The project's own readers (archives.hpp) read
// every length against the bytes that remain and name the field they stopped at.
#pragma once

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "archives.hpp"
#include "cs/format.hpp"

namespace cs::format {
namespace detail {

inline void check_count(BinaryInputArchive& archive, uint64_t count, uint64_t element_bytes) {
    const uint64_t remaining = archive.remaining();
    if (count > remaining / element_bytes) {
        throw FormatError(archive.path().current(),
                          "length " + std::to_string(count) + " needs at least " +
                              std::to_string(element_bytes) + " bytes each but only " +
                              std::to_string(remaining) + " bytes remain");
    }
}

inline void load_binary(BinaryInputArchive& archive, std::string& value) {
    cereal::size_type size = 0;
    archive(cereal::make_size_tag(size));
    check_count(archive, size, 1);
    value.resize(static_cast<size_t>(size));
    archive(cereal::binary_data(value.data(), static_cast<size_t>(size)));
}

template <class T>
void load_binary(BinaryInputArchive& archive, std::vector<T>& values) {
    cereal::size_type size = 0;
    archive(cereal::make_size_tag(size));
    if constexpr (std::is_arithmetic_v<T>) {
        check_count(archive, size, sizeof(T));
        values.resize(static_cast<size_t>(size));
        archive(cereal::binary_data(values.data(), static_cast<size_t>(size) * sizeof(T)));
    } else {
        check_count(archive, size, 1);
        values.resize(static_cast<size_t>(size));
        for (size_t i = 0; i < values.size(); ++i) {
            FieldScope scope(archive.path(), nullptr, i);
            serialize(archive, values[i]);
        }
    }
}

template <class T>
void load_binary(BinaryInputArchive& archive, T& value) {
    if constexpr (std::is_arithmetic_v<T>) {
        archive(value);
    } else {
        serialize(archive, value);
    }
}

inline void hash_binary(BodyHash& hash, std::string& value) {
    const uint64_t size = value.size();
    hash.add(&size, sizeof size);
    hash.add(value.data(), value.size());
}

template <class T>
void hash_binary(BodyHash& hash, std::vector<T>& values) {
    const uint64_t size = values.size();
    hash.add(&size, sizeof size);
    if constexpr (std::is_arithmetic_v<T>) {
        hash.add(values.data(), values.size() * sizeof(T));
    } else {
        for (auto& value : values) {
            serialize(hash, value);
        }
    }
}

template <class T>
void hash_binary(BodyHash& hash, T& value) {
    if constexpr (std::is_arithmetic_v<T>) {
        hash.add(&value, sizeof value);
    } else {
        serialize(hash, value);
    }
}

inline void load_json(JsonInputArchive& archive, const rapidjson::Value& json, std::string& value) {
    archive.require(json.IsString(), "a string", json);
    value.assign(json.GetString(), json.GetStringLength());
}

template <class T>
void load_json(JsonInputArchive& archive, const rapidjson::Value& json, std::vector<T>& values) {
    archive.require(json.IsArray(), "an array", json);
    values.resize(json.Size());
    for (rapidjson::SizeType i = 0; i < json.Size(); ++i) {
        FieldScope scope(archive.path(), nullptr, i);
        load_json(archive, json[i], values[i]);
    }
}

template <class T>
void load_json(JsonInputArchive& archive, const rapidjson::Value& json, T& value) {
    if constexpr (std::is_floating_point_v<T>) {
        archive.require(json.IsNumber(), "a number", json);
        value = static_cast<T>(json.GetDouble());
    } else if constexpr (std::is_integral_v<T>) {
        static_assert(std::is_unsigned_v<T>, "the file holds unsigned integers only");
        const bool fits = json.IsUint64() && json.GetUint64() <= std::numeric_limits<T>::max();
        archive.require(fits,
                        sizeof(T) == 8   ? "a whole number from 0 to 2^64 - 1"
                        : sizeof(T) == 4 ? "a whole number from 0 to 2^32 - 1"
                                         : "a whole number from 0 to 65535",
                        json);
        value = static_cast<T>(json.GetUint64());
    } else {
        archive.enter(json);
        serialize(archive, value);
        archive.leave();
    }
}

}  // namespace detail

// One named field: the project's readers and the checksum handle it themselves,
// other archives (the writers, cereal's own readers) through cereal.
template <class Archive, class T>
void field(Archive& archive, const char* name, T& value) {
    if constexpr (std::is_same_v<Archive, detail::BinaryInputArchive>) {
        detail::FieldScope scope(archive.path(), name);
        detail::load_binary(archive, value);
    } else if constexpr (std::is_same_v<Archive, detail::JsonInputArchive>) {
        detail::FieldScope scope(archive.path(), name);
        detail::load_json(archive, archive.member(name), value);
    } else if constexpr (std::is_same_v<Archive, detail::BodyHash>) {
        detail::hash_binary(archive, value);
    } else {
        archive(cereal::make_nvp(name, value));
    }
}

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

}  // namespace cs::format
