#!/usr/bin/env bash
# The .deb and .rpm, checked as an operator would meet them, on this machine:
#   tests/packaging/package.sh BUILD_DIR SOURCE_DIR
# BUILD_DIR holds the packages (`cmake --build BUILD_DIR --target package`,
# configured with -DCMAKE_INSTALL_PREFIX=/usr). Needs root, apt-get, lintian and
# rpm. It installs the .deb system-wide, so it refuses to run where sluice is
# installed or sluiced's default paths are in use; it purges what it installed
# on success and on failure.
#
# No systemd runs as PID 1 here, so the installed sluiced is started directly,
# with a stand-in for systemd's notification socket; tests/integration/
# unit_caps.sh runs it with the unit's capability set.
set -uo pipefail

BUILD=$(realpath "${1:?usage: package.sh BUILD_DIR SOURCE_DIR}")
SRC=$(realpath "${2:?usage: package.sh BUILD_DIR SOURCE_DIR}")
HERE="$SRC/tests/integration"
T=$(mktemp -d /tmp/sluice-pkg.XXXXXX)
ID=$$
NS=sl-pkg-$ID
PEER=sl-pkg-$ID-peer
VA=slpk${ID}a
VB=slpk${ID}b
PASSES=0 FAILS=0 DAEMON="" LISTENER="" GROUP_CREATED=""

log() { printf '[package] %s\n' "$*"; }
pass() { PASSES=$((PASSES + 1)); log "ok: $*"; }
fail() { FAILS=$((FAILS + 1)); log "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
check_not() { local what=$1; shift; if "$@"; then fail "$what"; else pass "$what"; fi; }
check_eq() { if [ "$2" = "$3" ]; then pass "$1 ($3)"; else fail "$1: expected '$2', got '$3'"; fi; }
contains() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }

source "$(dirname "${BASH_SOURCE[0]}")/../lib/stop_pid.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/unit_caps.sh"
stop_daemon() { stop_pid "$DAEMON"; DAEMON=""; }

