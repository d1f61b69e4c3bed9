#!/usr/bin/env bash
# decode.sh - binlog decoding speed: tidm against mariadb-binlog on one sysbench binlog.
#
#   bench/decode.sh [TIDM_BINARY]
#
# 1. Makes (once) a ROW-format binlog of at least BENCH_MIN_MB MB (default 200) written by
#    `sysbench oltp_write_only --tables=4 --table-size=100000` (prepare, then run in
#    30-second rounds until the file is big enough) on a throwaway MariaDB source started
#    with scripts/testdb.sh in its own directory, and caches it in <repo>/.bench-cache/
#    (gitignored). Later runs reuse the cached file; delete it to regenerate.
# 2. Times, on the same file, one after the other (each pinned to one core with taskset
#    when available, best of BENCH_RUNS runs, default 3):
#      tidm binlog decode --format json FILE > /dev/null
#      tidm binlog decode --no-output FILE      (decode every value, print nothing)
#      mariadb-binlog --base64-output=decode-rows -vv FILE > /dev/null
#    and prints seconds, MB/s, and the speed ratios. The issue's goals: tidm --format json
#    at least 10x mariadb-binlog, and decode-only >= 400 MB/s on one core.
#
# Environment: BENCH_MIN_MB, BENCH_RUNS, BENCH_CACHE (cache directory), SYSBENCH_THREADS
# (default 2). Needs sysbench, mariadbd (via testdb.sh) and mariadb-binlog.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${BENCH_CACHE:-$top/.bench-cache}
min_mb=${BENCH_MIN_MB:-200}
runs=${BENCH_RUNS:-3}
threads=${SYSBENCH_THREADS:-2}
tidm=${1:-}
binlog=$cache/sysbench-oltp_write_only.binlog

die() {
	echo "bench: $*" >&2
	exit 1
}

if [ -z "$tidm" ]; then
	for cand in "$top/build/tidm" "$top"/build*/tidm; do
		if [ -x "$cand" ]; then
			tidm=$cand
			break
		fi
	done
fi
[ -n "$tidm" ] && [ -x "$tidm" ] || die "no tidm binary; pass its path (an optimised build without sanitizers)"
command -v mariadb-binlog >/dev/null || die "mariadb-binlog not installed"

size_mb() { echo $(($(stat -c %s "$1") / 1048576)); }

generate() {
	local tdir=$cache/testdb cur base file
	command -v sysbench >/dev/null || die "sysbench not installed"
	mkdir -p "$cache"
	export TIDM_TESTDB_DIR=$tdir
	"$top/scripts/testdb.sh" start >&2
	# shellcheck disable=SC1090
	eval "$("$top/scripts/testdb.sh" env)"
	trap '"$top/scripts/testdb.sh" stop >&2 || true' EXIT
	sql() { "$top/scripts/testdb.sh" sql source -N -B -e "$1"; }
	sql "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest; RESET MASTER"
	local sb=(sysbench oltp_write_only --db-driver=mysql --mysql-host="$TIDM_TEST_SOURCE_HOST"
		--mysql-port="$TIDM_TEST_SOURCE_PORT" --mysql-user="$TIDM_TEST_SOURCE_USER"
		--mysql-password="$TIDM_TEST_SOURCE_PASSWORD" --mysql-db=sbtest
		--tables=4 --table-size=100000 --threads="$threads")
	echo "bench: sysbench prepare (4 tables x 100000 rows)" >&2
	"${sb[@]}" prepare >/dev/null
	base=$(sql "SELECT @@log_bin_basename")
	file=$(sql "SHOW MASTER STATUS" | awk '{print $1}')
	cur=$(dirname "$base")/$file
	while [ "$(size_mb "$cur")" -lt "$min_mb" ]; do
		echo "bench: binlog $file is $(size_mb "$cur") MB; sysbench run 30 s" >&2
		"${sb[@]}" --time=30 --report-interval=0 run >/dev/null
		file=$(sql "SHOW MASTER STATUS" | awk '{print $1}')
		cur=$(dirname "$base")/$file
	done
	sql "FLUSH BINARY LOGS"
	cp "$cur" "$binlog.tmp"
	mv "$binlog.tmp" "$binlog"
	"$top/scripts/testdb.sh" stop >&2
	trap - EXIT
	echo "bench: cached $binlog ($(size_mb "$binlog") MB)" >&2
}

if [ ! -s "$binlog" ] || [ "$(size_mb "$binlog")" -lt "$min_mb" ]; then
	generate
fi

bytes=$(stat -c %s "$binlog")
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi

# best wall-clock seconds of $runs runs of "$@" (stdout to /dev/null)
best_of() {
	local best="" t i tf
	tf=$(mktemp)
	for ((i = 0; i < runs; i++)); do
		/usr/bin/time -f %e -o "$tf" "${pin[@]}" "$@" >/dev/null 2>&1 || true
		t=$(tail -1 "$tf")
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$t; fi
	done
	rm -f "$tf"
	echo "$best"
}

mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN{ if (s <= 0) s = 0.001; printf "%.1f", b / 1048576 / s }'; }

# Sanity: each tool must decode the whole file without an error.
"$tidm" binlog decode --no-output "$binlog" || die "tidm failed to decode $binlog"
mariadb-binlog --base64-output=decode-rows -vv "$binlog" >/dev/null || die "mariadb-binlog failed on $binlog"

echo "binlog: $binlog ($(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1048576}') MB), best of $runs runs, ${pin[*]:-unpinned}"
t_json=$(best_of "$tidm" binlog decode --format json "$binlog")
t_none=$(best_of "$tidm" binlog decode --no-output "$binlog")
t_mdb=$(best_of mariadb-binlog --base64-output=decode-rows -vv "$binlog")
printf '%-52s %8.2f s %9s MB/s\n' "tidm binlog decode --format json" "$t_json" "$(mbps "$t_json")"
printf '%-52s %8.2f s %9s MB/s\n' "tidm binlog decode --no-output (decode only)" "$t_none" "$(mbps "$t_none")"
printf '%-52s %8.2f s %9s MB/s\n' "mariadb-binlog --base64-output=decode-rows -vv" "$t_mdb" "$(mbps "$t_mdb")"
awk -v j="$t_json" -v n="$t_none" -v m="$t_mdb" 'BEGIN{
	if (j <= 0) j = 0.001; if (n <= 0) n = 0.001;
	printf "ratio json/mariadb-binlog: %.1fx (goal >= 10x)\n", m / j;
	printf "ratio decode-only/mariadb-binlog: %.1fx\n", m / n }'
echo "goal decode-only >= 400 MB/s: $(awk -v s="$(mbps "$t_none")" 'BEGIN{print (s >= 400) ? "met" : "NOT met"}')"
