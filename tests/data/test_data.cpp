// Reading and writing tables: pandas' own files (fixed, table, CSV) read alike and
// as this library's files, chunked reads, the bad-row policy and the errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "cs/data/table.hpp"
#include "cs/data/transform.hpp"
#include "cs/data/writer.hpp"

namespace {

using cs::data::DataError;

const std::string kFixtures = std::string(CS_SOURCE_DIR) + "/tests/data/fixtures/";

const std::vector<std::string> kColumns = {"label_top", "jet_pt",         "jet_eta",
                                           "jet_phi",   "jet_nparticles", "jet_sdmass"};
const std::string kScore = "jet_p_top_ParT_full";

cs::data::TableRequest all_columns() {
    cs::data::TableRequest request;
    request.columns = kColumns;
    request.score = kScore;
    return request;
}

// A fresh directory under the build tree for files a test writes.
std::string scratch(const std::string& name) {
    const auto directory = std::filesystem::path(CS_BINARY_DIR) / "test-scratch" / name;
    std::filesystem::remove_all(directory);
    std::filesystem::create_directories(directory);
    return directory.string();
}

// The DataError the action throws; a test failure if it throws none.
DataError caught(const std::function<void()>& action) {
    try {
        action();
    } catch (const DataError& error) {
        return error;
    }
    FAIL("expected a DataError");
    throw std::logic_error("unreachable");
}

DataError::Kind error_kind(const std::function<void()>& action) {
    return caught(action).kind();
}

std::string error_message(const std::function<void()>& action) {
    return caught(action).what();
}

void require_equal(const cs::data::Table& a, const cs::data::Table& b) {
    REQUIRE(a.names == b.names);
    REQUIRE(a.rows() == b.rows());
    for (std::size_t column = 0; column < a.columns.size(); ++column) {
        INFO("column " << a.names[column]);
        CHECK(a.columns[column] == b.columns[column]);
    }
}

// Writes a table with this library, every column in the given type.
void write(const std::string& path, const cs::data::Table& table, cs::data::ColumnType type) {
    std::vector<cs::data::ColumnSpec> specs;
    std::vector<std::vector<double>> values;
    for (std::size_t column = 0; column < table.names.size(); ++column) {
        specs.push_back({table.names[column], type});
        values.emplace_back(table.columns[column].begin(), table.columns[column].end());
    }
    auto writer = cs::data::open_table_writer(path, specs);
    writer->append(values);
    writer->commit();
}

}  // namespace

TEST_CASE("the pandas fixed-layout fixture reads with the values the script wrote") {
    const auto table = cs::data::read_table(kFixtures + "jets_fixed.h5", all_columns());
    REQUIRE(table.rows() == 24);
    for (std::size_t row = 0; row < 24; ++row) {
        const double r = static_cast<double>(row);
        CHECK(table.column("label_top")[row] == static_cast<float>(row % 2));
        CHECK(table.column("jet_pt")[row] == static_cast<float>(500.0 + 17.25 * r));
        CHECK(table.column("jet_eta")[row] == static_cast<float>((r - 12.0) / 64.0));
        CHECK(table.column("jet_nparticles")[row] == static_cast<float>(20 + 3 * row));
        CHECK(table.column(kScore)[row] == static_cast<float>(0.5 + 0.5 * std::sin(r)));
    }
}

TEST_CASE("pandas' fixed, table and CSV files of one frame read identically") {
    const auto fixed = cs::data::read_table(kFixtures + "jets_fixed.h5", all_columns());
    const auto table = cs::data::read_table(kFixtures + "jets_table.h5", all_columns());
    const auto csv = cs::data::read_table(kFixtures + "jets.csv", all_columns());
    const auto data_columns =
        cs::data::read_table(kFixtures + "jets_table_data_columns.h5", all_columns());
    require_equal(fixed, table);
    require_equal(fixed, csv);
    require_equal(fixed, data_columns);
}

