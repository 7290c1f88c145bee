#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds and tests with.
# Usage: scripts/install-deps.sh [core|all]
#   core: compiler, CMake, Eigen, cereal, Catch2, HDF5 (runtime, data, tests)
#   all:  core plus LibTorch with OpenBLAS, Emscripten, Chromium, pandas
set -euo pipefail

profile="${1:-all}"

packages=(
    build-essential cmake pkg-config clang-format
    libeigen3-dev libcereal-dev rapidjson-dev catch2
    libhdf5-dev
    git
)
if [[ "$profile" == "all" ]]; then
    # OpenBLAS replaces the reference BLAS that Debian's LibTorch links by
    # default: a small training loop runs several times faster with it.
    packages+=(
        libtorch-dev libopenblas0-pthread
        emscripten binaryen
        chromium
        python3-pandas python3-tables python3-numpy
    )
    # The page's plotting library and the browser tests come from npm. A Node.js
    # already on the path (as on the CI machines) is kept; otherwise Debian's.
    if ! command -v npm > /dev/null; then
        packages+=(nodejs npm)
    fi
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} == 0)); then
    exit 0
fi

echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
