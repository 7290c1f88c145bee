// HDF5 handle ownership and the string helpers shared by the reader and the writer.
#include "hdf5_handle.hpp"

#include <algorithm>
#include <memory>

namespace cs::data::hdf5 {

Handle& Handle::operator=(Handle&& other) noexcept {
    if (this != &other) {
        reset();
        id_ = other.id_;
        closer_ = other.closer_;
        other.id_ = -1;
    }
    return *this;
}

void Handle::reset() {
    if (id_ >= 0 && closer_ != nullptr) {
        closer_(id_);
    }
    id_ = -1;
}

QuietErrors::QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

QuietErrors::~QuietErrors() {
    H5Eset_auto2(H5E_DEFAULT, function_, data_);
}

bool has_link(hid_t location, const std::string& name) {
    return H5Lexists(location, name.c_str(), H5P_DEFAULT) > 0;
}

bool has_attribute(hid_t object, const std::string& name) {
    return H5Aexists(object, name.c_str()) > 0;
}

namespace {

// Fixed-length strings may be padded with NULs or spaces; pandas pads with NULs.
std::string trim_padding(const char* text, std::size_t size) {
    std::size_t length = 0;
    while (length < size && text[length] != '\0') {
        ++length;
    }
    return std::string(text, length);
}

}  // namespace

std::string read_string_attribute(hid_t object, const std::string& name) {
    if (!has_attribute(object, name)) {
        return {};
    }
    Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
    Handle type(H5Aget_type(attribute.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_STRING) {
        return {};
    }

    if (H5Tis_variable_str(type.get()) > 0) {
        char* text = nullptr;
        Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(memory_type.get(), H5T_VARIABLE);
        if (H5Aread(attribute.get(), memory_type.get(), &text) < 0 || text == nullptr) {
            return {};
        }
        std::string value(text);
        H5free_memory(text);
        return value;
    }

    const std::size_t size = H5Tget_size(type.get());
    std::vector<char> buffer(size + 1, '\0');
    if (H5Aread(attribute.get(), type.get(), buffer.data()) < 0) {
        return {};
    }
    return trim_padding(buffer.data(), size);
}

long long read_integer_attribute(hid_t object, const std::string& name, long long fallback) {
    if (!has_attribute(object, name)) {
        return fallback;
    }
    Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
    Handle type(H5Aget_type(attribute.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_INTEGER) {
        return fallback;
    }
    long long value = fallback;
    if (H5Aread(attribute.get(), H5T_NATIVE_LLONG, &value) < 0) {
        return fallback;
    }
    return value;
}

std::vector<hsize_t> dataset_dims(hid_t dataset) {
    Handle space(H5Dget_space(dataset), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
    if (rank > 0) {
        H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    }
    return dims;
}

std::vector<std::string> read_string_dataset(hid_t dataset) {
    Handle type(H5Dget_type(dataset), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_STRING) {
        return {};
    }
    const auto dims = dataset_dims(dataset);
    const std::size_t count = dims.empty() ? 1 : static_cast<std::size_t>(dims[0]);
    std::vector<std::string> values;
    values.reserve(count);

    if (H5Tis_variable_str(type.get()) > 0) {
        std::vector<char*> texts(count, nullptr);
        Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(memory_type.get(), H5T_VARIABLE);
        if (H5Dread(dataset, memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()) < 0) {
            return {};
        }
        for (char* text : texts) {
            values.emplace_back(text == nullptr ? "" : text);
            H5free_memory(text);
        }
        return values;
    }

    const std::size_t size = H5Tget_size(type.get());
    std::vector<char> buffer(size * count + 1, '\0');
    if (H5Dread(dataset, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0) {
        return {};
    }
    for (std::size_t i = 0; i < count; ++i) {
        values.push_back(trim_padding(buffer.data() + i * size, size));
    }
    return values;
}

}  // namespace cs::data::hdf5
