#!/usr/bin/env bash
# Scenario 4: a container's DNS to 127.0.0.11:53 sent to a resolver elsewhere,
# with a rewrite rule on the container's lo (tc ingress) and conntrack.
#
#   container $C: lo (127.0.0.11 is local), eth0 10.53.0.2 --- $RIF 10.53.0.1 :$R
#
# dnsmasq in $R answers test.sluice with 10.99.0.7. Nothing listens on
# 127.0.0.11 in $C, so only the rule can make `dig @127.0.0.11` answer: the
# query's source becomes eth0's address, its destination the resolver, it is
# sent out of eth0 (neigh); the reply is restored to 127.0.0.11:53 ->
# 127.0.0.1 and sent back through lo. The namespace is named pid:PID, as for a
# container. UDP and TCP, conntrack, counters, and delete.
T_NAME=rewrite_dns
. "$(dirname "$0")/lib.sh"

C_ADDR=10.53.0.2
R_ADDR=10.53.0.1
ANSWER=10.99.0.7
# conntrack state names, as rewrite-spec.md gives them.
ST_CLOSING=tcp-close

mkns C c && mkns R r || exit 1
RIF=$(ifname r)
# The container has only lo and eth0: create the pair from inside it.
ip netns exec "$C" ip link add eth0 type veth peer name "$RIF" netns "$R" || exit 1
ip -n "$C" addr add "$C_ADDR/24" dev eth0
ip -n "$R" addr add "$R_ADDR/24" dev "$RIF"
ip -n "$C" link set eth0 up
ip -n "$R" link set "$RIF" up
ip -n "$C" route add default via "$R_ADDR"
# Every checksum is computed in software and verified by the receiver.
ip netns exec "$C" ethtool -K eth0 tx off rx off >/dev/null 2>&1
ip netns exec "$R" ethtool -K "$RIF" tx off rx off >/dev/null 2>&1

# The resolver: bounded, no config files, answers only test.sluice.
bg_in "$R" timeout 170 dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
	--user=root --group=root --listen-address="$R_ADDR" --bind-interfaces --port=53 \
	--address=/test.sluice/"$ANSWER" --pid-file="$T_DIR/dnsmasq.pid" \
	--log-queries --log-facility=- 2>"$T_DIR/dnsmasq.log"
wait_port "$R" 53 udp || fail "dnsmasq did not start"
for _ in $(seq 1 20); do [ -s "$T_DIR/dnsmasq.pid" ] && break; sleep 0.1; done
[ -s "$T_DIR/dnsmasq.pid" ] && T_PIDS+=("$(cat "$T_DIR/dnsmasq.pid")")

