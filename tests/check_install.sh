#!/usr/bin/env bash
# Installs the project into a scratch prefix, then builds examples/embed against the
# installed CMake package and runs it on the demonstration surrogate; also checks
# that pkg-config describes the same installation.
set -euo pipefail
source_dir="$1"
binary_dir="$2"
scratch="$binary_dir/install-check"
rm -rf "$scratch"
cmake --install "$binary_dir" --prefix "$scratch/prefix" > /dev/null
cmake -S "$source_dir/examples/embed" -B "$scratch/build" \
      -DCMAKE_PREFIX_PATH="$scratch/prefix" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$scratch/build" -j 2 > /dev/null
"$scratch/prefix/bin/surrogate" demo-file --output "$scratch/demo.surrogate" --members 3 2> /dev/null
output=$("$scratch/build/embed_surrogate" "$scratch/demo.surrogate")
echo "$output"
grep -q "P(score > 0.50) = 0.9" <<< "$output"
grep -q "out of support: no" <<< "$output"
PKG_CONFIG_PATH="$scratch/prefix/lib/pkgconfig" pkg-config --libs classifier-surrogates | grep -q cs_runtime
echo "install check passed"
