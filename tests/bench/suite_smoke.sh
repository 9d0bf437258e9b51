#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# CI's check that the benchmark suite still runs end to end (tests/bench/run
# --smoke: every suite for seconds, into a scratch directory): the JSON holds
# every suite and a verdict or a value for every target, the Markdown section
# is there, the plot is a PNG. Asserts no number: timing is not a test.
#   suite_smoke.sh BUILD_DIR
set -uo pipefail
BUILD=$(realpath "${1:?usage: suite_smoke.sh BUILD_DIR}")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(mktemp -d /tmp/sluice-suite-smoke.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
fails=0
check() { local what=$1; shift; if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi; }
jqt() { jq -e "$@" >/dev/null; }

bash "$HERE/run" --smoke --build "$BUILD" --out "$OUT"
check "tests/bench/run --smoke exits 0" test $? = 0
J="$OUT/benchmarks.json"
check "benchmarks.json written" test -s "$J"
for s in drop micro redirect nat apply latency; do
	check "benchmarks.json holds the $s suite" jqt ".suites.$s | type == \"object\"" "$J"
done
check "machine recorded (kernel, cpu, date)" jqt '.machine.kernel and .machine.cpu and .machine.date' "$J"
check "every target has a value" jqt '[.targets[] | .value != null] | all and length >= 12' "$J"
for c in bare sluice-1 sluice-tc nft-netdev nft-set-10k ipt-1 ipt-10k; do
	check "drop case $c measured" jqt --arg c "$c" '[.suites.drop.cases[] | select(.case == $c and .median_pps > 0)] | length == 1' "$J"
done
check "benchmarks.md has the generated section" grep -q 'bench-suite:begin' "$OUT/benchmarks.md"
check "the plot is a PNG" eval "file '$OUT/bench-drop-rate.png' | grep -q 'PNG image'"
[ "$fails" = 0 ]
