#!/usr/bin/env bash
# SNAT (masquerade) at a gateway: two clients reach a server that has no
# route back to them, only to the gateway's server-facing address. A rewrite
# rule on that interface's tc egress gives their packets the gateway's
# address; replies are restored on its tc ingress and forwarded back.
#
#   $CL1 $C1 10.56.1.2 ---- $G1 10.56.1.1 \
#                                           $GW (forwarding on)  $G9 10.57.0.1 ---- $SV $SIF 10.57.0.2
#   $CL2 $C2 10.56.2.2 ---- $G2 10.56.2.1 /
#
# Checks: ping (ICMP echo tracked by identifier, even the same identifier from
# both clients), TCP and UDP, the server sees the gateway as the peer, both
# clients using the same source port at the same time, --to-sport, conntrack
# and its flush, delete.
T_NAME=rewrite_snat
. "$(dirname "$0")/lib.sh"

GWS=10.57.0.1
SVA=10.57.0.2
# conntrack state names, as rewrite-spec.md gives them.
ST_EST=tcp-established

mkns CL1 c1 && mkns CL2 c2 && mkns GW gw && mkns SV sv || exit 1
C1=$(ifname c1)
C2=$(ifname c2)
G1=$(ifname g1)
G2=$(ifname g2)
G9=$(ifname g9)
SIF=$(ifname sv)
veth_pair "$CL1" "$C1" 10.56.1.2/24 "$GW" "$G1" 10.56.1.1/24 || exit 1
veth_pair "$CL2" "$C2" 10.56.2.2/24 "$GW" "$G2" 10.56.2.1/24 || exit 1
veth_pair "$GW" "$G9" "$GWS/24" "$SV" "$SIF" "$SVA/24" || exit 1
ip -n "$CL1" route add default via 10.56.1.1
ip -n "$CL2" route add default via 10.56.2.1
# $SV: only its connected /24 (the gateway's address), no way back to 10.56/16.
# Every checksum is computed in software and verified by the receiver.
for spec in "$CL1 $C1" "$CL2 $C2" "$GW $G1" "$GW $G2" "$GW $G9" "$SV $SIF"; do
	set -- $spec
	ip netns exec "$1" ethtool -K "$2" tx off rx off >/dev/null 2>&1
done
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1

# tcp_echo_log.py ADDR PORT LOG: TCP echo server; logs each peer's address
# and port as a line "ADDR PORT" when it connects.
cat >"$T_DIR/tcp_echo_log.py" <<'EOF'
import socket, sys, threading
addr, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, port))
ls.listen(64)
def serve(c):
    with c:
        while True:
            d = c.recv(4096)
            if not d:
                return
            c.sendall(d)
while True:
    c, a = ls.accept()
    with open(log, "a") as f:
        f.write("%s %d\n" % a)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
# tcp_hold.py ADDR PORT SPORT TAG SECONDS: from source port SPORT, exchanges
# a line, holds the connection SECONDS, exchanges another; prints ok.
cat >"$T_DIR/tcp_hold.py" <<'EOF'
import socket, sys, time
addr, port, sport, tag, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", sport))
s.settimeout(3)
s.connect((addr, port))
s.sendall(tag.encode() + b"-1\n")
a = s.recv(100)
time.sleep(hold)
s.sendall(tag.encode() + b"-2\n")
b = s.recv(100)
s.close()
print("ok" if (a, b) == (tag.encode() + b"-1\n", tag.encode() + b"-2\n") else "bad %r %r" % (a, b))
EOF
# udp_one.py ADDR PORT SPORT [SIZE]: one datagram of SIZE (300) random bytes
# from SPORT; prints ok when it comes back intact from ADDR:PORT.
cat >"$T_DIR/udp_one.py" <<'EOF'
import os, socket, sys
addr, port, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = int(sys.argv[4]) if len(sys.argv) > 4 else 300
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", sport))
s.settimeout(2)
data = os.urandom(size)
s.sendto(data, (addr, port))
try:
    d, a = s.recvfrom(65535)
    print("ok" if d == data and a == (addr, port) else "bad reply from %s" % (a,))
except socket.timeout:
    print("timeout")
EOF

bg_in "$SV" timeout 170 socat "TCP4-LISTEN:5000,bind=$SVA,fork,reuseaddr" 'SYSTEM:echo peer-$SOCAT_PEERADDR'
bg_in "$SV" timeout 170 python3 "$T_DIR/tcp_echo_log.py" "$SVA" 5001 "$T_DIR/peers.log"
bg_in "$SV" timeout 170 python3 "$T_HERE/udp_echo.py" "$SVA" 5002
if ! { wait_port "$SV" 5000 && wait_port "$SV" 5001 && wait_port "$SV" 5002 udp; }; then fail "servers did not start"; fi
start_daemon || exit 1

