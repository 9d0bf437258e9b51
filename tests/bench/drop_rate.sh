#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# drop_rate.sh: packets/s dropped on the receiving end of a veth: by a bare
# XDP_DROP program, by sluice with N rules (XDP, and one rule at tc ingress),
# and, to compare with, by nftables at netdev ingress (one rule; one rule
# with a 10,000-address set) and by iptables in raw PREROUTING (one rule; the
# rule behind 10,000 others). Needs root and a build tree.
#
# Two namespaces of its own, A and B, joined by one veth pair per case (bare,
# sluice-1, sluice-1000, ..., sluice-tc, nft-netdev, ...), all set up before
# measuring: sluice-trafficgen sends UDP out of the case's A end; the program
# or rule on its B end drops it. XDP cases: the rate is the growth of the B
# end's rx_queue_*_xdp_drops (ethtool -S) over the generator's sending time.
# The other cases: the generator's frames become skbs on the B end (GRO on
# gives the veth the NAPI ring live frames need), and the rate is the growth
# of the dropping rule's own packet counter (sluicectl stats, nft counter,
# iptables -v), checked against the frames the B end received
# (rx_queue_*_xdp_packets). Runs go round-robin over the cases (round 1:
# every case once, round 2: ...), so the drift of a shared or virtual machine
# spreads over all cases instead of favouring whichever ran first.
# Nothing leaves the namespaces this script made; all addresses are 10.x.
# Every filter lives in namespace B and names its veth, so cases do not
# see each other's rules: XDP, tc and netdev ingress are per device, and the
# only case traffic that reaches raw PREROUTING (whose chains every packet
# entering B's IP stack walks) is that of the ipt cases, the others having
# been dropped before it. The 10,000 rules of ipt-10k sit in a chain of their
# own, jumped to only for its veth; ipt-1's rule comes first in PREROUTING.
#
# With live frames the receiver's NAPI runs on the sender's CPU, so a rate is
# that of the whole sender + receiver pipeline on one core: comparable
# between cases on one machine, not a NIC line-rate figure.

set -u
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${BUILD:-$SCRIPT_DIR/../../build}
DURATION=2
REPEATS=3
RULES="1 1000 100000"
SIZE=64
ALL_CASES="bare sluice sluice-tc nft-netdev nft-set-10k ipt-1 ipt-10k"
CASES=$ALL_CASES
THREADS=1
FLOWS=1
CPUS=""
JSON=0

usage() {
	cat <<EOF
Usage: drop_rate.sh [OPTIONS]

Measures packets/s dropped on the receiving end of a veth, one case each:
  bare         a bare XDP_DROP program
  sluice       sluice at XDP with N rules of mixed shapes of which exactly one
               matches the generated traffic (one case per N of --rules)
  sluice-tc    sluice at tc ingress, one rule
  nft-netdev   nftables, netdev family ingress chain: ip saddr A udp dport 9
               counter drop
  nft-set-10k  the same, with ip saddr @set of 10,000 IPv4 addresses
  ipt-1        iptables -t raw PREROUTING -i IF -s A -p udp --dport 9 -j DROP
  ipt-10k      the same rule behind 10,000 non-matching ones

Options:
  --build DIR       build tree (default: $BUILD)
  --duration SEC    sending time of one run (default $DURATION)
  --repeats R       rounds; each runs every case once (default $REPEATS)
  --rules "N ..."   rule counts of the sluice cases (default "$RULES")
  --size BYTES      frame size (default $SIZE)
  --flows N         UDP source ports the generator cycles through (default $FLOWS)
  --threads N       generator threads (default $THREADS); the veth gets N queues
  --cpus LIST       CPUs the generator runs on, one per thread, e.g. "1" or
                    "0,1" (default: the last N CPUs; CPU 0 usually carries
                    the machine's interrupts and housekeeping). With live
                    frames the receiver's XDP program runs on these CPUs too.
  --cases "C ..."   some of the cases above (default "$CASES")
  --json            print the summary as JSON
  -h, --help        show this help

Environment: TRAFFICGEN, SLUICED, SLUICECTL, BARE_DROP_OBJ override the
binaries taken from the build tree. IPTABLES (default iptables, which on
Debian 12 is iptables-nft; iptables-legacy for x_tables) is the iptables of
the ipt cases; IPTABLES_RESTORE (default \$IPTABLES-restore) its restore tool.
Exit status: 0 measured, 1 failed, 2 usage error.
EOF
}

die_usage() { echo "drop_rate.sh: $*" >&2; echo "Try 'drop_rate.sh --help'." >&2; exit 2; }
# in_range VALUE MIN MAX: VALUE is a decimal integer within [MIN, MAX].
in_range() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=${2:-}; shift 2 || die_usage "--build needs a value" ;;
	--duration) DURATION=${2:-}; shift 2 || die_usage "--duration needs a value" ;;
	--repeats) REPEATS=${2:-}; shift 2 || die_usage "--repeats needs a value" ;;
	--rules) RULES=${2:-}; shift 2 || die_usage "--rules needs a value" ;;
	--size) SIZE=${2:-}; shift 2 || die_usage "--size needs a value" ;;
	--flows) FLOWS=${2:-}; shift 2 || die_usage "--flows needs a value" ;;
	--threads) THREADS=${2:-}; shift 2 || die_usage "--threads needs a value" ;;
	--cases) CASES=${2:-}; shift 2 || die_usage "--cases needs a value" ;;
	--cpus) CPUS=${2:-}; shift 2 || die_usage "--cpus needs a value" ;;
	--json) JSON=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die_usage "unknown option '$1'" ;;
	esac
