# Two entry points (see README): `make demo` and `make test`. Both install missing Debian
# packages first, then configure and build only what they need.
BUILD ?= build
# nproc obeys OMP_NUM_THREADS (set to 1 below): count the cores without it.
JOBS ?= $(shell env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release
# Torch's OpenMP pool times OpenBLAS's pool oversubscribes small machines: one thread each.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: deps configure build demo test test-sanitize test-sanitize-torch fuzz bench bench-peers install clean

deps:
	bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target ecgbench-demo ecgbench-train ecgbench-evaluate
	$(BUILD)/apps/ecgbench-demo --out $(BUILD)/demo-output

test: configure
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	bash scripts/check-no-skips.sh $(BUILD)
	BUILD=$(abspath $(BUILD)) OUT=$(abspath $(BUILD))/gpu-check bash scripts/gpu-check.sh --dry-run

# The suite under AddressSanitizer + UndefinedBehaviorSanitizer: every torch-free unit test (parsers,
# kernels, tokenizers, metrics, representations, RAG). The fuzz regressions are replayed by `make fuzz`
# (each libFuzzer binary, ASan + UBSan, reads tests/fuzz-regressions/<target> before fuzzing), not
# compiled a third time here. The apps and their tests are
# left out by default (SANITIZE_APPS=ON brings them in): each app compiles most of the library again
# (~100 s per app under ASan, two thirds of this step's build), while the code they run is the
# library the unit tests and replays already cover. LibTorch code is left to `make test`: its
# untrusted-input parsers (safetensors, .pth, config.json) are torch-free and covered here and by the
# fuzzers. Built with g++ (the fuzzers, torch-free, use clang). -O1 -g1 (line tables) and no NDEBUG:
# asserts stay on, reports name lines, and the build takes a third of -O2 -g's time.
SANITIZE_BUILD ?= build-sanitize
SANITIZE_TORCH ?= -DECGBENCH_WITH_TORCH=OFF
SANITIZE_APPS ?= OFF
test-sanitize: deps
	cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
	  -DECGBENCH_SANITIZE=ON -DECGBENCH_BUILD_BENCHMARKS=OFF -DECGBENCH_BUILD_APPS=$(SANITIZE_APPS) -DECGBENCH_FUZZ_REPLAY=OFF $(SANITIZE_TORCH)
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) -E install_consumer

# The same plus the LibTorch model and encoder tests (models, LoRA, generation, ST-MEM / MTAE / MLAE /
# MERL, checkpoint loading) under the sanitizers: not in CI (about 5 more minutes), run before releases.
test-sanitize-torch:
	$(MAKE) test-sanitize SANITIZE_BUILD=build-sanitize-torch SANITIZE_TORCH="-DECGBENCH_WITH_TORCH=ON -DECGBENCH_TORCH_TESTS=smoke"

# libFuzzer targets (clang 14), each for FUZZ_SECONDS (default 60); see tests/FUZZING.md.
fuzz:
	bash scripts/install-deps.sh fuzz
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) bash scripts/fuzz.sh $(FUZZ_TARGETS)

bench: configure
	cmake --build $(BUILD) -j $(JOBS) --target ecgbench_benchmarks
	for b in $(BUILD)/benchmarks/bench_*; do $$b; done

# Our kernels and their Python peers (python3-torch) in one run, on the same machine.
bench-peers: configure
	cmake --build $(BUILD) -j $(JOBS) --target bench_train bench_elm bench_represent bench_rag
	bash scripts/bench-peers.sh $(BUILD)
	cmake --build $(BUILD) -j $(JOBS) --target ecgbench-preprocess
	bash scripts/bench-preprocess-app.sh $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(or $(PREFIX),/usr/local)

clean:
	rm -rf $(BUILD)
