// Reads pandas' two HDF5 layouts (DataFrame.to_hdf with format "fixed" or "table")
// through the HDF5 C API, one selected column at a time and one row range at a time,
// converted by HDF5 to double.
//
//   fixed:  /key/axis0           column names, in column order
//           /key/blockN_items    names of the columns of block N (one block per dtype)
//           /key/blockN_values   rows x columns of block N ("transposed" attribute set)
//   table:  /key/table           compound rows: index, values_block_N[k], data columns
//           values_block_N_kind  attribute on /key/table: the names, as pickle text
#include <filesystem>
#include <map>
#include <stdexcept>

#include "cs/data/error.hpp"
#include "hdf5_handle.hpp"
#include "pickle_text.hpp"
#include "row_source.hpp"

namespace cs::data {
namespace {

using hdf5::Handle;

// Where a column's values are: a dataset (fixed: a block; table: the compound),
// and for the table layout a field of the compound; position is the column within
// the block or the element of the field's array, width the block's or array's size.
struct ColumnLocation {
    std::string dataset;
    std::string field;
    std::size_t position = 0;
    std::size_t width = 1;
};

class Hdf5Source final : public RowSource {
  public:
    Hdf5Source(const std::string& path, const std::string& key);

    const std::vector<std::string>& names() const override { return names_; }
    std::optional<std::size_t> rows() const override { return rows_; }
    std::size_t read(std::size_t first, std::size_t count, const std::vector<std::size_t>& columns,
                     std::vector<std::vector<double>>& out) override;

  private:
    void open_fixed();
    void open_table();
    void check_numeric(hid_t type, std::size_t column) const;
    void read_block(const ColumnLocation& location, std::size_t column, std::size_t first,
                    std::size_t count, std::vector<double>& buffer);
    void read_table_field(const ColumnLocation& location, std::size_t first, std::size_t count,
                          std::vector<double>& buffer);
    [[noreturn]] void fail_layout(const std::string& message) const;

    static constexpr std::size_t kSieveBytes = std::size_t{4} << 20;

    std::string path_;
    std::string key_;
    Handle file_;
    Handle group_;
    std::vector<std::string> names_;
    std::vector<ColumnLocation> locations_;  // one per name
    std::size_t rows_ = 0;
    std::map<std::string, Handle> datasets_;
};

void Hdf5Source::fail_layout(const std::string& message) const {
    throw DataError(DataError::Kind::layout, path_,
                    message + " (expected a pandas DataFrame written with to_hdf(key='" + key_ +
                        "'), fixed or table format)");
}

Hdf5Source::Hdf5Source(const std::string& path, const std::string& key) : path_(path), key_(key) {
    hdf5::QuietErrors quiet;

    // open the file: distinguish a missing file from one that is not HDF5
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {
        throw DataError(DataError::Kind::unreadable, path,
                        "no such file (expected a pandas HDF5 file)");
    }
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        throw DataError(DataError::Kind::unreadable, path,
                        "not an HDF5 file (expected a pandas HDF5 file; use --format csv or a .csv "
                        "name for CSV)");
    }
    // contiguous datasets (pandas' own files) are read through a larger sieve buffer
    Handle file_access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    H5Pset_sieve_buf_size(file_access.get(), kSieveBytes);
    file_ = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, file_access.get()), H5Fclose);
    if (!file_.valid()) {
        throw DataError(DataError::Kind::unreadable, path, "HDF5 cannot open the file");
    }

    // the group of the key, then the layout pandas wrote
    if (!hdf5::has_link(file_.get(), key)) {
        fail_layout("no group '/" + key + "'");
    }
    group_ = Handle(H5Gopen2(file_.get(), key.c_str(), H5P_DEFAULT), H5Gclose);
    if (!group_.valid()) {
        fail_layout("'/" + key + "' is not a group");
    }
    const std::string pandas_type = hdf5::read_string_attribute(group_.get(), "pandas_type");
    if (hdf5::has_link(group_.get(), "table")) {
        open_table();
    } else if (pandas_type == "frame" || hdf5::has_link(group_.get(), "axis0")) {
        open_fixed();
    } else {
        fail_layout("group '/" + key + "' has neither 'axis0' nor 'table' (pandas_type '" +
                    pandas_type + "')");
    }
}

