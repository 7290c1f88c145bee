#!/usr/bin/env bash
# Runs the page's tests in Debian's Chromium: installs playwright-core from the
# lockfile (no browser download), puts the page together in BUILD_WASM/page, serves
# it on 127.0.0.1 and drives it. Screenshots go to BUILD_WASM/browser-artifacts.
# Usage: tests/browser/run.sh BUILD_NATIVE BUILD_WASM
set -euo pipefail
if (($# != 2)); then
    echo "usage: $0 BUILD_NATIVE BUILD_WASM" >&2
    exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=serve.sh
source "$here/serve.sh"
serve_page "$1" "$2"
native="$(cd "$1" && pwd)"
wasm="$(cd "$2" && pwd)"

node "$here/page.test.mjs" --url "$page_url" --surrogate "$native/tools/surrogate" \
    --file "$wasm/page/surrogates/demonstration.surrogate" \
    --published "$wasm/page/surrogates/toy-variational.surrogate" \
    --artifacts "$wasm/browser-artifacts"
