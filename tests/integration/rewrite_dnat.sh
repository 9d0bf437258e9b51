#!/usr/bin/env bash
# Scenario 3: DNAT at a gateway. The client sends to a service address that
# exists nowhere; rewrite rules on the gateway's client-facing tc ingress
# send it to servers on the gateway's own address and other ports, and the
# replies are restored on the way back (tc egress).
#
#   $CL  $CIF 10.54.1.2 fd00:54:1::2 ---- $G0 10.54.1.1 fd00:54:1::1  $GW (forwarding on)
#
#   service 10.200.0.80 / fd00:54:80::80   (routed by $CL via $GW)
#     tcp 80 -> GW:8080 (banner)   tcp 81 -> GW:8081 (echo)
#     udp 7  -> GW:9090 (echo)     udp 9  -> GW:9999 (closed: ICMP port unreachable)
#
# Checks: many TCP connections and UDP flows, the client never sees the real
# address or ports (tcpdump, which also verifies every checksum), conntrack,
# ICMP errors translated back, fragmented datagrams, IPv6, delete.
T_NAME=rewrite_dnat
. "$(dirname "$0")/lib.sh"

SVC=10.200.0.80
SVC6=fd00:54:80::80
GWA=10.54.1.1
GWA6=fd00:54:1::1
# How socat's SOCAT_SOCKADDR spells $GWA6.
GWA6_LONG="[fd00:0054:0001:0000:0000:0000:0000:0001]"
# conntrack state names, as rewrite-spec.md gives them.
ST_EST=tcp-established
ST_CLOSING=tcp-close

mkns CL cl && mkns GW gw || exit 1
CIF=$(ifname c)
G0=$(ifname g0)
veth_pair "$CL" "$CIF" 10.54.1.2/24 "$GW" "$G0" "$GWA/24" fd00:54:1::2/64 "$GWA6/64" || exit 1
ip -n "$CL" route add "$SVC/32" via "$GWA"
ip -n "$CL" -6 route add "$SVC6/128" via "$GWA6"
# Every checksum is computed in software and verified by the receiver.
ip netns exec "$CL" ethtool -K "$CIF" tx off rx off >/dev/null 2>&1
ip netns exec "$GW" ethtool -K "$G0" tx off rx off >/dev/null 2>&1
# A gateway; no ICMP rate limit, so every port unreachable is sent.
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0

# udp_flows.py ADDR PORT N SPORT SIZE: N datagrams, each from its own socket
# bound to SPORT+i, each of SIZE random bytes; prints how many came back
# intact and from ADDR:PORT (the address the client sent to).
cat >"$T_DIR/udp_flows.py" <<'EOF'
import os, socket, sys
addr, port, n, sport, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
ok = 0
for i in range(n):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport + i))
    s.settimeout(2)
    data = os.urandom(size)
    s.sendto(data, (addr, port))
    try:
        d, a = s.recvfrom(65535)
        if d == data and a[0] == addr and a[1] == port:
            ok += 1
        else:
            print("bad reply: %d bytes from %s" % (len(d), a), file=sys.stderr)
    except socket.timeout:
        pass
    s.close()
print(ok)
EOF
# tcp_hold.py ADDR PORT FILE: connects, exchanges a line, writes its local
# port to FILE, holds the connection for 2 s, exchanges another line, closes;
# prints ok when both lines came back.
cat >"$T_DIR/tcp_hold.py" <<'EOF'
import socket, sys, time
addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((addr, port), timeout=3)
s.sendall(b"one\n")
a = s.recv(100)
with open(out, "w") as f:
    f.write("%d\n" % s.getsockname()[1])
time.sleep(2)
s.sendall(b"two\n")
b = s.recv(100)
s.close()
print("ok" if (a, b) == (b"one\n", b"two\n") else "bad %r %r" % (a, b))
EOF

