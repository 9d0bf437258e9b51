#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# redirect_bench.sh: sluice redirects (peer, neigh, route) through a middle
# namespace against plain kernel forwarding, measured in the same run.
#
#   C: c0 10.53.1.2 ---- m0 10.53.1.1 [M] m1 10.53.2.1 ---- s0 10.53.2.2 :S
#
# Cases: kernel (net.ipv4.ip_forward=1 in M, no sluice rule) and peer, neigh,
# route (ip_forward=0 in M; one sluice redirect per direction on m0's and m1's
# tc-ingress; route also sets net.ipv4.conf.lo.forwarding=1 in M). Metrics:
#   bulk     iperf3 TCP C -> S, Gbit/s (iperf3 --json, receiver side)
#   rate     64-byte UDP frames C -> S: packets/s DELIVERED to S (growth of
#            s0's rx_packets over the generator's sending time), with what was
#            sent and the loss
#   latency  ICMP echo C -> S -> C one at a time; the RTT is taken at c0 from
#            the kernel's timestamps of the request leaving and the reply
#            arriving (an AF_PACKET tap), so it is the path's round trip in ns
#            without the measuring process's own overhead; the RTT as the
#            process sees it is reported too
# Every round runs every case once (round 1: kernel, peer, neigh, route; round
# 2: ...) so the drift of a shared or virtual machine hits all cases alike;
# tables show median/min/max over the rounds and ratios of medians to kernel.
# Before measuring a case, ping must cross M and the case must carry it (the
# kernel's forwarding counter, or both sluice rules' counters); a broken setup
# is reported and the script stops instead of measuring it.
#
# A benchmark, not a test: it never fails on numbers. Exit status 0 measured,
# 1 could not run, 2 usage error. Needs root and a build tree.

# awk and jq programs are in single quotes on purpose.
# shellcheck disable=SC2016
set -u
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$SCRIPT_DIR/../../build
RUNS=5
DURATION=5
JSON_OUT=""
GEN_MODE=auto
GEN_THREADS=""
FLOWS=16
PINGS=2000
PROG_STATS=0
CASES="kernel peer neigh route"

usage() {
	cat <<EOF
Usage: redirect_bench.sh [OPTIONS]

Bulk TCP throughput, 64-byte UDP packets/s and request/response RTT through
a middle namespace: kernel forwarding against sluice peer, neigh and route
redirects, in interleaved rounds. Prints tables and PASS/MISS per target
(packets/s >= 1.3x kernel, RTT <= 0.8x kernel, bulk >= 1.0x kernel).

Options:
  --runs N          rounds; each measures every case once (default $RUNS)
  --duration S      seconds of one bulk and of one packet-rate run (default $DURATION)
  --json FILE       write the raw per-run results and the summary to FILE
  --build DIR       build tree with sluiced, sluicectl, sluice-trafficgen
                    (default: the repository's build/)
  --gen-mode M      small-packet generator: auto (default: sluice-trafficgen
                    live frames if they reach S intact, else its AF_PACKET
                    mode, else iperf3), live, packet (sluice-trafficgen
                    --mode), iperf3
  --gen-threads N   generator threads, one per CPU (default: all CPUs, at most 4)
  --flows N         UDP flows (source ports) of the generator (default $FLOWS)
  --pings N         echo requests per latency run (default $PINGS)
  --prog-stats      also report the sluice programs' own time per run (kernel
                    BPF statistics, kernel.bpf_stats_enabled=1 for the
                    duration: machine-wide, and it slows every BPF program a
                    little, so the sluice cases pay for being watched)
  -h, --help        show this help

Environment: SLUICED, SLUICECTL, TRAFFICGEN override the binaries.
Exit status: 0 measured, 1 could not run, 2 usage error.
EOF
}

die_usage() { echo "redirect_bench.sh: $*" >&2; echo "Try 'redirect_bench.sh --help'." >&2; exit 2; }
in_range() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=${2:-}; shift 2 || die_usage "--runs needs a value" ;;
	--duration) DURATION=${2:-}; shift 2 || die_usage "--duration needs a value" ;;
	--json) JSON_OUT=${2:-}; shift 2 || die_usage "--json needs a value" ;;
	--build) BUILD=${2:-}; shift 2 || die_usage "--build needs a value" ;;
	--gen-mode) GEN_MODE=${2:-}; shift 2 || die_usage "--gen-mode needs a value" ;;
	--gen-threads) GEN_THREADS=${2:-}; shift 2 || die_usage "--gen-threads needs a value" ;;
	--flows) FLOWS=${2:-}; shift 2 || die_usage "--flows needs a value" ;;
	--pings) PINGS=${2:-}; shift 2 || die_usage "--pings needs a value" ;;
	--prog-stats) PROG_STATS=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die_usage "unknown option '$1'" ;;
	esac
done
NCPU=$(nproc)
[ -n "$GEN_THREADS" ] || GEN_THREADS=$((NCPU < 4 ? NCPU : 4))
in_range "$RUNS" 1 50 || die_usage "--runs '$RUNS': expected 1-50"
in_range "$DURATION" 1 60 || die_usage "--duration '$DURATION': expected whole seconds 1-60"
in_range "$GEN_THREADS" 1 "$NCPU" || die_usage "--gen-threads '$GEN_THREADS': expected 1-$NCPU"
in_range "$FLOWS" 1 50000 || die_usage "--flows '$FLOWS': expected 1-50000"
in_range "$PINGS" 10 100000 || die_usage "--pings '$PINGS': expected 10-100000"
case $GEN_MODE in auto | live | packet | iperf3) ;; *) die_usage "--gen-mode '$GEN_MODE': auto, live, packet or iperf3" ;; esac
[ -z "$JSON_OUT" ] || [ -d "$(dirname -- "$JSON_OUT")" ] || die_usage "--json: no directory for '$JSON_OUT'"

