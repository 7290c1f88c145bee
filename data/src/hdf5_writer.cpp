// Streamed HDF5 output in pandas' fixed layout: one extendible, chunked dataset per
// dtype block and one for the row index, grown by one buffer of rows at a time, with
// the attributes PyTables and pandas look for, so pandas.read_hdf reads the file.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cs/data/atomic_file.hpp"
#include "cs/data/error.hpp"
#include "hdf5_handle.hpp"
#include "row_source.hpp"

namespace cs::data {
namespace {

using hdf5::Handle;

// PyTables writes its strings as scalar fixed-length UTF-8 attributes.
void write_string_attribute(hid_t object, const std::string& name, const std::string& value) {
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), std::max<std::size_t>(value.size(), 1));
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    H5Tset_strpad(type.get(), H5T_STR_NULLTERM);
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle attribute(
        H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
    std::string padded = value;
    padded.resize(std::max<std::size_t>(value.size(), 1), '\0');
    H5Awrite(attribute.get(), type.get(), padded.data());
}

template <typename Value>
void write_scalar_attribute(hid_t object, const std::string& name, hid_t type, Value value) {
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle attribute(H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                     H5Aclose);
    H5Awrite(attribute.get(), type, &value);
}

// The attributes of a PyTables array node; extendible ones are EArrays along rows.
void write_array_attributes(hid_t dataset, bool extendible) {
    write_string_attribute(dataset, "CLASS", extendible ? "EARRAY" : "ARRAY");
    write_string_attribute(dataset, "VERSION", extendible ? "1.1" : "2.4");
    write_string_attribute(dataset, "TITLE", "");
    write_string_attribute(dataset, "FLAVOR", "numpy");
    if (extendible) {
        write_scalar_attribute(dataset, "EXTDIM", H5T_NATIVE_INT32, std::int32_t{0});
    }
    // pandas stores each array transposed and transposes it back on reading
    write_scalar_attribute(dataset, "transposed", H5T_NATIVE_B8, std::uint8_t{1});
}

// Creation properties without modification times, so that one seed gives one file,
// byte for byte.
Handle reproducible_properties(hid_t kind) {
    Handle properties(H5Pcreate(kind), H5Pclose);
    H5Pset_obj_track_times(properties.get(), false);
    return properties;
}

// A one-dimensional dataset of fixed-length ASCII strings, as numpy's "S" arrays.
void write_string_dataset(hid_t group, const std::string& name,
                          const std::vector<std::string>& values) {
    std::size_t width = 1;
    for (const auto& value : values) {
        width = std::max(width, value.size());
    }
    std::vector<char> buffer(width * values.size(), '\0');
    for (std::size_t i = 0; i < values.size(); ++i) {
        std::copy(values[i].begin(), values[i].end(), buffer.begin() + i * width);
    }

    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), width);
    H5Tset_strpad(type.get(), H5T_STR_NULLTERM);
    const hsize_t dims[1] = {values.size()};
    Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    Handle properties = reproducible_properties(H5P_DATASET_CREATE);
    Handle dataset(H5Dcreate2(group, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                              properties.get(), H5P_DEFAULT),
                   H5Dclose);
    H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data());
    write_array_attributes(dataset.get(), false);
    write_string_attribute(dataset.get(), "kind", "string");
}

hid_t file_type(ColumnType type) {
    switch (type) {
        case ColumnType::float32:
            return H5T_IEEE_F32LE;
        case ColumnType::float64:
            return H5T_IEEE_F64LE;
        case ColumnType::int64:
            return H5T_STD_I64LE;
    }
    return H5T_IEEE_F64LE;
}

// One pandas block: the columns of one dtype, stored rows x columns.
struct Block {
    ColumnType type = ColumnType::float64;
    std::vector<std::size_t> columns;
    Handle dataset;
};

class Hdf5Writer final : public TableWriter {
  public:
    Hdf5Writer(const std::string& path, std::vector<ColumnSpec> columns,
               const WriteOptions& options);

    void append(const std::vector<std::vector<double>>& columns) override;
    void commit() override;
    std::size_t rows() const override { return rows_ + buffered_; }

  private:
    Handle create_extendible(const std::string& name, ColumnType type, std::size_t width);
    void flush();
    void write_rows(hid_t dataset, hid_t memory_type, std::size_t width, const void* data);
    [[noreturn]] void fail(const std::string& what) const;

    AtomicFile file_;
    std::vector<ColumnSpec> columns_;
    WriteOptions options_;
    Handle h5_file_;
    Handle group_;
    Handle index_;
    std::vector<Block> blocks_;
    std::vector<std::vector<double>> buffer_;  // per column, up to chunk_rows values
    std::size_t buffered_ = 0;
    std::size_t rows_ = 0;  // rows already in the file
};

