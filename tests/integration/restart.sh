#!/usr/bin/env bash
# Hitless restart: the datapath outlives sluiced. A ping stream crosses a
# redirect gateway (forwarding OFF in the middle) while sluiced is killed with
# SIGKILL and started again: no packet is lost, drop rules hold while it is
# down, counters carry on, and `export` is the same before and after. Then
# SIGTERM (the datapath stays), a damaged or missing state file (refused,
# datapath untouched), and `flush` (everything goes).
#
#   $C  $CIF 10.61.1.2 ---- $M0 10.61.1.1  [$M]  $M1 10.61.2.1 ---- $SIF 10.61.2.2  $S
T_NAME=restart
. "$(dirname "$0")/lib.sh"

three_hosts 61 || exit 1
ip netns exec "$M" sysctl -qw net.ipv4.ip_forward=0
start_daemon || exit 1

# udp_gets PORT [SEND_PORT]: whether a datagram from $C sent to SEND_PORT (default
# PORT) reaches a receiver on PORT in $S (bounded).
udp_gets() {
	local out="$T_DIR/udp.$1" to=${2:-$1}
	: >"$out"
	bg_in "$S" timeout 3 socat -u "UDP-RECV:$1,reuseaddr" "OPEN:$out,append"
	wait_port "$S" "$1" udp || return 1
	for _ in 1 2 3; do
		echo "dgram" | ip netns exec "$C" socat -u - "UDP:10.61.2.2:$to,sourceport=40000,reuseaddr"
		sleep 0.1
	done
	sleep 0.3
	kill "${T_PIDS[-1]}" 2>/dev/null
	wait "${T_PIDS[-1]}" 2>/dev/null
	grep -q dgram "$out"
}

state_file="$T_DIR/state/rules.json"
new_rule fwd "forward redirect" add-redirect --iface "$M0" --netns "$M" --dst 10.61.2.0/24 \
	--to "$M1" --mode neigh --name fwd || exit 1
new_rule back "return redirect" add-redirect --iface "$M1" --netns "$M" --dst 10.61.1.0/24 \
	--to "$M0" --mode neigh || exit 1
new_rule drop "drop udp 9999 at the server" add-drop --iface "$SIF" --netns "$S" --proto udp \
	--dport 9999 || exit 1
check "ping crosses the gateway" ping_ok "$C" 10.61.2.2 3
check "udp 9998 arrives" udp_gets 9998
check_not "udp 9999 is dropped" udp_gets 9999
# A translated flow: DNAT on the client's egress, 6000 -> 6001 (replies restored on its ingress).
new_rule dnat "dnat udp 6000 -> 6001" add-rewrite --iface "$CIF" --netns "$C" --hook tc-egress \
	--proto udp --dst 10.61.2.2 --dport 6000 --to-dport 6001 || exit 1
check "a datagram to 6000 reaches 6001" udp_gets 6001 6000
flows_before=$(ctl --json conntrack | jq -c '[.flows[] | .original] | sort')
check "the flow is in conntrack" test "$flows_before" != "[]"
before=$(ctl export)
check "state file written" test -s "$state_file"

# 500 packets/s for 8 s; sluiced dies 1 s in and is back about 4 s later.
ip netns exec "$C" ping -i 0.002 -c 4000 -W 2 -q 10.61.2.2 >"$T_DIR/ping.txt" 2>&1 &
pinger=$!
T_PIDS+=("$pinger")
sleep 1
fwd_before=$(rule_stat "$fwd" packets)
kill -KILL "$T_DAEMON_PID"
wait "$T_DAEMON_PID" 2>/dev/null
T_DAEMON_PID=""
check_not "udp 9999 still dropped while sluiced is dead" udp_gets 9999
check "udp 9998 still arrives while sluiced is dead" udp_gets 9998
mv "$T_DIR/sluiced.log" "$T_DIR/sluiced.1.log"
start_daemon || exit 1
check "restarted sluiced took over the programs in place" grep -q "took over\|taking over" \
	"$T_DIR/sluiced.log"
