#!/usr/bin/env bash
# full.sh - full-migration speed: `tidm migrate` (type full) against mydumper + myloader and
# against server-side LOAD DATA INFILE (the ingest limit), all in the same run.
#
#   bench/full.sh            run the comparison (servers and sysbench data are kept)
#   bench/full.sh --clean    stop this benchmark's servers and remove its cache
#
# Setup (once, cached): a throwaway source and target MariaDB (scripts/testdb.sh in
# <repo>/.bench-cache/testdb-full, never anyone else's servers) and, in the source,
# `sysbench oltp_read_write --tables=8 --table-size=250000 prepare` in database sbtest
# (and sbtest_big, 2 x 1,000,000 rows, with BIG=1). Later runs reuse them when the row
# counts are right.
#
# Each round runs the three contenders (the order rotates from round to round), each
# from an empty target (sbtest and tidm_meta dropped, dirty pages flushed) with THREADS
# threads, and checks afterwards that CHECKSUM TABLE of every table equals the source's:
#   mydumper+myloader  mydumper -t N to a local directory, then myloader -t N; the sum of
#                      both wall times. Both at their defaults (myloader 0.10 does not
#                      write the target's binlog; neither does tidm by default).
#   LOAD DATA          the ingest limit: the rows are written untimed with SELECT ... INTO
#                      OUTFILE on the source, the same CREATE TABLEs (with the secondary
#                      index) made on the target, then only the LOAD DATA INFILE phase is
#                      timed: N parallel sessions, a table at a time, sql_log_bin=0.
#   tidm               /usr/bin/time -v tidm migrate JOB (dump-threads = load-threads = N):
#                      wall time and peak RSS.
# The median of each contender over ROUNDS rounds is reported (and, with ROUNDS > 1, the
# ratios within each round, less disturbed by a busy machine) with the goals of the
# issue: tidm <= 0.9 x mydumper+myloader, tidm <= 1.3 x LOAD DATA, tidm peak RSS
# < 256 MiB independent of table size (BIG=1 adds a tidm run on 2 x 1,000,000 rows).
# Per run it also shows (stderr) the CPU seconds of the client tool and of both servers
# and the bytes the target wrote to its binlog (none should log the rows); the table has the
# median CPU seconds of the target server, a figure less disturbed by other load on the
# machine than wall time. tidm's peak RSS is the largest of the rounds.
#
# Environment: THREADS (default 4), ROUNDS (default 1), BIG=1, LOADDATA_BULK=1 (the LOAD
# DATA sessions also set unique_checks=0 and foreign_key_checks=0, which lets MariaDB
# 10.6+ build the indexes of the empty tables in bulk: a stricter limit than the same
# ingest with the settings the other two use), TIDM_BIN (default: a
# Release build in <repo>/build-bench, built when missing), BENCH_CACHE (default
# <repo>/.bench-cache). Needs sysbench, mydumper, myloader, mariadb client, /usr/bin/time.
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
tables=8
table_rows=250000
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

run_loaddata() {
	local s i t0 t1 pids=() stmts rc=0
	sql target -e "SET SESSION sql_log_bin = 0; CREATE DATABASE sbtest"
	for ((i = 1; i <= tables; i++)); do
		sql target sbtest -e "SET SESSION sql_log_bin = 0; ${create_sql[i]}"
	done
	quiesce target
	t0=$(now)
	for ((s = 0; s < threads; s++)); do
		stmts=""
		for ((i = s + 1; i <= tables; i += threads)); do
			stmts+=" LOAD DATA INFILE '$outdir/sbtest$i.tsv' INTO TABLE sbtest.sbtest$i;"
		done
		[ -n "$stmts" ] || continue
		stmts="$ld_session$stmts"
		sql target -e "$stmts" >"$work/loaddata-$s.log" 2>&1 &
		pids+=($!)
	done
	for s in "${pids[@]}"; do wait "$s" || rc=1; done
	t1=$(now)
	[ "$rc" = 0 ] || die "LOAD DATA INFILE failed (logs $work/loaddata-*.log)"
	wall=$(sub "$t1" "$t0")
	tool_cpu=0.00
	detail="$tables files, $(du -sm "$outdir" | cut -f1) MiB, $threads sessions${ld_bulk:+, unique_checks=0}"
}

write_job() {
	local file=$1 db=$2
	cat >"$file" <<EOF
name: bench-full-$db
type: full
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
	local db=${1:-sbtest} job=$work/job-${1:-sbtest}.yaml log=$work/tidm-${1:-sbtest}.log t0 t1
	write_job "$job" "$db"
	t0=$(now)
	/usr/bin/time -v -o "$work/time-tidm" "$tidm" migrate "$job" >"$log" 2>&1 ||
		die "tidm migrate failed (log $log): $(tail -c 600 "$log")"
	t1=$(now)
	wall=$(sub "$t1" "$t0")
	tool_cpu=$(time_cpu "$work/time-tidm")
	rss_kb=$(time_rss "$work/time-tidm")
	detail="peak RSS $((rss_kb / 1024)) MiB"
}

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
	# MariaDB 10.6+ builds the indexes of an empty table in bulk under these settings
	# (a stricter limit than the others get: they keep unique_checks on).
	ld_session+=" SET SESSION unique_checks = 0, foreign_key_checks = 0;" ld_bulk=1