void Hdf5Writer::fail(const std::string& what) const {
    throw DataError(DataError::Kind::write_failed, file_.path(),
                    what + " in the temporary file '" + file_.temporary_path() + "'");
}

Hdf5Writer::Hdf5Writer(const std::string& path, std::vector<ColumnSpec> columns,
                       const WriteOptions& options)
    : file_(path), columns_(std::move(columns)), options_(options) {
    hdf5::QuietErrors quiet;
    if (options_.chunk_rows == 0 || options_.compression < 0 || options_.compression > 9) {
        throw DataError(DataError::Kind::invalid_argument, path,
                        "chunk_rows must be positive and compression between 0 and 9");
    }
    Handle file_properties = reproducible_properties(H5P_FILE_CREATE);
    h5_file_ = Handle(H5Fcreate(file_.temporary_path().c_str(), H5F_ACC_TRUNC,
                                file_properties.get(), H5P_DEFAULT),
                      H5Fclose);
    if (!h5_file_.valid()) {
        fail("cannot create the file");
    }

    // the root and the key's group carry the attributes PyTables and pandas check
    Handle root(H5Gopen2(h5_file_.get(), "/", H5P_DEFAULT), H5Gclose);
    write_string_attribute(root.get(), "CLASS", "GROUP");
    write_string_attribute(root.get(), "PYTABLES_FORMAT_VERSION", "2.1");
    write_string_attribute(root.get(), "TITLE", "");
    write_string_attribute(root.get(), "VERSION", "1.0");
    Handle group_properties = reproducible_properties(H5P_GROUP_CREATE);
    group_ = Handle(H5Gcreate2(h5_file_.get(), options_.key.c_str(), H5P_DEFAULT,
                               group_properties.get(), H5P_DEFAULT),
                    H5Gclose);
    if (!group_.valid()) {
        fail("cannot create the group '/" + options_.key + "'");
    }

    // blocks in order of each dtype's first column, as pandas consolidates them
    for (std::size_t column = 0; column < columns_.size(); ++column) {
        auto block = std::find_if(blocks_.begin(), blocks_.end(), [&](const Block& candidate) {
            return candidate.type == columns_[column].type;
        });
        if (block == blocks_.end()) {
            blocks_.push_back(Block{columns_[column].type, {}, Handle{}});
            block = blocks_.end() - 1;
        }
        block->columns.push_back(column);
    }

    const hid_t group = group_.get();
    write_string_attribute(group, "CLASS", "GROUP");
    write_string_attribute(group, "TITLE", "");
    write_string_attribute(group, "VERSION", "1.0");
    write_string_attribute(group, "pandas_type", "frame");
    write_string_attribute(group, "pandas_version", "0.15.2");
    write_string_attribute(group, "encoding", "UTF-8");
    write_string_attribute(group, "errors", "strict");
    write_scalar_attribute(group, "ndim", H5T_NATIVE_INT64, std::int64_t{2});
    write_scalar_attribute(group, "nblocks", H5T_NATIVE_INT64,
                           static_cast<std::int64_t>(blocks_.size()));
    write_string_attribute(group, "axis0_variety", "regular");
    write_string_attribute(group, "axis1_variety", "regular");

    // column names, then per block its names and its growing values
    std::vector<std::string> names;
    for (const auto& column : columns_) {
        names.push_back(column.name);
    }
    write_string_dataset(group, "axis0", names);
    index_ = create_extendible("axis1", ColumnType::int64, 0);
    write_string_attribute(index_.get(), "kind", "integer");
    for (std::size_t block = 0; block < blocks_.size(); ++block) {
        const std::string prefix = "block" + std::to_string(block);
        std::vector<std::string> items;
        for (std::size_t column : blocks_[block].columns) {
            items.push_back(columns_[column].name);
        }
        write_string_attribute(group, prefix + "_items_variety", "regular");
        write_string_dataset(group, prefix + "_items", items);
        blocks_[block].dataset =
            create_extendible(prefix + "_values", blocks_[block].type, items.size());
    }
    buffer_.assign(columns_.size(), {});
}

// width 0 makes a one-dimensional dataset (the index), otherwise rows x width.
Handle Hdf5Writer::create_extendible(const std::string& name, ColumnType type, std::size_t width) {
    const int rank = width == 0 ? 1 : 2;
    const hsize_t dims[2] = {0, width};
    const hsize_t max_dims[2] = {H5S_UNLIMITED, width};
    const hsize_t chunk[2] = {options_.chunk_rows, std::max<std::size_t>(width, 1)};
    Handle space(H5Screate_simple(rank, dims, max_dims), H5Sclose);
    Handle properties = reproducible_properties(H5P_DATASET_CREATE);
    H5Pset_chunk(properties.get(), rank, chunk);
    if (options_.compression > 0) {
        H5Pset_shuffle(properties.get());
        H5Pset_deflate(properties.get(), static_cast<unsigned>(options_.compression));
    }
    Handle dataset(H5Dcreate2(group_.get(), name.c_str(), file_type(type), space.get(), H5P_DEFAULT,
                              properties.get(), H5P_DEFAULT),
                   H5Dclose);
    if (!dataset.valid()) {
        fail("cannot create the dataset '" + name + "'");
    }
    write_array_attributes(dataset.get(), true);
    return dataset;
}

