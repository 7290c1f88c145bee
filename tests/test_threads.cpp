// Evaluation is const and thread safe: concurrent queries on one surrogate give the
// answers of serial ones.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "cs/runtime/demonstration.hpp"
#include "cs/surrogate.hpp"

namespace {

const cs::Conditions kTopJet = {{"label_top", 1.0},    {"jet_pt", 640.0},
                                {"jet_eta", 0.3},      {"jet_phi", -1.2},
                                {"jet_energy", 900.0}, {"jet_nparticles", 50.0}};

const cs::Surrogate& demo() {
    static const cs::Surrogate surrogate(cs::runtime::make_demonstration_surrogate(5, 7));
    return surrogate;
}

}  // namespace

TEST_CASE("concurrent queries give the same answers as serial ones") {
    std::vector<cs::Conditions> jets;
    for (int i = 0; i < 8; ++i) {
        cs::Conditions jet = kTopJet;
        jet["jet_pt"] = 550.0 + 25.0 * i;
        jet["label_top"] = i % 2;
        jets.push_back(jet);
    }
    std::vector<cs::JetSummary> serial;
    for (const auto& jet : jets) {
        serial.push_back(demo().summarize(jet));
    }
    std::vector<cs::JetSummary> parallel(jets.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < jets.size(); ++i) {
        threads.emplace_back([&, i] { parallel[i] = demo().summarize(jets[i]); });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (size_t i = 0; i < jets.size(); ++i) {
        CHECK(parallel[i].quantiles == serial[i].quantiles);
        CHECK(parallel[i].tag_probability == serial[i].tag_probability);
    }
}
