#!/bin/sh
# Print docs/config.md: the directive reference of the core and of every
# module built in the tree, from their own declarations (poshtad -d).
# Usage: config-reference.sh POSHTAD STAGED_MODULE_DIR
set -eu
poshtad=$1 modules=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names=$(cd "$modules" && ls *.so 2>/dev/null | sed 's/\.so$//' | sort | tr '\n' ' ')
{
	echo "module_dir $modules;"
	[ -n "$names" ] && echo "load $names;"
} >"$tmp/reference.conf"
"$poshtad" -d -c "$tmp/reference.conf"
