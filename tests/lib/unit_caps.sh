# Sourced by tests that hold sluiced to the capabilities of its systemd unit.
CAP_HEADER=/usr/include/linux/capability.h

# unit_cap_names UNIT_FILE: the unit's CapabilityBoundingSet= (CAP_* names).
unit_cap_names() { sed -n 's/^CapabilityBoundingSet=//p' "$1"; }

# cap_mask NAME...: those capabilities in /proc/PID/status's form (16 hex
# digits), less any this process itself lacks: where a test runs with fewer
# (a sandbox), those are all it can give. Fails on a name capability.h lacks.
cap_mask() {
	local c n own mask=0
	for c; do
		n=$(awk -v c="$c" '$1 == "#define" && $2 == c { print $3 }' "$CAP_HEADER")
		[ -n "$n" ] || { echo "unknown capability $c" >&2; return 1; }
		mask=$((mask | (1 << n)))
	done
	own=$((16#$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)))
	printf '%016x' $((mask & own))
}
