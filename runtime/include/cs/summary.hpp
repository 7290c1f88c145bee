// Plain result structs of the runtime, free of Eigen, shared by the embedding API,
// the CLI and the WebAssembly bindings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cs {

struct QueryOptions {
    // Quantile levels in (0, 1); the default is 0.01, 0.02, ..., 0.99.
    std::vector<double> quantile_levels = default_levels();
    // Working points: P(score > cut) for each cut in (0, 1).
    std::vector<double> cuts = {0.5};
    // Midpoint levels (k + 0.5) / n used for the moments and the same-noise spread.
    uint32_t moment_points = 50;

    static std::vector<double> default_levels() {
        std::vector<double> levels;
        for (int i = 1; i <= 99; ++i) {
            levels.push_back(i / 100.0);
        }
        return levels;
    }
};

// Where a jet lies relative to the training data.
struct SupportCheck {
    double distance = 0.0;                   // Mahalanobis distance in normalized conditions
    double distance_quantile = 0.0;          // share of training jets closer than this one
    bool out_of_support = false;             // beyond the stored threshold or any feature's range
    std::vector<std::string> outside_range;  // features outside their training range
};

// Everything the runtime says about one jet.
struct JetSummary {
    std::vector<double> quantile_levels;
    // Quantiles of the ensemble's score distribution (the mixture over members).
    std::vector<double> quantiles;
    // [member][level]: each member's exact quantiles through its monotone map.
    std::vector<std::vector<double>> member_quantiles;
    // Lowest and highest member quantile per level: the epistemic band.
    std::vector<double> quantile_lower;
    std::vector<double> quantile_upper;

    std::vector<double> cuts;
    std::vector<double> tag_probability;                      // ensemble mean, per cut
    std::vector<double> tag_probability_std;                  // spread across members, per cut
    std::vector<std::vector<double>> member_tag_probability;  // [member][cut]

    double mean_score = 0.0;
    std::vector<double> member_mean_score;
    // Law of total variance: total^2 = aleatoric^2 (mean member variance)
    //                                  + epistemic^2 (variance of member means).
    double aleatoric_std = 0.0;
    double epistemic_std = 0.0;
    double total_std = 0.0;
    // The reference's measure: the same noise through every member, max minus min
    // of the scores, averaged over the noise.
    double same_noise_spread = 0.0;

    SupportCheck support;
};

}  // namespace cs
