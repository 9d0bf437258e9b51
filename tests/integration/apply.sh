#!/usr/bin/env bash
# Declarative configuration: export/apply round trip, idempotence (ids and
# counters kept), --dry-run, all-or-nothing on bad or failing documents,
# documents larger than one request line, rules for interfaces that do not
# exist yet, and --config at start.
T_NAME=apply
. "$(dirname "$0")/lib.sh"

two_hosts || exit 1
start_daemon || exit 1

doc() { printf '{"rules": [%s]}\n' "$(IFS=,; echo "$*")"; }
r_icmp="{\"kind\":\"drop\",\"iface\":\"$SIF\",\"netns\":\"$S\",\"proto\":\"icmp\",\"name\":\"no-ping\"}"
r_udp="{\"kind\":\"drop\",\"iface\":\"$SIF\",\"netns\":\"$S\",\"hook\":\"tc-ingress\",\"proto\":\"udp\",\"dport\":\"5353\"}"
r_tcp="{\"kind\":\"drop\",\"iface\":\"$SIF\",\"netns\":\"$S\",\"proto\":\"tcp\",\"dport\":\"22\"}"
r_v6="{\"kind\":\"drop\",\"iface\":\"$CIF\",\"netns\":\"$C\",\"hook\":\"tc-egress\",\"dst\":\"fd00:200::2\"}"
ids() { ctl --json export | jq -c '[.rules[].id]'; }

doc "$r_icmp" "$r_udp" "$r_tcp" >"$T_DIR/a.json"
out=$(ctl --json apply -f "$T_DIR/a.json")
check_eq "apply adds 3" 3 "$(jq '.added | length' <<<"$out")"
check_not "ping is dropped" ping_ok "$C" 10.200.0.2
ctl export >"$T_DIR/exported.json"
check_eq "export lists 3" 3 "$(jq '.rules | length' "$T_DIR/exported.json")"
ids_before=$(ids)
counted=$(ctl --json stats | jq '[.rules[].packets] | add')
out=$(ctl --json apply -f "$T_DIR/a.json")
check_eq "the same document again changes nothing" "0 0 3" \
	"$(jq -r '"\(.added | length) \(.deleted | length) \(.kept)"' <<<"$out")"
out=$(ctl --json apply -f "$T_DIR/exported.json")
check_eq "the exported document changes nothing" "0 0 3" \
	"$(jq -r '"\(.added | length) \(.deleted | length) \(.kept)"' <<<"$out")"
check_eq "ids kept" "$ids_before" "$(ids)"
check_ge "counters kept" "$counted" "$(ctl --json stats | jq '[.rules[].packets] | add')"

# --dry-run: what would change, and nothing changes.
doc "$r_icmp" "$r_udp" "$r_v6" >"$T_DIR/b.json"
out=$(ctl apply --dry-run -f "$T_DIR/b.json")
check "dry-run says one would be deleted" contains "$out" "would delete: 3"
check "dry-run says one would be added" contains "$out" "would add: "
check_eq "dry-run changed nothing" "$ids_before" "$(ids)"
out=$(ctl --json apply -f "$T_DIR/b.json")
check_eq "apply b: 1 added, 1 deleted, 2 kept" "1 1 2" \
	"$(jq -r '"\(.added | length) \(.deleted | length) \(.kept)"' <<<"$out")"
check_eq "kept rules kept their ids" "[1,2]" "$(ctl --json export | jq -c '[.rules[].id][0:2]')"
ids_b=$(ids)
export_b=$(ctl export)

# Bad documents: refused as a whole, with the failing rule named.
doc "$r_icmp" "{\"kind\":\"drop\",\"iface\":\"$SIF\",\"netns\":\"$S\",\"dport\":\"99999\"}" >"$T_DIR/bad.json"
err=$(ctl apply -f "$T_DIR/bad.json" 2>&1)
check_eq "invalid rule: exit 1" 1 "$?"
check "the message names rules[1]" contains "$err" "rules[1]"
printf '{"rules": [' >"$T_DIR/broken.json"
check_not "broken JSON refused" ctl apply -f "$T_DIR/broken.json"
doc "{\"kind\":\"shape\",\"iface\":\"$SIF\"}" >"$T_DIR/kind.json"
check_not "unknown kind refused" ctl apply -f "$T_DIR/kind.json"
doc "{\"kind\":\"drop\",\"iface\":\"$SIF\",\"colour\":\"red\"}" >"$T_DIR/unknown.json"
check_not "unknown field refused" ctl apply -f "$T_DIR/unknown.json"
# A failure while applying (the same new rule twice): what was deleted comes back.
doc "$r_tcp" "$r_tcp" >"$T_DIR/dup.json"
err=$(ctl apply -f "$T_DIR/dup.json" 2>&1)
check_eq "a failing apply: exit 1" 1 "$?"
check "... EEXIST" contains "$err" EEXIST
check_eq "rolled back: same rules, same ids" "$export_b" "$(ctl export)"
check_not "rolled back: ping still dropped" ping_ok "$C" 10.200.0.2