peer_of() { ip netns exec "$1" timeout 4 socat -T2 - "TCP:$SVA:5000,connect-timeout=2" </dev/null 2>/dev/null | head -1; }
hold() { ip netns exec "$1" timeout 10 python3 "$T_DIR/tcp_hold.py" "$SVA" 5001 "${@:2}"; }
udp_one() { ip netns exec "$1" timeout 5 python3 "$T_DIR/udp_one.py" "$SVA" 5002 "${@:2}"; }
udp_refused() { ip netns exec "$1" timeout 5 python3 "$T_HERE/udp_refused.py" "$SVA" "$2"; }
ping_id() { ip netns exec "$1" ping -c 2 -i 0.2 -W 1 -e "$2" "$SVA" >/dev/null 2>&1; }

check "topology: client 1 reaches the gateway's server-facing address" ping_ok "$CL1" "$GWS"
check "topology: client 2 reaches the gateway's server-facing address" ping_ok "$CL2" "$GWS"
check_eq "topology: the server answers the gateway" "peer-$GWS" "$(peer_of "$GW")"
check_eq "topology: the server has no route to the clients" "" \
	"$(ip -n "$SV" route get 10.56.1.2 2>/dev/null)"
check_not "no rule: client 1 cannot ping the server" ping_ok "$CL1" "$SVA"
check_eq "no rule: no TCP from client 1" "" "$(peer_of "$CL1")"

