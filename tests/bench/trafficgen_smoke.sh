#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Smoke test of sluice-trafficgen (ctest bench.trafficgen, needs root):
#   usage errors exit 2;
#   live frames and AF_PACKET each send an exact --count out of a veth, and
#   the peer's counters account for every frame: an XDP drop program's
#   rx_queue_*_xdp_drops, then the peer's IPv4/UDP stack (UdpNoPorts, which
#   only counts datagrams whose IP and UDP checksums verified);
#   live frames forwarded by the peer to a third namespace arrive intact
#   (the generator restores the headers the forwarding rewrote);
#   with --src-ips, each mode's frames reach the peer's stack from every
#   source address in equal shares, all of them, with no checksum error.
#
# Accounting identities, exact by construction of the kernel's counters:
#   live:   sent == tx_queue_*_xdp_xmit + tx_queue_*_xdp_xmit_errors (sender's
#           ethtool stats: frames the peer's ring took / refused), and the
#           receiver counts exactly xdp_xmit;
#   packet: sent == received + the sender's tx_dropped.
# A full 256-slot veth ring may legitimately refuse frames when the peer's
# NAPI run is deferred (a loaded CI machine), so refusals are allowed up to
# 1% and reported; everything else must match to the packet.
#
# Usage: trafficgen_smoke.sh SLUICE_TRAFFICGEN BARE_DROP_BPF_OBJ

set -u
TG=${1:?usage: trafficgen_smoke.sh SLUICE_TRAFFICGEN BARE_DROP_BPF_OBJ}
DROP_OBJ=${2:?usage: trafficgen_smoke.sh SLUICE_TRAFFICGEN BARE_DROP_BPF_OBJ}
COUNT=10000

ID="tgs$$"
NS_A="$ID-a"
NS_B="$ID-b"
IF_A="${ID}a"
IF_B="${ID}b"
ADDR_A=10.201.0.1
ADDR_B=10.201.0.2
FAILS=0
PASSES=0
MADE_NS=()

