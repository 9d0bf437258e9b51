#!/usr/bin/env bash
# Redirects through a middle namespace whose IP forwarding is OFF, so only a
# sluice redirect can deliver: client $C -> middle $M -> server $S.
#
#   $C  $CIF 10.51.1.2 fd00:51:1::2 ---- $M0 10.51.1.1 fd00:51:1::1  [$M]
#   $S  $SIF 10.51.2.2 fd00:51:2::2 ---- $M1 10.51.2.1 fd00:51:2::1  [$M]
#
# For each of egress, neigh, peer and route, one rule per direction makes a
# two-way gateway: UDP datagrams, ping and a TCP connection cross it and the
# forward rule counts exactly the datagrams sent; deleting the rules stops
# delivery. Then ingress mode (a socket bound to the target sees the packet),
# IPv6, drop-before-redirect, priorities and refused input.
T_NAME=redirect
. "$(dirname "$0")/lib.sh"

three_hosts 51 || exit 1
# Every checksum is computed in software and verified by the receiver.
for spec in "$C $CIF" "$M $M0" "$M $M1" "$S $SIF"; do
	set -- $spec
	ip netns exec "$1" ethtool -K "$2" tx off rx off >/dev/null 2>&1
done
ip netns exec "$M" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	"net.ipv4.conf.$M1.rp_filter=0"
start_daemon || exit 1

check_eq "IPv4 forwarding is off in the middle" 0 \
	"$(ip netns exec "$M" sysctl -n net.ipv4.ip_forward)"

# udp_count NS ADDR PORT N [OPTS]: sends N datagrams from $C and prints how
# many a receiver at ADDR:PORT in NS got (bounded: the receiver quits after
# 3 s). An IPv6 ADDR is bracketed; OPTS are more socat receiver options.
udp_count() {
	local ns=$1 addr=$2 port=$3 n=$4 opts=${5:-}
	local out="$T_DIR/udp.$3" recv=UDP-RECV send=UDP
	case "$addr" in *:*) recv=UDP6-RECV send=UDP6 addr="[$addr]" ;; esac
	: >"$out"
	bg_in "$ns" timeout 3 socat -u "$recv:$port,reuseaddr$opts" "OPEN:$out,append"
	wait_port "$ns" "$port" udp || { echo 0; return; }
	for i in $(seq 1 "$n"); do
		echo "dgram-$i" | ip netns exec "$C" socat -u - "$send:$addr:$port" 2>/dev/null
	done
	sleep 0.5
	kill "${T_PIDS[-1]}" 2>/dev/null
	wait "${T_PIDS[-1]}" 2>/dev/null
	grep -c '^dgram-' "$out"
}

reply_ttl() {
	ip netns exec "$C" ping -c 1 -W 1 10.51.2.2 2>/dev/null | sed -n 's/.*ttl=\([0-9]*\).*/\1/p'
}

tcp_server "$S" 8080 || fail "tcp server did not start"
check_eq "nothing crosses the middle without rules" 0 "$(udp_count "$S" 10.51.2.2 7000 3)"
check_not "no ping without rules" ping_ok "$C" 10.51.2.2

port=7100
for mode in egress neigh peer route; do
	if [ "$mode" = route ]; then
		to0="" to1=""
		# The FIB helper answers for lo; the kernel still forwards nothing.
		ip netns exec "$M" sysctl -qw net.ipv4.conf.lo.forwarding=1
	else
		to0="--to $M0" to1="--to $M1"
	fi
	fwd=$(ctl --json add-redirect --iface "$M0" --netns "$M" --dst 10.51.2.0/24 $to1 \
		--mode "$mode" --name "fwd-$mode" | jq -r .id)
	back=$(ctl --json add-redirect --iface "$M1" --netns "$M" --dst 10.51.1.0/24 $to0 \
		--mode "$mode" | jq -r .id)
	check "$mode: rules added ($fwd, $back)" test -n "$fwd" -a -n "$back" -a "$fwd" != null
	check_eq "$mode: rule kind" redirect "$(rule_field "$fwd" kind)"
	check_eq "$mode: rule mode" "$mode" "$(rule_field "$fwd" mode)"
	check "$mode: ping crosses the gateway both ways" ping_ok "$C" 10.51.2.2 2
	check "$mode: TCP connects through the gateway" tcp_ok "$C" 10.51.2.2 8080
	before=$(rule_field "$fwd" packets)
	port=$((port + 1))
	check_eq "$mode: all UDP datagrams arrive" 5 "$(udp_count "$S" 10.51.2.2 "$port" 5)"
	after=$(rule_field "$fwd" packets)
	check_eq "$mode: forward counter rose by the datagrams sent" 5 $((after - before))
	if [ "$mode" = route ]; then
		check_eq "route: the reply crossed one routed hop (TTL 64-1)" 63 "$(reply_ttl)"
		check_eq "route: no fallbacks" 0 "$(rule_field "$fwd" fallbacks)"
	else
		check_eq "$mode: L2 steering keeps the TTL" 64 "$(reply_ttl)"
	fi
	check "$mode: del forward rule" ctl del "$fwd"
	check "$mode: del backward rule" ctl del "$back"
	port=$((port + 1))
	check_eq "$mode: nothing arrives once the rules are gone" 0 \
		"$(udp_count "$S" 10.51.2.2 "$port" 3)"
	check_not "$mode: program detached from $M0" has_clsact "$M" "$M0"
done
ip netns exec "$M" sysctl -qw net.ipv4.conf.lo.forwarding=0

