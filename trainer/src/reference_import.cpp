// Reading the reference implementation's state dicts (cs/trainer/reference_import.hpp).
#include "cs/trainer/reference_import.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

namespace cs::trainer {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Buffers of the reference's modules that carry nothing the file needs: the
// Flipout layers' noise and prior (the prior is N(0, 1) by DESIGN.md).
const std::set<std::string> kUnusedSuffixes = {"eps_weight",      "eps_bias",
                                               "prior_weight_mu", "prior_weight_sigma",
                                               "prior_bias_mu",   "prior_bias_sigma"};

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shape_text(const std::vector<int64_t>& sizes) {
    std::string text = "[";
    for (size_t d = 0; d < sizes.size(); ++d) {
        text += (d ? ", " : "") + std::to_string(sizes[d]);
    }
    return text + "]";
}

std::string shape_of(const at::Tensor& tensor) {
    return shape_text(tensor.sizes().vec());
}

class Reader {
  public:
    Reader(std::map<std::string, at::Tensor> tensors, std::string name)
        : tensors_(std::move(tensors)), name_(std::move(name)) {}

    [[noreturn]] void fail(const std::string& message) const {
        throw TrainingError(name_ + ": " + message);
    }

    bool has(const std::string& key) const { return tensors_.count(key) != 0; }

    // The tensor under `key` with the expected shape, as float32; marks it used.
    at::Tensor take(const std::string& key, const std::vector<int64_t>& shape) {
        const auto found = tensors_.find(key);
        if (found == tensors_.end()) {
            fail("no tensor '" + key + "'");
        }
        const at::Tensor& tensor = found->second;
        if (tensor.sizes().vec() != shape) {
            fail("'" + key + "' has shape " + shape_of(tensor) + ", the blocks need " +
                 shape_text(shape));
        }
        if (!at::isfinite(tensor).all().item<bool>()) {
            fail("'" + key + "' holds non-finite values");
        }
        used_.insert(key);
        return tensor.to(at::kFloat).contiguous();
    }

    const std::map<std::string, at::Tensor>& tensors() const { return tensors_; }
    const std::set<std::string>& used() const { return used_; }
    void use(const std::string& key) { used_.insert(key); }

  private:
    std::map<std::string, at::Tensor> tensors_;
    std::string name_;
    std::set<std::string> used_;
};

void append(std::vector<float>& flat, const at::Tensor& tensor) {
    const float* data = tensor.data_ptr<float>();
    flat.insert(flat.end(), data, data + tensor.numel());
}

std::map<std::string, at::Tensor> tensors_of(const std::vector<char>& bytes,
                                             const std::string& name) {
    const std::string advice =
        " (the import reads a plain dict of tensors: torch.save(dict(model.state_dict()), path))";
    c10::IValue value;
    try {
        value = torch::jit::pickle_load(bytes);
    } catch (const c10::Error& error) {
        // LibTorch's unpickler cannot build the OrderedDict that state_dict() returns;
        // the pickle inside the (uncompressed) archive names the class.
        const std::string marker = "OrderedDict";
        if (std::search(bytes.begin(), bytes.end(), marker.begin(), marker.end()) != bytes.end()) {
            throw TrainingError(name +
                                ": holds an OrderedDict (what state_dict() returns), "
                                "which LibTorch cannot read;" +
                                advice);
        }
        const std::string what = error.what_without_backtrace();
        throw TrainingError(name + ": not a file written by torch.save: " +
                            what.substr(0, what.find('\n')) + advice);
    }
    if (!value.isGenericDict()) {
        throw TrainingError(name + ": holds a " + value.tagKind() + ", not a dict" + advice);
    }
    std::map<std::string, at::Tensor> tensors;
    for (const auto& entry : value.toGenericDict()) {
        if (!entry.key().isString()) {
            throw TrainingError(name + ": a key of type " + entry.key().tagKind() +
                                ", not a string" + advice);
        }
        const std::string key = entry.key().toStringRef();
        if (!entry.value().isTensor()) {
            throw TrainingError(name + ": '" + key + "' holds a " + entry.value().tagKind() +
                                ", not a tensor" + advice);
        }
        tensors[key] = entry.value().toTensor();
    }
    return tensors;
}

}  // namespace