SLUICED=${SLUICED:-$BUILD/controld/sluiced}
SLUICECTL=${SLUICECTL:-$BUILD/ctl/sluicectl}
TRAFFICGEN=${TRAFFICGEN:-$BUILD/tests/bench/sluice-trafficgen}

say() { printf '%s\n' "$*"; }
fail() { echo "redirect_bench.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root"
for tool in ip jq python3 iperf3 ethtool taskset timeout ping ss $([ "$PROG_STATS" = 1 ] && echo bpftool); do
	command -v "$tool" >/dev/null || fail "needs $tool (see packaging/install-deps.sh)"
done
for f in "$SLUICED" "$SLUICECTL"; do
	[ -x "$f" ] || fail "no executable $f (build first, or --build DIR)"
done

# --- names of this run, and cleanup -------------------------------------------
P=$(($$ % 10000000))
NS_C="sl-rbench-$$-c"
NS_M="sl-rbench-$$-m"
NS_S="sl-rbench-$$-s"
C0="rb${P}c0"
M0="rb${P}m0"
M1="rb${P}m1"
S0="rb${P}s0"
C_IP=10.53.1.2 M0_IP=10.53.1.1 M1_IP=10.53.2.1 S_IP=10.53.2.2
NET_C=10.53.1.0/24 NET_S=10.53.2.0/24
UDP_DPORT=9
WORK=$(mktemp -d "/tmp/sluice-redirect-bench.$$.XXXXXX") || fail "mktemp"
SOCK="$WORK/sluiced.sock"
BPFFS="/sys/fs/bpf/sluice-rbench-$$"
RESULTS="$WORK/results.jsonl"
MADE_NS=()
BG_PIDS=()
DAEMON_PID=""
WATCHDOG_PID=""
OLD_BPF_STATS=""

source "$(dirname "${BASH_SOURCE[0]}")/../lib/stop_pid.sh"
stop_daemon() { stop_pid "$DAEMON_PID"; DAEMON_PID=""; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$WATCHDOG_PID" ] && kill "$WATCHDOG_PID" 2>/dev/null
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	stop_daemon
	[ -n "$OLD_BPF_STATS" ] && sysctl -qw "kernel.bpf_stats_enabled=$OLD_BPF_STATS"
	# Deleting a namespace deletes its veth ends, and with them their peers.
	for ns in "${MADE_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	# Only this run's own directory on bpffs.
	[ -e "$BPFFS" ] && rm -rf -- "$BPFFS"
	if [ "$rc" != 0 ] && [ -s "$WORK/sluiced.log" ]; then
		echo "redirect_bench.sh: sluiced log (last lines):" >&2
		tail -15 "$WORK/sluiced.log" >&2
	fi
	rm -rf -- "$WORK"
	wait 2>/dev/null
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A hard bound on the whole run, well above what the measurements need.
LIMIT=$((120 + RUNS * (5 * DURATION + 4 * (2 * DURATION + 25))))
(
	trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	sleep "$LIMIT" &
	sp=$!
	wait "$sp" || exit 0
	echo "redirect_bench.sh: still running after ${LIMIT} s; giving up" >&2
	kill -TERM $$
) &
WATCHDOG_PID=$!

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
ctl() { "$SLUICECTL" --socket "$SOCK" --timeout 10 "$@"; }
mac_of() { ip -n "$1" -j link show dev "$2" | jq -r '.[0].address'; }
rx_packets() { in_ns "$NS_S" cat "/sys/class/net/$S0/statistics/rx_packets"; }
tx_packets_c0() { in_ns "$NS_C" cat "/sys/class/net/$C0/statistics/tx_packets"; }
fwd_datagrams() { in_ns "$NS_M" awk '/^Ip:/ { if (h) { print $7; exit } h = 1 }' /proc/net/snmp; }
# S's UDP NoPorts: nothing listens on the generator's port, and the stack
# counts a datagram there only once its IP header, address and UDP checksum
# passed; so it counts sluice-trafficgen's frames that arrived intact.
udp_noports() { in_ns "$NS_S" awk '/^Udp:/ { if (h) { print $3; exit } h = 1 }' /proc/net/snmp; }
rule_packets() { ctl --json stats "$1" | jq -r '.rules[0].packets'; }
rule_field() { ctl --json stats "$1" | jq -r ".rules[0].$2"; }
record() { jq -cn "$@" >>"$RESULTS"; }

# prog_snapshot: "runs ns" summed over the programs on m0's and m1's tc-ingress
# (kernel BPF statistics; "0 0" without --prog-stats).
prog_snapshot() {
	local cnt=0 ns=0 id j
	if [ "$PROG_STATS" = 1 ]; then
		for id in $(for d in "$M0" "$M1"; do in_ns "$NS_M" tc filter show dev "$d" ingress; done |
			grep -o ' id [0-9]*' | awk '{ print $2 }' | sort -u); do
			j=$(bpftool prog show id "$id" -j 2>/dev/null) || continue
			cnt=$((cnt + $(jq -r '.run_cnt // 0' <<<"$j")))
			ns=$((ns + $(jq -r '.run_time_ns // 0' <<<"$j")))
		done
	fi
	echo "$cnt $ns"
}
# prog_ns BEFORE AFTER: mean ns per program run between two snapshots, or null.
prog_ns() {
	local c0 n0 c1 n1
	read -r c0 n0 <<<"$1"
	read -r c1 n1 <<<"$2"
	if [ "$PROG_STATS" = 1 ] && [ $((c1 - c0)) -gt 0 ]; then
		awk -v n=$((n1 - n0)) -v c=$((c1 - c0)) 'BEGIN { printf "%.1f", n / c }'
	else
		echo null
	fi
}

# wait_port NS PORT: until a TCP listener is there (bounded).
wait_port() {
	for _ in $(seq 1 50); do
		in_ns "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# --- topology -------------------------------------------------------------------
setup() {
	local ns q=$GEN_THREADS
	for ns in "$NS_C" "$NS_M" "$NS_S"; do
		ip netns add "$ns" || return 1
		MADE_NS+=("$ns")
		ip -n "$ns" link set lo up || return 1
		# Quiet links: no IPv6 autoconfiguration, DAD or MLD frames.
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	# As many queues as generator threads on the sending pair, so each
	# thread's frames land in their own receive queue (live frames).
	ip link add "$C0" numtxqueues "$q" numrxqueues "$q" netns "$NS_C" type veth \
		peer name "$M0" numtxqueues "$q" numrxqueues "$q" netns "$NS_M" || return 1
	ip link add "$S0" netns "$NS_S" type veth peer name "$M1" netns "$NS_M" || return 1
	ip -n "$NS_C" addr add "$C_IP/24" dev "$C0" && ip -n "$NS_M" addr add "$M0_IP/24" dev "$M0" &&
		ip -n "$NS_M" addr add "$M1_IP/24" dev "$M1" && ip -n "$NS_S" addr add "$S_IP/24" dev "$S0" ||
		return 1
	ip -n "$NS_C" link set "$C0" up && ip -n "$NS_M" link set "$M0" up &&
		ip -n "$NS_M" link set "$M1" up && ip -n "$NS_S" link set "$S0" up || return 1
	ip -n "$NS_C" route add default via "$M0_IP" && ip -n "$NS_S" route add default via "$M1_IP" ||
		return 1
	# Permanent neighbour entries: no ARP traffic or revalidation in the middle
	# of a measurement, the same for every case.
	ip -n "$NS_C" neigh replace "$M0_IP" lladdr "$(mac_of "$NS_M" "$M0")" dev "$C0" nud permanent &&
		ip -n "$NS_M" neigh replace "$C_IP" lladdr "$(mac_of "$NS_C" "$C0")" dev "$M0" nud permanent &&
		ip -n "$NS_M" neigh replace "$S_IP" lladdr "$(mac_of "$NS_S" "$S0")" dev "$M1" nud permanent &&
		ip -n "$NS_S" neigh replace "$M1_IP" lladdr "$(mac_of "$NS_M" "$M1")" dev "$S0" nud permanent ||
		return 1
	in_ns "$NS_M" sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 "net.ipv4.conf.$M0.rp_filter=0" \
		"net.ipv4.conf.$M1.rp_filter=0" || return 1
}
setup || fail "could not set up namespaces and veths"
M0_MAC=$(mac_of "$NS_M" "$M0")
C0_MAC=$(mac_of "$NS_C" "$C0")

start_daemon() {
	"$SLUICED" --socket "$SOCK" --state-dir "$WORK/state" --bpffs "$BPFFS" --log-level warn \
		2>>"$WORK/sluiced.log" &
	DAEMON_PID=$!
	for _ in $(seq 1 100); do
		ctl status >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
start_daemon || fail "sluiced did not become ready"
if [ "$PROG_STATS" = 1 ]; then
	OLD_BPF_STATS=$(sysctl -n kernel.bpf_stats_enabled) || fail "no kernel.bpf_stats_enabled"
	sysctl -qw kernel.bpf_stats_enabled=1 || fail "could not enable BPF statistics"
fi

# --- the latency probe: echo requests one at a time, RTT from c0's timestamps -----
cat >"$WORK/rtt.py" <<'EOF'
# rtt.py DST IFNAME COUNT: sends COUNT ICMP echo requests to DST one at a time
# (the next after the reply) and prints a JSON summary. The RTT is the kernel's
# receive timestamp of the reply on IFNAME minus that of the request leaving
# IFNAME, both seen by an AF_PACKET tap (ETH_P_ALL) on IFNAME: the path's round
# trip in ns, without this process's own overhead. app_* is the time from just
# before sendto() to the moment this process has the reply in hand.
import json, os, select, socket, struct, sys, time

dst, ifname, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
ETH_P_ALL, ETH_P_IP, SO_TIMESTAMPNS, PACKET_OUTGOING = 3, 0x0800, 35, 4
SOL_RAW, ICMP_FILTER = 255, 1

cap = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
cap.bind((ifname, ETH_P_ALL))
cap.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
cap.setblocking(False)
snd = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
snd.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", 0xffffffff))  # receives nothing
ident = os.getpid() & 0xffff
while True:  # whatever the tap saw before it was bound
    try:
        cap.recv(2048)
    except BlockingIOError:
        break

def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff)
    t += t >> 16
    return ~t & 0xffff

poll = select.poll()
poll.register(cap, select.POLLIN)
payload = b"sluice-redirect-bench" + b"\0" * 35
rtts, apps, lost = [], [], 0
for n in range(count):
    seq = n & 0xffff
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq) + payload
    t_req = t_rep = None
    t0 = time.perf_counter_ns()
    snd.sendto(pkt, (dst, 0))
    deadline = time.monotonic() + 1.0
    while t_rep is None and time.monotonic() < deadline:
        poll.poll(100)
        while t_rep is None:
            try:
                data, anc, _, addr = cap.recvmsg(128, 64)
            except BlockingIOError:
                break
            if addr[1] != ETH_P_IP or len(data) < 28 or data[9] != 1:
                continue
            ihl = (data[0] & 15) * 4
            typ, _, _, i, q = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if i != ident or q != seq:
                continue
            ts = None
            for lvl, t, d in anc:
                if lvl == socket.SOL_SOCKET and t == SO_TIMESTAMPNS and len(d) >= 16:
                    sec, nsec = struct.unpack("qq", d[:16])
                    ts = sec * 1000000000 + nsec
            if typ == 8 and addr[2] == PACKET_OUTGOING:
                t_req = ts
            elif typ == 0 and addr[2] != PACKET_OUTGOING:
                t_rep = ts
                apps.append(time.perf_counter_ns() - t0)
    if t_req is None or t_rep is None:
        lost += 1
    else:
        rtts.append(t_rep - t_req)

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))] if v else None

