# shellcheck shell=bash
# Sourced by tests/browser/run.sh and bench/bench_page.sh: serve_page BUILD_NATIVE
# BUILD_WASM installs playwright-core from its lockfile (no browser download), puts the
# page together in BUILD_WASM/page, serves it with Python's static server on a free
# port of 127.0.0.1 (stopped when the calling script exits) and sets page_url.
serve_page() {
    local here root wasm port
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    root="$(cd "$here/../.." && pwd)"
    wasm="$(cd "$2" && pwd)"
    (cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
    "$root/web/assemble.sh" "$wasm/page" "$(cd "$1" && pwd)/tools/surrogate" "$wasm"

    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')"
    python3 -m http.server "$port" --bind 127.0.0.1 --directory "$wasm/page" \
        > "$wasm/page-server.log" 2>&1 &
    page_server=$!
    trap 'kill "$page_server" 2>/dev/null || true' EXIT
    page_url="http://127.0.0.1:$port/"
    for _ in $(seq 50); do
        if python3 -c "import urllib.request; urllib.request.urlopen('$page_url')" 2>/dev/null
        then
            return 0
        fi
        sleep 0.1
    done
    echo "the page server did not answer on $page_url (log: $wasm/page-server.log)" >&2
    return 1
}
