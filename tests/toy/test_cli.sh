#!/usr/bin/env bash
# The surrogate-toy command: help, files per split, truth on stdout, one-line errors
# with a non-zero status, and no temporary files left behind.
set -euo pipefail
tool=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
    echo "test_cli: $*" >&2
    exit 1
}

"$tool" --help | grep -q "usage: surrogate-toy" || fail "--help"

# files per split, nothing else in the directory, reproducible bytes
"$tool" generate --output-dir "$dir/a" --train 3000 --validation 200 --test 0 --seed 4 2>/dev/null
"$tool" generate --output-dir "$dir/b" --train 3000 --validation 200 --test 0 --seed 4 2>/dev/null
[ "$(ls -A "$dir/a" | tr '\n' ' ')" = "toy_train.h5 toy_validation.h5 " ] || fail "files written"
cmp -s "$dir/a/toy_train.h5" "$dir/b/toy_train.h5" || fail "same seed, different bytes"
"$tool" generate --output-dir "$dir/c" --format csv --train 500 --validation 0 --test 0 2>/dev/null
head -1 "$dir/c/toy_train.csv" | grep -q "^label_top,jet_pt,jet_eta," || fail "CSV header"
[ "$(wc -l < "$dir/c/toy_train.csv")" -eq 501 ] || fail "CSV rows"

# truth: data on stdout only
out=$("$tool" truth --label 1 --pt 650 --eta 0.3 --energy 700 --nparticles 50 --draws 2000 \
    2>"$dir/messages")
echo "$out" | grep -q "^quantile 0.5 0\.9" || fail "truth median of a top jet"
[ ! -s "$dir/messages" ] || fail "truth wrote messages"
rows=$("$tool" truth --input "$dir/a/toy_train.h5" --count 5 --draws 200 | wc -l)
[ "$rows" -eq 6 ] || fail "truth per row: $rows lines"

# errors: one line, non-zero status
expect_error() {
    local pattern=$1
    shift
    if "$tool" "$@" >/dev/null 2>"$dir/error"; then
        fail "no error for: $*"
    fi
    [ "$(wc -l < "$dir/error")" -eq 1 ] || fail "error is not one line: $(cat "$dir/error")"
    grep -q "$pattern" "$dir/error" || fail "error lacks '$pattern': $(cat "$dir/error")"
}
expect_error "positive mass" truth --label 1 --pt 650 --eta 0.3 --energy 600 --nparticles 50
expect_error "unknown option --bogus" generate --output-dir "$dir/d" --bogus 1
expect_error "no such file" truth --input "$dir/missing.h5"
expect_error "missing --pt" truth --label 1 --eta 0 --energy 700 --nparticles 50
expect_error "unknown command" frobnicate
echo "surrogate-toy behaves as documented"
