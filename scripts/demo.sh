#!/usr/bin/env bash
# Installs what is missing, builds the runtime and its command, and shows the command
# on the demonstration surrogate. No trained surrogate is published yet: the file
# used here is written by the build for this purpose and mimics no real tagger.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh core

cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DCS_TRAINER=OFF -DCS_BUILD_TESTS=OFF \
      -DCS_BUILD_BENCH=OFF > build-demo.log
cmake --build build-demo -j "${CS_JOBS:-2}" --target surrogate >> build-demo.log
surrogate=build-demo/tools/surrogate

mkdir -p build-demo/demo
$surrogate demo-file --output build-demo/demo/demonstration.surrogate
echo
$surrogate inspect build-demo/demo/demonstration.surrogate
echo
$surrogate verify build-demo/demo/demonstration.surrogate

cat > build-demo/demo/jets.csv <<'JETS'
label_top,jet_pt,jet_eta,jet_phi,jet_energy,jet_nparticles
1,640,0.3,-1.2,900,50
0,640,0.3,-1.2,900,50
0,2500,0.3,-1.2,3500,50
JETS
echo
echo "query: a top jet, a QCD jet, and a QCD jet far above the training range in pt"
$surrogate query build-demo/demo/demonstration.surrogate --input build-demo/demo/jets.csv \
    --levels 0.16,0.5,0.84 --cuts 0.5 --format json