wait "$pinger"
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$T_DIR/ping.txt")
check_eq "ping stream of 4000 across kill -9 and restart: loss %" 0 "$loss"
check_eq "export identical after restart" "$before" "$(ctl export)"
check_eq "the translated flow survived the restarts" "$flows_before" \
	"$(ctl --json conntrack | jq -c '[.flows[] | .original] | sort')"
check_ge "forward counter carried on across restarts" "$((fwd_before + 3000))" \
	"$(rule_stat "$fwd" packets)"
check_eq "rule ids kept" "drop" "$(rule_field "$drop" kind)"

# SIGTERM: an upgrade or a stop leaves the datapath in place.
kill -TERM "$T_DAEMON_PID"
wait "$T_DAEMON_PID"
check_eq "sluiced exits 0 on SIGTERM" 0 "$?"
T_DAEMON_PID=""
check "ping crosses the gateway while sluiced is stopped" ping_ok "$C" 10.61.2.2 3
check "XDP program still on $SIF" xdp_attached "$S" "$SIF"

# A damaged state file: refused, named, and nothing touched.
cp "$state_file" "$T_DIR/rules.good"
printf '{"format":"sluice-state","version":1,"rules":[{"kind":"drop"' >"$state_file"
"$SLUICED" --socket "$T_SOCK" --state-dir "$T_DIR/state" --bpffs "$T_BPFFS" 2>"$T_DIR/bad.log"
check_eq "damaged state file: sluiced refuses to start" 1 "$?"
check "the message names the file" grep -q "$state_file" "$T_DIR/bad.log"
check "ping still crosses after the refused start" ping_ok "$C" 10.61.2.2 2
rm -f "$state_file"
"$SLUICED" --socket "$T_SOCK" --state-dir "$T_DIR/state" --bpffs "$T_BPFFS" 2>"$T_DIR/bad.log"
check_eq "missing state file over a live datapath: refused" 1 "$?"
check "the message says what to do" grep -q "cleanup" "$T_DIR/bad.log"
cp "$T_DIR/rules.good" "$state_file"
journal="$T_DIR/state/rules.journal"
echo '{"seq":999999,"add":{"kind":"drop","proto":"icmp"}}' >"$journal"
"$SLUICED" --socket "$T_SOCK" --state-dir "$T_DIR/state" --bpffs "$T_BPFFS" 2>"$T_DIR/bad.log"
check_eq "damaged journal: refused" 1 "$?"
check "the message names the journal and the line" grep -q "rules.journal is damaged at line 1" \
	"$T_DIR/bad.log"
# A last line cut short by a crash was never acknowledged: skipped.
printf '{"seq":999999,"del":' >"$journal"
start_daemon || exit 1
check "an unfinished last journal line is skipped" grep -q "unfinished last line" "$T_DIR/sluiced.log"
check_eq "export identical after the refusals" "$before" "$(ctl export)"

# A saved rule whose namespace is gone (or cannot be opened) by the next
# start waits, detached: the start does not fail on it.
mkns GONE gone || exit 1
new_rule GID "a rule in a namespace about to go" add-drop --iface lo --netns "$GONE" \
	--hook tc-ingress --proto udp
kill -TERM "$T_DAEMON_PID"; wait "$T_DAEMON_PID"; T_DAEMON_PID=""
ip netns del "$GONE"
start_daemon || exit 1
check_eq "restarted with the namespace gone: the rule is kept, detached" false \
	"$(rule_field "$GID" attached)"
ctl del "$GID" >/dev/null
before=$(ctl export)

# flush: every program, filter and pin goes.
check "flush" ctl flush
check_not "no XDP program left on $SIF" xdp_attached "$S" "$SIF"
check_eq "no sluice tc filter left on $M0" "" "$(tc_filters "$M" "$M0" ingress)"
check_eq "no attach point pinned" "" "$(ls "$T_BPFFS/hooks" 2>/dev/null)"
check_not "nothing crosses after flush" ping_ok "$C" 10.61.2.2 1
check_eq "export is empty" 0 "$(ctl --json export | jq '.rules | length')"