print(json.dumps({"sent": count, "answered": len(rtts), "lost": lost,
                  "median_ns": pct(rtts, 0.5), "mean_ns": sum(rtts) / len(rtts) if rtts else None,
                  "p99_ns": pct(rtts, 0.99), "min_ns": min(rtts) if rtts else None,
                  "app_median_ns": pct(apps, 0.5)}))
EOF

# --- cases ------------------------------------------------------------------------
FWD_RULE="" BACK_RULE=""

# set_case CASE: sysctls and rules of CASE in M (rules of the previous case gone).
set_case() {
	local c=$1 to0=() to1=()
	FWD_RULE="" BACK_RULE=""
	if [ "$c" = kernel ]; then
		in_ns "$NS_M" sysctl -qw net.ipv4.ip_forward=1 || return 1
		return 0
	fi
	# Writing ip_forward resets every interface's forwarding, lo's included.
	in_ns "$NS_M" sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.lo.forwarding=0 || return 1
	if [ "$c" = route ]; then
		# bpf_fib_lookup answers for lo; the kernel itself still forwards nothing.
		in_ns "$NS_M" sysctl -qw net.ipv4.conf.lo.forwarding=1 || return 1
	else
		to0=(--to "$M0") to1=(--to "$M1")
	fi
	FWD_RULE=$(ctl --json add-redirect --iface "$M0" --netns "$NS_M" --dst "$NET_S" "${to1[@]}" \
		--mode "$c" --name "bench-fwd-$c" | jq -r .id) || return 1
	BACK_RULE=$(ctl --json add-redirect --iface "$M1" --netns "$NS_M" --dst "$NET_C" "${to0[@]}" \
		--mode "$c" --name "bench-back-$c" | jq -r .id) || return 1
	[[ $FWD_RULE =~ ^[0-9]+$ && $BACK_RULE =~ ^[0-9]+$ ]]
}

