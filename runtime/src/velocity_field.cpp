// Batch evaluation of the reference velocity field (arXiv:2402.15558, appendix).
#include "cs/runtime/velocity_field.hpp"

#include <algorithm>
#include <cmath>

#if defined(__EMSCRIPTEN__)
#include <wasm_simd128.h>
#endif

#include "cs/errors.hpp"

namespace cs::runtime {
namespace {

constexpr double kPi = 3.14159265358979323846;

using Packet = Eigen::internal::packet_traits<float>::type;
constexpr Eigen::Index kPacket = Eigen::internal::packet_traits<float>::size;
// The kernel keeps rows x packets accumulators in registers: natively six rows (three
// with tangents) by two packets. In WebAssembly, where V8 keeps a register for itself
// and every product takes one of its own, two rows (one) by four packets ran fastest
// (19% faster than six by two under Node).
#if defined(__EMSCRIPTEN__)
constexpr int kRows = 2;
constexpr int kRowsWithTangents = 1;  // with its tangent: two rows
constexpr int kPacketsPerBlock = 4;
#else
constexpr int kRows = 6;
constexpr int kRowsWithTangents = 3;  // with their tangents: six rows
constexpr int kPacketsPerBlock = 2;
#endif
// WebAssembly has no fused multiply-add: there the fused arithmetic is the portable
// one, and only the portable kernels are compiled.
#if defined(__EMSCRIPTEN__)
constexpr bool kFusedAvailable = false;
#else
constexpr bool kFusedAvailable = true;
#endif
// The kernel's activation computes this many packets' exponentials side by side:
// natively a row's two, whose chains of dependent operations then overlap; in
// WebAssembly one, where more needed more registers than V8 has and were slower.
#if defined(__EMSCRIPTEN__)
constexpr int kEluPackets = 1;
#else
constexpr int kEluPackets = kPacketsPerBlock;
#endif
// Outputs are computed, and padded, in blocks of that many packets.
constexpr Eigen::Index kOutputBlock = kPacketsPerBlock * kPacket;
static_assert(kPacketsPerBlock % kEluPackets == 0, "the activation steps through whole blocks");
// Rows per panel: a panel's activations and tangents (64 x 24 floats each, twice)
// stay in the first-level cache together with one layer's weights.
constexpr Eigen::Index kPanel = 24;

Eigen::Index padded(Eigen::Index out) {
    return out == 1 ? 1 : (out + kOutputBlock - 1) / kOutputBlock * kOutputBlock;
}

// A matrix with `rows` rows padded with zeros to padded(rows).
Eigen::MatrixXf pad_rows(const Eigen::MatrixXf& matrix) {
    Eigen::MatrixXf result = Eigen::MatrixXf::Zero(padded(matrix.rows()), matrix.cols());
    result.topRows(matrix.rows()) = matrix;
    return result;
}

// a * b + c rounded twice, as WebAssembly computes it: natively Eigen's pmadd would
// fuse the two where the processor can, and the two builds would round differently
// (the runtime is also compiled with -ffp-contract=off). With the same rounding and
// the same order of every sum, native and WebAssembly builds give the same bits.
// With Fused (cs::Arithmetic::fused) it is Eigen's pmadd, one rounding where the
// processor has fused multiply-add.
template <bool Fused>
inline Packet mul_add(const Packet& a, const Packet& b, const Packet& c) {
    if (Fused) {
        return Eigen::internal::pmadd(a, b, c);
    }
    return Eigen::internal::padd(Eigen::internal::pmul(a, b), c);
}

// Lane by lane std::min(a, b) and std::max(a, b), as Eigen's pmin and pmax compute
// them. Emscripten's SSE headers write those as a comparison and a select, four
// instructions each in V8; WebAssembly's pmin and pmax are the same operations in
// one instruction each (the ELU pass took a third less time).
inline Packet minimum(const Packet& a, const Packet& b) {
#if defined(__EMSCRIPTEN__)
    return reinterpret_cast<Packet>(__builtin_wasm_pmin_f32x4(a, b));
#else
    return Eigen::internal::pmin(a, b);
#endif
}

inline Packet maximum(const Packet& a, const Packet& b) {
#if defined(__EMSCRIPTEN__)
    return reinterpret_cast<Packet>(__builtin_wasm_pmax_f32x4(a, b));
#else
    return Eigen::internal::pmax(a, b);
#endif
}

#pragma GCC diagnostic push
// Naming the vector type as a template argument drops its alignment attribute,
// which GCC warns about; the types only select Eigen's implementation.
#pragma GCC diagnostic ignored "-Wignored-attributes"
using Integers = Eigen::internal::unpacket_traits<Packet>::integer_packet;

// Lane by lane an integer-valued float as a 32-bit integer. Eigen's pcast is one
// instruction natively, but a loop over the lanes in Emscripten's SSE headers;
// WebAssembly has the instruction.
inline Integers to_integers(const Packet& a) {
#if defined(__EMSCRIPTEN__)
    return Integers(
        reinterpret_cast<__m128i>(wasm_i32x4_trunc_sat_f32x4(reinterpret_cast<v128_t>(a))));
#else
    return Eigen::internal::pcast<Packet, Integers>(a);
#endif
}

#pragma GCC diagnostic pop

// exp(x) for x <= 0 in N packets, the slope of the ELU, as 2^t with t = x log2(e):
// 2^t = 2^n 2^f with n = round(t) and f = t - n in [-1/2, 1/2] (exact), and 2^f by a
// polynomial of degree 6 with constant term 1 (so exp(0) = 1 exactly and the ELU is the
// identity above zero), fitted to 2^f by the Remez exchange for the least largest
// relative error, 2.6e-9 before float rounding. It is evaluated by Estrin's scheme,
// ((c0 + c1 f) + (c2 + c3 f) f^2) + ((c4 + c5 f) + c6 f^2) f^4: two more operations
// than Horner's rule, but a chain of 5 dependent operations instead of 12, which made
// the whole field 4% faster. (As 1 + f q(f) with q by Estrin's scheme, one dependent
// operation more, the ELU was within 1.02e-7 of exact and the field took 1.8% longer.)
// n, rounded by one instruction (on processors with SSE4.1, and in WebAssembly), is
// converted to an integer and shifted into the exponent field to scale 2^f by 2^n;
// adding and subtracting 1.5 * 2^23, as before, gave the same bits in three dependent
// operations and 1% more time. Below -87 the result is held at exp(-87), still a
// normal float; the ELU is -1 there to float precision anyway. Checked against exp in
// double precision on every float in [-87, 0]: the ELU, max(x, exp(x) - 1), within
// 1.18e-7 of the exact value (7.9e-8 with Horner's rule); exp(x) within a relative
// 1.8e-7 for |x| < 1 and 3.6e-7 for |x| < 4. Deeper in the tail the rounding of t
// costs relative accuracy (up to 5.6e-5, near -87) on values that are absolutely tiny
// (below 2e-2 from |x| > 4).
#pragma GCC diagnostic push
// Naming the vector type as a template argument drops its alignment attribute,
// which GCC warns about; the types only select Eigen's implementation.
#pragma GCC diagnostic ignored "-Wignored-attributes"
template <int N, bool Fused>
inline void exp_nonpositive(const Packet (&x)[N], Packet (&y)[N]) {
    using namespace Eigen::internal;
    const Packet c0 = pset1<Packet>(1.0f);
    const Packet c1 = pset1<Packet>(6.931472420692444e-1f);
    const Packet c2 = pset1<Packet>(2.4022652208805084e-1f);
    const Packet c3 = pset1<Packet>(5.5503103882074356e-2f);
    const Packet c4 = pset1<Packet>(9.617692790925503e-3f);
    const Packet c5 = pset1<Packet>(1.3406643411144614e-3f);
    const Packet c6 = pset1<Packet>(1.5594677824992687e-4f);
    Packet n[N], p[N];
    for (int k = 0; k < N; ++k) {
        const Packet t = pmul(maximum(x[k], pset1<Packet>(-87.0f)), pset1<Packet>(1.44269504f));
        n[k] = print(t);  // the nearest integer, ties to even
        const Packet f = psub(t, n[k]);
        const Packet f2 = pmul(f, f);
        const Packet low = mul_add<Fused>(c1, f, c0);
        const Packet middle = mul_add<Fused>(c3, f, c2);
        const Packet high = mul_add<Fused>(c6, f2, mul_add<Fused>(c5, f, c4));
        p[k] = mul_add<Fused>(high, pmul(f2, f2), mul_add<Fused>(middle, f2, low));
    }
    for (int k = 0; k < N; ++k) {
        const Integers scale = plogical_shift_left<23>(to_integers(n[k]));
        y[k] = preinterpret<Packet>(padd(preinterpret<Integers>(p[k]), scale));
    }
}
#pragma GCC diagnostic pop

// Where the kernel reads and writes: a panel's inputs and outputs, one column per
// row (stride `ld`), and the per-row offsets of a block's first layer.
struct Panel {
    const float* in;
    const float* tangent_in;
    float* out;
    float* tangent_out;
    Eigen::Index ld;
    const float* const* offsets;  // per row, or null
    const float* const* times;    // per row, or null
};

// The rows one kernel call computes: the first V are values, which take the bias,
// the offsets and the time share; the rest are tangents, the same product of the
// weights with the inputs' derivatives and nothing added.
template <int J>
struct Rows {
    const float* in[J];
    float* out[J];
    const float* offsets[J];  // null when the stage has none
    const float* times[J];
};

// Outputs [block, block + kOutputBlock) of J rows for one stage. A value starts from
// its bias, or with Offsets (a block's first stage) from its offsets, which hold the
// block's bias, and adds weight * in over the inputs in order, then the time share;
// a tangent starts from zero. With Activation, the ELU is applied to the values while
// they are still in registers, and its slope scales the tangents. (With the values
// and tangents as separate arrays of accumulators, GCC stored the accumulators to
// memory in every iteration; as rows of one array it does not.)
template <int J, int V, bool Fused, bool Activation, bool Offsets>
__attribute__((noinline)) void kernel(const Eigen::MatrixXf& weight, const Eigen::VectorXf& bias,
                                      Eigen::Index in, Eigen::Index block, const Rows<J>& rows) {
    using namespace Eigen::internal;
    constexpr int NP = kPacketsPerBlock;
    Packet sum[J][NP];
    for (int r = 0; r < J; ++r) {
        const float* start = r < V ? (Offsets ? rows.offsets[r] : bias.data()) : nullptr;
        for (int k = 0; k < NP; ++k) {
            sum[r][k] = start ? ploadu<Packet>(start + block + k * kPacket) : pset1<Packet>(0.0f);
        }
    }
    const float* w = weight.data() + block;
    const Eigen::Index ldw = weight.rows();
    // One pointer per row: addressed as base + r * stride, the rows took registers
    // the compiler then reloaded from the stack in every iteration. The pointers move
    // on by one input each iteration, the weights by one column: indexed as
    // w + i * ldw, every load needed its own multiply and adds in WebAssembly (the
    // kernel took 12% longer under Node).
    const float* h[J];
    for (int r = 0; r < J; ++r) {
        h[r] = rows.in[r];
    }
    const float* const end = h[0] + in;
    for (; h[0] != end; w += ldw) {
        Packet w_i[NP];
        for (int k = 0; k < NP; ++k) {
            w_i[k] = ploadu<Packet>(w + k * kPacket);
        }
        for (int r = 0; r < J; ++r) {
            const Packet a = pset1<Packet>(*h[r]++);
            for (int k = 0; k < NP; ++k) {
                sum[r][k] = mul_add<Fused>(a, w_i[k], sum[r][k]);
            }
        }
    }
    // ELU(a) = a above zero and exp(a) - 1 below, here max(a, exp(min(a, 0)) - 1): since
    // exp(a) - 1 >= a, the larger of the two is the ELU on either side (where a is so
    // close to zero that exp(a) - 1 rounds below it, a itself is the nearer), one
    // operation fewer than max(a, 0) + exp(min(a, 0)) - 1. Applied here, while the
    // values are in registers, it runs about as fast as a pass of its own over the
    // panel did; with the sums starting from their bias and the max, the field at
    // 1 000 rows took 6% less time.
    // Unrolled, with Offsets known at compile time, the field ran 2% faster.
#pragma GCC unroll 8
    for (int r = 0; r < V; ++r) {
        Packet a[NP];
        for (int k = 0; k < NP; ++k) {
            a[k] = sum[r][k];
            if (Offsets) {
                a[k] = padd(a[k], ploadu<Packet>(rows.times[r] + block + k * kPacket));
            }
        }
        if (Activation) {
            for (int k = 0; k < NP; k += kEluPackets) {
                Packet negative[kEluPackets], slope[kEluPackets];
                for (int e = 0; e < kEluPackets; ++e) {
                    negative[e] = minimum(a[k + e], pset1<Packet>(0.0f));
                }
                exp_nonpositive<kEluPackets, Fused>(negative, slope);
                for (int e = 0; e < kEluPackets; ++e) {
                    a[k + e] = maximum(a[k + e], psub(slope[e], pset1<Packet>(1.0f)));
                    if (J > V) {
                        sum[V + r][k + e] = pmul(sum[V + r][k + e], slope[e]);
                    }
                }
            }
        }
        for (int k = 0; k < NP; ++k) {
            pstoreu(rows.out[r] + block + k * kPacket, a[k]);
            if (J > V) {
                pstoreu(rows.out[V + r] + block + k * kPacket, sum[V + r][k]);
            }
        }
    }
}

// Rows [row, row + R) of the panel, their tangents after them when Tangent.
template <int R, bool Tangent>
Rows<Tangent ? 2 * R : R> panel_rows(const Panel& panel, Eigen::Index row) {
    Rows<Tangent ? 2 * R : R> rows{};
    for (int r = 0; r < R; ++r) {
        const Eigen::Index at = (row + r) * panel.ld;
        rows.in[r] = panel.in + at;
        rows.out[r] = panel.out + at;
        rows.offsets[r] = panel.offsets ? panel.offsets[row + r] : nullptr;
        rows.times[r] = panel.times ? panel.times[row + r] : nullptr;
        if (Tangent) {
            rows.in[R + r] = panel.tangent_in + at;
            rows.out[R + r] = panel.tangent_out + at;
        }
    }
    return rows;
}

// A stage with a single input (the first block's state): a row's outputs in a loop of
// their own, with the same operations in the same order as the kernel's, so the same
// bits. The kernel spent most of such a call outside its loop of one input.
template <bool Tangent, bool Fused>
void run_single_input(const Eigen::MatrixXf& weight, const Eigen::VectorXf& bias, bool activation,
                      Eigen::Index count, const Panel& panel) {
    using namespace Eigen::internal;
    const Eigen::Index outputs = weight.rows();
    const float* w = weight.data();
    for (Eigen::Index row = 0; row < count; ++row) {
        const Eigen::Index at = row * panel.ld;
        const Packet x = pset1<Packet>(panel.in[at]);
        const Packet dx = pset1<Packet>(Tangent ? panel.tangent_in[at] : 0.0f);
        const float* start = panel.offsets ? panel.offsets[row] : bias.data();
        const float* time = panel.offsets ? panel.times[row] : nullptr;
        float* out = panel.out + at;
        float* tangent_out = panel.tangent_out + at;
        for (Eigen::Index o = 0; o < outputs; o += kEluPackets * kPacket) {
            Packet a[kEluPackets], d[kEluPackets], negative[kEluPackets], slope[kEluPackets];
            for (int e = 0; e < kEluPackets; ++e) {
                const Packet w_o = ploadu<Packet>(w + o + e * kPacket);
                a[e] = mul_add<Fused>(x, w_o, ploadu<Packet>(start + o + e * kPacket));
                if (time) {
                    a[e] = padd(a[e], ploadu<Packet>(time + o + e * kPacket));
                }
                if (Tangent) {
                    d[e] = mul_add<Fused>(dx, w_o, pset1<Packet>(0.0f));
                }
                negative[e] = minimum(a[e], pset1<Packet>(0.0f));
            }
            if (activation) {
                exp_nonpositive<kEluPackets, Fused>(negative, slope);
            }
            for (int e = 0; e < kEluPackets; ++e) {
                if (activation) {
                    a[e] = maximum(a[e], psub(slope[e], pset1<Packet>(1.0f)));
                }
                pstoreu(out + o + e * kPacket, a[e]);
                if (Tangent) {
                    pstoreu(tangent_out + o + e * kPacket,
                            activation ? pmul(d[e], slope[e]) : d[e]);
                }
            }
        }
    }
}

// The kernel for a stage's activation and offsets.
template <int J, int V, bool Fused>
void run_kernel(const Eigen::MatrixXf& weight, const Eigen::VectorXf& bias, Eigen::Index in,
                bool activation, Eigen::Index block, const Rows<J>& rows, bool offsets) {
    if (activation) {
        if (offsets) {
            kernel<J, V, Fused, true, true>(weight, bias, in, block, rows);
        } else {
            kernel<J, V, Fused, true, false>(weight, bias, in, block, rows);
        }
    } else if (offsets) {
        kernel<J, V, Fused, false, true>(weight, bias, in, block, rows);
    } else {
        kernel<J, V, Fused, false, false>(weight, bias, in, block, rows);
    }
}

template <bool Tangent, bool Fused>
void run_stage(const Eigen::MatrixXf& weight, const Eigen::VectorXf& bias, Eigen::Index in,
               bool activation, Eigen::Index count, const Panel& panel) {
    if (in == 1 && weight.rows() % (kEluPackets * kPacket) == 0) {
        run_single_input<Tangent, Fused>(weight, bias, activation, count, panel);
        return;
    }
    constexpr int R = Tangent ? kRowsWithTangents : kRows;
    constexpr int J = Tangent ? 2 * R : R;
    const bool offsets = panel.offsets != nullptr;
    // Rows outside, blocks of outputs inside: a group's row pointers are set up once,
    // and the stage's weights (16 KB at width 64) stay in the first-level cache.
    Eigen::Index first = 0;
    for (; first + R <= count; first += R) {
        const auto rows = panel_rows<R, Tangent>(panel, first);
        for (Eigen::Index block = 0; block < weight.rows(); block += kOutputBlock) {
            run_kernel<J, R, Fused>(weight, bias, in, activation, block, rows, offsets);
        }
    }
    // A panel's last rows: half a group at once where there are that many.
    if constexpr (R >= 4) {
        constexpr int H = R / 2;
        if (count - first >= H) {
            const auto rows = panel_rows<H, Tangent>(panel, first);
            for (Eigen::Index block = 0; block < weight.rows(); block += kOutputBlock) {
                run_kernel<Tangent ? 2 * H : H, H, Fused>(weight, bias, in, activation, block, rows,
                                                          offsets);
            }
            first += H;
        }
    }
    for (; first < count; ++first) {
        const auto rows = panel_rows<1, Tangent>(panel, first);
        for (Eigen::Index block = 0; block < weight.rows(); block += kOutputBlock) {
            run_kernel<Tangent ? 2 : 1, 1, Fused>(weight, bias, in, activation, block, rows,
                                                  offsets);
        }
    }
}

// A stage with one output (the velocity): a dot product per row, summed in eight
// fixed partial sums so every vector width adds in the same order.
template <bool Tangent>
void run_dot(const Eigen::MatrixXf& weight, const Eigen::VectorXf& bias, Eigen::Index in,
             bool activation, Eigen::Index count, const Panel& panel) {
    const float* w = weight.data();
    for (Eigen::Index row = 0; row < count; ++row) {
        const float* h = panel.in + row * panel.ld;
        const float* d = panel.tangent_in + row * panel.ld;
        float sum[8] = {};
        float tangent_sum[8] = {};
        Eigen::Index i = 0;
        for (; i + 8 <= in; i += 8) {
            for (int k = 0; k < 8; ++k) {
                sum[k] += w[i + k] * h[i + k];
                if (Tangent) {
                    tangent_sum[k] += w[i + k] * d[i + k];
                }
            }
        }
        for (int k = 0; i < in; ++i, ++k) {
            sum[k] += w[i] * h[i];
            if (Tangent) {
                tangent_sum[k] += w[i] * d[i];
            }
        }
        auto reduce = [](const float* s) {
            return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
        };
        float a = reduce(sum) + bias(0);
        if (panel.offsets) {
            a += panel.offsets[row][0];
            a += panel.times[row][0];
        }
        float t = Tangent ? reduce(tangent_sum) : 0.0f;
        if (activation) {
            const float slope = std::exp(std::min(a, 0.0f));
            a = std::max(a, 0.0f) + (slope - 1.0f);
            t *= slope;
        }
        panel.out[row * panel.ld] = a;
        if (Tangent) {
            panel.tangent_out[row * panel.ld] = t;
        }
    }
}

// a * b with every entry summed over k in order, in place of Eigen's products, whose
// blocking and fused multiply-adds depend on the instruction set.
template <typename Matrix>
Matrix ordered_product(const Matrix& a, const Matrix& b) {
    Matrix result = Matrix::Zero(a.rows(), b.cols());
    for (Eigen::Index j = 0; j < b.cols(); ++j) {
        for (Eigen::Index k = 0; k < a.cols(); ++k) {
            result.col(j) += a.col(k) * b(k, j);
        }
    }
    return result;
}

void embed(const std::vector<double>& frequencies, const double* t, Eigen::Index count,
           Eigen::MatrixXf& embedding) {
    const auto k = static_cast<Eigen::Index>(frequencies.size());
    embedding.resize(2 * k, count);
    for (Eigen::Index i = 0; i < k; ++i) {
        const double angle = frequencies[static_cast<size_t>(i)] * kPi;
        for (Eigen::Index j = 0; j < count; ++j) {
            embedding(i, j) = static_cast<float>(std::cos(angle * t[j]));
            embedding(k + i, j) = static_cast<float>(std::sin(angle * t[j]));
        }
    }
}

}  // namespace

VelocityField::VelocityField(const format::Architecture& architecture, Eigen::Index n_conditions,
                             const std::vector<float>& weights, Arithmetic arithmetic)
    : frequencies_(architecture.time_embedding.frequencies),
      n_conditions_(n_conditions),
      fused_(arithmetic == Arithmetic::fused) {
    const auto expected = format::parameter_count(architecture, n_conditions);
    if (weights.size() != expected) {
        throw FormatError("members.weights", "expected " + std::to_string(expected) +
                                                 " weights, found " +
                                                 std::to_string(weights.size()));
    }
    n_parameters_ = static_cast<Eigen::Index>(expected);

    // Weights are stored [out][in] row-major: map them as row-major matrices. The
    // layers are first unpacked in double precision for the folding below.
    using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const auto width = static_cast<Eigen::Index>(architecture.width);
    const Eigen::Index embedding = 2 * static_cast<Eigen::Index>(frequencies_.size());
    size_t offset = 0;
    auto take = [&](Eigen::Index rows, Eigen::Index cols) {
        Eigen::MatrixXd matrix =
            Eigen::Map<const RowMajor>(weights.data() + offset, rows, cols).cast<double>();
        offset += static_cast<size_t>(rows * cols);
        return matrix;
    };
    struct Linear {
        Eigen::MatrixXd weight;
        Eigen::VectorXd bias;
    };
    struct Block {
        Eigen::MatrixXd time_weight, state_weight, condition_weight;
        Eigen::VectorXd first_bias;
        std::vector<Linear> layers;  // the layers after the first
        bool folded = false;
    };
    std::vector<Block> blocks;
    for (uint32_t b = 0; b < architecture.n_blocks; ++b) {
        const bool last_block = b + 1 == architecture.n_blocks;
        const Eigen::Index block_output = last_block ? 1 : width;
        const Eigen::Index state = b == 0 ? 1 : width;
        const Eigen::Index in = embedding + state + n_conditions;
        Block block;
        for (uint32_t l = 0; l < architecture.layers_per_block; ++l) {
            const bool last_layer = l + 1 == architecture.layers_per_block;
            const Eigen::Index out = last_layer ? block_output : width;
            Eigen::MatrixXd weight = take(out, l == 0 ? in : width);
            Eigen::VectorXd bias = take(out, 1);
            if (l == 0) {
                // Column order of the first layer: [time embedding | state | conditions].
                block.time_weight = weight.leftCols(embedding);
                block.state_weight = weight.middleCols(embedding, state);
                block.condition_weight = weight.rightCols(n_conditions);
                block.first_bias = bias;
            } else {
                block.layers.push_back({std::move(weight), std::move(bias)});
            }
        }
        blocks.push_back(std::move(block));
    }

    // Fold every block's last layer into the next block's first layer, in double
    // precision: W_state (W_last a + b_last) = (W_state W_last) a + W_state b_last.
    for (size_t b = 1; b < blocks.size(); ++b) {
        Block& previous = blocks[b - 1];
        if (previous.layers.empty()) {
            continue;
        }
        Block& block = blocks[b];
        const Linear& last = previous.layers.back();
        block.first_bias += ordered_product<Eigen::MatrixXd>(block.state_weight, last.bias);
        block.state_weight = ordered_product<Eigen::MatrixXd>(block.state_weight, last.weight);
        previous.layers.pop_back();
        previous.folded = true;
    }

    // The chain of stages. A stage is followed by an activation unless it ends a
    // block that was not folded (the last block, or a block of one layer).
    for (size_t b = 0; b < blocks.size(); ++b) {
        const Block& block = blocks[b];
        BlockStart start;
        start.time_weight = pad_rows(block.time_weight.cast<float>());
        start.condition_weight = pad_rows(block.condition_weight.cast<float>());
        start.bias = pad_rows(block.first_bias.cast<float>());
        block_starts_.push_back(std::move(start));

        Stage first;
        first.weight = pad_rows(block.state_weight.cast<float>());
        first.bias = Eigen::VectorXf::Zero(first.weight.rows());  // in the offsets
        first.in = block.state_weight.cols();
        first.out = block.state_weight.rows();
        first.activation = !block.layers.empty() || block.folded;
        first.block = static_cast<int>(b);
        stages_.push_back(std::move(first));
        for (size_t l = 0; l < block.layers.size(); ++l) {
            const Linear& layer = block.layers[l];
            Stage stage;
            stage.weight = pad_rows(layer.weight.cast<float>());
            stage.bias = pad_rows(layer.bias.cast<float>());
            stage.in = layer.weight.cols();
            stage.out = layer.weight.rows();
            stage.activation = l + 1 < block.layers.size() || block.folded;
            stages_.push_back(std::move(stage));
        }
    }
    padded_width_ = std::max<Eigen::Index>(padded(width), 1);
}

Eigen::MatrixXf VelocityField::embed_time(const Eigen::ArrayXd& t) const {
    Eigen::MatrixXf embedding;
    embed(frequencies_, t.data(), t.size(), embedding);
    return embedding;
}

VelocityField::Conditioned VelocityField::condition(const Eigen::MatrixXf& normalized) const {
    if (normalized.rows() != n_conditions_) {
        throw EvaluationError("velocity field expects " + std::to_string(n_conditions_) +
                              " conditions per row, got " + std::to_string(normalized.rows()));
    }
    Conditioned conditioned;
    conditioned.rows = normalized.cols();
    for (const auto& start : block_starts_) {
        Eigen::MatrixXf offsets = ordered_product(start.condition_weight, normalized);
        offsets.colwise() += start.bias;
        conditioned.block_offsets.push_back(std::move(offsets));
    }
    return conditioned;
}

void VelocityField::evaluate(const Eigen::ArrayXd& t, const Eigen::ArrayXd& x,
                             const Conditioned& conditioned, const RowIndex* rows, Workspace& work,
                             Eigen::ArrayXd& velocity, Eigen::ArrayXd* derivative) const {
    const Eigen::Index n = x.size();
    const bool shared_time = t.size() == 1;
    if (!shared_time && t.size() != n) {
        throw EvaluationError("velocity field got " + std::to_string(t.size()) + " times for " +
                              std::to_string(n) + " states");
    }
    const Eigen::Index available =
        rows ? static_cast<Eigen::Index>(rows->size()) : conditioned.rows;
    if (available != n) {
        throw EvaluationError("velocity field got " + std::to_string(n) + " states for " +
                              std::to_string(available) + " conditioned rows");
    }

    for (auto& matrix : work.values) {
        matrix.resize(padded_width_, kPanel);
    }
    for (auto& matrix : work.tangents) {
        matrix.resize(padded_width_, kPanel);
    }
    work.offsets.resize(kPanel);
    work.times.resize(kPanel);
    if (shared_time) {
        embed(frequencies_, t.data(), 1, work.embedding);
        work.shared_time.resize(padded_width_, static_cast<Eigen::Index>(block_starts_.size()));
        for (size_t b = 0; b < block_starts_.size(); ++b) {
            const Eigen::MatrixXf& weight = block_starts_[b].time_weight;
            work.shared_time.col(static_cast<Eigen::Index>(b)).head(weight.rows()) =
                ordered_product<Eigen::MatrixXf>(weight, work.embedding.col(0));
        }
    }

    velocity.resize(n);
    if (derivative) {
        derivative->resize(n);
    }
    for (Eigen::Index first = 0; first < n; first += kPanel) {
        const Eigen::Index count = std::min(kPanel, n - first);
        if constexpr (kFusedAvailable) {
            if (fused_) {
                if (derivative) {
                    run_panel<true, true>(first, count, t, x, conditioned, rows, work, velocity,
                                          derivative);
                } else {
                    run_panel<false, true>(first, count, t, x, conditioned, rows, work, velocity,
                                           nullptr);
                }
                continue;
            }
        }
        if (derivative) {
            run_panel<true, false>(first, count, t, x, conditioned, rows, work, velocity,
                                   derivative);
        } else {
            run_panel<false, false>(first, count, t, x, conditioned, rows, work, velocity, nullptr);
        }
    }
}

template <bool Tangent, bool Fused>
void VelocityField::run_panel(Eigen::Index first, Eigen::Index count, const Eigen::ArrayXd& t,
                              const Eigen::ArrayXd& x, const Conditioned& conditioned,
                              const RowIndex* rows, Workspace& work, Eigen::ArrayXd& velocity,
                              Eigen::ArrayXd* derivative) const {
    const bool shared_time = t.size() == 1;
    for (Eigen::Index j = 0; j < count; ++j) {
        work.values[0](0, j) = static_cast<float>(x(first + j));
        work.tangents[0](0, j) = 1.0f;
    }
    // Per-row times come in runs of equal times (the rows of a step group): each run's
    // embedding and time shares are computed once.
    if (!shared_time) {
        work.distinct_times.clear();
        work.time_columns.resize(static_cast<size_t>(count));
        for (Eigen::Index j = 0; j < count; ++j) {
            if (j == 0 || t(first + j) != t(first + j - 1)) {
                work.distinct_times.push_back(t(first + j));
            }
            work.time_columns[static_cast<size_t>(j)] =
                static_cast<Eigen::Index>(work.distinct_times.size()) - 1;
        }
        embed(frequencies_, work.distinct_times.data(),
              static_cast<Eigen::Index>(work.distinct_times.size()), work.embedding);
    }

    int current = 0;
    for (const Stage& stage : stages_) {
        Panel panel{work.values[current].data(),
                    work.tangents[current].data(),
                    work.values[1 - current].data(),
                    work.tangents[1 - current].data(),
                    padded_width_,
                    nullptr,
                    nullptr};
        if (stage.block >= 0) {
            const auto b = static_cast<size_t>(stage.block);
            const Eigen::MatrixXf& offsets = conditioned.block_offsets[b];
            for (Eigen::Index j = 0; j < count; ++j) {
                const Eigen::Index column =
                    rows ? (*rows)[static_cast<size_t>(first + j)] : first + j;
                work.offsets[static_cast<size_t>(j)] = offsets.data() + column * offsets.rows();
            }
            if (shared_time) {
                std::fill(work.times.begin(), work.times.end(),
                          work.shared_time.col(stage.block).data());
            } else {
                const Eigen::MatrixXf& weight = block_starts_[b].time_weight;
                work.time_terms = ordered_product(weight, work.embedding);
                for (Eigen::Index j = 0; j < count; ++j) {
                    work.times[static_cast<size_t>(j)] =
                        work.time_terms.col(work.time_columns[static_cast<size_t>(j)]).data();
                }
            }
            panel.offsets = work.offsets.data();
            panel.times = work.times.data();
        }
        if (stage.weight.rows() == 1) {
            run_dot<Tangent>(stage.weight, stage.bias, stage.in, stage.activation, count, panel);
        } else {
            run_stage<Tangent, Fused>(stage.weight, stage.bias, stage.in, stage.activation, count,
                                      panel);
        }
        current = 1 - current;
    }

    for (Eigen::Index j = 0; j < count; ++j) {
        velocity(first + j) = work.values[current](0, j);
        if (Tangent) {
            (*derivative)(first + j) = work.tangents[current](0, j);
        }
    }
}

double VelocityField::flops_per_row(bool with_derivative) const {
    double flops = 0.0;
    for (const Stage& stage : stages_) {
        flops += 2.0 * static_cast<double>(stage.in * stage.out) * (with_derivative ? 2.0 : 1.0);
    }
    return flops;
}

}  // namespace cs::runtime
