#!/usr/bin/env bash
# throttle.sh - what a logical export costs the source's applications (issue 17, Must show
# 3): a sysbench oltp_read_write load on the SOURCE, its transactions/s measured with no
# export, during an unthrottled `tidm migrate` (type full), and during one with
# spec.export: {adaptive: true}. Prints the throughput loss of each export against the
# no-export figure, and whether each export finished, in how long.
#
#   bench/throttle.sh            run it (servers and sysbench data are kept)
#   bench/throttle.sh --clean    stop this benchmark's servers and remove its work files
#
# Setup (once, cached): a throwaway source and target MariaDB (scripts/testdb.sh in
# <repo>/.bench-cache/testdb-throttle, never anyone else's servers); in the source, the
# data to export (database sbtest: TABLES x TABLE_ROWS sysbench rows) and the
# application's own tables (database sbload: LOAD_TABLES x LOAD_ROWS), both made by
# `sysbench oltp_read_write prepare`; later runs reuse them when the row counts are right.
#
# One round: five phases (none, unthrottled, none, adaptive, none), each with a fresh sysbench run (SB_THREADS threads, closed
# loop, or SB_RATE transactions/s open loop, --report-interval=1) on sbload, started
# WARMUP seconds before the measured window:
#   none         the window is SB_TIME seconds without an export
#   unthrottled  the window is the export (target emptied first)
#   adaptive     the same with spec.export: {adaptive: true}
#   capped       with CAP > 0 only: spec.export: {max-rows-per-second: CAP} (then a
#                sixth and seventh phase: capped, none)
# The tps of a phase is the mean of sysbench's per-second reports inside its window (its
# p95 latency the mean of those); an export's loss is against the mean of the no-export
# phases just before and after it (the machine's other load drifts over minutes); "cores"
# is the CPU seconds per second both servers and tidm used during the phase. An export that has not finished after EXPORT_TIMEOUT
# seconds is stopped and reported as not finished. With ROUNDS > 1 the medians are shown.
# tidm runs with TIDM_THROTTLE_TRACE=1: its log (throttle-work/tidm-adaptive.log) has every
# control step of the adaptive throttle (probe latency, threads running, rate, limit).
# The goal (issue 17): under 10 % loss with the adaptive throttle while the export finishes.
#
# Environment: TABLES (8), TABLE_ROWS (250000), LOAD_TABLES (4), LOAD_ROWS (10000),
# SB_THREADS (2), SB_RATE (0 = closed loop), SB_TIME (30), WARMUP (5), THREADS (tidm's dump
# and load threads, 4), EXPORT_TIMEOUT (900), ROUNDS (1), CAP (0), TIDM_BIN (default: a Release
# build in <repo>/build-bench), BENCH_CACHE (<repo>/.bench-cache).
# Needs sysbench and the mariadb client. On a machine where sysbench, both servers and
# tidm share few cores, every figure moves with whatever else runs: read them per round.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cache=${BENCH_CACHE:-$top/.bench-cache}
tables=${TABLES:-8}
table_rows=${TABLE_ROWS:-250000}
load_tables=${LOAD_TABLES:-4}
load_rows=${LOAD_ROWS:-10000}
sb_threads=${SB_THREADS:-2}
sb_rate=${SB_RATE:-0}
sb_time=${SB_TIME:-30}
warmup=${WARMUP:-5}
threads=${THREADS:-4}
export_timeout=${EXPORT_TIMEOUT:-900}
rounds=${ROUNDS:-1}
cap=${CAP:-0}
export TIDM_TESTDB_DIR=$cache/testdb-throttle
work=$cache/throttle-work

if [ "${1:-}" = --clean ]; then
	"$top/scripts/testdb.sh" stop >&2
	rm -rf "$work"
	exit 0
