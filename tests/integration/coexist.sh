#!/usr/bin/env bash
# sluice never clobbers other tools: their tc filters at other priorities stay
# (and keep their clsact qdisc), a filter in sluice's own slot or an XDP program
# sluice did not attach is refused with EBUSY and left in place.
T_NAME=coexist
. "$(dirname "$0")/lib.sh"
: "${FOREIGN_OBJ:?}"

two_hosts || exit 1
start_daemon || exit 1

# Another tool's filter at priority 1 on clsact ingress (only the bpf classifier exists on
# every kernel sluice runs on, so the other tool is a BPF filter too).
ip netns exec "$S" tc qdisc add dev "$SIF" clsact
ip netns exec "$S" tc filter add dev "$SIF" ingress prio 1 bpf da obj "$FOREIGN_OBJ" sec tc
id=$(ctl --json add-drop --iface "$SIF" --netns "$S" --hook tc-ingress --proto icmp | jq -r .id)
check "sluice attaches beside another tool's filter" test "$id" -ge 1
check_not "sluice drops ping" ping_ok "$C" 10.200.0.2
check_eq "status lists both filters" "other_tool_tc sluice_tc" \
	"$(ctl --json status | jq -r '[.hooks[0].attached[] | select(.hook == "tc-ingress") | .name | sub(":.*"; "")] | sort | join(" ")')"
check_eq "status tells which one is sluice's" "false true" \
	"$(ctl --json status | jq -r '[.hooks[0].attached[] | select(.hook == "tc-ingress") | .sluice] | sort | map(tostring) | join(" ")')"
check "del" ctl del "$id"
check "the other filter survives" sh -c "ip netns exec $S tc filter show dev $SIF ingress | grep -q other_tool_tc"
check "the clsact qdisc sluice did not create stays" has_clsact "$S" "$SIF"
check "ping works after del" ping_ok "$C" 10.200.0.2

# A filter in sluice's own priority/handle slot belongs to someone else: refuse.
ip netns exec "$S" tc filter del dev "$SIF" ingress prio 1
ip netns exec "$S" tc filter add dev "$SIF" ingress prio 50460 handle 0x51ce bpf da obj "$FOREIGN_OBJ" sec tc
err=$(ctl add-drop --iface "$SIF" --netns "$S" --hook tc-ingress --proto icmp 2>&1)
check_eq "a foreign filter in sluice's slot is refused (exit 1)" 1 "$?"
check "... with EBUSY" contains "$err" EBUSY
check "the foreign filter is untouched" sh -c "ip netns exec $S tc filter show dev $SIF ingress | grep -q other_tool_tc"
ip netns exec "$S" tc qdisc del dev "$SIF" clsact

# Another tool's XDP program.
ip -n "$S" link set dev "$SIF" xdpgeneric obj "$FOREIGN_OBJ" sec xdp
err=$(ctl add-drop --iface "$SIF" --netns "$S" --proto icmp 2>&1)
check_eq "an interface with another tool's XDP program is refused (exit 1)" 1 "$?"
check "... with EBUSY" contains "$err" EBUSY
check "the other XDP program is still attached" sh -c "ip -n $S -d link show dev $SIF | grep -q other_tool"
check_eq "nothing was added" 0 "$(ctl --json list | jq '.rules | length')"
ip -n "$S" link set dev "$SIF" xdpgeneric off

# Two daemons side by side on different interfaces.
T2_SOCK="$T_DIR/second.sock"
"$SLUICED" --socket "$T2_SOCK" --state-dir "$T_DIR/state2" --bpffs "$T_BPFFS-2" 2>"$T_DIR/second.log" &
second=$!
T_PIDS+=("$second")
for _ in $(seq 1 50); do "$SLUICECTL" --socket "$T2_SOCK" status >/dev/null 2>&1 && break; sleep 0.1; done
a=$(ctl --json add-drop --iface "$SIF" --netns "$S" --proto icmp | jq -r .id)
b=$("$SLUICECTL" --socket "$T2_SOCK" --json add-drop --iface "$CIF" --netns "$C" --hook tc-egress --proto udp | jq -r .id)
check "first daemon has its rule" test "$a" -ge 1
check "second daemon has its own" test "$b" -ge 1
check_eq "each lists only its own" "1 1" "$(ctl --json list | jq '.rules | length') $("$SLUICECTL" --socket "$T2_SOCK" --json list | jq '.rules | length')"
kill -TERM "$second"; wait "$second"
check_eq "second daemon stopped cleanly" 0 "$?"
check "its filter stays in place after SIGTERM (hitless restarts)" \
	contains "$(tc_filters "$C" "$CIF" egress)" sluice_tc
check_not "the first daemon's rule still drops" ping_ok "$C" 10.200.0.2
check "second daemon --cleanup" "$SLUICED" --cleanup --socket "$T2_SOCK" --state-dir "$T_DIR/state2" \
	--bpffs "$T_BPFFS-2"
check_eq "cleanup took the second daemon's filter away" "" "$(tc_filters "$C" "$CIF" egress)"
check_not "and left no directory on bpffs" test -e "$T_BPFFS-2"
check_not "the first daemon's rule still drops after the cleanup" ping_ok "$C" 10.200.0.2
