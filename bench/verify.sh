#!/usr/bin/env bash
# verify.sh - `tidm verify` speed against the peers' ways of proving a copy, in the same run:
#   CHECKSUM TABLE   the 8 tables' CHECKSUM TABLE on the source and on the target at the
#                    same time (two sessions, one per side): table-level only, says
#                    nothing of which rows differ;
#   full reads       mydumper-style: mydumper -t N of the source and of the target at the
#                    same time (every row read out of both servers), then the dumps
#                    compared file by file (cmp): row-exact, but every byte crosses
#                    (the dumps are removed and synced to disk untimed, so that their
#                    write-back does not slow the contender after them);
#   tidm verify      THREADS connections per side, chunk digests computed on each server.
# Goal of issue 18: tidm verify <= 1.5 x CHECKSUM TABLE, while being row-exact.
#
#   bench/verify.sh            run the comparison (servers and data are kept)
#   bench/verify.sh --clean    stop this benchmark's servers and remove its work files
#
# Setup (once, cached): a throwaway source and target MariaDB (scripts/testdb.sh in
# <repo>/.bench-cache/testdb-verify, never anyone else's servers); in the source
# `sysbench oltp_read_write --tables=8 --table-size=250000 prepare` (database sbtest),
# copied to the target by tidm migrate (type full) and checked with CHECKSUM TABLE. Both
# servers' buffer pools are grown to 1 GiB for the run (the data is 473 MiB a side), so
# that every contender reads from memory.
# Each round runs the three contenders in a rotating order; the median of ROUNDS rounds
# is reported with the ratios. Environment: THREADS (default 4), ROUNDS (default 3),
# TIDM_BIN (default: a Release build in <repo>/build-bench), BENCH_CACHE.
# Exit status: 0 when every run finished and tidm verify found the tables equal.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cache=${BENCH_CACHE:-$top/.bench-cache}
threads=${THREADS:-4}
rounds=${ROUNDS:-3}
tables=8
table_rows=250000
export TIDM_TESTDB_DIR=$cache/testdb-verify
work=$cache/verify-work

if [ "${1:-}" = --clean ]; then
	"$top/scripts/testdb.sh" stop >&2
	rm -rf "$work"
	exit 0
fi
[ $# -eq 0 ] || die "usage: bench/verify.sh [--clean]"
case "$threads" in '' | *[!0-9]* | 0) die "THREADS must be a positive number" ;; esac
case "$rounds" in '' | *[!0-9]* | 0) die "ROUNDS must be a positive number" ;; esac
for tool in sysbench mydumper mariadb; do
	command -v "$tool" >/dev/null || die "$tool not installed"
done

bench_tidm
mkdir -p "$cache" "$work"
cp "$tidm" "$work/tidm.bin"
tidm=$work/tidm.bin
"$top/scripts/testdb.sh" start >&2
# shellcheck disable=SC1090
eval "$("$top/scripts/testdb.sh" env)"

list=""
for ((i = 1; i <= tables; i++)); do list+="${list:+,}sbtest.sbtest$i"; done

rows_ok() {
	local side=$1 i c
	for ((i = 1; i <= tables; i++)); do
		c=$(sql "$side" -e "SELECT COUNT(*) FROM sbtest.sbtest$i" 2>/dev/null) || return 1
		[ "$c" = "$table_rows" ] || return 1
	done
}

cat >"$work/job.yaml" <<YAML
name: bench-verify
type: full
source: {host: 127.0.0.1, port: $TIDM_TEST_SOURCE_PORT, user: root, password: "$TIDM_TEST_SOURCE_PASSWORD"}
target: {host: 127.0.0.1, port: $TIDM_TEST_TARGET_PORT, user: root, password: "$TIDM_TEST_TARGET_PASSWORD"}
objects: {databases: [sbtest]}
spec: {dump-threads: $threads, load-threads: $threads}
YAML

if ! rows_ok source; then
	say "source: sysbench prepare sbtest ($tables x $table_rows rows)"
	sql source -e "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest"
	sysbench oltp_read_write --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$TIDM_TEST_SOURCE_PORT" \
		--mysql-user=root --mysql-password="$TIDM_TEST_SOURCE_PASSWORD" --mysql-db=sbtest \
		--tables="$tables" --table-size="$table_rows" --threads=2 prepare >"$work/sysbench.log"
	rows_ok source || die "sysbench prepare did not leave $tables x $table_rows rows"
	sql source -e "RESET MASTER"
fi
if ! rows_ok target || [ "$(sql source -e "CHECKSUM TABLE $list")" != "$(sql target -e "CHECKSUM TABLE $list")" ]; then
	say "target: copying sbtest with tidm migrate"
	sql target -e "DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS tidm_meta"
	"$tidm" migrate "$work/job.yaml" --ignore-warnings >"$work/migrate.log" 2>&1 || die "tidm migrate failed (log $work/migrate.log)"
	[ "$(sql source -e "CHECKSUM TABLE $list")" = "$(sql target -e "CHECKSUM TABLE $list")" ] ||
		die "the copy differs from the source (CHECKSUM TABLE)"