done
seconds_ok() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v d="$1" 'BEGIN { exit !(d > 0 && d <= 60) }'; }
cpus_ok() { [[ $1 =~ ^[0-9]+(,[0-9]+)*$ ]] && [ "$(tr , '\n' <<<"$1" | wc -l)" = "$THREADS" ]; }

seconds_ok "$DURATION" || die_usage "--duration '$DURATION': expected seconds, > 0 and <= 60"
in_range "$REPEATS" 1 100 || die_usage "--repeats '$REPEATS': expected 1-100"
in_range "$SIZE" 60 1514 || die_usage "--size '$SIZE': expected 60-1514"
in_range "$FLOWS" 1 50000 || die_usage "--flows '$FLOWS': expected 1-50000"
in_range "$THREADS" 1 "$(nproc)" || die_usage "--threads '$THREADS': expected 1-$(nproc)"
for n in $RULES; do
	in_range "$n" 1 130000 || die_usage "--rules: '$n' is not a rule count 1-130000"
done
[ -n "$CASES" ] || die_usage "--cases is empty"
for c in $CASES; do
	case " $ALL_CASES " in *" $c "*) ;; *) die_usage "--cases: unknown case '$c' ($ALL_CASES)" ;; esac
done
if [ -z "$CPUS" ]; then
	# The last CPUs: CPU 0 usually takes the machine's interrupts and housekeeping.
	CPUS=$(seq -s, $(($(nproc) - THREADS)) $(($(nproc) - 1)))
fi
cpus_ok "$CPUS" || die_usage "--cpus '$CPUS': expected $THREADS CPU number(s), comma-separated"

TRAFFICGEN=${TRAFFICGEN:-$BUILD/tests/bench/sluice-trafficgen}
BARE_DROP_OBJ=${BARE_DROP_OBJ:-$BUILD/tests/bench/bare_drop.bpf.o}
SLUICED=${SLUICED:-$BUILD/controld/sluiced}
SLUICECTL=${SLUICECTL:-$BUILD/ctl/sluicectl}
IPTABLES=${IPTABLES:-iptables}
IPTABLES_RESTORE=${IPTABLES_RESTORE:-$IPTABLES-restore}

[ "$(id -u)" = 0 ] || { echo "drop_rate.sh: needs root" >&2; exit 1; }
for tool in ip ethtool jq python3; do
	command -v "$tool" >/dev/null || { echo "drop_rate.sh: needs $tool" >&2; exit 1; }
done
for f in "$TRAFFICGEN" "$SLUICED" "$SLUICECTL"; do
	[ -x "$f" ] || { echo "drop_rate.sh: no executable $f (build first, or --build DIR)" >&2; exit 1; }
done
[ -r "$BARE_DROP_OBJ" ] || { echo "drop_rate.sh: no $BARE_DROP_OBJ (build first)" >&2; exit 1; }
case " $CASES " in *" nft-"*)
	command -v nft >/dev/null || { echo "drop_rate.sh: needs nft for the nft cases" >&2; exit 1; } ;;
esac
case " $CASES " in *" ipt-"*)
	for tool in "$IPTABLES" "$IPTABLES_RESTORE"; do
		command -v "$tool" >/dev/null ||
			{ echo "drop_rate.sh: needs $tool for the ipt cases" >&2; exit 1; }
	done ;;
