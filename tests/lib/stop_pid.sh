# Sourced by test and benchmark scripts.
# stop_pid PID: SIGTERM, up to 5 s to exit, then SIGKILL; reaps it when it is
# this shell's child. An empty PID is nothing to stop.
stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}
