// The LibTorch model against the Eigen runtime on the same weights, the weight
// layout, the CFM loss, the gradient of the KL term and the thread settings.
// LibTorch defines its own CHECK macro: Catch2's are used with their CATCH_ prefix.
#define CATCH_CONFIG_PREFIX_ALL
#include <dlfcn.h>

#include <catch2/catch.hpp>

#include <cmath>

#include "cs/format.hpp"
#include "cs/random.hpp"
#include "cs/runtime/solver.hpp"
#include "cs/runtime/velocity_field.hpp"
#include "cs/trainer/torch_model.hpp"
#include "cs/trainer/trainer.hpp"

using namespace cs;

namespace {

constexpr int64_t kConditions = 6;
constexpr int64_t kRows = 64;

// A trained-looking model: random initial weights, biases pushed away from zero so
// that every ELU sees both signs.
trainer::FlowModel random_model(bool variational, uint64_t seed) {
    at::Generator generator = trainer::seeded_generator(seed, 0, 0);
    return trainer::FlowModel(format::Architecture{}, kConditions, variational, -3.0, generator);
}

struct Batch {
    Eigen::ArrayXd t;
    Eigen::ArrayXd x;
    Eigen::MatrixXf c;  // C x n, the runtime's layout
};

Batch random_batch(uint64_t seed) {
    const CounterRandom random(seed, 1);
    Batch batch{Eigen::ArrayXd(kRows), Eigen::ArrayXd(kRows), Eigen::MatrixXf(kConditions, kRows)};
    for (int64_t r = 0; r < kRows; ++r) {
        batch.t(r) = random.uniform(static_cast<uint64_t>(r), 0);
        batch.x(r) = 0.3 * random.normal(static_cast<uint64_t>(r), 1);
        for (int64_t c = 0; c < kConditions; ++c) {
            batch.c(c, r) = static_cast<float>(
                random.normal(static_cast<uint64_t>(r), 2 + static_cast<uint32_t>(c)));
        }
    }
    return batch;
}

torch::Tensor as_tensor(const Eigen::ArrayXd& values) {
    return torch::from_blob(const_cast<double*>(values.data()), {values.size()}, torch::kFloat64)
        .clone();
}

torch::Tensor conditions_tensor(const Eigen::MatrixXf& c) {
    // column-major C x n is row-major n x C
    return torch::from_blob(const_cast<float*>(c.data()), {c.cols(), c.rows()}, torch::kFloat32)
        .to(torch::kFloat64);
}

// Largest |difference| / max(|reference|, floor). The runtime computes in float32, so
// its absolute error is set by the magnitude of the batch's values (sums of terms of
// that size), not by the smallest value: the floor is a tenth of the largest one.
double relative_difference(const torch::Tensor& torch_values, const Eigen::ArrayXd& reference) {
    double worst = 0.0;
    const torch::Tensor values = torch_values.detach().contiguous();
    const double floor = std::max(1e-3, 0.1 * reference.abs().maxCoeff());
    for (Eigen::Index i = 0; i < reference.size(); ++i) {
        const double value = values.data_ptr<double>()[i];
        const double scale = std::max(std::abs(reference(i)), floor);
        worst = std::max(worst, std::abs(value - reference(i)) / scale);
    }
    return worst;
}

}  // namespace

CATCH_TEST_CASE(
    "trainer: the model has the runtime's parameter count and round-trips its flat layout",
    "[trainer][model]") {
    const trainer::FlowModel model = random_model(true, 3);
    const std::vector<float> flat = model.flat_mean();
    CATCH_REQUIRE(flat.size() == 31617);
    CATCH_REQUIRE(model.flat_rho().size() == 31617);

    trainer::FlowModel other = random_model(true, 4);
    CATCH_REQUIRE(other.flat_mean() != flat);
    other.load_mean(flat);
    CATCH_CHECK(other.flat_mean() == flat);
    CATCH_CHECK(trainer::flatten(trainer::unflatten(format::Architecture{}, kConditions, flat,
                                                    torch::kFloat32)) == flat);
}

