# Wraps CMake. `make demo` and `make test` install what they need first.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
TEST_BUILD ?= build-test
BENCH_BUILD ?= build-bench

.PHONY: all deps demo test bench fuzz clean

all: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVF_TESTS=OFF >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@./scripts/install-deps.sh

# The live x86 demo needs an x86-64 Linux host; the PL011 record demo runs anywhere.
demo: all
	@if [ "$$(uname -m)" = x86_64 ]; then ./$(BUILD)/bin/vcpufault demo x86; \
	else echo "(x86 demo skipped: it runs the guest natively, on x86-64 only)"; fi
	./$(BUILD)/bin/vcpufault demo pl011

# Every test, under ASan and UBSan, built with clang so the libFuzzer targets build too.
test: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
		-DVF_SANITIZE=ON -DVF_FUZZ=ON -DVF_BENCH=OFF >/dev/null
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS)

bench: deps
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DVF_TESTS=OFF >/dev/null
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	./bench/run.sh $(BENCH_BUILD)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(BENCH_BUILD)
