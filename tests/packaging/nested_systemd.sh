#!/bin/bash
# nested_systemd.sh UNIT_FILE[:UNIT_FILE...] [COMMAND...]
#
# Boots a throw-away systemd (the host's /lib/systemd/systemd, v252) as PID 1
# in new pid+mount+uts+ipc+cgroup namespaces (NOT net: the host network
# namespace and /run/netns stay visible), installs the unit file(s), runs each
# COMMAND (one shell command line each, `sh -c`) inside the nested instance's
# namespaces, prints outputs + exit status, then powers it off and cleans up.
#
#   nested_systemd.sh ./sluiced.service 'systemctl start sluiced' 'systemctl status sluiced'
#
# The test machines have systemd installed but not running as PID 1; this is
# how tests/packaging/package.sh runs the packaged unit and maintainer scripts
# under a real systemd.
#
# UNIT_FILE may be a directory (its contents, incl. *.d drop-in dirs, are
# installed); several can be given colon-separated.  Units go to the nested
# /etc/systemd/system (a tmpfs).
#
# SAFETY: the nested systemd shares the host root file system, so it only gets
# a WHITELIST of host units (targets, journald, poweroff): no tmpfiles (the
# stock `D /tmp` rule wipes the host's /tmp!), sysctl, sysusers, udev, utmp,
# getty, dbus, ...  Generators are disabled.  /tmp, /run, /dev and
# /etc/systemd/system are private tmpfs; /proc/sys is read-only except
# /proc/sys/net; the nested PID 1 has no CAP_SYS_BOOT.
#
# Environment knobs:
#   BOOT_TIMEOUT=30   seconds for the nested systemd to reach running/degraded
#   CMD_TIMEOUT=120   seconds per COMMAND
#   STOP_TIMEOUT=20   seconds for the graceful poweroff before SIGKILL
#   HOST_VARLIB=0     1 = StateDirectory=/CacheDirectory=/LogsDirectory= use the
#                     real host /var/{lib,cache,log}/NAME (default: a tmpfs is
#                     mounted there for every NAME found in the unit files)
#   HOST_TMP=0        1 = share the host /tmp (default: private tmpfs)
#   KEEP_BPF_STACK=0  1 = keep this VM's odd /sys/fs/bpf mount stack (sysfs bind
#                     + bpffs); by default it is collapsed to the bpffs alone
#   EXTRA_UNITS=""    extra host units (names in /lib/systemd/system) to allow
#   KEEP_WORK=0       1 = keep the work dir (console log) after exit
#   VERBOSE=0         1 = always print the nested console log
#   SD_LOG_LEVEL=info log level of the nested systemd
#
# Exit status: that of the last COMMAND (125 = setup failure).
set -u
umask 022

SYSTEMD=/lib/systemd/systemd
BASE=${TMPDIR:-/tmp}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-30}
CMD_TIMEOUT=${CMD_TIMEOUT:-120}
STOP_TIMEOUT=${STOP_TIMEOUT:-20}
HOST_VARLIB=${HOST_VARLIB:-0}
HOST_TMP=${HOST_TMP:-0}
KEEP_BPF_STACK=${KEEP_BPF_STACK:-0}
EXTRA_UNITS=${EXTRA_UNITS:-}
KEEP_WORK=${KEEP_WORK:-0}
VERBOSE=${VERBOSE:-0}
SD_LOG_LEVEL=${SD_LOG_LEVEL:-info}
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
# the nested manager and systemctl both use exactly these unit dirs
UNIT_PATH=/etc/systemd/system:/run/systemd/system:/run/sluice-test/units
NOGEN=/run/sluice-test/no-generators

# host units the nested instance may load (copied, without their .wants dirs)
WHITELIST="sysinit.target basic.target sockets.target paths.target timers.target
 slices.target local-fs.target local-fs-pre.target swap.target network.target
 network-pre.target network-online.target nss-lookup.target nss-user-lookup.target
 remote-fs.target remote-fs-pre.target multi-user.target shutdown.target
 poweroff.target halt.target reboot.target exit.target final.target umount.target
 time-set.target time-sync.target
 systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket
 systemd-poweroff.service systemd-halt.service systemd-reboot.service
 systemd-exit.service $EXTRA_UNITS"

die() { echo "nested_systemd: $*" >&2; exit 125; }

