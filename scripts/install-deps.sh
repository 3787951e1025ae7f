#!/usr/bin/env bash
# Installs every Debian 12 package ecgbench needs to build, test and run. Idempotent: packages
# already installed are skipped, and apt-get runs only when something is missing. Works as root;
# uses sudo otherwise.
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config git gzip
  libtorch-dev libopenblas0-pthread libgloo-dev   # LibTorch (CPU) + optimised BLAS + torch.distributed headers
  libfaiss-dev                                    # RAG index (needs OpenMP, part of g++)
  libeigen3-dev libxtensor-dev librange-v3-dev
  nlohmann-json3-dev libhdf5-dev libcli11-dev
  catch2 libbenchmark-dev
  libpcre2-dev libicu-dev                       # text tokenizers (pre-tokenizer regexes, NFC)
  wordnet-base                                  # WordNet 3.0 for METEOR
  libcairo2-dev fonts-dejavu-core               # ECG images and plots (Cairo, matplotlib's DejaVu Sans)
  python3 python3-numpy                         # scripts/gpu-check.sh (its report; the benchmark's token ids)
)
# `install-deps.sh fuzz`: also clang 14 with libFuzzer (make fuzz).
if [ "${1:-}" = fuzz ]; then packages+=(clang-14 libclang-rt-14-dev); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
