#!/usr/bin/env bash
# incr.sh - incremental replication speed: tidm applying ~100,000 sysbench oltp_write_only
# transactions from the source's binlog against a native MariaDB replica applying the same
# binlog, all in the same run; then replication lag under a steady source load.
#
#   bench/incr.sh            run the comparison (the prepared state is cached)
#   bench/incr.sh --clean    stop this benchmark's servers and remove its cache
#
# Setup (once, cached in <repo>/.bench-cache): a throwaway source and target MariaDB
# (scripts/testdb.sh in .bench-cache/testdb-incr, never anyone else's servers). On the
# source: database bench with a heartbeat table bench.hb, `sysbench oltp_write_only
# --tables=TABLES --table-size=SIZE prepare`, copied to the target with mariadb-dump (not
# binlogged), so the target holds the pre-workload state; FLUSH BINARY LOGS and the start
# position (SHOW MASTER STATUS); then `sysbench oltp_write_only --events=EVENTS
# --threads=4 --rate=0 run` (at most 900 s) writes the workload into the binlog, and the
# end position is taken. Both servers are then shut down and their data directories copied
# to .bench-cache/incr/{source,target}.data. Every contender starts from a copy of
# target.data (server restarted, buffer pool warmed by a full scan of each table's primary
# and secondary index), and CHECKSUM TABLE of every sbtest table must equal the source's
# afterwards.
#
# Contenders (the target's binlog stays on as scripts/testdb.sh configures it, log-bin and
# log-slave-updates: the native replica writes what it applies to its binlog, and so does
# tidm, which does not turn sql_log_bin off while replicating):
#   native ...         the target as a MariaDB replica of the source: CHANGE MASTER TO the
#                      start file/position (MASTER_USE_GTID=no), timed from START SLAVE until
#                      MASTER_POS_WAIT(end file, end position) returns. Variants (NATIVE):
#                      single = slave_parallel_threads=0, MODE:N = slave_parallel_threads=N
#                      with slave_parallel_mode=MODE (optimistic, conservative, aggressive).
#                      Other replication settings at their defaults.
#   tidm workers=N     `tidm migrate JOB --until-caught-up` (type incremental, start: the
#                      start file/position, spec: apply-workers N, batch BATCH), wall time of
#                      the process, which exits once it has applied up to the source's
#                      position at its start (the end position).
# With ROUNDS > 1 every contender runs ROUNDS times and its fastest run counts. The goal
# compares the fastest tidm variant with the fastest native variant: tidm <= 1.0 x native
# (aim 0.7 x). Per run it also shows CPU seconds of tidm and both servers, and the bytes
# the target wrote to its binlog.
#
# Lag under load (LAG=0 skips it), twice: with the fastest native variant as the reference,
# then with tidm (the fastest worker count). Each time both servers go back to the cached
# state, the native replica brings the target to the end position (untimed), and the
# follower (the replica going on, or a new tidm job from the end position without
# --until-caught-up) applies what `sysbench oltp_write_only --rate=LAG_RATE
# --threads=LAG_THREADS --time=LAG_TIME` writes on the source. A client session on the
# source sets bench.hb.ts = NOW(6) every 50 ms (the table is in the job's selection); one
# on the target reads TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) every 100 ms: the lag of the
# target, plus up to 50 ms of heartbeat period. p50/p99/max over the samples taken while
# sysbench ran; goal for tidm: p99 < 1 s. The rate sysbench sustained is reported (it may
# be below LAG_RATE on a small machine: both servers, the follower and sysbench share its
# cores). Afterwards, once the target equals the source, tidm is stopped with SIGINT.
#
# A tidm run that shows no progress for STALL seconds (its progress log, every 10 s) is
# killed and counted as failed.
#
# Environment: TABLES (4), SIZE (100000), EVENTS (100000), WORKERS ("1 4 8"), BATCH (100),
# NATIVE ("single optimistic:4 conservative:4 optimistic:8"), ROUNDS (1), LAG (1),
# LAG_ONLY (0; 1: only the lag test, with the first NATIVE variant and the first WORKERS count;
# per-second CPU of both servers and tidm goes to .bench-cache/incr/lag-*-cpu),
# LAG_RATE (2000), LAG_TIME (30), LAG_THREADS (8), STALL (60), TIDM_BIN (default: a Release
# build in
# <repo>/build-bench, built when missing), BENCH_CACHE (<repo>/.bench-cache). Needs
# sysbench, mariadb, mariadb-dump, /usr/bin/time.
# Exit status: 0 when every run finished and left the right rows (goals MISSed or not),
# 1 otherwise.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cache=${BENCH_CACHE:-$top/.bench-cache}
tables=${TABLES:-4}
size=${SIZE:-100000}
events=${EVENTS:-100000}
workers_list=${WORKERS:-1 4 8}
batch=${BATCH:-100}
native_list=${NATIVE:-single optimistic:4 conservative:4 optimistic:8}
rounds=${ROUNDS:-1}
lag_on=${LAG:-1}
lag_only=${LAG_ONLY:-0}
lag_rate=${LAG_RATE:-2000}
lag_time=${LAG_TIME:-30}
lag_threads=${LAG_THREADS:-8}
stall=${STALL:-60}
export TIDM_TESTDB_DIR=$cache/testdb-incr
work=$cache/incr # data directory copies, state, job files, logs

