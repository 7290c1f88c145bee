// Training speed: rows per second of surrogate-train's training loop (the CFM point
// estimate and the variational posterior) at batch sizes 4 096 and 131 072 on one
// thread, with LibTorch's OpenBLAS held to one thread, and the peak memory of each
// run. Every configuration runs in its own child process, so that its peak resident
// set is its own. Results go to stdout.
//
//   build-bench/bench/bench_train [rows]      (default 262 144 training rows)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cs/random.hpp"
#include "cs/trainer/trainer.hpp"

namespace {

struct Result {
    double epoch_wall = 0.0;        // seconds of the second epoch
    double processor = 0.0;         // processor seconds per epoch over both epochs
    double data_only_rss_mb = 0.0;  // resident set after preparing the data
    int ok = 0;
};

double processor_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double resident_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

// JetClass-like conditions and a score with a label-dependent logit, in memory.
cs::trainer::PreparedData jets(std::size_t rows) {
    const cs::CounterRandom random(2024, 1);
    cs::data::Table table;
    table.names = {
        "label_top",          "jet_pt", "jet_eta", "jet_phi", "jet_energy", "jet_nparticles",
        "jet_p_top_ParT_full"};
    table.columns.assign(table.names.size(), std::vector<float>(rows));
    for (std::size_t r = 0; r < rows; ++r) {
        const double label = random.uniform(r, 0) < 0.5 ? 0.0 : 1.0;
        const double logit = (label > 0 ? 3.0 : -3.0) + 1.5 * random.normal(r, 1);
        const double values[] = {label,
                                 620.0 + 100.0 * random.normal(r, 2),
                                 0.9 * random.normal(r, 3),
                                 3.1 * (2.0 * random.uniform(r, 4) - 1.0),
                                 900.0 + 300.0 * random.normal(r, 5),
                                 43.0 + 15.0 * random.normal(r, 6),
                                 1.0 / (1.0 + std::exp(-logit))};
        for (std::size_t c = 0; c < table.names.size(); ++c) {
            table.columns[c][r] = static_cast<float>(values[c]);
        }
    }
    cs::trainer::DataOptions options;
    options.validation_fraction = 0.0;
    return cs::trainer::prepare_data(table, options);
}

Result run(cs::trainer::Method method, uint32_t batch, std::size_t rows) {
    Result result;
    const cs::trainer::PreparedData data = jets(rows);
    result.data_only_rss_mb = resident_mb();
    cs::trainer::TrainingOptions options;
    options.method = method;
    options.epochs = 2;
    options.batch_size = batch;
    options.device = "cpu";
    options.threads = 1;
    const double start = processor_seconds();
    const cs::trainer::TrainingResult trained = cs::trainer::train(options, data);
    result.processor = (processor_seconds() - start) / options.epochs;
    result.epoch_wall = trained.epochs.back().seconds;
    result.ok = 1;
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 262144;
    std::printf(
        "# surrogate-train's loop, one thread (OpenBLAS too), %zu training rows, "
        "2 epochs per run, each run in its own process\n",
        rows);
    std::printf("%-12s %8s %14s %16s %12s %14s\n", "method", "batch", "rows/s_wall",
                "rows/s_processor", "peak_MB", "peak-data_MB");
    for (const cs::trainer::Method method :
         {cs::trainer::Method::cfm, cs::trainer::Method::variational}) {
        for (const uint32_t batch : {4096u, 131072u}) {
            int channel[2];
            if (pipe(channel) != 0) {
                std::perror("pipe");
                return 1;
            }
            const pid_t child = fork();
            if (child == 0) {
                close(channel[0]);
                const Result result = run(method, batch, rows);
                const ssize_t written = write(channel[1], &result, sizeof result);
                _exit(written == static_cast<ssize_t>(sizeof result) ? 0 : 1);
            }
            close(channel[1]);
            Result result;
            const ssize_t got = read(channel[0], &result, sizeof result);
            close(channel[0]);
            int status = 0;
            rusage usage{};
            wait4(child, &status, 0, &usage);
            if (got != static_cast<ssize_t>(sizeof result) || !result.ok) {
                std::fprintf(stderr, "bench_train: the %s run at batch %u failed\n",
                             cs::trainer::method_name(method).c_str(), batch);
                return 1;
            }
            const double peak = static_cast<double>(usage.ru_maxrss) / 1024.0;
            std::printf(
                "%-12s %8u %14.0f %16.0f %12.0f %14.0f\n", cs::trainer::method_name(method).c_str(),
                batch, static_cast<double>(rows) / result.epoch_wall,
                static_cast<double>(rows) / result.processor, peak, peak - result.data_only_rss_mb);
            std::fflush(stdout);
        }
    }
    return 0;
}
