// The LibTorch velocity field, its variational layers, the CFM loss and an RK4
// solve that mirrors the runtime's. Together with training.cpp one of the two
// translation units of the library that include LibTorch.
#include "cs/trainer/torch_model.hpp"

#include <cmath>
#include <string>
#include <tuple>

#include "cs/trainer/options.hpp"
#include "cs/trainer/trainer.hpp"

namespace cs::trainer {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Output and input width of every layer in file order.
std::vector<std::pair<int64_t, int64_t>> layer_shapes(const format::Architecture& architecture,
                                                      int64_t n_conditions) {
    std::vector<std::pair<int64_t, int64_t>> shapes;
    const auto width = static_cast<int64_t>(architecture.width);
    for (uint32_t b = 0; b < architecture.n_blocks; ++b) {
        const bool last_block = b + 1 == architecture.n_blocks;
        for (uint32_t l = 0; l < architecture.layers_per_block; ++l) {
            const bool last_layer = l + 1 == architecture.layers_per_block;
            const int64_t in = l == 0 ? static_cast<int64_t>(format::block_input_width(
                                            architecture, static_cast<uint64_t>(n_conditions), b))
                                      : width;
            const int64_t out = last_layer && last_block ? 1 : width;
            shapes.emplace_back(out, in);
        }
    }
    return shapes;
}

std::vector<float> flatten_pairs(const std::vector<torch::Tensor>& weights,
                                 const std::vector<torch::Tensor>& biases) {
    std::vector<float> flat;
    for (size_t i = 0; i < weights.size(); ++i) {
        for (const torch::Tensor* part : {&weights[i], &biases[i]}) {
            const torch::Tensor values =
                part->detach().to(torch::kCPU, torch::kFloat32).contiguous().flatten();
            const float* data = values.data_ptr<float>();
            flat.insert(flat.end(), data, data + values.numel());
        }
    }
    return flat;
}

void load_pairs(const format::Architecture& architecture, int64_t n_conditions,
                const std::vector<float>& flat, std::vector<torch::Tensor>& weights,
                std::vector<torch::Tensor>& biases) {
    const auto expected =
        format::parameter_count(architecture, static_cast<uint64_t>(n_conditions));
    if (flat.size() != expected) {
        throw TrainingError("weights: expected " + std::to_string(expected) + " numbers, got " +
                            std::to_string(flat.size()));
    }
    const Weights layers =
        unflatten(architecture, n_conditions, flat, torch::TensorOptions().dtype(torch::kFloat32));
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < layers.size(); ++i) {
        weights[i].copy_(layers[i].weight);
        biases[i].copy_(layers[i].bias);
    }
}

uint64_t splitmix64(uint64_t value) {
    value += 0x9e3779b97f4a7c15ULL;
    value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
    value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
    return value ^ (value >> 31);
}

}  // namespace

at::Generator seeded_generator(uint64_t seed, uint64_t stream, uint64_t counter) {
    const uint64_t mixed = splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ counter);
    return at::make_generator<at::CPUGeneratorImpl>(mixed);
}

FlowModel::FlowModel(const format::Architecture& architecture, int64_t n_conditions,
                     bool variational, double initial_rho, at::Generator& generator)
    : architecture_(architecture), n_conditions_(n_conditions), variational_(variational) {
    std::vector<double> multiples;
    for (double k : architecture.time_embedding.frequencies) {
        multiples.push_back(k * kPi);
    }
    frequencies_ = register_buffer(
        "frequencies", torch::tensor(multiples, torch::TensorOptions().dtype(torch::kFloat32)));

    const auto shapes = layer_shapes(architecture, n_conditions);
    for (size_t i = 0; i < shapes.size(); ++i) {
        const auto [out, in] = shapes[i];
        const double bound = 1.0 / std::sqrt(static_cast<double>(in));
        auto uniform = [&](std::vector<int64_t> shape) {
            return torch::rand(shape, generator) * (2.0 * bound) - bound;
        };
        const std::string name = "layer" + std::to_string(i) + "_";
        weight_mean_.push_back(register_parameter(name + "weight", uniform({out, in})));
        bias_mean_.push_back(register_parameter(name + "bias", uniform({out})));
        if (variational) {
            weight_rho_.push_back(
                register_parameter(name + "weight_rho", torch::full({out, in}, initial_rho)));
            bias_rho_.push_back(
                register_parameter(name + "bias_rho", torch::full({out}, initial_rho)));
        }
    }
}

Weights FlowModel::mean() const {
    Weights weights;
    for (size_t i = 0; i < weight_mean_.size(); ++i) {
        weights.push_back({weight_mean_[i], bias_mean_[i]});
    }
    return weights;
}

