// Golden values of the project's random numbers: the WebAssembly build checks the same.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <vector>

#include "cs/random.hpp"

TEST_CASE("Philox4x32-10 reproduces the Random123 known-answer vectors") {
    using Block = std::array<uint32_t, 4>;
    CHECK(cs::philox4x32({0, 0, 0, 0}, {0, 0}) ==
          Block{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
    CHECK(cs::philox4x32({~0u, ~0u, ~0u, ~0u}, {~0u, ~0u}) ==
          Block{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
    CHECK(cs::philox4x32({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                         {0xa4093822u, 0x299f31d0u}) ==
          Block{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST_CASE("the inverse normal CDF matches tabulated quantiles") {
    // Reference values to 16 digits; AS 241 is accurate to about 1e-16 relative.
    CHECK(cs::normal_quantile(0.975) == Approx(1.959963984540054).epsilon(1e-14));
    CHECK(cs::normal_quantile(0.5) == 0.0);
    CHECK(cs::normal_quantile(1e-10) == Approx(-6.361340902404056).epsilon(1e-14));
    CHECK(cs::normal_quantile(0.3) == Approx(-0.5244005127080407).epsilon(1e-14));
    for (double p : {1e-300, 1e-12, 0.01, 0.2, 0.6, 0.99, 1.0 - 1e-12}) {
        CHECK(cs::normal_cdf(cs::normal_quantile(p)) == Approx(p).epsilon(1e-12));
    }
}

TEST_CASE("counter-based draws depend only on their address") {
    const cs::CounterRandom random(20240223, 7);

    std::vector<double> first;
    for (uint32_t index = 0; index < 100; ++index) {
        first.push_back(random.uniform(3, index));
    }
    const cs::CounterRandom again(20240223, 7);
    for (uint32_t index = 100; index-- > 0;) {
        CHECK(again.uniform(3, index) == first[index]);
    }

    const cs::CounterRandom other_stream(20240223, 8);
    CHECK(other_stream.uniform(3, 0) != first[0]);
    const cs::CounterRandom other_seed(20240224, 7);
    CHECK(other_seed.uniform(3, 0) != first[0]);
}

TEST_CASE("uniforms lie strictly inside (0, 1) and normals have unit moments") {
    const cs::CounterRandom random(1);
    const int n = 200000;
    double sum = 0.0;
    double sum_squares = 0.0;
    for (int i = 0; i < n; ++i) {
        const double u = random.uniform(static_cast<uint64_t>(i), 0);
        REQUIRE(u > 0.0);
        REQUIRE(u < 1.0);
        const double z = random.normal(static_cast<uint64_t>(i), 1);
        sum += z;
        sum_squares += z * z;
    }

    // Standard errors: 1/sqrt(n) for the mean, sqrt(2/n) for the second moment; 5 sigma.
    CHECK(std::fabs(sum / n) < 5.0 / std::sqrt(n));
    CHECK(std::fabs(sum_squares / n - 1.0) < 5.0 * std::sqrt(2.0 / n));
}

TEST_CASE("bounded integers cover their range evenly") {
    const cs::CounterRandom random(99);
    std::vector<int> counts(11, 0);
    const int n = 110000;
    for (int i = 0; i < n; ++i) {
        const uint32_t k = random.below(11, static_cast<uint64_t>(i), 0);
        REQUIRE(k < 11);
        ++counts[k];
    }

    // Each count is binomial(n, 1/11): standard deviation about 95; allow 5 sigma.
    for (int count : counts) {
        CHECK(std::abs(count - n / 11) < 5 * 95);
    }
}
