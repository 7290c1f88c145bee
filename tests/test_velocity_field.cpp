// The velocity field's kernel, with portable and with fused arithmetic, against a
// literal double-precision implementation,
// for architectures whose widths are not multiples of the vector width, for blocks
// of one to four layers, for batches that end in the middle of a panel, for
// per-row times and selected rows, and for pre-activations deep in the ELU's tail.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "cs/random.hpp"
#include "cs/runtime/velocity_field.hpp"

namespace {

constexpr double kPi = 3.14159265358979323846;

struct Dual {
    double value;
    double derivative;  // with respect to x
};

// v and dv/dx written out from DESIGN.md: before every block [cos(k pi t)...,
// sin(k pi t)..., state, conditions], ELU between the layers of a block, none after
// its last layer. Forward mode in double precision.
Dual literal(const cs::format::Architecture& architecture, const std::vector<float>& weights,
             double t, double x, const std::vector<double>& conditions) {
    size_t offset = 0;
    std::vector<Dual> state = {{x, 1.0}};
    for (uint32_t block = 0; block < architecture.n_blocks; ++block) {
        std::vector<Dual> input;
        for (double k : architecture.time_embedding.frequencies) {
            input.push_back({std::cos(k * kPi * t), 0.0});
        }
        for (double k : architecture.time_embedding.frequencies) {
            input.push_back({std::sin(k * kPi * t), 0.0});
        }
        input.insert(input.end(), state.begin(), state.end());
        for (double c : conditions) {
            input.push_back({c, 0.0});
        }
        for (uint32_t layer = 0; layer < architecture.layers_per_block; ++layer) {
            const bool last = layer + 1 == architecture.layers_per_block;
            const size_t out = last && block + 1 == architecture.n_blocks ? 1 : architecture.width;
            std::vector<Dual> output(out, {0.0, 0.0});
            for (size_t o = 0; o < out; ++o) {
                for (size_t i = 0; i < input.size(); ++i) {
                    const double w = weights[offset + o * input.size() + i];
                    output[o].value += w * input[i].value;
                    output[o].derivative += w * input[i].derivative;
                }
            }
            offset += out * input.size();
            for (size_t o = 0; o < out; ++o) {
                output[o].value += weights[offset + o];
                if (!last && output[o].value < 0) {
                    const double slope = std::exp(output[o].value);
                    output[o] = {slope - 1.0, slope * output[o].derivative};
                }
            }
            offset += out;
            input = output;
        }
        state = input;
    }
    REQUIRE(offset == weights.size());
    return state[0];
}

struct Case {
    uint32_t n_blocks;
    uint32_t layers_per_block;
    uint32_t width;
    std::vector<double> frequencies;
    Eigen::Index n_conditions;
    double weight_scale;
};

void check_against_literal(const Case& c, cs::Arithmetic arithmetic) {
    cs::format::Architecture architecture;
    architecture.n_blocks = c.n_blocks;
    architecture.layers_per_block = c.layers_per_block;
    architecture.width = c.width;
    architecture.time_embedding.frequencies = c.frequencies;
    const cs::CounterRandom random(11);
    std::vector<float> weights;
    // Weights of variance scale^2 / fan-in keep the activations of order `scale`.
    const double per_weight = c.weight_scale / std::sqrt(static_cast<double>(c.width + 9));
    for (uint64_t i = 0; i < cs::format::parameter_count(architecture, c.n_conditions); ++i) {
        weights.push_back(static_cast<float>(per_weight * random.normal(i, 0)));
    }
    const cs::runtime::VelocityField field(architecture, c.n_conditions, weights, arithmetic);

    // 64 jets: two panels of 24 and a part of 16, which leaves rows over after the
    // kernel's groups (natively four: half a group and a single row).
    const Eigen::Index n = 64;
    Eigen::MatrixXf normalized(c.n_conditions, n);
    Eigen::ArrayXd x(n);
    Eigen::ArrayXd t(n);
    for (Eigen::Index j = 0; j < n; ++j) {
        for (Eigen::Index k = 0; k < c.n_conditions; ++k) {
            normalized(k, j) = static_cast<float>(
                random.normal(static_cast<uint64_t>(j), 1 + static_cast<uint64_t>(k)));
        }
        x(j) = random.normal(static_cast<uint64_t>(j), 100);
        t(j) = random.uniform(static_cast<uint64_t>(j), 101);
    }
    const auto conditioned = field.condition(normalized);
    cs::runtime::VelocityField::Workspace workspace;

    auto literal_at = [&](Eigen::Index column, double time, double state) {
        std::vector<double> conditions(static_cast<size_t>(c.n_conditions));
        for (Eigen::Index k = 0; k < c.n_conditions; ++k) {
            conditions[static_cast<size_t>(k)] = normalized(k, column);
        }
        return literal(architecture, weights, time, state, conditions);
    };
    // float32 through the whole network: compare relative to the batch's largest value.
    auto check = [&](const Eigen::ArrayXd& v, const Eigen::ArrayXd& dv_dx,
                     const std::vector<Dual>& expected) {
        double v_scale = 1e-3;
        double d_scale = 1e-3;
        for (const Dual& e : expected) {
            v_scale = std::max(v_scale, std::abs(e.value));
            d_scale = std::max(d_scale, std::abs(e.derivative));
        }
        for (size_t j = 0; j < expected.size(); ++j) {
            const auto row = static_cast<Eigen::Index>(j);
            CHECK(std::abs(v(row) - expected[j].value) < 2e-5 * v_scale);
            CHECK(std::abs(dv_dx(row) - expected[j].derivative) < 2e-5 * d_scale);
        }
    };

    // One time for all rows. (No SECTIONs in here: Catch2 runs a section once per
    // test case run, so a second call of this function would skip them.)
    {
        for (Eigen::Index rows : {Eigen::Index{1}, Eigen::Index{7}, Eigen::Index{10}, n}) {
            Eigen::ArrayXd v;
            Eigen::ArrayXd dv_dx;
            Eigen::ArrayXd plain;
            const Eigen::ArrayXd time = Eigen::ArrayXd::Constant(1, 0.37);
            const cs::runtime::VelocityField::Conditioned head{
                [&] {
                    std::vector<Eigen::MatrixXf> offsets;
                    for (const auto& block : conditioned.block_offsets) {
                        offsets.push_back(block.leftCols(rows));
                    }
                    return offsets;
                }(),
                rows};
            field.evaluate(time, x.head(rows), head, nullptr, workspace, v, &dv_dx);
            field.evaluate(time, x.head(rows), head, nullptr, workspace, plain, nullptr);
            std::vector<Dual> expected;
            for (Eigen::Index j = 0; j < rows; ++j) {
                expected.push_back(literal_at(j, 0.37, x(j)));
            }
            check(v, dv_dx, expected);
            // The value does not depend on whether the derivative is asked for.
            CHECK((plain == v).all());
        }
    }
    // One time per row, on selected rows with repeats.
    {
        cs::runtime::RowIndex rows;
        for (Eigen::Index j = n - 1; j >= 0; j -= 2) {
            rows.push_back(j);
            rows.push_back((j * 7) % n);
        }
        const auto m = static_cast<Eigen::Index>(rows.size());
        Eigen::ArrayXd v;
        Eigen::ArrayXd dv_dx;
        field.evaluate(t.head(m), x.head(m), conditioned, &rows, workspace, v, &dv_dx);
        std::vector<Dual> expected;
        for (Eigen::Index j = 0; j < m; ++j) {
            expected.push_back(literal_at(rows[static_cast<size_t>(j)], t(j), x(j)));
        }
        check(v, dv_dx, expected);
    }
}

void check_against_literal(const Case& c) {
    check_against_literal(c, cs::Arithmetic::portable);
    check_against_literal(c, cs::Arithmetic::fused);
}

}  // namespace

