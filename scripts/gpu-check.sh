#!/usr/bin/env bash
# The GPU verification, one prepared run (README "GPU"; benchmarks/README.md records the results).
#
#   scripts/gpu-check.sh --prepare     here (Debian, with apt): unpack the header-only build packages
#                                      into .gpu-deps/ and copy the goldens into .gpu-data/ (both
#                                      ignored by git; the device `run` carries them)
#   scripts/gpu-check.sh               on the GPU machine: every stage below, each under its own timeout
#   scripts/gpu-check.sh --dry-run     every stage on the CPU at toy size with this checkout's build
#                                      (BUILD, default build/); `make test` runs it so the script cannot rot
#
# Stages (STAGES=a,b reruns a subset; the build is kept while the machine is warm):
#   probe       versions (nvidia-smi, torch, CUDA, g++, cmake); host-to-device copy and a bf16 matmul
#               ceiling (8192^3, median of 10 after 3 warm-ups)
#   build       configure tests/gpu (the wheel's LibTorch, CUDA arch 90), build both targets -j16 + PCH;
#               on a failed configure, plain g++ with torch.utils.cpp_extension's paths
#   parity      golden LMs on the device: fp32 == goldens (1e-4), bf16 vs float64 (1e-2), greedy ids,
#               KV cache; a Llama-3.2-1B-shaped transformers checkpoint when transformers is there
#   sdpa        fused kernel choice, SDPA vs eager, masked padded batches
#   nccl        all-reduce, broadcast, one data-parallel step == the plain step (world size 1); batches
#               staged on a side stream train exactly as unstaged ones
#   throughput  bench_gpu_step beside PyTorch eager (same config and ids): tokens/s, phases, MFU
# Output: a table printed last and $OUT/gpu-report.json (OUT defaults to gpu-check-out/).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=device
case "${1:-}" in
  --dry-run) MODE=dry ;;
  --prepare) MODE=prepare ;;
  "") ;;
  *) echo "usage: $0 [--dry-run | --prepare]" >&2; exit 2 ;;
esac
# The first Python that has torch (the GPU image's python3; Debian's /usr/bin/python3 with python3-torch here).
if [[ -z ${PYTHON:-} ]]; then
  for p in python3 /usr/bin/python3; do
    if "$p" -c 'import torch, numpy' 2>/dev/null; then PYTHON=$p; break; fi
  done
  [[ -n ${PYTHON:-} ]] || for p in python3 /usr/bin/python3; do  # without PyTorch: no ceiling, no peer
    if "$p" -c 'import numpy' 2>/dev/null; then PYTHON=$p; break; fi
  done
fi
PY=${PYTHON:-python3}