esac

# --- names of this run, and cleanup -----------------------------------------
ID="dr$$"
NS_A="sluice-bench-$$-a"
NS_B="sluice-bench-$$-b"
DPORT=9
WORK=$(mktemp -d "/tmp/sluice-drop-rate.$$.XXXXXX")
SOCK="$WORK/sluiced.sock"
BPFFS="/sys/fs/bpf/sluice-bench-$$"
RESULTS="$WORK/results"
MADE_NS=()
DAEMON_PID=""

log() { if [ "$JSON" = 1 ]; then echo "$*" >&2; else echo "$*"; fi; }

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID"
		# Detaching programs with 100,000 rules' maps takes a moment; then insist.
		for _ in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$DAEMON_PID" 2>/dev/null; then
			echo "drop_rate.sh: sluiced did not stop on SIGTERM; killing it" >&2
			kill -KILL "$DAEMON_PID" 2>/dev/null
		fi
	fi
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=""
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_daemon
	# Deleting a namespace deletes its veth ends, and with them their peers.
	for ns in "${MADE_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	# Only our own directory on bpffs: sluiced normally leaves nothing in it.
	if [ -e "$BPFFS" ]; then rm -rf -- "$BPFFS"; fi
	rm -rf -- "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "drop_rate.sh: $*" >&2; exit 1; }

# --- the cases, one veth pair each ------------------------------------------
# CASE_NAME[i], CASE_RULES[i] (0: bare; else the rules a dropped packet's path
# holds), CASE_HOOK[i] (xdp, tc-ingress, netdev-ingress, raw-prerouting),
# CASE_SET[i] (elements of the nft set; else 0), IF_A[i] / IF_B[i], ADDR_A[i] /
# ADDR_B[i] (10.202.i.1 -> 10.202.i.2), HIT[i] (sluice: id of the rule that
# matches; nft: "TABLE CHAIN" of it; iptables: "CHAIN NUMBER" of it).
CASE_NAME=() CASE_RULES=() CASE_HOOK=() CASE_SET=() IF_A=() IF_B=() ADDR_A=() ADDR_B=() HIT=()
add_case() { CASE_NAME+=("$1"); CASE_RULES+=("$2"); CASE_HOOK+=("$3"); CASE_SET+=("${4:-0}"); }
SET_SIZE=10000
IPT_OTHERS=10000
for c in $CASES; do
	case $c in
	bare) add_case bare 0 xdp ;;
	sluice) for n in $RULES; do add_case "sluice-$n" "$n" xdp; done ;;
	sluice-tc) add_case sluice-tc 1 tc-ingress ;;
	nft-netdev) add_case nft-netdev 1 netdev-ingress ;;
	nft-set-10k) add_case nft-set-10k 1 netdev-ingress "$SET_SIZE" ;;
	ipt-1) add_case ipt-1 1 raw-prerouting ;;
	ipt-10k) add_case ipt-10k $((IPT_OTHERS + 1)) raw-prerouting ;;
	esac
done
[ "${#CASE_NAME[@]}" -gt 0 ] || die_usage "no case to run (--cases, --rules)"
[ "${#CASE_NAME[@]}" -le 200 ] || die_usage "too many cases"
[ "$(printf '%s\n' "${CASE_NAME[@]}" | sort | uniq -d)" = "" ] || die_usage "a case is given twice"
for i in "${!CASE_NAME[@]}"; do
	IF_A+=("${ID}a$i") IF_B+=("${ID}b$i")
	ADDR_A+=("10.202.$i.1") ADDR_B+=("10.202.$i.2") HIT+=("")
done

setup() {
	local ns i
	for ns in "$NS_A" "$NS_B"; do
		ip netns add "$ns" || return 1
		MADE_NS+=("$ns")
		# Quiet links: no IPv6 autoconfiguration, DAD or MLD frames.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	for i in "${!CASE_NAME[@]}"; do
		ip link add "${IF_A[i]}" numtxqueues "$THREADS" numrxqueues "$THREADS" netns "$NS_A" \
			type veth peer name "${IF_B[i]}" numtxqueues "$THREADS" \
			numrxqueues "$THREADS" netns "$NS_B" || return 1
		ip -n "$NS_A" addr add "${ADDR_A[i]}/24" dev "${IF_A[i]}" &&
			ip -n "$NS_B" addr add "${ADDR_B[i]}/24" dev "${IF_B[i]}" || return 1
		if [ "${CASE_HOOK[i]}" != xdp ]; then
			# No XDP program on this B end: GRO gives the veth the NAPI ring
			# that live frames need (else the kernel discards them).
			ip netns exec "$NS_B" ethtool -K "${IF_B[i]}" gro on >/dev/null || return 1
		fi
		ip -n "$NS_A" link set "${IF_A[i]}" up && ip -n "$NS_B" link set "${IF_B[i]}" up ||
			return 1
	done
}
setup || fail "could not set up namespaces and veths"

