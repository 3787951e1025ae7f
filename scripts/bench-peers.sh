#!/usr/bin/env bash
# Our benchmarks and their Python peers (benchmarks/python/*_reference.py, Debian python3-torch,
# -matplotlib, -pil, -scipy, -pywt), one after the other on this machine with the same thread count,
# printed side by side. The figures in benchmarks/README.md come from this script.
#   bash scripts/bench-peers.sh [BUILD_DIR]     THREADS=1 (default), ONLY="train elm represent rag"
set -euo pipefail
build=${1:-build}
threads=${THREADS:-1}
only=${ONLY:-train elm represent rag}
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
py=/usr/bin/python3
declare -A peer=([train]=encoders_reference.py [elm]=elm_reference.py [represent]=render_reference.py [rag]=features_reference.py)
for b in $only; do
  echo "== bench_$b" >&2
  "$build/benchmarks/bench_$b" --benchmark_format=json --benchmark_out="$out/$b.cpp.json" --benchmark_out_format=json >/dev/null
  "$py" "benchmarks/python/${peer[$b]}" --json "$out/$b.py.json" >&2
done
"$py" - "$out" "$threads" $only <<'PY'
import json, os, sys
out, threads, groups = sys.argv[1], sys.argv[2], sys.argv[3:]
# (C++ benchmark, Python key, Python value -> seconds)
rows = {
    "train": [("BM_StMemForward", "st_mem_forward", lambda v: v["seconds"]), ("BM_MerlForward", "merl_forward", lambda v: v["seconds"]),
              ("BM_AdamWStep", "adamw_step", lambda v: v["seconds"])],
    "elm": [("BM_EcgByteTrainStep", "ecg_byte_train_step", lambda v: v["seconds"]), ("BM_LlavaTrainStep", "llava_train_step", lambda v: v["seconds"]),
            ("BM_Generate/1", "generate_b1", lambda v: v["seconds"]), ("BM_Generate/8", "generate_b8", lambda v: v["seconds"])],
    "represent": [("BM_EcgPlot", "ecg_plot", lambda v: v), ("BM_EcgPlotVitInput", "ecg_plot_vit_input", lambda v: v), ("BM_StackedVitInput", "stacked_vit_input", lambda v: v)],
    "rag": [("BM_RagFeatures", "rag_features", lambda v: v), ("BM_Features", "features", lambda v: v)],
}
unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
print(f"threads {threads}")
print(f"| {'benchmark':22s} | {'C++ (ours)':>12s} | {'Python':>12s} | {'ratio':>6s} |")
print("|---|---|---|---|")
for g in groups:
    cpp = {b["name"].replace("/real_time", "").split("/min_time")[0].split("/iterations")[0]: b for b in json.load(open(os.path.join(out, g + ".cpp.json")))["benchmarks"]}
    py = json.load(open(os.path.join(out, g + ".py.json")))
    for name, key, sec in rows[g]:
        b = cpp[name]
        c = b["real_time"] * unit[b["time_unit"]]
        p = sec(py[key])
        print(f"| {key:22s} | {c * 1e3:9.2f} ms | {p * 1e3:9.2f} ms | {p / c:5.2f}x |")
    for name, b in cpp.items():
        extra = {k: v for k, v in b.items() if k.endswith("_ms") or k.endswith("_us") or k in ("tokens/s", "steps/s", "vectors/s", "queries/s")}
        if extra and g in ("elm", "rag"):
            print(f"  {name}: " + ", ".join(f"{k} {v:.3g}" for k, v in extra.items()))
    for key, v in py.items():
        if isinstance(v, dict) and any(k.endswith("_ms") for k in v):
            print(f"  python {key}: " + ", ".join(f"{k} {x:.3g}" for k, x in v.items() if k.endswith("_ms")))
PY