TEST_CASE("the column lists follow pandas' column order in every layout") {
    const std::vector<std::string> order = {
        "label_top",          "jet_pt", "jet_eta", "jet_phi", "jet_nparticles", "jet_sdmass",
        "jet_p_top_ParT_full"};
    CHECK(cs::data::list_columns(kFixtures + "jets_fixed.h5") == order);
    CHECK(cs::data::list_columns(kFixtures + "jets_table.h5") == order);
    CHECK(cs::data::list_columns(kFixtures + "jets.csv") == order);
    CHECK(cs::data::list_columns(kFixtures + "jets_table_data_columns.h5") == order);
}

TEST_CASE("pandas' files read the same as this library's own files of the same table") {
    const auto directory = scratch("own-files");
    const auto pandas = cs::data::read_table(kFixtures + "jets_fixed.h5", all_columns());
    for (auto type : {cs::data::ColumnType::float32, cs::data::ColumnType::float64}) {
        write(directory + "/own.h5", pandas, type);
        write(directory + "/own.csv", pandas, type);
        require_equal(cs::data::read_table(directory + "/own.h5", all_columns()), pandas);
        require_equal(cs::data::read_table(directory + "/own.csv", all_columns()), pandas);
    }
}

TEST_CASE("a selection reads only the requested columns, in the requested order") {
    cs::data::TableRequest request;
    request.columns = {"jet_sdmass", "label_top"};
    for (const char* file : {"jets_fixed.h5", "jets_table.h5", "jets.csv"}) {
        const auto table = cs::data::read_table(kFixtures + file, request);
        CHECK(table.names == request.columns);
        CHECK(table.columns.size() == 2);
        CHECK(table.columns[0][2] == 53.0f);
        CHECK(table.columns[1][2] == 0.0f);
    }
}

TEST_CASE("chunks and row ranges give the rows of a whole read") {
    for (const char* file : {"jets_fixed.h5", "jets_table.h5", "jets.csv"}) {
        INFO(file);
        const auto whole = cs::data::read_table(kFixtures + file, all_columns());

        // chunks of 5 rows concatenate to the whole table
        cs::data::TableReader reader(kFixtures + file, all_columns());
        cs::data::Table chunk;
        std::vector<float> pt;
        std::size_t chunks = 0;
        while (reader.next(chunk, 5)) {
            CHECK(chunk.rows() <= 5);
            pt.insert(pt.end(), chunk.column("jet_pt").begin(), chunk.column("jet_pt").end());
            ++chunks;
        }
        CHECK(chunks == 5);
        CHECK(pt == whole.column("jet_pt"));

        // rows [10, 17)
        auto request = all_columns();
        request.first_row = 10;
        request.row_count = 7;
        const auto range = cs::data::read_table(kFixtures + file, request);
        REQUIRE(range.rows() == 7);
        CHECK(range.column("jet_pt").front() == whole.column("jet_pt")[10]);
        CHECK(range.column("jet_pt").back() == whole.column("jet_pt")[16]);
    }
}

TEST_CASE("a missing column is named, with the columns the file has") {
    auto request = all_columns();
    request.columns.push_back("jet_tau5");
    const auto message =
        error_message([&] { cs::data::read_table(kFixtures + "jets_fixed.h5", request); });
    CHECK_THAT(message, Catch::Contains("'jet_tau5'") && Catch::Contains("jets_fixed.h5") &&
                            Catch::Contains("jet_sdmass, jet_p_top_ParT_full"));
    CHECK(error_kind([&] { cs::data::read_table(kFixtures + "jets.csv", request); }) ==
          DataError::Kind::missing_column);
}

TEST_CASE("bad values stop the read with column and row, or are dropped and counted") {
    auto request = all_columns();
    const auto message =
        error_message([&] { cs::data::read_table(kFixtures + "jets_bad.h5", request); });
    CHECK_THAT(message, Catch::Contains("'jet_pt', row 3") && Catch::Contains("finite"));

    request.columns = {"jet_pt"};
    request.score = kScore;
    request.first_row = 4;
    CHECK_THAT(error_message([&] { cs::data::read_table(kFixtures + "jets_bad.h5", request); }),
               Catch::Contains("'jet_p_top_ParT_full', row 5") && Catch::Contains("[0, 1]"));

    request = all_columns();
    request.bad_rows = cs::data::BadRows::drop;
    const auto table = cs::data::read_table(kFixtures + "jets_bad.h5", request);
    CHECK(table.dropped_rows == 3);
    CHECK(table.rows() == 21);
    CHECK(table.column("jet_pt")[3] == 500.0f + 17.25f * 4.0f);
}