if new_rule snat "add-rewrite --src 10.56.0.0/16 --to-src $GWS on $G9 tc-egress" add-rewrite \
	--netns "$GW" --iface "$G9" --hook tc-egress --src 10.56.0.0/16 --to-src "$GWS" --name masq; then
	check_eq "rule kind" rewrite "$(rule_field "$snat" kind)"
	check_eq "rule hook" tc-egress "$(rule_field "$snat" hook)"
	# Everything the server's interface sees while the rule translates.
	bg_in "$SV" timeout 150 tcpdump -i "$SIF" -nn -U --immediate-mode -s 0 -w "$T_DIR/sv.pcap" 2>"$T_DIR/tcpdump.err"
	TCPDUMP=${T_PIDS[-1]}
	for _ in $(seq 1 50); do grep -q listening "$T_DIR/tcpdump.err" && break; sleep 0.1; done

	check "ICMP: client 1 pings the server" ping_ok "$CL1" "$SVA" 3
	check "ICMP: client 2 pings the server" ping_ok "$CL2" "$SVA" 3
	check_ge "conntrack: ICMP echo flows translated to $GWS" 2 \
		"$(ct_flows ".proto == \"icmp\" and .original.dst == \"$SVA\" and .translated.src == \"$GWS\" and .translated.dport == 0")"
	check "ICMP: client 1 pings with identifier 4242" ping_id "$CL1" 4242
	check "ICMP: client 2 pings with the same identifier 4242" ping_id "$CL2" 4242
	sel=".proto == \"icmp\" and .original.sport == 4242"
	check_eq "conntrack: two flows with identifier 4242" 2 "$(ct_flows "$sel")"
	check_eq "conntrack: they got different translated identifiers" 2 \
		"$(ctl --json conntrack | jq "[.flows[] | select($sel) | .translated.sport] | unique | length")"

	check_eq "TCP: the server sees the gateway as client 1's peer" "peer-$GWS" "$(peer_of "$CL1")"
	check_eq "TCP: the server sees the gateway as client 2's peer" "peer-$GWS" "$(peer_of "$CL2")"
	ok=0
	for _ in $(seq 1 20); do [ "$(peer_of "$CL1")" = "peer-$GWS" ] && ok=$((ok + 1)); done
	check_eq "TCP: 20 more connections from client 1" 20 "$ok"
	check_ge "conntrack: TCP flows from client 1 translated to $GWS" 1 \
		"$(ct_flows ".proto == \"tcp\" and .original.src == \"10.56.1.2\" and .translated.src == \"$GWS\" and .translated.dst == \"$SVA\" and .rule == $snat")"

	# Both clients from source port 40000 to the same server port, at once.
	: >"$T_DIR/peers.log"
	hold "$CL1" 40000 one 3 >"$T_DIR/hold1.out" 2>&1 &
	h1=$!
	hold "$CL2" 40000 two 3 >"$T_DIR/hold2.out" 2>&1 &
	h2=$!
	for _ in $(seq 1 30); do [ "$(wc -l <"$T_DIR/peers.log")" -ge 2 ] && break; sleep 0.1; done
	sleep 0.3
	sel=".proto == \"tcp\" and .original.sport == 40000 and .original.dport == 5001"
	check_eq "collision: two flows from source port 40000" 2 "$(ct_flows "$sel")"
	check_eq "collision: both from the clients' own addresses" "10.56.1.2 10.56.2.2" \
		"$(ctl --json conntrack | jq -r "[.flows[] | select($sel) | .original.src] | sort | join(\" \")")"
	check_eq "collision: both translated to $GWS" 2 "$(ct_flows "$sel and .translated.src == \"$GWS\"")"
	check_eq "collision: different translated source ports" 2 \
		"$(ctl --json conntrack | jq "[.flows[] | select($sel) | .translated.sport] | unique | length")"
	check_eq "collision: both $ST_EST" 2 "$(ct_flows "$sel and .state == \"$ST_EST\"")"
	check_eq "collision: the server saw two peers, both $GWS, on different ports" "2 1" \
		"$(sort -u "$T_DIR/peers.log" | wc -l) $(awk '{print $1}' "$T_DIR/peers.log" | sort -u | grep -c "^$GWS$")"
	wait "$h1"
	wait "$h2"
	check_eq "collision: client 1's connection exchanged data throughout" ok "$(cat "$T_DIR/hold1.out")"
	check_eq "collision: client 2's connection exchanged data throughout" ok "$(cat "$T_DIR/hold2.out")"

	check_eq "UDP collision: client 1 from port 40001 echoed" ok "$(udp_one "$CL1" 40001)"
	check_eq "UDP collision: client 2 from port 40001 echoed" ok "$(udp_one "$CL2" 40001)"
	sel=".proto == \"udp\" and .original.sport == 40001"
	check_eq "UDP collision: two flows with different translated ports" "2 2" \
		"$(ct_flows "$sel") $(ctl --json conntrack | jq "[.flows[] | select($sel) | .translated.sport] | unique | length")"

	check_eq "ICMP error: UDP to a closed server port is refused at client 1" refused \
		"$(udp_refused "$CL1" 5999)"
	check_eq "fragments: a 3000-byte datagram (MTU 1500) crosses and returns intact" ok \
		"$(udp_one "$CL1" 40010 3000)"

	# What the server saw: only the gateway's address, all checksums right.
	sleep 1
	kill "$TCPDUMP" 2>/dev/null
	wait "$TCPDUMP" 2>/dev/null
	tcpdump -nn -vv -r "$T_DIR/sv.pcap" not arp >"$T_DIR/sv.txt" 2>/dev/null
	check_ge "tcpdump: the server saw packets from $GWS" 100 "$(grep -c " $GWS\.[0-9]* > $SVA" "$T_DIR/sv.txt")"
	check_ge "tcpdump: the server saw the fragments" 2 "$(grep -c "offset 1480" "$T_DIR/sv.txt")"
	leaks=$(grep -E "10\.56\." "$T_DIR/sv.txt")
	check_eq "tcpdump: the clients' addresses never reach the server" "" "$leaks"
	[ -n "$leaks" ] && printf '%s\n' "$leaks" | head -10
	bad=$(grep -E -B1 "bad [a-z0-9 ]*cksum|incorrect|wrong [a-z0-9 ]*cksum" "$T_DIR/sv.txt")
	check_eq "tcpdump -vv: no bad checksum on the server's wire" "" "$bad"
	[ -n "$bad" ] && printf '%s\n' "$bad" | head -10

	n=$(ctl --json conntrack | jq .count)
	check_ge "conntrack: flows before the flush" 6 "$n"
	# Flows that expired but were not collected yet may be flushed too.
	check_ge "conntrack flush: reports what it flushed" "$n" "$(ctl --json conntrack flush | jq .flushed)"
	check_eq "conntrack flush: the table is empty" 0 "$(ctl --json conntrack | jq .count)"
	check_eq "conntrack flush: new flows still work" "peer-$GWS" "$(peer_of "$CL2")"
	check_eq "conntrack flush --rule: flushes that rule's flows" "$(ct_flows ".rule == $snat")" \
		"$(ctl --json conntrack flush --rule "$snat" | jq .flushed)"

	check "del rule" ctl del "$snat"
	check_not "deleted: client 1 cannot ping the server" ping_ok "$CL1" "$SVA"
	check_eq "deleted: no TCP from client 1" "" "$(peer_of "$CL1")"
fi

# A source port range: the translated ports come from it.
if new_rule ranged "add-rewrite --to-sport 45000-45009" add-rewrite --netns "$GW" --iface "$G9" \
	--hook tc-egress --src 10.56.0.0/16 --proto tcp --to-src "$GWS" --to-sport 45000-45009; then
	: >"$T_DIR/peers.log"
	check_eq "--to-sport: client 1 connects" ok "$(hold "$CL1" 40002 r1 0)"
	check_eq "--to-sport: client 2 connects" ok "$(hold "$CL2" 40002 r2 0)"
	check_eq "--to-sport: the server saw peer ports in 45000-45009" "2 2" \
		"$(wc -l <"$T_DIR/peers.log") $(awk -v a="$GWS" '$1 == a && $2 >= 45000 && $2 <= 45009' "$T_DIR/peers.log" | wc -l)"
	check "del ranged rule" ctl del "$ranged"
fi
check_not "program detached from $G9" has_clsact "$GW" "$G9"
check "daemon still serving" daemon_alive