# A document larger than one request line travels in parts.
python3 - "$SIF" "$S" >"$T_DIR/big.json" <<'PY'
import json, sys
iface, ns = sys.argv[1], sys.argv[2]
rules = [{"kind": "drop", "iface": iface, "netns": ns, "hook": "tc-ingress", "proto": "udp",
          "dport": str(10000 + i), "name": "bulk-%d" % i} for i in range(3000)]
print(json.dumps({"rules": rules}))
PY
check "the 3000-rule document is over 64 KiB" test "$(stat -c %s "$T_DIR/big.json")" -gt 65536
out=$(ctl --json apply -f "$T_DIR/big.json")
check_eq "3000 added, 3 deleted" "3000 3" "$(jq -r '"\(.added | length) \(.deleted | length)"' <<<"$out")"
check_eq "3000 listed" 3000 "$(ctl --json list | jq '.rules | length')"
out=$(ctl --json apply -f - <"$T_DIR/big.json")
check_eq "again from stdin: nothing changes" "0 3000" "$(jq -r '"\(.added | length) \(.kept)"' <<<"$out")"

# Rules for an interface that does not exist yet: detached, attached when it appears.
NIF=$(ifname n)
NPEER=$(ifname p)
doc "$r_icmp" "{\"kind\":\"drop\",\"iface\":\"$NIF\",\"netns\":\"$S\",\"proto\":\"udp\",\"dport\":\"7\"}" \
	>"$T_DIR/later.json"
out=$(ctl --json apply -f "$T_DIR/later.json")
check_eq "apply with a missing interface: 1 detached" 1 "$(jq '.detached | length' <<<"$out")"
nid=$(jq '.detached[0]' <<<"$out")
check_eq "listed as detached" false "$(rule_field "$nid" attached)"
ip link add "$NIF" type veth peer name "$NPEER"
T_HOST_LINKS+=("$NPEER")
ip link set "$NIF" netns "$S"
ip -n "$S" link set "$NIF" up
for _ in $(seq 1 30); do [ "$(rule_field "$nid" attached)" = true ] && break; sleep 0.1; done
check_eq "attached once the interface exists" true "$(rule_field "$nid" attached)"
check "its XDP program is there" xdp_attached "$S" "$NIF"

# --config at start, on top of the saved state.
doc "$r_udp" "$r_v6" >"$T_DIR/config.json"
kill -TERM "$T_DAEMON_PID"
wait "$T_DAEMON_PID"
T_DAEMON_PID=""
start_daemon --config "$T_DIR/config.json" || exit 1
check_eq "--config applied: 2 rules" 2 "$(ctl --json export | jq '.rules | length')"
check "ping works again (icmp rule gone)" ping_ok "$C" 10.200.0.2
check_not "the interface's rule went with --config" xdp_attached "$S" "$NIF"
printf '{"rules": 1}' >"$T_DIR/badconfig.json"
kill -TERM "$T_DAEMON_PID"
wait "$T_DAEMON_PID"
T_DAEMON_PID=""
"$SLUICED" --socket "$T_SOCK" --state-dir "$T_DIR/state" --bpffs "$T_BPFFS" \
	--config "$T_DIR/badconfig.json" 2>"$T_DIR/badconfig.log"
check_eq "a bad --config: sluiced refuses to start" 1 "$?"
check "... naming the file" grep -q badconfig.json "$T_DIR/badconfig.log"
start_daemon || exit 1
check_eq "the saved rules are intact" 2 "$(ctl --json export | jq '.rules | length')"
