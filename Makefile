# Thin wrapper around CMake. The two commands of the README:
#   make dashboard  install what is missing, build, serve the API and the dashboard over
#                   .vibekit/telemetry.db (created if missing) and open the browser
#   make test       install what is missing, build, run every test suite (plus an ASan+UBSan pass)
# and `make demo`: fill .vibekit/telemetry.db with a generated workload, print the stats.
.PHONY: all deps build demo dashboard test test-unit test-asan test-fuzz fuzz fuzz-build bench clean format

BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_RUNS ?= 10000
FUZZ_SECONDS ?= 300
JOBS ?= $(shell nproc)
DEMO_EVENTS ?= 200000

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/vibekit demo --events $(DEMO_EVENTS)

DASHBOARD_DB ?= .vibekit/telemetry.db

dashboard: build
	@test -f $(DASHBOARD_DB) || ./$(BUILD)/vibekit --db $(DASHBOARD_DB) db init
	./$(BUILD)/vibekit --db $(DASHBOARD_DB) dashboard

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DVIBEKIT_SANITIZE=address,undefined -DVIBEKIT_BUILD_BENCH=OFF

test-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900

# libFuzzer targets (fuzz/): clang, ASan+UBSan, coverage-instrumented libraries. `make test`
# runs each for FUZZ_RUNS inputs from the seed corpus; `make fuzz` for FUZZ_SECONDS each.
$(FUZZ_BUILD)/build.ninja:
	CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DVIBEKIT_FUZZ=ON -DVIBEKIT_SANITIZE=address,undefined,fuzzer-no-link \
	  -DVIBEKIT_BUILD_TESTS=OFF -DVIBEKIT_BUILD_BENCH=OFF

fuzz-build: deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers

test-fuzz: fuzz-build
	./scripts/run-fuzzers.sh --build $(FUZZ_BUILD) --runs $(FUZZ_RUNS)

fuzz: fuzz-build
	./scripts/run-fuzzers.sh --build $(FUZZ_BUILD) --seconds $(FUZZ_SECONDS)

test: test-unit test-asan test-fuzz

bench: build
	./$(BUILD)/bench/vibekit_bench

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
