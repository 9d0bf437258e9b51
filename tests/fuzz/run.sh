#!/usr/bin/env bash
# Builds the protocol fuzzer with clang in build-fuzz/ and runs it for
# SECONDS (default 60) on a scratch copy of the seed corpus, so the repo's
# corpus stays as it is. Exits non-zero on a crash, a leak, a sanitizer
# report, a broken invariant, a timeout or too much memory; the input that
# did it is kept in build-fuzz/fuzz-artifacts/.
#
#   tests/fuzz/run.sh [SECONDS]
#   SLUICE_FUZZ_BUILD=DIR   build directory (default build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${1:-60}
case "$secs" in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
build=${SLUICE_FUZZ_BUILD:-build-fuzz}
clang=$(command -v clang-14 || command -v clang || true)
if [ -z "$clang" ]; then
	echo "fuzz: clang not found (apt-get install clang)" >&2
	exit 1
fi

echo "=== fuzz: build $build/tests/fuzz/fuzz_protocol"
# The compiler is chosen once per build dir (changing it resets the cache,
# options included): a dir configured with another compiler starts over.
cached=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
if [ -n "$cached" ] && ! "$cached" --version 2>/dev/null | grep -q clang; then
	echo "fuzz: $build was configured with $cached; reconfiguring it with clang"
	rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
	cached=
fi
cmake -S . -B "$build" -DCMAKE_C_COMPILER="${cached:-$clang}" -DSLUICE_FUZZ=ON >/dev/null
cmake --build "$build" --target fuzz_protocol -j"$(nproc)"

work=$(mktemp -d /tmp/sluice-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -a tests/fuzz/corpus/protocol "$work/corpus"
artifacts="$PWD/$build/fuzz-artifacts"
mkdir -p "$artifacts"

echo "=== fuzz: fuzz_protocol for ${secs}s"
rc=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
"$build/tests/fuzz/fuzz_protocol" \
	-max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
	-timeout=10 -dict=tests/fuzz/protocol.dict -print_final_stats=1 \
	-artifact_prefix="$artifacts/" "$work/corpus" || rc=$?
if [ "$rc" != 0 ]; then
	echo "=== fuzz: FAILED (exit $rc); reproduce with:" >&2
	echo "    $build/tests/fuzz/fuzz_protocol $artifacts/<crash-file>" >&2
	exit 1
fi
echo "=== fuzz: no crash in ${secs}s"