# ethtool_sum IF REGEX: sum of IF's (in B) ethtool statistics matching REGEX.
ethtool_sum() {
	ip netns exec "$NS_B" ethtool -S "$1" |
		awk -v re="$2" '{ n = $1; sub(":", "", n) } n ~ re { s += $2 } END { print s + 0 }'
}
# xdp_drops IF: sum of IF's rx_queue_N_xdp_drops.
xdp_drops() { ethtool_sum "$1" '^rx_queue_[0-9]+_xdp_drops$'; }
# rx_frames IF: sum of IF's rx_queue_N_xdp_packets: frames the veth took from
# its peer, with or without an XDP program.
rx_frames() { ethtool_sum "$1" '^rx_queue_[0-9]+_xdp_packets$'; }

xdp_prog_info() { ip -n "$NS_B" -d link show dev "$1" | grep -o 'prog/xdp.*' | head -1; }

# dropped I: the drop count of case I now: XDP drops for the XDP cases, else
# the packet counter of the dropping rule.
dropped() {
	local i=$1
	case ${CASE_HOOK[i]} in
	xdp) xdp_drops "${IF_B[i]}" ;;
	tc-ingress) rule_packets "${HIT[i]}" ;;
	netdev-ingress) nft_packets "${HIT[i]% *}" "${HIT[i]#* }" ;;
	raw-prerouting) ipt_packets "${HIT[i]% *}" "${HIT[i]#* }" ;;
	esac
}

# measure I ROUND: one generator run for case I; appends a line to $RESULTS.
LAST_DROPPED=0 LAST_RX=0
measure() {
	local i=$1 round=$2 d0 d1 r0 r1 out sent secs
	if ! d0=$(dropped "$i") || ! r0=$(rx_frames "${IF_B[i]}"); then
		fail "${CASE_NAME[i]}: reading its counters failed"
	fi
	out=$(taskset -c "$CPUS" "$TRAFFICGEN" --netns "$NS_A" --dev "${IF_A[i]}" \
		--src-ip "${ADDR_A[i]}" --dst-ip "${ADDR_B[i]}" --dport "$DPORT" --size "$SIZE" \
		--flows "$FLOWS" --threads "$THREADS" --duration "$DURATION" --json) ||
		fail "${CASE_NAME[i]}: sluice-trafficgen failed"
	if ! d1=$(dropped "$i") || ! r1=$(rx_frames "${IF_B[i]}"); then
		fail "${CASE_NAME[i]}: reading its counters failed"
	fi
	[[ $d0$d1 =~ ^[0-9]+$ ]] || fail "${CASE_NAME[i]}: drop counter read '$d0', '$d1'"
	sent=$(jq -r .packets <<<"$out")
	secs=$(jq -r .seconds <<<"$out")
	[ "$(jq -r .mode <<<"$out")" = live ] ||
		log "  note: the generator fell back to $(jq -r .mode <<<"$out") mode"
	echo "run ${CASE_NAME[i]} ${CASE_RULES[i]} $((d1 - d0)) $sent $secs $round" \
		"${CASE_HOOK[i]} ${CASE_SET[i]}" >>"$RESULTS"
	log "$(awk -v n="${CASE_NAME[i]}" -v d=$((d1 - d0)) -v s="$sent" -v t="$secs" 'BEGIN {
		printf "  %-14s %12.0f dropped/s  (%d dropped of %d sent in %.3f s)", n, d / t, d, s, t
	}')"
	LAST_DROPPED=$((d1 - d0)) LAST_RX=$((r1 - r0))
}

start_daemon() {
	"$SLUICED" --socket "$SOCK" --state-dir "$WORK/state" --bpffs "$BPFFS" --log-level warn \
		2>>"$WORK/sluiced.log" &
	DAEMON_PID=$!
	for _ in $(seq 1 100); do
		"$SLUICECTL" --socket "$SOCK" --timeout 2 status >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 "$WORK/sluiced.log" >&2
	fail "sluiced did not become ready"
}

