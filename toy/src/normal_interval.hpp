// Probabilities and draws of a standard normal variable restricted to an interval,
// precise in both tails (an interval above zero is mirrored into the lower tail,
// where the CDF has full relative precision).
#pragma once

#include <array>
#include <cmath>
#include <limits>

#include "cs/random.hpp"

namespace cs::toy {

// A standard normal Z restricted to (lower, upper); lower may be -infinity. The CDF
// at the bounds is computed once, for intervals that are drawn from many times.
class NormalInterval {
  public:
    NormalInterval(double lower, double upper) : mirrored_(lower > 0.0) {
        lower_ = mirrored_ ? -upper : lower;
        upper_ = mirrored_ ? -lower : upper;
        cdf_lower_ = cs::normal_cdf(lower_);
        cdf_upper_ = cs::normal_cdf(upper_);
    }

    // log P(lower < Z < upper).
    double log_probability() const {
        const double probability = cdf_upper_ - cdf_lower_;
        return probability > 0.0 ? std::log(probability) : -std::numeric_limits<double>::infinity();
    }

    // Z inside the interval, by inverting the CDF at the uniform number u.
    double draw(double u) const {
        double probability = cdf_lower_ + u * (cdf_upper_ - cdf_lower_);
        // the quantile needs a probability inside (0, 1)
        probability = std::fmin(std::fmax(probability, std::numeric_limits<double>::min()),
                                1.0 - std::numeric_limits<double>::epsilon());
        const double value = std::fmin(std::fmax(cs::normal_quantile(probability), lower_), upper_);
        return mirrored_ ? -value : value;
    }

  private:
    bool mirrored_;
    double lower_ = 0.0;
    double upper_ = 0.0;
    double cdf_lower_ = 0.0;
    double cdf_upper_ = 0.0;
};

inline double log_normal_interval(double lower, double upper) {
    return NormalInterval(lower, upper).log_probability();
}

inline double normal_in_interval(double lower, double upper, double u) {
    return NormalInterval(lower, upper).draw(u);
}

// log(n - 1/2) for n = 0, 1, ...: the edges of the log-multiplicity intervals, kept
// in a table because the tagger needs two per jet.
inline double log_half_integer_below(int n) {
    constexpr int kTable = 4096;
    static const auto table = [] {
        std::array<double, kTable> values{};
        values[0] = -std::numeric_limits<double>::infinity();
        for (int i = 1; i < kTable; ++i) {
            values[i] = std::log(i - 0.5);
        }
        return values;
    }();
    return n < kTable ? table[n] : std::log(n - 0.5);
}

// The interval of the continuous log multiplicity that rounds to the count n
// (counts below one round up to one).
inline double multiplicity_lower(int n) {
    return n <= 1 ? -std::numeric_limits<double>::infinity() : log_half_integer_below(n);
}
inline double multiplicity_upper(int n) {
    return log_half_integer_below(n + 1);
}

}  // namespace cs::toy