clear_case() {
	[ -n "$FWD_RULE" ] && { ctl del "$FWD_RULE" >/dev/null || return 1; }
	[ -n "$BACK_RULE" ] && { ctl del "$BACK_RULE" >/dev/null || return 1; }
	FWD_RULE="" BACK_RULE=""
	in_ns "$NS_M" sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.lo.forwarding=0
}

# verify_case CASE: ping crosses M, carried by the case's own path.
verify_case() {
	local c=$1 f0 f1 p rule
	f0=$(fwd_datagrams)
	if ! in_ns "$NS_C" timeout 5 ping -q -c 3 -i 0.2 -W 1 "$S_IP" >"$WORK/ping.out" 2>&1; then
		say "  $c: ping from C to S does not cross the middle:"
		sed 's/^/    /' "$WORK/ping.out"
		return 1
	fi
	f1=$(fwd_datagrams)
	if [ "$c" = kernel ]; then
		[ $((f1 - f0)) -ge 6 ] && return 0
		say "  kernel: M's IP forwarding counter rose by $((f1 - f0)) for 3 pings (expected >= 6)"
		return 1
	fi
	if [ "$f1" != "$f0" ]; then
		say "  $c: the kernel forwarded $((f1 - f0)) datagrams although ip_forward=0"
		return 1
	fi
	for rule in "$FWD_RULE" "$BACK_RULE"; do
		p=$(rule_packets "$rule")
		[[ $p =~ ^[0-9]+$ ]] && [ "$p" -ge 3 ] && continue
		say "  $c: rule $rule counted '$p' packets for 3 pings (expected >= 3)"
		return 1
	done
}

# --- metrics -----------------------------------------------------------------------
IPERF_PORT=5201

# iperf_server: a one-off iperf3 server in S, bounded in time.
iperf_server() {
	in_ns "$NS_S" timeout -k 2 $((DURATION + 30)) iperf3 -s -1 -B "$S_IP" -p "$IPERF_PORT" \
		>/dev/null 2>&1 &
	BG_PIDS+=($!)
	wait_port "$NS_S" "$IPERF_PORT"
}