# --- servers of this benchmark ------------------------------------------------------------

# The pid of our server $1 (source|target), empty when it does not run. Only a mariadbd
# started with this benchmark's my.cnf counts.
our_pid() {
	local sd=$TIDM_TESTDB_DIR/$1 pid
	pid=$(cat "$sd/mariadbd.pid" 2>/dev/null) || return 0
	case "$pid" in '' | *[!0-9]*) return 0 ;; esac
	kill -0 "$pid" 2>/dev/null || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$sd/my.cnf" || return 0
	echo "$pid"
}

# Shut down our server $1 cleanly (its data directory can then be copied).
stop_one() {
	local pid n=0
	pid=$(our_pid "$1")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null; do
		[ "$n" -ge 600 ] && die "the $1 server (pid $pid) did not shut down in 120 s"
		sleep 0.2
		n=$((n + 1))
	done
}

start_servers() {
	"$top/scripts/testdb.sh" start >/dev/null
	# shellcheck disable=SC1090
	eval "$("$top/scripts/testdb.sh" env)"
}

if [ "${1:-}" = --clean ]; then
	"$top/scripts/testdb.sh" stop >&2
	rm -rf "$work"
	exit 0
fi
[ $# -eq 0 ] || die "usage: bench/incr.sh [--clean]"
for v in tables size events batch rounds lag_rate lag_time lag_threads stall; do
	case "${!v}" in '' | *[!0-9]* | 0) die "${v^^} must be a positive number" ;; esac
done
for w in $workers_list; do
	case "$w" in '' | *[!0-9]* | 0) die "WORKERS must be positive numbers" ;; esac
done
for nv in $native_list; do
	case "$nv" in single | optimistic:[1-9]* | conservative:[1-9]* | aggressive:[1-9]* | minimal:[1-9]*) ;;
	*) die "NATIVE: unknown variant $nv (single, or MODE:N)" ;; esac
done
for tool in sysbench mariadb mariadb-dump; do
	command -v "$tool" >/dev/null || die "$tool not installed"
done
[ -x /usr/bin/time ] || die "/usr/bin/time not installed (apt-get install time)"

# --- tidm binary --------------------------------------------------------------------------
bench_tidm

# --- helpers ------------------------------------------------------------------------------

sb() { # sysbench oltp_write_only against the source, sbtest; extra args follow
	sysbench oltp_write_only --db-driver=mysql --mysql-host=127.0.0.1 \
		--mysql-port="$TIDM_TEST_SOURCE_PORT" --mysql-user=root \
		--mysql-password="$TIDM_TEST_SOURCE_PASSWORD" --mysql-db=sbtest \
		--tables="$tables" --table-size="$size" "$@"
}

# The sequence number of domain 0 in the source's gtid_binlog_pos (one per transaction).
gtid_seq() { sql source -e "SELECT @@GLOBAL.gtid_binlog_pos" | tr ',' '\n' | awk -F- '$1 == 0 { print $3 }' | tail -1; }
tlist() {
	local i l=""
	for ((i = 1; i <= tables; i++)); do l+="${l:+,}sbtest.sbtest$i"; done
	echo "$l"
}

