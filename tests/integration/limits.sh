#!/usr/bin/env bash
# The daemon's limits hold and are reported, and reaching one breaks nothing:
#  (a) --rule-slots 8: the 9th rule on a hook is refused with ENOSPC, the 8
#      keep dropping, a freed slot can be used again, another hook has its own 8;
#  (b) a request line over 65536 bytes: EMSGSIZE and a close, others served;
#  (c) 256 clients connected: the 257th gets EBUSY; once they leave, served;
#  (d) --max-rules 12: the 13th rule in total is refused with ENOSPC.
T_NAME=limits
. "$(dirname "$0")/lib.sh"

two_hosts || exit 1
start_daemon --rule-slots 8 --max-rules 12 || exit 1
A=(--iface "$SIF" --netns "$S")
quiet() { "$@" >/dev/null 2>&1; }

# --- (a) rule slots
added=0
for p in $(seq 7001 7008); do
	ctl --json add-drop "${A[@]}" --proto udp --dport "$p" >/dev/null && added=$((added + 1))
done
check_eq "8 rules fit in 8 slots (xdp)" 8 "$added"
out=$(ctl --json add-drop "${A[@]}" --proto udp --dport 7009 2>"$T_DIR/err")
rc=$?
check_eq "the 9th: sluicectl exits 1" 1 "$rc"
check_eq "... prints no result" "" "$out"
check "... and says ENOSPC: $(cat "$T_DIR/err")" grep -q ENOSPC "$T_DIR/err"
reply=$(printf '%s\n' "{\"id\":9,\"cmd\":\"add-drop\",\"args\":{\"iface\":\"$SIF\",\"netns\":\"$S\",\"proto\":\"udp\",\"dport\":7009}}" |
	timeout 5 socat -t2 - "UNIX-CONNECT:$T_SOCK")
check_eq "the 9th on the wire: error code" "9 false ENOSPC" "$(jq -r '"\(.id) \(.ok) \(.error.code)"' <<<"$reply")"
check_eq "list still shows exactly 8 rules" "7001 7002 7003 7004 7005 7006 7007 7008" \
	"$(ctl --json list | jq -r '[.rules[].dport] | sort | join(" ")')"
check_eq "status agrees" 8 "$(ctl --json status | jq '[.hooks[] | select(.hook == "xdp")][0].rules')"

bg_in "$S" timeout 60 python3 "$T_HERE/udp_echo.py" 10.200.0.2 7008
bg_in "$S" timeout 60 python3 "$T_HERE/udp_echo.py" 10.200.0.2 7100
wait_port "$S" 7008 udp && wait_port "$S" 7100 udp || fail "udp echo servers did not start"
udp() { ip netns exec "$C" timeout 5 python3 "$T_HERE/udp_refused.py" 10.200.0.2 "$1"; }
check_eq "udp/7008 (8th rule) still dropped" timeout "$(udp 7008)"
check_eq "udp/7100 (no rule) answers" data "$(udp 7100)"

new_rule tc1 "a rule on a second hook (tc-ingress) still fits" \
	add-drop "${A[@]}" --hook tc-ingress --proto udp --dport 7100
check_eq "udp/7100 now dropped by it" timeout "$(udp 7100)"
check_eq "9 rules listed, 8 + 1" "tc-ingress=1 xdp=8" \
	"$(ctl --json list | jq -r '[.rules | group_by(.hook)[] | "\(.[0].hook)=\(length)"] | join(" ")')"

first=$(ctl --json list | jq -r '[.rules[] | select(.dport == "7001")][0].id')
check "del one of the 8" quiet ctl del "$first"
new_rule again "its slot takes a new rule" add-drop "${A[@]}" --proto udp --dport 7009
ctl add-drop "${A[@]}" --proto udp --dport 7010 >/dev/null 2>"$T_DIR/err"
check_eq "and the slot after it is refused again" "1 ENOSPC" "$? $(grep -o ENOSPC "$T_DIR/err")"
check "daemon alive after (a)" daemon_alive

# --- (d) rules in total: 9 so far, 3 more fit, the 13th does not
for p in 7101 7102 7103; do
	quiet ctl add-drop "${A[@]}" --hook tc-ingress --proto udp --dport "$p"
done
check_eq "12 rules in total" 12 "$(ctl --json list | jq '.rules | length')"
ctl add-drop "${A[@]}" --hook tc-ingress --proto udp --dport 7104 >/dev/null 2>"$T_DIR/err"
check_eq "the 13th in total is refused" "1 ENOSPC" "$? $(grep -o ENOSPC "$T_DIR/err")"
check "... naming --max-rules" grep -q -- "--max-rules" "$T_DIR/err"
check_eq "still 12" 12 "$(ctl --json list | jq '.rules | length')"