measure_bulk() {
	local c=$1 r=$2 out gbps retr
	iperf_server || { say "  $c: iperf3 server did not start"; return 1; }
	out=$(in_ns "$NS_C" timeout -k 2 $((DURATION + 20)) iperf3 -c "$S_IP" -p "$IPERF_PORT" \
		-t "$DURATION" -O 1 --json 2>&1)
	wait "${BG_PIDS[-1]}" 2>/dev/null
	gbps=$(jq -r '.end.sum_received.bits_per_second / 1e9' <<<"$out" 2>/dev/null)
	retr=$(jq -r '.end.sum_sent.retransmits // 0' <<<"$out" 2>/dev/null)
	if ! [[ $gbps =~ ^[0-9.e+-]+$ ]]; then
		say "  $c: iperf3 TCP failed: $(jq -r '.error // empty' <<<"$out" 2>/dev/null || head -3 <<<"$out")"
		return 1
	fi
	record --argjson round "$r" --arg c "$c" --argjson gbps "$gbps" --argjson retr "$retr" \
		'{round: $round, case: $c, metric: "bulk", gbps: $gbps, retransmits: $retr}'
	printf '  %-7s bulk    %8.2f Gbit/s   (%s retransmits)\n' "$c" "$gbps" "$retr"
}

# gen_run MODE SECONDS [COUNT]: one generator run; prints "sent seconds mode".
gen_run() {
	local mode=$1 secs=$2 count=${3:-} out cpus t0 t1 extra=()
	if [ "$mode" = iperf3 ]; then
		iperf_server || return 1
		t0=$(tx_packets_c0)
		out=$(in_ns "$NS_C" timeout -k 2 $((secs + 20)) iperf3 -c "$S_IP" -p "$IPERF_PORT" -u \
			-l 22 -b 0 -P "$GEN_THREADS" -t "$secs" --json 2>&1)
		wait "${BG_PIDS[-1]}" 2>/dev/null
		t1=$(tx_packets_c0)
		jq -e .end.sum >/dev/null 2>&1 <<<"$out" || return 1
		echo "$((t1 - t0)) $(jq -r .end.sum.seconds <<<"$out") iperf3"
		return 0
	fi
	cpus=$(seq -s, $((NCPU - GEN_THREADS)) $((NCPU - 1)))
	[ -n "$count" ] && extra=(--count "$count")
	out=$(timeout -k 2 $((secs + 30)) taskset -c "$cpus" "$TRAFFICGEN" --netns "$NS_C" \
		--dev "$C0" --mode "$mode" --threads "$GEN_THREADS" --flows "$FLOWS" --size 64 \
		--src-ip "$C_IP" --dst-ip "$S_IP" --dport "$UDP_DPORT" --src-mac "$C0_MAC" \
		--dst-mac "$M0_MAC" --duration "$secs" "${extra[@]}" --json 2>"$WORK/gen.err") || return 1
	echo "$(jq -r .packets <<<"$out") $(jq -r .seconds <<<"$out") $(jq -r .mode <<<"$out")"
}

gro_m0() { in_ns "$NS_M" ethtool -K "$M0" gro "$1" >/dev/null 2>&1; }

# measure_rate CASE ROUND: packets/s delivered to S (for "ceiling": sent and
# dropped by a sluice rule at m0's tc-ingress, nothing forwarded).
measure_rate() {
	local c=$1 r=$2 d0 d1 g sent secs mode rp0=0 rp1=0 rule=$FWD_RULE ps0 ps1 u0 u1 intact=null
	[ "$c" = ceiling ] && rule=$CEIL_RULE
	[ "$GEN" = live ] && gro_m0 on
	[ -n "$rule" ] && rp0=$(rule_packets "$rule")
	ps0=$(prog_snapshot)
	u0=$(udp_noports)
	d0=$(rx_packets)
	g=$(gen_run "$GEN" "$DURATION")
	local ok=$?
	sleep 0.2 # whatever is still queued reaches s0
	d1=$(rx_packets)
	u1=$(udp_noports)
	# iperf3's server has a socket on its port: NoPorts says nothing then.
	[ "$GEN" = iperf3 ] || intact=$((u1 - u0))
	ps1=$(prog_snapshot)
	[ -n "$rule" ] && rp1=$(rule_packets "$rule")
	[ "$GEN" = live ] && gro_m0 off
	if [ "$ok" != 0 ]; then
		say "  $c: the generator failed: $(tail -3 "$WORK/gen.err" 2>/dev/null)"
		return 1
	fi
	read -r sent secs mode <<<"$g"
	record --argjson round "$r" --arg c "$c" --argjson sent "$sent" --argjson secs "$secs" \
		--argjson delivered $((d1 - d0)) --arg mode "$mode" --argjson rule $((rp1 - rp0)) \
		--argjson prog "$(prog_ns "$ps0" "$ps1")" --argjson intact "$intact" \
		'{round: $round, case: $c, metric: "rate", sent: $sent, seconds: $secs,
		  delivered: $delivered, delivered_intact: $intact, rule_packets: $rule, generator: $mode,
		  prog_ns_per_run: $prog,
		  pps: (if $c == "ceiling" then $sent else $delivered end / $secs),
		  sent_pps: ($sent / $secs)}'
	if [ "$c" = ceiling ]; then
		awk -v s="$sent" -v t="$secs" -v k=$((rp1 - rp0)) 'BEGIN {
			printf "  %-7s rate    %8.0f pps sent, all dropped at m0 (rule counted %d of %d)\n",
				"ceiling", s / t, k, s }'
	else
		awk -v c="$c" -v s="$sent" -v t="$secs" -v d=$((d1 - d0)) 'BEGIN {
			printf "  %-7s rate    %8.0f pps delivered (%.0f sent/s, loss %.2f%%)\n",
				c, d / t, s / t, (s > 0 ? 100 * (s - d) / s : 0) }'
		# Every delivered frame must have been steered by the forward rule.
		if [ -n "$rule" ] && [ $((rp1 - rp0)) -lt $((d1 - d0)) ]; then
			say "  $c: note: the forward rule counted $((rp1 - rp0)) packets, S received $((d1 - d0))"
		fi
		if [ "$intact" != null ] && [ "$intact" -lt $((d1 - d0)) ]; then
			say "  $c: note: S received $((d1 - d0)) frames, but only $intact passed its IP and UDP checks"
		fi
	fi
}

