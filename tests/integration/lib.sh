# Shared harness of the integration tests: a private sluiced, namespaces and
# veths with names unique to this run, and cleanup on success and on failure.
# Sourced by each test; needs root. SLUICED and SLUICECTL come from ctest.

set -u
: "${SLUICED:?SLUICED must point at the sluiced binary}"
: "${SLUICECTL:?SLUICECTL must point at the sluicectl binary}"

T_ID="${T_NAME:-t}$$"
# Where the tests and their helper programs (udp_echo.py, udp_refused.py) are.
T_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T_DIR=$(mktemp -d "/tmp/sluice-it.${T_ID}.XXXXXX")
T_SOCK="$T_DIR/sluiced.sock"
T_BPFFS="/sys/fs/bpf/sluice-it-$T_ID"
T_NETNS=()
T_HOST_LINKS=()
T_PIDS=()
T_DAEMON_PID=""
# A command sluiced runs under (e.g. setpriv limiting its capabilities).
T_WRAP=()
T_FAILS=0
T_PASSES=0

log() { printf '[%s] %s\n' "${T_NAME:-test}" "$*"; }

pass() { T_PASSES=$((T_PASSES + 1)); log "ok: $*"; }
fail() { T_FAILS=$((T_FAILS + 1)); log "FAIL: $*"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# check_not DESCRIPTION COMMAND...: passes when the command fails.
check_not() {
	local what=$1
	shift
	if "$@"; then fail "$what"; else pass "$what"; fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1 ($3)"; else fail "$1: expected '$2', got '$3'"; fi
}

# check_ge DESCRIPTION MIN ACTUAL
check_ge() {
	if [ "$3" -ge "$2" ] 2>/dev/null; then pass "$1 ($3 >= $2)"; else fail "$1: expected >= $2, got '$3'"; fi
}

# contains TEXT PART: TEXT has PART in it.
contains() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }

# Unique, short (<= 15 chars) interface names for this run.
ifname() { printf 's%s%s' "$(($$ % 100000))" "$1"; }

# mkns VAR TAG: creates a namespace and stores its name in VAR (not echoed:
# a command substitution's subshell would lose the cleanup record).
mkns() {
	local ns="sl-${T_ID}-$2"
	ip netns add "$ns" || return 1
	T_NETNS+=("$ns")
	ip -n "$ns" link set lo up
	printf -v "$1" '%s' "$ns"
}

# veth_pair NS_A IF_A ADDR_A NS_B IF_B ADDR_B [ADDR6_A ADDR6_B]; NS "-" is the host.
veth_pair() {
	local nsa=$1 ifa=$2 addra=$3 nsb=$4 ifb=$5 addrb=$6 a6=${7:-} b6=${8:-}
	ip link add "$ifa" type veth peer name "$ifb" || return 1
	if [ "$nsa" = - ]; then T_HOST_LINKS+=("$ifa"); else ip link set "$ifa" netns "$nsa"; fi
	if [ "$nsb" = - ]; then T_HOST_LINKS+=("$ifb"); else ip link set "$ifb" netns "$nsb"; fi
	_in "$nsa" ip addr add "$addra" dev "$ifa"
	_in "$nsb" ip addr add "$addrb" dev "$ifb"
	[ -n "$a6" ] && _in "$nsa" ip addr add "$a6" dev "$ifa" nodad
	[ -n "$b6" ] && _in "$nsb" ip addr add "$b6" dev "$ifb" nodad
	_in "$nsa" ip link set "$ifa" up
	_in "$nsb" ip link set "$ifb" up
}

_in() {
	local ns=$1
	shift
	if [ "$ns" = - ]; then "$@"; else ip netns exec "$ns" "$@"; fi
}

start_daemon() {
	"${T_WRAP[@]}" "$SLUICED" --socket "$T_SOCK" --state-dir "$T_DIR/state" --bpffs "$T_BPFFS" \
		--log-level "${T_LOG_LEVEL:-info}" "$@" 2>"$T_DIR/sluiced.log" &
	T_DAEMON_PID=$!
	for _ in $(seq 1 100); do
		if "$SLUICECTL" --socket "$T_SOCK" status >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$T_DAEMON_PID" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	log "sluiced did not become ready:"
	cat "$T_DIR/sluiced.log" >&2
	return 1
}

ctl() { "$SLUICECTL" --socket "$T_SOCK" "$@"; }

daemon_alive() { kill -0 "$T_DAEMON_PID" 2>/dev/null; }

# Runs in the background inside NS, remembered for cleanup. `ip netns exec`
# execs the command, so the recorded pid is the command's own.
bg_in() {
	local ns=$1
	shift
	if [ "$ns" = - ]; then "$@" & else ip netns exec "$ns" "$@" & fi
	T_PIDS+=($!)
}

# wait_port NS PORT [tcp|udp]: until something listens (bounded).
wait_port() {
	local flag=-t
	[ "${3:-tcp}" = udp ] && flag=-u
	for _ in $(seq 1 50); do
		if _in "$1" ss -Hln $flag "sport = :$2" | grep -q .; then return 0; fi
		sleep 0.1
	done
	return 1
}

# tcp_ok NS ADDR PORT: a connection is accepted and the server's banner arrives.
tcp_ok() {
	local out
	out=$(_in "$1" timeout 4 socat -T2 - "TCP:$2:$3,connect-timeout=2" </dev/null 2>/dev/null)
	[ "$out" = "hello-$3" ]
}

