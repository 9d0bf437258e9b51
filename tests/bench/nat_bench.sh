#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# nat_bench.sh: a gateway's destination NAT, sluice rewrite rules against
# iptables DNAT (netfilter conntrack), measured in the same run.
#
#   C: c0 10.56.1.2 (+ .10-.25) ---- g0 10.56.1.1 [G] g1 10.56.2.1 ---- s0 10.56.2.2 :S
#
# C reaches a service address, 10.200.0.80, through G; nothing owns that
# address. G forwards (net.ipv4.ip_forward=1) and translates the destination
# to the real server in S: TCP 5201 (iperf3 -s) and UDP 7000 (an echo
# responder). Cases:
#   forward   the reference: C sends to S's own address and G only forwards
#             (no NAT rule, no conntrack): what the client, the server and
#             plain forwarding cost.
#   iptables  iptables -t nat -A PREROUTING -i g0 -d 10.200.0.80 -p tcp|udp
#             --dport P -j DNAT --to-destination 10.56.2.2:P in G; the kernel's
#             conntrack tracks every flow and restores the replies.
#   sluice    no iptables rule; sluicectl add-rewrite --netns G --iface g0
#             --proto tcp|udp --dst 10.200.0.80/32 --dport P --to-dst 10.56.2.2
#             (tc-ingress of g0; sluice restores the replies on g0's tc-egress).
# Every case runs on a topology of its own, made afresh every round (new C, G
# and S namespaces): no case inherits another's conntrack entries, sockets,
# caches or netfilter hooks. (The kernel's conntrack is built in, but it tracks a
# namespace's packets only while a rule there needs it; on 6.18 that stops
# once the DNAT rules are deleted, with iptables-nft and iptables-legacy
# alike.) The script checks that G's kernel conntrack table stays empty in the
# forward and sluice cases, and that it holds the flows in the iptables case.
# Metrics:
#   bulk   iperf3 TCP C -> 10.200.0.80:5201, Gbit/s (iperf3 --json, receiver
#          side), and the whole machine's busy CPU time (/proc/stat) per Gbit
#   flows  new UDP flows per second: one request datagram and its reply, each
#          flow from a source address and port never used before in the run
#          (so each is a new conntrack entry in either case), a bounded
#          number in flight; completed flows/s, failures (no reply within
#          1 s, or an ICMP error), and busy CPU time per completed flow
# Every round sets up every case's topology, then runs bulk for every case,
# then new flows for every case, so the drift of a shared or virtual machine
# hits all cases alike; tables show median/min/max over the rounds, ratios of
# medians to iptables, and the median of the per-round ratios ("paired").
# Before a case is measured, nothing may answer at the service address without
# its rules, and then TCP and UDP exchanges must cross G through the case's
# own rules (their counters rise, the right conntrack holds them); a broken
# setup is reported and the script stops instead of measuring it.
#
# A benchmark, not a test: it never fails on numbers. Exit status 0 measured,
# 1 could not run, 2 usage error. Needs root and (for the sluice case) a build
# tree.

# awk and jq programs are in single quotes on purpose.
# shellcheck disable=SC2016
set -u
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$SCRIPT_DIR/../../build
RUNS=5
DURATION=5
JSON_OUT=""
CASES="forward iptables sluice"
WINDOW=32
CLIENTS=""
MAX_FLOWS=""
IPTABLES=iptables

usage() {
	cat <<EOF
Usage: nat_bench.sh [OPTIONS]

Destination NAT on a gateway namespace: sluice rewrite rules against
iptables DNAT with the kernel's conntrack, in interleaved rounds. Measures
bulk TCP throughput through the NAT (with CPU time per Gbit) and new UDP
flows per second (one request and one reply per flow). Prints tables and
PASS/MISS for the target (bulk TCP >= 1.0x iptables); new flows/s are
reported as a ratio to iptables.

Options:
  --runs N          rounds; each measures every case once (default $RUNS)
  --duration S      seconds of one bulk and of one new-flow run (default $DURATION)
  --cases "C ..."   forward, iptables and/or sluice, in this order within a
                    round (default "$CASES");
                    forward is the reference: plain forwarding to S's own
                    address, no NAT, no conntrack
  --window N        UDP flows each client keeps in flight (default $WINDOW)
  --clients N       new-flow client processes (default: one per CPU, at most 4)
  --max-flows N     at most N flows in one new-flow run (default: 250,000, or
                    fewer if the kernel's nf_conntrack_max is below 262,144);
                    both conntrack tables must hold them all: sluiced gets
                    --ct-max of the kernel's nf_conntrack_max
  --iptables CMD    iptables binary for the iptables case (default: $IPTABLES;
                    on Debian 12 that is iptables-nft; iptables-legacy works too)
  --json FILE       write the raw per-run results and the summary to FILE
  --build DIR       build tree with sluiced and sluicectl (default: the
                    repository's build/); only the sluice case needs it
  -h, --help        show this help

Environment: SLUICED, SLUICECTL override the binaries.
Exit status: 0 measured, 1 could not run, 2 usage error.
EOF
}

die_usage() { echo "nat_bench.sh: $*" >&2; echo "Try 'nat_bench.sh --help'." >&2; exit 2; }
in_range() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=${2:-}; shift 2 || die_usage "--runs needs a value" ;;
	--duration) DURATION=${2:-}; shift 2 || die_usage "--duration needs a value" ;;
	--cases) CASES=${2:-}; shift 2 || die_usage "--cases needs a value" ;;
	--window) WINDOW=${2:-}; shift 2 || die_usage "--window needs a value" ;;
	--clients) CLIENTS=${2:-}; shift 2 || die_usage "--clients needs a value" ;;
	--max-flows) MAX_FLOWS=${2:-}; shift 2 || die_usage "--max-flows needs a value" ;;
	--iptables) IPTABLES=${2:-}; shift 2 || die_usage "--iptables needs a value" ;;
	--json) JSON_OUT=${2:-}; shift 2 || die_usage "--json needs a value" ;;
	--build) BUILD=${2:-}; shift 2 || die_usage "--build needs a value" ;;
	-h | --help) usage; exit 0 ;;
	*) die_usage "unknown option '$1'" ;;
	esac
