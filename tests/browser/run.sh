#!/usr/bin/env bash
# Runs the page's tests in Debian's Chromium: installs playwright-core from the
# lockfile (no browser download), puts the page together in BUILD_WASM/page, serves
# it on 127.0.0.1 and drives it. Screenshots and timings go to BUILD_WASM/browser-artifacts.
# Usage: tests/browser/run.sh BUILD_NATIVE BUILD_WASM
set -euo pipefail
if (($# != 2)); then
    echo "usage: $0 BUILD_NATIVE BUILD_WASM" >&2
    exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
native="$(cd "$1" && pwd)"
wasm="$(cd "$2" && pwd)"
surrogate="$native/tools/surrogate"

(cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
"$root/web/assemble.sh" "$wasm/page" "$surrogate" "$wasm"

# A free port on 127.0.0.1, then a static server that is stopped however this ends.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$wasm/page" \
    > "$wasm/page-server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" \
        2>/dev/null; then
        break
    fi
    sleep 0.1
done

node "$here/page.test.mjs" --url "http://127.0.0.1:$port/" --surrogate "$surrogate" \
    --file "$wasm/page/surrogates/demonstration.surrogate" \
    --published "$wasm/page/surrogates/toy-variational.surrogate" \
    --artifacts "$wasm/browser-artifacts"
