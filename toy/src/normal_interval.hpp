// Probabilities and draws of a standard normal variable restricted to an interval,
// precise in both tails (the interval is mirrored into the lower tail, where the
// CDF has full relative precision).
#pragma once

#include <cmath>
#include <limits>

#include "cs/random.hpp"

namespace cs::toy {

// Mirrors (lower, upper) to (-upper, -lower) when it lies above zero; true if it did.
inline bool mirror_into_lower_tail(double& lower, double& upper) {
    if (lower <= 0.0) {
        return false;
    }
    const double mirrored_lower = -upper;
    upper = -lower;
    lower = mirrored_lower;
    return true;
}

// log P(lower < Z < upper) for a standard normal Z; lower may be -infinity.
inline double log_normal_interval(double lower, double upper) {
    mirror_into_lower_tail(lower, upper);
    const double probability = cs::normal_cdf(upper) - cs::normal_cdf(lower);
    return probability > 0.0 ? std::log(probability) : -std::numeric_limits<double>::infinity();
}

// Z restricted to (lower, upper), by inverting the CDF at the uniform number u.
inline double normal_in_interval(double lower, double upper, double u) {
    const bool flipped = mirror_into_lower_tail(lower, upper);
    const double low = cs::normal_cdf(lower);
    const double high = cs::normal_cdf(upper);
    double probability = low + u * (high - low);
    // the quantile needs a probability inside (0, 1)
    probability = std::fmin(std::fmax(probability, std::numeric_limits<double>::min()),
                            1.0 - std::numeric_limits<double>::epsilon());
    double value = cs::normal_quantile(probability);
    value = std::fmin(std::fmax(value, lower), upper);
    return flipped ? -value : value;
}

// The interval of the continuous log multiplicity that rounds to the count n.
inline double multiplicity_lower(int n) {
    return n <= 1 ? -std::numeric_limits<double>::infinity() : std::log(n - 0.5);
}
inline double multiplicity_upper(int n) {
    return std::log(n + 0.5);
}

}  // namespace cs::toy
