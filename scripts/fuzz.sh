#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for FUZZ_SECONDS (default 60).
# Seed corpora are copied from ../shared/data at run time (never committed). Crashes, leaks and
# timeouts are written to build-fuzz/findings/<target>/; copy a minimised one into
# tests/fuzz-regressions/<target>/ so the normal test suite replays it.
#   scripts/fuzz.sh [target ...]      (default: all)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FUZZ_BUILD:-$root/build-fuzz}"
data="${ECGBENCH_TEST_DATA:-$root/../shared/data}"
seconds="${FUZZ_SECONDS:-60}"
# -O1 -gline-tables-only: libFuzzer's recommended flags (reports keep file:line), and a third less
# compile time than RelWithDebInfo's -O2 -g.
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DECGBENCH_FUZZ=ON \
  -DECGBENCH_BUILD_APPS=OFF -DECGBENCH_BUILD_BENCHMARKS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(wfdb_header wfdb_signal npy safetensors pickle ecg_byte_json text_tokenizer chat_template mapping_json csv config_json pth)
fi
# nproc obeys OMP_NUM_THREADS, which the Makefile sets to 1 for torch: count the cores without it.
cores="$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)"
cmake --build "$build" -j "$cores" --target $(printf 'fuzz_%s ' "${targets[@]}")

seed() {  # seed <target> <file> [prefix-byte-octal]
  local dir="$build/corpus/$1"; mkdir -p "$dir"
  [ -f "$2" ] || return 0
  local out="$dir/$(basename "$2")-${3:-x}"
  if [ -n "${3:-}" ]; then { printf "\\$3"; head -c 65536 "$2"; } >"$out"; else head -c 65536 "$2" >"$out"; fi
}
rm -rf "$build/corpus"
if [ -d "$data" ]; then
  while IFS= read -r f; do seed wfdb_header "$f"; done < <(find "$data" -name '*.hea' | head -40)
  i=0; while IFS= read -r f; do seed wfdb_signal "$f" "$(printf '%03o' $((i % 10)))"; i=$((i + 1)); done < <(find "$data" -name '*.dat' | head -20)
  while IFS= read -r f; do seed npy "$f"; done < <(find "$data" -name '*.npy' -size -64k | head -20)
  while IFS= read -r f; do seed safetensors "$f"; done < <(find "$data" -name '*.safetensors' -size -64k)
  while IFS= read -r f; do seed pickle "$f"; done < <(find "$data/ecg-byte" -name '*.pkl')
  while IFS= read -r f; do seed csv "$f"; done < <(find "$data" -name '*.csv' | head -10)
  while IFS= read -r f; do seed config_json "$f"; done < <(find "$data/golden" "$data/models" -name 'config.json')
  while IFS= read -r f; do seed mapping_json "$f" 000; seed mapping_json "$f" 001; done < <(find "$data/ecg-qa" -name '*.json' -size -64k | head -10)
  seed text_tokenizer "$data/models/tiny-gpt2-lm-buddy/vocab.json" 001
  for f in "$root"/tests/fuzz-regressions/pth/*; do seed pth "$f"; done
  while IFS= read -r f; do seed config_json "$f"; done < <(find "$data/golden/encoders" -name manifest.json)
fi
mkdir -p "$build/corpus"/{ecg_byte_json,text_tokenizer,chat_template,safetensors}
printf '{"format": "ecgbench.ecg-byte", "version": 1, "alphabet": "abcdefghijklmnopqrstuvwxyz", "merges": [[97, 98], [256, 99]]}' >"$build/corpus/ecg_byte_json/small.json"
printf '\000{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}, "pre_tokenizer": {"type": "ByteLevel", "use_regex": true}, "decoder": {"type": "ByteLevel"}}' >"$build/corpus/text_tokenizer/toy.json"
printf '\003[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n##s\n' >"$build/corpus/text_tokenizer/vocab.txt"
printf '\001\050\024Describe the rhythm.\000sinus rhythm\000and the axis?' >"$build/corpus/chat_template/conv"
printf '\070\000\000\000\000\000\000\000{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}      \000\000\200\077\000\000\000\100' >"$build/corpus/safetensors/small"

# Targets run FUZZ_JOBS at a time (default: one per core); each fuzzer is single-threaded.
jobs="${FUZZ_JOBS:-$cores}"
run_one() {
  local t=$1 rc=0
  mkdir -p "$build/findings/$t" "$build/corpus/$t"
  # The regression inputs as a second (read-only) corpus: replayed first, under ASan and UBSan.
  "$build/tests/fuzz/fuzz_$t" "$build/corpus/$t" "$root/tests/fuzz-regressions/$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$build/findings/$t/" -print_final_stats=1 2>"$build/fuzz_$t.log" || rc=1
  echo "$rc" >"$build/fuzz_$t.rc"
}
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_one "$t" &
done
wait
status=0
for t in "${targets[@]}"; do
  echo "== fuzz_$t: ${seconds}s"
  grep -E "^stat::number_of_executed_units|^stat::average_exec_per_sec|cov: " "$build/fuzz_$t.log" | tail -3 || true
  if [ "$(cat "$build/fuzz_$t.rc" 2>/dev/null)" != 0 ]; then echo "   FAILED: see $build/fuzz_$t.log"; status=1; fi
  if ls "$build/findings/$t"/* >/dev/null 2>&1; then echo "   FINDINGS in $build/findings/$t"; status=1; fi
done
exit $status