fi
[ $# -eq 0 ] || die "usage: bench/throttle.sh [--clean]"
for v in tables table_rows load_tables load_rows sb_threads sb_time threads export_timeout rounds; do
	case "${!v}" in '' | *[!0-9]* | 0) die "$v must be a positive number (got '${!v}')" ;; esac
done
case "$sb_rate$warmup$cap" in *[!0-9]*) die "SB_RATE, WARMUP and CAP must be numbers" ;; esac
[ -x /usr/bin/time ] || die "/usr/bin/time not installed (apt-get install time)"
for tool in sysbench mariadb; do
	command -v "$tool" >/dev/null || die "$tool not installed"
done

bench_tidm
mkdir -p "$cache" "$work"
cp "$tidm" "$work/tidm.bin"
tidm=$work/tidm.bin
"$top/scripts/testdb.sh" start >&2
# shellcheck disable=SC1090
eval "$("$top/scripts/testdb.sh" env)"

sb_conn=(oltp_read_write --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$TIDM_TEST_SOURCE_PORT"
	--mysql-user=root --mysql-password="$TIDM_TEST_SOURCE_PASSWORD")
sb() { # sb DB sysbench-args... (foreground only: in the background $! would be a subshell)
	local db=$1
	shift
	sysbench "${sb_conn[@]}" --mysql-db="$db" "$@"
}

data_ok() { # DB N ROWS
	local db=$1 n=$2 rows=$3 have i c
	have=$(sql source -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$db'")
	[ "$have" = "$n" ] || return 1
	for ((i = 1; i <= n; i++)); do
		c=$(sql source -e "SELECT COUNT(*) FROM \`$db\`.sbtest$i" 2>/dev/null) || return 1
		[ "$c" = "$rows" ] || return 1
	done
}

prepare() { # DB N ROWS
	local db=$1 n=$2 rows=$3
	if data_ok "$db" "$n" "$rows"; then
		say "source: $db ($n x $rows rows) already there"
		return 0
	fi
	say "source: sysbench prepare $db ($n tables x $rows rows)"
	sql source -e "DROP DATABASE IF EXISTS \`$db\`; CREATE DATABASE \`$db\`"
	sb "$db" --tables="$n" --table-size="$rows" --threads=2 prepare >"$work/prepare-$db.log"
	data_ok "$db" "$n" "$rows" || die "sysbench prepare of $db did not leave $n x $rows rows"
	sql source -e "RESET MASTER"
	quiesce source
}
prepare sbtest "$tables" "$table_rows"
prepare sbload "$load_tables" "$load_rows"

write_job() { # FILE EXPORT-LINE
	cat >"$1" <<EOF
name: bench-throttle
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
  databases: [sbtest]
spec:
  dump-threads: $threads
  load-threads: $threads
$2
EOF
}
write_job "$work/unthrottled.yaml" ""
write_job "$work/adaptive.yaml" "  export: {adaptive: true}"
write_job "$work/capped.yaml" "  export: {max-rows-per-second: $cap}"

# window_stats LOG FROM TO: "TPS P95" averaged over sysbench's reports of seconds FROM..TO
window_stats() {
	awk -v a="$2" -v b="$3" '
		/^\[ *[0-9]+s \]/ {
			t = $2; sub(/s/, "", t); t += 0
			if (t < a + 1 || t > b) next
			for (i = 1; i <= NF; i++) {
				if ($i == "tps:") tps += $(i + 1)
				if ($i == "(ms,95%):") lat += $(i + 1)
			}
			n++
		}
		END { if (n) printf "%.1f %.2f\n", tps / n, lat / n; else print "0 0" }' "$1"
}

server_pid() { cat "$TIDM_TESTDB_DIR/$1/mariadbd.pid"; }
srv_cpu() { add "$(cpu_of "$(server_pid source)")" "$(cpu_of "$(server_pid target)")"; }

# phase NAME: one measured phase; sets tps, p95, dur (export s, or "-"), done (yes/no/-),
# cores (CPU seconds per second of the window: both servers, plus tidm)
phase() {
	local name=$1 log=$work/sysbench-$1.log sbpid t_sb a b t0 t1 c0 c1 tc=0 rate_arg=() rc=0
	sql target -e "DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS tidm_meta"
	quiesce target
	[ "$sb_rate" -gt 0 ] && rate_arg=(--rate="$sb_rate")
	t_sb=$(now)
	sysbench "${sb_conn[@]}" --mysql-db=sbload --tables="$load_tables" --table-size="$load_rows" --threads="$sb_threads" "${rate_arg[@]}" \
		--time=$((export_timeout + sb_time + warmup + 60)) --report-interval=1 run >"$log" 2>&1 &
	sbpid=$!
	sleep "$warmup"
	t0=$(now) c0=$(srv_cpu)
	dur="-" done="-"
	if [ "$name" = none ]; then
		sleep "$sb_time"
	else
		TIDM_THROTTLE_TRACE=1 timeout "$export_timeout" /usr/bin/time -f "%U %S" -o "$work/time-$name" \
			"$tidm" migrate "$work/$name.yaml" >"$work/tidm-$name.log" 2>&1 || rc=$?
		tc=$(awk 'END { printf "%.2f", $1 + $2 }' "$work/time-$name")
		dur=$(sub "$(now)" "$t0")
		done=yes
		if [ "$rc" != 0 ]; then
			done=no
		else
			for ((i = 1; i <= tables; i++)); do
				[ "$(sql target -e "SELECT COUNT(*) FROM sbtest.sbtest$i" 2>/dev/null)" = "$table_rows" ] || done=no
			done
		fi
	fi
	t1=$(now) c1=$(srv_cpu)
	cores=$(div "$(add "$(sub "$c1" "$c0")" "$tc")" "$(sub "$t1" "$t0")")
	kill "$sbpid" 2>/dev/null || true # sysbench itself ($! of a plain command)
	wait "$sbpid" 2>/dev/null || true
	a=$(sub "$t0" "$t_sb") b=$(sub "$t1" "$t_sb")
	read -r tps p95 < <(window_stats "$log" "${a%.*}" "${b%.*}")
	say "  $name: $tps tps, p95 $p95 ms over ${a%.*}..${b%.*} s of sysbench; servers+tidm $cores cores; export $dur s, finished: $done$(
		[ "$name" = adaptive ] && grep -o 'the export throttle: [0-9]* rows read.*' "$work/tidm-$name.log" | sed 's/^/; /')"
}

