// Golden numbers of the native build. The WebAssembly build runs this same file, so
// both must draw the same random numbers and give the same answers.
#include <catch2/catch.hpp>

#include "cs/random.hpp"
#include "cs/runtime/demonstration.hpp"
#include "cs/surrogate.hpp"

namespace {

const cs::Conditions kJet = {{"label_top", 1.0}, {"jet_pt", 640.0},     {"jet_eta", 0.3},
                             {"jet_phi", -1.2},  {"jet_energy", 900.0}, {"jet_nparticles", 50.0}};

const cs::Surrogate& golden_surrogate() {
    static const cs::Surrogate surrogate(cs::runtime::make_demonstration_surrogate(3, 2024));
    return surrogate;
}

}  // namespace

TEST_CASE("golden random numbers, bit for bit") {
    const cs::CounterRandom random(20240223, 7);
    CHECK(random.uniform(0, 0) == 0.21116223506614168);
    CHECK(random.uniform(5, 3) == 0.78873833367605184);
    CHECK(random.below(1000, 9, 4) == 199u);
    // The normal transform uses log and sqrt: equal to the last few bits across libms.
    CHECK(random.normal(1, 2) == Approx(1.3886436623310547).epsilon(1e-14));
}

TEST_CASE("golden answers of the demonstration surrogate") {
    cs::QueryOptions query;
    query.quantile_levels = {0.1, 0.5, 0.9};
    query.cuts = {0.5, 0.9};
    const cs::JetSummary summary = golden_surrogate().summarize(kJet, query);

    // Float32 network arithmetic and the adaptive solver's tolerance (rtol 1e-5 in the
    // logit) bound the differences between builds: 1e-5 in score.
    const double tolerance = 1e-5;
    CHECK(summary.quantiles[0] == Approx(0.8185888917).margin(tolerance));
    CHECK(summary.quantiles[1] == Approx(0.9353617974).margin(tolerance));
    CHECK(summary.quantiles[2] == Approx(0.9789351050).margin(tolerance));
    CHECK(summary.tag_probability[0] == Approx(0.9983604363).margin(tolerance));
    CHECK(summary.tag_probability[1] == Approx(0.6992057822).margin(tolerance));
    CHECK(summary.mean_score == Approx(0.9136053037).margin(tolerance));
    CHECK(summary.aleatoric_std == Approx(0.0717145902).margin(tolerance));
    CHECK(summary.epistemic_std == Approx(0.0042829617).margin(tolerance));
    CHECK(summary.same_noise_spread == Approx(0.0097859389).margin(tolerance));
    CHECK(summary.support.distance == Approx(1.3296539744).margin(1e-9));

    const auto draws = golden_surrogate().sample(kJet, 3, 11, 5);
    CHECK(draws[0] == Approx(0.9672322154).margin(tolerance));
    CHECK(draws[1] == Approx(0.9692364390).margin(tolerance));
    CHECK(draws[2] == Approx(0.9306197188).margin(tolerance));
    CHECK(golden_surrogate().density(kJet, 0.9) == Approx(4.2533655423).epsilon(1e-4));
}
