// Timing shared by the runtime benchmarks: the best of five rounds, each repeating
// the call for at least 0.2 s, so one slow round (another process) does not count;
// and the same for several calls with their rounds interleaved.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace cs::bench {

// Seconds per call over one round: the call repeated for at least 0.2 s.
inline double seconds_per_call_once(const std::function<void()>& call) {
    using Clock = std::chrono::steady_clock;
    int calls = 0;
    const auto start = Clock::now();
    double elapsed = 0.0;
    do {
        call();
        ++calls;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < 0.2);
    return elapsed / calls;
}

inline double seconds_per_call(const std::function<void()>& call) {
    double best = 1e300;
    for (int repeat = 0; repeat < 5; ++repeat) {
        best = std::min(best, seconds_per_call_once(call));
    }
    return best;
}

// The best seconds per call of each of `calls`, their rounds taken in turn: where the
// host's speed drifts over seconds, every call then sees the same drift, and the
// ratios between them hold better than those of runs one after another.
inline std::vector<double> interleaved_seconds_per_call(
    const std::vector<std::function<void()>>& calls, int rounds) {
    std::vector<double> best(calls.size(), 1e300);
    for (int round = 0; round < rounds; ++round) {
        for (std::size_t k = 0; k < calls.size(); ++k) {
            best[k] = std::min(best[k], seconds_per_call_once(calls[k]));
        }
    }
    return best;
}

}  // namespace cs::bench