void Hdf5Source::open_fixed() {
    // the column names in column order, and the number of rows from the row index
    Handle axis0(H5Dopen2(group_.get(), "axis0", H5P_DEFAULT), H5Dclose);
    if (!axis0.valid()) {
        fail_layout("no dataset 'axis0' of column names");
    }
    names_ = hdf5::read_string_dataset(axis0.get());
    if (names_.empty()) {
        fail_layout("'axis0' holds no string column names");
    }
    locations_.assign(names_.size(), ColumnLocation{});
    std::vector<bool> located(names_.size(), false);

    // each block: its item names and where each item sits in the block's values
    const long long blocks = hdf5::read_integer_attribute(group_.get(), "nblocks", -1);
    if (blocks < 0) {
        fail_layout("no 'nblocks' attribute on '/" + key_ + "'");
    }
    for (long long block = 0; block < blocks; ++block) {
        const std::string prefix = "block" + std::to_string(block);
        Handle items(H5Dopen2(group_.get(), (prefix + "_items").c_str(), H5P_DEFAULT), H5Dclose);
        Handle values(H5Dopen2(group_.get(), (prefix + "_values").c_str(), H5P_DEFAULT), H5Dclose);
        if (!items.valid() || !values.valid()) {
            fail_layout("block " + std::to_string(block) + " lacks " + prefix + "_items or " +
                        prefix + "_values");
        }
        const auto item_names = hdf5::read_string_dataset(items.get());
        for (std::size_t position = 0; position < item_names.size(); ++position) {
            std::size_t column = 0;
            while (column < names_.size() && names_[column] != item_names[position]) {
                ++column;
            }
            if (column == names_.size()) {
                fail_layout("block item '" + item_names[position] + "' is not in axis0");
            }
            locations_[column] = {prefix + "_values", "", position, item_names.size()};
            located[column] = true;
        }

        // pandas stores the transpose of its (columns x rows) block: rows x columns;
        // for an empty frame it stores a placeholder and the true shape as an attribute
        const auto dims = hdf5::dataset_dims(values.get());
        if (dims.size() != 2) {
            fail_layout(prefix + "_values is not two-dimensional");
        }
        const bool placeholder = hdf5::has_attribute(values.get(), "shape");
        rows_ = placeholder ? 0 : static_cast<std::size_t>(dims[0]);
        datasets_.emplace(prefix + "_values", std::move(values));
    }
    for (std::size_t column = 0; column < names_.size(); ++column) {
        if (!located[column]) {
            fail_layout("column '" + names_[column] + "' is in axis0 but in no block");
        }
    }
}

void Hdf5Source::open_table() {
    Handle table(H5Dopen2(group_.get(), "table", H5P_DEFAULT), H5Dclose);
    Handle type(H5Dget_type(table.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_COMPOUND) {
        fail_layout("'table' is not a compound dataset");
    }
    const auto dims = hdf5::dataset_dims(table.get());
    rows_ = dims.empty() ? 0 : static_cast<std::size_t>(dims[0]);

    // every field but the index holds columns: values_block_N (named in an attribute,
    // several columns as an array) or a data column (named by the field, one column)
    const int fields = H5Tget_nmembers(type.get());
    for (int field = 0; field < fields; ++field) {
        char* raw_name = H5Tget_member_name(type.get(), static_cast<unsigned>(field));
        const std::string field_name(raw_name);
        H5free_memory(raw_name);
        if (field_name == "index") {
            continue;
        }

        Handle member(H5Tget_member_type(type.get(), static_cast<unsigned>(field)), H5Tclose);
        std::size_t width = 1;
        if (H5Tget_class(member.get()) == H5T_ARRAY) {
            hsize_t array_dims[H5S_MAX_RANK];
            const int rank = H5Tget_array_ndims(member.get());
            H5Tget_array_dims2(member.get(), array_dims);
            for (int axis = 0; axis < rank; ++axis) {
                width *= static_cast<std::size_t>(array_dims[axis]);
            }
        }

        std::vector<std::string> field_columns{field_name};
        const std::string kind = hdf5::read_string_attribute(table.get(), field_name + "_kind");
        if (!kind.empty()) {
            field_columns = pickled_strings(kind);
        }
        if (field_columns.size() != width) {
            fail_layout("field '" + field_name + "' holds " + std::to_string(width) +
                        " values per row but its _kind attribute names " +
                        std::to_string(field_columns.size()) + " columns");
        }
        for (std::size_t position = 0; position < width; ++position) {
            names_.push_back(field_columns[position]);
            locations_.push_back({"table", field_name, position, width});
        }
    }

    // pandas records the column order of the frame in non_index_axes; follow it
    const auto order = pickled_strings(hdf5::read_string_attribute(group_.get(), "non_index_axes"));
    if (order.size() == names_.size()) {
        std::vector<std::string> ordered_names;
        std::vector<ColumnLocation> ordered_locations;
        for (const auto& name : order) {
            for (std::size_t column = 0; column < names_.size(); ++column) {
                if (names_[column] == name) {
                    ordered_names.push_back(name);
                    ordered_locations.push_back(locations_[column]);
                }
            }
        }
        if (ordered_names.size() == names_.size()) {
            names_ = std::move(ordered_names);
            locations_ = std::move(ordered_locations);
        }
    }
    datasets_.emplace("table", std::move(table));
}

void Hdf5Source::check_numeric(hid_t type, std::size_t column) const {
    H5T_class_t type_class = H5Tget_class(type);
    if (type_class == H5T_ARRAY) {
        Handle base(H5Tget_super(type), H5Tclose);
        type_class = H5Tget_class(base.get());
    }
    if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) {
        throw DataError(DataError::Kind::layout, path_,
                        "column '" + names_[column] +
                            "' does not hold integers or floating-point numbers (expected a "
                            "numeric column)");
    }
}