# bulk_add IF N SRC [HOOK]: writes N add-drop requests for IF (in B) at HOOK
# (default: sluiced's, xdp) to the socket as one pipelined stream and reads
# every reply. Exactly one rule matches the generator's frames (UDP from SRC
# to port DPORT), in the middle of the stream; the others cycle through six
# shapes that never match them. Prints {"added", "seconds", "hit_rule"}.
bulk_add() {
	python3 - "$SOCK" "$1" "$NS_B" "$2" "$3" "$DPORT" "${4:-}" <<'EOF'
import json, socket, sys, threading, time

path, iface, netns, n, src, dport, hook = sys.argv[1:8]
n = int(n)

def other(i):
    # Index k within each of six shapes; address blocks apart from 10.0.0.0/8.
    kind, k = i % 6, i // 6
    if kind == 0:
        return {"src": "198.18.%d.%d/32" % (k >> 8, k & 255)}
    if kind == 1:
        return {"src": "2001:db8:1::%x:%x/128" % (k >> 16, k & 0xffff)}
    if kind == 2:
        return {"proto": "udp", "dport": 20000 + k}
    if kind == 3:
        return {"dst": "172.%d.%d.0/24" % (16 + (k >> 8), k & 255), "proto": "tcp",
                "dport": 1 + k % 60000}
    if kind == 4:
        return {"dst": "2001:db8:2:%x::/64" % k, "proto": "tcp", "dport": 22}
    return {"src": "%d.%d.0.0/16" % (64 + (k >> 8), k & 255), "proto": "tcp"}

hit_at = n // 2
lines = []
for i in range(n):
    if i == hit_at:
        args = {"src": src + "/32", "proto": "udp", "dport": int(dport), "name": "bench-hit"}
    else:
        args = other(i if i < hit_at else i - 1)
    args.update({"iface": iface, "netns": netns})
    if hook:
        args["hook"] = hook
    lines.append(json.dumps({"id": i, "cmd": "add-drop", "args": args}, separators=(",", ":")))
data = ("\n".join(lines) + "\n").encode()

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(300)
s.connect(path)
t0 = time.monotonic()

def writer():
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        print("sending requests: %s" % e, file=sys.stderr)

w = threading.Thread(target=writer, daemon=True)
w.start()
replies = s.makefile("rb")
hit_rule = None
for i in range(n):
    line = replies.readline()
    if not line:
        sys.exit("sluiced closed the connection after %d of %d replies" % (i, n))
    r = json.loads(line)
    if r.get("id") != i or not r.get("ok"):
        sys.exit("request %d (%s): reply %s" % (i, lines[i], line.decode().strip()))
    if i == hit_at:
        hit_rule = r["result"]["id"]
seconds = time.monotonic() - t0
w.join()
print(json.dumps({"added": n, "seconds": seconds, "hit_rule": hit_rule}))
EOF
}

rule_packets() { "$SLUICECTL" --socket "$SOCK" --json stats "$1" | jq -r '.rules[0].packets'; }

# nft_packets TABLE CHAIN: the packets of the (one) counter in netdev TABLE's
# CHAIN in B. Lists the chain only, not the set's elements.
nft_packets() {
	ip netns exec "$NS_B" nft -j list chain netdev "$1" "$2" |
		jq -e '[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets] |
			if length == 1 then .[0] else error("expected one counter") end'
}

# ipt_packets CHAIN NUMBER: the packets of rule NUMBER of raw CHAIN in B.
ipt_packets() {
	ip netns exec "$NS_B" "$IPTABLES" -w 5 -t raw -L "$1" "$2" -v -x -n | awk 'NR == 1 { print $1 }'
}

# nft_add I: the netdev table of case I (named after its B end), its ingress
# chain on that device, and the one rule, dropping UDP from A to DPORT; with
# CASE_SET[i] > 0 the rule matches the source through a set of that many
# addresses: 198.18.x.y ones that never match, and A.
nft_add() {
	local i=$1 t
	t=${IF_B[i]}
	{
		echo "table netdev $t {"
		if [ "${CASE_SET[i]}" -gt 0 ]; then
			echo "	set blocked {"
			echo "		type ipv4_addr"
			printf '		elements = { %s' "${ADDR_A[i]}"
			awk -v n=$((CASE_SET[i] - 1)) 'BEGIN {
				for (k = 0; k < n; k++) printf ",\n\t\t\t198.18.%d.%d", int(k / 256), k % 256
			}'
			echo " }"
			echo "	}"
		fi
		echo "	chain ingress {"
		echo "		type filter hook ingress device \"$t\" priority 0; policy accept;"
		if [ "${CASE_SET[i]}" -gt 0 ]; then
			echo "		ip saddr @blocked udp dport $DPORT counter drop"
		else
			echo "		ip saddr ${ADDR_A[i]} udp dport $DPORT counter drop"
		fi
		echo "	}"
		echo "}"
	} | ip netns exec "$NS_B" nft -f - || return 1
	HIT[i]="$t ingress"
}