measure_latency() {
	local c=$1 r=$2 out ps0 ps1
	ps0=$(prog_snapshot)
	out=$(in_ns "$NS_C" timeout -k 2 $((PINGS / 100 + 60)) taskset -c $((NCPU - 1)) \
		python3 "$WORK/rtt.py" "$S_IP" "$C0" "$PINGS" 2>"$WORK/rtt.err")
	ps1=$(prog_snapshot)
	if ! jq -e '.median_ns != null' >/dev/null 2>&1 <<<"$out"; then
		say "  $c: latency probe failed: $(tail -3 "$WORK/rtt.err") $out"
		return 1
	fi
	record --argjson round "$r" --arg c "$c" --argjson m "$out" \
		--argjson prog "$(prog_ns "$ps0" "$ps1")" \
		'{round: $round, case: $c, metric: "latency", prog_ns_per_run: $prog} + $m'
	jq -r '"\(.median_ns) \(.mean_ns) \(.p99_ns) \(.app_median_ns) \(.answered) \(.sent)"' <<<"$out" |
		awk -v c="$c" '{ printf "  %-7s latency %8.2f us median RTT at c0 (mean %.2f, p99 %.2f; as the process sees it %.2f; %d/%d answered)\n",
			c, $1 / 1000, $2 / 1000, $3 / 1000, $4 / 1000, $5, $6 }'
}

# --- which small-packet generator -----------------------------------------------
# probe_gen MODE: 100,000 frames with kernel forwarding; succeeds when >= 99%
# of them reach s0, and for sluice-trafficgen, reach it intact (udp_noports):
# a live-frames page comes back with the headers forwarding wrote into it, so
# the generator must rewrite them for every frame.
probe_gen() {
	local mode=$1 d0 d1 g sent oh0 oh1 u0 u1 got
	[ "$mode" = live ] && gro_m0 on
	oh0=$(ip -n "$NS_M" -s -s -j link show dev "$M0" | jq -r '.[0].stats64.rx.otherhost // 0')
	u0=$(udp_noports)
	d0=$(rx_packets)
	g=$(gen_run "$mode" "$([ "$mode" = iperf3 ] && echo 2 || echo 10)" 100000) || { [ "$mode" = live ] && gro_m0 off; PROBE_WHY="it failed: $(tail -2 "$WORK/gen.err")"; return 1; }
	sleep 0.2
	d1=$(rx_packets)
	u1=$(udp_noports)
	oh1=$(ip -n "$NS_M" -s -s -j link show dev "$M0" | jq -r '.[0].stats64.rx.otherhost // 0')
	[ "$mode" = live ] && gro_m0 off
	read -r sent _ _ <<<"$g"
	PROBE_WHY="$((d1 - d0)) of $sent frames reached S ($((oh1 - oh0)) dropped at m0 as addressed to another host"
	got=$((d1 - d0))
	if [ "$mode" != iperf3 ]; then
		got=$((u1 - u0))
		PROBE_WHY="$PROBE_WHY, $got intact at S's UDP"
	fi
	PROBE_WHY="$PROBE_WHY)"
	if [ "$mode" = live ] && [ $(((oh1 - oh0) * 2)) -gt "$sent" ]; then
		PROBE_WHY="$PROBE_WHY: recycled live-frames pages kept the MACs the forwarding wrote (a sluice-trafficgen that does not rewrite its headers per frame?)"
	fi
	[ "$sent" -gt 0 ] && [ $((got * 100)) -ge $((sent * 99)) ]
}

set_case kernel || fail "could not configure kernel forwarding in M"
verify_case kernel || fail "kernel forwarding through M does not work; nothing measured"
GEN="" GEN_NOTE=""
if [ "$GEN_MODE" != iperf3 ] && [ ! -x "$TRAFFICGEN" ]; then
	[ "$GEN_MODE" = auto ] || fail "no executable $TRAFFICGEN"
	GEN_NOTE="sluice-trafficgen is not built ($TRAFFICGEN)"
fi
if [ -z "$GEN_NOTE" ] && { [ "$GEN_MODE" = auto ] || [ "$GEN_MODE" = live ]; }; then
	if probe_gen live; then
		GEN=live
	else
		GEN_NOTE="sluice-trafficgen live frames: $PROBE_WHY"
		[ "$GEN_MODE" = live ] && fail "$GEN_NOTE"
	fi
fi
if [ -z "$GEN" ] && [ -x "$TRAFFICGEN" ] && { [ "$GEN_MODE" = auto ] || [ "$GEN_MODE" = packet ]; }; then
	if probe_gen packet; then
		GEN=packet
	else
		GEN_NOTE="${GEN_NOTE:+$GEN_NOTE; }sluice-trafficgen AF_PACKET: $PROBE_WHY"
		[ "$GEN_MODE" = packet ] && fail "$GEN_NOTE"
	fi
