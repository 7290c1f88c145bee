// Small synthetic jet tables for the trainer's tests: a balanced label, JetClass-
// like kinematics and a score whose logit / 20 is Gaussian around +-0.05, by label.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cs/data/table.hpp"
#include "cs/data/writer.hpp"
#include "cs/random.hpp"

namespace cs::test {

inline const std::vector<std::string> kConditions = {"label_top", "jet_pt",     "jet_eta",
                                                     "jet_phi",   "jet_energy", "jet_nparticles"};
inline const std::string kScore = "jet_p_top_ParT_full";

// Mean and width of logit(score) / 20 given the label: the truth the tests compare to.
inline double synthetic_mean(int label) {
    return label == 1 ? 0.05 : -0.05;
}
inline constexpr double kSyntheticWidth = 0.06;

inline data::Table synthetic_table(std::size_t rows, uint64_t seed) {
    const CounterRandom random(seed, 5);
    data::Table table;
    table.names = kConditions;
    table.names.push_back(kScore);
    table.columns.assign(table.names.size(), std::vector<float>(rows));
    for (std::size_t r = 0; r < rows; ++r) {
        const int label = random.uniform(r, 0) < 0.5 ? 0 : 1;
        const double pt = 620.0 + 100.0 * random.normal(r, 1);
        const double eta = 0.9 * random.normal(r, 2);
        const double x = synthetic_mean(label) + kSyntheticWidth * random.normal(r, 6);
        table.columns[0][r] = static_cast<float>(label);
        table.columns[1][r] = static_cast<float>(pt);
        table.columns[2][r] = static_cast<float>(eta);
        table.columns[3][r] = static_cast<float>(3.1 * (2.0 * random.uniform(r, 3) - 1.0));
        table.columns[4][r] = static_cast<float>(pt * std::cosh(eta));
        table.columns[5][r] = static_cast<float>(std::round(40.0 + 10.0 * random.normal(r, 4)));
        table.columns[6][r] = static_cast<float>(1.0 / (1.0 + std::exp(-20.0 * x)));
    }
    return table;
}

// The same table as a file: CSV or pandas HDF5 (fixed layout) by the extension.
inline void write_synthetic_file(const std::string& path, std::size_t rows, uint64_t seed) {
    const data::Table table = synthetic_table(rows, seed);
    std::vector<data::ColumnSpec> specs;
    for (const std::string& name : table.names) {
        specs.push_back({name, data::ColumnType::float64});
    }
    auto writer = data::open_table_writer(path, specs);
    std::vector<std::vector<double>> columns;
    for (const auto& column : table.columns) {
        columns.emplace_back(column.begin(), column.end());
    }
    writer->append(columns);
    writer->commit();
}

}  // namespace cs::test
