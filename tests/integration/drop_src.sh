#!/usr/bin/env bash
# Drop by source prefix, IPv4 and IPv6: one client address is dropped, its
# neighbour in the same subnet is not; a wider prefix covers both.
T_NAME=src
. "$(dirname "$0")/lib.sh"

two_hosts || exit 1
ip -n "$C" addr add 10.200.0.3/24 dev "$CIF"
ip -n "$C" addr add fd00:200::3/64 dev "$CIF" nodad
# Static neighbours: the /128 and /64 rules also drop neighbour discovery from the
# addresses they name, which would stop every IPv6 packet, not just theirs.
cmac=$(ip -n "$C" -j link show "$CIF" | jq -r '.[0].address')
smac=$(ip -n "$S" -j link show "$SIF" | jq -r '.[0].address')
ip -n "$C" neigh replace fd00:200::2 lladdr "$smac" dev "$CIF" nud permanent
ip -n "$S" neigh replace fd00:200::1 lladdr "$cmac" dev "$SIF" nud permanent
ip -n "$S" neigh replace fd00:200::3 lladdr "$cmac" dev "$SIF" nud permanent
start_daemon || exit 1

p4() { ip netns exec "$C" ping -c 1 -W 1 -I "$1" 10.200.0.2 >/dev/null 2>&1; }
p6() { ip netns exec "$C" ping -6 -c 1 -W 1 -I "$1" fd00:200::2 >/dev/null 2>&1; }

id4=$(ctl --json add-drop --iface "$SIF" --netns "$S" --src 10.200.0.3/32 | jq -r .id)
check_not "10.200.0.3 dropped" p4 10.200.0.3
check "10.200.0.1 passes" p4 10.200.0.1
check_eq "v4 /32 counter" 1 "$(rule_field "$id4" packets)"
check_eq "list prints a /32 as an address" 10.200.0.3 "$(rule_field "$id4" src)"

id6=$(ctl --json add-drop --iface "$SIF" --netns "$S" --hook tc-ingress --src fd00:200::3/128 | jq -r .id)
check_not "fd00:200::3 dropped" p6 fd00:200::3
check "fd00:200::1 passes" p6 fd00:200::1
check_ge "v6 /128 counter" 1 "$(rule_field "$id6" packets)"

wide=$(ctl --json add-drop --iface "$SIF" --netns "$S" --src 10.200.0.0/30 | jq -r .id)
check_not "the /30 drops 10.200.0.1" p4 10.200.0.1
check "del /30" ctl del "$wide"
check "10.200.0.1 passes again" p4 10.200.0.1

wide6=$(ctl --json add-drop --iface "$SIF" --netns "$S" --src fd00:200::/64 | jq -r .id)
check_not "the /64 drops fd00:200::1" p6 fd00:200::1
check "del /64" ctl del "$wide6"
check "fd00:200::1 passes again" p6 fd00:200::1

check "del v4" ctl del "$id4"
check "del v6" ctl del "$id6"
check "10.200.0.3 passes after del" p4 10.200.0.3
check "fd00:200::3 passes after del" p6 fd00:200::3