[ $# -ge 1 ] || die "usage: $0 UNIT_FILE[:UNIT_FILE...] [COMMAND...]"
[ "$(id -u)" = 0 ] || die "must run as root"
UNITS=$1; shift

WORK=$(mktemp -d "$BASE/sluice-systemd.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$WORK"' EXIT     # replaced by cleanup() below
CG_PARENT=/sys/fs/cgroup/unified
[ "$(stat -fc %T "$CG_PARENT" 2>/dev/null)" = cgroup2fs ] || CG_PARENT=/sys/fs/cgroup
[ "$(stat -fc %T "$CG_PARENT" 2>/dev/null)" = cgroup2fs ] || die "no cgroup2 hierarchy found"
CG="$CG_PARENT/sysd-exp.$$"
LAUNCHER_PID=
PID1=
RC=125

# ---------------------------------------------------------------- units
mkdir -p "$WORK/units" "$WORK/hostunits" "$WORK/netns-hold"
IFS=: read -r -a unit_list <<<"$UNITS"
for u in "${unit_list[@]}"; do
    if [ -d "$u" ]; then cp -a "$u"/. "$WORK/units/" || die "copy $u"
    elif [ -f "$u" ]; then cp "$u" "$WORK/units/" || die "copy $u"
    else die "no such unit file: $u"; fi
done
for u in $WHITELIST; do
    if [ -f "/lib/systemd/system/$u" ]; then cp -L "/lib/systemd/system/$u" "$WORK/hostunits/"
    elif [ -f "/usr/lib/systemd/system/$u" ]; then cp -L "/usr/lib/systemd/system/$u" "$WORK/hostunits/"
    else echo "nested_systemd: note: host unit $u not found" >&2; fi
done
cat >"$WORK/hostunits/sluice-test.target" <<'EOF'
[Unit]
Description=Minimal boot target of the nested sluice test systemd
DefaultDependencies=no
Wants=systemd-journald.socket systemd-journald-dev-log.socket systemd-journald.service
After=systemd-journald.socket systemd-journald-dev-log.socket systemd-journald.service
AllowIsolate=yes
EOF

# StateDirectory=/CacheDirectory=/LogsDirectory= names -> private tmpfs
VARDIRS=
if [ "$HOST_VARLIB" != 1 ]; then
    VARDIRS=$(grep -rhoE '^[[:space:]]*(StateDirectory|CacheDirectory|LogsDirectory)=.*' "$WORK/units" 2>/dev/null |
        awk -F= '{ n = split($2, a, /[[:space:]]+/); for (i = 1; i <= n; i++) if (a[i] != "") {
                     d = a[i]; sub(/:.*/, "", d);
                     p = ($1 ~ /State/) ? "/var/lib/" : ($1 ~ /Cache/) ? "/var/cache/" : "/var/log/";
                     print p d } }' | sort -u | tr '\n' ' ')
fi

# ------------------------------------------------- PID 1 pre-exec script
cat >"$WORK/inner.sh" <<EOF
#!/bin/bash
# Runs as PID 1 of the new pid namespace, in the new mount namespace (all
# mounts are slaves of the host's: nothing done here propagates back).
# stdin/stdout/stderr are a pty made by script(1); it becomes /dev/console.
set -eu
W="$WORK"
hostname sluice-test

# cgroup: plain cgroup2 instead of the host's hybrid v1/v2 tree; we are in a
# cgroup namespace rooted at $CG, so only that subtree is visible
umount -R /sys/fs/cgroup
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup

# /sys/fs/bpf: this VM stacks the host bpffs on top of a bind of sysfs's
# /sys/fs/bpf dir.  Unless KEEP_BPF_STACK=1, collapse that to one mount of the
# SAME bpffs instance (pins stay shared with the host), as on a normal host.
# (Not needed for anything found so far; it just removes a difference.)
if [ "$KEEP_BPF_STACK" != 1 ] && [ "\$(stat -fc %T /sys/fs/bpf)" = bpf_fs ] && [ "\$(awk '\$5 == "/sys/fs/bpf"' /proc/self/mountinfo | wc -l)" -gt 1 ]; then
    mkdir -p "\$W/bpf-hold"
    mount --bind /sys/fs/bpf "\$W/bpf-hold"
    while mountpoint -q /sys/fs/bpf; do umount /sys/fs/bpf; done
    mount --move "\$W/bpf-hold" /sys/fs/bpf
fi

# /proc/sys read-only (stops e.g. PID 1's fs.file-max bump), /proc/sys/net writable
mount --bind /proc/sys /proc/sys
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,ro /proc/sys

# /run: private tmpfs, but keep the host's /run/netns (still a slave, so
# netns added on the host later show up too)
mount --rbind /run/netns "\$W/netns-hold"
mount -t tmpfs -o mode=755,nosuid,nodev,size=64m tmpfs /run
mkdir -p /run/netns /run/lock /run/systemd/journald.conf.d /run/sluice-test/units $NOGEN
mount --move "\$W/netns-hold" /run/netns
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToConsole=no\n' \
    >/run/systemd/journald.conf.d/50-nested.conf
cp -a "\$W/hostunits/." /run/sluice-test/units/

# /dev: private tmpfs (e.g. /dev/log must not appear on the host's devtmpfs)
PTY=\$(tty)
touch "\$W/console-hold"
mount --bind "\$PTY" "\$W/console-hold"
mount -t tmpfs -o mode=755,nosuid,size=4m tmpfs /dev
mknod -m 666 /dev/null c 1 3;   mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/full c 1 7;   mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9; mknod -m 666 /dev/tty c 5 0
mkdir -m 755 /dev/net /dev/pts /dev/shm /dev/mqueue
mknod -m 666 /dev/net/tun c 10 200
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
ln -s /proc/self/fd /dev/fd;     ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr
touch /dev/console /dev/kmsg
mount --move "\$W/console-hold" /dev/console
mount --bind /dev/null /dev/kmsg

# unit files: private /etc/systemd/system
mount -t tmpfs -o mode=755 tmpfs /etc/systemd/system
cp -a "\$W/units/." /etc/systemd/system/

# private state dirs, private /tmp
# (a mount point missing on the host is created there, noted, and removed
# again by the cleanup if still empty)
for d in $VARDIRS; do
    [ -d "\$d" ] || { mkdir -p "\$d" && echo "\$d" >>"\$W/created-dirs"; }
    mount -t tmpfs -o mode=755 tmpfs "\$d"
done
if [ "$HOST_TMP" != 1 ]; then mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp; fi

echo "nested_systemd: nested PID 1 pre-exec setup done"
# No CAP_SYS_BOOT at all in the nested instance (belt and braces: reboot() from
# a child pid namespace only ends that namespace anyway).
exec env -i container=sluice-test TERM=dumb \\
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    SYSTEMD_UNIT_PATH=$UNIT_PATH \\
    SYSTEMD_GENERATOR_PATH=$NOGEN SYSTEMD_ENVIRONMENT_GENERATOR_PATH=$NOGEN \\
    setpriv --bounding-set -sys_boot \\
    $SYSTEMD --system --unit=sluice-test.target --log-target=journal \\
        --log-level=$SD_LOG_LEVEL --show-status=no
EOF
chmod +x "$WORK/inner.sh"
: >"$WORK/console.log"

# ---------------------------------------------------------------- teardown
cleanup() {
    trap - EXIT INT TERM
    if [ -n "${CMD_PID:-}" ]; then kill "$CMD_PID" 2>/dev/null; fi
    if [ -n "$PID1" ] && kill -0 "$PID1" 2>/dev/null; then
        # SIGRTMIN+4 = start poweroff.target; goes to the nested PID 1 only
        kill -s RTMIN+4 "$PID1" 2>/dev/null
        for _ in $(seq $((STOP_TIMEOUT * 10))); do kill -0 "$PID1" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$PID1" 2>/dev/null; then
            echo "nested_systemd: nested systemd did not power off in ${STOP_TIMEOUT}s, SIGKILL" >&2
            kill -9 "$PID1" 2>/dev/null   # kills every process of the pid namespace
        fi
    fi
    if [ -n "$LAUNCHER_PID" ]; then
        for _ in $(seq 100); do kill -0 "$LAUNCHER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$LAUNCHER_PID" 2>/dev/null
        wait "$LAUNCHER_PID" 2>/dev/null
    fi
    if [ -d "$CG" ]; then
        for _ in $(seq 50); do
            [ -z "$(find "$CG" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] && break
            sleep 0.1
        done
        find "$CG" -depth -type d -exec rmdir {} \; 2>/dev/null
        [ -d "$CG" ] && echo "nested_systemd: WARNING: could not remove $CG" >&2
    fi
    if [ -f "$WORK/created-dirs" ]; then
        while read -r d; do rmdir "$d" 2>/dev/null; done <"$WORK/created-dirs"
    fi
    if [ "$VERBOSE" = 1 ] || [ "$RC" = 125 ]; then
        echo "===== nested console log ====="
        cat "$WORK/console.log"
    fi
    if [ "$KEEP_WORK" != 1 ]; then rm -rf "$WORK"; else echo "nested_systemd: work dir kept: $WORK"; fi
    exit "$RC"
}
trap cleanup EXIT
trap 'RC=130; exit' INT TERM

# ---------------------------------------------------------------- boot
mkdir "$CG" || die "cannot create $CG"
T0=$(date +%s.%N)
# script(1) gives the nested systemd a pty as /dev/console (systemd will not
# log to a non-tty console) and records it in console.log
(
    echo $BASHPID >"$CG/cgroup.procs" || exit 1
    exec script -qfec "exec unshare --pid --fork --kill-child=SIGKILL --mount --uts --ipc --cgroup \
        --propagation slave --mount-proc $WORK/inner.sh" "$WORK/console.log"
) </dev/null >/dev/null 2>&1 &
LAUNCHER_PID=$!

# the nested PID 1 = the process in our cgroup subtree whose innermost pid is 1
find_pid1() {
    local p
    for p in $(find "$CG" -name cgroup.procs -exec cat {} + 2>/dev/null); do
        if awk '/^NSpid:/ { exit !(NF > 2 && $NF == 1) }' "/proc/$p/status" 2>/dev/null; then
            echo "$p"; return 0
        fi
    done
    return 1
}
for _ in $(seq 100); do
    PID1=$(find_pid1) && break
    kill -0 "$LAUNCHER_PID" 2>/dev/null || break
    sleep 0.05
done
[ -n "$PID1" ] || die "nested PID 1 did not appear"

# how to run something inside the nested instance (never run systemctl on the host)
NESTED=(nsenter -t "$PID1" -m -p -u -i -C --wd=/ --
        env -i PATH="$PATH" TERM=dumb LANG=C.UTF-8 SYSTEMD_PAGER=cat PAGER=cat
        SYSTEMD_COLORS=0 SYSTEMD_UNIT_PATH="$UNIT_PATH" container=sluice-test)

up=0; state=
deadline=$(( $(date +%s) + BOOT_TIMEOUT ))
while [ "$(date +%s)" -lt "$deadline" ]; do
    kill -0 "$PID1" 2>/dev/null || die "nested systemd died during boot"
    if "${NESTED[@]}" test -S /run/systemd/private 2>/dev/null; then
        state=$(timeout $(( deadline - $(date +%s) + 1 )) \
                "${NESTED[@]}" systemctl is-system-running --wait 2>/dev/null)
        case "$state" in running|degraded) up=1; break;; esac
    fi
    sleep 0.1
done
[ "$up" = 1 ] || die "nested systemd not up within ${BOOT_TIMEOUT}s (state: ${state:-none})"
printf 'nested_systemd: nested systemd (host pid %s) is %s after %.2fs\n' "$PID1" "$state" \
    "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"

# ---------------------------------------------------------------- commands
# The per-command timeout runs INSIDE the nested namespaces, so nsenter always
# reaps its child (killing nsenter itself would leave a zombie that the host's
# init must reap and that delays the nested shutdown); the outer timeout is
# only a backstop.  Commands run in the background + `wait` so that a
# SIGINT/SIGTERM to this script is handled at once.
RC=0
CMD_PID=
for cmd in "$@"; do
    echo "===== \$ $cmd"
    timeout -k 10 $((CMD_TIMEOUT + 30)) "${NESTED[@]}" \
        timeout -k 5 "$CMD_TIMEOUT" /bin/sh -c "$cmd" </dev/null 2>&1 &
    CMD_PID=$!
    wait "$CMD_PID"
    RC=$?
    CMD_PID=
    [ "$RC" = 124 ] && echo "nested_systemd: command timed out after ${CMD_TIMEOUT}s"
    echo "===== exit status: $RC"
done
exit "$RC"