# The servers, on the gateway's own addresses only.
for a in "TCP4-LISTEN:%s,bind=$GWA" "TCP6-LISTEN:%s,bind=[$GWA6]"; do
	# shellcheck disable=SC2059
	bg_in "$GW" timeout 170 socat "$(printf "$a" 8080),fork,reuseaddr" \
		'SYSTEM:echo srv-$SOCAT_SOCKADDR-$SOCAT_SOCKPORT'
	# shellcheck disable=SC2059
	bg_in "$GW" timeout 170 socat "$(printf "$a" 8081),fork,reuseaddr" EXEC:cat
done
bg_in "$GW" timeout 170 python3 "$T_HERE/udp_echo.py" "$GWA" 9090
bg_in "$GW" timeout 170 python3 "$T_HERE/udp_echo.py" "$GWA6" 9090
if ! { wait_port "$GW" 8080 && wait_port "$GW" 8081 && wait_port "$GW" 9090 udp; }; then fail "servers did not start"; fi
sleep 0.3
start_daemon || exit 1

# tcp_reply NS ADDR PORT: the first line a TCP server sends (bounded).
tcp_reply() {
	local a=$2
	case "$a" in *:*) a="[$a]" ;; esac
	ip netns exec "$1" timeout 4 socat -T2 - "TCP:$a:$3,connect-timeout=2" </dev/null 2>/dev/null | head -1
}
# tcp_n N ADDR EXPECTED: N connections from $CL, prints how many got EXPECTED.
tcp_n() {
	local ok=0
	for _ in $(seq 1 "$1"); do
		[ "$(tcp_reply "$CL" "$2" 80)" = "$3" ] && ok=$((ok + 1))
	done
	echo "$ok"
}
udp_flows() { ip netns exec "$CL" timeout 90 python3 "$T_DIR/udp_flows.py" "$@"; }
udp_refused() { ip netns exec "$CL" timeout 5 python3 "$T_HERE/udp_refused.py" "$@"; }

# The topology without sluice: the servers answer on the gateway's addresses,
# the service addresses lead nowhere.
check_eq "topology: TCP server answers directly" "srv-$GWA-8080" "$(tcp_reply "$CL" "$GWA" 8080)"
check_eq "topology: TCP server answers directly (IPv6)" "srv-$GWA6_LONG-8080" "$(tcp_reply "$CL" "$GWA6" 8080)"
check_eq "topology: UDP echo answers directly" 1 "$(udp_flows "$GWA" 9090 1 30000 100)"
check_eq "topology: UDP echo answers directly (IPv6)" 1 "$(udp_flows "$GWA6" 9090 1 30000 100)"
check_eq "topology: a 3000-byte datagram is echoed directly" 1 "$(udp_flows "$GWA" 9090 1 30002 3000)"
check_eq "topology: the closed port refuses directly" refused "$(udp_refused "$GWA" 9999)"
check_eq "topology: the closed port refuses directly (IPv6)" refused "$(udp_refused "$GWA6" 9999)"
check_eq "no rule: the service address does not answer TCP" "" "$(tcp_reply "$CL" "$SVC" 80)"
check_eq "no rule: the service address does not answer UDP" 0 "$(udp_flows "$SVC" 7 1 30001 100)"

# Everything the client's interface sees from now on.
bg_in "$CL" timeout 150 tcpdump -i "$CIF" -nn -U --immediate-mode -s 0 -w "$T_DIR/cl.pcap" 2>"$T_DIR/tcpdump.err"
TCPDUMP=${T_PIDS[-1]}
for _ in $(seq 1 50); do grep -q listening "$T_DIR/tcpdump.err" && break; sleep 0.1; done