# --- the cached state ---------------------------------------------------------------------
# $work/state: key=value lines, written last; the cache is valid when its parameters match.
state_get() { awk -F= -v k="$1" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' "$work/state"; }
cache_ok() {
	[ -f "$work/state" ] && [ -d "$work/source.data" ] && [ -d "$work/target.data" ] &&
		[ -f "$TIDM_TESTDB_DIR/source/ready" ] && [ -f "$TIDM_TESTDB_DIR/target/ready" ] &&
		[ "$(state_get params)" = "$tables/$size/$events" ]
}

build_cache() {
	local i sf sp ef ep g0 g1 sb_log=$work/sysbench-run.log
	say "preparing: $tables tables x $size rows, $events oltp_write_only transactions (cached in $work)"
	"$top/scripts/testdb.sh" stop >/dev/null
	rm -rf "$work"
	mkdir -p "$work"
	start_servers
	sql source -e "RESET MASTER; DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS bench;
		CREATE DATABASE sbtest; CREATE DATABASE bench;
		CREATE TABLE bench.hb (id INT PRIMARY KEY, ts TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6));
		INSERT INTO bench.hb VALUES (1, NOW(6))"
	say "source: sysbench prepare"
	sb --threads=2 prepare >"$work/sysbench-prepare.log" 2>&1 || die "sysbench prepare failed (log $work/sysbench-prepare.log)"
	say "target: copy of the prepared tables (mariadb-dump, not binlogged)"
	{
		echo "SET SESSION sql_log_bin = 0;"
		MYSQL_PWD=$TIDM_TEST_SOURCE_PASSWORD mariadb-dump --no-defaults --protocol=TCP -h127.0.0.1 \
			-P"$TIDM_TEST_SOURCE_PORT" -uroot --single-transaction --databases sbtest bench
	} | sql target || die "copying the prepared tables to the target failed"
	sql target -e "RESET MASTER"
	sql source -e "FLUSH BINARY LOGS"
	read -r sf sp _ < <(sql source -e "SHOW MASTER STATUS")
	g0=$(gtid_seq)
	say "source: sysbench oltp_write_only run, $events transactions, 4 threads, from $sf:$sp"
	sb --threads=4 --rate=0 --events="$events" --time=900 --report-interval=10 run >"$sb_log" 2>&1 ||
		die "sysbench run failed (log $sb_log)"
	read -r ef ep _ < <(sql source -e "SHOW MASTER STATUS")
	g1=$(gtid_seq)
	{
		echo "params=$tables/$size/$events"
		echo "start_file=$sf"
		echo "start_pos=$sp"
		echo "end_file=$ef"
		echo "end_pos=$ep"
		echo "txns=$((g1 - g0))"
		echo "binlog_bytes=$(sql source -e "SHOW BINARY LOGS" | awk -v f="$sf" '$1 >= f { s += $2 } END { print s + 0 }')"
		echo "end_seq=$g1"
		echo "workload=$(awk '/transactions:/ { gsub(/\(/, "", $3); print $2 " transactions at " $3 "/s" }' "$sb_log")"
		sql source -e "CHECKSUM TABLE $(tlist)" | awk '{ print "sum_" $1 "=" $2 }'
	} >"$work/state.tmp"
	quiesce source
	quiesce target
	stop_one source
	stop_one target
	cp -a "$TIDM_TESTDB_DIR/source/data" "$work/source.data"
	cp -a "$TIDM_TESTDB_DIR/target/data" "$work/target.data"
	mv "$work/state.tmp" "$work/state"
}

# Put data directory $1 (source|target) back to its cached copy; the server is restarted
# by the next start_servers.
restore() {
	stop_one "$1"
	rm -rf "$TIDM_TESTDB_DIR/$1/data"
	cp -a "$work/$1.data" "$TIDM_TESTDB_DIR/$1/data"
}

# Read every table's primary and secondary index once on SIDE (a restarted server has a
# cold buffer pool; all contenders start warm).
warm() {
	local side=$1 i
	for ((i = 1; i <= tables; i++)); do
		sql "$side" -e "SELECT COUNT(*), SUM(LENGTH(c)) FROM sbtest.sbtest$i FORCE INDEX (PRIMARY);
			SELECT SUM(k) FROM sbtest.sbtest$i FORCE INDEX (k_$i)" >/dev/null
	done
}

