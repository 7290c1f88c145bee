// Timing shared by the runtime benchmarks: the best of five rounds, each repeating
// the call for at least 0.2 s, so one slow round (another process) does not count.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>

namespace cs::bench {

inline double seconds_per_call(const std::function<void()>& call) {
    using Clock = std::chrono::steady_clock;
    double best = 1e300;
    for (int repeat = 0; repeat < 5; ++repeat) {
        int calls = 0;
        const auto start = Clock::now();
        double elapsed = 0.0;
        do {
            call();
            ++calls;
            elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        } while (elapsed < 0.2);
        best = std::min(best, elapsed / calls);
    }
    return best;
}

}  // namespace cs::bench
