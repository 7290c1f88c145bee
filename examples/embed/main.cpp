// Embedding a published surrogate in analysis code: the tag probability of a jet at
// a working point, with its epistemic uncertainty, and the out-of-support flag.
// Usage: embed_surrogate FILE
#include <cs/surrogate.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: embed_surrogate FILE\n");
        return 2;
    }
    try {
        const cs::Surrogate surrogate = cs::Surrogate::load(argv[1]);

        // A top jet in the units of the surrogate's card.
        const cs::Conditions jet = {{"label_top", 1.0},    {"jet_pt", 640.0},
                                    {"jet_eta", 0.3},      {"jet_phi", -1.2},
                                    {"jet_energy", 900.0}, {"jet_nparticles", 50.0}};
        cs::QueryOptions query;
        query.cuts = {0.5, 0.9};
        const cs::JetSummary summary = surrogate.summarize(jet, query);

        for (size_t k = 0; k < summary.cuts.size(); ++k) {
            std::printf("P(score > %.2f) = %.4f +- %.4f\n", summary.cuts[k],
                        summary.tag_probability[k], summary.tag_probability_std[k]);
        }
        std::printf("median score %.4f, out of support: %s\n", summary.quantiles[49],
                    summary.support.out_of_support ? "yes" : "no");
    } catch (const std::exception& error) {
        std::fprintf(stderr, "embed_surrogate: %s\n", error.what());
        return 1;
    }
    return 0;
}