reset_target() {
	restore target
	start_servers
	warm target
}

mkdir -p "$cache"
if cache_ok; then
	say "reusing the prepared state in $work"
	# the lag test of an earlier run wrote to the source
	restore source
	restore target
	start_servers
else
	build_cache
	start_servers
fi
start_file=$(state_get start_file) start_pos=$(state_get start_pos)
end_file=$(state_get end_file) end_pos=$(state_get end_pos)
txns=$(state_get txns)
# A restarted source opens a new binlog file: tidm, which replicates up to the source's
# position when it starts, stops there (after no more transactions than the end position).
[ "$(gtid_seq)" = "$(state_get end_seq)" ] || die "the source has transactions after the workload (gtid_binlog_pos $(sql source -e "SELECT @@GLOBAL.gtid_binlog_pos")); run bench/incr.sh --clean"
read -r now_file now_pos _ < <(sql source -e "SHOW MASTER STATUS")
declare -A src_sum=()
while IFS='=' read -r k v; do
	case "$k" in sum_*) src_sum[${k#sum_}]=$v ;; esac
done <"$work/state"

# Compare every sbtest table on the target with the source after the workload.
check_target() {
	local name sum bad=0
	while read -r name sum; do
		if [ "$sum" != "${src_sum[$name]:-}" ]; then
			say "CHECK FAILED: $name: target checksum $sum, source ${src_sum[$name]:-?}"
			bad=1
		fi
	done < <(sql target -e "CHECKSUM TABLE $(tlist)" 2>&1)
	return "$bad"
}

# --- contenders ---------------------------------------------------------------------------
# Each sets wall (seconds), tool_cpu, detail; returns non-zero when the run failed.

# native_start VARIANT: make the target a replica of the source from the start position
# and start it; sets detail.
native_start() {
	local variant=$1 mode threads
	if [ "$variant" = single ]; then
		mode=conservative threads=0
	else
		mode=${variant%%:*} threads=${variant#*:}
	fi
	sql target -e "STOP SLAVE; RESET SLAVE ALL;
		SET GLOBAL slave_parallel_threads = $threads; SET GLOBAL slave_parallel_mode = '$mode';
		CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $TIDM_TEST_SOURCE_PORT,
			MASTER_USER = 'root', MASTER_PASSWORD = '$TIDM_TEST_SOURCE_PASSWORD',
			MASTER_LOG_FILE = '$start_file', MASTER_LOG_POS = $start_pos, MASTER_USE_GTID = no;
		START SLAVE" 2>/dev/null
	detail="slave_parallel_threads=$threads mode=$mode"
}

# native_wait: until the replica has executed up to the end position; 1 when it did not.
native_wait() {
	local r i=0 log=$work/native.log
	r=$(sql target -e "SELECT MASTER_POS_WAIT('$end_file', $end_pos, 1800)")
	# NULL: the SQL thread was not running (yet); ask again
	while [ "$r" = NULL ] && [ "$i" -lt 50 ]; do
		sleep 0.1
		r=$(sql target -e "SELECT MASTER_POS_WAIT('$end_file', $end_pos, 1800)")
		i=$((i + 1))
	done
	case "$r" in '' | *[!0-9]*) ;; *) return 0 ;; esac
	sql target --column-names -E -e "SHOW SLAVE STATUS" >"$log"
	say "native replica did not reach $end_file:$end_pos (MASTER_POS_WAIT: $r); status in $log:"
	grep -E "Last_(IO|SQL)_Error:|Exec_Master_Log_Pos" "$log" >&2
	return 1
}

native_stop() {
	sql target -e "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL slave_parallel_threads = 0"
}

# Timed from START SLAVE until MASTER_POS_WAIT returns.
run_native() {
	local t0 rc=0
	t0=$(now)
	native_start "$1"
	native_wait || rc=1
	wall=$(sub "$(now)" "$t0")
	native_stop
	tool_cpu=-
	return "$rc"
}

write_job() {
	local file=$1 name=$2 nw=$3 sf=$4 sp=$5
	cat >"$file" <<EOF
name: $name
type: incremental
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
  databases: [sbtest, bench]
start:
  binlog-file: $sf
  binlog-pos: $sp
spec:
  apply-workers: $nw
  batch: $batch
EOF
}

# watchdog PID LOG MARK: kill tidm (PID is /usr/bin/time running it) when its progress log
# shows the same transaction count for STALL seconds; MARK then says so.
watchdog() {
	local pid=$1 log=$2 mark=$3 last="" since=$SECONDS v c kids=()
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		v=$(grep -o 'txns [0-9]*' "$log" 2>/dev/null | tail -1) || true
		if [ "$v" != "$last" ]; then
			last=$v since=$SECONDS
		elif [ $((SECONDS - since)) -ge "$stall" ]; then
			echo "$last" >"$mark"
			read -ra kids <"/proc/$pid/task/$pid/children" || true
			for c in "${kids[@]}"; do kill -KILL "$c" 2>/dev/null || true; done
			return 0
		fi
	done
}

run_tidm() {
	local nw=$1 job=$work/job-w$1.yaml log=$work/tidm-w$1.log t0 t1 at pid wd rc=0
	sql target -e "DROP DATABASE IF EXISTS tidm_meta"
	write_job "$job" "bench-incr-w$nw" "$nw" "$start_file" "$start_pos"
	rm -f "$work/stalled"
	t0=$(now)
	/usr/bin/time -v -o "$work/time-tidm" "$tidm" migrate "$job" --until-caught-up >"$log" 2>&1 &
	pid=$!
	watchdog "$pid" "$log" "$work/stalled" &
	wd=$!
	wait "$pid" || rc=$?
	t1=$(now)
	kill "$wd" 2>/dev/null || true
	wait "$wd" 2>/dev/null || true
	detail="apply-workers=$nw batch=$batch"
	if [ -f "$work/stalled" ]; then
		detail+=", STALLED: no progress for ${stall} s at $(cat "$work/stalled") of $txns, killed"
		say "tidm (apply-workers=$nw) made no progress for $stall s, killed (log $log)"
		return 1
	fi
	if [ "$rc" != 0 ]; then
		say "tidm migrate failed (log $log): $(tail -c 600 "$log")"
		return 1
	fi
	wall=$(sub "$t1" "$t0")
	tool_cpu=$(time_cpu "$work/time-tidm")
	at=$(sed -n 's/.*caught up with the source at \([^ ]*\).*/\1/p' "$log")
	detail+=", peak RSS $(($(time_rss "$work/time-tidm") / 1024)) MiB"
	if [ "$at" != "$end_file:$end_pos" ] && [ "$at" != "$now_file:$now_pos" ]; then
		say "tidm stopped at '$at', not at the end position $end_file:$end_pos or the source's $now_file:$now_pos (log $log)"
		return 1
	fi
}

# run NAME FN ARG: fresh target, run contender FN ARG, check it, print a line; sets ok.
run() {
	local name=$1 fn=$2 arg=$3 s0 t0 b0 s1 t1 b1
	reset_target
	s0=$(cpu_of "$(our_pid source)") t0=$(cpu_of "$(our_pid target)") b0=$(binlog_bytes target)
	detail="" wall=0 tool_cpu=-
	ok=ok
	"$fn" "$arg" || ok=FAILED
	s1=$(cpu_of "$(our_pid source)") t1=$(cpu_of "$(our_pid target)") b1=$(binlog_bytes target)
	if [ "$ok" = ok ]; then
		check_target || ok=WRONG
	fi
	[ "$ok" = ok ] || failed=1
	if [ "$ok" != ok ] && [ "$ok" != WRONG ]; then
		wall=- tps=-
	else
		tps=$(div "$txns" "$wall" | cut -d. -f1)
	fi
	printf 'bench:   %-26s %8s s  %7s txn/s  check %-6s cpu: tidm %s s, source %.1f s, target %.1f s; target binlog +%d MiB; %s\n' \
		"$name" "$wall" "$tps" "$ok" "$tool_cpu" "$(sub "$s1" "$s0")" "$(sub "$t1" "$t0")" \
		"$(((b1 - b0) / 1048576))" "$detail" >&2
}

failed=0
declare -A best=() # contender name -> fastest wall time
names=()
for nv in $native_list; do names+=("native $nv"); done
for w in $workers_list; do names+=("tidm workers=$w"); done
say "$txns transactions in the binlog $start_file:$start_pos .. $end_file:$end_pos ($(($(state_get binlog_bytes) / 1048576)) MiB); workload: $(state_get workload)"
say "tidm $tidm; ROUNDS=$rounds"
for ((r = 0; r < rounds; r++)); do
	[ "$lag_only" = 1 ] && break
	say "round $((r + 1)) of $rounds"
	for nv in $native_list; do
		run "native $nv" run_native "$nv"
		if [ "$ok" = ok ] && { [ -z "${best[native $nv]:-}" ] || awk -v a="$wall" -v b="${best[native $nv]}" 'BEGIN{ exit !(a < b) }'; }; then
			best[native $nv]=$wall
		fi
	done
	for w in $workers_list; do
		run "tidm workers=$w" run_tidm "$w"
		if [ "$ok" = ok ]; then
			if [ -z "${best[tidm workers=$w]:-}" ] || awk -v a="$wall" -v b="${best[tidm workers=$w]}" 'BEGIN{ exit !(a < b) }'; then
				best[tidm workers=$w]=$wall
			fi
		fi
	done
done

# fastest of a family: prints "seconds name"
fastest() {
	local n
	for n in "${names[@]}"; do
		case "$n" in "$1"*) [ -n "${best[$n]:-}" ] && echo "${best[$n]} $n" ;; esac
	done | sort -g | head -1
}
read -r nat_s nat_name < <(fastest native) || true
read -r tidm_s tidm_name < <(fastest tidm) || true
if [ "$lag_only" = 1 ]; then
	# no timed runs: the first variant of NATIVE and of WORKERS follow the load
	read -r nv _ <<<"$native_list"
	read -r w _ <<<"$workers_list"
	nat_s=0 nat_name="native $nv" tidm_s=0 tidm_name="tidm workers=$w"
