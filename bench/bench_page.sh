#!/usr/bin/env bash
# The page's speed in Debian's headless Chromium, as a visitor meets it: the time from
# opening the page to its first answer, single-jet answers of a published 11-member
# surrogate (99 quantiles, one tag probability) and a CSV batch. Builds nothing: run
# it after scripts/test.sh (or the builds it makes) with the native and WebAssembly
# build folders.
# Usage: bench/bench_page.sh [BUILD_NATIVE [BUILD_WASM [QUERIES [BATCH_JETS]]]]
#        (defaults: build build-wasm 40 200; results also in BUILD_WASM/bench-page.json)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
native="${1:-$root/build}"
wasm="${2:-$root/build-wasm}"
for program in "$native/tools/surrogate" "$wasm/runtime/wasm/surrogate_wasm.wasm"; do
    if [[ ! -f "$program" ]]; then
        echo "$program is missing: build both folders first (scripts/test.sh does)" >&2
        exit 2
    fi
done
# shellcheck source-path=SCRIPTDIR source=../tests/browser/serve.sh
source "$root/tests/browser/serve.sh"
serve_page "$native" "$wasm"
node "$root/bench/bench_page.mjs" --url "$page_url" --queries "${3:-40}" \
    --batch "${4:-200}" --output "$(cd "$wasm" && pwd)/bench-page.json"