ReferenceModel parse_reference_state_dict(const std::vector<char>& bytes, const std::string& name) {
    Reader reader(tensors_of(bytes, name), name);
    ReferenceModel model;

    // the prefix before the first block, and plain or Flipout layers
    bool flipout = false;
    int found = 0;
    for (const auto& [key, tensor] : reader.tensors()) {
        for (const std::string suffix : {"mlps1.0.weight", "mlps1.0.mu_weight"}) {
            if (ends_with(key, suffix)) {
                model.prefix = key.substr(0, key.size() - suffix.size());
                flipout = suffix == "mlps1.0.mu_weight";
                ++found;
            }
        }
    }
    if (found != 1) {
        reader.fail(found == 0 ? "no first block: expected a key ending in 'mlps1.0.weight' or "
                                 "'mlps1.0.mu_weight' (the reference CNF's net.mlps1)"
                               : "more than one first block 'mlps1.0' among the keys");
    }
    const std::string weight_name = flipout ? "mu_weight" : "weight";
    const std::string bias_name = flipout ? "mu_bias" : "bias";

    // the frequencies: a buffer `freqs` next to the network
    std::string freqs_key;
    for (const auto& [key, tensor] : reader.tensors()) {
        if (key == "freqs" || ends_with(key, ".freqs")) {
            if (!freqs_key.empty()) {
                reader.fail("two frequency buffers, '" + freqs_key + "' and '" + key + "'");
            }
            freqs_key = key;
        }
    }
    if (freqs_key.empty()) {
        reader.fail("no buffer 'freqs' (the time embedding's frequencies, pi * [1, 2, 3])");
    }
    const at::Tensor freqs = reader.tensors().at(freqs_key).to(at::kDouble).contiguous();
    reader.use(freqs_key);
    if (freqs.dim() != 1 || freqs.numel() == 0) {
        reader.fail("'" + freqs_key + "' has shape " + shape_of(freqs) + ", expected [K]");
    }
    std::vector<double> frequencies;
    for (int64_t k = 0; k < freqs.numel(); ++k) {
        const double value = freqs[k].item<double>() / kPi;
        if (!(value > 0.0) || !std::isfinite(value)) {
            reader.fail("'" + freqs_key + "' must hold positive multiples of pi");
        }
        frequencies.push_back(value);
    }
    const auto embedding = static_cast<int64_t>(2 * frequencies.size());

    // the blocks and their layers, named as the reference's cond_MLP_model names them
    std::vector<std::string> blocks = {model.prefix + "mlps1."};
    while (reader.has(model.prefix + "mlp" + std::to_string(blocks.size()) + ".0." + weight_name)) {
        blocks.push_back(model.prefix + "mlp" + std::to_string(blocks.size()) + ".");
    }
    int64_t layers = 0;
    while (reader.has(blocks[0] + std::to_string(2 * layers) + "." + weight_name)) {
        ++layers;
    }
    const at::Tensor& first = reader.tensors().at(blocks[0] + "0." + weight_name);
    if (first.dim() != 2) {
        reader.fail("'" + blocks[0] + "0." + weight_name + "' has shape " + shape_of(first) +
                    ", expected [out, in]");
    }
    const int64_t width = first.size(0);
    const int64_t n_conditions = first.size(1) - embedding - 1;
    if (n_conditions < 0) {
        reader.fail("the first layer takes " + std::to_string(first.size(1)) +
                    " inputs, fewer than the " + std::to_string(embedding + 1) +
                    " of the time embedding and the state");
    }

    std::vector<float> mean;
    std::vector<float> rho;
    for (size_t b = 0; b < blocks.size(); ++b) {
        for (int64_t l = 0; l < layers; ++l) {
            const std::string layer = blocks[b] + std::to_string(2 * l) + ".";
            const int64_t in = l > 0 ? width : (b == 0 ? 1 : width) + embedding + n_conditions;
            const int64_t out = (b + 1 == blocks.size() && l + 1 == layers) ? 1 : width;
            append(mean, reader.take(layer + weight_name, {out, in}));
            append(mean, reader.take(layer + bias_name, {out}));
            if (flipout) {
                append(rho, reader.take(layer + "rho_weight", {out, in}));
                append(rho, reader.take(layer + "rho_bias", {out}));
            }
        }
    }

    // every other key must be a buffer the import knows it does not need
    for (const auto& [key, tensor] : reader.tensors()) {
        if (reader.used().count(key)) {
            continue;
        }
        const std::string suffix = key.substr(key.rfind('.') + 1);
        if (!kUnusedSuffixes.count(suffix)) {
            reader.fail("unexpected key '" + key + "' with shape " + shape_of(tensor) +
                        ": not a layer of the blocks " + blocks.front() + " .. " + blocks.back() +
                        " with " + std::to_string(layers) + " linear layers each");
        }
        model.unused_keys.push_back(key);
    }

    format::Architecture& architecture = model.architecture;
    architecture.n_blocks = static_cast<uint32_t>(blocks.size());
    architecture.width = static_cast<uint32_t>(width);
    architecture.layers_per_block = static_cast<uint32_t>(layers);
    architecture.time_embedding.frequencies = frequencies;
    model.n_conditions = static_cast<size_t>(n_conditions);
    if (format::parameter_count(architecture, model.n_conditions) != mean.size()) {
        reader.fail("the layers hold " + std::to_string(mean.size()) +
                    " weights, the architecture needs " +
                    std::to_string(format::parameter_count(architecture, model.n_conditions)));
    }
    model.posterior.method = flipout ? Method::variational : Method::cfm;
    model.posterior.mean = std::move(mean);
    model.posterior.rho = std::move(rho);
    model.dtype = std::string(first.dtype().name());
    return model;
}

ReferenceModel read_reference_state_dict(const std::string& path) {
    std::ifstream stream(path, std::ios::binary);
    if (!stream) {
        throw TrainingError("cannot open '" + path + "'");
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(stream)),
                                  std::istreambuf_iterator<char>());
    return parse_reference_state_dict(bytes, path);
}

}  // namespace cs::trainer