cleanup() {
	local rc=$?
	stop_daemon
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	if dpkg-query -W -f='${Status}' sluice 2>/dev/null | grep -q 'ok installed\|config-files'; then
		log "purging the package left by a failure"
		apt-get purge -y -q sluice >/dev/null 2>&1 || dpkg --purge sluice
	fi
	ip netns del "$NS" 2>/dev/null
	ip netns del "$PEER" 2>/dev/null
	[ -n "$GROUP_CREATED" ] && groupdel sluice 2>/dev/null
	rm -rf "$T"
	echo "$PASSES passed, $FAILS failed"
	if [ "$FAILS" != 0 ] || [ "$rc" != 0 ]; then exit 1; fi
	exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in apt-get dpkg-deb lintian rpm setpriv python3 jq systemd-analyze objdump; do
	command -v "$tool" >/dev/null || { fail "$tool is missing"; exit 1; }
done
if dpkg-query -W -f='${Status}' sluice 2>/dev/null | grep -q 'ok installed\|config-files'; then
	fail "a sluice package is installed here; remove it first (this test installs its own)"
	exit 1
fi
for p in /var/lib/sluice /run/sluice /sys/fs/bpf/sluice /etc/sluice; do
	# Empty ones, from a sluiced run by hand once, go; anything in them stays.
	[ -d "$p" ] && rmdir "$p" 2>/dev/null && log "removed the empty $p"
	if [ -e "$p" ]; then fail "$p is in use: a sluiced uses the default paths here"; exit 1; fi
done
getent group sluice >/dev/null || GROUP_CREATED=1

VERSION=$(sed -n 's/^project(sluice VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
DEB="$BUILD/sluice_${VERSION}_$(dpkg --print-architecture).deb"
RPM="$BUILD/sluice-${VERSION}-1.$(uname -m).rpm"
check "the .deb was built ($DEB)" test -f "$DEB"
check "the .rpm was built ($RPM)" test -f "$RPM"
[ -f "$DEB" ] && [ -f "$RPM" ] || exit 1

# --- What the packages hold ---------------------------------------------------
EXPECTED_FILES=(/usr/sbin/sluiced /usr/bin/sluicectl /etc/sluice/rules.json
	/usr/lib/sysusers.d/sluice.conf /usr/lib/tmpfiles.d/sluice.conf
	/usr/share/man/man8/sluiced.8.gz /usr/share/man/man8/sluicectl.8.gz
	/usr/share/bash-completion/completions/sluicectl /usr/share/doc/sluice/README.md
	/usr/share/doc/sluice/copyright /usr/share/doc/sluice/changelog.gz
	/usr/share/doc/sluice/examples/gateway.json)
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/deb.files"
rpm -qpl "$RPM" >"$T/rpm.files" 2>/dev/null
for f in "${EXPECTED_FILES[@]}"; do
	check ".deb holds $f" grep -qx "$f" "$T/deb.files"
	check ".rpm holds $f" grep -qx "$f" "$T/rpm.files"
done
check ".deb: the unit in /lib/systemd/system" grep -qx /lib/systemd/system/sluiced.service "$T/deb.files"
check ".deb: options in /etc/default" grep -qx /etc/default/sluiced "$T/deb.files"
check ".rpm: the unit in /usr/lib/systemd/system" grep -qx /usr/lib/systemd/system/sluiced.service "$T/rpm.files"
check ".rpm: options in /etc/sysconfig" grep -qx /etc/sysconfig/sluiced "$T/rpm.files"
check_not ".rpm owns no directory the filesystem package owns" grep -qxE '/usr/(s?bin|share/man|lib/systemd)' "$T/rpm.files"

check_eq ".deb version is the project's" "$VERSION" "$(dpkg-deb -f "$DEB" Version)"
check_eq ".rpm version is the project's" "sluice $VERSION" "$(rpm -qp --qf '%{NAME} %{VERSION}' "$RPM" 2>/dev/null)"
dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles >"$T/conffiles"
check_eq ".deb conffiles" "/etc/default/sluiced /etc/sluice/rules.json" "$(sort "$T/conffiles" | xargs)"
check_eq ".rpm config files" "/etc/sluice/rules.json /etc/sysconfig/sluiced" \
	"$(rpm -qpc "$RPM" 2>/dev/null | sort | xargs)"
rpm -qp --scripts "$RPM" >"$T/rpm.scripts" 2>/dev/null
for s in postinstall preuninstall postuninstall; do
	check ".rpm has a $s scriptlet" grep -q "^$s scriptlet" "$T/rpm.scripts"
done
# rpm's scriptlets cannot run on Debian; they are at least valid POSIX sh.
for tag in POSTIN PREUN POSTUN; do
	rpm -qp --qf "%{$tag}" "$RPM" >"$T/rpm.$tag" 2>/dev/null
	check ".rpm $tag scriptlet parses (dash -n)" dash -n "$T/rpm.$tag"
done

# Dependencies: every library the binaries need, found independently through
# the dynamic section, is declared: by its Debian package in Depends, and as
# the soname rpm's automatic requires name.
dpkg-deb -x "$DEB" "$T/root"
depends=$(dpkg-deb -f "$DEB" Depends)
rpm -qpR "$RPM" >"$T/rpm.requires" 2>/dev/null
for so in $(objdump -p "$T/root/usr/sbin/sluiced" "$T/root/usr/bin/sluicectl" |
	awk '$1 == "NEEDED" { print $2 }' | sort -u); do
	lib=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64|64bit/ { print $NF; exit }')
	pkg=$(dpkg-query -S "$(realpath "$lib")" 2>/dev/null | head -1 | cut -d: -f1)
	[ -n "$pkg" ] || pkg=$(dpkg-query -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)
	check ".deb Depends names $pkg (for $so)" contains ", $depends," ", $pkg"
	check ".rpm requires $so" grep -q "^$so()" "$T/rpm.requires"
done
log "Depends: $depends"

lintian --fail-on error,warning "$DEB" >"$T/lintian.out" 2>&1
lrc=$?
grep -v 'running with root privileges' "$T/lintian.out" | sed 's/^/[package]   lintian: /'
check_eq "lintian: no errors or warnings" 0 "$lrc"

# --- Installed ----------------------------------------------------------------
# find(1) over where a package's files and state can land, for "nothing left".
snapshot() {
	find /etc /usr /var/lib /run /sys/fs/bpf -xdev \
		\( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /run/netns \
		-o -path '/sys/fs/bpf/sluice-it-*' -o -path /run/user -o -path /run/lock \
		-o -path /var/lib/ucf -o -path /etc/ld.so.cache \) -prune -o -print 2>/dev/null | sort
}
snapshot >"$T/before.snap"

apt-get install -y -q --no-install-recommends "$DEB" >"$T/install.log" 2>&1
check "apt-get install ./sluice_*.deb" test $? = 0 || { tail -20 "$T/install.log"; exit 1; }
for f in "${EXPECTED_FILES[@]}" /lib/systemd/system/sluiced.service; do
	check "installed: $f" test -e "$f"
done
check "the sluice group exists" eval "getent group sluice >/dev/null"
check "/run/sluice made by tmpfiles.d" test -d /run/sluice
check "the service is enabled (deb-systemd-helper)" \
	test "$(readlink /etc/systemd/system/multi-user.target.wants/sluiced.service)" = /lib/systemd/system/sluiced.service
systemd-analyze verify /lib/systemd/system/sluiced.service >"$T/verify.out" 2>&1
vrc=$?
sed 's/^/[package]   systemd-analyze: /' "$T/verify.out"
check_eq "systemd-analyze verify sluiced.service" 0 "$vrc"
check_not "systemd-analyze has nothing to say about sluiced.service" grep -q sluiced "$T/verify.out"
check_eq "sluiced --version" "sluiced $VERSION" "$(/usr/sbin/sluiced --version)"
check_eq "sluicectl --version" "sluicectl $VERSION" "$(/usr/bin/sluicectl --version)"
check "man finds sluiced(8) and sluicectl(8)" eval "man -w sluiced.8 sluicectl.8 >/dev/null"
check "bash completion registers sluicectl" \
	bash -c 'source /usr/share/bash-completion/completions/sluicectl && complete -p sluicectl >/dev/null'

# Started as the unit starts it (no arguments), with a stand-in for systemd.
start_installed() {
	NOTIFY_SOCKET="$T/notify.sock" /usr/sbin/sluiced --log-level info 2>>"$T/sluiced.log" &
	DAEMON=$!
}
python3 "$HERE/notify_listen.py" "$T/notify.sock" /run/sluice/sluiced.sock 20 "$T/notify.msgs" &
LISTENER=$!
for _ in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
start_installed
for _ in $(seq 1 100); do grep -q '^accepting=' "$T/notify.msgs" 2>/dev/null && break; sleep 0.1; done
check "READY=1 reached the service manager" grep -q 'READY=1' "$T/notify.msgs"
check_eq "the socket accepted at READY=1" accepting=yes "$(grep -m1 '^accepting=' "$T/notify.msgs")"
check_eq "socket /run/sluice/sluiced.sock is root:sluice 0660" "root:sluice 660" \
	"$(stat -c '%U:%G %a' /run/sluice/sluiced.sock 2>&1)"
check "a member of group sluice (not root) may use sluicectl" \
	eval "setpriv --reuid=65534 --regid=65534 --groups=sluice /usr/bin/sluicectl status >/dev/null"

# The smoke test: a drop rule on a veth in a namespace, and real pings to it
# from a peer namespace.
ip netns add "$NS"
ip netns add "$PEER"
ip -n "$NS" link add "$VB" type veth peer name "$VA" netns "$PEER"
ip -n "$PEER" addr add 10.77.0.1/24 dev "$VA"
ip -n "$NS" addr add 10.77.0.2/24 dev "$VB"
ip -n "$PEER" link set "$VA" up
ip -n "$NS" link set "$VB" up
ping_b() { ip netns exec "$PEER" ping -c "${1:-1}" -i 0.2 -W 1 10.77.0.2 >/dev/null 2>&1; }
xdp_on_b() { ip -n "$NS" -d link show dev "$VB" | grep -q 'prog/xdp'; }
check "ping crosses the veth" ping_b
id=$(sluicectl --json add-drop --iface "$VB" --netns "$NS" --hook xdp --proto icmp | jq -r .id)
check "installed sluicectl adds an XDP drop rule" test -n "$id" -a "$id" != null
check_not "the rule drops ping" ping_b 3
check "the rule counted the pings" test "$(sluicectl --json stats "$id" | jq '.rules[0].packets')" -ge 3
sluicectl export >"$T/export.before"
prog=$(ip -n "$NS" -d link show dev "$VB" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')

# An upgrade (same build, a higher version) while sluiced runs: the datapath
# and the daemon are left alone; systemd would restart sluiced after it.
cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$T/up" -D CPACK_PACKAGE_VERSION="$VERSION.1" \
	>"$T/cpack.log" 2>&1 || { cat "$T/cpack.log"; fail "cpack of the upgrade"; }
UP=$(ls "$T"/up/sluice_*.deb 2>/dev/null | head -1)
apt-get install -y -q --no-install-recommends "$UP" >>"$T/install.log" 2>&1
check "upgrade to $VERSION.1 installs" test $? = 0
check_eq "upgraded" "$VERSION.1" "$(dpkg-query -W -f='${Version}' sluice)"
check "sluiced kept running through the upgrade" kill -0 "$DAEMON"
check_eq "the XDP program was not touched" "$prog" \
	"$(ip -n "$NS" -d link show dev "$VB" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')"
check_not "the rule still drops after the upgrade" ping_b
stop_daemon
start_installed
for _ in $(seq 1 50); do sluicectl status >/dev/null 2>&1 && break; sleep 0.1; done
sluicectl export >"$T/export.after"
check "the restarted sluiced took the rules over" cmp -s "$T/export.before" "$T/export.after"
check_not "the rule still drops after the restart" ping_b

# Under a real systemd (booted in its own pid and mount namespaces, see
# nested_systemd.sh; /var/lib and /tmp are the host's): the packaged unit
# starts sluiced with its hardening and takes the datapath over, a reinstall
# (postinst) restarts it, and removal (prerm) stops it and removes the datapath.
unit_capbnd=$(cap_mask $(unit_cap_names /lib/systemd/system/sluiced.service))
stop_daemon
# This machine's policy-rc.d (from a container image) forbids service actions
# to maintainer scripts; inside the nested namespace only, one that allows them.
printf '#!/bin/sh\nexit 0\n' >"$T/policy-rc.d"
chmod 755 "$T/policy-rc.d"
cat >"$T/nested.sh" <<NESTED
[ -e /usr/sbin/policy-rc.d ] && mount --bind "$T/policy-rc.d" /usr/sbin/policy-rc.d
r() { echo "\$1=\$2" >>"$T/nested.results"; }
mainpid() { systemctl show -p MainPID --value sluiced; }
systemctl start sluiced; r start \$?
r active "\$(systemctl is-active sluiced)"
r status "\$(systemctl show -p StatusText --value sluiced)"
pid=\$(mainpid)
r capbnd "\$(awk '/^CapBnd:/ { print \$2 }' /proc/\$pid/status)"
r nnp "\$(awk '/^NoNewPrivs:/ { print \$2 }' /proc/\$pid/status)"
r seccomp "\$(awk '/^Seccomp:/ { print \$2 }' /proc/\$pid/status)"
r rules "\$(sluicectl --json list | jq '.rules | length')"
ip netns exec $PEER ping -c 1 -W 1 10.77.0.2 >/dev/null 2>&1 && r ping crosses || r ping dropped
# A ping stream across the restart: not one packet may slip past the drop rule.
ip netns exec $PEER ping -i 0.02 -W 1 10.77.0.2 >"$T/ping.restart" 2>&1 &
pinger=\$!
apt-get install --reinstall -y -q --no-install-recommends $UP >>"$T/install.log" 2>&1; r reinstall \$?
sleep 0.5
kill -INT \$pinger; wait \$pinger
r ping_sent "\$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T/ping.restart")"
r ping_received "\$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping.restart")"
r restarted "\$([ "\$(mainpid)" != "\$pid" ] && [ "\$(mainpid)" != 0 ] && echo yes || echo no)"
r active2 "\$(systemctl is-active sluiced)"
r rules2 "\$(sluicectl --json list | jq '.rules | length')"
apt-get remove -y -q sluice >>"$T/install.log" 2>&1; r remove \$?
r active3 "\$(systemctl is-active sluiced)"
NESTED
HOST_TMP=1 HOST_VARLIB=1 bash "$SRC/tests/packaging/nested_systemd.sh" /lib/systemd/system/sluiced.service \
	"bash $T/nested.sh" >"$T/nested.log" 2>&1
nrc=$?
sed 's/^/[package]   nested: /' "$T/nested.results" 2>/dev/null
nested() { sed -n "s/^$1=//p" "$T/nested.results" 2>/dev/null; }
check_eq "a nested systemd ran the test" 0 "$nrc" || sed 's/^/[package]   /' "$T/nested.log"
check_eq "systemctl start sluiced" 0 "$(nested start)"
check_eq "the service is active (Type=notify: READY=1 arrived)" active "$(nested active)"
check "its status line says what it serves" contains "$(nested status)" "serving /run/sluice/sluiced.sock"
check_eq "the unit's capability bounding set applied" "$unit_capbnd" "$(nested capbnd)"
check_eq "NoNewPrivileges applied" 1 "$(nested nnp)"
check_eq "the system call filter applied (seccomp mode 2)" 2 "$(nested seccomp)"
check_eq "the service took the saved rule over" 1 "$(nested rules)"
check_eq "the rule drops ping under the service" dropped "$(nested ping)"
check_eq "apt-get install --reinstall under systemd" 0 "$(nested reinstall)"
check_eq "postinst restarted the service" yes "$(nested restarted)"
check_eq "active after the restart" active "$(nested active2)"
check_eq "the restart kept the rule" 1 "$(nested rules2)"
check "pings were sent across the restart ($(nested ping_sent))" test "$(nested ping_sent)" -ge 50
check_eq "not one slipped past the drop rule while the service restarted" 0 "$(nested ping_received)"
check_eq "apt-get remove under systemd" 0 "$(nested remove)"
check_eq "prerm stopped the service" inactive "$(nested active3)"

# After removal: the datapath is gone; the saved rules and the conffiles stay
# for a later install.
check_eq "dpkg: removed, config files kept" "deinstall ok config-files" \
	"$(dpkg-query -W -f='${Status}' sluice 2>/dev/null)"
check_not "binaries gone" test -e /usr/sbin/sluiced -o -e /usr/bin/sluicectl
check_not "no XDP program left on the veth" xdp_on_b
check "ping crosses again" ping_b
check_not "no pins left under /sys/fs/bpf/sluice" test -e /sys/fs/bpf/sluice
check "the saved rules stay until purge" test -s /var/lib/sluice/rules.json
check "the conffiles stay until purge" test -f /etc/sluice/rules.json -a -f /etc/default/sluiced

# Installed again, it brings the saved rules back.
apt-get install -y -q --no-install-recommends "$DEB" >>"$T/install.log" 2>&1
check "installed again" test $? = 0
start_installed
for _ in $(seq 1 50); do sluicectl status >/dev/null 2>&1 && break; sleep 0.1; done
check_not "the saved rule drops again" ping_b
stop_daemon

# Purge: nothing left (the group stays: system groups are not removed).
apt-get purge -y -q sluice >>"$T/install.log" 2>&1
check "apt-get purge sluice" test $? = 0
check_not "no XDP program left after purge" xdp_on_b
check_eq "dpkg no longer knows sluice" "" "$(dpkg-query -W -f='${Status}' sluice 2>/dev/null)"
snapshot >"$T/after.snap"
diff "$T/before.snap" "$T/after.snap" >"$T/snap.diff"
sed 's/^/[package]   left behind: /' "$T/snap.diff"
check "nothing left behind after purge" test ! -s "$T/snap.diff"
