#!/usr/bin/env bash
# Control-plane benchmark: `sluicectl apply` of N drop rules (default 100,000)
# on one veth, the same document again (nothing changes), and a restart that
# takes the datapath over with all of them. Prints each run and the medians.
#
#   tests/bench/apply_bench.sh [--build DIR] [--rules N] [--runs N] [--json FILE]
set -euo pipefail
build=build rules=100000 runs=3 json=""
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--rules) rules=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--json) json=$2; shift 2 ;;
	-h | --help) sed -n '2,6p' "$0"; exit 0 ;;
	*) echo "apply_bench: unknown option $1" >&2; exit 2 ;;
	esac
done
cd "$(dirname "$0")/../.."
sluiced=$build/controld/sluiced ctl=$build/ctl/sluicectl
ns=sl-abench-$$ dir=$(mktemp -d /tmp/sluice-abench.XXXXXX) bpffs=/sys/fs/bpf/sluice-abench-$$
paths=(--socket "$dir/s" --state-dir "$dir/state" --bpffs "$bpffs")
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	"$sluiced" --cleanup "${paths[@]}" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link add ab0 type veth peer name ab1
ip -n "$ns" link set ab0 up
ip -n "$ns" link set ab1 up
python3 - "$rules" "$ns" >"$dir/doc.json" <<'PY'
import json, sys
n, ns = int(sys.argv[1]), sys.argv[2]
print(json.dumps({"rules": [{"kind": "drop", "iface": "ab0", "netns": ns, "proto": "udp",
    "src": "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255), "dport": "53"} for i in range(n)]}))
PY
now() { date +%s.%N; }
start() {
	"$sluiced" "${paths[@]}" --log-level warn 2>>"$dir/log" &
	pid=$!
	for _ in $(seq 1 600); do "$ctl" --socket "$dir/s" status >/dev/null 2>&1 && return; sleep 0.05; done
	echo "sluiced did not start" >&2
	exit 1
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$dir/first"; : >"$dir/again"; : >"$dir/restart"; : >"$dir/rss"; : >"$dir/rss0"; : >"$dir/rss_restart"
for r in $(seq 1 "$runs"); do
	start
	echo "$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")" >>"$dir/rss0"
	t0=$(now); "$ctl" --socket "$dir/s" --timeout 600 apply -f "$dir/doc.json" >/dev/null; t1=$(now)
	"$ctl" --socket "$dir/s" --timeout 600 apply -f "$dir/doc.json" >/dev/null; t2=$(now)
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
	kill "$pid"; wait "$pid" || true
	t3=$(now); start; t4=$(now)
	rss_restart=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
	kill "$pid"; wait "$pid" || true
	pid=""
	"$sluiced" --cleanup "${paths[@]}" 2>/dev/null
	a=$(echo "$t1 - $t0" | bc); b=$(echo "$t2 - $t1" | bc); c=$(echo "$t4 - $t3" | bc)
	echo "$a" >>"$dir/first"; echo "$b" >>"$dir/again"; echo "$c" >>"$dir/restart"
	echo "$rss" >>"$dir/rss"
	echo "$rss_restart" >>"$dir/rss_restart"
	printf 'run %d: apply %d rules %.2f s, again %.2f s, restart until ready %.2f s, daemon RSS %d MiB (%d MiB after the restart)\n' \
		"$r" "$rules" "$a" "$b" "$c" "$((rss / 1024))" "$((rss_restart / 1024))"
done
printf 'median of %d runs: apply %.2f s, apply again %.2f s, restart %.2f s; RSS with no rules %d MiB, after the applies %d MiB, after the restart %d MiB\n' "$runs" \
	"$(median <"$dir/first")" "$(median <"$dir/again")" "$(median <"$dir/restart")" \
	"$(($(median <"$dir/rss0") / 1024))" "$(($(median <"$dir/rss") / 1024))" \
	"$(($(median <"$dir/rss_restart") / 1024))"
if [ -n "$json" ]; then
	python3 - "$dir" "$rules" >"$json" <<'PY'
import json, statistics, sys
d, rules = sys.argv[1], int(sys.argv[2])
col = lambda f: [float(x) for x in open(f"{d}/{f}").read().split()]
runs = {k: col(k) for k in ("first", "again", "restart", "rss0", "rss", "rss_restart")}
med = {k: statistics.median(v) for k, v in runs.items()}
print(json.dumps({"rules": rules, "runs": runs,
                  "apply_s": med["first"], "apply_again_s": med["again"], "restart_s": med["restart"],
                  "rss_idle_mib": med["rss0"] / 1024, "rss_rules_mib": med["rss"] / 1024,
                  "rss_restart_mib": med["rss_restart"] / 1024}))
PY
fi