fi
failed=0
declare -a w_mdl=() w_ld=() w_tidm=() c_mdl=() c_ld=() c_tidm=() rss_tidm=() q_mdl=() q_ld=()
names=(mydumper+myloader "LOAD DATA INFILE" "tidm migrate")
fns=(run_mdl run_loaddata run_tidm)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "$tables tables x $table_rows rows, THREADS=$threads, ROUNDS=$rounds, tidm: copy of $tidm_from ($(stat -c %y "$tidm_from" | cut -d. -f1))"
for ((r = 0; r < rounds; r++)); do
	say "round $((r + 1)) of $rounds"
	for ((k = 0; k < 3; k++)); do
		c=$(((r + k) % 3))
		run "${names[c]}" "${fns[c]}" sbtest "$tables"
		case $c in
		0) w_mdl+=("$wall") c_mdl+=("$tgt_cpu") ;;
		1) w_ld+=("$wall") c_ld+=("$tgt_cpu") ;;
		2) w_tidm+=("$wall") c_tidm+=("$tgt_cpu") rss_tidm+=("$rss_kb") ;;
		esac
	done
	# Ratios within the round: the load of the machine changes less within a round than
	# from one round to the next.
	q_mdl+=("$(div "${w_tidm[r]}" "${w_mdl[r]}")") q_ld+=("$(div "${w_tidm[r]}" "${w_ld[r]}")")
done
big_wall="" big_rss=""
if [ "$big" = 1 ]; then
	say "tidm on $big_tables tables x $big_rows rows (peak RSS against table size)"
	run "tidm migrate (big)" run_tidm sbtest_big "$big_tables"
	big_wall=$wall big_rss=$((rss_kb / 1024))
fi
reset_target
rm -rf "$outdir"

# --- report -------------------------------------------------------------------------------
m_mdl=$(median "${w_mdl[@]}")
m_ld=$(median "${w_ld[@]}")
m_tidm=$(median "${w_tidm[@]}")
rss_mib=$(($(printf '%s\n' "${rss_tidm[@]}" | sort -n | tail -1) / 1024))
r_mdl=$(div "$m_tidm" "$m_mdl")
r_ld=$(div "$m_tidm" "$m_ld")
verdict() { awk -v v="$1" -v g="$2" 'BEGIN{ print (v <= g) ? "PASS" : "MISS" }'; }

mc_mdl=$(median "${c_mdl[@]}")
mc_ld=$(median "${c_ld[@]}")
mc_tidm=$(median "${c_tidm[@]}")
row() { printf '%-30s %8s %10s %8s %7s %13s %10s\n' "$@"; }

echo
echo "full migration: $tables tables x $table_rows rows (sysbench), THREADS=$threads, median of $rounds round(s)"
echo "machine: $(nproc) cores, load average $load_before before / $(cut -d' ' -f1-3 /proc/loadavg) after"
row contender "wall s" "tidm/this" goal result "target cpu s" "tidm/this"
row "mydumper+myloader" "$m_mdl" "$r_mdl" "<= 0.90" "$(verdict "$r_mdl" 0.90)" "$mc_mdl" "$(div "$mc_tidm" "$mc_mdl")"
row "LOAD DATA INFILE${ld_bulk:+ bulk} (limit)" "$m_ld" "$r_ld" "<= 1.30" "$(verdict "$r_ld" 1.30)" "$mc_ld" "$(div "$mc_tidm" "$mc_ld")"
row "tidm migrate" "$m_tidm" "1.00" "" "" "$mc_tidm" "1.00"
row "tidm peak RSS MiB (max)" "$rss_mib" "" "< 256" "$(verdict "$rss_mib" 255)" ""
if [ "$rounds" -gt 1 ]; then
	echo "tidm/mydumper+myloader per round: ${q_mdl[*]} (median $(median "${q_mdl[@]}"))"
	echo "tidm/LOAD DATA per round: ${q_ld[*]} (median $(median "${q_ld[@]}"))"
fi
if [ -n "$big_rss" ]; then
	row "tidm peak RSS MiB, big" "$big_rss" "" "< 256" "$(verdict "$big_rss" 255)" ""
	echo "(big: $big_tables tables x $big_rows rows, copied in $big_wall s; peak RSS $big_rss MiB against $rss_mib MiB on $tables x $table_rows)"
fi
if [ "$failed" != 0 ]; then
	echo "CORRECTNESS CHECK FAILED in at least one run (see the lines above)"
	exit 1
fi