CATCH_TEST_CASE("trainer: LibTorch's velocity field and RK4 solve agree with the runtime's to 1e-5",
                "[trainer][model][parity]") {
    // The runtime evaluates in float32 on float32 weights; LibTorch here uses float64
    // on the same weights. Relative differences are taken against max(|v|, 1e-3):
    // float32 rounding over the 31 617 weights left about 4e-6 when this was written.
    const trainer::FlowModel model = random_model(false, 11);
    const std::vector<float> weights = model.flat_mean();
    const runtime::VelocityField field(format::Architecture{}, kConditions, weights);
    const Batch batch = random_batch(5);
    const trainer::Weights layers =
        trainer::unflatten(format::Architecture{}, kConditions, weights, torch::kFloat64);
    const torch::Tensor c = conditions_tensor(batch.c);

    CATCH_SECTION("velocity and dv/dx at random times and states") {
        runtime::VelocityField::Workspace workspace;
        Eigen::ArrayXd v;
        Eigen::ArrayXd dv_dx;
        field.evaluate(batch.t, batch.x, field.condition(batch.c), nullptr, workspace, v, &dv_dx);

        const torch::Tensor torch_v =
            model.velocity(layers, as_tensor(batch.t), as_tensor(batch.x), c);
        CATCH_CHECK(relative_difference(torch_v, v) < 1e-5);

        std::vector<double> conditions(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
        const trainer::VelocityValues values = trainer::torch_velocity(
            format::Architecture{}, kConditions, weights,
            std::vector<double>(batch.t.data(), batch.t.data() + kRows),
            std::vector<double>(batch.x.data(), batch.x.data() + kRows), conditions);
        const Eigen::ArrayXd derivative = Eigen::Map<const Eigen::ArrayXd>(
            values.derivative.data(), static_cast<Eigen::Index>(values.derivative.size()));
        CATCH_CHECK(relative_difference(as_tensor(derivative), dv_dx) < 1e-5);
    }

    CATCH_SECTION("RK4 with 32 steps from t = 1 to t = 0") {
        runtime::SolverOptions options;
        options.method = runtime::Method::rk4;
        options.rk4_steps = 32;
        const runtime::FieldSystem system(field, batch.c);
        const Eigen::ArrayXd noise = batch.x / 0.3;
        const runtime::SolveResult reference = runtime::solve(system, noise, 1.0, 0.0, options);

        const torch::Tensor solved =
            trainer::solve_rk4(model, layers, as_tensor(noise), c, 1.0, 0.0, 32);
        CATCH_CHECK(relative_difference(solved, reference.x) < 1e-5);
        // the flow moved the states: the comparison is not of the inputs
        CATCH_CHECK((reference.x - noise).abs().maxCoeff() > 1e-2);
    }
}

CATCH_TEST_CASE("trainer: the CFM loss is the mean squared error to (1 - s) z - x at y(t, z)",
                "[trainer][model][loss]") {
    const trainer::FlowModel model = random_model(false, 2);
    const trainer::Weights weights = model.mean();
    const torch::Tensor x = torch::linspace(-0.3, 0.3, 50);
    const torch::Tensor c = torch::zeros({50, kConditions});

    at::Generator generator = trainer::seeded_generator(9, 9, 9);
    const double loss = trainer::cfm_loss(model, weights, x, c, generator).item<double>();

    // the same t and z, drawn in the loss's order from a fresh generator
    at::Generator again = trainer::seeded_generator(9, 9, 9);
    const torch::Tensor t = torch::rand({50}, again);
    const torch::Tensor z = torch::randn({50}, again);
    const double s = 1e-4;
    const torch::Tensor y = (1 - t) * x + (s + (1 - s) * t) * z;
    const torch::Tensor u = (1 - s) * z - x;
    const torch::Tensor v = model.velocity(weights, t, y, c);
    const double expected = ((v - u) * (v - u)).sum().item<double>() / 50.0;
    CATCH_CHECK(loss == Approx(expected).epsilon(1e-6));  // float32 summation order
}

CATCH_TEST_CASE("trainer: the KL term has gradients: mu moves towards 0 and sigma towards 1",
                "[trainer][model][kl]") {
    trainer::FlowModel model = random_model(true, 6);
    const std::vector<float> mean_before = model.flat_mean();
    const std::vector<float> rho_before = model.flat_rho();

    // d KL / d mu = mu exactly
    const torch::Tensor kl = model.kl_divergence();
    kl.backward();
    const trainer::Weights means = model.mean();
    CATCH_CHECK(torch::allclose(means[0].weight.grad(), means[0].weight.detach()));

    torch::optim::SGD optimizer(model.parameters(), torch::optim::SGDOptions(0.1));
    optimizer.step();
    const std::vector<float> mean_after = model.flat_mean();
    const std::vector<float> rho_after = model.flat_rho();
    int moved_in = 0;
    int rho_up = 0;
    for (size_t i = 0; i < mean_after.size(); ++i) {
        moved_in += std::abs(mean_after[i]) < std::abs(mean_before[i]) ? 1 : 0;
        rho_up += rho_after[i] > rho_before[i] ? 1 : 0;
    }
    // every nonzero mean shrinks by 10%; every sigma below 1 grows
    CATCH_CHECK(moved_in > static_cast<int>(mean_after.size()) * 99 / 100);
    CATCH_CHECK(rho_up == static_cast<int>(rho_after.size()));
}

CATCH_TEST_CASE("trainer: one variational draw is held for the batch and differs between draws",
                "[trainer][model][variational]") {
    const trainer::FlowModel model = random_model(true, 8);
    at::Generator first = trainer::seeded_generator(1, 2, 3);
    at::Generator same = trainer::seeded_generator(1, 2, 3);
    at::Generator other = trainer::seeded_generator(1, 2, 4);
    const std::vector<float> a = trainer::flatten(model.draw(first));
    CATCH_CHECK(a == trainer::flatten(model.draw(same)));
    CATCH_CHECK(a != trainer::flatten(model.draw(other)));
    CATCH_CHECK(a != model.flat_mean());
}

CATCH_TEST_CASE("trainer: set_threads sets LibTorch's and OpenBLAS's thread counts") {
    // The project's LibTorch calls OpenBLAS (TOOLCHAIN.md), whose own pool would
    // otherwise keep one thread per core whatever LibTorch was told.
    using GetThreads = int (*)();
    const auto openblas_threads =
        reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    CATCH_REQUIRE(openblas_threads != nullptr);
    for (const int threads : {2, 1}) {
        cs::trainer::set_threads(threads);
        CATCH_CHECK(at::get_num_threads() == threads);
        CATCH_CHECK(openblas_threads() == threads);
    }
}
