#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Drives the sluicectl bash completion (packaging/completion/sluicectl) the
# way bash does: COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set, the
# completion function called, COMPREPLY checked. Runs every case twice: once
# without bash-completion (the script's own fallback) and once with it loaded
# (_init_completion), when /usr/share/bash-completion/bash_completion exists.
#
# usage: completion_test.sh SOURCE_DIR
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 SOURCE_DIR" >&2
	exit 2
fi
script=$(cd "$1" && pwd)/packaging/completion/sluicectl
[ -f "$script" ] || { echo "completion_test: FAIL: $script is missing" >&2; exit 1; }
bash_completion=${BASH_COMPLETION_SCRIPT:-/usr/share/bash-completion/bash_completion}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A stand-in sluicectl first in PATH: answers `--json list` like a daemon
# with rules 3 and 12, and records how it was called. No daemon is needed, and
# a real one on the default socket is never asked.
mkdir -p "$tmp/bin" "$tmp/files"
cat >"$tmp/bin/sluicectl" <<'EOF'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$FAKE_SLUICECTL_LOG"
case " $* " in
*" --json list "*)
	if [ -n "${FAKE_SLUICECTL_DOWN-}" ]; then
		echo "sluicectl: cannot connect to /nowhere: No such file or directory" >&2
		exit 1
	fi
	echo '{"rules": [{"id": 3, "kind": "drop", "iface": "eth0", "packets": 0}, {"id": 12, "kind": "redirect", "iface": "eth1", "redirect": null, "packets": 7}]}'
	;;
*) exit 2 ;;
esac
EOF
chmod +x "$tmp/bin/sluicectl"
touch "$tmp/files/rules.json" "$tmp/files/router.json"
export PATH="$tmp/bin:$PATH"
export FAKE_SLUICECTL_LOG=$tmp/calls.log
export SLUICE_SOCKET=$tmp/no-such.sock
cd "$tmp/files"

failures=0
mode=""