log() { printf '[bench.trafficgen] %s\n' "$*"; }
pass() { PASSES=$((PASSES + 1)); log "ok: $*"; }
fail() { FAILS=$((FAILS + 1)); log "FAIL: $*"; }
check_eq() { if [ "$2" = "$3" ]; then pass "$1 ($3)"; else fail "$1: expected '$2', got '$3'"; fi; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

cleanup() {
	local rc=$?
	# Deleting a namespace deletes the veth in it, and with it its peer.
	for ns in "${MADE_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	log "$PASSES passed, $FAILS failed"
	if [ "$FAILS" != 0 ] || [ "$rc" != 0 ]; then exit 1; fi
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { log "needs root"; exit 1; }
[ -x "$TG" ] || { log "no executable $TG"; exit 1; }
[ -r "$DROP_OBJ" ] || { log "no BPF object $DROP_OBJ"; exit 1; }
command -v jq >/dev/null || { log "needs jq"; exit 1; }

# --- usage errors: exit 2, before touching anything -----------------------
expect_rc() {
	local want=$1 what=$2
	shift 2
	"$@" >/dev/null 2>&1
	check_eq "$what exits $want" "$want" "$?"
}
expect_rc 2 "unknown option" "$TG" --dev lo --bogus
expect_rc 2 "missing --dev" "$TG" --count 1
expect_rc 2 "--size below 60" "$TG" --dev lo --size 59
expect_rc 2 "bad --mode" "$TG" --dev lo --mode fast
expect_rc 2 "bad --dst-mac" "$TG" --dev lo --dst-mac 00:11:22:33:44
expect_rc 2 "option without value" "$TG" --dev
expect_rc 0 "--help" "$TG" --help
expect_rc 1 "interface that does not exist" "$TG" --dev "${ID}none" --count 1
expect_rc 2 "--src-ips 0" "$TG" --dev lo --src-ips 0
expect_rc 2 "--src-ips above 65536" "$TG" --dev lo --src-ips 65537
expect_rc 2 "--src-ips wrapping past 255.255.255.255" \
	"$TG" --dev lo --src-ip 255.255.255.254 --src-ips 3
# Up to 255.255.255.255 inclusive is fine: it gets as far as the interface.
expect_rc 1 "--src-ips ending at 255.255.255.255" \
	"$TG" --dev "${ID}none" --src-ip 255.255.255.254 --src-ips 2 --count 1

# --- two namespaces joined by a veth ----------------------------------------
setup() {
	local ns
	for ns in "$NS_A" "$NS_B"; do
		ip netns add "$ns" || return 1
		MADE_NS+=("$ns")
		# No IPv6: router solicitations and MLD reports would add frames the
		# exact counts below would have to guess about.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B" || return 1
	ip -n "$NS_A" addr add "$ADDR_A/24" dev "$IF_A" &&
		ip -n "$NS_B" addr add "$ADDR_B/24" dev "$IF_B" || return 1
	MAC_A=$(ip -n "$NS_A" -j link show dev "$IF_A" | jq -r '.[0].address')
	MAC_B=$(ip -n "$NS_B" -j link show dev "$IF_B" | jq -r '.[0].address')
	# Permanent neighbours: no ARP frames in either direction.
	ip -n "$NS_A" neigh add "$ADDR_B" lladdr "$MAC_B" dev "$IF_A" nud permanent &&
		ip -n "$NS_B" neigh add "$ADDR_A" lladdr "$MAC_A" dev "$IF_B" nud permanent || return 1
	# GRO gives the peer the NAPI ring that live frames need when no XDP
	# program is attached; without rx checksum offload the peer's stack
	# verifies every UDP checksum itself.
	ip netns exec "$NS_B" ethtool -K "$IF_B" gro on rx off >/dev/null || return 1
	ip -n "$NS_A" link set "$IF_A" up && ip -n "$NS_B" link set "$IF_B" up
}
setup || { fail "setting up namespaces and veth"; exit 1; }

# ethtool_sum NS IF REGEX: sum of the ethtool statistics whose name matches.
ethtool_sum() {
	ip netns exec "$1" ethtool -S "$2" |
		awk -v re="$3" '{ n = $1; sub(":", "", n) } n ~ re { s += $2 } END { print s + 0 }'
}
# nstat_get NS COUNTER: absolute value of a SNMP counter in NS.
nstat_get() { ip netns exec "$1" nstat -as "$2" | awk -v c="$2" '$1 == c { v = $2 } END { print v + 0 }'; }
tx_dropped() { ip -n "$1" -j -s link show dev "$2" | jq '.[0].stats64.tx.dropped'; }

xmit() { ethtool_sum "$NS_A" "$IF_A" '^tx_queue_[0-9]+_xdp_xmit$'; }
xmit_err() { ethtool_sum "$NS_A" "$IF_A" '^tx_queue_[0-9]+_xdp_xmit_errors$'; }
xdp_drops() { ethtool_sum "$NS_B" "$IF_B" '^rx_queue_[0-9]+_xdp_drops$'; }

# gen MODE [OPTIONS]: runs the generator in A, leaves its JSON in $OUT.
gen() {
	local mode=$1
	shift
	OUT=$("$TG" --netns "$NS_A" --dev "$IF_A" --src-ip "$ADDR_A" --dst-ip "$ADDR_B" \
		--mode "$mode" --count "$COUNT" --json "$@")
	check_eq "$mode: generator exits 0" 0 "$?"
	check_eq "$mode: mode reported" "$mode" "$(jq -r .mode <<<"$OUT")"
	check_eq "$mode: packets sent" "$COUNT" "$(jq -r .packets <<<"$OUT")"
	check_eq "$mode: destination MAC is the veth peer's" "$MAC_B" "$(jq -r .dst_mac <<<"$OUT")"
}

# at_most_1pct WHAT N: a refusal count a full ring may explain.
at_most_1pct() {
	if [ "$2" -le $((COUNT / 100)) ]; then pass "$1: $2 refused by a full ring (<= 1%)"
	else fail "$1: $2 of $COUNT refused by a full ring (> 1%)"; fi
}

# --- 1. into an XDP drop program on the peer --------------------------------
ip netns exec "$NS_B" ip link set dev "$IF_B" xdp obj "$DROP_OBJ" sec xdp ||
	{ fail "attaching $DROP_OBJ to $IF_B"; exit 1; }

d0=$(xdp_drops) x0=$(xmit) e0=$(xmit_err)
gen live --flows 16
d1=$(xdp_drops) x1=$(xmit) e1=$(xmit_err)
check_eq "live -> XDP drop: sent = ring took + ring refused" "$COUNT" $(((x1 - x0) + (e1 - e0)))
check_eq "live -> XDP drop: peer dropped what its ring took" $((x1 - x0)) $((d1 - d0))
at_most_1pct "live -> XDP drop" $((e1 - e0))

d0=$(xdp_drops) t0=$(tx_dropped "$NS_A" "$IF_A")
gen packet --flows 16
d1=$(xdp_drops) t1=$(tx_dropped "$NS_A" "$IF_A")
check_eq "packet -> XDP drop: sent = peer dropped + sender tx_dropped" "$COUNT" \
	$(((d1 - d0) + (t1 - t0)))
at_most_1pct "packet -> XDP drop" $((t1 - t0))

ip netns exec "$NS_B" ip link set dev "$IF_B" xdp off

# --- 2. into the peer's stack: checksums verified, no socket (UdpNoPorts) ----
# UdpNoPorts counts only datagrams whose IP header and UDP checksum verified
# (with rx offload off); any bad checksum lands in *CsumErrors instead.
stack_case() {
	local mode=$1 u0 u1 c0 c1 i0 i1 x0 x1 e0 e1 t0 t1
	u0=$(nstat_get "$NS_B" UdpNoPorts) c0=$(nstat_get "$NS_B" UdpInCsumErrors)
	i0=$(nstat_get "$NS_B" IpExtInCsumErrors)
	x0=$(xmit) e0=$(xmit_err) t0=$(tx_dropped "$NS_A" "$IF_A")
	gen "$mode" --flows 100 --size 333
	u1=$(nstat_get "$NS_B" UdpNoPorts) c1=$(nstat_get "$NS_B" UdpInCsumErrors)
	i1=$(nstat_get "$NS_B" IpExtInCsumErrors)
	x1=$(xmit) e1=$(xmit_err) t1=$(tx_dropped "$NS_A" "$IF_A")
	check_eq "$mode -> stack: no UDP checksum errors" 0 $((c1 - c0))
	check_eq "$mode -> stack: no IP checksum errors" 0 $((i1 - i0))
	if [ "$mode" = live ]; then
		check_eq "$mode -> stack: sent = ring took + ring refused" "$COUNT" \
			$(((x1 - x0) + (e1 - e0)))
		check_eq "$mode -> stack: peer's UDP got what its ring took" $((x1 - x0)) $((u1 - u0))
		at_most_1pct "$mode -> stack" $((e1 - e0))
	else
		check_eq "$mode -> stack: sent = peer's UDP got + sender tx_dropped" "$COUNT" \
			$(((u1 - u0) + (t1 - t0)))
		at_most_1pct "$mode -> stack" $((t1 - t0))
	fi
}
stack_case live
stack_case packet

# --- 2b. several source addresses into the peer's stack ---------------------
# --src-ips 4 --flows 3: 12 (address, port) flows, cycled by one thread, so
# each address sends exactly a quarter. An nftables counter per source
# address in B's input hook (after the IPv4 header checksum was verified,
# before UDP's) says who arrived; UdpNoPorts says all of them verified.
SRC_PREFIX=10.201.0.
SRC_FIRST=10 # .10-.13: not A's or B's own, which B would drop as martian
SRC_N=4
SRC_COUNT=1200
src_setup() {
	local i
	# B answers every datagram with a port unreachable: no ARP for it.
	for ((i = 0; i < SRC_N; i++)); do
		ip -n "$NS_B" neigh add "$SRC_PREFIX$((SRC_FIRST + i))" lladdr "$MAC_A" \
			dev "$IF_B" nud permanent || return 1
	done
}
src_counters() {
	local i
	ip netns exec "$NS_B" nft delete table ip "$ID" 2>/dev/null
	{
		echo "table ip $ID {"
		for ((i = 0; i < SRC_N; i++)); do echo "counter src$i { }"; done
		echo "chain input { type filter hook input priority filter; policy accept;"
		for ((i = 0; i < SRC_N; i++)); do
			echo "ip saddr $SRC_PREFIX$((SRC_FIRST + i)) udp dport 9 counter name src$i"
		done
		echo "}"
		echo "}"
	} | ip netns exec "$NS_B" nft -f -
}
src_counter() {
	ip netns exec "$NS_B" nft -j list counter ip "$ID" "src$1" |
		jq '[.nftables[] | select(.counter) | .counter.packets][0] // -1'
}
src_ips_case() {
	local mode=$1 what="$1 --src-ips $SRC_N --flows 3 -> stack" u0 u1 c0 c1 i0 i1 h0 h1 i
	local x0 x1 e0 e1 t0 t1 refused share got
	src_counters || { fail "$what: nftables counters in $NS_B"; return; }
	u0=$(nstat_get "$NS_B" UdpNoPorts) c0=$(nstat_get "$NS_B" UdpInCsumErrors)
	i0=$(nstat_get "$NS_B" IpExtInCsumErrors) h0=$(nstat_get "$NS_B" IpInHdrErrors)
	x0=$(xmit) e0=$(xmit_err) t0=$(tx_dropped "$NS_A" "$IF_A")
	OUT=$("$TG" --netns "$NS_A" --dev "$IF_A" --src-ip "$SRC_PREFIX$SRC_FIRST" \
		--src-ips "$SRC_N" --flows 3 --dst-ip "$ADDR_B" --mode "$mode" \
		--count "$SRC_COUNT" --json)
	check_eq "$what: generator exits 0" 0 "$?"
	u1=$(nstat_get "$NS_B" UdpNoPorts) c1=$(nstat_get "$NS_B" UdpInCsumErrors)
	i1=$(nstat_get "$NS_B" IpExtInCsumErrors) h1=$(nstat_get "$NS_B" IpInHdrErrors)
	x1=$(xmit) e1=$(xmit_err) t1=$(tx_dropped "$NS_A" "$IF_A")
	check_eq "$what: mode reported" "$mode" "$(jq -r .mode <<<"$OUT")"
	check_eq "$what: src_ips reported" "$SRC_N" "$(jq -r .src_ips <<<"$OUT")"
	check_eq "$what: packets sent" "$SRC_COUNT" "$(jq -r .packets <<<"$OUT")"
	check_eq "$what: no UDP checksum errors" 0 $((c1 - c0))
	check_eq "$what: no IP checksum errors" 0 $((i1 - i0))
	check_eq "$what: no IP header errors" 0 $((h1 - h0))
	# A full ring may refuse a few frames on a loaded machine, as in stack_case.
	if [ "$mode" = live ]; then refused=$((e1 - e0)); else refused=$((t1 - t0)); fi
	at_most_1pct "$what" "$refused"
	check_eq "$what: peer's UDP got every frame not refused" $((SRC_COUNT - refused)) $((u1 - u0))
	share=$((SRC_COUNT / SRC_N))
	for ((i = 0; i < SRC_N; i++)); do
		got=$(src_counter "$i")
		check "$what: frames from $SRC_PREFIX$((SRC_FIRST + i)): $got of $share" \
			test "$got" -le "$share" -a "$got" -ge $((share - refused))
	done
	ip netns exec "$NS_B" nft delete table ip "$ID"
}
if src_setup; then
	src_ips_case live
	src_ips_case packet
else
	fail "setting up neighbours for the --src-ips sources"
fi

# --- 4. live frames through a forwarding namespace, into a third one --------
# B forwards to C and rewrites the MACs, the TTL and the IPv4 checksum in the
# frame's own page, which live frames then recycle as B left it. Unless the
# generator rewrites every header of every frame, later frames leave A with
# B's MACs (B drops them as addressed to another host) or an ever lower TTL.
NS_C="$ID-c"
IF_BC="${ID}bc"
IF_C="${ID}c"
ADDR_C=10.202.0.2
setup_forwarding() {
	local mac_c
	ip netns add "$NS_C" || return 1
	MADE_NS+=("$NS_C")
	ip netns exec "$NS_C" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || return 1
	ip link add "$IF_BC" netns "$NS_B" type veth peer name "$IF_C" netns "$NS_C" || return 1
	ip -n "$NS_B" addr add 10.202.0.1/24 dev "$IF_BC" &&
		ip -n "$NS_C" addr add "$ADDR_C/24" dev "$IF_C" || return 1
	mac_c=$(ip -n "$NS_C" -j link show dev "$IF_C" | jq -r '.[0].address')
	ip -n "$NS_B" neigh add "$ADDR_C" lladdr "$mac_c" dev "$IF_BC" nud permanent || return 1
	# C has no route back: its port-unreachable errors stay home. Without
	# rx checksum offload C verifies every checksum itself.
	ip netns exec "$NS_C" ethtool -K "$IF_C" rx off >/dev/null || return 1
	ip netns exec "$NS_B" sysctl -qw net.ipv4.ip_forward=1 || return 1
	ip -n "$NS_B" link set "$IF_BC" up && ip -n "$NS_C" link set "$IF_C" up
}

forward_case() {
	local flows=$1 u0 u1 c0 c1 i0 i1 lost
	u0=$(nstat_get "$NS_C" UdpNoPorts) c0=$(nstat_get "$NS_C" UdpInCsumErrors)
	i0=$(nstat_get "$NS_C" IpExtInCsumErrors)
	OUT=$("$TG" --netns "$NS_A" --dev "$IF_A" --src-ip "$ADDR_A" --dst-ip "$ADDR_C" \
		--mode live --count "$COUNT" --flows "$flows" --json)
	check_eq "live via B, $flows flow(s): generator exits 0" 0 "$?"
	check_eq "live via B, $flows flow(s): packets sent" "$COUNT" "$(jq -r .packets <<<"$OUT")"
	u1=$(nstat_get "$NS_C" UdpNoPorts) c1=$(nstat_get "$NS_C" UdpInCsumErrors)
	i1=$(nstat_get "$NS_C" IpExtInCsumErrors)
	check_eq "live via B, $flows flow(s): no UDP checksum errors at C" 0 $((c1 - c0))
	check_eq "live via B, $flows flow(s): no IP checksum errors at C" 0 $((i1 - i0))
	# A full ring may refuse a few; stale headers would lose nearly all.
	lost=$((COUNT - (u1 - u0)))
	if [ "$lost" -le $((COUNT / 100)) ]; then
		pass "live via B, $flows flow(s): $lost of $COUNT missing at C's UDP (<= 1%)"
	else
		fail "live via B, $flows flow(s): $lost of $COUNT missing at C's UDP (headers left stale?)"
	fi
}
if setup_forwarding; then
	forward_case 1
	forward_case 16
else
	fail "setting up the forwarding namespace"
fi

# --- 3. a duration-bounded run ends on time and says so ---------------------
start=$(date +%s%N)
OUT=$("$TG" --netns "$NS_A" --dev "$IF_A" --duration 0.3 --json)
check_eq "duration run exits 0" 0 "$?"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
secs=$(jq -r .seconds <<<"$OUT")
if awk -v s="$secs" 'BEGIN { exit !(s >= 0.29 && s < 1.0) }' && [ "$elapsed_ms" -lt 5000 ]; then
	pass "duration 0.3 s honoured ($secs s reported, ${elapsed_ms} ms wall)"
else
	fail "duration 0.3 s: reported $secs s, ${elapsed_ms} ms wall"
fi
