#!/usr/bin/env bash
# Puts together the static page in OUT: the files of web/, the plotting library from
# npm (installed from the lockfile), the WebAssembly module and the published
# surrogates, of which there is only the demonstration file for now, written here by
# the native command. Usage: web/assemble.sh OUT SURROGATE_COMMAND WASM_BUILD_DIR
set -euo pipefail
if (($# != 3)); then
    echo "usage: $0 OUT SURROGATE_COMMAND WASM_BUILD_DIR" >&2
    exit 2
fi
web="$(cd "$(dirname "$0")" && pwd)"
out="$1"
surrogate="$2"
module_dir="$3/runtime/wasm"

for needed in "$surrogate" "$module_dir/surrogate_wasm.mjs" "$module_dir/surrogate_wasm.wasm"; do
    if [[ ! -e "$needed" ]]; then
        echo "$0: $needed is missing; build it first" >&2
        exit 1
    fi
done

# The plotting library, exactly as the lockfile pins it.
if [[ ! -f "$web/node_modules/uplot/dist/uPlot.esm.js" ]]; then
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
fi

rm -rf "$out"
mkdir -p "$out/vendor" "$out/wasm" "$out/surrogates"
cp "$web"/index.html "$web"/*.js "$web"/style.css "$out/"
cp "$web/node_modules/uplot/dist/uPlot.esm.js" "$web/node_modules/uplot/dist/uPlot.min.css" \
   "$web/node_modules/uplot/LICENSE" "$out/vendor/"
cp "$module_dir/surrogate_wasm.mjs" "$module_dir/surrogate_wasm.wasm" "$out/wasm/"
cp "$web/surrogates/index.json" "$out/surrogates/"
"$surrogate" demo-file --output "$out/surrogates/demonstration.surrogate" 2>/dev/null
