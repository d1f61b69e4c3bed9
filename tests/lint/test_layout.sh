#!/usr/bin/env bash
# test_layout.sh - the source tree keeps the house rules (DEVELOPERS.md, "The house"):
#  1. every #include "module/..." in src/ points down the layers (or stays in its module):
#       util < binlog < db < jobdef < {dump, sync, repl, precheck, verify, load}
#            < job < service < http < cli
#     (http serves the job manager of service/, so it sits above it)
#     modules of one level do not include each other;
#  2. no file in src/ is over 1,500 lines.
# Prints every offending line; exit 1 when there is any.
set -euo pipefail
src=${TIDM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/src

level() {
	case "$1" in
	util) echo 0 ;;
	binlog) echo 1 ;;
	db) echo 2 ;;
	jobdef) echo 3 ;;
	dump | sync | repl | precheck | verify | load) echo 4 ;;
	job) echo 5 ;;
	service) echo 6 ;;
	http) echo 7 ;;
	cli) echo 8 ;;
	*) echo -1 ;;
	esac
}

bad=0
while IFS= read -r f; do
	rel=${f#"$src"/}
	mod=${rel%%/*}
	lm=$(level "$mod")
	if [ "$lm" -lt 0 ]; then
		echo "$rel: module '$mod' has no place in the layers (add it to tests/lint/test_layout.sh)"
		bad=1
		continue
	fi
	while IFS=: read -r ln inc; do
		dep=${inc%%/*}
		[ "$dep" = "$mod" ] && continue
		ld=$(level "$dep")
		if [ "$ld" -lt 0 ]; then
			echo "$rel:$ln: includes \"$inc\" of unknown module '$dep'"
			bad=1
		elif [ "$ld" -ge "$lm" ]; then
			echo "$rel:$ln: includes \"$inc\": $mod (level $lm) may only use modules below it, $dep is level $ld"
			bad=1
		fi
	done < <(grep -n '^#include "[a-z_]*/' "$f" | sed -E 's/^([0-9]+):#include "([^"]+)".*/\1:\2/')
	n=$(wc -l <"$f")
	if [ "$n" -gt 1500 ]; then
		echo "$rel: $n lines (the limit is 1,500: split it along its seams)"
		bad=1
	fi
done < <(find "$src" -name '*.[ch]' | sort)

if [ "$bad" -ne 0 ]; then
	echo "FAIL: the source layout breaks the rules above" >&2
	exit 1
fi
echo "layout: $(find "$src" -name '*.[ch]' | wc -l) files, includes point down, none over 1,500 lines"
