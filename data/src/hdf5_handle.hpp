// Owning handles for HDF5 identifiers and the few helpers that pandas' layouts
// need: scalar string attributes, string datasets, silenced error printing.
#pragma once

#include <hdf5.h>

#include <string>
#include <vector>

namespace cs::data::hdf5 {

// Closes the identifier with the matching H5*close when it goes out of scope.
class Handle {
  public:
    using Closer = herr_t (*)(hid_t);

    Handle() = default;
    Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
    ~Handle() { reset(); }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
    Handle& operator=(Handle&& other) noexcept;

    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }
    void reset();

  private:
    hid_t id_ = -1;
    Closer closer_ = nullptr;
};

// While alive, HDF5 prints no error stack: the library reports errors by throwing.
class QuietErrors {
  public:
    QuietErrors();
    ~QuietErrors();
    QuietErrors(const QuietErrors&) = delete;
    QuietErrors& operator=(const QuietErrors&) = delete;

  private:
    H5E_auto2_t function_ = nullptr;
    void* data_ = nullptr;
};

bool has_link(hid_t location, const std::string& name);
bool has_attribute(hid_t object, const std::string& name);

// A scalar string attribute (fixed or variable length); "" when absent.
std::string read_string_attribute(hid_t object, const std::string& name);
long long read_integer_attribute(hid_t object, const std::string& name, long long fallback);

// A one-dimensional dataset of strings (fixed or variable length).
std::vector<std::string> read_string_dataset(hid_t dataset);

// Extent of a dataset's dataspace.
std::vector<hsize_t> dataset_dims(hid_t dataset);

}  // namespace cs::data::hdf5
