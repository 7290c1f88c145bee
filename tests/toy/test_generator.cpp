// The toy generator and tagger: reproducibility, the JetClass-like selection and
// shapes, the separation and bimodality of the score, and the tagger being the exact
// likelihood ratio (its posterior is calibrated).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "cs/data/table.hpp"
#include "cs/data/transform.hpp"
#include "cs/toy/columns.hpp"
#include "cs/toy/experiment.hpp"

namespace {

std::vector<cs::toy::Jet> generate(std::size_t count, std::uint64_t seed = 7,
                                   cs::toy::Selection selection = cs::toy::nominal_selection()) {
    const cs::toy::Generator generator(seed, cs::toy::kTestStream, selection);
    std::vector<cs::toy::Jet> jets;
    for (std::size_t jet = 0; jet < count; ++jet) {
        jets.push_back(generator.generate(jet));
    }
    return jets;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

std::string read_bytes(const std::string& path) {
    std::ifstream input(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("a seed gives the same jets in any order, another seed other jets") {
    const cs::toy::Generator generator(11, cs::toy::kTrainStream);
    const cs::toy::Generator again(11, cs::toy::kTrainStream);
    const cs::toy::Generator other_seed(12, cs::toy::kTrainStream);
    const cs::toy::Generator other_split(11, cs::toy::kValidationStream);
    for (std::uint64_t jet = 0; jet < 200; ++jet) {
        const auto forward = generator.generate(jet);
        const auto backward = again.generate(199 - jet);
        const auto same = again.generate(jet);
        CHECK(forward.detector == same.detector);
        CHECK(forward.particle == same.particle);
        CHECK(forward.score == same.score);
        CHECK(backward.score == generator.generate(199 - jet).score);
        CHECK(other_seed.generate(jet).detector != forward.detector);
        CHECK(other_split.generate(jet).detector != forward.detector);
    }
}

TEST_CASE("files written with one seed are identical byte for byte, however chunked") {
    const auto directory = std::filesystem::path(CS_BINARY_DIR) / "test-scratch" / "toy-bytes";
    std::filesystem::remove_all(directory);
    std::filesystem::create_directories(directory);
    const cs::toy::Generator generator(5, cs::toy::kTrainStream);
    cs::data::WriteOptions options;
    options.chunk_rows = 1000;
    for (const char* extension : {".h5", ".csv"}) {
        const auto first = (directory / (std::string("a") + extension)).string();
        const auto second = (directory / (std::string("b") + extension)).string();
        cs::toy::write_dataset(first, generator, 5000, options, 1024);
        cs::toy::write_dataset(second, generator, 5000, options, 777);
        CHECK(read_bytes(first) == read_bytes(second));
    }
}

TEST_CASE("a toy file reads back through the data library as the generator made it") {
    const auto directory = std::filesystem::path(CS_BINARY_DIR) / "test-scratch" / "toy-read";
    std::filesystem::remove_all(directory);
    std::filesystem::create_directories(directory);
    const auto path = (directory / "jets.h5").string();
    const cs::toy::Generator generator(5, cs::toy::kTestStream);
    cs::toy::write_dataset(path, generator, 3000, {});

    cs::data::TableRequest request;
    request.columns = cs::toy::condition_columns(true);
    request.score = cs::toy::kScoreColumn;
    const auto table = cs::data::read_table(path, request);
    REQUIRE(table.rows() == 3000);
    for (std::size_t row = 0; row < 3000; row += 97) {
        const auto jet = generator.generate(row);
        const auto seen = jet.detector_level();
        CHECK(table.column("label_top")[row] == static_cast<float>(jet.label));
        CHECK(table.column("jet_pt")[row] == static_cast<float>(seen.pt));
        CHECK(table.column("jet_energy")[row] == static_cast<float>(seen.energy));
        CHECK(table.column("jet_nparticles")[row] == static_cast<float>(seen.multiplicity));
        CHECK(table.column("jet_tau3")[row] == static_cast<float>(seen.tau[2]));
        CHECK(table.column(cs::toy::kScoreColumn)[row] == static_cast<float>(jet.score));
    }

    // the score is stored in double precision, so its target keeps every digit
    request.score_as_target = true;
    const auto targets = cs::data::read_table(path, request);
    for (std::size_t row = 0; row < 3000; row += 97) {
        const double target = cs::data::score_to_target(generator.generate(row).score);
        CHECK(targets.column(cs::toy::kScoreColumn)[row] == static_cast<float>(target));
    }
}

TEST_CASE("jets follow the processed JetClass selection and shapes") {
    const auto jets = generate(40000);
    std::vector<double> pt;
    std::vector<double> multiplicity[2];
    std::vector<double> mass[2];
    for (const auto& jet : jets) {
        const auto seen = jet.detector_level();
        REQUIRE(seen.pt >= 500.0);
        REQUIRE(seen.pt <= 1000.0);
        REQUIRE(std::fabs(seen.eta) <= 2.0);
        REQUIRE(seen.energy > seen.pt * std::cosh(seen.eta));
        REQUIRE(seen.softdrop_mass < seen.mass);
        REQUIRE(seen.tau[0] > seen.tau[1]);
        REQUIRE(seen.tau[2] > seen.tau[3]);
        pt.push_back(seen.pt);
        multiplicity[jet.label].push_back(seen.multiplicity);
        mass[jet.label].push_back(seen.mass);
    }

    // the spectrum was tuned to JetClass's mean 623 GeV and spread 109 GeV; the mean
    // of 40000 jets has a statistical error of 0.6 GeV, the bounds allow 2 %
    double sum = 0.0;
    for (double value : pt) {
        sum += value;
    }
    CHECK(sum / static_cast<double>(pt.size()) == Approx(623.0).epsilon(0.02));

    // multiplicity peaks near 20-30 for QCD and 45-55 for top; the mass near the top
    // mass for top jets, well below it for QCD jets
    CHECK(median(multiplicity[0]) > 20.0);
    CHECK(median(multiplicity[0]) < 30.0);
    CHECK(median(multiplicity[1]) > 45.0);
    CHECK(median(multiplicity[1]) < 55.0);
    CHECK(median(mass[1]) == Approx(165.0).margin(15.0));
    CHECK(median(mass[0]) < 100.0);
}

TEST_CASE("the score separates the classes and is sharply bimodal") {
    const auto jets = generate(40000);
    std::vector<double> scores[2];
    std::size_t confident = 0;
    for (const auto& jet : jets) {
        scores[jet.label].push_back(jet.score);
        confident += jet.score < 0.1 || jet.score > 0.9 ? 1 : 0;
    }
    CHECK(median(scores[1]) > 0.99);
    CHECK(median(scores[0]) < 0.01);
    // ParT on JetClass: most jets below 0.1 or above 0.9
    CHECK(static_cast<double>(confident) / static_cast<double>(jets.size()) > 0.9);

    // the area under the ROC curve, by ranks
    std::vector<std::pair<double, int>> ranked;
    for (const auto& jet : jets) {
        ranked.emplace_back(jet.score, jet.label);
    }
    std::sort(ranked.begin(), ranked.end());
    double top_rank_sum = 0.0;
    for (std::size_t rank = 0; rank < ranked.size(); ++rank) {
        top_rank_sum += ranked[rank].second == 1 ? static_cast<double>(rank + 1) : 0.0;
    }
    const auto tops = static_cast<double>(scores[1].size());
    const auto qcd = static_cast<double>(scores[0].size());
    const double auc = (top_rank_sum - tops * (tops + 1.0) / 2.0) / (tops * qcd);
    CHECK(auc > 0.99);
}

TEST_CASE("the tagger is the exact likelihood ratio: its posterior is calibrated") {
    // For the exact likelihood ratio with equal class sizes, P(top | LR) = LR / (1 + LR).
    // Undo the logit compression, bin jets by that posterior, and compare the top
    // fraction in each bin with the mean posterior: binomial errors, 4 sigma.
    const auto jets = generate(200000, 3);
    const double edges[] = {0.05, 0.2, 0.4, 0.6, 0.8, 0.95};
    for (int bin = 0; bin + 1 < 6; ++bin) {
        double posterior_sum = 0.0;
        double tops = 0.0;
        double count = 0.0;
        for (const auto& jet : jets) {
            const double logit = std::log(jet.score / (1.0 - jet.score));
            const double ratio = cs::toy::Tagger::kLogitCompression *
                                 std::sinh(logit / cs::toy::Tagger::kLogitCompression);
            const double posterior = 1.0 / (1.0 + std::exp(-ratio));
            if (posterior >= edges[bin] && posterior < edges[bin + 1]) {
                posterior_sum += posterior;
                tops += jet.label;
                count += 1.0;
            }
        }
        REQUIRE(count > 100.0);
        const double expected = posterior_sum / count;
        const double error = std::sqrt(expected * (1.0 - expected) / count);
        INFO("posterior bin " << edges[bin] << " to " << edges[bin + 1] << ", " << count
                              << " jets");
        CHECK(std::fabs(tops / count - expected) < 4.0 * error);
    }
}

TEST_CASE("the extended range reaches 3 TeV and the forward region consistently") {
    const auto jets = generate(20000, 9, cs::toy::extended_selection());
    double highest_pt = 0.0;
    std::size_t forward = 0;
    for (const auto& jet : jets) {
        const auto seen = jet.detector_level();
        REQUIRE(seen.pt <= 3000.0);
        REQUIRE(std::fabs(seen.eta) <= 4.0);
        REQUIRE(seen.energy > seen.pt * std::cosh(seen.eta));
        REQUIRE(std::isfinite(jet.score));
        highest_pt = std::max(highest_pt, seen.pt);
        forward += cs::toy::region_of(jet.eta) == cs::toy::Region::forward ? 1 : 0;
    }
    CHECK(highest_pt > 1500.0);
    // P(|eta| > 2.5) for a unit normal cut at 4 is 1.24 %: 248 of 20000, +- 16
    CHECK(forward > 180);
    CHECK(forward < 320);

    // a window on detector-level pt alone, beyond the nominal one
    cs::toy::Selection high = cs::toy::extended_selection();
    high.pt_min = 2000.0;
    for (const auto& jet : generate(500, 9, high)) {
        CHECK(jet.detector_level().pt >= 2000.0);
    }

    // unusual multiplicities through the window on the count
    cs::toy::Selection busy = cs::toy::nominal_selection();
    busy.multiplicity_min = 80;
    for (const auto& jet : generate(300, 9, busy)) {
        CHECK(jet.detector_level().multiplicity >= 80);
    }
}