void Hdf5Writer::append(const std::vector<std::vector<double>>& columns) {
    const std::size_t count = appended_rows(file_.path(), columns, columns_.size());

    // buffer up to one chunk of rows, writing each full buffer
    std::size_t done = 0;
    while (done < count) {
        const std::size_t take = std::min(count - done, options_.chunk_rows - buffered_);
        for (std::size_t column = 0; column < columns.size(); ++column) {
            const auto begin = columns[column].begin() + static_cast<std::ptrdiff_t>(done);
            buffer_[column].insert(buffer_[column].end(), begin,
                                   begin + static_cast<std::ptrdiff_t>(take));
        }
        buffered_ += take;
        done += take;
        if (buffered_ == options_.chunk_rows) {
            flush();
        }
    }
}

void Hdf5Writer::write_rows(hid_t dataset, hid_t memory_type, std::size_t width, const void* data) {
    const int rank = width == 0 ? 1 : 2;
    const hsize_t new_dims[2] = {rows_ + buffered_, width};
    if (H5Dset_extent(dataset, new_dims) < 0) {
        fail("cannot extend a dataset");
    }
    Handle file_space(H5Dget_space(dataset), H5Sclose);
    const hsize_t start[2] = {rows_, 0};
    const hsize_t extent[2] = {buffered_, width};
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr);
    Handle memory_space(H5Screate_simple(rank, extent, nullptr), H5Sclose);
    if (H5Dwrite(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, data) <
        0) {
        fail("cannot write rows (disk full?)");
    }
}

void Hdf5Writer::flush() {
    if (buffered_ == 0) {
        return;
    }
    hdf5::QuietErrors quiet;

    // the row index continues 0, 1, 2, ... as pandas' default RangeIndex
    std::vector<std::int64_t> index(buffered_);
    for (std::size_t row = 0; row < buffered_; ++row) {
        index[row] = static_cast<std::int64_t>(rows_ + row);
    }
    write_rows(index_.get(), H5T_NATIVE_INT64, 0, index.data());

    // each block row-major in its own type
    for (const Block& block : blocks_) {
        const std::size_t width = block.columns.size();
        std::vector<double> doubles;
        std::vector<float> floats;
        std::vector<std::int64_t> integers;
        if (block.type == ColumnType::float32) {
            floats.resize(buffered_ * width);
        } else if (block.type == ColumnType::int64) {
            integers.resize(buffered_ * width);
        } else {
            doubles.resize(buffered_ * width);
        }
        for (std::size_t position = 0; position < width; ++position) {
            const auto& values = buffer_[block.columns[position]];
            for (std::size_t row = 0; row < buffered_; ++row) {
                const std::size_t at = row * width + position;
                if (block.type == ColumnType::float32) {
                    floats[at] = static_cast<float>(values[row]);
                } else if (block.type == ColumnType::int64) {
                    integers[at] = std::llround(values[row]);
                } else {
                    doubles[at] = values[row];
                }
            }
        }
        if (block.type == ColumnType::float32) {
            write_rows(block.dataset.get(), H5T_NATIVE_FLOAT, width, floats.data());
        } else if (block.type == ColumnType::int64) {
            write_rows(block.dataset.get(), H5T_NATIVE_INT64, width, integers.data());
        } else {
            write_rows(block.dataset.get(), H5T_NATIVE_DOUBLE, width, doubles.data());
        }
    }

    rows_ += buffered_;
    buffered_ = 0;
    for (auto& values : buffer_) {
        values.clear();
    }
}

void Hdf5Writer::commit() {
    flush();
    hdf5::QuietErrors quiet;
    for (Block& block : blocks_) {
        block.dataset.reset();
    }
    index_.reset();
    group_.reset();
    if (H5Fclose(h5_file_.get()) < 0) {
        fail("cannot close the file");
    }
    h5_file_ = Handle{};
    file_.commit();
}

}  // namespace

std::unique_ptr<TableWriter> open_hdf5_writer(const std::string& path,
                                              std::vector<ColumnSpec> columns,
                                              const WriteOptions& options) {
    return std::make_unique<Hdf5Writer>(path, std::move(columns), options);
}

}  // namespace cs::data
