#!/usr/bin/env bash
# Conntrack timeouts: with --ct-timeout udp=1, an idle translated UDP flow
# stops being listed at once and leaves conntrack at the next sweep (every
# 5 s), both entries of it (a flush afterwards finds nothing), and its next datagram starts a new flow.
T_NAME=rewrite_expiry
. "$(dirname "$0")/lib.sh"

two_hosts || exit 1
for spec in "$C $CIF" "$S $SIF"; do
	set -- $spec
	ip netns exec "$1" ethtool -K "$2" tx off rx off >/dev/null 2>&1
done
ip -n "$C" route add 10.201.0.0/24 via 10.200.0.2
start_daemon --ct-timeout udp=1 --ct-timeout tcp-syn=2 || exit 1
check_not "a bad timeout name is refused" "$SLUICED" --ct-timeout bogus=3 --version
check_not "a zero timeout is refused" "$SLUICED" --ct-timeout udp=0 --version
check_not "a bad port range is refused" "$SLUICED" --nat-ports 0-10 --version

new_rule R "UDP DNAT of 10.201.0.7:53 to $S:5353" add-rewrite --netns "$S" --iface "$SIF" \
	--proto udp --dst 10.201.0.7 --dport 53 --to-dst 10.200.0.2 --to-dport 5353 || exit 1
bg_in "$S" timeout 60 socat UDP-RECVFROM:5353,bind=10.200.0.2,fork EXEC:cat
sleep 0.3

ask() { echo "$1" | _in "$C" timeout 3 socat -T1 - UDP:10.201.0.7:53,sourceport="$2" 2>/dev/null; }
check_eq "a datagram crosses the DNAT and its echo returns" "hello" "$(ask hello 41000)"
check_eq "conntrack lists the flow" "1" "$(ct_flows '.original.sport == 41000')"

gone=""
for _ in $(seq 1 40); do
	if [ "$(ct_flows 'true')" = 0 ]; then gone=yes; break; fi
	sleep 0.25
done
check_eq "the idle flow is no longer listed" "yes" "$gone"
# The sweep runs every 5 s; after it, nothing of the flow is left to flush.
sleep 6
check_eq "the sweep removed both entries (a flush finds none)" "0" \
	"$(ctl --json conntrack flush | jq -r .flushed)"
check_eq "the next datagram starts a new flow" "again" "$(ask again 41000)"
check_eq "conntrack lists it" "1" "$(ct_flows '.original.sport == 41000')"
check "daemon still serving" daemon_alive
