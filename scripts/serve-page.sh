#!/usr/bin/env bash
# Builds what the page needs (the WebAssembly runtime, and the native command that
# writes the demonstration surrogate), puts the page together and serves it on
# 127.0.0.1. The demonstration file is written for trying the page: it mimics no real
# tagger. Usage: scripts/serve-page.sh [PORT]   (default 8000; CS_JOBS sets build jobs)
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-8000}"
jobs="${CS_JOBS:-2}"

scripts/install-deps.sh core
if ! command -v emcc > /dev/null || ! command -v npm > /dev/null; then
    scripts/install-deps.sh all
fi
if ! command -v npm > /dev/null; then
    echo "serve-page: npm is needed for the page's plotting library (uPlot); install Node.js" >&2
    exit 1
fi

# The native command, configured as scripts/demo.sh configures it.
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DCS_TRAINER=OFF -DCS_BUILD_TESTS=OFF \
      -DCS_BUILD_BENCH=OFF > build-demo.log
cmake --build build-demo -j "$jobs" --target surrogate >> build-demo.log

# Debian's Emscripten needs Debian's node modules (acorn) on the path (TOOLCHAIN.md).
export NODE_PATH=/usr/share/nodejs
emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release -DCS_WERROR=ON > build-wasm.log
cmake --build build-wasm -j "$jobs" --target surrogate_wasm >> build-wasm.log
cmake -DWASM=build-wasm/runtime/wasm/surrogate_wasm.wasm -P runtime/wasm/report-size.cmake

web/assemble.sh build-wasm/page build-demo/tools/surrogate build-wasm
echo "the page: http://127.0.0.1:$port/  (the published surrogates and a demonstration file;" \
     "Ctrl-C stops the server)"
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory build-wasm/page
