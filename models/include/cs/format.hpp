// The surrogate file: everything needed to reproduce a number from a published
// classifier surrogate. Plain structs with fixed-width members; format_io.hpp reads
// and writes them as a portable binary archive or as its JSON mirror.
//
//   file  = magic (8 bytes) | major (u16) | minor (u16) | body (cereal portable binary)
//           | checksum (u64, FNV-1a of the body bytes)
//   body  = producer, model, conditions, support, solver, random, members,
//           provenance, test vectors
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cs::format {

inline constexpr std::array<uint8_t, 8> kMagic = {0x89, 'S', 'U', 'R', 'R', 'O', 'G', 0x0a};
inline constexpr const char* kJsonMagic = "classifier-surrogate";
inline constexpr uint16_t kMajorVersion = 1;
inline constexpr uint16_t kMinorVersion = 0;

// The velocity field v(t, x, c) of the reference (arXiv:2402.15558): n_blocks MLP
// blocks; before every block its input is [time embedding, state, conditions],
// where the state is x for the first block and the previous block's output after.
// Inside a block, layers_per_block linear layers with the activation between them
// and none after the last. Every block outputs `width` numbers but the last one,
// which outputs the velocity.
struct TimeEmbedding {
    std::string kind = "fourier";
    // Multiples k of pi: the embedding is [cos(k pi t)..., sin(k pi t)...].
    std::vector<double> frequencies = {1.0, 2.0, 3.0};
    std::string layout = "cos-then-sin";
};

struct Architecture {
    std::string kind = "concat-mlp-blocks";
    uint32_t n_blocks = 3;
    uint32_t width = 64;
    uint32_t layers_per_block = 3;
    std::string activation = "elu";
    TimeEmbedding time_embedding;
    // t = 0 is data, t = 1 is noise; training pairs use sigma_min (DESIGN.md).
    std::string time_convention = "t0-data-t1-noise";
    double sigma_min = 1e-4;
    // Members' weights: blocks in order, in each its layers in order, for each layer
    // the weight matrix [out][in] row-major, then the bias [out] (PyTorch's order).
    std::string weight_layout = "block-layer-weight-rowmajor-bias";
};

// The learned target is x = logit(score) / scale; the inverse is sigmoid(scale * x).
struct ScoreTransform {
    std::string kind = "scaled-logit";
    double scale = 20.0;
};

// Where the training data lay in one condition, in physical units.
struct FeatureSupport {
    double min = 0.0;
    double max = 0.0;
    std::vector<double> quantile_levels;
    std::vector<double> quantiles;
};

// One input feature of the flow: the network sees (value - offset) / scale.
struct Condition {
    std::string name;
    std::string unit;
    std::string description;
    double offset = 0.0;
    double scale = 1.0;
    FeatureSupport support;
};

// The training data's joint support in normalized units: mean and covariance for a
// Mahalanobis distance, and the distribution of that distance over training jets.
struct Support {
    uint64_t n_jets = 0;
    std::vector<double> mean;
    std::vector<double> covariance;  // n x n, row-major
    std::vector<double> distance_levels;
    std::vector<double> distance_quantiles;
    // A jet farther than this (or outside a feature's range) is out of support.
    double distance_threshold = 0.0;
};

struct Solver {
    std::string method = "dopri5";       // "dopri5" or "rk4"
    std::string step_control = "batch";  // "batch" (one step size per jet) or "per-sample"
    double atol = 1e-6;
    double rtol = 1e-5;
    uint32_t max_steps = 10000;
    uint32_t rk4_steps = 32;
};

struct Random {
    std::string generator = "philox4x32-10";
    std::string normal_transform = "inverse-cdf-as241";
};

// One posterior weight draw. origin: "point-estimate", "variational-mean",
// "variational-draw", "chain-step" or "demonstration"; step: draw or chain index.
struct Member {
    std::string origin;
    uint64_t step = 0;
    std::vector<float> weights;
};

struct Entry {
    std::string key;
    std::string value;
};

struct Metric {
    std::string key;
    double value = 0.0;
};

struct Provenance {
    std::string tagger;         // what the surrogate mimics
    std::string training_data;  // description of the data set
    std::string method;         // "cfm", "variational", "adam-mcmc", "demonstration"
    std::string created;        // ISO 8601 date
    std::string description;
    std::vector<Entry> hyperparameters;
    std::vector<Metric> metrics;
};

// A velocity-field value computed by the producer, checked when a file is loaded.
struct TestVector {
    uint32_t member = 0;
    double time = 0.0;
    double state = 0.0;
    std::vector<double> conditions;  // physical units, in the order of `conditions`
    double velocity = 0.0;
    double velocity_derivative = 0.0;  // dv/dx
};

struct SurrogateFile {
    uint16_t format_major = kMajorVersion;
    uint16_t format_minor = kMinorVersion;
    std::string producer;
    std::string producer_version;
    Architecture architecture;
    ScoreTransform score_transform;
    std::vector<Condition> conditions;
    Support support;
    Solver solver;
    Random random;
    std::vector<Member> members;
    Provenance provenance;
    std::vector<TestVector> test_vectors;
    // Relative and absolute tolerance for the test vectors (float32 arithmetic).
    double test_tolerance = 1e-4;
    uint64_t checksum = 0;
};

// Number of float weights one member holds for this architecture.
uint64_t parameter_count(const Architecture& architecture, uint64_t n_conditions);

// Input width of a block's first layer.
uint64_t block_input_width(const Architecture& architecture, uint64_t n_conditions, uint32_t block);

}  // namespace cs::format