done
NCPU=$(nproc)
in_range "$RUNS" 1 50 || die_usage "--runs '$RUNS': expected 1-50"
in_range "$DURATION" 1 60 || die_usage "--duration '$DURATION': expected whole seconds 1-60"
in_range "$WINDOW" 1 1024 || die_usage "--window '$WINDOW': expected 1-1024"
[ -n "$CLIENTS" ] || CLIENTS=$((NCPU < 4 ? NCPU : 4))
in_range "$CLIENTS" 1 16 || die_usage "--clients '$CLIENTS': expected 1-16"
[ -z "$MAX_FLOWS" ] || in_range "$MAX_FLOWS" 100 1000000 || die_usage "--max-flows '$MAX_FLOWS': expected 100-1000000"
[ -n "$CASES" ] || die_usage "--cases: expected forward, iptables and/or sluice"
for c in $CASES; do
	case $c in forward | iptables | sluice) ;; *) die_usage "--cases: unknown case '$c' (forward, iptables, sluice)" ;; esac
done
[ "$(tr ' ' '\n' <<<"$CASES" | grep -c .)" = "$(tr ' ' '\n' <<<"$CASES" | grep . | sort -u | wc -l)" ] ||
	die_usage "--cases: a case given twice"
[ -z "$JSON_OUT" ] || [ -d "$(dirname -- "$JSON_OUT")" ] || die_usage "--json: no directory for '$JSON_OUT'"
has_case() { [[ " $CASES " == *" $1 "* ]]; }

SLUICED=${SLUICED:-$BUILD/controld/sluiced}
SLUICECTL=${SLUICECTL:-$BUILD/ctl/sluicectl}

