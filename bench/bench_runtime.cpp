// Runtime benchmark on one thread: velocity-field rows per second and GFLOP/s, the
// per-jet summary (11 members, 99 quantiles, one tag probability), and, when LibTorch
// is available, the same velocity field evaluated by LibTorch on the CPU.
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "cs/random.hpp"
#include "cs/runtime/demonstration.hpp"
#include "cs/runtime/ensemble.hpp"
#include "cs/surrogate.hpp"
#include "timing.hpp"

#ifdef CS_BENCH_TORCH
// bench_torch.cpp: one evaluation of the reference field with LibTorch, on `rows`
// random rows, as a call to time.
std::function<void()> torch_evaluation(const std::vector<float>& weights, long rows);
#endif

using cs::bench::seconds_per_call;

namespace {

// Normal random conditions (one column per row) and states for `rows` rows.
void random_rows(const cs::CounterRandom& random, long rows, Eigen::MatrixXf& conditions,
                 Eigen::ArrayXd& x) {
    conditions.resize(6, rows);
    x.resize(rows);
    for (long i = 0; i < rows; ++i) {
        for (int c = 0; c < 6; ++c) {
            conditions(c, i) = static_cast<float>(random.normal(static_cast<uint64_t>(i), c));
        }
        x(i) = random.normal(static_cast<uint64_t>(i), 7);
    }
}

}  // namespace

int main() {
    const auto file = cs::runtime::make_demonstration_surrogate(11, 2024);
    const cs::runtime::Ensemble portable(file);
    const cs::runtime::Ensemble fused(file, cs::Arithmetic::fused);
    const cs::CounterRandom random(1);

    std::printf("velocity field, reference architecture (%ld parameters), one thread\n",
                static_cast<long>(portable.member(1).n_parameters()));
    std::printf("%-9s %8s %14s %10s %14s %10s\n", "rounding", "rows", "rows/s", "GFLOP/s",
                "with dv/dx", "GFLOP/s");
    double portable_at_1000 = 0.0;
    double fused_at_1000 = 0.0;
    for (long rows : {1000L, 100000L}) {
        Eigen::MatrixXf conditions;
        Eigen::ArrayXd x;
        random_rows(random, rows, conditions, x);
        for (const auto* ensemble : {&portable, &fused}) {
            const auto& field = ensemble->member(1);
            const auto conditioned = field.condition(conditions);
            cs::runtime::VelocityField::Workspace workspace;
            const Eigen::ArrayXd t = Eigen::ArrayXd::Constant(1, 0.4);
            Eigen::ArrayXd v;
            Eigen::ArrayXd dv_dx;
            const double plain = seconds_per_call(
                [&] { field.evaluate(t, x, conditioned, nullptr, workspace, v, nullptr); });
            const double tangent = seconds_per_call(
                [&] { field.evaluate(t, x, conditioned, nullptr, workspace, v, &dv_dx); });
            const double rate = static_cast<double>(rows) / plain;
            if (rows == 1000) {
                (ensemble == &fused ? fused_at_1000 : portable_at_1000) = rate;
            }
            std::printf("%-9s %8ld %14.4g %10.2f %14.4g %10.2f\n",
                        ensemble == &fused ? "fused" : "portable", rows, rate,
                        rate * field.flops_per_row(false) * 1e-9, rows / tangent,
                        rows / tangent * field.flops_per_row(true) * 1e-9);
        }
    }
    std::printf(
        "(portable: the same bits as the WebAssembly page, the default; fused: fused "
        "multiply-adds)\n");

    const cs::Surrogate surrogate(file);
    const cs::Conditions jet = {{"label_top", 1.0},    {"jet_pt", 640.0},
                                {"jet_eta", 0.3},      {"jet_phi", -1.2},
                                {"jet_energy", 900.0}, {"jet_nparticles", 50.0}};
    cs::QueryOptions query;  // 99 levels, one cut, the moment grid
    const double summary = seconds_per_call([&] { surrogate.summarize(jet, query); });
    std::printf(
        "\nper-jet summary (11 members, 99 quantiles + %u moment levels, one tag "
        "probability, default dopri5): %.2f ms\n",
        query.moment_points, summary * 1e3);
    query.moment_points = 2;
    const double lean = seconds_per_call([&] { surrogate.summarize(jet, query); });
    std::printf("the same with the smallest moment grid (2 levels): %.2f ms\n", lean * 1e3);

    // The demonstration's affine flows are easy for the solver; trained surrogates take
    // more steps (about 15 Dormand-Prince steps per member for the toy ones).
    for (const char* name : {"toy-variational", "toy-adam-mcmc"}) {
        const std::string path =
            std::string(CS_SOURCE_DIR) + "/models/published/" + name + ".surrogate";
        if (!std::ifstream(path)) {
            std::printf("%s: %s not found, skipped\n", name, path.c_str());
            continue;
        }
        for (const auto arithmetic : {cs::Arithmetic::portable, cs::Arithmetic::fused}) {
            const auto trained = cs::Surrogate::load(path, arithmetic);
            const cs::QueryOptions defaults;
            const double seconds = seconds_per_call([&] { trained.summarize(jet, defaults); });
            std::printf("per-jet summary of the published %s (%ld members), %s: %.2f ms\n", name,
                        static_cast<long>(trained.ensemble().n_members()),
                        arithmetic == cs::Arithmetic::fused ? "fused" : "portable", seconds * 1e3);
        }
    }

#ifdef CS_BENCH_TORCH
    // The comparison at 1 000 rows with the rounds of the three taken in turn, ten
    // each: on a host whose speed drifts, rates measured a minute apart (the table's
    // and LibTorch's alone) gave ratios that varied by a third between runs.
    {
        constexpr long kRows = 1000;
        Eigen::MatrixXf conditions;
        Eigen::ArrayXd x;
        random_rows(random, kRows, conditions, x);
        const Eigen::ArrayXd t = Eigen::ArrayXd::Constant(1, 0.4);
        const auto& plain_field = portable.member(1);
        const auto& fused_field = fused.member(1);
        const auto plain_conditioned = plain_field.condition(conditions);
        const auto fused_conditioned = fused_field.condition(conditions);
        cs::runtime::VelocityField::Workspace workspace;
        Eigen::ArrayXd v;
        const auto seconds = cs::bench::interleaved_seconds_per_call(
            {[&] { plain_field.evaluate(t, x, plain_conditioned, nullptr, workspace, v, nullptr); },
             [&] { fused_field.evaluate(t, x, fused_conditioned, nullptr, workspace, v, nullptr); },
             torch_evaluation(file.members[1].weights, kRows)},
            10);
        const double torch_rate = kRows / seconds[2];
        std::printf(
            "\nat 1000 rows, rounds interleaved: runtime %.4g rows/s portable, %.4g fused; "
            "LibTorch on the CPU %.4g rows/s\n"
            "runtime / LibTorch = %.2f portable, %.2f fused (target at least 1.5); in the "
            "table above: %.2f, %.2f\n",
            kRows / seconds[0], kRows / seconds[1], torch_rate, kRows / seconds[0] / torch_rate,
            kRows / seconds[1] / torch_rate, portable_at_1000 / torch_rate,
            fused_at_1000 / torch_rate);
    }
#else
    (void)portable_at_1000;
    (void)fused_at_1000;
    std::printf("\nLibTorch not available: no comparison\n");
#endif
    return 0;
}