fi
if [ -z "$GEN" ]; then
	probe_gen iperf3 || fail "no small-packet generator works: ${GEN_NOTE:+$GEN_NOTE; }iperf3: $PROBE_WHY"
	GEN=iperf3
fi
case $GEN in
live) GEN_DESC="sluice-trafficgen, XDP live frames out of c0 (GRO on m0 during the rate runs)" ;;
packet) GEN_DESC="sluice-trafficgen --mode packet (AF_PACKET sendmmsg out of c0)" ;;
iperf3) GEN_DESC="FALLBACK iperf3 -u -l 22 -b 0 -P $GEN_THREADS (22-byte payloads: 64-byte frames like sluice-trafficgen --size 64)" ;;
esac
[ "$GEN" = iperf3 ] || GEN_DESC="$GEN_DESC, $GEN_THREADS thread(s) on CPU $(seq -s, $((NCPU - GEN_THREADS)) $((NCPU - 1))), $FLOWS flows"
clear_case || fail "could not reset M"

# With forwarding off and no rule, nothing may cross: the cases' own paths carry it.
if in_ns "$NS_C" timeout 3 ping -q -c 1 -W 1 "$S_IP" >/dev/null 2>&1; then
	fail "ping crosses M with forwarding off and no rules; the topology is not what it seems"
fi

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
OFFLOADS=$(in_ns "$NS_C" ethtool -k "$C0" | awk -F': ' '/^(tx-checksumming|tcp-segmentation-offload|generic-receive-offload):/ { printf "%s%s %s", s, $1, $2; s = ", " }')
say "redirect_bench: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), kernel $(uname -r), $NCPU CPU(s): $CPU_MODEL"
say "  C $NS_C ($C0) <-> M $NS_M ($M0, $M1) <-> S $NS_S ($S0)"
say "  $RUNS round(s) of: ${CASES// /, }; bulk and packet-rate runs of $DURATION s; $PINGS echo requests per latency run"
say "  offloads left at the veth defaults (c0: $OFFLOADS); the TCP figures are throughput, not checksum tests"
say "  small packets: $GEN_DESC"
[ -n "$GEN_NOTE" ] && say "  note: not used: $GEN_NOTE"
[ "$PROG_STATS" = 1 ] && say "  BPF statistics on (--prog-stats): they slow the sluice cases a little"
say ""

# The reference for the packet rate ("ceiling", measured first in each round):
# what the generator and m0's receive path sustain when a sluice drop rule at
# m0's tc-ingress takes every frame, so nothing is forwarded.
CEIL_RULE=""

for ROUND in $(seq 1 "$RUNS"); do
	say "round $ROUND of $RUNS"
	if [ "$GEN" != iperf3 ]; then
		CEIL_RULE=$(ctl --json add-drop --iface "$M0" --netns "$NS_M" --hook tc-ingress \
			--proto udp --dst "$NET_S" --dport "$UDP_DPORT" --name bench-ceiling | jq -r .id)
		[[ $CEIL_RULE =~ ^[0-9]+$ ]] || fail "could not add the reference drop rule"
		measure_rate ceiling "$ROUND" || fail "reference rate run failed"
		ctl del "$CEIL_RULE" >/dev/null || fail "could not delete rule $CEIL_RULE"
		CEIL_RULE=""
	fi
	for c in $CASES; do
		set_case "$c" || fail "$c: could not configure M (sysctls or rules)"
		verify_case "$c" || fail "$c: setup broken; not measured"
		measure_bulk "$c" "$ROUND" || fail "$c: bulk TCP run failed"
		measure_rate "$c" "$ROUND" || fail "$c: packet-rate run failed"
		if [ -n "$FWD_RULE" ] && [ "$c" = route ]; then
			fb=$(rule_field "$FWD_RULE" fallbacks)
			[ "$fb" = 0 ] || say "  route: note: $fb packets fell back to the stack"
		fi
		measure_latency "$c" "$ROUND" || fail "$c: latency run failed"
		clear_case || fail "$c: could not delete its rules"
	done
done
stop_daemon

# --- summary ---------------------------------------------------------------------
python3 - "$RESULTS" "$JSON_OUT" "$RUNS" "$DURATION" "$PINGS" "$GEN" "$GEN_DESC" "$(uname -r)" \
	"$CPU_MODEL" "$NCPU" "$(date -u '+%Y-%m-%d')" "$CASES" "$GEN_NOTE" "$GEN_THREADS" <<'EOF'
import json, statistics, sys

(path, json_out, runs, duration, pings, gen, gen_desc, kernel, cpu, ncpu, date, cases,
 gen_note, threads) = sys.argv[1:15]
threads = int(threads)
rows = [json.loads(l) for l in open(path)]
cases = cases.split()
modes = [c for c in cases if c != "kernel"]

def values(case, metric, key):
    return [r[key] for r in rows if r["case"] == case and r["metric"] == metric]

def stats(v):
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)} if v else None

