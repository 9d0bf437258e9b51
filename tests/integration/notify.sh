#!/usr/bin/env bash
# sluiced tells a Type=notify service manager it is ready (READY=1) only once
# its socket accepts, with its pid and a status line, and STOPPING=1 on
# SIGTERM. The manager's socket is stood in for by notify_listen.py.
T_NAME=notify
source "$(dirname "$0")/lib.sh"

NOTIFY="$T_DIR/notify.sock"
MSGS="$T_DIR/notify.msgs"
python3 "$T_HERE/notify_listen.py" "$NOTIFY" "$T_SOCK" 20 "$MSGS" &
LISTENER=$!
T_PIDS+=("$LISTENER")
for _ in $(seq 1 50); do [ -S "$NOTIFY" ] && break; sleep 0.1; done

NOTIFY_SOCKET="$NOTIFY" start_daemon || exit 1
for _ in $(seq 1 50); do grep -q '^accepting=' "$MSGS" 2>/dev/null && break; sleep 0.1; done
ready=$(grep -m1 'READY=1' "$MSGS")
check "READY=1 sent" contains "$ready" "READY=1"
check "READY=1 names the main pid" contains "$ready" "MAINPID=$T_DAEMON_PID"
check "STATUS says what it serves" contains "$ready" "STATUS=serving $T_SOCK, 0 rules"
check_eq "the socket accepted when READY=1 was sent" "accepting=yes" "$(grep -m1 '^accepting=' "$MSGS")"
check_eq "one READY=1 only" 1 "$(grep -c 'READY=1' "$MSGS")"

kill -TERM "$T_DAEMON_PID"
wait "$T_DAEMON_PID"
check_eq "sluiced exits 0 on SIGTERM" 0 "$?"
T_DAEMON_PID=""
for _ in $(seq 1 50); do kill -0 "$LISTENER" 2>/dev/null || break; sleep 0.1; done
check "STOPPING=1 sent on SIGTERM" grep -q 'STOPPING=1' "$MSGS"

# Without NOTIFY_SOCKET (started by hand) nothing is sent and nothing fails.
start_daemon || exit 1
check "starts without a service manager" ctl status
