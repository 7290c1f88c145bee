#!/usr/bin/env bash
# Toy experiment speed: runs `surrogate-toy bench` (processor time of one thread for
# one million generated jets, tagger included, and one million truth draws) several
# times and prints every run and the median of each rate, since a shared machine
# moves single runs by 20 %.
#
#   bench/bench_toy.sh [build folder] [runs]      (default: build, 5 runs)
set -euo pipefail
build="${1:-build}"
runs="${2:-5}"
program="$build/toy/surrogate-toy"
if [[ ! -x "$program" ]]; then
    echo "bench_toy: no $program; build the project first (cmake --build $build)" >&2
    exit 1
fi
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((run = 1; run <= runs; ++run)); do
    "$program" bench 2> /dev/null | tee -a "$results"
done
python3 - "$results" <<'MEDIAN'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    name, value = line.split()
    rates.setdefault(name, []).append(float(value))
for name, values in rates.items():
    print(f"median {name} {statistics.median(values):.0f} "
          f"(min {min(values):.0f}, max {max(values):.0f}, {len(values)} runs)")
MEDIAN
