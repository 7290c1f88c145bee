#!/usr/bin/env bash
# The `surrogate` command as a user meets it: answers, one-line errors with a
# non-zero exit for bad input, and outputs that are never half written.
set -uo pipefail
surrogate="$1"
work="$2"
published="$(cd "$(dirname "$0")/.." && pwd)/models/published/toy-variational.surrogate"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
failures=0
passes=0

pass() { passes=$((passes + 1)); }
fail() { echo "FAILED: $1" >&2; failures=$((failures + 1)); }

# expect_error NAME PATTERN COMMAND...: exit status 1 and one stderr line matching PATTERN.
expect_error() {
    local name="$1" pattern="$2"
    shift 2
    if "$@" > out.txt 2> err.txt; then
        fail "$name: succeeded"
        return
    fi
    if [[ $(wc -l < err.txt) -ne 1 ]] || ! grep -q -- "$pattern" err.txt; then
        fail "$name: stderr was: $(cat err.txt)"
        return
    fi
    pass
}

"$surrogate" demo-file --output demo.surrogate --members 4 2> /dev/null || fail "demo-file"
header="label_top,jet_pt,jet_eta,jet_phi,jet_energy,jet_nparticles"
printf '%s\n1,640,0.3,-1.2,900,50\n0,700,-0.5,2.0,1000,30\n' "$header" > jets.csv

# answers
"$surrogate" query demo.surrogate --input jets.csv > query.csv || fail "query"
[[ $(wc -l < query.csv) -eq 3 ]] && pass || fail "query: expected a header and two rows"
grep -q "tag_probability_0.5" query.csv && pass || fail "query: no tag probability column"
"$surrogate" query demo.surrogate --input jets.csv --format json > query.json || fail "json"
grep -q '"out_of_support": 0' query.json && pass || fail "query --format json"
printf '{"label_top": 1, "jet_pt": 640, "jet_eta": 0.3, "jet_phi": -1.2, "jet_energy": 900, "jet_nparticles": 50}\n' > jet.json
"$surrogate" query demo.surrogate --input jet.json > from_json.csv || fail "json input"
# The first jet alone gives the same text from JSON and CSV, and the same as among
# other jets: each jet's rows take their own solver steps.
head -n 2 jets.csv > first.csv
"$surrogate" query demo.surrogate --input first.csv > from_csv.csv || fail "csv input"
cmp -s from_json.csv from_csv.csv && pass || fail "JSON and CSV input differ"
[[ $(head -n 2 query.csv) == $(cat from_csv.csv) ]] && pass ||
    fail "query: the first jet's answer changes with the jets after it"
"$surrogate" verify demo.surrogate > /dev/null && pass || fail "verify"
"$surrogate" inspect demo.surrogate | grep -q "jet_pt \[GeV\]" && pass || fail "inspect"
# a value of several lines (the trainer's whole configuration) is indented below its key
"$surrogate" inspect "$published" > card.txt || fail "inspect a published file"
grep -qx "  config:" card.txt && grep -qx "    batch-size = 4096" card.txt && pass ||
    fail "inspect: the configuration's lines are not indented below its key"
"$surrogate" inspect demo.surrogate --format json |
    /usr/bin/python3 -c "import json, sys; card = json.load(sys.stdin); assert card['members'] == {'demonstration': 4}" &&
    pass || fail "inspect --format json"

# sampling is reproducible and shards by jet index, to the printed digit
"$surrogate" sample demo.surrogate --input jets.csv --n 5 --seed 3 > a.csv
"$surrogate" sample demo.surrogate --input jets.csv --n 5 --seed 3 > b.csv
cmp -s a.csv b.csv && pass || fail "sample: same seed, different output"
printf '%s\n0,700,-0.5,2.0,1000,30\n' "$header" > second.csv
"$surrogate" sample demo.surrogate --input second.csv --n 5 --seed 3 --first-jet 1 > shard.csv
[[ $(tail -n 5 a.csv) == $(tail -n 5 shard.csv) ]] && pass ||
    fail "sample: a shard samples differently from the whole file"

# bad input
printf 'label_top,jet_pt,jet_eta,jet_phi,jet_energy\n1,640,0.3,-1.2,900\n' > missing.csv
expect_error "missing column" 'missing column "jet_nparticles"' \
    "$surrogate" query demo.surrogate --input missing.csv
printf '%s,jet_mass\n1,640,0.3,-1.2,900,50,170\n' "$header" > unknown.csv
expect_error "unknown column" 'unknown column "jet_mass"' \
    "$surrogate" query demo.surrogate --input unknown.csv
printf '%s\n1,640,nan,-1.2,900,50\n' "$header" > nan.csv
expect_error "NaN" "jet_eta" "$surrogate" query demo.surrogate --input nan.csv
printf '%s\n1,640,inf,-1.2,900,50\n' "$header" > inf.csv
expect_error "infinite" "jet_eta" "$surrogate" query demo.surrogate --input inf.csv
printf '%s\n1,640,0.3\n' "$header" > short.csv
expect_error "wrong count" "3 values for 6 columns" "$surrogate" query demo.surrogate --input short.csv
printf '%s\n1,640,abc,-1.2,900,50\n' "$header" > text.csv
expect_error "not a number" '"abc" is not a number' "$surrogate" query demo.surrogate --input text.csv
expect_error "unreadable jets" "cannot open" "$surrogate" query demo.surrogate --input nowhere.csv
expect_error "unreadable file" "cannot open" "$surrogate" inspect nowhere.surrogate
head -c 3000 demo.surrogate > truncated.surrogate
expect_error "truncated file" "checksum" "$surrogate" verify truncated.surrogate
printf 'not a surrogate' > text.surrogate
expect_error "wrong magic" "magic" "$surrogate" verify text.surrogate
expect_error "bad cut" "strictly between 0 and 1" \
    "$surrogate" query demo.surrogate --input jets.csv --cuts 1.5
printf '{"label_top": 1,' > broken.json
expect_error "broken JSON" "invalid JSON" "$surrogate" query demo.surrogate --input broken.json

# a failed command leaves no output file behind
"$surrogate" query demo.surrogate --input missing.csv --output result.csv 2> /dev/null
[[ ! -e result.csv && ! -e result.csv.partial ]] && pass || fail "partial output left behind"
"$surrogate" query demo.surrogate --input jets.csv --output result.csv && [[ -s result.csv ]] &&
    pass || fail "--output"

# usage errors exit with 2
"$surrogate" frobnicate > /dev/null 2>&1
[[ $? -eq 2 ]] && pass || fail "unknown command should exit 2"

echo "$passes passed, $failures failed"
[[ $failures -eq 0 ]]
