#!/usr/bin/env bash
# Bad input on the command line and on the socket is refused with a clear
# error and the right exit status, changes nothing, and never stops sluiced.
# Slow, idle and greedy clients do not hold up the others.
T_NAME=badinput
. "$(dirname "$0")/lib.sh"

two_hosts || exit 1
start_daemon || exit 1

good=$(ctl --json add-drop --iface "$SIF" --netns "$S" --proto icmp | jq -r .id)
ping_ok "$C" 10.200.0.2 2
before=$(ctl --json list)

# expect_exit CODE ARGS...: sluicectl exits with CODE and says why on stderr.
expect_exit() {
	local want=$1 got err
	shift
	err=$(ctl "$@" 2>&1 >/dev/null)
	got=$?
	if [ "$got" = "$want" ] && [ -n "$err" ]; then
		pass "exit $want: sluicectl $* -> $err"
	else
		fail "sluicectl $*: expected exit $want with a message, got $got: '$err'"
	fi
}

# Usage errors: 2
expect_exit 2 add-drop --proto icmp
expect_exit 2 add-drop --iface "$SIF" --bogus 1
expect_exit 2 add-drop --iface
expect_exit 2 del
expect_exit 2 del abc
expect_exit 2 del -- -5
expect_exit 2 frobnicate
expect_exit 2 list --src 10.0.0.0/8
# Refused by the daemon: 1
A=(--iface "$SIF" --netns "$S")
expect_exit 1 add-drop "${A[@]}" --src 10.0.0.1/33
expect_exit 1 add-drop "${A[@]}" --src 10.0.0.1/8
expect_exit 1 add-drop "${A[@]}" --src not-an-address
expect_exit 1 add-drop "${A[@]}" --proto tcp --dport 70000
expect_exit 1 add-drop "${A[@]}" --proto tcp --dport 90-80
expect_exit 1 add-drop "${A[@]}" --proto bogus
expect_exit 1 add-drop "${A[@]}" --proto tcp --sport x
expect_exit 1 add-drop "${A[@]}" --sport 80
expect_exit 1 add-drop "${A[@]}" --proto icmp --dport 80
expect_exit 1 add-drop "${A[@]}" --proto icmp --src fd00::1
expect_exit 1 add-drop "${A[@]}" --src 10.0.0.1 --dst fd00::1
expect_exit 1 add-drop "${A[@]}" --ether-type 0x12
expect_exit 1 add-drop "${A[@]}" --ether-type arp --proto tcp
expect_exit 1 add-drop "${A[@]}" --hook bogus --proto tcp
expect_exit 1 add-drop "${A[@]}" --name "$(printf 'x%.0s' $(seq 1 100))" --proto tcp
expect_exit 1 add-drop "${A[@]}" --proto icmp
expect_exit 1 add-drop --iface nosuch0 --proto tcp
expect_exit 1 add-drop --iface "$SIF" --netns "nosuch-$T_ID" --proto tcp
expect_exit 1 add-drop "${A[@]}"
expect_exit 1 del 999999
expect_exit 1 stats 999999
err=$("$SLUICECTL" --socket "$T_DIR/nothing.sock" status 2>&1 >/dev/null)
check_eq "no daemon on the socket: exit 1" 1 "$?"
check "... saying it cannot connect" contains "$err" "cannot connect"

check "daemon alive after bad CLI input" daemon_alive
after=$(ctl --json list)
check_eq "rule table unchanged" "$before" "$after"

# The raw socket: bad lines get error replies and the connection goes on.
replies=$(printf 'garbage\n[1,2]\n{"id":1,"cmd":"nope"}\n{"id":2,"cmd":"add-drop","args":{"iface":5}}\n{"id":3,"cmd":"del","args":{"id":"x"}}\n{"id":"a","cmd":"list","args":{"bogus":1}}\n{"id":4,"cmd":"hello"}\n' |
	timeout 5 socat -t2 - "UNIX-CONNECT:$T_SOCK")
check_eq "seven replies, in order" "EPROTO EPROTO ENOSYS EINVAL EINVAL EINVAL ok" \
	"$(echo "$replies" | jq -r 'if .ok then "ok" else .error.code end' | tr '\n' ' ' | sed 's/ $//')"
check_eq "ids echoed" "null null 1 2 3 a 4" "$(echo "$replies" | jq -r '.id' | tr '\n' ' ' | sed 's/ $//')"

# An over-long line: EMSGSIZE, then the connection is closed.
out=$( { printf '{"cmd":"hello","pad":"%s"}\n' "$(printf 'x%.0s' $(seq 1 70000))"; echo '{"cmd":"hello"}'; } |
	python3 "$T_HERE/raw_client.py" "$T_SOCK")
check_eq "over-long line gets one EMSGSIZE reply and a close" EMSGSIZE "$(echo "$out" | jq -r .error.code)"
check_eq "nothing after the over-long line is served" 1 "$(echo "$out" | wc -l)"

# An idle client with half a line, and a client that never reads, do not stall others.
python3 - "$T_SOCK" <<'PY' &
import socket, sys, time
idle = socket.socket(socket.AF_UNIX); idle.connect(sys.argv[1]); idle.sendall(b'{"cmd":"hel')
greedy = socket.socket(socket.AF_UNIX); greedy.connect(sys.argv[1])
greedy.setblocking(False)
req = b'{"cmd":"list"}\n' * 2000
deadline = time.time() + 4
while time.time() < deadline:
    try:
        req = req[greedy.send(req):] or b'{"cmd":"list"}\n' * 2000
    except BlockingIOError:
        time.sleep(0.01)
time.sleep(1)
PY
T_PIDS+=($!)
sleep 0.5
start=$(date +%s%N)
check "status answers while a client idles and another never reads" ctl status
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "... within a second (${ms} ms)" test "$ms" -lt 1000

# Twenty clients at once all get answers.
par=()
for i in $(seq 1 20); do ctl --json list >"$T_DIR/par.$i" 2>&1 & par+=($!); done
wait "${par[@]}"
wait_ok=0
for i in $(seq 1 20); do jq -e '.rules | length == 1' "$T_DIR/par.$i" >/dev/null && wait_ok=$((wait_ok + 1)); done
check_eq "20 parallel clients answered" 20 "$wait_ok"

check "daemon alive after socket abuse" daemon_alive
check_eq "rule still there" "$good" "$(ctl --json list | jq -r '.rules[0].id')"
check_not "and still dropping" ping_ok "$C" 10.200.0.2 1
