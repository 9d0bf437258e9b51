#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# ctl_latency.sh: control-socket round trips of sluiced. Makes a namespace with
# a veth pair in it, starts a private sluiced (socket and state under /tmp,
# bpffs /sys/fs/bpf/sluice-bench-$$), runs ctl_latency (add-drop + del pairs,
# one request at a time) RUNS times and prints the median of the runs' add
# p50s and p99s. A benchmark, not a test: exit 0 measured, 1 could not run,
# 2 usage error. Needs root and a build tree.
set -u
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$SCRIPT_DIR/../../build
RUNS=3 COUNT=2000 HOOK=xdp

usage() {
	echo "Usage: ctl_latency.sh [--build DIR] [--runs N] [--count N] [--hook xdp|tc-ingress|tc-egress] [--json FILE]"
	echo "Environment: SLUICED, CTL_LATENCY override the binaries."
}
while [ $# -gt 0 ]; do
	case $1 in
	--build | --runs | --count | --hook | --json) [ $# -ge 2 ] || { usage >&2; exit 2; } ;;&
	--json) JSON_OUT=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--count) COUNT=$2; shift 2 ;;
	--hook) HOOK=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || { echo "ctl_latency.sh: --runs: expected 1-99" >&2; exit 2; }
SLUICED=${SLUICED:-$BUILD/controld/sluiced}
CTL_LATENCY=${CTL_LATENCY:-$BUILD/tests/bench/ctl_latency}

fail() { echo "ctl_latency.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root"
for f in "$SLUICED" "$CTL_LATENCY"; do [ -x "$f" ] || fail "no executable $f (build first, or --build DIR)"; done
command -v jq >/dev/null || fail "needs jq"

WORK=$(mktemp -d "/tmp/sluice-ctl-bench.$$.XXXXXX") || fail "mktemp"
SOCK="$WORK/sluiced.sock"
BPFFS="/sys/fs/bpf/sluice-bench-$$"
NS="sl-cbench-$$"
IF="cb$(($$ % 10000000))a"
DAEMON_PID=""

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID"
		for _ in $(seq 1 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DAEMON_PID" 2>/dev/null
	fi
	wait 2>/dev/null
	# A stopped sluiced leaves its datapath pinned and attached: take it away.
	[ -n "$DAEMON_PID" ] && "$SLUICED" --cleanup --socket "$SOCK" --state-dir "$WORK/state" \
		--bpffs "$BPFFS" 2>>"$WORK/sluiced.log"
	ip netns del "$NS" 2>/dev/null
	[ -e "$BPFFS" ] && rm -rf -- "$BPFFS"
	if [ "$rc" != 0 ] && [ -s "$WORK/sluiced.log" ]; then
		echo "ctl_latency.sh: sluiced log (last lines):" >&2
		tail -15 "$WORK/sluiced.log" >&2
	fi
	rm -rf -- "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || fail "ip netns add"
ip link add "$IF" netns "$NS" type veth peer name "${IF%a}b" netns "$NS" &&
	ip -n "$NS" link set "$IF" up && ip -n "$NS" link set "${IF%a}b" up || fail "veth"

"$SLUICED" --socket "$SOCK" --state-dir "$WORK/state" --bpffs "$BPFFS" --log-level warn \
	2>>"$WORK/sluiced.log" &
DAEMON_PID=$!
for _ in $(seq 1 100); do
	[ -S "$SOCK" ] && "$CTL_LATENCY" --socket "$SOCK" --iface "$IF" --netns "$NS" --count 1 \
		--hook "$HOOK" >/dev/null 2>&1 && break
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "sluiced exited"
	sleep 0.1
done

echo "ctl_latency: $RUNS run(s) of $COUNT add-drop + del pairs on $HOOK of a veth in $NS; kernel $(uname -r)"
for r in $(seq 1 "$RUNS"); do
	timeout 600 "$CTL_LATENCY" --socket "$SOCK" --iface "$IF" --netns "$NS" --count "$COUNT" \
		--hook "$HOOK" --json >"$WORK/run.$r" || fail "run $r failed"
	jq -r --arg r "$r" '"run \($r): add p50 \(.add.p50) p90 \(.add.p90) p99 \(.add.p99) max \(.add.max) us; del p50 \(.del.p50) p99 \(.del.p99) us"' "$WORK/run.$r"
done
if [ -n "${JSON_OUT:-}" ]; then
	jq -s --arg hook "$HOOK" --argjson count "$COUNT" 'def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		{hook: $hook, count: $count, runs: ., add_p50_us: ([.[].add.p50] | med),
		 add_p99_us: ([.[].add.p99] | med), del_p50_us: ([.[].del.p50] | med),
		 del_p99_us: ([.[].del.p99] | med)}' "$WORK"/run.* >"$JSON_OUT" || fail "writing $JSON_OUT"
fi
jq -rs 'def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end | . * 10 | round / 10;
	"median of \(length) runs: add p50 \([.[].add.p50] | med) us, add p99 \([.[].add.p99] | med) us"' "$WORK"/run.*
