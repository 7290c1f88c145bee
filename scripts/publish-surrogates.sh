#!/usr/bin/env bash
# Reproduces the published surrogates under models/published from nothing, with
# fixed seeds: generates the toy experiment, trains a point estimate (CFM) and a
# variational surrogate, runs an AdamMCMC chain from the point estimate, evaluates
# all three against the tagger and the exact truth, and writes their model cards. Usage: scripts/publish-surrogates.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
output="${1:-models/published}"
work="${CS_PUBLISH_WORK:-build-publish/work}"
epochs="${CS_PUBLISH_EPOCHS:-150}"
start=$(date +%s)

# CS_PUBLISH_BUILD names an existing build folder to take the programs from.
bin="${CS_PUBLISH_BUILD:-build-publish}"
if [[ -z "${CS_PUBLISH_BUILD:-}" ]]; then
    scripts/install-deps.sh all
    cmake -S . -B build-publish -DCMAKE_BUILD_TYPE=Release -DCS_BUILD_TESTS=OFF \
          -DCS_BUILD_BENCH=OFF > build-publish.log
    cmake --build build-publish -j "${CS_JOBS:-2}" \
          --target surrogate surrogate-toy surrogate-train surrogate-evaluate >> build-publish.log
fi
mkdir -p "$work" "$output"

echo "toy experiment: 200 000 training and 20 000 test jets (seed 2024)"
"$bin/toy/surrogate-toy" generate --output-dir "$work" --train 200000 --validation 0 \
    --test 20000 --seed 2024

train() {
    local name="$1"
    shift
    echo "training $name ($epochs epochs)"
    "$bin/trainer/surrogate-train" fit --data "$work/toy_train.h5" --epochs "$epochs" \
        --batch-size 4096 --learning-rate 0.002 --schedule cosine --seed 2024 \
        --tagger "the toy experiment's likelihood-ratio tagger (jet_p_top_ParT_full)" \
        --output "$work/$name.surrogate" --metrics "$work/$name.metrics.jsonl" "$@"
}
train toy-cfm --method cfm \
    --description "Point estimate of the reference flow trained with conditional flow matching."
train toy-variational --method variational --draws 10 \
    --description "Mean-field variational posterior (Bayes by backprop): its mean and 10 draws."

# The chain starts at the point estimate and keeps 10 states 40 steps apart: the
# reference's step (lambda 50, sigma 0.05 / sqrt(n), Adam lr 5e-6) on minibatches
# of 1 024 rows, about 1 s a step on one core.
echo "AdamMCMC chain from toy-cfm (400 steps)"
"$bin/trainer/surrogate-train" mcmc --start "$work/toy-cfm.surrogate" \
    --data "$work/toy_train.h5" --batch-size 1024 --thin 40 --members 10 --seed 2024 \
    --output "$work/toy-adam-mcmc.surrogate" --metrics "$work/toy-adam-mcmc.metrics.jsonl"

for name in toy-cfm toy-variational toy-adam-mcmc; do
    echo "evaluating $name"
    "$bin/evaluation/surrogate-evaluate" "$work/$name.surrogate" --data "$work/toy_test.h5" \
        --max-jets 20000 --spread-jets 400 --truth toy --truth-jets 300 --truth-draws 2000 \
        --seed 2024 --output "$work/$name.evaluation.json" --report "$work/$name.report"
    "$bin/tools/surrogate" inspect "$work/$name.surrogate" > "$work/$name.card.txt"
    "$bin/tools/surrogate" inspect "$work/$name.surrogate" --format json > "$work/$name.card.json"
    for suffix in surrogate evaluation.json card.txt card.json metrics.jsonl; do
        cp "$work/$name.$suffix" "$output/$name.$suffix"
    done
    rm -rf "$output/$name.report"
    cp -r "$work/$name.report" "$output/$name.report"
done
echo "published to $output in $(( $(date +%s) - start )) s"