if [[ $MODE == prepare ]]; then
  set -e
  deps=$ROOT/.gpu-deps
  rm -rf "$deps" && mkdir -p "$deps/debs"
  (cd "$deps/debs" && apt-get download catch2 libcli11-dev nlohmann-json3-dev)
  for d in "$deps"/debs/*.deb; do dpkg -x "$d" "$deps"; done
  rm -rf "$deps/debs"
  data=${ECGBENCH_TEST_DATA:-$ROOT/../shared/data}
  rm -rf "$ROOT/.gpu-data" && mkdir -p "$ROOT/.gpu-data/golden"
  for m in llama qwen2 gemma2 gpt2 opt; do cp -r "$data/golden/$m" "$ROOT/.gpu-data/golden/"; done
  du -sh "$deps" "$ROOT/.gpu-data"
  echo "gpu-check: prepared; carry .gpu-deps and .gpu-data with the device run"
  exit 0
fi

OUT=${OUT:-$ROOT/gpu-check-out}
mkdir -p "$OUT"
STAGES=${STAGES:-probe,build,parity,sdpa,nccl,throughput}
REPORT=$OUT/gpu-report.jsonl
: > "$REPORT"
if [[ $MODE == dry ]]; then
  BUILD=${BUILD:-$ROOT/build}
  TESTS=$BUILD/tests/ecgbench_gpu_tests
  BENCH=$BUILD/benchmarks/bench_gpu_step
  DEVICE=cpu
  CONFIG=$ROOT/resources/gpu/toy-ecg-byte.json
  SHAPE="--batch 2 --seq 64 --warmup 1 --steps 2"
  export ECGBENCH_TEST_DATA=${ECGBENCH_TEST_DATA:-$ROOT/../shared/data}
else
  BUILD=$ROOT/build-gpu
  TESTS=$BUILD/ecgbench_gpu_tests
  BENCH=$BUILD/bench_gpu_step
  DEVICE=cuda
  CONFIG=$ROOT/resources/gpu/llama-3.2-1b-ecg-byte.json
  SHAPE="--batch 16 --seq 1024 --warmup 5 --steps 20"
  export ECGBENCH_TEST_DATA=${ECGBENCH_TEST_DATA:-$ROOT/.gpu-data}
fi
export ECGBENCH_GPU_DEVICE=$DEVICE OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export ROOT OUT MODE PY BUILD TESTS BENCH DEVICE CONFIG SHAPE

# --- stages (each runs in its own bash under `timeout`; its last line "note: ..." lands in the table)
stage_probe() {
  set -e
  { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: none"; } 2>&1
  g++ --version | head -1
  cmake --version | head -1 || true
  if ! "$PY" -c 'import torch' 2>/dev/null; then
    [[ $MODE == dry ]] || { echo "no PyTorch in $PY"; exit 1; }
    echo "note: no PyTorch in $PY: ceiling not measured"
    return
  fi
  "$PY" - "$DEVICE" <<'EOF'
import sys, time, json
import torch
dev = torch.device(sys.argv[1])
print("torch", torch.__version__, "cuda", torch.version.cuda, "device", dev)
n = 8192 if dev.type == "cuda" else 256
sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)
host = torch.empty(256 << 20, dtype=torch.uint8).pin_memory() if dev.type == "cuda" else torch.empty(16 << 20, dtype=torch.uint8)
times = []
for i in range(5):
    sync(); t = time.perf_counter(); host.to(dev, non_blocking=False); sync(); times.append(time.perf_counter() - t)
copy_gbs = host.numel() / sorted(times)[len(times) // 2] / 1e9
dtype = torch.bfloat16 if dev.type == "cuda" else torch.float32
a = torch.randn(n, n, device=dev, dtype=dtype); b = torch.randn(n, n, device=dev, dtype=dtype)
for _ in range(3): a @ b
sync()
ts = []
for _ in range(10):
    t = time.perf_counter(); a @ b; sync(); ts.append(time.perf_counter() - t)
tflops = 2 * n**3 / sorted(ts)[5] / 1e12
json.dump({"matmul_tflops": tflops, "copy_gbs": copy_gbs, "n": n}, open(__import__("os").environ["OUT"] + "/ceiling.json", "w"))
print(f"note: matmul {n}^3 {str(dtype).split('.')[-1]} {tflops:.1f} TFLOP/s" + (f", host->device {copy_gbs:.1f} GB/s" if dev.type == "cuda" else ""))
EOF
}

stage_build() {
  set -e
  if [[ $MODE == dry ]]; then
    # This checkout's build already holds both targets (make test); configure the device project
    # against Debian's LibTorch so that its CMakeLists cannot rot, then build the two targets here.
    torch_dir=$(dirname "$(find /usr/lib /usr/share -name TorchConfig.cmake 2>/dev/null | head -1)")
    cmake -S "$ROOT/tests/gpu" -B "$OUT/build-gpu-configure" -DECGBENCH_CUDA=OFF -DTorch_DIR="$torch_dir" > "$OUT/configure.log" 2>&1 ||
      { tail -20 "$OUT/configure.log"; exit 1; }
    cmake --build "$BUILD" --target ecgbench_gpu_tests bench_gpu_step -j "$(nproc)"
    echo "note: tests/gpu configures; targets built in $BUILD"
    return
  fi
  prefix=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  deps=$ROOT/.gpu-deps/usr
  args=(-S "$ROOT/tests/gpu" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DECGBENCH_CUDA=ON -DTorch_DIR="$prefix/Torch"
        -DCMAKE_PREFIX_PATH="$deps;$prefix" -DCMAKE_CUDA_ARCHITECTURES=90 -DTORCH_CUDA_ARCH_LIST=9.0)
  nvtx=$("$PY" -c 'import nvidia, os; p = os.path.join(nvidia.__path__[0], "nvtx", "include"); print(p if os.path.isdir(p) else "")' 2>/dev/null || true)
  if cmake "${args[@]}" > "$OUT/configure.log" 2>&1 ||
     { grep -qi nvtx "$OUT/configure.log" && [[ -n $nvtx ]] && cmake "${args[@]}" -DUSE_SYSTEM_NVTX=ON -DCMAKE_INCLUDE_PATH="$nvtx" > "$OUT/configure.log" 2>&1; }; then
    cmake --build "$BUILD" -j 16
    echo "note: cmake build"
  else
    tail -15 "$OUT/configure.log"
    echo "configure failed: plain g++ with torch.utils.cpp_extension's paths"
    mapfile -t inc < <("$PY" -c '
import torch.utils.cpp_extension as e
try: p = e.include_paths(device_type="cuda")
except TypeError: p = e.include_paths(cuda=True)
print("\n".join(p))')
    lib=$("$PY" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
    abi=$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
    flags=(-std=c++20 -O2 -D_GLIBCXX_USE_CXX11_ABI="$abi" -DUSE_DISTRIBUTED -DUSE_C10D_GLOO -DUSE_C10D_NCCL -DECGBENCH_CUDA=1
           -DECGBENCH_SOURCE_DIR="\"$ROOT\"" -I"$ROOT/include" -I"$ROOT/tests" -I"$deps/include" "${inc[@]/#/-I}")
    libs=(-L"$lib" -Wl,-rpath,"$lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -ltorch_cuda -lc10 -lc10_cuda -Wl,--as-needed -lpthread)
    mkdir -p "$BUILD"
    g++ "${flags[@]}" "$ROOT/tests/main.cpp" "$ROOT/tests/gpu/gpu_test.cpp" -o "$TESTS" "${libs[@]}" &
    g++ "${flags[@]}" "$ROOT/benchmarks/bench_gpu_step.cpp" -o "$BENCH" "${libs[@]}" &
    wait -n && wait -n
    echo "note: g++ fallback build"
  fi
}

stage_parity() {
  set -e
  "$TESTS" "[gpu][parity]" --durations yes
  hf=$OUT/hf-llama-1b
  hf_config=$CONFIG
  if "$PY" "$ROOT/tests/gpu/make_hf_llama.py" --config "$hf_config" --out "$hf" --device "$DEVICE"; then
    ECGBENCH_GPU_HF_DIR=$hf "$TESTS" "[.hf1b]"
    echo "note: 5 golden LMs + transformers $(cat "$hf/made_by.json")"
  else
    echo "note: 5 golden LMs; transformers comparison not run (transformers not importable)"
  fi
}

stage_sdpa() {
  set -e
  "$TESTS" "[gpu][sdpa]" -s 2>&1 | grep -E "gpu-check|passed|failed|FAILED" || true
  "$TESTS" "[gpu][sdpa]" > /dev/null
  echo "note: $("$PY" -c 'import torch; print("sdpa checks on torch", torch.__version__)' 2>/dev/null || echo ok)"
}

stage_nccl() {
  set -e
  "$TESTS" "[gpu][nccl]"
  "$TESTS" "[gpu][stage]"
  echo "note: $([[ $DEVICE == cpu ]] && echo "gloo (CPU dry run)" || echo nccl) at world size 1; staged batches == unstaged"
}

stage_throughput() {
  set -e
  ids=$OUT/ids.npy
  read -r batch seq warm steps <<< "$(echo "$SHAPE" | awk '{print $2, $4, $6, $8}')"
  "$PY" "$ROOT/benchmarks/python/gpu_step_reference.py" make-ids --config "$CONFIG" --batch "$batch" --seq "$seq" --out "$ids"
  measured=$("$PY" -c 'import json, os; print(json.load(open(os.environ["OUT"] + "/ceiling.json"))["matmul_tflops"])' 2>/dev/null || echo 0)
  # shellcheck disable=SC2086
  "$BENCH" --config "$CONFIG" --device "$DEVICE" $SHAPE --ids "$ids" --measured-tflops "$measured" --out "$OUT/ours.json"
  "$PY" "$ROOT/benchmarks/python/gpu_step_reference.py" run --config "$CONFIG" --ids "$ids" --device "$DEVICE" --warmup "$warm" --steps "$steps" \
    --out "$OUT/peer.json" || echo "peer failed"
  "$PY" - <<'EOF'
import json, os
o = json.load(open(os.environ["OUT"] + "/ours.json"))
try: p = json.load(open(os.environ["OUT"] + "/peer.json"))
except Exception: p = {"skipped": "no report"}
s = f"ours {o['tokens_per_s']:.0f} tok/s (fwd {o['forward_ms']:.1f} / bwd {o['backward_ms']:.1f} / opt {o['optimizer_ms']:.1f} ms), MFU {100 * o['mfu_vs_peak']:.1f}% of {o['peak_tflops']:.0f}"
if "mfu_vs_measured" in o: s += f" / {100 * o['mfu_vs_measured']:.1f}% of measured"
s += "; eager " + (p["skipped"] if "skipped" in p else f"{p['tokens_per_s']:.0f} tok/s, ratio {o['tokens_per_s'] / p['tokens_per_s']:.2f}x")
print("note: " + s)
EOF
}
export -f stage_probe stage_build stage_parity stage_sdpa stage_nccl stage_throughput

declare -A LIMIT=([probe]=60 [build]=300 [parity]=90 [sdpa]=60 [nccl]=60 [throughput]=240)
failed=0
for s in probe build parity sdpa nccl throughput; do
  [[ ",$STAGES," == *",$s,"* ]] || continue
  echo "gpu-check: == $s (limit ${LIMIT[$s]} s)"
  t0=$(date +%s.%N)
  timeout "${LIMIT[$s]}" bash -c "stage_$s" > "$OUT/$s.log" 2>&1
  rc=$?
  dt=$(echo "$(date +%s.%N) - $t0" | bc)
  tail -25 "$OUT/$s.log"
  note=$(grep '^note: ' "$OUT/$s.log" | tail -1 | cut -c7-)
  [[ $rc == 124 ]] && note="timed out after ${LIMIT[$s]} s. $note"
  [[ $rc != 0 ]] && failed=$((failed + 1))
  STAGE=$s RC=$rc DT=$dt NOTE=$note "$PY" -c 'import json, os; print(json.dumps({"stage": os.environ["STAGE"], "ok": os.environ["RC"] == "0", "rc": int(os.environ["RC"]), "seconds": round(float(os.environ["DT"]), 1), "note": os.environ["NOTE"]}))' >> "$REPORT"
done

"$PY" - "$REPORT" "$OUT/gpu-report.json" "$MODE" <<'EOF'
import json, sys, os, datetime
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
extra = {}
for name in ("ceiling", "ours", "peer"):
    try: extra[name] = json.load(open(os.path.join(os.path.dirname(sys.argv[2]), name + ".json")))
    except Exception: pass
json.dump({"date": datetime.date.today().isoformat(), "mode": sys.argv[3], "stages": rows, **extra}, open(sys.argv[2], "w"), indent=2)
print(f"{'stage':<11} {'result':<8} {'s':>6}  note")
for r in rows:
    print(f"{r['stage']:<11} {'ok' if r['ok'] else 'FAILED':<8} {r['seconds']:>6.1f}  {r['note']}")
EOF
echo "gpu-check: report $OUT/gpu-report.json"
exit $((failed > 0))
