// The reference velocity field written with LibTorch operations from the same flat
// weights, evaluated on one CPU thread, for the runtime benchmark's comparison.
#include <torch/torch.h>

#include <functional>
#include <vector>

#include "cs/trainer/options.hpp"

std::function<void()> torch_evaluation(const std::vector<float>& weights, long rows) {
    cs::trainer::set_threads(1);  // LibTorch's threads and OpenBLAS's own
    const auto all = torch::from_blob(const_cast<float*>(weights.data()),
                                      {static_cast<long>(weights.size())}, torch::kFloat32);

    // Unpack the layers: per block three (weight [out][in], bias [out]).
    std::vector<std::pair<torch::Tensor, torch::Tensor>> layers;
    long offset = 0;
    for (int block = 0; block < 3; ++block) {
        const long in = block == 0 ? 13 : 76;
        for (int layer = 0; layer < 3; ++layer) {
            const long layer_in = layer == 0 ? in : 64;
            const long out = (block == 2 && layer == 2) ? 1 : 64;
            auto weight = all.slice(0, offset, offset + out * layer_in).view({out, layer_in});
            offset += out * layer_in;
            auto bias = all.slice(0, offset, offset + out);
            offset += out;
            layers.emplace_back(weight.t().contiguous(), bias.clone());
        }
    }

    const auto conditions = torch::randn({rows, 6});
    const auto x = torch::randn({rows, 1});
    const auto t = torch::full({rows, 1}, 0.4);
    const auto k = torch::arange(1, 4, torch::kFloat32) * M_PI;
    return [=] {
        torch::NoGradGuard no_grad;
        const auto embedding = torch::cat({torch::cos(t * k), torch::sin(t * k)}, 1);
        auto state = x;
        for (int block = 0; block < 3; ++block) {
            auto h = torch::cat({embedding, state, conditions}, 1);
            for (int layer = 0; layer < 3; ++layer) {
                const auto& [weight, bias] = layers[static_cast<size_t>(block * 3 + layer)];
                h = torch::addmm(bias, h, weight);
                if (layer < 2) {
                    h = torch::elu(h);
                }
            }
            state = h;
        }
    };
}
