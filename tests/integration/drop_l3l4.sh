#!/usr/bin/env bash
# Container firewall by layer, L3 and L4: drop ICMP (XDP and tc), drop TCP/80
# while TCP/8080 answers, counters rise by what was sent, delete restores
# traffic and leaves the interface as it was.
T_NAME=l3l4
. "$(dirname "$0")/lib.sh"

two_hosts || exit 1
start_daemon || exit 1
tcp_server "$S" 80 || exit 1
tcp_server "$S" 8080 || exit 1

check "ping works before any rule" ping_ok "$C" 10.200.0.2
check "tcp/80 works before any rule" tcp_ok "$C" 10.200.0.2 80

# --- ICMP on XDP
id=$(ctl --json add-drop --iface "$SIF" --netns "$S" --proto icmp --name no-ping | jq -r .id)
check "add-drop icmp returns an id" test "$id" -ge 1
check "xdp program attached" xdp_attached "$S" "$SIF"
check_not "ping dropped by xdp" ping_ok "$C" 10.200.0.2 3
check_eq "xdp icmp counter: packets" 3 "$(rule_field "$id" packets)"
check_eq "xdp icmp counter: bytes (3 x 98-byte frames)" 294 "$(rule_field "$id" bytes)"
check_eq "stats ID agrees" 3 "$(ctl --json stats "$id" | jq -r '.rules[0].packets')"
check "tcp still works with icmp dropped" tcp_ok "$C" 10.200.0.2 80
check_eq "list shows the rule's fields" "drop xdp icmp no-ping $S $SIF" \
	"$(ctl --json list | jq -r ".rules[] | select(.id == $id) | \"\(.kind) \(.hook) \(.proto) \(.name) \(.netns) \(.iface)\"")"
check "ipv6 ping is not icmp" ping6_ok "$C" fd00:200::2
check "del" ctl del "$id"
check "ping works again after del" ping_ok "$C" 10.200.0.2
check_not "xdp program detached after the last rule" xdp_attached "$S" "$SIF"

# --- ICMP on tc ingress, then tc egress of the client
id=$(ctl --json add-drop --iface "$SIF" --netns "$S" --hook tc-ingress --proto icmp | jq -r .id)
check "tc filter at sluice's priority" sh -c "ip netns exec $S tc filter show dev $SIF ingress | grep -q 'sluice_tc'"
check_not "ping dropped by tc ingress" ping_ok "$C" 10.200.0.2 3
check_eq "tc icmp counter: packets" 3 "$(rule_field "$id" packets)"
check "del tc rule" ctl del "$id"
check "ping works after tc del" ping_ok "$C" 10.200.0.2
check_eq "no tc filter left" "" "$(tc_filters "$S" "$SIF" ingress)"
check_not "clsact qdisc sluice created is gone" has_clsact "$S" "$SIF"

id=$(ctl --json add-drop --iface "$CIF" --netns "$C" --hook tc-egress --proto icmp --dst 10.200.0.2 | jq -r .id)
check_not "ping dropped by tc egress on the client" ping_ok "$C" 10.200.0.2 2
# A drop on egress fails ping's sendmsg (ENOBUFS) and ping sends again: at least 2.
check_ge "tc egress counter" 2 "$(rule_field "$id" packets)"
check "del egress rule" ctl del "$id"
check "ping works after egress del" ping_ok "$C" 10.200.0.2

# --- TCP port 80 dropped, 8080 answers; IPv6 too
id=$(ctl --json add-drop --iface "$SIF" --netns "$S" --proto tcp --dport 80 | jq -r .id)
check_not "tcp/80 dropped" tcp_ok "$C" 10.200.0.2 80
check "tcp/8080 still answers" tcp_ok "$C" 10.200.0.2 8080
check "tcp/8080 over ipv6 answers" tcp_ok "$C" '[fd00:200::2]' 8080
check_not "tcp/80 over ipv6 dropped (proto tcp rule covers both families)" tcp_ok "$C" '[fd00:200::2]' 80
check_ge "tcp/80 counter saw the SYNs" 2 "$(rule_field "$id" packets)"
check "ping unaffected by the tcp rule" ping_ok "$C" 10.200.0.2
check "del tcp rule" ctl del "$id"
check "tcp/80 works again" tcp_ok "$C" 10.200.0.2 80

# --- A port range on tc ingress
id=$(ctl --json add-drop --iface "$SIF" --netns "$S" --hook tc-ingress --proto tcp --dport 79-80 | jq -r .id)
check_not "tcp/80 dropped by the range 79-80" tcp_ok "$C" 10.200.0.2 80
check "tcp/8080 outside the range answers" tcp_ok "$C" 10.200.0.2 8080
check "del range rule" ctl del "$id"
check_eq "no rules left" 0 "$(ctl --json list | jq '.rules | length')"
