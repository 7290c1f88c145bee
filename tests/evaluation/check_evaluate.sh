#!/usr/bin/env bash
# surrogate-evaluate end to end on a small toy sample with the demonstration
# surrogate: the results file holds every measure with values in range, and bad
# input is a one-line error with a non-zero exit and no output file.
set -euo pipefail
evaluate="$1"
surrogate="$2"
toy="$3"
work="$4"
rm -rf "$work"
mkdir -p "$work"
cd "$work"

"$toy" generate --output-dir . --train 0 --validation 0 --test 600 --seed 5 2> /dev/null
"$surrogate" demo-file --output demo.surrogate --members 3 2> /dev/null
"$evaluate" demo.surrogate --data toy_test.h5 --spread-jets 40 --truth toy --truth-jets 10 \
    --truth-draws 500 --output results.json --report report 2> progress.txt
for figure in coverage shift_spread shift_accuracy jet_top jet_qcd condition_jet_pt; do
    grep -q "<svg" "report/$figure.svg"
done
grep -q "<h1>Evaluation" report/report.html

/usr/bin/python3 - <<'PY'
import json, math
results = json.load(open("results.json"))
assert results["jets"] == 600, results["jets"]
for key in ("surrogate_mean", "surrogate_sampled", "tagger"):
    assert 0.0 <= results["accuracy"][key] <= 1.0, key
coverage = results["coverage"]
assert len(coverage["levels"]) == 50 and len(coverage["ensemble"]) == 50
assert len(coverage["members"]) == 3
assert all(a <= b for a, b in zip(coverage["ensemble"], coverage["ensemble"][1:]))
assert 0.5 <= results["roc_area"]["tagger"] <= 1.0
assert 0.0 <= results["score_histogram_js_distance"] <= 1.0
shifts = results["shift_study"]
assert [s["shift"] for s in shifts] == [1, 1.25, 1.5, 2, 3]
# The demonstration's members drift apart away from the centre of the conditions.
assert shifts[-1]["epistemic_std_mean"] > shifts[0]["epistemic_std_mean"]
assert shifts[-1]["out_of_support_share"] > shifts[0]["out_of_support_share"]
truth = results["truth"]
assert truth["jets"] + truth["skipped_jets"] == 10
assert 0.0 <= truth["wasserstein1_median"] <= 1.0
assert set(truth["tag_probability_error"]) == {"cut_0.1", "cut_0.5", "cut_0.9"}
print("results file complete")
PY

# bad input: a missing score column
if "$evaluate" demo.surrogate --data toy_test.h5 --score-column no_such_score \
    --output bad.json 2> error.txt; then
    echo "FAILED: a missing score column was accepted" >&2
    exit 1
fi
grep -q "no_such_score" error.txt
[[ $(wc -l < error.txt) -eq 1 && ! -e bad.json ]]
echo "evaluation check passed"
