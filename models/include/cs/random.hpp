// Counter-based random numbers shared by the runtime, the toy experiment and the
// trainer: Philox4x32-10 (Salmon et al., SC'11) and the normal transform through
// the inverse normal CDF, so native and WebAssembly builds draw the same numbers.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace cs {

// Names stored in a surrogate file; a file naming anything else is refused.
inline constexpr const char* kGeneratorName = "philox4x32-10";
inline constexpr const char* kNormalTransformName = "inverse-cdf-as241";

// One Philox4x32-10 block: 128 random bits from a 128-bit counter and a 64-bit key.
inline std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> counter,
                                          std::array<uint32_t, 2> key) {
    constexpr uint32_t kMultiplier0 = 0xD2511F53u;
    constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
    constexpr uint32_t kWeyl0 = 0x9E3779B9u;
    constexpr uint32_t kWeyl1 = 0xBB67AE85u;

    for (int round = 0; round < 10; ++round) {
        const uint64_t product0 = uint64_t{kMultiplier0} * counter[0];
        const uint64_t product1 = uint64_t{kMultiplier1} * counter[2];
        const auto high0 = static_cast<uint32_t>(product0 >> 32);
        const auto low0 = static_cast<uint32_t>(product0);
        const auto high1 = static_cast<uint32_t>(product1 >> 32);
        const auto low1 = static_cast<uint32_t>(product1);
        counter = {high1 ^ counter[1] ^ key[0], low1, high0 ^ counter[3] ^ key[1], low0};
        key[0] += kWeyl0;
        key[1] += kWeyl1;
    }
    return counter;
}

// Inverse of the standard normal CDF, Wichura's algorithm AS 241 (PPND16),
// relative accuracy about 1e-16. p must lie in (0, 1).
inline double normal_quantile(double p) {
    const double q = p - 0.5;
    if (std::fabs(q) <= 0.425) {
        const double r = 0.180625 - q * q;
        const double numerator =
            ((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) *
                    r +
                45921.953931549871457) *
                   r +
               13731.693765509461125) *
                  r +
              1971.5909503065514427) *
                 r +
             133.14166789178437745) *
                r +
            3.387132872796366608;
        const double denominator =
            ((((((5226.495278852545925 * r + 28729.085735721942674) * r + 39307.89580009271061) *
                    r +
                21213.794301586595867) *
                   r +
               5394.1960214247511077) *
                  r +
              687.1870074920579083) *
                 r +
             42.313330701600911252) *
                r +
            1.0;
        return q * numerator / denominator;
    }

    double r = q < 0.0 ? p : 1.0 - p;
    r = std::sqrt(-std::log(r));
    double value = 0.0;
    if (r <= 5.0) {
        r -= 1.6;
        value = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r +
                      0.24178072517745061177) *
                         r +
                     1.27045825245236838258) *
                        r +
                    3.64784832476320460504) *
                       r +
                   5.7694972214606914055) *
                      r +
                  4.6303378461565452959) *
                     r +
                 1.42343711074968357734) /
                (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r +
                      0.0151986665636164571966) *
                         r +
                     0.14810397642748007459) *
                        r +
                    0.68976733498510000455) *
                       r +
                   1.6763848301838038494) *
                      r +
                  2.05319162663775882187) *
                     r +
                 1.0);
    } else {
        r -= 5.0;
        value = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r +
                      0.0012426609473880784386) *
                         r +
                     0.026532189526576123093) *
                        r +
                    0.29656057182850489123) *
                       r +
                   1.7848265399172913358) *
                      r +
                  5.4637849111641143699) *
                     r +
                 6.6579046435011037772) /
                (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r +
                      1.8463183175100546818e-5) *
                         r +
                     7.868691311456132591e-4) *
                        r +
                    0.0148753612908506148525) *
                       r +
                   0.13692988092273580531) *
                      r +
                  0.59983220655588793769) *
                     r +
                 1.0);
    }
    return q < 0.0 ? -value : value;
}

// Standard normal CDF.
inline double normal_cdf(double x) {
    return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

// A stream of random numbers addressed by (seed, stream, item, index): the
// value for one address never depends on how many others were drawn, so results
// do not change with batch size, sharding or thread count.
class CounterRandom {
  public:
    explicit CounterRandom(uint64_t seed, uint32_t stream = 0)
        : key_{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}, stream_(stream) {}

    // 128 bits for (item, index).
    std::array<uint32_t, 4> bits(uint64_t item, uint32_t index) const {
        return philox4x32(
            {index, static_cast<uint32_t>(item), static_cast<uint32_t>(item >> 32), stream_}, key_);
    }

    // Uniform in the open interval (0, 1) with 53 random bits.
    double uniform(uint64_t item, uint32_t index) const {
        const auto words = bits(item, index);
        const uint64_t mantissa = (uint64_t{words[0] >> 5} << 26) | (words[1] >> 6);
        return (static_cast<double>(mantissa) + 0.5) * 0x1.0p-53;
    }

    // Standard normal through the inverse CDF of a uniform.
    double normal(uint64_t item, uint32_t index) const {
        return normal_quantile(uniform(item, index));
    }

    // Uniform integer in [0, n) for n > 0 (multiply-shift; bias below n / 2^32).
    uint32_t below(uint32_t n, uint64_t item, uint32_t index) const {
        const auto words = bits(item, index);
        return static_cast<uint32_t>((uint64_t{words[2]} * n) >> 32);
    }

  private:
    std::array<uint32_t, 2> key_;
    uint32_t stream_;
};

}  // namespace cs