# The "container": a process living in $C, named to sluice by its pid.
bg_in "$C" sleep 300
CPID=${T_PIDS[-1]}
for _ in $(seq 1 20); do
	[ "$(readlink "/proc/$CPID/ns/net")" = "$(ip netns exec "$C" readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done

start_daemon || exit 1

# dig_in [DIG OPTIONS]: one bounded query for test.sluice from the container,
# prints the answer (empty on failure; dig's error messages are dropped).
dig_in() {
	ip netns exec "$C" timeout 5 dig "$@" test.sluice +short +time=1 +tries=1 2>/dev/null |
		grep -E '^[0-9.]+$' | head -1
}

# dig_n N [DIG OPTIONS]: N queries, prints how many got the right answer.
dig_n() {
	local n=$1 ok=0
	shift
	for _ in $(seq 1 "$n"); do
		[ "$(dig_in "$@")" = "$ANSWER" ] && ok=$((ok + 1))
	done
	echo "$ok"
}

# martian_dst: the kernel's count (all namespaces) of packets dropped for a
# martian destination; for diagnostics only.
martian_dst() {
	local sum=0 m
	while read -r _ _ _ _ _ _ m _; do sum=$((sum + 16#$m)); done < <(tail -n +2 /proc/net/stat/rt_cache)
	echo "$sum"
}

# queries_from ADDR: how many queries dnsmasq logged from ADDR.
queries_from() { grep -c "query\[A\] test.sluice from $1\$" "$T_DIR/dnsmasq.log"; }

check_eq "topology: the container has only lo and eth0" "eth0 lo" \
	"$(ip -n "$C" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | xargs)"
check_eq "topology: the resolver answers a direct query from the container" "$ANSWER" \
	"$(dig_in @"$R_ADDR")"
check_eq "topology: the resolver answers a direct TCP query" "$ANSWER" "$(dig_in @"$R_ADDR" +tcp)"
check_eq "topology: dnsmasq logs each query with its source" 2 "$(queries_from "$C_ADDR")"
check_eq "no rule: nothing answers on 127.0.0.11" "" "$(dig_in @127.0.0.11)"

# UDP: the rule of scenario 4, with the namespace given as pid:PID.
if new_rule udp "add-rewrite udp, --netns pid:$CPID" add-rewrite --netns "pid:$CPID" \
	--iface lo --hook tc-ingress --proto udp --dst 127.0.0.11/32 --dport 53 \
	--to-src "$C_ADDR" --to-dst "$R_ADDR" --to-dport 53 --redirect eth0 --mode neigh \
	--name dns-udp; then
	check_eq "rule kind" rewrite "$(rule_field "$udp" kind)"
	check_eq "rule namespace as given" "pid:$CPID" "$(rule_field "$udp" netns)"

	q0=$(queries_from "$C_ADDR")
	m0=$(martian_dst)
	n=$(dig_n 20 @127.0.0.11)
	check_eq "UDP: 20 queries to 127.0.0.11 all answered" 20 "$n"
	# A reply redirected into lo has no route attached; the input route
	# lookup for 127.0.0.1 calls it martian unless route_localnet is on.
	[ "$n" != 20 ] && log "diagnostic: in_martian_dst rose by $(($(martian_dst) - m0));" \
		"route_localnet on lo: $(ip netns exec "$C" sysctl -n net.ipv4.conf.lo.route_localnet)"
	check_eq "the resolver got the 20 queries from the container's eth0 address" 20 \
		$(($(queries_from "$C_ADDR") - q0))
	check_ge "UDP: stats counts every query" 20 "$(rule_stat "$udp" packets)"
	sel="(.rule == $udp) and .proto == \"udp\""
	n=$(ct_flows "$sel")
	# Each dig uses a fresh random source port, so about 20 flows (two of 20
	# random ports may coincide; then one flow serves both).
	check_ge "conntrack: a flow per query" 18 "$n"
	check_eq "conntrack: every flow translated to src $C_ADDR, dst $R_ADDR:53" "$n" \
		"$(ct_flows "$sel and .family == 4 and .translated.src == \"$C_ADDR\" and .translated.dst == \"$R_ADDR\" and .translated.dport == 53")"
	check_eq "conntrack: every flow's original is 127.0.0.1 -> 127.0.0.11:53" "$n" \
		"$(ct_flows "$sel and .original.src == \"127.0.0.1\" and .original.dst == \"127.0.0.11\" and .original.dport == 53")"
	check_eq "conntrack: every flow saw its reply" "$n" "$(ct_flows "$sel and .reply_packets >= 1")"
	check_eq "conntrack: UDP flows are in state udp" "$n" "$(ct_flows "$sel and .state == \"udp\"")"
	check_eq "conntrack: count matches the list" "$(ctl --json conntrack | jq '.flows | length')" \
		"$(ctl --json conntrack | jq .count)"

	# Same again with lo's checksum offload off: full checksums, not partial ones.
	ip netns exec "$C" ethtool -K lo tx off rx off >/dev/null 2>&1
	check_eq "UDP, lo offload off: 10 queries answered" 10 "$(dig_n 10 @127.0.0.11)"
	ip netns exec "$C" ethtool -K lo tx on rx on >/dev/null 2>&1
fi

# TCP: the connection's state is tracked across handshake, data and close.
if new_rule tcp "add-rewrite tcp" add-rewrite --netns "pid:$CPID" --iface lo \
	--hook tc-ingress --proto tcp --dst 127.0.0.11/32 --dport 53 --to-src "$C_ADDR" \
	--to-dst "$R_ADDR" --to-dport 53 --redirect eth0 --mode neigh --name dns-tcp; then
	check_eq "TCP: 10 queries to 127.0.0.11 all answered" 10 "$(dig_n 10 @127.0.0.11 +tcp)"
	sel="(.rule == $tcp) and .proto == \"tcp\""
	n=$(ct_flows "$sel")
	check_ge "TCP: conntrack has the connections" 1 "$n"
	check_eq "TCP: translated to $C_ADDR -> $R_ADDR:53" "$n" \
		"$(ct_flows "$sel and .translated.src == \"$C_ADDR\" and .translated.dst == \"$R_ADDR\"")"
	check_eq "TCP: finished connections are in state $ST_CLOSING" "$n" \
		"$(ct_flows "$sel and .state == \"$ST_CLOSING\"")"
	check_ge "TCP: stats counts the segments (>= 3 a query)" 30 "$(rule_stat "$tcp" packets)"
	[ -n "$udp" ] && check_eq "UDP still answered next to TCP" 5 "$(dig_n 5 @127.0.0.11)"
	check "del tcp rule" ctl del "$tcp"
	check_eq "TCP: no answer once the rule is gone" "" "$(dig_in @127.0.0.11 +tcp)"
fi

if [ -n "$udp" ]; then
	check "del udp rule" ctl del "$udp"
	check_eq "UDP: no answer once the rule is gone" "" "$(dig_in @127.0.0.11)"
fi
check_not "lo left as it was (no clsact)" has_clsact "$C" lo
check_not "eth0 left as it was (no clsact)" has_clsact "$C" eth0
check "daemon still serving" daemon_alive