fi

# --- lag under a steady load --------------------------------------------------------------
# lag_run native VARIANT | lag_run tidm WORKERS: both servers back to the cached state, the
# target brought to the end position by the native replica (fastest variant, untimed),
# then the contender follows the source while sysbench runs at LAG_RATE. Sets lag_n,
# lag_p50, lag_p99, lag_max (ms), sb_tps, bin_tps, caught_s, lag_ok.
lag_run() {
	local kind=$1 arg=$2 tag=lag-$1 samples i l hb_src g0 g1 ts0 ts1 tidm_pid="" hb_pid sampler_pid
	samples=$work/$tag-samples
	stop_one source
	restore source
	restore target
	start_servers
	warm source
	warm target
	native_start "${nat_name#native }"
	native_wait || return 1
	if [ "$kind" = tidm ]; then
		native_stop
		sql target -e "DROP DATABASE IF EXISTS tidm_meta"
		write_job "$work/job-lag.yaml" bench-incr-lag "$arg" "$end_file" "$end_pos"
		"$tidm" migrate "$work/job-lag.yaml" >"$work/tidm-lag.log" 2>&1 &
		tidm_pid=$!
	fi
	# Two client sessions fed by loops that end when their stop file appears (their stdin
	# then closes and the client exits): the heartbeat on the source, an UPDATE every 50 ms,
	# and the sampler on the target, a reading every 100 ms ("epoch lag_us").
	rm -f "$work/stop-hb" "$work/stop-sampler"
	(while [ ! -e "$work/stop-hb" ]; do
		echo "UPDATE bench.hb SET ts = NOW(6) WHERE id = 1;"
		sleep 0.05
	done) | sql source &
	hb_pid=$!
	(while [ ! -e "$work/stop-sampler" ]; do
		echo "SELECT UNIX_TIMESTAMP(NOW(6)), TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) FROM bench.hb WHERE id = 1;"
		sleep 0.1
	done) | sql target --unbuffered >"$samples" &
	sampler_pid=$!
	# until the heartbeat arrives on the target
	for ((i = 0; i < 300; i++)); do
		l=$(tail -1 "$samples" 2>/dev/null | awk '{ print $2 }')
		[ -n "$l" ] && [ "$l" -lt 1000000 ] && break
		[ -z "$tidm_pid" ] || kill -0 "$tidm_pid" 2>/dev/null || break
		sleep 0.1
	done
	sleep 2
	# CPU of both servers and tidm, every second ("epoch source% target% tidm%"), to see
	# what a lag spike coincides with (kept in $work/lag-KIND-cpu)
	(
		local ps pt pm=0 cs ct cm os ot om
		ps=$(our_pid source) pt=$(our_pid target)
		os=$(cpu_of "$ps") ot=$(cpu_of "$pt") om=0
		while [ ! -e "$work/stop-sampler" ]; do
			sleep 1
			cs=$(cpu_of "$ps") ct=$(cpu_of "$pt") cm=0
			[ -n "$tidm_pid" ] && cm=$(cpu_of "$tidm_pid" 2>/dev/null || echo "$om")
			echo "$(now) $(sub "$cs" "$os") $(sub "$ct" "$ot") $(sub "$cm" "$om")"
			os=$cs ot=$ct om=$cm
		done
	) >"$work/$tag-cpu" 2>/dev/null &
	g0=$(gtid_seq)
	ts0=$(now)
	sb --threads="$lag_threads" --rate="$lag_rate" --time="$lag_time" --report-interval=5 run \
		>"$work/sysbench-$tag.log" 2>&1 || say "sysbench ($tag) failed: $(tail -5 "$work/sysbench-$tag.log")"
	ts1=$(now)
	g1=$(gtid_seq)
	: >"$work/stop-hb"
	wait "$hb_pid" || true
	# until the target has everything (the heartbeat equal, then the checksums)
	hb_src=$(sql source -e "SELECT ts FROM bench.hb WHERE id = 1")
	for ((i = 0; i < 1200; i++)); do
		[ "$(sql target -e "SELECT ts FROM bench.hb WHERE id = 1")" = "$hb_src" ] && break
		sleep 0.1
	done
	: >"$work/stop-sampler"
	wait "$sampler_pid" || true
	# then until every table is equal: tidm's workers apply in parallel, so the heartbeat's
	# worker may be ahead of the others (up to 60 s)
	lag_ok=WRONG
	for ((i = 0; i < 300; i++)); do
		if [ "$(sql source -e "CHECKSUM TABLE $(tlist)")" = "$(sql target -e "CHECKSUM TABLE $(tlist)")" ]; then
			lag_ok=ok
			break
		fi
		sleep 0.2
	done
	caught_s=$(sub "$(now)" "$ts1")
	if [ "$lag_ok" != ok ]; then
		say "CHECK FAILED after the lag test ($kind $arg): source and target still differ 60 s after the load"
		failed=1
	fi
	if [ -n "$tidm_pid" ]; then
		kill -INT "$tidm_pid" 2>/dev/null || true
		for ((i = 0; i < 300; i++)); do
			kill -0 "$tidm_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$tidm_pid" 2>/dev/null; then
			say "tidm did not stop within 30 s of SIGINT; killed (log $work/tidm-lag.log)"
			kill -KILL "$tidm_pid" 2>/dev/null || true
		fi
		wait "$tidm_pid" || true
		grep -q "paused at" "$work/tidm-lag.log" || say "tidm did not report a clean pause (log $work/tidm-lag.log)"
	else
		native_stop
	fi
	read -r lag_n lag_p50 lag_p99 lag_max < <(awk -v a="$ts0" -v b="$ts1" '$1 >= a && $1 <= b { print $2 / 1000 }' "$samples" |
		sort -g | awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "0 - - -"; exit }
			i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
			printf "%d %.0f %.0f %.0f\n", NR, v[i50], v[i99], v[NR] }')
	sb_tps=$(awk '/transactions:/ { gsub(/\(/, "", $3); printf "%.0f", $3 }' "$work/sysbench-$tag.log")
	sb_tps=${sb_tps:-0}
	bin_tps=$(div "$((g1 - g0))" "$(sub "$ts1" "$ts0")" | cut -d. -f1)
	say "  lag, $kind $arg: sysbench $sb_tps txn/s (binlog $bin_tps/s incl. heartbeat); $lag_n samples, p50 $lag_p50 ms, p99 $lag_p99 ms, max $lag_max ms; equal $caught_s s after the load; check $lag_ok"
}

