// Measures that compare a surrogate with the tagger it mimics or with the exact
// truth: ROC area, histogram distances, distances between distributions and
// coverage of quantiles. Plain standard-library code, tested on known cases.
#pragma once

#include <cstddef>
#include <vector>

namespace cs::evaluation {

// Area under the ROC curve of `scores` for `labels` (1 signal, 0 background), the
// Mann-Whitney statistic with ties counted one half.
double roc_area(const std::vector<double>& scores, const std::vector<int>& labels);

// Counts of `values` in `bins` equal bins over [low, high]; values outside go to
// the first or last bin.
std::vector<double> histogram(const std::vector<double>& values, std::size_t bins, double low,
                              double high);

// Jensen-Shannon distance (square root of the divergence, base 2, in [0, 1])
// between two histograms of the same binning; each is normalized first.
double jensen_shannon_distance(const std::vector<double>& p, const std::vector<double>& q);

// Wasserstein-1 distance and Kolmogorov-Smirnov distance between two distributions
// on [0, 1] given by their CDFs on an increasing grid (trapezoid rule for W1).
double wasserstein1(const std::vector<double>& grid, const std::vector<double>& cdf_a,
                    const std::vector<double>& cdf_b);
double kolmogorov_smirnov(const std::vector<double>& cdf_a, const std::vector<double>& cdf_b);

// Empirical CDF of an unsorted sample at a point.
double empirical_cdf(const std::vector<double>& sorted_sample, double x);

// Coverage: for each level, the share of probability-integral-transform values
// u = F(observed) at or below it. A calibrated surrogate gives coverage = level.
std::vector<double> coverage(const std::vector<double>& pit, const std::vector<double>& levels);

// Midpoint levels (k + 0.5) / n, k = 0..n-1.
std::vector<double> midpoint_levels(std::size_t n);

}  // namespace cs::evaluation