TEST_CASE("empty, missing and foreign files give typed errors naming the file") {
    const auto directory = scratch("errors");
    std::ofstream(directory + "/empty.csv").close();
    std::ofstream(directory + "/header.csv") << "jet_pt,jet_p_top_ParT_full\n";
    std::ofstream(directory + "/text.h5") << "not hdf5\n";
    cs::data::TableRequest request;
    request.columns = {"jet_pt"};

    using Kind = DataError::Kind;
    CHECK(error_kind([&] { cs::data::read_table(kFixtures + "jets_empty.h5", request); }) ==
          Kind::empty);
    CHECK(error_kind([&] { cs::data::read_table(directory + "/empty.csv", request); }) ==
          Kind::empty);
    CHECK(error_kind([&] { cs::data::read_table(directory + "/header.csv", request); }) ==
          Kind::empty);
    CHECK(error_kind([&] { cs::data::read_table(directory + "/text.h5", request); }) ==
          Kind::unreadable);
    CHECK(error_kind([&] { cs::data::read_table(directory + "/absent.h5", request); }) ==
          Kind::unreadable);
    request.key = "jets";
    CHECK_THAT(error_message([&] { cs::data::read_table(kFixtures + "jets_fixed.h5", request); }),
               Catch::Contains("no group '/jets'") && Catch::Contains("jets_fixed.h5"));
}

TEST_CASE("a writer that is not committed leaves no file behind") {
    const auto directory = scratch("atomic");
    {
        auto writer = cs::data::open_table_writer(directory + "/partial.h5", {{"a"}, {"b"}});
        writer->append({{1.0, 2.0}, {3.0, 4.0}});
    }
    {
        auto writer = cs::data::open_table_writer(directory + "/partial.csv", {{"a"}});
        writer->append({{1.0}});
    }
    CHECK(std::filesystem::is_empty(directory));
}

TEST_CASE("streamed writing over many chunks reads back row ranges exactly") {
    const auto directory = scratch("streamed");
    const std::size_t rows = 200000;
    cs::data::WriteOptions options;
    options.chunk_rows = 4096;
    auto writer = cs::data::open_table_writer(
        directory + "/big.h5",
        {{"index", cs::data::ColumnType::int64}, {"half", cs::data::ColumnType::float32}}, options);
    for (std::size_t first = 0; first < rows; first += 30000) {
        std::vector<std::vector<double>> values(2);
        for (std::size_t row = first; row < std::min(rows, first + 30000); ++row) {
            values[0].push_back(static_cast<double>(row));
            values[1].push_back(static_cast<double>(row) / 2.0);
        }
        writer->append(values);
    }
    CHECK(writer->rows() == rows);
    writer->commit();

    cs::data::TableRequest request;
    request.columns = {"half", "index"};
    request.first_row = 123456;
    request.row_count = 10000;
    const auto table = cs::data::read_table(directory + "/big.h5", request);
    REQUIRE(table.rows() == 10000);
    CHECK(table.column("index").front() == 123456.0f);
    CHECK(table.column("half").back() == static_cast<float>((123456 + 9999) / 2.0));
}

TEST_CASE("the score can be delivered as the target, computed in double precision") {
    auto request = all_columns();
    request.score_as_target = true;
    const auto targets = cs::data::read_table(kFixtures + "jets_table.h5", request);
    const auto scores = cs::data::read_table(kFixtures + "jets_table.h5", all_columns());
    for (std::size_t row = 0; row < targets.rows(); ++row) {
        CHECK(targets.column(kScore)[row] ==
              static_cast<float>(cs::data::score_to_target(scores.column(kScore)[row])));
    }
}