# Per round: none, unthrottled, none, adaptive, none. Each export's loss is against the
# mean of the no-export phases around it (the machine's other load drifts over minutes).
declare -a t_none=() t_unth=() t_adap=() d_unth=() d_adap=() l_none=() l_unth=() l_adap=()
declare -a x_unth=() x_adap=() k_none=() k_unth=() k_adap=() t_cap=() l_cap=() d_cap=() x_cap=() k_cap=()
fin_cap=yes
fin_unth=yes fin_adap=yes
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "export: $tables x $table_rows rows, THREADS=$threads; load: sysbench oltp_read_write $load_tables x $load_rows, SB_THREADS=$sb_threads, SB_RATE=$sb_rate, ROUNDS=$rounds"
loss() { awk -v x="$1" -v b="$2" 'BEGIN { if (b <= 0) print "?"; else printf "%.1f", 100 * (1 - x / b) }'; }
for ((r = 0; r < rounds; r++)); do
	say "round $((r + 1)) of $rounds"
	phase none
	n1=$tps k1=$cores
	t_none+=("$tps") l_none+=("$p95")
	phase unthrottled
	t_unth+=("$tps") l_unth+=("$p95") d_unth+=("$dur") k_unth+=("$cores")
	[ "$done" = yes ] || fin_unth=no
	phase none
	n2=$tps k2=$cores
	t_none+=("$tps") l_none+=("$p95")
	x_unth+=("$(loss "${t_unth[r]}" "$(div "$(add "$n1" "$n2")" 2)")")
	phase adaptive
	t_adap+=("$tps") l_adap+=("$p95") d_adap+=("$dur") k_adap+=("$cores")
	[ "$done" = yes ] || fin_adap=no
	phase none
	n3=$tps
	t_none+=("$tps") l_none+=("$p95") k_none+=("$k1" "$k2" "$cores")
	x_adap+=("$(loss "${t_adap[r]}" "$(div "$(add "$n2" "$n3")" 2)")")
	if [ "$cap" -gt 0 ]; then
		phase capped
		t_cap+=("$tps") l_cap+=("$p95") d_cap+=("$dur") k_cap+=("$cores")
		[ "$done" = yes ] || fin_cap=no
		phase none
		t_none+=("$tps") l_none+=("$p95") k_none+=("$cores")
		x_cap+=("$(loss "${t_cap[r]}" "$(div "$(add "$n3" "$tps")" 2)")")
	fi
	say "  round $((r + 1)): loss unthrottled ${x_unth[r]} %, adaptive ${x_adap[r]} %${x_cap:+, capped ${x_cap[r]} %}"
