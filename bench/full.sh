#!/usr/bin/env bash
# full.sh - full-migration speed, all contenders in the same run on the same data:
# `tidm migrate` in mode physical and in mode logical, mydumper + myloader, and two
# server-side ingest limits (LOAD DATA INFILE of local files).
#
#   bench/full.sh            run the comparison (servers and sysbench data are kept)
#   bench/full.sh --clean    stop this benchmark's servers and remove its cache
#
# Setup (once, cached): a throwaway source and target MariaDB (scripts/testdb.sh in
# <repo>/.bench-cache/testdb-full, never anyone else's servers) and, in the source,
# `sysbench oltp_read_write --tables=TABLES --table-size=TABLE_ROWS prepare` in database
# sbtest (and sbtest_big, 2 x 1,000,000 rows, with BIG=1). Later runs reuse them when the
# row counts are right.
#
# Each round runs the contenders (the order rotates from round to round), each from an
# empty target (sbtest and tidm_meta dropped, dirty pages flushed) with THREADS threads,
# and checks afterwards that CHECKSUM TABLE of every table equals the source's:
#   tidm physical      /usr/bin/time -v tidm migrate JOB with mode: physical (one target
#                      transaction per table, unique_checks=0, plain LOAD DATA, secondary
#                      indexes after the rows): wall time and peak RSS.
#   tidm logical       the same job with mode: logical (LOAD DATA ... REPLACE in chunks).
#   mydumper+myloader  mydumper -t N to a local directory, then myloader -t N; the sum of
#                      both wall times. Both at their defaults (myloader 0.10 does not
#                      write the target's binlog; neither does tidm by default).
#   LOAD DATA as is    ingest limit 1: the rows are written untimed with SELECT ... INTO
#                      OUTFILE on the source, the same CREATE TABLEs (with the secondary
#                      index) made on the target, then only the LOAD DATA INFILE phase is
#                      timed: N parallel sessions, a table at a time, sql_log_bin=0.
#   LOAD DATA + index  ingest limit 2: the same into tables created without their secondary
#                      indexes, then ALTER TABLE ... ADD INDEX (N sessions), both timed.
# The median of each contender over ROUNDS rounds is reported beside the others as ratios
# (and the spread), with the goals of issue 17: physical <= 0.9 x the better ingest limit,
# logical >= 1.5 x physical (physical at least 1.5 times as fast), logical <= 0.7 x
# mydumper+myloader, tidm's peak RSS < 256 MiB (BIG=1 adds a physical run on 2 x 1,000,000
# rows). Per run it also shows (stderr) the CPU seconds of the client tool and of both
# servers and the bytes the target wrote to its binlog (none should log the rows).
#
# Environment: TABLES (default 8), TABLE_ROWS (default 250000), THREADS (default 4),
# ROUNDS (default 1), BIG=1, ONLY (space-separated contender keys to run, of: physical
# logical mdl ld ldidx; default all), LOADDATA_BULK=1 (the LOAD DATA sessions also set
# unique_checks=0 and foreign_key_checks=0, which lets MariaDB 10.6+ build the indexes of
# the empty tables in bulk: a stricter limit), TIDM_BIN (default: a Release build in
# <repo>/build-bench, built when missing), BENCH_CACHE (default <repo>/.bench-cache).
# Needs sysbench, mydumper, myloader, mariadb client, /usr/bin/time.
# Exit status: 0 when every run finished and copied the right rows (goals MISSed or not),
# 1 otherwise.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cache=${BENCH_CACHE:-$top/.bench-cache}
threads=${THREADS:-4}
rounds=${ROUNDS:-1}
big=${BIG:-0}
tables=${TABLES:-8}
table_rows=${TABLE_ROWS:-250000}
big_tables=2
big_rows=1000000
export TIDM_TESTDB_DIR=$cache/testdb-full
work=$cache/full-work # dump directory, OUTFILE files, job files, logs

if [ "${1:-}" = --clean ]; then
	"$top/scripts/testdb.sh" stop >&2
	rm -rf "$work"
	exit 0
fi
[ $# -eq 0 ] || die "usage: bench/full.sh [--clean]"
case "$threads" in '' | *[!0-9]* | 0) die "THREADS must be a positive number" ;; esac
case "$rounds" in '' | *[!0-9]* | 0) die "ROUNDS must be a positive number" ;; esac
case "$tables" in '' | *[!0-9]* | 0) die "TABLES must be a positive number" ;; esac
case "$table_rows" in '' | *[!0-9]* | 0) die "TABLE_ROWS must be a positive number" ;; esac

