#!/usr/bin/env bash
# Installs what is missing, builds everything with warnings as errors and runs all tests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh all

jobs="${CS_JOBS:-2}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCS_WERROR=ON
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"