metrics = [
    # name, metric, key, unit, scale, format, target ratio, direction
    ("bulk TCP throughput (iperf3, Gbit/s, higher is better)", "bulk", "gbps", 1, "%9.2f", 1.0, ">="),
    ("64-byte UDP packets/s delivered to S (higher is better)", "rate", "pps", 1, "%9.0f", 1.3, ">="),
    ("request/response RTT at c0, us (ICMP echo, lower is better)", "latency", "median_ns", 1e-3,
     "%9.2f", 0.8, "<="),
]
summary = {"date": date, "kernel": kernel, "cpu": cpu, "cpus": int(ncpu), "runs": int(runs),
           "duration": int(duration), "pings": int(pings), "generator": gen,
           "generator_desc": gen_desc, "generator_note": gen_note or None, "metrics": {},
           "targets": []}
print()
for title, metric, key, scale, fmt, target, op in metrics:
    print("%s, %s runs" % (title, runs))
    extra = metric == "rate"
    hdr = "%-8s %9s %9s %9s %9s" % ("case", "median", "min", "max", "vs kernel")
    if extra:
        hdr += " %9s %9s %14s" % ("sent/s", "loss", "+CPU ns/pkt")
    if metric == "latency":
        hdr += " %11s" % "process RTT"
    progs = metric in ("rate", "latency") and any(
        r.get("prog_ns_per_run") is not None for r in rows if r["metric"] == metric)
    if progs:
        hdr += " %9s" % "prog ns"
    print(hdr)
    kmed = None
    ks = stats(values("kernel", metric, key))
    if ks:
        kmed = ks["median"]
    ceil = stats(values("ceiling", "rate", "pps")) if extra else None
    summary["metrics"][metric] = {}
    show = (["ceiling"] if extra and ceil else []) + cases
    for c in show:
        s = stats(values(c, metric, key))
        if not s:
            continue
        line = "%-8s " % c + " ".join(fmt % (s[k] * scale) for k in ("median", "min", "max"))
        ratio = s["median"] / kmed if kmed and c != "ceiling" else None
        line += " %9s" % ("%.2fx" % ratio if ratio else "-")
        entry = dict(s, ratio_to_kernel=ratio)
        if extra:
            sent = stats(values(c, "rate", "sent_pps"))
            tot_sent = sum(values(c, "rate", "sent"))
            tot_del = sum(values(c, "rate", "delivered"))
            loss = (tot_sent - tot_del) / tot_sent if tot_sent and c != "ceiling" else None
            # Every thread's CPU runs the whole pipeline (sender, M, S), so
            # CPU time per packet = threads / rate.
            past = (threads * (1e9 / s["median"] - 1e9 / ceil["median"])
                    if ceil and c != "ceiling" else None)
            line += " %9.0f %9s %14s" % (sent["median"], "%.2f%%" % (100 * loss) if loss is not None else "-",
                                           "%.0f" % past if past is not None else "-")
            entry.update(sent_pps_median=sent["median"], loss=loss, ns_per_packet_past_ceiling=past)
        if metric == "latency":
            app = stats(values(c, "latency", "app_median_ns"))
            line += " %11.2f" % (app["median"] / 1000)
            entry["process_rtt_median_ns"] = app["median"]
        if progs:
            pv = [v for v in values(c, metric, "prog_ns_per_run") if v is not None]
            line += " %9s" % ("%.0f" % statistics.median(pv) if pv else "-")
            entry["prog_ns_per_run_median"] = statistics.median(pv) if pv else None
        print(line)
        summary["metrics"][metric][c] = entry
    if progs:
        print("  prog ns: mean time of one run of sluice's tc program in M (kernel BPF statistics).")
    if extra and ceil:
        print("  ceiling: no forwarding; the generator's frames dropped by a sluice rule at m0's tc-ingress.")
        if gen in ("live", "packet"):
            print("  +CPU ns/pkt: %d thread(s) x (1e9/rate - 1e9/ceiling): the CPU time M's forwarding and"
                  % threads)
            print("  S's receive add per packet (each generator CPU runs the whole path; sluice's share included).")
    print()

def round_ratios(case, metric, key):
    """Each round's value over kernel's of the same round (cases interleave)."""
    k = {r["round"]: r[key] for r in rows if r["case"] == "kernel" and r["metric"] == metric}
    return [r[key] / k[r["round"]] for r in rows
            if r["case"] == case and r["metric"] == metric and k.get(r["round"])]

print("targets: ratio of medians to kernel forwarding (range of the per-round ratios)")
for title, metric, key, scale, fmt, target, op in metrics:
    name = {"bulk": "bulk TCP", "rate": "packets/s", "latency": "RTT"}[metric]
    for m in modes:
        e = summary["metrics"][metric].get(m)
        ratio = e["ratio_to_kernel"] if e else None
        ok = ratio is not None and (ratio >= target if op == ">=" else ratio <= target)
        rr = round_ratios(m, metric, key)
        span = "(%.2f-%.2f)" % (min(rr), max(rr)) if rr else ""
        print("  %-6s %-10s %s %.1fx: %6s %-12s %s" % (m, name, op, target,
              "%.2fx" % ratio if ratio else "-", span, "PASS" if ok else "MISS"))
        summary["targets"].append({"case": m, "metric": metric, "target": "%s %.1f" % (op, target),
                                   "ratio": ratio, "round_ratios": rr, "pass": ok})
print()
print("medians over %s interleaved rounds; kernel %s, %s CPU(s) %s, %s; generator: %s"
      % (runs, kernel, ncpu, cpu, date, gen_desc))
if json_out:
    with open(json_out, "w") as f:
        json.dump({"summary": summary, "runs": rows}, f, indent=1)
        f.write("\n")
    print("raw results: %s" % json_out)
EOF