for tool in sysbench mydumper myloader mariadb; do
	command -v "$tool" >/dev/null || die "$tool not installed"
done
[ -x /usr/bin/time ] || die "/usr/bin/time not installed (apt-get install time)"

# --- tidm binary --------------------------------------------------------------------------
bench_tidm
tidm_from=$tidm

# --- servers ------------------------------------------------------------------------------
mkdir -p "$cache" "$work"
# A private copy: every round runs the same binary even if the build tree is rebuilt.
cp "$tidm" "$work/tidm.bin"
tidm=$work/tidm.bin
"$top/scripts/testdb.sh" start >&2
# shellcheck disable=SC1090
eval "$("$top/scripts/testdb.sh" env)"

server_pid() { cat "$TIDM_TESTDB_DIR/$1/mariadbd.pid"; }

# --- sysbench data (cached in the source server) ------------------------------------------

# 0 when database $1 holds exactly the tables sbtest1..$2 with $3 rows each.
data_ok() {
	local db=$1 n=$2 rows=$3 have i c
	have=$(sql source -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$db'")
	[ "$have" = "$n" ] || return 1
	for ((i = 1; i <= n; i++)); do
		c=$(sql source -e "SELECT COUNT(*) FROM \`$db\`.sbtest$i" 2>/dev/null) || return 1
		[ "$c" = "$rows" ] || return 1
	done
}

prepare() {
	local db=$1 n=$2 rows=$3
	if data_ok "$db" "$n" "$rows"; then
		say "source: $db ($n x $rows rows) already there"
		return 0
	fi
	say "source: sysbench prepare $db ($n tables x $rows rows)"
	sql source -e "DROP DATABASE IF EXISTS \`$db\`; CREATE DATABASE \`$db\`"
	sysbench oltp_read_write --db-driver=mysql --mysql-host=127.0.0.1 \
		--mysql-port="$TIDM_TEST_SOURCE_PORT" --mysql-user=root \
		--mysql-password="$TIDM_TEST_SOURCE_PASSWORD" --mysql-db="$db" \
		--tables="$n" --table-size="$rows" --threads=2 prepare >"$work/sysbench-$db.log"
	data_ok "$db" "$n" "$rows" || die "sysbench prepare of $db did not leave $n x $rows rows"
	# The prepare's binlog is of no use here; keep the source's disk small.
	sql source -e "RESET MASTER"
	quiesce source
}

prepare sbtest "$tables" "$table_rows"
[ "$big" = 1 ] && prepare sbtest_big "$big_tables" "$big_rows"

# Source checksums, once (the source does not change during the benchmark).
declare -A src_sum=()
for db in sbtest sbtest_big; do
	[ "$db" = sbtest_big ] && [ "$big" != 1 ] && continue
	while read -r name sum; do src_sum[$name]=$sum; done < <(sql source -e \
		"CHECKSUM TABLE $(sql source -e "SELECT GROUP_CONCAT(CONCAT('\`$db\`.', table_name) ORDER BY table_name) FROM information_schema.tables WHERE table_schema = '$db'")")
done

# Compare every table of database $1 on the target with the source (CHECKSUM TABLE).
check_target() {
	local db=$1 n=$2 i name sum list="" bad=0
	for ((i = 1; i <= n; i++)); do list+="${list:+,}\`$db\`.sbtest$i"; done
	while read -r name sum; do
		if [ "$sum" != "${src_sum[$name]:-}" ]; then
			say "CHECK FAILED: $name: target checksum $sum, source ${src_sum[$name]:-?}"
			bad=1
		fi
	done < <(sql target -e "CHECKSUM TABLE $list" 2>&1)
	return "$bad"
}

reset_target() {
	sql target -e "DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS sbtest_big; DROP DATABASE IF EXISTS tidm_meta"
	quiesce target
}

# --- LOAD DATA files (untimed preparation) -----------------------------------------------
fpriv_s=$(sql source -e "SELECT IFNULL(@@GLOBAL.secure_file_priv, 'NULL')")
fpriv_t=$(sql target -e "SELECT IFNULL(@@GLOBAL.secure_file_priv, 'NULL')")
# Empty, or NULL on MariaDB (not set): any path; a directory: only there; NULL on MySQL:
# disabled (the statements below then fail with a clear server error).
if [[ "$fpriv_s" =~ ^(|NULL)$ ]] && [[ "$fpriv_t" =~ ^(|NULL)$ ]]; then
	outdir=$work/outfile
elif [ "$fpriv_s" = "$fpriv_t" ]; then
	outdir=${fpriv_s%/}/tidm-bench-full
else
	die "secure_file_priv is '$fpriv_s' on the source and '$fpriv_t' on the target; SELECT INTO OUTFILE / LOAD DATA INFILE need one directory both may use"
fi
rm -rf "$outdir"
mkdir -p "$outdir"
chmod 777 "$outdir" # the servers may run as another user than this script
say "source: SELECT ... INTO OUTFILE to $outdir (untimed)"
for ((i = 1; i <= tables; i++)); do
	sql source -e "SELECT * FROM sbtest.sbtest$i INTO OUTFILE '$outdir/sbtest$i.tsv'"
done
declare -a create_sql=()
for ((i = 1; i <= tables; i++)); do
	# -r: the statement as it is (newlines not escaped); drop the table-name column.
	create_sql[i]=$(sql source -r -e "SHOW CREATE TABLE sbtest.sbtest$i" | sed '1s/^[^\t]*\t//')
done
# Limit 2's tables: the secondary indexes left out of CREATE TABLE, added after the rows.
declare -a create_noidx=() add_index=()
for ((i = 1; i <= tables; i++)); do
	create_noidx[i]=$(printf '%s\n' "${create_sql[i]}" | grep -v -E '^ *(UNIQUE |FULLTEXT |SPATIAL )?KEY ' | sed -z 's/,\n)/\n)/')
	add_index[i]=$(printf '%s\n' "${create_sql[i]}" | grep -E '^ *(UNIQUE |FULLTEXT |SPATIAL )?KEY ' | sed -e 's/^ */ADD /' -e 's/,$//' | paste -sd, -)
	[ -n "${add_index[i]}" ] || die "sbtest$i has no secondary index to add"
done

# --- contenders ---------------------------------------------------------------------------
# Each sets: wall (seconds), tool_cpu, and optionally detail, rss_kb.

run_mdl() {
	local dir=$work/mydumper t0 t1 t2 log=$work/mydumper.log
	rm -rf "$dir"
	t0=$(now)
	/usr/bin/time -v -o "$work/time-mydumper" mydumper -h 127.0.0.1 -P "$TIDM_TEST_SOURCE_PORT" -u root \
		-p "$TIDM_TEST_SOURCE_PASSWORD" -B sbtest -t "$threads" -o "$dir" >"$log" 2>&1 ||
		die "mydumper failed (log $log)"
	t1=$(now)
	/usr/bin/time -v -o "$work/time-myloader" myloader -h 127.0.0.1 -P "$TIDM_TEST_TARGET_PORT" -u root \
		-p "$TIDM_TEST_TARGET_PASSWORD" -d "$dir" -t "$threads" >"$work/myloader.log" 2>&1 ||
		die "myloader failed (log $work/myloader.log)"
	t2=$(now)
	wall=$(sub "$t2" "$t0")
	tool_cpu=$(add "$(time_cpu "$work/time-mydumper")" "$(time_cpu "$work/time-myloader")")
	detail="dump $(sub "$t1" "$t0") + load $(sub "$t2" "$t1") s, dump $(du -sm "$dir" | cut -f1) MiB"
	rm -rf "$dir"
}

# THREADS sessions on the target; session s runs the statements (printed by FN I) of
# tables s+1, s+1+THREADS, ...
parallel_sql() {
	local what=$1 fn=$2 s i pids=() stmts rc=0
	for ((s = 0; s < threads; s++)); do
		stmts=""
		for ((i = s + 1; i <= tables; i += threads)); do stmts+=" $("$fn" "$i")"; done
		[ -n "$stmts" ] || continue
		sql target -e "$ld_session$stmts" >"$work/$what-$s.log" 2>&1 &
		pids+=($!)
	done
	for s in "${pids[@]}"; do wait "$s" || rc=1; done
	[ "$rc" = 0 ] || die "$what failed (logs $work/$what-*.log)"
}
load_stmt() { echo "LOAD DATA INFILE '$outdir/sbtest$1.tsv' INTO TABLE sbtest.sbtest$1;"; }
index_stmt() { echo "ALTER TABLE sbtest.sbtest$1 ${add_index[$1]};"; }

create_tables() {
	local i
	sql target -e "SET SESSION sql_log_bin = 0; CREATE DATABASE sbtest"
	for ((i = 1; i <= tables; i++)); do
		if [ "$1" = without-indexes ]; then
			sql target sbtest -e "SET SESSION sql_log_bin = 0; ${create_noidx[i]}"
		else
			sql target sbtest -e "SET SESSION sql_log_bin = 0; ${create_sql[i]}"
		fi
	done
	quiesce target
}

run_loaddata() {
	local t0 t1
	create_tables with-indexes
	t0=$(now)
	parallel_sql loaddata load_stmt
	t1=$(now)
	wall=$(sub "$t1" "$t0")
	tool_cpu=0.00
	detail="$tables files, $(du -sm "$outdir" | cut -f1) MiB, $threads sessions${ld_bulk:+, unique_checks=0}"
}

run_loaddata_idx() {
	local t0 t1 t2
	create_tables without-indexes
	t0=$(now)
	parallel_sql loaddata load_stmt
	t1=$(now)
	parallel_sql addindex index_stmt
	t2=$(now)
	wall=$(sub "$t2" "$t0")
	tool_cpu=0.00
	detail="load $(sub "$t1" "$t0") + ADD INDEX $(sub "$t2" "$t1") s, $threads sessions${ld_bulk:+, unique_checks=0}"
}

write_job() {
	local file=$1 db=$2 mode=$3
	cat >"$file" <<EOF
name: bench-full-$db-$mode
type: full
mode: $mode
source:
  host: 127.0.0.1
  port: $TIDM_TEST_SOURCE_PORT
  user: root
  password-env: TIDM_TEST_SOURCE_PASSWORD
target:
  host: 127.0.0.1
  port: $TIDM_TEST_TARGET_PORT
  user: root
  password-env: TIDM_TEST_TARGET_PASSWORD
objects:
  databases: [$db]
spec:
  dump-threads: $threads
  load-threads: $threads
EOF
}

run_tidm() {
	local mode=$1 db=${2:-sbtest} job log t0 t1
	job=$work/job-$db-$mode.yaml log=$work/tidm-$db-$mode.log
	write_job "$job" "$db" "$mode"
	t0=$(now)
	/usr/bin/time -v -o "$work/time-tidm" "$tidm" migrate "$job" >"$log" 2>&1 ||
		die "tidm migrate failed (log $log): $(tail -c 600 "$log")"
	t1=$(now)
	wall=$(sub "$t1" "$t0")
	tool_cpu=$(time_cpu "$work/time-tidm")
	rss_kb=$(time_rss "$work/time-tidm")
	detail="peak RSS $((rss_kb / 1024)) MiB"
}
run_physical() { run_tidm physical "$@"; }
run_logical() { run_tidm logical "$@"; }

# run NAME FN DB NTABLES: reset the target, run contender FN, check it, print a line.
run() {
	local name=$1 fn=$2 db=$3 n=$4 s0 t0 b0 s1 t1 b1 ok=ok
	reset_target
	s0=$(cpu_of "$(server_pid source)") t0=$(cpu_of "$(server_pid target)") b0=$(binlog_bytes target)
	detail="" rss_kb=0
	"$fn" "$db"
	s1=$(cpu_of "$(server_pid source)") t1=$(cpu_of "$(server_pid target)") b1=$(binlog_bytes target)
	tgt_cpu=$(sub "$t1" "$t0")
	check_target "$db" "$n" || ok=WRONG
	[ "$ok" = ok ] || failed=1
	printf 'bench:   %-20s %8.2f s  check %-5s cpu: tool %.1f s, source %.1f s, target %.1f s; target binlog +%d B; %s\n' \
		"$name" "$wall" "$ok" "$tool_cpu" "$(sub "$s1" "$s0")" "$tgt_cpu" "$((b1 - b0))" "$detail" >&2
}

ld_session="SET SESSION sql_log_bin = 0;" ld_bulk=""
if [ "${LOADDATA_BULK:-0}" = 1 ]; then
	ld_session+=" SET SESSION unique_checks = 0, foreign_key_checks = 0;" ld_bulk=1
fi
failed=0
keys=(physical logical mdl ld ldidx)
declare -A label=([physical]="tidm physical" [logical]="tidm logical" [mdl]="mydumper+myloader"
	[ld]="LOAD DATA as is" [ldidx]="LOAD DATA + index")
declare -A fn=([physical]=run_physical [logical]=run_logical [mdl]=run_mdl [ld]=run_loaddata
	[ldidx]=run_loaddata_idx)
declare -A walls=() cpus=()
active=()
for k in "${keys[@]}"; do
	case " ${ONLY:-${keys[*]}} " in *" $k "*) active+=("$k") ;; esac
