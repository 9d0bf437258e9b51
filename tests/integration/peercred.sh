#!/usr/bin/env bash
# Who may talk to sluiced (controld/peercred.c, SO_PEERCRED): root is served;
# a user that is neither root nor in the group 'sluice' gets one EPERM reply
# and the connection is closed, even when the socket file lets everyone
# connect; a user in the group 'sluice' (supplementary or primary) is served.
#
# The group 'sluice' is created for the test when missing, before sluiced
# starts (it gives its socket to the group at bind time), and deleted at the
# end only then. The other users are nobody/nogroup, through setpriv.
T_NAME=peercred

PC_GROUP_CREATED=""
peercred_cleanup() {
	if [ -n "$PC_GROUP_CREATED" ]; then
		groupdel sluice 2>/dev/null || echo "[peercred] could not delete group sluice" >&2
		PC_GROUP_CREATED=""
	fi
}

. "$(dirname "$0")/lib.sh"
# lib.sh's cleanup reads the exit status from $? and exits, so it goes last.
trap 'pc_rc=$?; peercred_cleanup; (exit "$pc_rc"); cleanup' EXIT

for tool in setpriv jq groupadd groupdel; do
	command -v "$tool" >/dev/null || { log "FAIL: $tool is missing"; exit 1; }
done
# A Python nobody can run (not one under /root, such as pyenv's).
PY=/usr/bin/python3
[ -x "$PY" ] || { log "FAIL: $PY is missing"; exit 1; }
if ! getent group sluice >/dev/null; then
	groupadd --system sluice || { log "FAIL: cannot create group sluice"; exit 1; }
	PC_GROUP_CREATED=1
	log "created group sluice (deleted at the end)"
fi

start_daemon || exit 1

# The unprivileged users need to reach the socket and run sluicectl: the
# test dir (0700 from mktemp) becomes traversable, sluicectl is copied
# there, since the build tree may sit where nobody cannot reach.
chmod 0711 "$T_DIR"
install -m 0755 "$SLUICECTL" "$T_DIR/sluicectl"

# as_user SETPRIV_OPTIONS... -- COMMAND...: runs COMMAND as nobody.
as_user() {
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	setpriv --reuid=nobody "${opts[@]}" "$@"
}
OUTSIDER=(--regid=nogroup --clear-groups)
MEMBER=(--regid=nogroup --groups=sluice)
PRIMARY=(--regid=sluice --clear-groups)
ctl_as() {
	local -n who=$1
	shift
	as_user "${who[@]}" -- "$T_DIR/sluicectl" --socket "$T_SOCK" "$@"
}
# raw_as WHO: a plain client (Python, no sluicectl) that sends hello and
# status on one connection and prints every reply line until the daemon
# closes. A refused peer's connection is closed with its requests unread,
# so the send may fail (EPIPE) and the end may be a reset: both are the end.
raw_as() {
	local -n who=$1
	# The script comes in on stdin: the repository need not be readable by WHO.
	as_user "${who[@]}" -- timeout 10 "$PY" - "$T_SOCK" --shutdown \
		--send $'{"id":1,"cmd":"hello"}\n{"id":2,"cmd":"status"}\n' <"$T_HERE/raw_client.py"
}

check_eq "socket is 0660 root:sluice" "660 root sluice" "$(stat -c '%a %U %G' "$T_SOCK")"

# (a) root
check "root: sluicectl status" ctl status
check_eq "root: hello over sluicectl" 1 "$(ctl --json hello | jq -r .protocol)"

# (c) a member of the group: through the 0660 socket and the peer check.
out=$(ctl_as MEMBER --json hello 2>"$T_DIR/member.err")
check_eq "supplementary group sluice: sluicectl exit status" 0 "$?"
check_eq "... and its hello" 1 "$(echo "$out" | jq -r .protocol 2>/dev/null)"
check "... and status" ctl_as MEMBER status
check_eq "supplementary group sluice: raw client served twice" "ok ok" \
	"$(raw_as MEMBER | jq -r 'if .ok then "ok" else .error.code end' | tr '\n' ' ' | sed 's/ $//')"
out=$(ctl_as PRIMARY --json hello 2>&1)
check_eq "primary group sluice: sluicectl served" 1 "$(echo "$out" | jq -r .protocol 2>/dev/null)"

# (b) an outsider: the socket file lets everyone connect, so what refuses
# is the daemon's peer check, not the file's permissions.
chmod 0666 "$T_SOCK"
err=$(ctl_as OUTSIDER status 2>&1 >/dev/null)
check_eq "outsider: sluicectl exit status" 1 "$?"
check "... saying EPERM and why ('$err')" \
	contains "$err" "EPERM: uid $(id -u nobody) is not root and not in the group 'sluice'"
err=$(ctl_as OUTSIDER --json hello 2>&1 >/dev/null)
check_eq "outsider: hello refused too" 1 "$?"
check "... with EPERM" contains "$err" EPERM
replies=$(raw_as OUTSIDER)
check_eq "outsider: raw client gets exactly one reply" 1 "$(printf '%s\n' "$replies" | grep -c .)"
check_eq "... an EPERM error with id null" "EPERM null false" \
	"$(printf '%s\n' "$replies" | head -1 | jq -r '"\(.error.code) \(.id) \(.ok)"' 2>/dev/null)"
check "... the daemon logged the refusal" grep -q "refused a client: uid $(id -u nobody)" \
	"$T_DIR/sluiced.log"

check_eq "member still served after the refusals" 1 \
	"$(ctl_as MEMBER --json hello 2>/dev/null | jq -r .protocol 2>/dev/null)"
check "root still served" ctl status
check "daemon alive" daemon_alive
