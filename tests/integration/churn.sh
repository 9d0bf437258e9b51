#!/usr/bin/env bash
# Interface churn: rules name interfaces and namespaces. When a veth is
# deleted (or a container's namespace goes) its rules stay configured and are
# shown detached; when it comes back they are attached again on their own and
# handle traffic again. A redirect whose target veth is recreated follows it.
T_NAME=churn
. "$(dirname "$0")/lib.sh"

two_hosts || exit 1
start_daemon || exit 1

# wait_attached ID WANT: until the rule's "attached" is WANT (bounded, 5 s).
wait_attached() {
	for _ in $(seq 1 50); do
		[ "$(rule_field "$1" attached)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

new_rule xdp_id "drop ping on the server's veth (xdp)" add-drop --iface "$SIF" --netns "$S" \
	--proto icmp || exit 1
new_rule tc_id "drop udp 9 on the client's egress (tc)" add-drop --iface "$CIF" --netns "$C" \
	--hook tc-egress --proto udp --dport 9 || exit 1
check_not "ping dropped" ping_ok "$C" 10.200.0.2

# The veth goes (both ends): rules stay, detached.
ip -n "$C" link del "$CIF"
check "xdp rule shown detached" wait_attached "$xdp_id" false
check "tc rule shown detached" wait_attached "$tc_id" false
check_eq "rules still configured" 2 "$(ctl --json list | jq '.rules | length')"
check "status says what is missing" contains "$(ctl --json status | jq -r '.hooks[].detached')" "no interface '$CIF'"
check_eq "export still lists both" 2 "$(ctl --json export | jq '.rules | length')"

# It comes back under the same names: attached again, dropping again.
veth_pair "$C" "$CIF" 10.200.0.1/24 "$S" "$SIF" 10.200.0.2/24 || exit 1
check "xdp rule re-attached" wait_attached "$xdp_id" true
check "tc rule re-attached" wait_attached "$tc_id" true
check "XDP program on the new $SIF" xdp_attached "$S" "$SIF"
check_not "ping dropped again" ping_ok "$C" 10.200.0.2
check_ge "the rule counts the new interface's packets" 1 "$(rule_stat "$xdp_id" packets)"

# The server's namespace goes and a new one of the same name comes (a container restart).
ip netns del "$S"
check "rule detached when its namespace went" wait_attached "$xdp_id" false
ip netns add "$S"
ip -n "$S" link set lo up
ip -n "$C" link del "$CIF" 2>/dev/null
veth_pair "$C" "$CIF" 10.200.0.1/24 "$S" "$SIF" 10.200.0.2/24 || exit 1
check "rule re-attached in the new namespace" wait_attached "$xdp_id" true
check_not "ping dropped in the new namespace" ping_ok "$C" 10.200.0.2
check "deleting a detached-then-attached rule works" ctl del "$xdp_id"
check "ping passes after del" ping_ok "$C" 10.200.0.2
check_not "no XDP program left" xdp_attached "$S" "$SIF"

# A redirect target recreated (a container's veth): the rule follows the new one.
mkns T t || exit 1
TIF=$(ifname t)
TPEER=$(ifname tp)
veth_pair "$S" "$TIF" 10.202.0.1/24 "$T" "$TPEER" 10.202.0.2/24 || exit 1
new_rule redir "redirect to $TIF" add-redirect --iface "$SIF" --netns "$S" --dst 10.202.0.0/24 \
	--to "$TIF" --mode egress || exit 1
peer_mac() { ip -n "$T" -j link show dev "$TPEER" | jq -r '.[0].address'; }
check_eq "the redirect writes the peer's MAC" "$(peer_mac)" "$(rule_field "$redir" set_dst_mac)"
ip -n "$S" link del "$TIF"
veth_pair "$S" "$TIF" 10.202.0.1/24 "$T" "$TPEER" 10.202.0.2/24 || exit 1
for _ in $(seq 1 50); do
	[ "$(rule_field "$redir" set_dst_mac)" = "$(peer_mac)" ] && break
	sleep 0.1
done
check_eq "after the target was recreated, the new peer's MAC" "$(peer_mac)" \
	"$(rule_field "$redir" set_dst_mac)"
check "the daemon says so" grep -q "redirect target $TIF is back" "$T_DIR/sluiced.log"
