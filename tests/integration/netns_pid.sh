#!/usr/bin/env bash
# A container's namespace named by one of its processes (pid:PID), and by
# path; both name the same attach point as the namespace's name.
T_NAME=pid
. "$(dirname "$0")/lib.sh"

two_hosts || exit 1
start_daemon || exit 1

# The "container": a process living in the server namespace.
bg_in "$S" sleep 120
pid=${T_PIDS[-1]}
for _ in $(seq 1 20); do
	[ "$(readlink /proc/$pid/ns/net)" = "$(ip netns exec "$S" readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done

id=$(ctl --json add-drop --iface "$SIF" --netns "pid:$pid" --proto icmp | jq -r .id)
check "add-drop with --netns pid:PID" test "$id" -ge 1
check_not "ping dropped in the pid's namespace" ping_ok "$C" 10.200.0.2 2
check_eq "rule shows the namespace as given" "pid:$pid" "$(rule_field "$id" netns)"
check_eq "counter" 2 "$(rule_field "$id" packets)"

id2=$(ctl --json add-drop --iface "$SIF" --netns "/run/netns/$S" --proto udp | jq -r .id)
check "add-drop with a namespace path" test "$id2" -ge 1
check_eq "same namespace by path shares the hook" 1 "$(ctl --json status | jq '.hooks | length')"
check_eq "the hook holds both rules" 2 "$(ctl --json status | jq '.hooks[0].rules')"

check "del pid rule" ctl del "$id"
check "del path rule" ctl del "$id2"
check "ping works after del" ping_ok "$C" 10.200.0.2
check_not "no program left" xdp_attached "$S" "$SIF"

check_not "a pid that does not exist is refused" ctl add-drop --iface "$SIF" --netns pid:999999999 --proto icmp
check_not "a namespace name that does not exist is refused" ctl add-drop --iface "$SIF" --netns "no-such-$T_ID" --proto icmp
check_not "an interface in the wrong namespace is refused" ctl add-drop --iface "$SIF" --proto icmp
