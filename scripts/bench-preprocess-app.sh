#!/usr/bin/env bash
# `ecgbench-preprocess` as a user runs it (whole process: read, filter, resample, segment, write
# shards and index) beside the upstream-style Python pipeline (benchmarks/python/preprocess_reference.py,
# Debian python3-scipy / -pywt), on the same 500 PTB-XL records (copies of the ten real 500 Hz records
# in ../shared/data/ptbxl), one core each, page cache warm, in one run. Ours: best of RUNS; the peer:
# one run (it takes 7-15 s and varies less than our sub-second runs).
#   bash scripts/bench-preprocess-app.sh [BUILD_DIR]     N=500 RUNS=5 CHAINS="none paper"
set -euo pipefail
build=${1:-build}
n=${N:-500}
runs=${RUNS:-5}
chains=${CHAINS:-none paper}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" benchmarks/python/preprocess_reference.py make-data --out "$work/data" --n "$n" >&2
cat "$work"/data/records500/*/*.dat >/dev/null  # page cache warm for both
now() { date +%s%N; }  # ns
echo "| chain | ecgbench-preprocess --jobs 1 | Python peer | ratio |"
echo "|---|---|---|---|"
for chain in $chains; do
  best=
  for ((i = 0; i < runs; i++)); do
    rm -rf "$work/ours"
    t0=$(now)
    "$build/apps/ecgbench-preprocess" --base-data ptb --data-dir "$work/data" --out "$work/ours" --filter "$chain" --jobs 1 --quiet >/dev/null
    t=$(($(now) - t0))
    if [[ -z $best ]] || ((t < best)); then best=$t; fi
  done
  rm -rf "$work/ref"
  "$py" benchmarks/python/preprocess_reference.py run --data-dir "$work/data" --out "$work/ref" --filter "$chain" --json "$work/ref.json" >/dev/null
  peer=$("$py" -c "import json; print(json.load(open('$work/ref.json'))['seconds'])")
  "$py" -c "n=$n; o=$best * 1e-9; p=$peer; print(f'| {\"$chain\"} | {o:.3f} s, {n / o:.0f} records/s | {p:.2f} s, {n / p:.1f} records/s | {p / o:.1f}x |')"
done
