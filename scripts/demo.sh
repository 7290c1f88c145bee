#!/usr/bin/env bash
# The main job: installs what is missing, builds the WebAssembly runtime and the page,
# and serves the page on 127.0.0.1 with the published surrogates of models/published
# (and the demonstration file, which mimics no tagger). Usage: scripts/demo.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/serve-page.sh "$@"