# ipt_add I: the DROP rule of case I in B's raw table. With one rule, it is
# inserted first in PREROUTING. With more, the CASE_RULES[i] - 1 others
# (-s 198.18.x.y/32 -j DROP, never matching) and then the DROP rule go into a
# chain of the case's own, which PREROUTING jumps to only for packets in
# through its B end: the other cases' packets never walk them.
ipt_add() {
	local i=$1 n rule chain
	n=$((CASE_RULES[i] - 1))
	rule="-i ${IF_B[i]} -s ${ADDR_A[i]}/32 -p udp -m udp --dport $DPORT -j DROP"
	if [ "$n" = 0 ]; then
		printf '*raw\n-I PREROUTING 1 %s\nCOMMIT\n' "$rule" |
			ip netns exec "$NS_B" "$IPTABLES_RESTORE" -w 5 --noflush || return 1
		HIT[i]="PREROUTING 1"
		return 0
	fi
	chain=${IF_B[i]}
	{
		echo "*raw"
		echo ":$chain - [0:0]"
		echo "-A PREROUTING -i ${IF_B[i]} -j $chain"
		awk -v n="$n" -v c="$chain" 'BEGIN {
			for (k = 0; k < n; k++) printf "-A %s -s 198.18.%d.%d/32 -j DROP\n", c, int(k / 256), k % 256
		}'
		echo "-A $chain $rule"
		echo "COMMIT"
	} | ip netns exec "$NS_B" "$IPTABLES_RESTORE" -w 5 --noflush || return 1
	HIT[i]="$chain $((n + 1))"
}

# --- attach: bare program, sluice rules, nft and iptables rules -----------
log "drop_rate: ${DURATION} s x ${REPEATS} rounds, ${SIZE}-byte frames, ${FLOWS} flow(s)," \
	"${THREADS} generator thread(s) on CPU $CPUS; namespaces $NS_A -> $NS_B"
IPT_VERSION=""
for i in "${!CASE_NAME[@]}"; do
	n=${CASE_RULES[i]}
	case ${CASE_HOOK[i]} in
	netdev-ingress)
		nft_add "$i" || fail "${CASE_NAME[i]}: adding the nft table failed"
		log "${CASE_NAME[i]}: ${IF_A[i]} -> ${IF_B[i]}: nft table netdev ${IF_B[i]}, chain" \
			"ingress: $(ip netns exec "$NS_B" nft list chain netdev "${HIT[i]% *}" "${HIT[i]#* }" |
				awk '/counter/ { $1 = $1; print }')$([ "${CASE_SET[i]}" -gt 0 ] &&
				echo " (set: ${CASE_SET[i]} addresses)")"
		continue ;;
	raw-prerouting)
		[ -n "$IPT_VERSION" ] || IPT_VERSION=$("$IPTABLES" -V)
		t0=$(date +%s.%N)
		ipt_add "$i" || fail "${CASE_NAME[i]}: adding the iptables rules failed"
		log "${CASE_NAME[i]}: ${IF_A[i]} -> ${IF_B[i]}: $IPT_VERSION: raw ${HIT[i]% *} holds" \
			"$(ip netns exec "$NS_B" "$IPTABLES" -w 5 -t raw -S "${HIT[i]% *}" | grep -c '^-A')" \
			"rules, of which rule ${HIT[i]#* } drops; added in $(awk -v t="$t0" \
				-v u="$(date +%s.%N)" 'BEGIN { printf "%.2f", u - t }') s"
		continue ;;
	esac
	if [ "$n" = 0 ]; then
		ip netns exec "$NS_B" ip link set dev "${IF_B[i]}" xdp obj "$BARE_DROP_OBJ" sec xdp ||
			fail "attaching $BARE_DROP_OBJ to ${IF_B[i]}"
		log "${CASE_NAME[i]}: ${IF_A[i]} -> ${IF_B[i]}: $(basename "$BARE_DROP_OBJ")" \
			"($(xdp_prog_info "${IF_B[i]}"))"
		continue
	fi
	[ -n "$DAEMON_PID" ] || start_daemon
	add=$(bulk_add "${IF_B[i]}" "$n" "${ADDR_A[i]}" "${CASE_HOOK[i]}") ||
		fail "${CASE_NAME[i]}: adding rules failed"
	HIT[i]=$(jq -r .hit_rule <<<"$add")
	secs=$(jq -r .seconds <<<"$add")
	echo "bulkadd ${CASE_NAME[i]} $secs" >>"$RESULTS"
	status=$("$SLUICECTL" --socket "$SOCK" --json status) || fail "sluicectl status failed"
	log "${CASE_NAME[i]}: ${IF_A[i]} -> ${IF_B[i]}: $n rules added in $(printf '%.2f' "$secs") s" \
		"($(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", n / s }') rules/s, one pipelined" \
		"stream; the first rule also loads and attaches the program);" \
		"$(jq -c --arg i "${IF_B[i]}" '[.hooks[] | select(.iface == $i) | {hook, mode, rules, shapes}]' \
			<<<"$status")$([ "${CASE_HOOK[i]}" = xdp ] && echo " ($(xdp_prog_info "${IF_B[i]}"))")"