Weights FlowModel::draw(at::Generator& generator) const {
    if (!variational_) {
        return mean();
    }
    auto sample = [&](const torch::Tensor& mu, const torch::Tensor& rho) {
        const torch::Tensor noise = torch::randn(mu.sizes(), generator).to(mu.device());
        return mu + torch::softplus(rho) * noise;
    };
    Weights weights;
    for (size_t i = 0; i < weight_mean_.size(); ++i) {
        weights.push_back(
            {sample(weight_mean_[i], weight_rho_[i]), sample(bias_mean_[i], bias_rho_[i])});
    }
    return weights;
}

torch::Tensor FlowModel::kl_divergence() const {
    // KL(N(mu, sigma^2) || N(0, 1)) = (sigma^2 + mu^2 - 1) / 2 - log sigma, summed.
    torch::Tensor total = torch::zeros({}, frequencies_.options());
    auto add = [&](const torch::Tensor& mu, const torch::Tensor& rho) {
        const torch::Tensor sigma = torch::softplus(rho);
        total = total + (0.5 * (sigma.square() + mu.square() - 1.0) - sigma.log()).sum();
    };
    for (size_t i = 0; i < weight_rho_.size(); ++i) {
        add(weight_mean_[i], weight_rho_[i]);
        add(bias_mean_[i], bias_rho_[i]);
    }
    return total;
}

torch::Tensor FlowModel::velocity(const Weights& weights, const torch::Tensor& t,
                                  const torch::Tensor& x, const torch::Tensor& c) const {
    const torch::Tensor angles = t.unsqueeze(1) * frequencies_.to(t.dtype()).unsqueeze(0);
    const torch::Tensor embedding = torch::cat({torch::cos(angles), torch::sin(angles)}, 1);

    torch::Tensor state = x.unsqueeze(1);
    size_t layer = 0;
    for (uint32_t b = 0; b < architecture_.n_blocks; ++b) {
        torch::Tensor hidden = torch::cat({embedding, state, c}, 1);
        for (uint32_t l = 0; l < architecture_.layers_per_block; ++l) {
            if (l > 0) {
                hidden = torch::elu(hidden);
            }
            const Layer& linear = weights[layer++];
            hidden = torch::nn::functional::linear(hidden, linear.weight, linear.bias);
        }
        state = hidden;
    }
    return state.squeeze(1);
}

std::pair<torch::Tensor, torch::Tensor> FlowModel::velocity_and_derivative(
    const Weights& weights, const torch::Tensor& t, const torch::Tensor& x,
    const torch::Tensor& c) const {
    const torch::Tensor angles = t.unsqueeze(1) * frequencies_.to(t.dtype()).unsqueeze(0);
    const torch::Tensor embedding = torch::cat({torch::cos(angles), torch::sin(angles)}, 1);
    // the state's columns in every block input [embedding, state, conditions]: x for the
    // first block, the previous block's output after that
    const int64_t state_column = embedding.size(1);

    torch::Tensor state = x.unsqueeze(1);
    torch::Tensor tangent = torch::ones_like(state);  // d state / d x
    for (uint32_t b = 0; b < architecture_.n_blocks; ++b) {
        const Layer& first = weights[b * architecture_.layers_per_block];
        const torch::Tensor input = torch::cat({embedding, state, c}, 1);
        const torch::Tensor hidden = torch::nn::functional::linear(input, first.weight, first.bias);
        // only the state columns of the block input move with x
        const torch::Tensor state_weight =
            first.weight.slice(1, state_column, state_column + state.size(1));
        std::tie(state, tangent) =
            block_rest(weights, b, hidden, torch::matmul(tangent, state_weight.t()));
    }
    return {state.squeeze(1), tangent.squeeze(1)};
}

std::pair<torch::Tensor, torch::Tensor> FlowModel::block_rest(const Weights& weights,
                                                              uint32_t block, torch::Tensor hidden,
                                                              torch::Tensor tangent) const {
    for (uint32_t l = 1; l < architecture_.layers_per_block; ++l) {
        const Layer& linear = weights[block * architecture_.layers_per_block + l];
        // elu'(a) is 1 for a > 0 and exp(a) = elu(a) + 1 <= 1 otherwise
        const torch::Tensor activated = torch::elu(hidden);
        tangent =
            torch::matmul(tangent * torch::clamp_max(activated + 1.0, 1.0), linear.weight.t());
        hidden = torch::nn::functional::linear(activated, linear.weight, linear.bias);
    }
    return {hidden, tangent};
}

