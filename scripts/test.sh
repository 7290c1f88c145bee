#!/usr/bin/env bash
# Installs what is missing, builds everything with warnings as errors and runs all
# tests: the native build (runtime, data, toy experiment, trainer, tools) and the
# WebAssembly build of the runtime, whose tests run under Node.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh all

jobs="${CS_JOBS:-2}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCS_WERROR=ON
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

# Debian's Emscripten needs Debian's node modules (acorn) on the path (TOOLCHAIN.md).
export NODE_PATH=/usr/share/nodejs
emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release -DCS_WERROR=ON > build-wasm.log
cmake --build build-wasm -j "$jobs"
ctest --test-dir build-wasm --output-on-failure -j "$jobs"

# The page in Debian's Chromium (playwright-core from npm, no browser download).
tests/browser/run.sh build build-wasm