TEST_CASE("the velocity field's kernel matches a literal implementation for any architecture") {
    const Case reference{3, 3, 64, {1.0, 2.0, 3.0}, 6, 1.0};
    SECTION("the reference architecture") {
        check_against_literal(reference);
    }
    SECTION("widths that are not a multiple of the vector width") {
        check_against_literal({3, 3, 5, {1.0, 2.0, 3.0}, 6, 1.0});
        check_against_literal({2, 3, 17, {1.0}, 2, 1.0});
        check_against_literal({3, 2, 33, {1.0, 2.0, 3.0, 4.0}, 6, 1.0});
    }
    SECTION("blocks of one, two and four layers, one block, many blocks") {
        check_against_literal({1, 1, 64, {1.0, 2.0, 3.0}, 6, 1.0});
        check_against_literal({2, 1, 64, {1.0, 2.0, 3.0}, 6, 1.0});
        check_against_literal({1, 4, 48, {2.0}, 3, 1.0});
        check_against_literal({5, 2, 64, {1.0, 2.0, 3.0}, 6, 1.0});
    }
    SECTION("width one") {
        check_against_literal({2, 3, 1, {1.0, 2.0, 3.0}, 6, 1.0});
    }
    SECTION("pre-activations far into the ELU's exponential tail") {
        // Weights ten times larger put pre-activations at tens to a hundred below zero.
        check_against_literal({3, 3, 64, {1.0, 2.0, 3.0}, 6, 10.0});
    }
}
