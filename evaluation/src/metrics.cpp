// Implementation of the evaluation measures.
#include "cs/evaluation/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace cs::evaluation {

double roc_area(const std::vector<double>& scores, const std::vector<int>& labels) {
    if (scores.size() != labels.size()) {
        throw std::invalid_argument("roc_area: " + std::to_string(scores.size()) + " scores for " +
                                    std::to_string(labels.size()) + " labels");
    }
    std::vector<size_t> order(scores.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return scores[a] < scores[b]; });

    // Sum of signal ranks, with tied scores sharing their mean rank.
    double signal_rank_sum = 0.0;
    double n_signal = 0.0;
    for (size_t start = 0; start < order.size();) {
        size_t end = start;
        while (end < order.size() && scores[order[end]] == scores[order[start]]) {
            ++end;
        }
        const double mean_rank = 0.5 * static_cast<double>(start + end + 1);
        for (size_t i = start; i < end; ++i) {
            if (labels[order[i]] == 1) {
                signal_rank_sum += mean_rank;
                n_signal += 1.0;
            }
        }
        start = end;
    }
    const double n_background = static_cast<double>(scores.size()) - n_signal;
    if (n_signal == 0.0 || n_background == 0.0) {
        throw std::invalid_argument("roc_area: needs jets of both labels");
    }
    return (signal_rank_sum - n_signal * (n_signal + 1.0) / 2.0) / (n_signal * n_background);
}

std::vector<double> histogram(const std::vector<double>& values, std::size_t bins, double low,
                              double high) {
    std::vector<double> counts(bins, 0.0);
    for (double value : values) {
        const double position = (value - low) / (high - low) * static_cast<double>(bins);
        const auto bin = static_cast<long>(std::floor(position));
        counts[static_cast<size_t>(std::clamp(bin, 0L, static_cast<long>(bins) - 1))] += 1.0;
    }
    return counts;
}

double jensen_shannon_distance(const std::vector<double>& p, const std::vector<double>& q) {
    if (p.size() != q.size() || p.empty()) {
        throw std::invalid_argument("jensen_shannon_distance: histograms of different binning");
    }
    const double p_total = std::accumulate(p.begin(), p.end(), 0.0);
    const double q_total = std::accumulate(q.begin(), q.end(), 0.0);
    if (p_total <= 0.0 || q_total <= 0.0) {
        throw std::invalid_argument("jensen_shannon_distance: an empty histogram");
    }
    double divergence = 0.0;
    for (size_t i = 0; i < p.size(); ++i) {
        const double a = p[i] / p_total;
        const double b = q[i] / q_total;
        const double mean = 0.5 * (a + b);
        if (a > 0.0) {
            divergence += 0.5 * a * std::log2(a / mean);
        }
        if (b > 0.0) {
            divergence += 0.5 * b * std::log2(b / mean);
        }
    }
    return std::sqrt(std::max(0.0, divergence));
}

double wasserstein1(const std::vector<double>& grid, const std::vector<double>& cdf_a,
                    const std::vector<double>& cdf_b) {
    if (grid.size() != cdf_a.size() || grid.size() != cdf_b.size()) {
        throw std::invalid_argument("wasserstein1: grid and CDFs differ in size");
    }
    double distance = 0.0;
    for (size_t i = 1; i < grid.size(); ++i) {
        const double left = std::fabs(cdf_a[i - 1] - cdf_b[i - 1]);
        const double right = std::fabs(cdf_a[i] - cdf_b[i]);
        distance += 0.5 * (left + right) * (grid[i] - grid[i - 1]);
    }
    return distance;
}

double kolmogorov_smirnov(const std::vector<double>& cdf_a, const std::vector<double>& cdf_b) {
    if (cdf_a.size() != cdf_b.size()) {
        throw std::invalid_argument("kolmogorov_smirnov: CDFs differ in size");
    }
    double distance = 0.0;
    for (size_t i = 0; i < cdf_a.size(); ++i) {
        distance = std::max(distance, std::fabs(cdf_a[i] - cdf_b[i]));
    }
    return distance;
}

double empirical_cdf(const std::vector<double>& sorted_sample, double x) {
    const auto below = std::upper_bound(sorted_sample.begin(), sorted_sample.end(), x);
    return static_cast<double>(below - sorted_sample.begin()) /
           static_cast<double>(sorted_sample.size());
}

std::vector<double> coverage(const std::vector<double>& pit, const std::vector<double>& levels) {
    std::vector<double> sorted = pit;
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> result;
    for (double level : levels) {
        result.push_back(empirical_cdf(sorted, level));
    }
    return result;
}

std::vector<double> midpoint_levels(std::size_t n) {
    std::vector<double> levels;
    for (size_t k = 0; k < n; ++k) {
        levels.push_back((static_cast<double>(k) + 0.5) / static_cast<double>(n));
    }
    return levels;
}

}  // namespace cs::evaluation
