#!/usr/bin/env bash
# The whole test suite, from a fresh clone on Debian 12, as root: installs the
# dependencies, builds, runs every test, builds the .deb and .rpm and tests
# them installed (then purges them), builds again with ASan/UBSan and runs
# every test again, and fuzzes.
set -euo pipefail
cd "$(dirname "$0")/.."

bash packaging/install-deps.sh
jobs=$(nproc)

run_suite() {
	local dir=$1
	shift
	cmake -S . -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$jobs"
	ctest --test-dir "$dir" --output-on-failure --timeout 300
}

echo "=== build and test"
run_suite build -DCMAKE_INSTALL_PREFIX=/usr
echo "=== packages: build, lint, install, smoke test, upgrade, remove, purge"
cmake --build build --target package -- -j"$jobs" >/dev/null
bash tests/packaging/package.sh build .
echo "=== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
# Leaks fail the run; libbpf/libxdp caches released at exit are not ours to fix.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan -DSLUICE_SANITIZE=ON
echo "=== fuzz the wire protocol and rule parser (libFuzzer, bounded)"
bash tests/fuzz/run.sh "${SLUICE_FUZZ_SECONDS:-60}"