# tcp_server NS PORT: answers every connection with "hello-PORT".
tcp_server() {
	bg_in "$1" timeout 120 socat "TCP6-LISTEN:$2,ipv6only=0,fork,reuseaddr" "SYSTEM:echo hello-$2"
	wait_port "$1" "$2" tcp
}

ping_ok() { _in "$1" ping -c "${3:-1}" -i 0.2 -W 1 "$2" >/dev/null 2>&1; }
ping6_ok() { _in "$1" ping -6 -c 1 -W 1 "$2" >/dev/null 2>&1; }

# rule_field ID FIELD: a field of a rule from `list --json`.
rule_field() { ctl --json list | jq -r --argjson id "$1" ".rules[] | select(.id == \$id) | .$2"; }

xdp_attached() { _in "$1" ip -d link show dev "$2" | grep -q 'prog/xdp'; }
tc_filters() { _in "$1" tc filter show dev "$2" "$3" 2>/dev/null; }
has_clsact() { _in "$1" tc qdisc show dev "$2" | grep -q clsact; }

cleanup() {
	local rc=$?
	local daemon_rc=0
	for p in "${T_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	if [ -n "$T_DAEMON_PID" ] && kill -0 "$T_DAEMON_PID" 2>/dev/null; then
		kill -TERM "$T_DAEMON_PID"
		for _ in $(seq 1 50); do kill -0 "$T_DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$T_DAEMON_PID" 2>/dev/null
		wait "$T_DAEMON_PID"
		daemon_rc=$?
	fi
	# A stopped sluiced leaves its datapath in place (hitless restarts): take it away.
	"$SLUICED" --cleanup --socket "$T_SOCK" --state-dir "$T_DIR/state" --bpffs "$T_BPFFS" \
		2>>"$T_DIR/sluiced.log" || { log "FAIL: sluiced --cleanup"; T_FAILS=$((T_FAILS + 1)); }
	for ns in "${T_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	for l in "${T_HOST_LINKS[@]}"; do ip link del "$l" 2>/dev/null; done
	wait 2>/dev/null
	if [ "$daemon_rc" != 0 ]; then
		log "FAIL: sluiced exited with status $daemon_rc (crash, sanitizer report or leak):"
		tail -40 "$T_DIR/sluiced.log" >&2
		T_FAILS=$((T_FAILS + 1))
	fi
	if [ "$T_FAILS" != 0 ] || [ "$rc" != 0 ]; then
		log "daemon log (last lines):"
		tail -20 "$T_DIR/sluiced.log" >&2 2>/dev/null
	fi
	rm -rf "$T_DIR"
	rmdir "$T_BPFFS" 2>/dev/null
	echo "$T_PASSES passed, $T_FAILS failed"
	if [ "$T_FAILS" != 0 ] || [ "$rc" != 0 ]; then exit 1; fi
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Client and server namespaces joined by a veth pair:
#   $C ($CIF 10.200.0.1, fd00:200::1)  <->  $S ($SIF 10.200.0.2, fd00:200::2)
two_hosts() {
	mkns C c && mkns S s || return 1
	CIF=$(ifname c)
	SIF=$(ifname s)
	veth_pair "$C" "$CIF" 10.200.0.1/24 "$S" "$SIF" 10.200.0.2/24 fd00:200::1/64 fd00:200::2/64
}

# Client, middle and server namespaces (N: the test's second address byte):
#   $C ($CIF 10.N.1.2 fd00:N:1::2) -- ($M0 10.N.1.1 fd00:N:1::1) $M
#   ($M1 10.N.2.1 fd00:N:2::1) -- $S ($SIF 10.N.2.2 fd00:N:2::2)
# with default routes through the middle; forwarding there is the test's business.
three_hosts() {
	local n=$1
	mkns C c && mkns M m && mkns S s || return 1
	CIF=$(ifname c)
	SIF=$(ifname s)
	M0=$(ifname m0)
	M1=$(ifname m1)
	veth_pair "$C" "$CIF" "10.$n.1.2/24" "$M" "$M0" "10.$n.1.1/24" "fd00:$n:1::2/64" \
		"fd00:$n:1::1/64" || return 1
	veth_pair "$S" "$SIF" "10.$n.2.2/24" "$M" "$M1" "10.$n.2.1/24" "fd00:$n:2::2/64" \
		"fd00:$n:2::1/64" || return 1
	ip -n "$C" route add default via "10.$n.1.1"
	ip -n "$C" -6 route add default via "fd00:$n:1::1"
	ip -n "$S" route add default via "10.$n.2.1"
	ip -n "$S" -6 route add default via "fd00:$n:2::1"
}

# new_rule VAR WHAT CTL_ARGS...: runs `sluicectl --json CTL_ARGS` (an add-*
# command) and stores the new rule's id in VAR. Passes; or fails with the
# daemon's message, leaves VAR empty and returns 1.
new_rule() {
	local var=$1 what=$2 id
	shift 2
	id=$(ctl --json "$@" 2>"$T_DIR/new_rule.err" | jq -r '.id // empty' 2>/dev/null)
	printf -v "$var" '%s' "$id"
	if [ -n "$id" ]; then pass "$what (id $id)"; return 0; fi
	fail "$what: $(head -1 "$T_DIR/new_rule.err")"
	return 1
}

# ct_flows JQ_CONDITION: how many flows of `sluicectl conntrack` satisfy it.
ct_flows() { ctl --json conntrack | jq "[.flows[] | select($1)] | length"; }

# rule_stat ID FIELD: a counter of one rule from `stats ID`.
rule_stat() { ctl --json stats "$1" | jq -r ".rules[0].$2"; }