void Hdf5Source::read_block(const ColumnLocation& location, std::size_t column, std::size_t first,
                            std::size_t count, std::vector<double>& buffer) {
    const hid_t dataset = datasets_.at(location.dataset).get();
    Handle type(H5Dget_type(dataset), H5Tclose);
    check_numeric(type.get(), column);

    // rows [first, first + count) of the whole block, once per block and chunk of rows:
    // a block's HDF5 chunks hold all its columns, so reading whole rows reads each
    // chunk once, where reading single columns would read it again for every column
    // (or piece by piece, one row at a time, when it exceeds HDF5's chunk cache)
    Handle file_space(H5Dget_space(dataset), H5Sclose);
    const hsize_t start[2] = {first, 0};
    const hsize_t extent[2] = {count, location.width};
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr);
    Handle memory_space(H5Screate_simple(2, extent, nullptr), H5Sclose);

    buffer.resize(count * location.width);
    if (H5Dread(dataset, H5T_NATIVE_DOUBLE, memory_space.get(), file_space.get(), H5P_DEFAULT,
                buffer.data()) < 0) {
        throw DataError(DataError::Kind::unreadable, path_,
                        "HDF5 failed to read rows " + std::to_string(first) + " to " +
                            std::to_string(first + count) + " of " + location.dataset);
    }
}

void Hdf5Source::read_table_field(const ColumnLocation& location, std::size_t first,
                                  std::size_t count, std::vector<double>& buffer) {
    const hid_t dataset = datasets_.at("table").get();

    // a memory compound with only this field, as doubles: HDF5 matches fields by name
    Handle field_type;
    if (location.width > 1 || location.field.rfind("values_block_", 0) == 0) {
        const hsize_t width[1] = {location.width};
        field_type = Handle(H5Tarray_create2(H5T_NATIVE_DOUBLE, 1, width), H5Tclose);
    } else {
        field_type = Handle(H5Tcopy(H5T_NATIVE_DOUBLE), H5Tclose);
    }
    Handle memory_type(H5Tcreate(H5T_COMPOUND, location.width * sizeof(double)), H5Tclose);
    H5Tinsert(memory_type.get(), location.field.c_str(), 0, field_type.get());

    Handle file_space(H5Dget_space(dataset), H5Sclose);
    const hsize_t start[1] = {first};
    const hsize_t extent[1] = {count};
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr);
    Handle memory_space(H5Screate_simple(1, extent, nullptr), H5Sclose);

    buffer.resize(count * location.width);
    if (H5Dread(dataset, memory_type.get(), memory_space.get(), file_space.get(), H5P_DEFAULT,
                buffer.data()) < 0) {
        throw DataError(DataError::Kind::unreadable, path_,
                        "HDF5 failed to read rows " + std::to_string(first) + " to " +
                            std::to_string(first + count) + " of field '" + location.field +
                            "' of the table");
    }
}

std::size_t Hdf5Source::read(std::size_t first, std::size_t count,
                             const std::vector<std::size_t>& columns,
                             std::vector<std::vector<double>>& out) {
    hdf5::QuietErrors quiet;
    count = first >= rows_ ? 0 : std::min(count, rows_ - first);
    out.resize(columns.size());
    if (count == 0) {
        for (auto& values : out) {
            values.clear();
        }
        return 0;
    }

    const auto key = [](const ColumnLocation& location) {
        return location.dataset + "/" + location.field;
    };

    // each block or field is read once, then its columns are handed out
    std::map<std::string, std::vector<double>> slabs;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const ColumnLocation& location = locations_.at(columns[i]);
        auto found = slabs.find(key(location));
        if (found == slabs.end()) {
            found = slabs.emplace(key(location), std::vector<double>{}).first;
            if (location.field.empty()) {
                read_block(location, columns[i], first, count, found->second);
            } else {
                Handle member_type = [&] {
                    Handle type(H5Dget_type(datasets_.at("table").get()), H5Tclose);
                    const int index = H5Tget_member_index(type.get(), location.field.c_str());
                    return Handle(H5Tget_member_type(type.get(), static_cast<unsigned>(index)),
                                  H5Tclose);
                }();
                check_numeric(member_type.get(), columns[i]);
                read_table_field(location, first, count, found->second);
            }
        }
        out[i].resize(count);
        for (std::size_t row = 0; row < count; ++row) {
            out[i][row] = found->second[row * location.width + location.position];
        }
    }
    // HDF5 keeps the memory of evicted chunks on its free lists; without this the
    // process would grow by every chunk read
    return count;
}

}  // namespace

std::unique_ptr<RowSource> open_hdf5_source(const std::string& path, const std::string& key) {
    return std::make_unique<Hdf5Source>(path, key);
}

}  // namespace cs::data
