// The reference's own evaluation at its size: 10 000 toy jets, every member of a
// published 11-member surrogate, 50 exact quantiles per jet and member (one solve
// each), plus the probability integral transform of the tagger's score and the tag
// probability at 0.5 per jet and member, which surrogate-evaluate uses in their
// place. Chunks of jets are shared out to threads (the runtime is const and thread
// safe). Progress goes to stderr, the times to stdout.
//
//   build/bench/bench_evaluation [file] [jets] [threads] [chunk] [batch|per-sample]
//   (default models/published/toy-variational.surrogate, 10 000 jets, every core,
//   chunks of 20 jets, the file's step control)
//
// Each jet's 50 quantiles take their own steps, so the chunk does not change the
// answers; it sets how much work a thread takes at a time.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cs/format_io.hpp"
#include "cs/runtime/ensemble.hpp"
#include "cs/toy/experiment.hpp"
#include "cs/toy/truth.hpp"

namespace {

struct Clock {
    std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
    std::clock_t processor = std::clock();  // of the whole process: every thread

    std::pair<double, double> seconds() const {
        return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count(),
                static_cast<double>(std::clock() - processor) / CLOCKS_PER_SEC};
    }
};

// Calls work(start, rows) for chunks of `chunk` jets on `threads` threads, with a
// progress line per finished chunk; returns the sum of what work returned.
template <typename Work>
double in_chunks(long jets, long chunk, unsigned threads, const char* what, Work work) {
    std::atomic<long> next{0};
    std::mutex mutex;
    long done = 0;
    double total = 0.0;
    auto worker = [&] {
        for (long start = next.fetch_add(chunk); start < jets; start = next.fetch_add(chunk)) {
            const long rows = std::min(chunk, jets - start);
            const double sum = work(start, rows);
            const std::lock_guard<std::mutex> lock(mutex);
            total += sum;
            done += rows;
            std::fprintf(stderr, "\r%s: %ld of %ld jets", what, done, jets);
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back(worker);
    }
    for (std::thread& thread : pool) {
        thread.join();
    }
    std::fprintf(stderr, "\n");
    return total;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string path =
        argc > 1 ? argv[1]
                 : std::string(CS_SOURCE_DIR) + "/models/published/toy-variational.surrogate";
    const long jets = argc > 2 ? std::atol(argv[2]) : 10000;
    const cs::runtime::Ensemble ensemble(cs::format::read_file(path));

    // test jets of the toy experiment, another seed than the published training data
    const cs::toy::Generator generator(99, 3);
    Eigen::MatrixXd conditions(jets, 6);
    Eigen::MatrixXd scores(jets, 1);
    for (long j = 0; j < jets; ++j) {
        const cs::toy::Jet jet = generator.generate(static_cast<uint64_t>(j));
        const cs::toy::Conditions c = cs::toy::conditions_of(jet, false);
        conditions.row(j) << c.label, c.pt, c.eta, c.phi, c.energy, c.multiplicity;
        scores(j, 0) = jet.score;
    }
    std::vector<double> levels;
    for (int l = 0; l < 50; ++l) {
        levels.push_back((l + 0.5) / 50.0);
    }

    const unsigned threads = argc > 3 ? static_cast<unsigned>(std::atoi(argv[3]))
                                      : std::max(1u, std::thread::hardware_concurrency());
    cs::runtime::SolverOptions options = ensemble.default_solver();
    const long chunk = argc > 4 ? std::atol(argv[4]) : 20;
    if (argc > 5) {
        options.step_control = cs::runtime::parse_step_control(argv[5]);
    }
    const Clock quantile_clock;
    const double quantile_sum =
        in_chunks(jets, chunk, threads, "quantiles", [&](long start, long rows) {
            double sum = 0.0;
            for (const Eigen::MatrixXd& q :
                 ensemble.quantiles(conditions.middleRows(start, rows), levels, options)) {
                sum += q.sum();
            }
            return sum;
        });
    const auto [quantile_wall, quantile_processor] = quantile_clock.seconds();

    const Clock pit_clock;
    const double pit_sum =
        in_chunks(jets, chunk, threads, "PIT and tag probability", [&](long start, long rows) {
            const Eigen::MatrixXd block = conditions.middleRows(start, rows);
            double sum = 0.0;
            for (const Eigen::MatrixXd& p :
                 ensemble.cdf(block, scores.middleRows(start, rows), options)) {
                sum += p.sum();
            }
            for (const Eigen::MatrixXd& p : ensemble.tag_probability(block, {0.5}, options)) {
                sum += p.sum();
            }
            return sum;
        });
    const auto [pit_wall, pit_processor] = pit_clock.seconds();

    const double solves = static_cast<double>(jets) * static_cast<double>(ensemble.n_members());
    std::printf(
        "# %s: %lld members, %ld jets in chunks of %ld, dopri5 (atol %g, rtol %g, %s steps), "
        "%u threads\n",
        path.c_str(), static_cast<long long>(ensemble.n_members()), jets, chunk, options.atol,
        options.rtol,
        options.step_control == cs::runtime::StepControl::batch ? "batch" : "per-sample", threads);
    std::printf("%-32s %10s %12s %16s\n", "stage", "wall_s", "processor_s", "solves/s_wall");
    std::printf("%-32s %10.1f %12.1f %16.0f\n", "50 exact quantiles per jet", quantile_wall,
                quantile_processor, 50.0 * solves / quantile_wall);
    std::printf("%-32s %10.1f %12.1f %16.0f\n", "PIT + tag probability per jet", pit_wall,
                pit_processor, 2.0 * solves / pit_wall);
    std::printf("# checksums (to keep the work): %.6g %.6g\n", quantile_sum, pit_sum);
    return 0;
}
