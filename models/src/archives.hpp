// Readers of a surrogate file from memory, without iostreams (cereal archives): the
// portable binary layout of cereal::PortableBinaryOutputArchive and the JSON that
// cereal::JSONOutputArchive writes; and the hash of the binary body, without the body.
#pragma once

#include <rapidjson/document.h>

#include <cereal/cereal.hpp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cs/format_io.hpp"

namespace cs::format::detail {

// The path of the field being read, "members[3].weights", and the path where an
// exception first left a field. Names are string literals of the field list.
class FieldPath {
  public:
    // A named field, or (without a name) element `index` of an array.
    void push(const char* name, size_t index) { parts_.push_back({name, index}); }

    void pop(bool failed) {
        if (failed && failure_.empty()) {
            failure_ = current();
        }
        parts_.pop_back();
    }

    std::string current() const {
        std::string joined;
        for (const auto& part : parts_) {
            if (part.name == nullptr) {
                joined += "[" + std::to_string(part.index) + "]";
            } else {
                joined += joined.empty() ? "" : ".";
                joined += part.name;
            }
        }
        return joined;
    }

    const std::string& failure() const { return failure_; }

  private:
    struct Part {
        const char* name;
        size_t index;
    };
    std::vector<Part> parts_;
    std::string failure_;
};

// Names one field, or one element of an array, of `path` while it is read.
class FieldScope {
  public:
    FieldScope(FieldPath& path, const char* name, size_t index = 0)
        : path_(path), exceptions_(std::uncaught_exceptions()) {
        path_.push(name, index);
    }
    ~FieldScope() { path_.pop(std::uncaught_exceptions() > exceptions_); }
    FieldScope(const FieldScope&) = delete;
    FieldScope& operator=(const FieldScope&) = delete;

  private:
    FieldPath& path_;
    int exceptions_;
};

inline bool little_endian_machine() {
    const uint16_t probe = 1;
    unsigned char first = 0;
    std::memcpy(&first, &probe, 1);
    return first == 1;
}

// ---------------------------------------------------------------------------
// portable binary

// The body starts with one byte, 1 when the writer stored little-endian values and
// 0 for big-endian; every value follows in that order, lengths as u64, and an
// array of numbers as one run of bytes.
class BinaryInputArchive
    : public cereal::InputArchive<BinaryInputArchive, cereal::AllowEmptyClassElision> {
  public:
    BinaryInputArchive(std::string_view bytes, FieldPath& path)
        : InputArchive(this), bytes_(bytes), path_(path) {
        uint8_t little = 0;
        read(&little, 1, 1);
        if (little > 1) {
            throw FormatError("body", "the byte order mark is " + std::to_string(little) +
                                          "; expected 0 (big-endian) or 1 (little-endian)");
        }
        swap_ = (little == 1) != little_endian_machine();
    }

    // Copies `size` bytes, reversing every element of `element_size` bytes when the
    // file's byte order is not this machine's.
    void read(void* data, uint64_t size, size_t element_size) {
        if (size > remaining()) {
            throw cereal::Exception(std::to_string(size) + " bytes needed at byte " +
                                    std::to_string(position_) + " of the body, " +
                                    std::to_string(remaining()) + " remain");
        }
        if (size == 0) {
            return;
        }
        auto* out = static_cast<unsigned char*>(data);
        std::memcpy(out, bytes_.data() + position_, static_cast<size_t>(size));
        position_ += static_cast<size_t>(size);
        if (swap_ && element_size > 1) {
            for (uint64_t start = 0; start + element_size <= size; start += element_size) {
                for (size_t i = 0; i < element_size / 2; ++i) {
                    std::swap(out[start + i], out[start + element_size - 1 - i]);
                }
            }
        }
    }

    uint64_t remaining() const { return bytes_.size() - position_; }
    FieldPath& path() { return path_; }

  private:
    std::string_view bytes_;
    size_t position_ = 0;
    bool swap_ = false;
    FieldPath& path_;
};

template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_LOAD_FUNCTION_NAME(BinaryInputArchive& archive,
                                                                    T& value) {
    archive.read(&value, sizeof value, sizeof value);
}

template <class T>
void CEREAL_LOAD_FUNCTION_NAME(BinaryInputArchive& archive, cereal::BinaryData<T>& data) {
    using Element = std::remove_pointer_t<std::remove_reference_t<T>>;
    archive.read(data.data, data.size, sizeof(Element));
}

template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(BinaryInputArchive& archive, cereal::NameValuePair<T>& pair) {
    archive(pair.value);
}

template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(BinaryInputArchive& archive, cereal::SizeTag<T>& tag) {
    archive(tag.size);
}

// The FNV-1a hash of the bytes cereal::PortableBinaryOutputArchive writes (in this
// machine's byte order, as cereal does), without keeping them; format_serialize.hpp
// feeds it field by field.
class BodyHash {
  public:
    BodyHash() {
        const uint8_t little = little_endian_machine() ? 1 : 0;
        add(&little, 1);
    }

    void add(const void* data, size_t size) {
        hash_ = fnv1a(std::string_view(static_cast<const char*>(data), size), hash_);
    }

    uint64_t value() const { return hash_; }

  private:
    uint64_t hash_ = kFnv1aStart;
};

// ---------------------------------------------------------------------------
// JSON mirror

// Reads a parsed JSON mirror: every structure is an object whose members are found
// by name (in any order, others ignored), every vector an array, every number a
// JSON number. The file's own loaders (format_serialize.hpp) walk it field by field.
class JsonInputArchive : public cereal::InputArchive<JsonInputArchive> {
  public:
    JsonInputArchive(const rapidjson::Value& root, FieldPath& path)
        : InputArchive(this), path_(path) {
        enter(root);
    }

    // The value of member `name` of the object being read.
    const rapidjson::Value& member(const char* name) const {
        const rapidjson::Value& object = *objects_.back();
        const auto found = object.FindMember(name);
        if (found == object.MemberEnd()) {
            throw FormatError(path_.current(), "this field is missing from the JSON");
        }
        return found->value;
    }

    // Makes `object` the one whose members are read, until leave().
    void enter(const rapidjson::Value& object) {
        require(object.IsObject(), "an object", object);
        objects_.push_back(&object);
    }
    void leave() { objects_.pop_back(); }

    void require(bool holds, const char* expected, const rapidjson::Value& value) const {
        if (!holds) {
            throw FormatError(path_.current(),
                              std::string("expected ") + expected + ", found " + kind(value));
        }
    }

    FieldPath& path() { return path_; }

  private:
    static std::string kind(const rapidjson::Value& value) {
        if (value.IsNumber()) {
            char printed[32];
            std::snprintf(printed, sizeof printed, "%.17g", value.GetDouble());
            return printed;
        }
        if (value.IsString()) {
            return "a string";
        }
        if (value.IsObject()) {
            return "an object";
        }
        if (value.IsArray()) {
            return "an array";
        }
        return value.IsNull() ? "null" : "a boolean";
    }

    std::vector<const rapidjson::Value*> objects_;
    FieldPath& path_;
};

}  // namespace cs::format::detail
