#!/usr/bin/env bash
# sluiced works with exactly the capabilities its systemd unit leaves it
# (CapabilityBoundingSet= and NoNewPrivileges= of packaging/systemd/
# sluiced.service.in, applied here with setpriv, since no systemd runs as
# PID 1 on the test machines): XDP and tc rules drop real traffic, a rewrite
# rule loads, a rule enters the namespace of a container process of another
# uid (pid:PID), and a restart takes the datapath over. Without CAP_SYS_PTRACE
# that pid:PID rule is refused, which is why the unit keeps it.
T_NAME=unit_caps
source "$(dirname "$0")/lib.sh"

source "$T_HERE/../lib/unit_caps.sh"
UNIT="$T_HERE/../../packaging/systemd/sluiced.service.in"
for f in "$UNIT" "$CAP_HEADER"; do [ -r "$f" ] || { log "FAIL: $f is missing"; exit 1; }; done
command -v setpriv >/dev/null || { log "FAIL: setpriv is missing"; exit 1; }

caps=$(unit_cap_names "$UNIT")
check "the unit sets CapabilityBoundingSet" test -n "$caps"
check "the unit sets NoNewPrivileges=yes" grep -qx 'NoNewPrivileges=yes' "$UNIT"
# The kernel's mask of the set, and setpriv's form of it (+bpf,+net_admin,...).
mask=$(cap_mask $caps 2>"$T_DIR/caps.err") || { log "FAIL: $(cat "$T_DIR/caps.err") in the unit"; exit 1; }
bounding="-all"
for c in $caps; do bounding+=",+$(printf '%s' "${c#CAP_}" | tr 'A-Z' 'a-z')"; done
unit_caps() { T_WRAP=(setpriv --bounding-set "$1" --inh-caps=-all --no-new-privs); }

two_hosts || exit 1
# A container process of another uid: nobody, in the server's namespace.
bg_in "$S" setpriv --reuid=65534 --regid=65534 --clear-groups sleep 120
NOBODY=${T_PIDS[-1]}
sleep 0.3

# Without CAP_SYS_PTRACE, /proc/PID/ns/net of another uid's process is closed.
unit_caps "${bounding/,+sys_ptrace/}"
start_daemon || exit 1
if ctl add-drop --iface "$SIF" --netns "pid:$NOBODY" --hook tc-egress --proto udp \
	>/dev/null 2>"$T_DIR/noptrace.err"; then
	fail "without CAP_SYS_PTRACE a pid:PID rule for another uid's process is refused"
else
	pass "without CAP_SYS_PTRACE a pid:PID rule for another uid's process is refused: $(head -1 "$T_DIR/noptrace.err")"
fi
kill -TERM "$T_DAEMON_PID"; wait "$T_DAEMON_PID"; T_DAEMON_PID=""

unit_caps "$bounding"
start_daemon || exit 1
eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$T_DAEMON_PID/status")
check_eq "sluiced runs with the unit's capabilities only" "$mask" "$eff"
check_eq "no new privileges" 1 "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$T_DAEMON_PID/status")"
if getent group sluice >/dev/null; then
	check_eq "the socket is handed to group sluice" sluice "$(stat -c %G "$T_SOCK")"
fi

check "ping crosses before any rule" ping_ok "$C" 10.200.0.2
new_rule XDP "XDP drop of ICMP on the server's veth" add-drop --iface "$SIF" --netns "$S" \
	--hook xdp --proto icmp
check_not "XDP rule drops ping" ping_ok "$C" 10.200.0.2
check_eq "XDP program attached" 0 "$(xdp_attached "$S" "$SIF"; echo $?)"
new_rule TC "tc-ingress drop of UDP/9 on the client's veth, reached as pid:PID of nobody" \
	add-drop --iface "$SIF" --netns "pid:$NOBODY" --hook tc-egress --proto udp --dport 9
new_rule NAT "a DNAT rule (conntrack maps)" add-rewrite --iface "$SIF" --netns "$S" \
	--hook tc-ingress --proto tcp --dst 10.200.0.2 --dport 80 --to-dport 8080
ctl export >"$T_DIR/before.json"

# A restart under the same capabilities takes the datapath over.
kill -TERM "$T_DAEMON_PID"; wait "$T_DAEMON_PID"; T_DAEMON_PID=""
check_not "ping still dropped while sluiced is down" ping_ok "$C" 10.200.0.2
start_daemon || exit 1
ctl export >"$T_DIR/after.json"
check "the restart kept every rule" cmp -s "$T_DIR/before.json" "$T_DIR/after.json"
check_not "ping still dropped after the restart" ping_ok "$C" 10.200.0.2
check "the rule counted the pings" test "$(rule_stat "$XDP" packets)" -ge 2
ctl del "$XDP" >/dev/null
check "ping crosses once the rule is deleted" ping_ok "$C" 10.200.0.2