rw() { new_rule "$1" "add-rewrite $2" add-rewrite --netns "$GW" --iface "$G0" --hook tc-ingress "${@:3}"; }
rw tcp "tcp $SVC:80 -> $GWA:8080" --proto tcp --dst "$SVC/32" --dport 80 --to-dst "$GWA" --to-dport 8080
rw echo "tcp $SVC:81 -> $GWA:8081" --proto tcp --dst "$SVC/32" --dport 81 --to-dst "$GWA" --to-dport 8081
rw udp "udp $SVC:7 -> $GWA:9090" --proto udp --dst "$SVC/32" --dport 7 --to-dst "$GWA" --to-dport 9090
rw closed "udp $SVC:9 -> $GWA:9999 (closed)" --proto udp --dst "$SVC/32" --dport 9 --to-dst "$GWA" --to-dport 9999
rw tcp6 "tcp [$SVC6]:80 -> [$GWA6]:8080" --proto tcp --dst "$SVC6/128" --dport 80 --to-dst "$GWA6" --to-dport 8080
rw udp6 "udp [$SVC6]:7 -> [$GWA6]:9090" --proto udp --dst "$SVC6/128" --dport 7 --to-dst "$GWA6" --to-dport 9090
rw closed6 "udp [$SVC6]:9 -> [$GWA6]:9999 (closed)" --proto udp --dst "$SVC6/128" --dport 9 --to-dst "$GWA6" --to-dport 9999

if [ -n "$tcp" ]; then
	check_eq "rule kind" rewrite "$(rule_field "$tcp" kind)"
	check_eq "TCP: 50 connections to $SVC:80 reach the server on $GWA:8080" 50 \
		"$(tcp_n 50 "$SVC" "srv-$GWA-8080")"
	check_ge "TCP: the rule counted them (>= 3 segments each)" 150 "$(rule_stat "$tcp" packets)"
	sel="(.rule == $tcp)"
	check_ge "conntrack: lists the TCP flows" 1 "$(ct_flows "$sel")"
	check_eq "conntrack: TCP flows translated $SVC:80 -> $GWA:8080" "$(ct_flows "$sel")" \
		"$(ct_flows "$sel and .proto == \"tcp\" and .family == 4 and .original.dst == \"$SVC\" and .original.dport == 80 and .translated.dst == \"$GWA\" and .translated.dport == 8080 and .translated.src == \"10.54.1.2\"")"
fi
if [ -n "$echo" ]; then
	rm -f "$T_DIR/hold.port"
	ip netns exec "$CL" timeout 10 python3 "$T_DIR/tcp_hold.py" "$SVC" 81 "$T_DIR/hold.port" \
		>"$T_DIR/hold.out" 2>&1 &
	hold=$!
	for _ in $(seq 1 30); do [ -s "$T_DIR/hold.port" ] && break; sleep 0.1; done
	hport=$(cat "$T_DIR/hold.port" 2>/dev/null)
	check_eq "conntrack: the open connection is $ST_EST" "$ST_EST" \
		"$(ctl --json conntrack | jq -r ".flows[] | select(.rule == $echo and .original.sport == ${hport:-0}) | .state")"
	check_ge "conntrack: it counted packets both ways" 2 \
		"$(ctl --json conntrack | jq -r ".flows[] | select(.rule == $echo and .original.sport == ${hport:-0}) | [.packets, .reply_packets] | min")"
	wait "$hold"
	check_eq "TCP: a held connection exchanges data before and after" ok "$(cat "$T_DIR/hold.out")"
	check_eq "conntrack: after the close it is $ST_CLOSING (or gone)" "" \
		"$(ctl --json conntrack | jq -r ".flows[] | select(.rule == $echo and .original.sport == ${hport:-0} and .state != \"$ST_CLOSING\") | .state")"
fi
if [ -n "$udp" ]; then
	check_eq "UDP: 30 flows from distinct ports all echoed, from $SVC:7" 30 \
		"$(udp_flows "$SVC" 7 30 41000 200)"
	sel="(.rule == $udp and .original.sport >= 41000 and .original.sport < 41030)"
	check_eq "conntrack: one flow per UDP source port" 30 "$(ct_flows "$sel")"
	check_eq "conntrack: UDP flows translated $SVC:7 -> $GWA:9090" 30 \
		"$(ct_flows "$sel and .proto == \"udp\" and .original.dst == \"$SVC\" and .original.dport == 7 and .translated.dst == \"$GWA\" and .translated.dport == 9090 and .reply_packets == 1")"
	check_eq "fragments: a 3000-byte datagram (MTU 1500) crosses and returns intact" 1 \
		"$(udp_flows "$SVC" 7 1 42000 3000)"
	check_eq "fragments: a 9000-byte datagram crosses and returns intact" 1 \
		"$(udp_flows "$SVC" 7 1 42001 9000)"
