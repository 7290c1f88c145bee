// Writes the files that check_pandas_reads.py reads with pandas: the same table as
// HDF5 (several chunks, so the extendible datasets grow) and as CSV.
#include <cmath>
#include <iostream>

#include "cs/data/writer.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: data_write_for_pandas DIRECTORY\n";
        return 2;
    }
    const std::string directory = argv[1];
    const std::vector<cs::data::ColumnSpec> columns = {
        {"label_top", cs::data::ColumnType::int64},
        {"jet_pt", cs::data::ColumnType::float32},
        {"jet_p_top_ParT_full", cs::data::ColumnType::float64},
        {"jet_eta", cs::data::ColumnType::float32},
    };

    // row r: label r % 2, pt 500 + r / 4, score 1 / (r + 2), eta sin(r); as in the script
    const std::size_t rows = 2500;
    try {
        for (const char* name : {"/ours.h5", "/ours_compressed.h5", "/ours.csv"}) {
            cs::data::WriteOptions options;
            options.chunk_rows = 1000;
            options.compression = std::string(name) == "/ours_compressed.h5" ? 4 : 0;
            auto writer = cs::data::open_table_writer(directory + name, columns, options);
            for (std::size_t first = 0; first < rows; first += 700) {
                std::vector<std::vector<double>> values(columns.size());
                for (std::size_t r = first; r < std::min(rows, first + 700); ++r) {
                    values[0].push_back(static_cast<double>(r % 2));
                    values[1].push_back(500.0 + static_cast<double>(r) / 4.0);
                    values[2].push_back(1.0 / (static_cast<double>(r) + 2.0));
                    values[3].push_back(std::sin(static_cast<double>(r)));
                }
                writer->append(values);
            }
            writer->commit();
        }
    } catch (const std::exception& error) {
        std::cerr << "data_write_for_pandas: " << error.what() << '\n';
        return 1;
    }
    return 0;
}