lag_native="" lag_tidm=""
if [ "$lag_on" = 1 ] && [ -n "${tidm_s:-}" ] && [ -n "${nat_s:-}" ]; then
	lw=${tidm_name#tidm workers=}
	say "lag test: sysbench --rate=$lag_rate --threads=$lag_threads --time=$lag_time on the source, $nat_name as the reference, then tidm (apply-workers=$lw)"
	if lag_run native "${nat_name#native }"; then
		lag_native="$sb_tps $bin_tps $lag_n $lag_p50 $lag_p99 $lag_max $caught_s $lag_ok"
	fi
	if lag_run tidm "$lw"; then
		lag_tidm="$sb_tps $bin_tps $lag_n $lag_p50 $lag_p99 $lag_max $caught_s $lag_ok"
	fi
	[ -n "$lag_native" ] && [ -n "$lag_tidm" ] || failed=1
fi

# --- report -------------------------------------------------------------------------------
verdict() { awk -v v="$1" -v g="$2" 'BEGIN{ print (v != "" && v <= g) ? "PASS" : "MISS" }'; }
if [ "$lag_only" != 1 ]; then
	echo
	echo "incremental replication: $txns sysbench oltp_write_only transactions ($tables tables x $size rows) in the binlog, fastest of $rounds round(s)"
	printf '%-28s %9s %10s %12s\n' contender seconds "txn/s" "tidm/this"
	for n in "${names[@]}"; do
		if [ -n "${best[$n]:-}" ]; then
			printf '%-28s %9s %10s %12s\n' "$n" "${best[$n]}" "$(div "$txns" "${best[$n]}" | cut -d. -f1)" \
				"$([ -n "${tidm_s:-}" ] && div "$tidm_s" "${best[$n]}")"
		else
			printf '%-28s %9s %10s %12s\n' "$n" FAILED - -
		fi
	done
	ratio=""
	if [ -n "${tidm_s:-}" ] && [ -n "${nat_s:-}" ]; then
		ratio=$(div "$tidm_s" "$nat_s")
	fi
	echo
	printf '%-56s %8s %8s %7s\n' goal value target result
	printf '%-56s %8s %8s %7s\n' "tidm best / native best (${tidm_name:-?} / ${nat_name#native })" "${ratio:--}" "<= 1.00" "$(verdict "$ratio" 1.00)"
	printf '%-56s %8s %8s %7s\n' "  (aim)" "${ratio:--}" "<= 0.70" "$(verdict "$ratio" 0.70)"
fi
if [ "$lag_on" = 1 ]; then
	echo
	echo "lag under load: sysbench oltp_write_only --rate=$lag_rate --threads=$lag_threads --time=$lag_time on the source; lag = target NOW(6) - heartbeat (+ up to 50 ms heartbeat period), sampled every 100 ms"
	printf '%-28s %9s %9s %8s %8s %8s %8s %9s %6s\n' follower "sb txn/s" "binlog/s" samples "p50 ms" "p99 ms" "max ms" "drain s" check
	for l in "native ${nat_name#native }|$lag_native" "tidm workers=${tidm_name#tidm workers=}|$lag_tidm"; do
		n=${l%%|*} v=${l#*|}
		if [ -n "$v" ]; then
			# shellcheck disable=SC2086
			printf '%-28s %9s %9s %8s %8s %8s %8s %9s %6s\n' "$n" $v
		else
			printf '%-28s %9s\n' "$n" FAILED
		fi
	done
	lt_p99=$(echo "$lag_tidm" | awk '{ print $5 }')
	lt_sb=$(echo "$lag_tidm" | awk '{ print $1 }')
	lag_verdict=$(awk -v p="$lt_p99" 'BEGIN{ print (p != "" && p != "-" && p + 0 < 1000) ? "PASS" : "MISS" }')
	case "$lag_tidm" in *" ok") ;; *) lag_verdict=MISS ;; esac
	printf '%-56s %8s %8s %7s\n' "tidm lag p99 under load, ms" "${lt_p99:--}" "< 1000" "$lag_verdict"
	if [ -n "$lt_sb" ]; then
		awk -v t="$lt_sb" -v r="$lag_rate" 'BEGIN{ if (t >= 0.95 * r) print "  the source sustained the asked rate"; else printf "  the source did NOT sustain %d txn/s here (%d txn/s during the tidm run): the goal is measured at the rate this machine reached\n", r, t }'
	fi
fi
if [ "$failed" != 0 ]; then
	echo "A RUN FAILED OR LEFT WRONG ROWS (see the lines above)"
	exit 1
fi