fi
[ -n "$closed" ] && check_eq "ICMP error: UDP to a closed port behind DNAT is refused" refused \
	"$(udp_refused "$SVC" 9)"
if [ -n "$tcp6" ]; then
	check_eq "IPv6 TCP: 5 connections to [$SVC6]:80 reach [$GWA6]:8080" 5 \
		"$(tcp_n 5 "$SVC6" "srv-$GWA6_LONG-8080")"
	check_ge "IPv6 conntrack: lists the flows" 1 \
		"$(ct_flows ".rule == $tcp6 and .family == 6 and .original.dst == \"$SVC6\" and .translated.dst == \"$GWA6\" and .translated.dport == 8080")"
fi
if [ -n "$udp6" ]; then
	check_eq "IPv6 UDP: 5 flows echoed" 5 "$(udp_flows "$SVC6" 7 5 43000 200)"
	check_eq "IPv6 fragments: a 3000-byte datagram crosses and returns intact" 1 \
		"$(udp_flows "$SVC6" 7 1 43100 3000)"
fi
[ -n "$closed6" ] && check_eq "ICMPv6 error: UDP to a closed port behind DNAT is refused" refused \
	"$(udp_refused "$SVC6" 9)"

# What the client saw: only the service addresses and ports, all checksums right.
sleep 1
kill "$TCPDUMP" 2>/dev/null
wait "$TCPDUMP" 2>/dev/null
# Without ARP and neighbour discovery (which name the gateway's address as next hop).
tcpdump -nn -vv -r "$T_DIR/cl.pcap" \
	'not arp and not (icmp6 and ip6[40] >= 133 and ip6[40] <= 137)' >"$T_DIR/cl.txt" 2>/dev/null
check_ge "tcpdump: the client saw replies from the service" 100 "$(grep -c "$SVC\.80 > " "$T_DIR/cl.txt")"
check_ge "tcpdump: the client saw fragments (IPv4 and IPv6)" 4 \
	"$(grep -c -E "offset (1480|2960)|frag \(0x[0-9a-f]*:1448" "$T_DIR/cl.txt")"
leaks=$(grep -E "${GWA}[^0-9]|${GWA6}[^0-9a-f:]|\.(8080|8081|9090|9999)[^0-9]" "$T_DIR/cl.txt")
check_eq "tcpdump: the real address and ports never reach the client" "" "$leaks"
[ -n "$leaks" ] && printf '%s\n' "$leaks" | head -10
bad=$(grep -E -B1 "bad [a-z0-9 ]*cksum|incorrect|wrong [a-z0-9 ]*cksum" "$T_DIR/cl.txt")
check_eq "tcpdump -vv: no bad checksum on the client's wire" "" "$bad"
[ -n "$bad" ] && printf '%s\n' "$bad" | head -10

# Delete: delivery stops.
for v in tcp echo udp closed tcp6 udp6 closed6; do
	[ -n "${!v}" ] && { ctl del "${!v}" >/dev/null || fail "del $v rule"; }
done
[ -n "$tcp" ] && check_eq "TCP: no answer once the rule is gone" "" "$(tcp_reply "$CL" "$SVC" 80)"
[ -n "$udp" ] && check_eq "UDP: no echo once the rule is gone" 0 "$(udp_flows "$SVC" 7 1 44000 100)"
[ -n "$tcp6" ] && check_eq "IPv6 TCP: no answer once the rule is gone" "" "$(tcp_reply "$CL" "$SVC6" 80)"
check_not "program detached from $G0" has_clsact "$GW" "$G0"
check "daemon still serving" daemon_alive
