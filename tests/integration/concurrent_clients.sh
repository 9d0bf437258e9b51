#!/usr/bin/env bash
# Twenty clients at once, each on its own connection, pipeline 50 add-drop
# requests each (UDP ports, half on XDP, half on tc-ingress of one veth): every
# request is answered ok, the table holds exactly the 1000 rules with 1000
# distinct ids, sluiced stays up, and the datapath drops the ports it was told
# to while others pass.
T_NAME=concurrent
. "$(dirname "$0")/lib.sh"

CLIENTS=20
PER=50
BASE=20000 # client K's ports: BASE + K*PER .. BASE + K*PER + PER-1

two_hosts || exit 1
start_daemon || exit 1

# Each client connects, waits for the go file, then sends all its requests.
pids=()
for k in $(seq 0 $((CLIENTS - 1))); do
	hook=xdp
	[ $((k % 2)) = 1 ] && hook=tc-ingress
	timeout 110 python3 "$T_HERE/ctl_burst.py" "$T_SOCK" --client "$k" --iface "$SIF" --netns "$S" \
		--hook "$hook" --count "$PER" --port-base "$BASE" --ready "$T_DIR/ready.$k" --go "$T_DIR/go" \
		--ids "$T_DIR/ids.$k" \
		--timeout 100 >"$T_DIR/burst.$k" 2>&1 &
	pids+=($!)
done
# Go once all are connected (bounded: 20 s).
for _ in $(seq 1 200); do
	[ "$(find "$T_DIR" -name 'ready.*' | wc -l)" -ge "$CLIENTS" ] && break
	sleep 0.1
done
check_eq "clients connected before the go" "$CLIENTS" "$(find "$T_DIR" -name 'ready.*' | wc -l)"
touch "$T_DIR/go"
t0=$(date +%s%N)
clients_ok=0
for k in $(seq 0 $((CLIENTS - 1))); do
	if wait "${pids[$k]}"; then
		clients_ok=$((clients_ok + 1))
	else
		log "client $k failed: $(head -3 "$T_DIR/burst.$k" | tr '\n' ' ')"
	fi
done
log "$((CLIENTS * PER)) adds from $CLIENTS clients answered in $((($(date +%s%N) - t0) / 1000000)) ms"
check_eq "clients with every reply ok" "$CLIENTS" "$clients_ok"
check_eq "adds answered ok" $((CLIENTS * PER)) \
	"$(cat "$T_DIR"/burst.* | sed -n 's/.* ok=\([0-9]*\) .*/\1/p' | awk '{ s += $1 } END { print s + 0 }')"
check "daemon alive after the burst" daemon_alive

ctl --json list >"$T_DIR/list.json"
check_eq "list shows every rule" $((CLIENTS * PER)) "$(jq '.rules | length' "$T_DIR/list.json")"
check_eq "... with distinct ids" $((CLIENTS * PER)) "$(jq '[.rules[].id] | unique | length' "$T_DIR/list.json")"
sort -n "$T_DIR"/ids.* >"$T_DIR/given.ids"
jq -r '.rules[].id' "$T_DIR/list.json" | sort -n >"$T_DIR/listed.ids"
check "... the ids the clients were given" cmp -s "$T_DIR/given.ids" "$T_DIR/listed.ids"
check_eq "... one rule per (hook, port), as sent" $((CLIENTS * PER)) \
	"$(jq '[.rules[] | select(.iface == "'"$SIF"'" and .proto == "udp") | "\(.hook) \(.dport)"] | unique | length' "$T_DIR/list.json")"
check_eq "... each on the hook its client used" 0 \
	"$(jq --argjson b "$BASE" --argjson n "$PER" '[.rules[] | select(((((.dport | tonumber) - $b) / $n | floor) % 2 == 0) != (.hook == "xdp"))] | length' "$T_DIR/list.json")"
check_eq "status counts them on two hooks" "tc-ingress=$((CLIENTS * PER / 2)) xdp=$((CLIENTS * PER / 2))" \
	"$(ctl --json status | jq -r '[.hooks[] | "\(.hook)=\(.rules)"] | sort | join(" ")')"

# Traffic: a port of an XDP client and one of a tc-ingress client are dropped,
# a port no client asked for passes.
XDP_PORT=$BASE TC_PORT=$((BASE + PER)) OPEN_PORT=$((BASE - 1))
for p in $XDP_PORT $TC_PORT $OPEN_PORT; do
	bg_in "$S" timeout 60 python3 "$T_HERE/udp_echo.py" 10.200.0.2 "$p"
	wait_port "$S" "$p" udp || fail "udp echo on $p did not start"
done
udp() { ip netns exec "$C" timeout 5 python3 "$T_HERE/udp_refused.py" 10.200.0.2 "$1"; }
check_eq "udp/$OPEN_PORT (no rule) answers" data "$(udp "$OPEN_PORT")"
check_eq "udp/$XDP_PORT dropped (xdp rule)" timeout "$(udp "$XDP_PORT")"
check_eq "udp/$TC_PORT dropped (tc-ingress rule)" timeout "$(udp "$TC_PORT")"
xdp_id=$(jq -r ".rules[] | select(.dport == \"$XDP_PORT\") | .id" "$T_DIR/list.json")
tc_id=$(jq -r ".rules[] | select(.dport == \"$TC_PORT\") | .id" "$T_DIR/list.json")
check_eq "the xdp rule counted the datagram" 1 "$(rule_stat "$xdp_id" packets)"
check_eq "the tc-ingress rule counted the datagram" 1 "$(rule_stat "$tc_id" packets)"
check "daemon alive at the end" daemon_alive