std::vector<float> FlowModel::flat_mean() const {
    return flatten_pairs(weight_mean_, bias_mean_);
}

std::vector<float> FlowModel::flat_rho() const {
    if (!variational_) {
        return {};
    }
    return flatten_pairs(weight_rho_, bias_rho_);
}

void FlowModel::load_mean(const std::vector<float>& flat) {
    load_pairs(architecture_, n_conditions_, flat, weight_mean_, bias_mean_);
}

void FlowModel::load_rho(const std::vector<float>& flat) {
    if (!variational_) {
        throw TrainingError("rho: a deterministic model has no rho");
    }
    load_pairs(architecture_, n_conditions_, flat, weight_rho_, bias_rho_);
}

Weights unflatten(const format::Architecture& architecture, int64_t n_conditions,
                  const std::vector<float>& flat, const torch::TensorOptions& options) {
    const auto expected =
        format::parameter_count(architecture, static_cast<uint64_t>(n_conditions));
    if (flat.size() != expected) {
        throw TrainingError("weights: expected " + std::to_string(expected) + " numbers, got " +
                            std::to_string(flat.size()));
    }
    const torch::Tensor all =
        torch::from_blob(const_cast<float*>(flat.data()), {static_cast<int64_t>(flat.size())},
                         torch::TensorOptions().dtype(torch::kFloat32))
            .to(options, false, true);
    return unflatten(architecture, n_conditions, all);
}

Weights unflatten(const format::Architecture& architecture, int64_t n_conditions,
                  const torch::Tensor& flat) {
    const auto expected = static_cast<int64_t>(
        format::parameter_count(architecture, static_cast<uint64_t>(n_conditions)));
    if (flat.dim() != 1 || flat.size(0) != expected) {
        throw TrainingError("weights: expected a flat tensor of " + std::to_string(expected) +
                            " numbers, got " + std::to_string(flat.numel()));
    }
    Weights weights;
    int64_t offset = 0;
    for (const auto& [out, in] : layer_shapes(architecture, n_conditions)) {
        Layer layer;
        layer.weight = flat.slice(0, offset, offset + out * in).view({out, in});
        offset += out * in;
        layer.bias = flat.slice(0, offset, offset + out);
        offset += out;
        weights.push_back(layer);
    }
    return weights;
}

std::vector<float> flatten(const Weights& weights) {
    std::vector<torch::Tensor> matrices;
    std::vector<torch::Tensor> biases;
    for (const Layer& layer : weights) {
        matrices.push_back(layer.weight);
        biases.push_back(layer.bias);
    }
    return flatten_pairs(matrices, biases);
}

torch::Tensor cfm_loss(const FlowModel& model, const Weights& weights, const torch::Tensor& x,
                       const torch::Tensor& c, at::Generator& generator) {
    const double s = model.architecture().sigma_min;
    const int64_t n = x.size(0);
    const torch::Tensor t = torch::rand({n}, generator).to(x.options());
    const torch::Tensor z = torch::randn({n}, generator).to(x.options());

    const torch::Tensor y = (1.0 - t) * x + (s + (1.0 - s) * t) * z;
    const torch::Tensor target = (1.0 - s) * z - x;
    return (model.velocity(weights, t, y, c) - target).square().mean();
}

