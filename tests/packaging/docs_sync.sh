#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Keeps the man pages and the bash completion in step with the binaries' help:
# every sluicectl command and every option that `sluicectl --help`,
# `sluicectl COMMAND --help` and `sluiced --help` print must be in the
# corresponding man page (and, for sluicectl, in the completion script), and
# the man pages must render without warnings.
#
# usage: docs_sync.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
	exit 2
fi
build=$1
src=$2
sluiced=$build/controld/sluiced
sluicectl=$build/ctl/sluicectl
man_sluiced=$src/packaging/man/sluiced.8.in
man_sluicectl=$src/packaging/man/sluicectl.8.in
completion=$src/packaging/completion/sluicectl

for f in "$sluiced" "$sluicectl"; do
	[ -x "$f" ] || { echo "docs_sync: FAIL: $f is not an executable (build first)" >&2; exit 1; }
done
for f in "$man_sluiced" "$man_sluicectl" "$completion"; do
	[ -f "$f" ] || { echo "docs_sync: FAIL: $f is missing" >&2; exit 1; }
done
command -v groff >/dev/null || { echo "docs_sync: FAIL: groff is not installed (apt-get install groff-base)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failures=0
fail() {
	echo "docs_sync: FAIL: $*" >&2
	failures=$((failures + 1))
}

version=$("$sluicectl" --version | awk '{ print $NF }')
[ -n "$version" ] || { echo "docs_sync: FAIL: 'sluicectl --version' printed no version" >&2; exit 1; }

# The lines of a help text's "Options:" section (up to the next blank line).
options_section() {
	awk '/^Options:[[:space:]]*$/ { on = 1; next } on && /^[[:space:]]*$/ { exit } on { print }'
}

# The options a help text's "Options:" section lists, one per line: the long
# ones (--name) and the short ones (-n) that start an item, after whitespace.
help_options() {
	options_section | sed -nE \
		-e 's/^[[:space:]]+(-[[:alnum:]]),[[:space:]]+(--[[:alnum:]][[:alnum:]-]*).*/\1\n\2/p' \
		-e 't' \
		-e 's/^[[:space:]]+(--?[[:alnum:]][[:alnum:]-]*).*/\1/p'
}

# Words of a positional choice such as "list|flush" in an "Options:" section.
help_choices() {
	options_section | sed -nE 's/^[[:space:]]+([a-z][a-z-]*(\|[a-z][a-z-]*)+)([[:space:]].*)?$/\1/p' |
		tr '|' '\n'
}

# Whether a word (an option or a command name) occurs in a file as a whole
# word: "--to" must not be satisfied by "--to-src", nor "del" by "delete".
has_word() {
	local word=$1 file=$2 re
	re=$(printf '%s' "$word" | sed 's/[][\.*^$/]/\\&/g')
	grep -Eq -- "(^|[^[:alnum:]_-])${re}([^[:alnum:]_-]|\$)" "$file"
}

# The man page as plain text: no hyphenation, lines long enough that no
# option is broken at its hyphens, no bold or underlining.
render_text() {
	sed "s/@SLUICE_VERSION@/$version/g" "$1" |
		groff -man -Tascii -P-cbou -rLL=3000n -rHY=0 2>/dev/null
}

man_text_sluiced=$tmp/sluiced.txt
man_text_sluicectl=$tmp/sluicectl.txt
render_text "$man_sluiced" >"$man_text_sluiced"
render_text "$man_sluicectl" >"$man_text_sluicectl"
[ -s "$man_text_sluiced" ] || fail "$man_sluiced renders to nothing"
[ -s "$man_text_sluicectl" ] || fail "$man_sluicectl renders to nothing"

# --- sluicectl: commands -----------------------------------------------------
"$sluicectl" --help >"$tmp/ctl-help.txt"
mapfile -t commands < <(awk '/^Commands:[[:space:]]*$/ { on = 1; next }
	on && /^[[:space:]]*$/ { exit }
	on && /^[[:space:]]+[a-z]/ { print $1 }' "$tmp/ctl-help.txt")
[ "${#commands[@]}" -ge 5 ] ||
	fail "found only ${#commands[@]} commands in 'sluicectl --help' (is its \"Commands:\" section still there?)"

# The subsection titles of the man page's COMMANDS section (indented 3 columns).
awk '/^COMMANDS[[:space:]]*$/ { on = 1; next } on && /^[^[:space:]]/ { exit }
	on && /^   [^[:space:]]/ { print $1 }' "$man_text_sluicectl" >"$tmp/man-commands.txt"

for cmd in "${commands[@]}"; do
	grep -qxF -- "$cmd" "$tmp/man-commands.txt" ||
		fail "sluicectl command '$cmd' has no subsection in the COMMANDS section of $man_sluicectl"
	has_word "$cmd" "$completion" ||
		fail "sluicectl command '$cmd' is not in $completion"
done

# --- sluicectl: options --------------------------------------------------------
check_ctl_options() { # context, help text file
	local what=$1 file=$2 opt n=0
	while IFS= read -r opt; do
		n=$((n + 1))
		has_word "$opt" "$man_text_sluicectl" ||
			fail "option '$opt' of $what is not in $man_sluicectl"
		has_word "$opt" "$completion" ||
			fail "option '$opt' of $what is not in $completion"
	done < <(help_options <"$file")
	while IFS= read -r opt; do
		has_word "$opt" "$man_text_sluicectl" ||
			fail "'$opt' (a value of $what) is not in $man_sluicectl"
		has_word "$opt" "$completion" ||
			fail "'$opt' (a value of $what) is not in $completion"
	done < <(help_choices <"$file")
	[ "$n" -gt 0 ] || fail "no options found in the help of $what (is its \"Options:\" section still there?)"
}

check_ctl_options "'sluicectl'" "$tmp/ctl-help.txt"
for cmd in "${commands[@]}"; do
	# `sluicectl help --help` is not a thing: help takes a command name.
	[ "$cmd" = help ] && continue
	if ! "$sluicectl" "$cmd" --help >"$tmp/ctl-$cmd.txt" 2>"$tmp/ctl-$cmd.err"; then
		fail "'sluicectl $cmd --help' failed: $(head -n 1 "$tmp/ctl-$cmd.err")"
		continue
	fi
	check_ctl_options "'sluicectl $cmd'" "$tmp/ctl-$cmd.txt"
done

# --- sluiced: options ---------------------------------------------------------
"$sluiced" --help >"$tmp/sluiced-help.txt"
n=0
while IFS= read -r opt; do
	n=$((n + 1))
	has_word "$opt" "$man_text_sluiced" ||
		fail "option '$opt' of 'sluiced' is not in $man_sluiced"
done < <(help_options <"$tmp/sluiced-help.txt")
[ "$n" -gt 5 ] || fail "found only $n options in 'sluiced --help' (is its \"Options:\" section still there?)"

# --- rendering ----------------------------------------------------------------
for page in "$man_sluiced" "$man_sluicectl"; do
	grep -q '^\.TH .*@SLUICE_VERSION@' "$page" ||
		fail "$page: .TH does not carry @SLUICE_VERSION@ (CMake substitutes it)"
	out=$tmp/$(basename "$page" .in)
	sed "s/@SLUICE_VERSION@/$version/g" "$page" >"$out"

	warnings=$(groff -man -ww -z -Tutf8 "$out" 2>&1) || true
	[ -z "$warnings" ] || fail "groff -man -ww warns about $page:"$'\n'"$warnings"

	if command -v man >/dev/null; then
		# What lintian runs (its groff-message check).
		warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
			man --warnings -E UTF-8 -l -Tutf8 -Z "$out" 2>&1 >/dev/null) || true
		[ -z "$warnings" ] || fail "man --warnings warns about $page:"$'\n'"$warnings"
	fi
	if command -v mandoc >/dev/null; then
		warnings=$(mandoc -Tlint -W warning "$out" 2>&1) || true
		[ -z "$warnings" ] || fail "mandoc -Tlint warns about $page:"$'\n'"$warnings"
	fi
done

if [ "$failures" -gt 0 ]; then
	echo "docs_sync: $failures problem(s); update packaging/man/*.8.in and packaging/completion/sluicectl" >&2
	exit 1
fi
echo "docs_sync: OK: ${#commands[@]} sluicectl commands and their options, sluiced's options, man pages render cleanly"
