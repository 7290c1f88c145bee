// Column layout of toy files and the chunked loop that writes them.
#include "cs/toy/columns.hpp"

namespace cs::toy {

const std::vector<data::ColumnSpec>& jet_columns() {
    using data::ColumnType;
    static const std::vector<data::ColumnSpec> columns = {
        {"label_top", ColumnType::int64},
        {"jet_pt", ColumnType::float32},
        {"jet_eta", ColumnType::float32},
        {"jet_phi", ColumnType::float32},
        {"jet_energy", ColumnType::float32},
        {"jet_nparticles", ColumnType::int64},
        {"jet_sdmass", ColumnType::float32},
        {"jet_tau1", ColumnType::float32},
        {"jet_tau2", ColumnType::float32},
        {"jet_tau3", ColumnType::float32},
        {"jet_tau4", ColumnType::float32},
        // float64: a float32 score saturates at 1 - 6e-8, which would pile the
        // logit-transformed target up at the clip
        {kScoreColumn, ColumnType::float64},
        {"aux_genpart_pt", ColumnType::float32},
        {"aux_genpart_eta", ColumnType::float32},
        {"aux_genpart_phi", ColumnType::float32},
        {"aux_genpart_mass", ColumnType::float32},
        {"aux_genpart_pid", ColumnType::int64},
        {"toy_category", ColumnType::int64},
        {"toy_genpart_nparticles", ColumnType::int64},
        {"toy_vertex_significance", ColumnType::float32},
    };
    return columns;
}

std::vector<std::string> condition_columns(bool with_substructure) {
    std::vector<std::string> names = {"label_top", "jet_pt",     "jet_eta",
                                      "jet_phi",   "jet_energy", "jet_nparticles"};
    if (with_substructure) {
        for (const char* name : {"jet_sdmass", "jet_tau1", "jet_tau2", "jet_tau3", "jet_tau4"}) {
            names.emplace_back(name);
        }
    }
    return names;
}

Conditions conditions_from_row(const data::Table& table, std::size_t row, bool with_substructure) {
    const auto value = [&](const char* name) {
        return static_cast<double>(table.column(name)[row]);
    };
    Conditions conditions;
    conditions.label = static_cast<int>(value("label_top"));
    conditions.pt = value("jet_pt");
    conditions.eta = value("jet_eta");
    conditions.phi = value("jet_phi");
    conditions.energy = value("jet_energy");
    conditions.multiplicity = static_cast<int>(value("jet_nparticles"));
    if (with_substructure) {
        conditions.softdrop_mass = value("jet_sdmass");
        conditions.tau = {value("jet_tau1"), value("jet_tau2"), value("jet_tau3"),
                          value("jet_tau4")};
    }
    return conditions;
}

void append_row(const Jet& jet, std::vector<std::vector<double>>& columns) {
    const Observables seen = jet.detector_level();
    const Observables truth = jet.particle_level();
    const int pid = model().categories()[static_cast<std::size_t>(jet.category)].parton_pid;
    const double values[] = {
        static_cast<double>(jet.label),
        seen.pt,
        seen.eta,
        seen.phi,
        seen.energy,
        static_cast<double>(seen.multiplicity),
        seen.softdrop_mass,
        seen.tau[0],
        seen.tau[1],
        seen.tau[2],
        seen.tau[3],
        jet.score,
        truth.pt,
        truth.eta,
        truth.phi,
        truth.mass,
        static_cast<double>(pid),
        static_cast<double>(jet.category),
        static_cast<double>(truth.multiplicity),
        seen.vertex_significance,
    };
    static_assert(sizeof values / sizeof values[0] == 20);
    columns.resize(jet_columns().size());
    for (std::size_t column = 0; column < columns.size(); ++column) {
        columns[column].push_back(values[column]);
    }
}

void write_dataset(const std::string& path, const Generator& generator, std::uint64_t jets,
                   const data::WriteOptions& options, std::size_t chunk_jets,
                   const std::function<void(std::uint64_t)>& progress) {
    auto writer = data::open_table_writer(path, jet_columns(), options);
    std::vector<std::vector<double>> columns(jet_columns().size());
    for (std::uint64_t first = 0; first < jets; first += chunk_jets) {
        const std::uint64_t last = std::min<std::uint64_t>(jets, first + chunk_jets);
        for (auto& values : columns) {
            values.clear();
        }
        for (std::uint64_t jet = first; jet < last; ++jet) {
            append_row(generator.generate(jet), columns);
        }
        writer->append(columns);
        if (progress) {
            progress(last);
        }
    }
    writer->commit();
}

}  // namespace cs::toy