torch::Tensor solve_rk4(const FlowModel& model, const Weights& weights, const torch::Tensor& x0,
                        const torch::Tensor& c, double t0, double t1, uint32_t steps) {
    const double h = (t1 - t0) / steps;
    torch::Tensor x = x0;
    auto field = [&](double t, const torch::Tensor& state) {
        return model.velocity(weights, torch::full_like(state, t), state, c);
    };
    for (uint32_t step = 0; step < steps; ++step) {
        const double t = t0 + step * h;
        const torch::Tensor k1 = field(t, x);
        const torch::Tensor k2 = field(t + 0.5 * h, x + 0.5 * h * k1);
        const torch::Tensor k3 = field(t + 0.5 * h, x + 0.5 * h * k2);
        const torch::Tensor k4 = field(t + h, x + h * k3);
        x = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    return x;
}

torch::Tensor log_likelihood(const FlowModel& model, const Weights& weights, const torch::Tensor& x,
                             const torch::Tensor& c, uint32_t steps) {
    if (steps == 0) {
        throw TrainingError("log_likelihood: the RK4 solve needs at least one step");
    }
    const format::Architecture& architecture = model.architecture();
    const torch::Tensor frequencies = model.frequencies().to(x.dtype());
    const int64_t embedding_width = 2 * frequencies.size(0);
    const int64_t n_conditions = c.size(1);

    // Every row shares t, and c does not move: the conditions' part of each block's
    // first layer (with its bias) is computed once per solve, the time embedding's once
    // per stage for all rows.
    struct FirstLayer {
        torch::Tensor fixed;  // [n, width]
        torch::Tensor time;   // [width, embedding]
        torch::Tensor state;  // [state width, width]: x, then the previous block's output
    };
    std::vector<FirstLayer> first_layers;
    for (uint32_t b = 0; b < architecture.n_blocks; ++b) {
        const Layer& first = weights[b * architecture.layers_per_block];
        const int64_t state_width = first.weight.size(1) - embedding_width - n_conditions;
        const int64_t conditions_column = embedding_width + state_width;
        first_layers.push_back(
            {torch::nn::functional::linear(
                 c, first.weight.slice(1, conditions_column, conditions_column + n_conditions),
                 first.bias),
             first.weight.slice(1, 0, embedding_width),
             first.weight.slice(1, embedding_width, conditions_column).t()});
    }
    auto field = [&](double t, const torch::Tensor& x_now) {
        const torch::Tensor angles = t * frequencies;
        const torch::Tensor embedding = torch::cat({torch::cos(angles), torch::sin(angles)});
        torch::Tensor state = x_now.unsqueeze(1);
        torch::Tensor tangent = torch::ones_like(state);
        for (uint32_t b = 0; b < architecture.n_blocks; ++b) {
            const FirstLayer& first = first_layers[b];
            const torch::Tensor hidden = first.fixed +
                                         torch::matmul(first.time, embedding).unsqueeze(0) +
                                         torch::matmul(state, first.state);
            std::tie(state, tangent) =
                model.block_rest(weights, b, hidden, torch::matmul(tangent, first.state));
        }
        return std::make_pair(state.squeeze(1), tangent.squeeze(1));
    };

    // (x, log det) from t = 0 to t = 1; log det does not feed back into the field
    const double h = 1.0 / steps;
    torch::Tensor state = x;
    torch::Tensor log_det = torch::zeros_like(x);
    for (uint32_t step = 0; step < steps; ++step) {
        const double t = step * h;
        const auto [v1, d1] = field(t, state);
        const auto [v2, d2] = field(t + 0.5 * h, state + 0.5 * h * v1);
        const auto [v3, d3] = field(t + 0.5 * h, state + 0.5 * h * v2);
        const auto [v4, d4] = field(t + h, state + h * v3);
        state = state + h / 6.0 * (v1 + 2.0 * v2 + 2.0 * v3 + v4);
        log_det = log_det + h / 6.0 * (d1 + 2.0 * d2 + 2.0 * d3 + d4);
    }
    const double log_normalization = 0.5 * std::log(2.0 * kPi);
    return -0.5 * state.square() - log_normalization + log_det;
}

VelocityValues torch_velocity(const format::Architecture& architecture, std::size_t n_conditions,
                              const std::vector<float>& weights, const std::vector<double>& times,
                              const std::vector<double>& states,
                              const std::vector<double>& conditions) {
    const auto n = static_cast<int64_t>(states.size());
    const auto width = static_cast<int64_t>(n_conditions);
    if (times.size() != states.size() || conditions.size() != states.size() * n_conditions) {
        throw TrainingError("torch_velocity: " + std::to_string(times.size()) + " times, " +
                            std::to_string(states.size()) + " states and " +
                            std::to_string(conditions.size()) + " condition values disagree");
    }
    const auto options = torch::TensorOptions().dtype(torch::kFloat64);
    at::Generator unused = seeded_generator(0, 0, 0);
    FlowModel model(architecture, width, false, 0.0, unused);
    const Weights layers = unflatten(architecture, width, weights, options);

    auto from = [&](const std::vector<double>& values, std::vector<int64_t> shape) {
        return torch::tensor(values, options).view(shape);
    };
    const torch::Tensor t = from(times, {n});
    const torch::Tensor x = from(states, {n}).requires_grad_(true);
    const torch::Tensor c = from(conditions, {n, width});
    const torch::Tensor v = model.velocity(layers, t, x, c);
    // Rows are independent, so the gradient of the sum is dv/dx row by row.
    const torch::Tensor dv_dx = torch::autograd::grad({v.sum()}, {x})[0];

    VelocityValues values;
    const torch::Tensor v_cpu = v.detach().contiguous();
    const torch::Tensor d_cpu = dv_dx.detach().contiguous();
    values.velocity.assign(v_cpu.data_ptr<double>(), v_cpu.data_ptr<double>() + n);
    values.derivative.assign(d_cpu.data_ptr<double>(), d_cpu.data_ptr<double>() + n);
    return values;
}

}  // namespace cs::trainer