# IPv6 through peer, both directions.
f6=$(ctl --json add-redirect --iface "$M0" --netns "$M" --dst fd00:51:2::/64 --to "$M1" --mode peer | jq -r .id)
b6=$(ctl --json add-redirect --iface "$M1" --netns "$M" --dst fd00:51:1::/64 --to "$M0" --mode peer | jq -r .id)
check "IPv6 peer: ping6 crosses" ping6_ok "$C" fd00:51:2::2
check_eq "IPv6 peer: all UDP datagrams arrive" 4 "$(udp_count "$S" fd00:51:2::2 7200 4)"
check_ge "IPv6 peer: forward counter" 4 "$(rule_field "$f6" packets)"
ctl del "$f6" >/dev/null && ctl del "$b6" >/dev/null

# Ingress mode: the packet is received on the target as if it came in there.
# 10.51.9.9 is an address of the middle; without the rule the datagram arrives
# on $M0, and a socket bound to $M1 must not see it.
ip -n "$M" addr add 10.51.9.9/32 dev "$M1"
ip -n "$C" route add 10.51.9.9/32 via 10.51.1.1
check_eq "ingress: no rule, the socket bound to $M1 sees nothing" 0 \
	"$(udp_count "$M" 10.51.9.9 7300 3 ",so-bindtodevice=$M1")"
ing=$(ctl --json add-redirect --iface "$M0" --netns "$M" --dst 10.51.9.9 --proto udp \
	--dport 7301 --to "$M1" --mode ingress | jq -r .id)
check_eq "ingress: the socket bound to $M1 gets every datagram" 3 \
	"$(udp_count "$M" 10.51.9.9 7301 3 ",so-bindtodevice=$M1")"
check_eq "ingress: counter" 3 "$(rule_field "$ing" packets)"
ctl del "$ing" >/dev/null

# Drop rules come first; the most specific redirect wins unless a priority says otherwise.
wide=$(ctl --json add-redirect --iface "$M0" --netns "$M" --dst 10.51.2.0/24 --to "$M1" --mode peer | jq -r .id)
narrow=$(ctl --json add-redirect --iface "$M0" --netns "$M" --dst 10.51.2.2 --to "$M1" --mode peer | jq -r .id)
back=$(ctl --json add-redirect --iface "$M1" --netns "$M" --dst 10.51.1.0/24 --to "$M0" --mode peer | jq -r .id)
drop=$(ctl --json add-drop --iface "$M0" --netns "$M" --hook tc-ingress --proto udp --dport 7401 | jq -r .id)
check_eq "drop first: UDP to the dropped port never arrives" 0 "$(udp_count "$S" 10.51.2.2 7401 3)"
check_eq "drop first: the drop rule counted them" 3 "$(rule_field "$drop" packets)"
check_eq "drop first: other ports still redirected" 2 "$(udp_count "$S" 10.51.2.2 7402 2)"
check_eq "specificity: the /32 rule took them" 2 "$(rule_field "$narrow" packets)"
check_eq "specificity: the /24 rule did not" 0 "$(rule_field "$wide" packets)"
top=$(ctl --json add-redirect --iface "$M0" --netns "$M" --dst 10.51.2.0/24 --to "$M1" --mode egress --priority 10 | jq -r .id)
check_eq "priority: UDP still arrives" 2 "$(udp_count "$S" 10.51.2.2 7403 2)"
check_eq "priority: --priority 10 beats the /32" 2 "$(rule_field "$top" packets)"
check_eq "priority: the /32 did not count more" 2 "$(rule_field "$narrow" packets)"
ctl del "$top" >/dev/null
check_eq "priority: deleting the winner hands back to the /32" 1 "$(udp_count "$S" 10.51.2.2 7404 1)"
check_eq "priority: the /32 counts again" 3 "$(rule_field "$narrow" packets)"

# Refused input changes nothing.
nrules=$(ctl --json list | jq '.rules | length')
expect_exit() {
	local want=$1 what=$2
	shift 2
	ctl "$@" >/dev/null 2>"$T_DIR/err"
	check_eq "$what (exit status)" "$want" "$?"
}
expect_exit 2 "missing --mode" add-redirect --iface "$M0" --netns "$M" --dst 10.0.0.0/8 --to "$M1"
expect_exit 1 "unknown mode" add-redirect --iface "$M0" --netns "$M" --dst 10.0.0.0/8 --to "$M1" --mode teleport
expect_exit 1 "target in another namespace" add-redirect --iface "$M0" --netns "$M" --dst 10.0.0.0/8 --to "$CIF" --mode egress
check "the error names the namespace rule" grep -q "same network namespace" "$T_DIR/err"
expect_exit 1 "peer from tc-egress" add-redirect --iface "$M0" --netns "$M" --hook tc-egress --dst 10.0.0.0/8 --to "$M1" --mode peer
expect_exit 1 "redirect on xdp" add-redirect --iface "$M0" --netns "$M" --hook xdp --dst 10.0.0.0/8 --to "$M1" --mode egress
expect_exit 1 "bad MAC" add-redirect --iface "$M0" --netns "$M" --dst 10.0.0.0/8 --to "$M1" --mode egress --dst-mac 02:00:00:00:00
expect_exit 1 "route without forwarding anywhere" add-redirect --iface "$M0" --netns "$M" --dst 10.0.0.0/8 --mode route
check "the error says which sysctl" grep -q "net.ipv4.conf.lo.forwarding=1" "$T_DIR/err"
expect_exit 1 "same match twice" add-redirect --iface "$M0" --netns "$M" --dst 10.51.2.2 --to "$M1" --mode neigh
check_eq "nothing changed" "$nrules" "$(ctl --json list | jq '.rules | length')"
check "daemon still serving" daemon_alive