done
sql target -e "DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS tidm_meta"

m_none=$(median "${t_none[@]}")
m_unth=$(median "${t_unth[@]}")
m_adap=$(median "${t_adap[@]}")
loss_unth=$(median "${x_unth[@]}")
loss_adap=$(median "${x_adap[@]}")
echo
echo "source throughput during a logical export: $tables x $table_rows rows exported; sysbench oltp_read_write on $load_tables x $load_rows, $sb_threads threads$([ "$sb_rate" -gt 0 ] && echo " at $sb_rate tps"); median of $rounds round(s)"
echo "machine: $(nproc) cores, load average $load_before before / $(cut -d' ' -f1-3 /proc/loadavg) after"
printf '%-22s %10s %10s %10s %10s %10s %9s\n' phase "tps" "p95 ms" "loss %" "cores" "export s" finished
printf '%-22s %10s %10s %10s %10s %10s %9s\n' "no export" "$m_none" "$(median "${l_none[@]}")" "" "$(median "${k_none[@]}")" "" ""
printf '%-22s %10s %10s %10s %10s %10s %9s\n' "export, unthrottled" "$m_unth" "$(median "${l_unth[@]}")" "$loss_unth" "$(median "${k_unth[@]}")" "$(median "${d_unth[@]}")" "$fin_unth"
printf '%-22s %10s %10s %10s %10s %10s %9s\n' "export, adaptive" "$m_adap" "$(median "${l_adap[@]}")" "$loss_adap" "$(median "${k_adap[@]}")" "$(median "${d_adap[@]}")" "$fin_adap"
if [ "$cap" -gt 0 ]; then
	printf '%-22s %10s %10s %10s %10s %10s %9s\n' "export, $cap rows/s" "$(median "${t_cap[@]}")" "$(median "${l_cap[@]}")" \
		"$(median "${x_cap[@]}")" "$(median "${k_cap[@]}")" "$(median "${d_cap[@]}")" "$fin_cap"
fi
echo "(loss: against the mean of the no-export phases before and after, median over rounds; cores: CPU s per"
echo " second of both servers, plus tidm's, during the phase)"
goal=$(awk -v l="$loss_adap" -v f="$fin_adap" 'BEGIN { print (l != "?" && l < 10 && f == "yes") ? "PASS" : "MISS" }')
echo "goal: adaptive loss < 10 % and the export finishes: $goal"
if [ "$rounds" -gt 1 ]; then
	echo "per round tps: none ${t_none[*]}; unthrottled ${t_unth[*]}; adaptive ${t_adap[*]}"
	echo "per round loss %: unthrottled ${x_unth[*]}; adaptive ${x_adap[*]}"
fi
[ "$fin_unth" = yes ] && [ "$fin_adap" = yes ]