done

# --- measure, round-robin -------------------------------------------------
declare -A P0 DROPS RX
for i in "${!CASE_NAME[@]}"; do
	DROPS[$i]=0 RX[$i]=0
	if [ "${CASE_HOOK[i]}" = xdp ] && [ -n "${HIT[i]}" ]; then
		P0[$i]=$(rule_packets "${HIT[i]}") || fail "stats of rule ${HIT[i]} failed"
	fi
done
for r in $(seq 1 "$REPEATS"); do
	log "round $r of $REPEATS"
	for i in "${!CASE_NAME[@]}"; do
		measure "$i" "$r"
		DROPS[$i]=$((DROPS[$i] + LAST_DROPPED)) RX[$i]=$((RX[$i] + LAST_RX))
	done
done

# --- cross-checks: the dropping rule's counter ------------------------------
# XDP cases: against the XDP drops. The others, whose drops are the rule's
# counter: against the frames the B end received (rx_queue_*_xdp_packets),
# all of which the rule should have dropped.
for i in "${!CASE_NAME[@]}"; do
	if [ "${CASE_HOOK[i]}" != xdp ]; then
		if [ "${DROPS[$i]}" = "${RX[$i]}" ]; then
			log "${CASE_NAME[i]}: cross-check: the dropping rule (${HIT[i]}) counted" \
				"${DROPS[$i]} packets = ${RX[$i]} frames received on ${IF_B[i]}"
		else
			log "${CASE_NAME[i]}: cross-check: MISMATCH: the dropping rule (${HIT[i]}) counted" \
				"${DROPS[$i]} packets, ${IF_B[i]} received ${RX[$i]} frames"
		fi
		echo "rxcheck ${CASE_NAME[i]} ${HIT[i]// /:} ${DROPS[$i]} ${RX[$i]}" >>"$RESULTS"
		continue
	fi
	[ -n "${HIT[i]}" ] || continue
	stats=$("$SLUICECTL" --socket "$SOCK" --json stats "${HIT[i]}") ||
		fail "stats of rule ${HIT[i]} failed"
	p1=$(jq -r '.rules[0].packets' <<<"$stats")
	log "${CASE_NAME[i]}: sluicectl --json stats ${HIT[i]}: $stats"
	if [ $((p1 - P0[$i])) = "${DROPS[$i]}" ]; then
		log "  cross-check: the matching rule counted $((p1 - P0[$i])) packets" \
			"= ${DROPS[$i]} XDP drops on ${IF_B[i]}"
	else
		log "  cross-check: MISMATCH: the matching rule counted $((p1 - P0[$i])) packets," \
			"${IF_B[i]} counted ${DROPS[$i]} XDP drops"
	fi
	echo "rulecheck ${CASE_NAME[i]} ${HIT[i]} $((p1 - P0[$i])) ${DROPS[$i]}" >>"$RESULTS"
done
stop_daemon

# --- summary -----------------------------------------------------------------
python3 - "$RESULTS" "$JSON" "$DURATION" "$REPEATS" "$SIZE" "$FLOWS" "$THREADS" "$CPUS" \
	"$IPT_VERSION" <<'EOF'