fi
quiesce source
quiesce target
# Buffer pools that hold the data (473 MiB a side; testdb's default is 256 MiB, with
# O_DIRECT): otherwise every contender reads from disk and finds what the one before it
# left in the pool, so the order of the contenders decides more than their work.
for side in source target; do
	sql "$side" -e "SET GLOBAL innodb_buffer_pool_size = 1073741824"
done
sleep 2
# warm both buffer pools the same way for every contender
sql source -e "CHECKSUM TABLE $list" >/dev/null
sql target -e "CHECKSUM TABLE $list" >/dev/null

run_checksum() {
	local t0 t1 a b
	t0=$(now)
	sql source -e "CHECKSUM TABLE $list" >"$work/cs-source" &
	a=$!
	sql target -e "CHECKSUM TABLE $list" >"$work/cs-target" &
	b=$!
	wait "$a" && wait "$b" || die "CHECKSUM TABLE failed"
	t1=$(now)
	wall=$(sub "$t1" "$t0")
	cmp -s "$work/cs-source" "$work/cs-target" || die "CHECKSUM TABLE: the sides differ"
}

run_fullread() {
	local t0 t1 a b port pw side f
	rm -rf "$work/dump-source" "$work/dump-target"
	t0=$(now)
	for side in source target; do
		if [ "$side" = source ]; then port=$TIDM_TEST_SOURCE_PORT pw=$TIDM_TEST_SOURCE_PASSWORD; else port=$TIDM_TEST_TARGET_PORT pw=$TIDM_TEST_TARGET_PASSWORD; fi
		mydumper -h 127.0.0.1 -P "$port" -u root -p "$pw" -B sbtest -t "$threads" --no-schemas --no-locks \
			-o "$work/dump-$side" >"$work/mydumper-$side.log" 2>&1 &
		if [ "$side" = source ]; then a=$!; else b=$!; fi
	done
	wait "$a" && wait "$b" || die "mydumper failed (logs in $work)"
	for f in "$work/dump-source"/sbtest.sbtest*.sql*; do
		cmp -s "$f" "$work/dump-target/${f##*/}" || die "full reads: ${f##*/} differs"
	done
	t1=$(now)
	wall=$(sub "$t1" "$t0")
	# untimed: the dumps' write-back must not slow whatever runs next
	rm -rf "$work/dump-source" "$work/dump-target"
	sync
}

run_tidm() {
	local t0 t1 out
	t0=$(now)
	out=$("$tidm" verify "$work/job.yaml" 2>"$work/verify.err") || die "tidm verify did not find the tables equal: $out $(cat "$work/verify.err")"
	t1=$(now)
	wall=$(sub "$t1" "$t0")
	case "$out" in *"$tables equal, 0 different"*) ;; *) die "tidm verify: unexpected report: $out" ;; esac
}

declare -a w_cs=() w_fr=() w_tidm=() q_cs=() q_fr=()
order=(cs fr tidm)
for ((round = 1; round <= rounds; round++)); do
	declare -A this=()
	for c in "${order[@]}"; do
		case $c in
		cs) run_checksum ;;
		fr) run_fullread ;;
		tidm) run_tidm ;;
		esac
		this[$c]=$wall
		say "round $round: $c $wall s"
	done
	w_cs+=("${this[cs]}")
	w_fr+=("${this[fr]}")
	w_tidm+=("${this[tidm]}")
	q_cs+=("$(div "${this[tidm]}" "${this[cs]}")")
	q_fr+=("$(div "${this[tidm]}" "${this[fr]}")")
	order=("${order[@]:1}" "${order[0]}")
	unset this
done
m_cs=$(median "${w_cs[@]}")
m_fr=$(median "${w_fr[@]}")
m_tidm=$(median "${w_tidm[@]}")
r_cs=$(median "${q_cs[@]}")
r_fr=$(median "${q_fr[@]}")
goal=$(awk -v r="$r_cs" 'BEGIN { print (r <= 1.5) ? "met" : "MISSED" }')
row() { printf '%-34s %8s %10s %14s\n' "$@"; }
echo "verify: $tables tables x $table_rows rows (sysbench), THREADS=$threads, median of $rounds round(s)"
row contender "wall s" "tidm/this" "goal"
row "CHECKSUM TABLE (both sides)" "$m_cs" "$r_cs" "<= 1.50 $goal"
row "full reads (mydumper x2 + cmp)" "$m_fr" "$r_fr" ""
row "tidm verify (row-exact)" "$m_tidm" "1.00" ""
echo "tidm/CHECKSUM TABLE per round: ${q_cs[*]}; tidm/full reads per round: ${q_fr[*]}"
