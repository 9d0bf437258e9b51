#!/usr/bin/env bash
# L2: drop every ARP frame at the server. Once the client's neighbour entry is
# gone, ping and TCP stop; deleting the rule brings them back.
T_NAME=arp
. "$(dirname "$0")/lib.sh"

two_hosts || exit 1
start_daemon || exit 1
tcp_server "$S" 80 || exit 1

check "ping works before the rule" ping_ok "$C" 10.200.0.2
id=$(ctl --json add-drop --iface "$SIF" --netns "$S" --ether-type arp | jq -r .id)
check "add-drop ether-type arp" test "$id" -ge 1
ip -n "$C" neigh flush dev "$CIF"
ip -n "$S" neigh flush dev "$SIF"
check_not "ping fails once ARP is dropped" ping_ok "$C" 10.200.0.2 2
check_not "tcp fails once ARP is dropped" tcp_ok "$C" 10.200.0.2 80
check_ge "arp counter rose" 1 "$(rule_field "$id" packets)"
check_eq "list shows ether-type" arp "$(rule_field "$id" '"ether-type"')"
check "ipv6 (no ARP) still works" ping6_ok "$C" fd00:200::2
check "del" ctl del "$id"
check "ping works after del" ping_ok "$C" 10.200.0.2
check "tcp works after del" tcp_ok "$C" 10.200.0.2 80