# --- (b) line length: 65536 bytes with the newline is the most there is
timeout 60 python3 - "$T_SOCK" "$T_HERE" >"$T_DIR/lines" 2>&1 <<'PY'
import json, socket, sys
path = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from raw_client import replies

def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    return s

def padded(total):
    """A hello request of exactly `total` bytes, the newline included (JSON whitespace)."""
    head, tail = b'{"id":"pad","cmd":"hello"', b'}\n'
    return head + b' ' * (total - len(head) - len(tail)) + tail

def code(r):
    return "ok" if r.get("ok") else r["error"]["code"]

other = conn()                      # a bystander, connected throughout
s = conn()
s.sendall(padded(65536))
s.shutdown(socket.SHUT_WR)
print("exact-65536", " ".join(code(r) for r in replies(s)))
for total in (65537, 1 << 20):
    s = conn()
    try:
        s.sendall(b'{"id":1,"cmd":"hello"}\n' + padded(total) + b'{"id":2,"cmd":"hello"}\n')
    except OSError:
        pass                        # closed while we were still sending: expected
    print("over-%d" % total, " ".join(code(r) for r in replies(s)))
other.sendall(b'{"id":"b","cmd":"hello"}\n')
print("bystander", code(json.loads(other.makefile().readline())))
PY
check_eq "a line of exactly 65536 bytes is served" "exact-65536 ok" "$(grep exact "$T_DIR/lines")"
check_eq "65537 bytes: the line before it served, then EMSGSIZE, then closed" "over-65537 ok EMSGSIZE" \
	"$(grep over-65537 "$T_DIR/lines")"
check_eq "1 MiB: the same" "over-1048576 ok EMSGSIZE" "$(grep over-1048576 "$T_DIR/lines")"
check_eq "another connection is still served" "bystander ok" "$(grep bystander "$T_DIR/lines")"
check "a new client is served" quiet ctl status
check "daemon alive after (b)" daemon_alive

# --- (c) 256 clients connected at most
timeout 60 python3 - "$T_SOCK" "$SLUICECTL" >"$T_DIR/clients" 2>&1 <<'PY'
import json, socket, subprocess, sys, time
path, sluicectl = sys.argv[1], sys.argv[2]

def conn():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)                 # blocking: a full backlog waits (python's timeout mode says EAGAIN)
    s.settimeout(5)
    return s

def ask(s, rid):
    s.sendall(b'{"id":%d,"cmd":"hello"}\n' % rid)
    line = s.makefile().readline()
    return json.loads(line) if line else None

# Each one answered: each one is a client of the daemon, not just a backlog entry.
held, served = [], 0
for i in range(256):
    held.append(conn())
    served += 1 if (ask(held[-1], i) or {}).get("ok") else 0
print("held-served", served)
extra = conn()
data = b''
try:
    while True:
        chunk = extra.recv(4096)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
lines = data.splitlines()
print("extra-reply", len(lines), json.loads(lines[0])["error"]["code"] if lines else "none")
r = subprocess.run([sluicectl, "--socket", path, "status"], capture_output=True, text=True, timeout=10)
print("sluicectl-rc", r.returncode, "EBUSY" in r.stderr)
print("held-still-served", 1 if (ask(held[100], 1000) or {}).get("ok") else 0)
for s in held:
    s.close()
deadline, tries = time.time() + 3, 0
while True:
    tries += 1
    r = subprocess.run([sluicectl, "--socket", path, "status"], capture_output=True, timeout=10)
    if r.returncode == 0 or time.time() > deadline:
        break
    time.sleep(0.05)
print("after-close-rc", r.returncode)
print("after-close-tries", tries)
PY
check_eq "256 clients connected and each served" "held-served 256" "$(grep held-served "$T_DIR/clients")"
check_eq "the 257th gets one EBUSY line and a close" "extra-reply 1 EBUSY" "$(grep extra-reply "$T_DIR/clients")"
check_eq "sluicectl as the 257th exits 1 saying EBUSY" "sluicectl-rc 1 True" "$(grep sluicectl-rc "$T_DIR/clients")"
check_eq "the 256 are still served" "held-still-served 1" "$(grep held-still-served "$T_DIR/clients")"
check_eq "after they close, a new client is served" "after-close-rc 0" "$(grep after-close-rc "$T_DIR/clients")"
log "$(grep after-close-tries "$T_DIR/clients")"
grep -q Traceback "$T_DIR/clients" && { fail "the client script broke:"; cat "$T_DIR/clients"; }
check "daemon alive after (c)" daemon_alive
check_eq "rules untouched by all this" 12 "$(ctl --json list | jq '.rules | length')"