import json, statistics, sys

path, as_json = sys.argv[1], sys.argv[2] == "1"
duration, repeats, size, flows, threads, cpus, ipt_version = sys.argv[3:10]
cases, order, bulk, checks = {}, [], {}, {}
for line in open(path):
    f = line.split()
    if f[0] == "bulkadd":
        bulk[f[1]] = float(f[2])
    elif f[0] == "rulecheck":
        checks[f[1]] = {"rule": int(f[2]), "rule_packets": int(f[3]), "xdp_drops": int(f[4]),
                        "equal": f[3] == f[4]}
    elif f[0] == "rxcheck":
        rule = f[2].replace(":", " ")
        checks[f[1]] = {"rule": int(rule) if rule.isdigit() else rule,
                        "rule_packets": int(f[3]), "rx_frames": int(f[4]), "equal": f[3] == f[4]}
    else:
        name, rules, dropped, sent, secs, rnd, hook, set_size = (
            f[1], int(f[2]), int(f[3]), int(f[4]), float(f[5]), int(f[6]), f[7], int(f[8]))
        if name not in cases:
            cases[name] = {"rules": rules or None, "hook": hook, "set_elements": set_size,
                           "runs": []}
            order.append(name)
        cases[name]["runs"].append({"round": rnd, "dropped": dropped, "sent": sent,
                                    "seconds": secs, "pps": dropped / secs if secs > 0 else 0.0})
out = []
bare = None
for name in order:
    c = cases[name]
    pps = [r["pps"] for r in c["runs"]]
    row = {"case": name, "rules": c["rules"], "median_pps": statistics.median(pps),
           "min_pps": min(pps), "max_pps": max(pps),
           "dropped_of_sent": sum(r["dropped"] for r in c["runs"]) /
                              max(1, sum(r["sent"] for r in c["runs"])),
           "runs": c["runs"], "hook": c["hook"],
           "counted_by": "xdp_drops" if c["hook"] == "xdp" else "rule_counter"}
    if c["set_elements"]:
        row["set_elements"] = c["set_elements"]
    if c["hook"] == "raw-prerouting":
        row["iptables"] = ipt_version
    if name in bulk:
        row["bulk_add_seconds"] = bulk[name]
    if name in checks:
        row["rule_check"] = checks[name]
    if name == "bare":
        bare = row["median_pps"]
    out.append(row)
# Paired: the case against bare of the same round, which ran seconds apart;
# robust to the machine getting slower or faster between rounds.
bare_by_round = {r["round"]: r["pps"] for r in cases["bare"]["runs"]} if "bare" in cases else {}
for row in out:
    row["ratio_to_bare"] = row["median_pps"] / bare if bare else None
    paired = [r["pps"] / bare_by_round[r["round"]] for r in row["runs"]
              if bare_by_round.get(r["round"])]
    row["paired_ratio_to_bare"] = statistics.median(paired) if paired else None

if as_json:
    print(json.dumps({"duration": float(duration), "repeats": int(repeats), "size": int(size),
                      "flows": int(flows), "threads": int(threads), "cpus": cpus, "cases": out}))
    sys.exit(0)
print()
print("%-14s %-14s %7s %13s %13s %13s %8s %8s %9s %9s" %
      ("case", "hook", "rules", "median pps", "min pps", "max pps", "vs bare", "paired",
       "drop/sent", "bulk add"))
for r in out:
    print("%-14s %-14s %7s %13.0f %13.0f %13.0f %8s %8s %8.1f%% %9s" %
          (r["case"], r["hook"], r["rules"] if r["rules"] else "-", r["median_pps"],
           r["min_pps"], r["max_pps"],
           "%.3fx" % r["ratio_to_bare"] if r["ratio_to_bare"] else "-",
           "%.3fx" % r["paired_ratio_to_bare"] if r["paired_ratio_to_bare"] else "-",
           100 * r["dropped_of_sent"],
           "%.2f s" % r["bulk_add_seconds"] if "bulk_add_seconds" in r else "-"))
print()
print("vs bare: median pps / bare's median pps. paired: median over rounds of pps / bare's pps")
print("in the same round (less sensitive to the machine's drift). pps = drops per second of")
print("sending: XDP drops on the receiving veth (hook xdp), else the dropping rule's packet")
print("counter; drop/sent = drops / frames the generator sent.")
if ipt_version and any(r["hook"] == "raw-prerouting" for r in out):
    print("raw-prerouting: %s." % ipt_version)
EOF