# Sets COMP_* from a command line with the cursor at its end, split into
# words on blanks, or from the words given after the line (to spell out how
# bash splits "--opt=value" at the "=" of COMP_WORDBREAKS).
set_line() {
	COMP_LINE=$1
	COMP_POINT=${#COMP_LINE}
	shift
	if [ $# -gt 0 ]; then
		COMP_WORDS=("$@")
	else
		read -ra COMP_WORDS <<<"$COMP_LINE"
		[[ $COMP_LINE == *[[:blank:]] ]] && COMP_WORDS+=("")
	fi
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_TYPE=9 COMP_KEY=9
}

# Completes a line: COMPREPLY sorted into $got; anything printed is a failure.
complete_line() {
	set_line "$@"
	COMPREPLY=()
	# bash-completion's helpers are not written for set -eu.
	set +eu
	_sluicectl >"$tmp/printed" 2>&1
	set -eu
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
	if [ -s "$tmp/printed" ]; then
		fail "$1" "nothing printed" "output: $(cat "$tmp/printed")"
	fi
}

fail() {
	printf 'completion_test: FAIL [%s] "%s<TAB>"\n    expected: %s\n    got:      %s\n' \
		"$mode" "$1" "$2" "$3" >&2
	failures=$((failures + 1))
}

sorted() {
	printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect LINE [WORDS...] -- EXPECTED...: COMPREPLY is exactly EXPECTED.
expect() {
	local args=() want
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	complete_line "${args[@]}"
	want=$(sorted "$@")
	[ "$got" = "$want" ] || fail "${args[0]}" "${want:-(nothing)}" "${got:-(nothing)}"
}

# expect_has LINE WORD: COMPREPLY holds WORD.
expect_has() {
	complete_line "$1"
	[[ " $got " == *" $2 "* ]] || fail "$1" "a list holding '$2'" "${got:-(nothing)}"
}

# expect_none_of LINE WORDS...: COMPREPLY holds none of WORDS.
expect_none_of() {
	local line=$1 w
	shift
	complete_line "$line"
	for w in "$@"; do
		if [[ " $got " == *" $w "* ]]; then
			fail "$line" "none of: $*" "${got:-(nothing)}"
			return
		fi
	done
}

commands=(hello status add-drop add-redirect add-rewrite conntrack list del stats export apply flush help)

run_cases() {
	# shellcheck source=/dev/null
	source "$script"
	declare -F _sluicectl >/dev/null || { fail "(source)" "a function _sluicectl" "none"; return; }
	[ "$(complete -p sluicectl 2>/dev/null)" = "complete -F _sluicectl sluicectl" ] ||
		fail "(source)" "complete -F _sluicectl sluicectl" "$(complete -p sluicectl 2>&1)"

	# Command names, global options.
	expect "sluicectl ad" -- add-drop add-redirect add-rewrite
	expect "sluicectl " -- "${commands[@]}"
	expect "sluicectl --js" -- --json
	expect "sluicectl --t" -- --timeout
	expect "sluicectl --json --timeout 3 li" -- list
	expect "sluicectl --json --js" -- # each option once

	# Each command's options.
	expect "sluicectl add-redirect --mo" -- --mode
	expect "sluicectl add-rewrite --to-" -- --to-src --to-sport --to-dst --to-dport
	expect "sluicectl add-drop --iface eth0 --" -- --netns --hook --src --dst --proto --sport \
		--dport --ether-type --name --help
	expect "sluicectl apply --d" -- --dry-run
	expect "sluicectl conntrack flush --r" -- --rule
	expect "sluicectl list --js" -- # global options go before the command

	# Values.
	expect "sluicectl add-redirect --mode " -- egress ingress neigh peer route
	expect "sluicectl add-rewrite --redirect eth1 --mode n" -- neigh
	expect "sluicectl add-drop --hook " -- xdp tc-ingress tc-egress
	expect "sluicectl list --hook tc-" -- tc-ingress tc-egress
	expect "sluicectl add-redirect --hook " -- tc-ingress tc-egress
	expect "sluicectl add-drop --proto " -- tcp udp icmp icmpv6 sctp udplite
	expect "sluicectl add-drop --ether-type " -- arp ipv4 ipv6
	expect_has "sluicectl add-drop --iface lo" lo
	expect_has "sluicectl add-drop --iface " lo
	expect_has "sluicectl add-redirect --iface eth0 --to l" lo
	expect_has "sluicectl add-drop --netns p" pid:
	expect "sluicectl apply -f rou" -- router.json
	expect "sluicectl apply --file ru" -- rules.json
	expect "sluicectl conntrack " -- list flush
	expect "sluicectl help add-r" -- add-redirect add-rewrite
	# "--opt=value", split at "=" as bash does.
	expect "sluicectl add-drop --hook=" sluicectl add-drop --hook = -- xdp tc-ingress tc-egress
	expect "sluicectl add-drop --hook=tc-e" sluicectl add-drop --hook = tc-e -- tc-egress
	expect "sluicectl --timeout=5 del" sluicectl --timeout = 5 del -- del

	# After an option that takes a value: its values, never commands or options.
	expect "sluicectl --timeout " --
	expect_none_of "sluicectl --socket " "${commands[@]}"
	expect "sluicectl add-drop --iface lo --src " --
	expect "sluicectl add-redirect --priority " --
	expect_none_of "sluicectl add-drop --name " --iface --hook "${commands[@]}"
	# ... and once the value is there, commands again.
	expect "sluicectl --timeout 5 fl" -- flush
	expect "sluicectl --socket /run/x.sock e" -- export

	# Rule ids from `sluicectl --json list`, asked with a short timeout and
	# the socket given on the line.
	: >"$FAKE_SLUICECTL_LOG"
	expect "sluicectl del " -- 3 12
	grep -q -- '--timeout 1' "$FAKE_SLUICECTL_LOG" ||
		fail "sluicectl del " "sluicectl called with --timeout 1" "$(cat "$FAKE_SLUICECTL_LOG")"
	expect "sluicectl stats 1" -- 12
	expect "sluicectl conntrack flush --rule " -- 3 12
	: >"$FAKE_SLUICECTL_LOG"
	expect "sluicectl --socket /run/lab.sock del " -- 3 12
	grep -q -- '--socket /run/lab.sock' "$FAKE_SLUICECTL_LOG" ||
		fail "sluicectl --socket /run/lab.sock del " "sluicectl called with --socket /run/lab.sock" \
			"$(cat "$FAKE_SLUICECTL_LOG")"
	expect "sluicectl del 3 " -- # one id only
	# A daemon that does not answer: nothing offered, nothing printed.
	FAKE_SLUICECTL_DOWN=1 expect "sluicectl del " --
	# No sluicectl in PATH (or an installed one, with no daemon on SLUICE_SOCKET).
	mv "$tmp/bin/sluicectl" "$tmp/bin/away"
	expect "sluicectl del " --
	mv "$tmp/bin/away" "$tmp/bin/sluicectl"
}

mode="without bash-completion"
(
	# In case the environment exported some of its functions.
	unset -f _init_completion _get_comp_words_by_ref _filedir __ltrim_colon_completions 2>/dev/null || true
	run_cases
	[ "$failures" -eq 0 ]
) || failures=$((failures + 1))

if [ -r "$bash_completion" ]; then
	mode="with bash-completion"
	(
		set +eu
		# shellcheck source=/dev/null
		source "$bash_completion"
		set -eu
		if ! declare -F _init_completion >/dev/null; then
			fail "(source $bash_completion)" "a function _init_completion" "none"
		fi
		run_cases
		[ "$failures" -eq 0 ]
	) || failures=$((failures + 1))
else
	echo "completion_test: $bash_completion not found: tested without bash-completion only"
fi

if [ "$failures" -gt 0 ]; then
	echo "completion_test: FAILED" >&2
	exit 1
fi
echo "completion_test: OK"
