#!/usr/bin/env bash
# Puts together the static page in OUT: the files of web/, the plotting library from
# npm (installed from the lockfile), the WebAssembly module, the published surrogates
# of models/published if there are any, and the demonstration file, written here by
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
    (cd "$web" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
fi

rm -rf "$out"
mkdir -p "$out/vendor" "$out/wasm" "$out/surrogates"
cp "$web"/index.html "$web"/*.js "$web"/style.css "$out/"
cp "$web/node_modules/uplot/dist/uPlot.esm.js" "$web/node_modules/uplot/dist/uPlot.min.css" \
   "$web/node_modules/uplot/LICENSE" "$out/vendor/"
cp "$module_dir/surrogate_wasm.mjs" "$module_dir/surrogate_wasm.wasm" "$out/wasm/"
"$surrogate" demo-file --output "$out/surrogates/demonstration.surrogate" 2>/dev/null

# Published surrogates (models/published, from scripts/publish-surrogates.sh) come
# first in the list, the demonstration file after them.
# CS_PUBLISHED_DIR names another folder of published files.
published="${CS_PUBLISHED_DIR:-$web/../models/published}"
python3 - "$web/surrogates/index.json" "$published" "$out/surrogates" <<'LIST'
import json
import pathlib
import shutil
import sys

listed, published, out = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
entries = []
for path in sorted(published.glob("*.surrogate")):
    name = path.name[: -len(".surrogate")]
    title = f"{name} (published)"
    card = published / f"{name}.card.json"
    if card.exists():
        tagger = json.loads(card.read_text()).get("tagger", "")
        if tagger:
            title = f"{name}: mimics {tagger}"
    shutil.copyfile(path, out / path.name)
    entry = {"file": path.name, "title": title}
    # The evaluation report (figures and results) of scripts/publish-surrogates.sh.
    report = published / f"{name}.report"
    if (report / "report.html").exists():
        shutil.copytree(report, out.parent / "reports" / name, dirs_exist_ok=True)
        entry["report"] = f"reports/{name}/report.html"
    entries.append(entry)
index = json.loads(pathlib.Path(listed).read_text())
index["surrogates"] = entries + index["surrogates"]
(out / "index.json").write_text(json.dumps(index, indent=2) + "\n")
LIST