say() { printf '%s\n' "$*"; }
fail() { echo "nat_bench.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root"
for tool in ip jq python3 iperf3 ethtool taskset timeout ping ss getconf \
	$(has_case iptables && echo "$IPTABLES"); do
	command -v "$tool" >/dev/null || fail "needs $tool (see packaging/install-deps.sh)"
done
if has_case sluice; then
	for f in "$SLUICED" "$SLUICECTL"; do
		[ -x "$f" ] || fail "no executable $f (build first, or --build DIR)"
	done
fi
[ -r /proc/sys/net/netfilter/nf_conntrack_max ] || fail "no kernel conntrack (/proc/sys/net/netfilter)"
CT_MAX=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
# What the flows of one run, the probes and the TCP connections need, in both tables.
[ -n "$MAX_FLOWS" ] || MAX_FLOWS=$((CT_MAX - 12144 < 250000 ? CT_MAX - 12144 : 250000))
if [ "$MAX_FLOWS" -le 0 ] || [ "$MAX_FLOWS" -gt $((CT_MAX - 1000)) ]; then
	die_usage "--max-flows $MAX_FLOWS: more than the kernel's nf_conntrack_max ($CT_MAX) less 1000 holds"
fi
HZ=$(getconf CLK_TCK)

# --- names of this run, and cleanup -------------------------------------------
P=$(($$ % 10000000))
NS_PREFIX="sl-nbench-$$"
C0="nb${P}c0"
G0="nb${P}g0"
G1="nb${P}g1"
S0="nb${P}s0"
C_IP=10.56.1.2 G0_IP=10.56.1.1 G1_IP=10.56.2.1 S_IP=10.56.2.2
# Source addresses of the new-flow runs (the probes use C_IP): 16 x 64,000
# ports, so no 5-tuple repeats within a run.
FLOW_SRC_IPS=$(seq -s, -f '10.56.1.%g' 10 25)
SERVICE=10.200.0.80
TCP_PORT=5201
UDP_PORT=7000
WORK=$(mktemp -d "/tmp/sluice-nat-bench.$$.XXXXXX") || fail "mktemp"
SOCK="$WORK/sluiced.sock"
BPFFS="/sys/fs/bpf/sluice-nbench-$$"
RESULTS="$WORK/results.jsonl"
MADE_NS=()
BG_PIDS=()
DAEMON_PID=""
WATCHDOG_PID=""
NS_C="" NS_G="" NS_S=""
TOPO_N=0
IPT_RULES=() IPT_NS=""
# Each case's own namespaces, responder and rules in the current round.
declare -A T_C=() T_G=() T_S=() T_UDP=() T_TCPR=() T_UDPR=()
TCP_RULE="" UDP_RULE=""
UDP_SERVER_PID=""
TARGET=$SERVICE

source "$(dirname "${BASH_SOURCE[0]}")/../lib/stop_pid.sh"
stop_daemon() { stop_pid "$DAEMON_PID"; DAEMON_PID=""; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$WATCHDOG_PID" ] && kill "$WATCHDOG_PID" 2>/dev/null
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	# This run's iptables rules, in this run's own G (its tables are private
	# to it, and deleting the namespace removes them anyway).
	[ -n "$IPT_NS" ] && [ "${#IPT_RULES[@]}" -gt 0 ] && NS_G=$IPT_NS ipt_del_rules
	stop_daemon
	# Deleting a namespace deletes its veth ends, and with them their peers.
	for ns in "${MADE_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	# Only this run's own directory on bpffs.
	[ -e "$BPFFS" ] && rm -rf -- "$BPFFS"
	if [ "$rc" != 0 ] && [ -s "$WORK/sluiced.log" ]; then
		echo "nat_bench.sh: sluiced log (last lines):" >&2
		tail -15 "$WORK/sluiced.log" >&2
	fi
	rm -rf -- "$WORK"
	wait 2>/dev/null
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NCASES=$(wc -w <<<"$CASES")
# A hard bound on the whole run, well above what the measurements need.
LIMIT=$((120 + RUNS * NCASES * (2 * DURATION + 90)))
(
	trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	sleep "$LIMIT" &
	sp=$!
	wait "$sp" || exit 0
	echo "nat_bench.sh: still running after ${LIMIT} s; giving up" >&2
	kill -TERM $$
) &
WATCHDOG_PID=$!

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
ctl() { "$SLUICECTL" --socket "$SOCK" --timeout 10 "$@"; }
mac_of() { ip -n "$1" -j link show dev "$2" | jq -r '.[0].address'; }
rule_packets() { ctl --json stats "$1" | jq -r '.rules[0].packets'; }
fwd_datagrams() { in_ns "$NS_G" awk '/^Ip:/ { if (h) { print $7; exit } h = 1 }' /proc/net/snmp; }
record() { jq -cn "$@" >>"$RESULTS"; }
# The kernel's conntrack entries in G (per namespace).
kernel_ct_count() { in_ns "$NS_G" cat /proc/sys/net/netfilter/nf_conntrack_count; }
# busy_jiffies: the whole machine's non-idle CPU time (user, nice, system,
# irq, softirq, steal), in clock ticks.
busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
now_ns() { date +%s%N; }

# wait_port NS PORT tcp|udp: until a listener is there (bounded).
wait_port() {
	local opt=-Hltn
	[ "$3" = udp ] && opt=-Hlun
	for _ in $(seq 1 50); do
		in_ns "$1" ss "$opt" "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# --- topology (made afresh for each case) -----------------------------------------
# make_topology: new C, G and S namespaces, veths, addresses, routes.
make_topology() {
	local ns ip
	TOPO_N=$((TOPO_N + 1))
	NS_C="$NS_PREFIX-$TOPO_N-c" NS_G="$NS_PREFIX-$TOPO_N-g" NS_S="$NS_PREFIX-$TOPO_N-s"
	for ns in "$NS_C" "$NS_G" "$NS_S"; do
		ip netns add "$ns" || return 1
		MADE_NS+=("$ns")
		ip -n "$ns" link set lo up || return 1
		# Quiet links: no IPv6 autoconfiguration, DAD or MLD frames.
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	ip link add "$C0" netns "$NS_C" type veth peer name "$G0" netns "$NS_G" || return 1
	ip link add "$S0" netns "$NS_S" type veth peer name "$G1" netns "$NS_G" || return 1
	ip -n "$NS_C" addr add "$C_IP/24" dev "$C0" && ip -n "$NS_G" addr add "$G0_IP/24" dev "$G0" &&
		ip -n "$NS_G" addr add "$G1_IP/24" dev "$G1" && ip -n "$NS_S" addr add "$S_IP/24" dev "$S0" ||
		return 1
	for ip in ${FLOW_SRC_IPS//,/ }; do
		ip -n "$NS_C" addr add "$ip/24" dev "$C0" || return 1
	done
	ip -n "$NS_C" link set "$C0" up && ip -n "$NS_G" link set "$G0" up &&
		ip -n "$NS_G" link set "$G1" up && ip -n "$NS_S" link set "$S0" up || return 1
	# C knows the service only as "behind G"; S answers everyone through G.
	ip -n "$NS_C" route add "$SERVICE/32" via "$G0_IP" && ip -n "$NS_C" route add default via "$G0_IP" &&
		ip -n "$NS_S" route add default via "$G1_IP" || return 1
	# Permanent neighbour entries: no ARP traffic or revalidation in the middle
	# of a measurement, the same for every case.
	local c0_mac
	c0_mac=$(mac_of "$NS_C" "$C0")
	ip -n "$NS_C" neigh replace "$G0_IP" lladdr "$(mac_of "$NS_G" "$G0")" dev "$C0" nud permanent &&
		ip -n "$NS_G" neigh replace "$S_IP" lladdr "$(mac_of "$NS_S" "$S0")" dev "$G1" nud permanent &&
		ip -n "$NS_S" neigh replace "$G1_IP" lladdr "$(mac_of "$NS_G" "$G1")" dev "$S0" nud permanent ||
		return 1
	for ip in "$C_IP" ${FLOW_SRC_IPS//,/ }; do
		ip -n "$NS_G" neigh replace "$ip" lladdr "$c0_mac" dev "$G0" nud permanent || return 1
	done
	in_ns "$NS_G" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 "net.ipv4.conf.$G0.rp_filter=0" \
		"net.ipv4.conf.$G1.rp_filter=0" || return 1
}

# drop_topology: the current case's namespaces gone (after its rules).
drop_topology() {
	local ns keep=()
	for ns in "$NS_C" "$NS_G" "$NS_S"; do
		[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	for ns in "${MADE_NS[@]}"; do
		[ "$ns" = "$NS_C" ] || [ "$ns" = "$NS_G" ] || [ "$ns" = "$NS_S" ] || keep+=("$ns")
	done
	MADE_NS=("${keep[@]}")
	NS_C="" NS_G="" NS_S=""
}

# use_case CASE: the functions below work on CASE's namespaces and rules.
use_case() {
	NS_C=${T_C[$1]} NS_G=${T_G[$1]} NS_S=${T_S[$1]}
	UDP_SERVER_PID=${T_UDP[$1]:-} TCP_RULE=${T_TCPR[$1]:-} UDP_RULE=${T_UDPR[$1]:-}
	TARGET=$SERVICE
	[ "$1" = forward ] && TARGET=$S_IP
	return 0
}

start_daemon() {
	"$SLUICED" --socket "$SOCK" --state-dir "$WORK/state" --bpffs "$BPFFS" --log-level warn \
		--ct-max "$CT_MAX" 2>>"$WORK/sluiced.log" &
	DAEMON_PID=$!
	for _ in $(seq 1 100); do
		ctl status >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# --- the UDP responder (in S) and the new-flow client (in C) ------------------------
cat >"$WORK/udp_echo.py" <<'EOF'
# udp_echo.py ADDR PORT: answers every datagram with its own payload, from ADDR:PORT.
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
recvfrom, sendto = s.recvfrom, s.sendto
while True:
    data, peer = recvfrom(2048)
    sendto(data, peer)
EOF

cat >"$WORK/flows.py" <<'EOF'
# flows.py DST PORT SRC_IPS PORT_LO PORT_HI SECONDS WINDOW MAX_FLOWS: new UDP
# flows to DST:PORT for SECONDS (or until MAX_FLOWS were opened), at most
# WINDOW in flight. A flow is a socket bound to a source address and port not
# used before in this run (the addresses in turn, then the next port),
# connected to DST:PORT, which sends one 32-byte datagram and waits for it to
# come back. Being connected, the socket takes the reply only from DST:PORT,
# so an untranslated reply does not count. A flow fails with no reply within
# 1 s or an ICMP error. Prints a JSON summary; "seconds" is the time during
# which flows were opened, "completed_in_time" the flows completed within it.
import errno, json, select, socket, struct, sys, time

dst, port = sys.argv[1], int(sys.argv[2])
src_ips = sys.argv[3].split(",")
port_lo, port_hi = int(sys.argv[4]), int(sys.argv[5])
seconds, window, max_flows = float(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
TIMEOUT = 1.0

def tuples():
    for p in range(port_lo, port_hi + 1):
        for a in src_ips:
            yield a, p

ep = select.epoll()
inflight = {}  # fd -> (socket, flow id, start time)
opened = completed = completed_in_time = failed = refused = timed_out = bad = skipped = 0
errors = {}
gen = tuples()
pad = b"sluice-nat-bench" + b"\0" * 8
AF, DG, SOL, REUSE = socket.AF_INET, socket.SOCK_DGRAM, socket.SOL_SOCKET, socket.SO_REUSEADDR
mono = time.monotonic
t_start = mono()
t_end = t_start + seconds
t_stop = None  # when the last flow was opened

def finish(fd, ok):
    global completed, completed_in_time, failed
    s = inflight.pop(fd)[0]
    ep.unregister(fd)
    s.close()
    if ok:
        completed += 1
        if t_stop is None:
            completed_in_time += 1
    else:
        failed += 1

while True:
    now = mono()
    if t_stop is None and (now >= t_end or opened >= max_flows):
        t_stop = now
    if t_stop is not None and not inflight:
        break
    if t_stop is not None and now > t_stop + TIMEOUT + 0.5:
        break  # cannot happen: every flow times out after TIMEOUT
    while t_stop is None and len(inflight) < window and opened < max_flows:
        try:
            a, p = next(gen)
        except StopIteration:
            t_stop = mono()
            break
        s = socket.socket(AF, DG)
        try:
            s.bind((a, p))
        except OSError:
            s.close()
            skipped += 1
            continue
        s.setblocking(False)
        try:
            s.connect((dst, port))
            s.send(struct.pack("!Q", opened) + pad)
        except OSError as e:
            s.close()
            failed += 1
            errors[errno.errorcode.get(e.errno, str(e.errno))] = errors.get(
                errno.errorcode.get(e.errno, str(e.errno)), 0) + 1
            opened += 1
            continue
        fd = s.fileno()
        inflight[fd] = (s, opened, mono())
        ep.register(fd, select.EPOLLIN)
        opened += 1
    for fd, _ in ep.poll(0.05):
        s, fid, _ = inflight[fd]
        try:
            data = s.recv(64)
        except OSError as e:
            name = errno.errorcode.get(e.errno, str(e.errno))
            errors[name] = errors.get(name, 0) + 1
            if e.errno == errno.ECONNREFUSED:
                refused += 1
            finish(fd, False)
            continue
        if len(data) >= 8 and struct.unpack("!Q", data[:8])[0] == fid:
            finish(fd, True)
        else:
            bad += 1
            finish(fd, False)
    now = mono()
    for fd in [fd for fd, v in inflight.items() if now - v[2] > TIMEOUT]:
        timed_out += 1
        finish(fd, False)

t_stop = t_stop or mono()
print(json.dumps({"opened": opened, "completed": completed, "completed_in_time": completed_in_time,
                  "failed": failed, "timed_out": timed_out, "refused": refused, "bad_reply": bad,
                  "skipped": skipped, "errors": errors, "seconds": t_stop - t_start,
                  "fps": completed_in_time / (t_stop - t_start) if t_stop > t_start else 0}))
EOF

# udp_server: the echo responder in S, bounded in time. With one client, the
# responder runs on the first CPU and the client on the last; with more, the
# scheduler places them all.
udp_server() {
	local pin=()
	[ "$CLIENTS" = 1 ] && pin=(taskset -c 0)
	# Not through in_ns: $! must be timeout's own pid (ip netns exec execs it),
	# so that killing it ends the responder.
	ip netns exec "$NS_S" timeout -k 2 $((2 * DURATION + 120)) "${pin[@]}" \
		python3 "$WORK/udp_echo.py" "$S_IP" "$UDP_PORT" >/dev/null 2>"$WORK/udp_echo.err" &
	BG_PIDS+=($!)
	UDP_SERVER_PID=$!
	wait_port "$NS_S" "$UDP_PORT" udp
}

# flows_run SECONDS MAX SRC_IPS PORT_LO PORT_HI [DST]: one flows.py; prints its
# JSON (DST: the case's target by default).
flows_run() {
	in_ns "$NS_C" timeout -k 2 $(($1 + 20)) taskset -c $((NCPU - 1)) python3 "$WORK/flows.py" \
		"${6:-$TARGET}" "$UDP_PORT" "$3" "$4" "$5" "$1" "$WINDOW" "$2" 2>"$WORK/flows.err"
}

# flows_clients SECONDS MAX SRC_IPS PORT_LO PORT_HI: CLIENTS flows.py at once,
# each with its own share of the source addresses (so of the 5-tuples) and of
# MAX; prints their JSON summed (fps: the sum of each client's rate).
flows_clients() {
	local i ips pids=() ok=0
	if [ "$CLIENTS" = 1 ]; then
		flows_run "$@"
		return
	fi
	for i in $(seq 0 $((CLIENTS - 1))); do
		ips=$(tr ',' '\n' <<<"$3" | awk -v n="$CLIENTS" -v i="$i" 'NR % n == i' | paste -sd,)
		in_ns "$NS_C" timeout -k 2 $(($1 + 20)) python3 "$WORK/flows.py" "$TARGET" "$UDP_PORT" \
			"$ips" "$4" "$5" "$1" "$WINDOW" $(($2 / CLIENTS)) >"$WORK/flows.$i.json" 2>"$WORK/flows.err" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || ok=1; done
	[ "$ok" = 0 ] || return 1
	jq -s 'reduce .[] as $r ({};
		reduce ($r | to_entries[]) as $e (.;
			if $e.key == "seconds" then .seconds = ([.seconds // 0, $e.value] | max)
			elif $e.key == "errors" then .errors = ((.errors // {}) as $a |
				reduce ($e.value | to_entries[]) as $x ($a; .[$x.key] = ((.[$x.key] // 0) + $x.value)))
			else .[$e.key] = ((.[$e.key] // 0) + $e.value) end))' "$WORK"/flows.*.json
}

# iperf_server: a one-off iperf3 server in S, bounded in time.
iperf_server() {
	ip netns exec "$NS_S" timeout -k 2 $((DURATION + 30)) iperf3 -s -1 -B "$S_IP" -p "$TCP_PORT" \
		>/dev/null 2>&1 &
	BG_PIDS+=($!)
	wait_port "$NS_S" "$TCP_PORT" tcp
}
# stop_iperf_server: it ends after its one test; if the client never came, now.
stop_iperf_server() {
	local pid=${BG_PIDS[-1]}
	for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# --- cases ------------------------------------------------------------------------
ipt() { in_ns "$NS_G" "$IPTABLES" -w 5 "$@"; }

# The exact rules of the iptables case: PREROUTING of G's nat table, C side.
ipt_rule() { # PROTO PORT
	echo "PREROUTING -i $G0 -d $SERVICE/32 -p $1 -m $1 --dport $2 -j DNAT --to-destination $S_IP:$2"
}
ipt_del_rules() {
	local r ok=0
	for r in "${IPT_RULES[@]}"; do
		# shellcheck disable=SC2086 # the rule is words on purpose
		ipt -t nat -D $r 2>/dev/null || ok=1
	done
	IPT_RULES=()
	return "$ok"
}
# ipt_packets PROTO: packets of the case's DNAT rule for PROTO (the nat table
# sees the first packet of each connection only).
ipt_packets() {
	ipt -t nat -S PREROUTING -v | awk -v p="-p $1" -v d="-d $SERVICE/32" '
		index($0, p " ") && index($0, d " ") && / -j DNAT / {
			for (i = 1; i < NF; i++) if ($i == "-c") { print $(i + 1); n++ }
		}
		END { if (n != 1) print "none" }'
}

# set_case CASE: the case's rules in G, and where C sends (TARGET).
set_case() {
	local c=$1 r
	TCP_RULE="" UDP_RULE="" TARGET=$SERVICE
	if [ "$c" = forward ]; then
		TARGET=$S_IP
		return 0
	fi
	if [ "$c" = iptables ]; then
		for r in "$(ipt_rule tcp "$TCP_PORT")" "$(ipt_rule udp "$UDP_PORT")"; do
			IPT_NS=$NS_G
			# shellcheck disable=SC2086 # the rule is words on purpose
			ipt -t nat -A $r || return 1
			IPT_RULES+=("$r")
		done
		return 0
	fi
	TCP_RULE=$(ctl --json add-rewrite --netns "$NS_G" --iface "$G0" --proto tcp --dst "$SERVICE/32" \
		--dport "$TCP_PORT" --to-dst "$S_IP" --name bench-dnat-tcp 2>"$WORK/ctl.err" | jq -r .id)
	UDP_RULE=$(ctl --json add-rewrite --netns "$NS_G" --iface "$G0" --proto udp --dst "$SERVICE/32" \
		--dport "$UDP_PORT" --to-dst "$S_IP" --name bench-dnat-udp 2>>"$WORK/ctl.err" | jq -r .id)
	if ! [[ $TCP_RULE =~ ^[0-9]+$ && $UDP_RULE =~ ^[0-9]+$ ]]; then
		say "  sluice: add-rewrite failed: $(head -3 "$WORK/ctl.err")"
		return 1
	fi
}

# clear_case CASE: its responder and rules gone (and sluice's flows), then its
# namespaces.
clear_case() {
	local c=$1 ok=0
	if [ -n "$UDP_SERVER_PID" ]; then
		kill "$UDP_SERVER_PID" 2>/dev/null
		wait "$UDP_SERVER_PID" 2>/dev/null
	fi
	if [ "$c" = iptables ]; then
		ipt_del_rules || ok=1
		ipt -t nat -S PREROUTING | grep -qF -- "$SERVICE" && ok=1
		IPT_NS=""
	elif [ "$c" = sluice ]; then
		[ -n "$TCP_RULE" ] && { ctl del "$TCP_RULE" >/dev/null || ok=1; }
		[ -n "$UDP_RULE" ] && { ctl del "$UDP_RULE" >/dev/null || ok=1; }
		ctl conntrack flush >/dev/null || ok=1
		TCP_RULE="" UDP_RULE=""
	fi
	T_TCPR[$c]="" T_UDPR[$c]="" T_UDP[$c]=""
	drop_topology
	return "$ok"
}

# verify_bare: before any rule, G forwards (ping C -> S) and nothing answers
# at the service address.
verify_bare() {
	local out
	if ! in_ns "$NS_C" timeout 5 ping -q -c 2 -i 0.2 -W 1 "$S_IP" >"$WORK/ping.out" 2>&1; then
		say "  ping from C to S does not cross G:"
		sed 's/^/    /' "$WORK/ping.out"
		return 1
	fi
	out=$(flows_run 2 1 "$C_IP" 1024 1024 "$SERVICE")
	if [ "$(jq -r .completed <<<"$out" 2>/dev/null)" != 0 ]; then
		say "  the service address answers without any NAT rule ($out); the topology is not what it seems"
		return 1
	fi
}

# verify_case CASE: three UDP flows and one short TCP transfer reach S through
# the case's rules, and the right conntrack (the kernel's or sluice's) has
# them; for forward, the kernel forwards them without conntrack.
verify_case() {
	local c=$1 out p ct f0 f1
	f0=$(fwd_datagrams)
	out=$(flows_run 3 3 "$C_IP" 1030 1032)
	if [ "$(jq -r .completed <<<"$out" 2>/dev/null)" != 3 ]; then
		say "  $c: UDP flows to $TARGET:$UDP_PORT through G failed: $out $(tail -2 "$WORK/flows.err")"
		return 1
	fi
	iperf_server || { say "  $c: iperf3 server did not start"; return 1; }
	out=$(in_ns "$NS_C" timeout -k 2 20 iperf3 -c "$TARGET" -p "$TCP_PORT" -n 10M --json 2>&1)
	stop_iperf_server
	if ! jq -e '.end.sum_received.bytes > 0' >/dev/null 2>&1 <<<"$out"; then
		say "  $c: TCP to $TARGET:$TCP_PORT through G failed: $(jq -r '.error // empty' <<<"$out" 2>/dev/null || head -3 <<<"$out")"
		return 1
	fi
	ct=$(kernel_ct_count)
	f1=$(fwd_datagrams)
	if [ $((f1 - f0)) -lt 6 ]; then
		say "  $c: G's IP forwarding counter rose by $((f1 - f0)) (expected >= 6)"
		return 1
	fi
	if [ "$c" = forward ]; then
		[ "$ct" = 0 ] && return 0
		say "  forward: the kernel's conntrack in G holds $ct entries (expected none)"
		return 1
	fi
	if [ "$c" = iptables ]; then
		for p in tcp udp; do
			out=$(ipt_packets "$p")
			[[ $out =~ ^[0-9]+$ ]] && [ "$out" -ge 1 ] && continue
			say "  iptables: the $p DNAT rule counted '$out' packets (expected >= 1)"
			return 1
		done
		if [ "$ct" -lt 4 ]; then
			say "  iptables: the kernel's conntrack in G holds $ct entries (expected >= 4)"
			return 1
		fi
		return 0
	fi
	for p in "$TCP_RULE" "$UDP_RULE"; do
		out=$(rule_packets "$p")
		[[ $out =~ ^[0-9]+$ ]] && [ "$out" -ge 1 ] && continue
		say "  sluice: rule $p counted '$out' packets (expected >= 1)"
		return 1
	done
	out=$(ctl --json conntrack | jq -r '.count')
	if ! [[ $out =~ ^[0-9]+$ ]] || [ "$out" -lt 4 ]; then
		say "  sluice: 'sluicectl conntrack' lists '$out' flows (expected >= 4: 3 UDP, 2 TCP)"
		return 1
	fi
	if [ "$ct" != 0 ]; then
		say "  sluice: the kernel's conntrack in G holds $ct entries; it must not run in this case"
		return 1
	fi
}

# --- metrics -----------------------------------------------------------------------
measure_bulk() {
	local c=$1 r=$2 out gbps retr j0 j1 t0 t1
	iperf_server || { say "  $c: iperf3 server did not start"; return 1; }
	j0=$(busy_jiffies) t0=$(now_ns)
	out=$(in_ns "$NS_C" timeout -k 2 $((DURATION + 20)) iperf3 -c "$TARGET" -p "$TCP_PORT" \
		-t "$DURATION" -O 1 --json 2>&1)
	j1=$(busy_jiffies) t1=$(now_ns)
	stop_iperf_server
	gbps=$(jq -r '.end.sum_received.bits_per_second / 1e9' <<<"$out" 2>/dev/null)
	retr=$(jq -r '.end.sum_sent.retransmits // 0' <<<"$out" 2>/dev/null)
	if ! [[ $gbps =~ ^[0-9.e+-]+$ ]]; then
		say "  $c: iperf3 TCP failed: $(jq -r '.error // empty' <<<"$out" 2>/dev/null || head -3 <<<"$out")"
		return 1
	fi
	# Busy CPUs over the client's whole run (the machine's, whatever runs on it).
	record --argjson round "$r" --arg c "$c" --argjson gbps "$gbps" --argjson retr "$retr" \
		--argjson busy "$(awk -v j=$((j1 - j0)) -v hz="$HZ" -v t=$((t1 - t0)) 'BEGIN { printf "%.3f", j / hz / (t / 1e9) }')" \
		'{round: $round, case: $c, metric: "bulk", gbps: $gbps, retransmits: $retr, busy_cpus: $busy,
		  cpu_ms_per_gbit: (1000 * $busy / $gbps)}'
	tail -1 "$RESULTS" | jq -r '"\(.gbps) \(.busy_cpus) \(.cpu_ms_per_gbit) \(.retransmits)"' |
		awk -v c="$c" '{ printf "  %-8s bulk  %8.2f Gbit/s   (%.2f CPUs busy, %.0f CPU ms per Gbit, %d retransmits)\n",
			c, $1, $2, $3, $4 }'
}

measure_flows() {
	local c=$1 r=$2 out j0 j1 t0 t1 rule0 rule1 ct nat_ct nat_fail=null
	case $c in
	forward) rule0=$(fwd_datagrams) ;;
	iptables) rule0=$(ipt_packets udp) ;;
	sluice) rule0=$(rule_packets "$UDP_RULE") ;;
	esac
	j0=$(busy_jiffies) t0=$(now_ns)
	out=$(flows_clients "$DURATION" "$MAX_FLOWS" "$FLOW_SRC_IPS" 1024 65535)
	j1=$(busy_jiffies) t1=$(now_ns)
	if ! jq -e '.fps != null' >/dev/null 2>&1 <<<"$out"; then
		say "  $c: the new-flow client failed: $(tail -3 "$WORK/flows.err") $out"
		return 1
	fi
	ct=$(kernel_ct_count)
	# The NAT's own flow table: the kernel's for iptables; sluice's (read by
	# flushing it, the case's last use of it) for sluice, where the kernel's
	# must still be empty.
	if [ "$c" = forward ]; then
		# Datagrams G forwarded, both ways: 2 per flow.
		rule1=$(fwd_datagrams) nat_ct=0
	elif [ "$c" = iptables ]; then
		rule1=$(ipt_packets udp) nat_ct=$ct
	else
		rule1=$(rule_packets "$UDP_RULE")
		nat_fail=$(ctl --json stats "$UDP_RULE" | jq -r '.rules[0].nat_failures // "null"')
		nat_ct=$(ctl --json conntrack flush | jq -r .flushed)
		[[ $nat_ct =~ ^[0-9]+$ ]] || { say "  sluice: 'sluicectl conntrack flush' failed"; return 1; }
		[ "$ct" = 0 ] || say "  sluice: WARNING: the kernel's conntrack in G holds $ct entries"
	fi
	record --argjson round "$r" --arg c "$c" --argjson m "$out" --argjson rule $((rule1 - rule0)) \
		--argjson ct "$ct" --argjson natct "$nat_ct" --argjson natfail "$nat_fail" \
		--argjson cpu "$(awk -v j=$((j1 - j0)) -v hz="$HZ" 'BEGIN { printf "%.4f", j / hz }')" \
		--argjson wall "$(awk -v t=$((t1 - t0)) 'BEGIN { printf "%.4f", t / 1e9 }')" \
		'{round: $round, case: $c, metric: "flows", rule_packets: $rule, kernel_ct: $ct, nat_ct: $natct,
		  nat_failures: $natfail,
		  cpu_seconds: $cpu, wall_seconds: $wall, busy_cpus: ($cpu / $wall),
		  cpu_us_per_flow: (if $m.completed > 0 then 1e6 * $cpu / $m.completed else null end)} + $m'
	tail -1 "$RESULTS" | jq -r '"\(.fps) \(.completed) \(.opened) \(.failed) \(.cpu_us_per_flow // 0) \(.busy_cpus) \(.rule_packets) \(.nat_ct) \(.kernel_ct)"' |
		awk -v c="$c" '{ printf "  %-8s flows %8.0f new flows/s (%d of %d completed, %d failed; %.1f CPU us per flow, %.2f CPUs busy)\n", c, $1, $2, $3, $4, $5, $6
			if (c == "forward")
				printf "           G forwarded %d datagrams (kernel conntrack in G: %d)\n", $7, $9
			else
				printf "           rule counted %d; %s conntrack held %d flows (kernel conntrack in G: %d)\n",
					$7, c == "sluice" ? "sluice" : "kernel", $8, $9 }'
	[ "$nat_fail" = null ] || [ "$nat_fail" = 0 ] ||
		say "  $c: note: the UDP rule counts $nat_fail NAT failures (sluice could not translate or track)"
	# Every flow must have been a new one for the NAT (no tuple reused).
	if [ "$c" != forward ] && [ $((rule1 - rule0)) -lt "$(jq -r .completed <<<"$out")" ]; then
		say "  $c: note: the UDP rule counted $((rule1 - rule0)) packets for $(jq -r .completed <<<"$out") completed flows"
	fi
}

# --- run ----------------------------------------------------------------------------
if has_case sluice; then
	start_daemon || fail "sluiced did not become ready"
fi

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
IPT_VERSION=""
has_case iptables && IPT_VERSION=$("$IPTABLES" --version 2>/dev/null | head -1)
say "nat_bench: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), kernel $(uname -r), $NCPU CPU(s): $CPU_MODEL"
say "  C ($C0) <-> G ($G0, $G1) <-> S ($S0); each case has its own namespaces $NS_PREFIX-N-{c,g,s}, made afresh every round"
say "  DNAT $SERVICE tcp/$TCP_PORT, udp/$UDP_PORT -> $S_IP in G; ${IPT_VERSION:+iptables: $IPT_VERSION; }conntrack max $CT_MAX"
say "  $RUNS round(s) of: ${CASES// /, }; bulk and new-flow runs of $DURATION s"
say "  new flows: $CLIENTS client process(es) in C, $WINDOW flows in flight each; the UDP responder in S is python too"
say ""

ROUND=0
OFFLOADS=""
for ROUND in $(seq 1 "$RUNS"); do
	say "round $ROUND of $RUNS"
	# Every case's topology first, each checked, so that the measurements of
	# the cases follow each other closely: bulk for every case, then new flows.
	for c in $CASES; do
		make_topology || fail "could not set up namespaces and veths"
		T_C[$c]=$NS_C T_G[$c]=$NS_G T_S[$c]=$NS_S
		if [ -z "$OFFLOADS" ]; then
			OFFLOADS=$(in_ns "$NS_C" ethtool -k "$C0" | awk -F': ' '/^(tx-checksumming|tcp-segmentation-offload|generic-receive-offload):/ { printf "%s%s %s", s, $1, $2; s = ", " }')
			say "  offloads left at the veth defaults (c0: $OFFLOADS); the TCP figures are throughput, not checksum tests"
		fi
		udp_server || fail "the UDP responder in S did not start"
		T_UDP[$c]=$UDP_SERVER_PID
		verify_bare || fail "$c: the bare topology is broken; not measured"
		set_case "$c" || fail "$c: could not add its rules in G"
		T_TCPR[$c]=$TCP_RULE T_UDPR[$c]=$UDP_RULE
		verify_case "$c" || fail "$c: setup broken; not measured"
	done
	for c in $CASES; do
		use_case "$c"
		measure_bulk "$c" "$ROUND" || fail "$c: bulk TCP run failed"
	done
	for c in $CASES; do
		use_case "$c"
		measure_flows "$c" "$ROUND" || fail "$c: new-flow run failed"
	done
	for c in $CASES; do
		use_case "$c"
		clear_case "$c" || fail "$c: could not delete its rules"
	done
	# A moment for the kernel to finish with the namespaces (and their
	# conntrack entries) before the next round.
	sleep 2
done
stop_daemon

# --- summary ---------------------------------------------------------------------
python3 - "$RESULTS" "$JSON_OUT" "$RUNS" "$DURATION" "$WINDOW" "$(uname -r)" "$CPU_MODEL" "$NCPU" \
	"$(date -u '+%Y-%m-%d')" "$CASES" "$IPT_VERSION" "$OFFLOADS" "$CLIENTS" <<'EOF'
import json, statistics, sys

(path, json_out, runs, duration, window, kernel, cpu, ncpu, date, cases, ipt_version,
 offloads, clients) = sys.argv[1:14]
rows = [json.loads(l) for l in open(path)]
cases = cases.split()

def values(case, metric, key):
    return [r[key] for r in rows if r["case"] == case and r["metric"] == metric and r[key] is not None]

def stats(v):
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)} if v else None

summary = {"date": date, "kernel": kernel, "cpu": cpu, "cpus": int(ncpu), "runs": int(runs),
           "duration": int(duration), "window": int(window), "clients": int(clients),
           "iptables": ipt_version or None,
           "offloads": offloads, "metrics": {}, "targets": []}
metrics = [
    ("bulk TCP throughput through the DNAT (iperf3, Gbit/s at the receiver, higher is better)",
     "bulk", "gbps", "%9.2f"),
    ("new UDP flows/s through the DNAT (request + reply each, higher is better)",
     "flows", "fps", "%9.0f"),
]
print()
for title, metric, key, fmt in metrics:
    print("%s, %s runs" % (title, runs))
    hdr = "%-9s %9s %9s %9s %12s" % ("case", "median", "min", "max", "vs iptables")
    hdr += " %12s" % ("CPU ms/Gbit" if metric == "bulk" else "CPU us/flow")
    if metric == "flows":
        hdr += " %13s %10s %10s" % ("failed", "NAT flows", "kernel ct")
    print(hdr)
    base = stats(values("iptables", metric, key))
    summary["metrics"][metric] = {}
    for c in cases:
        s = stats(values(c, metric, key))
        if not s:
            continue
        ratio = s["median"] / base["median"] if base and base["median"] else None
        cpukey = "cpu_ms_per_gbit" if metric == "bulk" else "cpu_us_per_flow"
        cv = values(c, metric, cpukey)
        cmed = statistics.median(cv) if cv else None
        line = "%-9s " % c + " ".join(fmt % s[k] for k in ("median", "min", "max"))
        line += " %12s" % ("%.2fx" % ratio if ratio else "-")
        line += " %12s" % (("%.0f" if metric == "bulk" else "%.1f") % cmed if cmed is not None else "-")
        entry = dict(s, ratio_to_iptables=ratio)
        entry[cpukey + "_median"] = cmed
        if metric == "flows":
            failed = sum(values(c, metric, "failed"))
            opened = sum(values(c, metric, "opened"))
            natct = statistics.median(values(c, metric, "nat_ct"))
            kct = statistics.median(values(c, metric, "kernel_ct"))
            entry.update(failed=failed, opened=opened, nat_ct_median=natct, kernel_ct_median=kct)
            line += " %13s %10s %10d" % ("%d/%d" % (failed, opened) if opened else "-",
                                         "-" if c == "forward" else "%d" % natct, kct)
        print(line)
        summary["metrics"][metric][c] = entry
    if metric == "bulk":
        print("  CPU ms/Gbit: the whole machine's busy CPU time (/proc/stat) during the run per Gbit;")
        print("  iperf3's client and server and all the forwarding share the machine's CPUs.")
        if "forward" in cases:
            print("  forward: no NAT; C sends to S's own address and G only forwards (the reference).")
    else:
        print("  each flow: a new source address/port, one 32-byte datagram to the service and its reply;")
        print("  %s client(s), %s in flight each; failed = no reply within 1 s or an ICMP error;"
              % (clients, window))
        print("  CPU us/flow: the machine's busy CPU time during the run per completed flow.")
        print("  NAT flows: entries in the NAT's own table after a run (iptables: the kernel's conntrack in G,")
        print("  sluice: sluice's); kernel ct: the kernel's conntrack entries in G (0: not tracking).")
    print()

def round_ratios(case, metric, key):
    """Each round's value over iptables' of the same round (cases interleave)."""
    k = {r["round"]: r[key] for r in rows if r["case"] == "iptables" and r["metric"] == metric}
    return [r[key] / k[r["round"]] for r in rows
            if r["case"] == case and r["metric"] == metric and k.get(r["round"])]

if "iptables" in cases and "sluice" in cases:
    print("sluice against iptables: ratio of medians; paired: median of the per-round ratios (their range)")
    for metric, key, name, target in (("bulk", "gbps", "bulk TCP", 1.0), ("flows", "fps", "new flows/s", None)):
        e = summary["metrics"][metric].get("sluice")
        ratio = e["ratio_to_iptables"] if e else None
        rr = round_ratios("sluice", metric, key)
        paired = statistics.median(rr) if rr else None
        span = "%.2fx (%.2f-%.2f)" % (paired, min(rr), max(rr)) if rr else ""
        if target is not None:
            ok = ratio is not None and ratio >= target
            verdict = ">= %.1fx: %s" % (target, "PASS" if ok else "MISS")
        else:
            ok = None
            verdict = "(reported)"
        print("  %-12s %6s   paired %-19s %s" % (name, "%.2fx" % ratio if ratio else "-", span, verdict))
        summary["targets"].append({"case": "sluice", "metric": metric,
                                   "target": ">= %.1f" % target if target is not None else None,
                                   "ratio": ratio, "paired_ratio": paired, "round_ratios": rr,
                                   "pass": ok})
    print()
print("medians over %s interleaved rounds; kernel %s, %s CPU(s) %s, %s" % (runs, kernel, ncpu, cpu, date))
if json_out:
    with open(json_out, "w") as f:
        json.dump({"summary": summary, "runs": rows}, f, indent=1)
        f.write("\n")
    print("raw results: %s" % json_out)
EOF