done
[ "${#active[@]}" -gt 0 ] || die "ONLY names none of: ${keys[*]}"
rss_max=0
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "$tables tables x $table_rows rows, THREADS=$threads, ROUNDS=$rounds, tidm: copy of $tidm_from ($(stat -c %y "$tidm_from" | cut -d. -f1))"
for ((r = 0; r < rounds; r++)); do
	say "round $((r + 1)) of $rounds"
	for ((j = 0; j < ${#active[@]}; j++)); do
		k=${active[(r + j) % ${#active[@]}]}
		run "${label[$k]}" "${fn[$k]}" sbtest "$tables"
		walls[$k]+="$wall "
		cpus[$k]+="$tgt_cpu "
		case $k in physical | logical) [ "$rss_kb" -gt "$rss_max" ] && rss_max=$rss_kb ;; esac
	done
done
big_wall="" big_rss=""
if [ "$big" = 1 ]; then
	say "tidm physical on $big_tables tables x $big_rows rows (peak RSS against table size)"
	run "tidm physical (big)" run_physical sbtest_big "$big_tables"
	big_wall=$wall big_rss=$((rss_kb / 1024))
fi
reset_target
rm -rf "$outdir"

# --- report -------------------------------------------------------------------------------
declare -A med=() medc=()
for k in "${active[@]}"; do
	# shellcheck disable=SC2086
	med[$k]=$(median ${walls[$k]})
	# shellcheck disable=SC2086
	medc[$k]=$(median ${cpus[$k]})
done
verdict() { awk -v v="$1" -v g="$2" -v dir="${3:-le}" 'BEGIN{ print (dir == "le" ? v <= g : v >= g) ? "PASS" : "MISS" }'; }
row() { printf '%-20s %8s %9s %9s %13s %9s  %s\n' "$@"; }

echo
echo "full migration: $tables tables x $table_rows rows (sysbench), THREADS=$threads, median of $rounds round(s)"
echo "machine: $(nproc) cores, load average $load_before before / $(cut -d' ' -f1-3 /proc/loadavg) after"
row contender "wall s" "x phys." "x logical" "target cpu s" "cpu x ph." "spread (min..max wall s)"
for k in "${active[@]}"; do
	# shellcheck disable=SC2086
	spread=$(printf '%s\n' ${walls[$k]} | sort -g | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%s..%s", a, b }')
	row "${label[$k]}" "${med[$k]}" "${med[physical]:+$(div "${med[$k]}" "${med[physical]:-1}")}" \
		"${med[logical]:+$(div "${med[$k]}" "${med[logical]:-1}")}" "${medc[$k]}" \
		"${medc[physical]:+$(div "${medc[$k]}" "${medc[physical]:-1}")}" "$spread"
done
echo "(x phys.: this contender's wall time / tidm physical's, above 1 = slower than physical; cpu x ph.:"
echo " the same for the target server's CPU seconds, steadier than wall time on a busy machine)"
echo
echo "goals (issue 17):"
goal() { printf '  %-50s %6s  goal %-7s %s\n' "$1" "$2" "$3" "$4"; }
if [ -n "${med[physical]:-}" ]; then
	best=""
	for k in ld ldidx; do
		[ -n "${med[$k]:-}" ] || continue
		if [ -z "$best" ] || awk -v a="${med[$k]}" -v b="${med[$best]}" 'BEGIN{ exit !(a < b) }'; then best=$k; fi
	done
	if [ -n "$best" ]; then
		q=$(div "${med[physical]}" "${med[$best]}")
		goal "physical / better ingest limit (${label[$best]})" "$q" "<= 0.90" "$(verdict "$q" 0.90)"
	fi
	if [ -n "${med[logical]:-}" ]; then
		q=$(div "${med[logical]}" "${med[physical]}")
		goal "logical / physical (speed-up of physical)" "$q" ">= 1.50" "$(verdict "$q" 1.50 ge)"
	fi
fi
if [ -n "${med[logical]:-}" ] && [ -n "${med[mdl]:-}" ]; then
	q=$(div "${med[logical]}" "${med[mdl]}")
	goal "logical / mydumper+myloader" "$q" "<= 0.70" "$(verdict "$q" 0.70)"
fi
if [ "$rss_max" -gt 0 ]; then
	goal "tidm peak RSS MiB (max of its runs)" "$((rss_max / 1024))" "< 256" "$(verdict "$((rss_max / 1024))" 255)"
fi
if [ -n "$big_rss" ]; then
	goal "tidm physical peak RSS MiB, big" "$big_rss" "< 256" "$(verdict "$big_rss" 255)"
	echo "(big: $big_tables tables x $big_rows rows, copied in $big_wall s)"
fi
if [ "$failed" != 0 ]; then
	echo "CORRECTNESS CHECK FAILED in at least one run (see the lines above)"
	exit 1
fi
