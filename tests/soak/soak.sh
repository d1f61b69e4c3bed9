#!/usr/bin/env bash
# soak.sh - minutes of faults on a running migration (issue 19); outside the default suite.
#
#   bash tests/soak/soak.sh [MINUTES] [SEED]      (defaults: 10 minutes, a random seed)
#
# Throwaway servers of its own (scripts/testdb.sh in $TIDM_TESTDB_DIR, default
# build/soak-testdb), a fault proxy (tests/harness/faultproxy.py) in front of each, and one
# `tidm migrate` of type all through them. While the source takes the replication
# workload (tests/harness/workload.sh: DML on every column type, keyless tables, key
# swaps; plus DDL every few rounds), a fault lands every 3 to 8 s, chosen by the seed:
# a cut, a stall or a blackhole (silent for good; stall-timeout 3 s) of the source links
# (dump, binlog) or of the target links (load, apply),
# a binlog packet truncated mid-way, tidm killed with -9 (and started again, as a
# supervisor would), the target server killed with -9 and restarted. After each fault a
# marker row is written on the source; the fault's recovery time is how long until it is
# on the target. At the end the workload stops, the target must equal the source
# (checksums of every table: a duplicate in a keyed table would show) and the script
# prints the faults injected, the recoveries, the longest one and the seed (rerun with
# the same seed to replay the same fault sequence). Exit 0 when equal.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
minutes=${1:-10}
seed=${2:-$((RANDOM * 32768 + RANDOM))}
export TIDM_BUILD=${TIDM_BUILD:-$top/build}
export TIDM_BIN=${TIDM_BIN:-$TIDM_BUILD/tidm}
export TIDM_TESTDB_DIR=${TIDM_TESTDB_DIR:-$TIDM_BUILD/soak-testdb}
bash "$top/scripts/testdb.sh" start >/dev/null
. "$top/tests/harness/lib.sh"
. "$top/tests/harness/faults.sh"
. "$top/tests/harness/workload.sh"
set +e
trap - ERR
RANDOM=$seed
echo "soak: $minutes minutes, seed $seed (replay: bash tests/soak/soak.sh $minutes $seed)"

db=soak_$$
src_sql "CREATE DATABASE \`$db\`"
on_exit "src_sql 'DROP DATABASE IF EXISTS \`$db\`' >/dev/null 2>&1; tgt_sql 'DROP DATABASE IF EXISTS \`$db\`' >/dev/null 2>&1"
workload_setup "$db"
src_sql "CREATE TABLE \`$db\`.marker (id INT PRIMARY KEY, at VARCHAR(40)); CREATE TABLE \`$db\`.ddl_t (id INT PRIMARY KEY, c0 INT)"

start_proxy src "$TIDM_TEST_SOURCE_HOST" "$TIDM_TEST_SOURCE_PORT"
sport=$PROXY_PORT
start_proxy tgt "$TIDM_TEST_TARGET_HOST" "$TIDM_TEST_TARGET_PORT"
tport=$PROXY_PORT
job=$TEST_TMP/soak.yaml
write_job "$job" name=soak type=all "databases=$db" source.port="$sport" target.port="$tport" spec.apply-workers=4 \
	source.stall-timeout=3 target.stall-timeout=3
log=$TEST_TMP/migrate.log
on_exit "cp '$log' '$TIDM_BUILD/soak-migrate.log' 2>/dev/null"
tpid=
start_tidm() {
	"$TIDM_BIN" migrate "$job" >>"$log" 2>&1 &
	tpid=$!
}
on_exit '[ -n "$tpid" ] && kill -INT $tpid 2>/dev/null; wait $tpid 2>/dev/null'
start_tidm

# the source workload, round after round, with DDL every fifth round
wl_stop=$TEST_TMP/wl.stop
workload_loop() {
	local r=0 c=1
	while [ ! -e "$wl_stop" ]; do
		WORKLOAD_SLEEP=0.02 workload_run "$db" $((200 + r * 40 + 1)) $((200 + r * 40 + 40)) >/dev/null 2>&1 || true
		if ((r % 5 == 4)); then
			src_sql "ALTER TABLE \`$db\`.ddl_t ADD COLUMN c$c INT DEFAULT $c; INSERT INTO \`$db\`.ddl_t (id, c0) VALUES ($r, $c)" >/dev/null 2>&1 || true
			((c % 3 == 0)) && src_sql "ALTER TABLE \`$db\`.ddl_t DROP COLUMN c$((c - 1))" >/dev/null 2>&1 || true
			c=$((c + 1))
		fi
		r=$((r + 1))
	done
}
workload_loop &
wlpid=$!
on_exit "touch '$wl_stop'; kill $wlpid 2>/dev/null"

target_pid() { cat "$TIDM_TESTDB_DIR/target/mariadbd.pid"; }
marker=0
# recover KIND START: a marker row through, timed from START (seconds since epoch, float)
longest=0
longest_kind=
recover() {
	local kind=$1 start=$2 t
	marker=$((marker + 1))
	until src_sql "INSERT INTO \`$db\`.marker VALUES ($marker, '$kind')" 2>/dev/null; do sleep 0.5; done
	for _ in $(seq 1 1800); do
		[ "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.marker WHERE id = $marker" 2>/dev/null)" = 1 ] && break
		if [ -n "$tpid" ] && ! kill -0 "$tpid" 2>/dev/null; then
			wait "$tpid"
			echo "soak: FAIL: tidm migrate ended by itself after $kind (exit $?): $(tail -5 "$log")" >&2
			exit 1
		fi
		sleep 0.2
	done
	[ "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.marker WHERE id = $marker" 2>/dev/null)" = 1 ] || {
		echo "soak: FAIL: no recovery within 6 minutes after $kind: $(tail -5 "$log")" >&2
		exit 1
	}
	t=$(python3 -c "import time; print('%.1f' % (time.time() - $start))")
	recoveries=$((recoveries + 1))
	if python3 -c "import sys; sys.exit(0 if $t > $longest else 1)"; then
		longest=$t
		longest_kind=$kind
	fi
	printf 'soak: %4ds  %-18s recovered in %5.1f s\n' $((SECONDS - t0)) "$kind" "$t"
}

declare -A count=()
recoveries=0
t0=$SECONDS
end=$((SECONDS + minutes * 60))
sleep 5
while [ $SECONDS -lt $end ]; do
	sleep $((3 + RANDOM % 6))
	f=$((RANDOM % 11))
	now=$(date +%s.%N)
	case $f in
	0) kind="cut source" && proxy src cut >/dev/null ;;
	1) kind="cut target" && proxy tgt cut >/dev/null ;;
	2) kind="stall source" && proxy src stall >/dev/null && sleep $((2 + RANDOM % 5)) && proxy src unstall >/dev/null ;;
	3) kind="stall target" && proxy tgt stall >/dev/null && sleep $((2 + RANDOM % 5)) && proxy tgt unstall >/dev/null ;;
	4) kind="truncate source" && proxy src truncate >/dev/null ;;
	9) kind="blackhole source" && proxy src blackhole >/dev/null ;;
	10) kind="blackhole target" && proxy tgt blackhole >/dev/null ;;
	5) kind="truncate target" && proxy tgt truncate >/dev/null ;;
	6 | 7)
		kind="kill -9 tidm"
		kill -9 "$tpid" 2>/dev/null
		wait "$tpid" 2>/dev/null
		start_tidm
		;;
	8)
		kind="restart target"
		tp=$(target_pid)
		kill -9 "$tp"
		while kill -0 "$tp" 2>/dev/null; do sleep 0.1; done
		sleep 1
		bash "$TIDM_SRC/scripts/testdb.sh" start >/dev/null 2>&1 || { echo "soak: cannot restart the target" >&2; exit 1; }
		;;
	esac
	count[$kind]=$((${count[$kind]:-0} + 1))
	recover "$kind" "$now"
done

touch "$wl_stop"
wait "$wlpid" 2>/dev/null
recover "end of the workload" "$(date +%s.%N)"
faults=0
for k in "${!count[@]}"; do faults=$((faults + count[$k])); done
echo "soak: $faults faults in $((SECONDS - t0)) s, seed $seed:"
for k in "${!count[@]}"; do printf '  %-18s %d\n' "$k" "${count[$k]}"; done
echo "soak: $recoveries recoveries, the longest $longest s (after $longest_kind)"
echo "soak: tidm retried $(grep -c 'trying again from the checkpoints' "$log") times, reconnected its binlog stream $(grep -c 'binlog stream: reconnecting' "$log") times, replication restarted $(grep -c 'restarting from the checkpoints' "$log") times"
set -e
assert_tables_equal "$db"
echo "soak: PASS: every table of $db equal on both sides ($(src_sql "SELECT COUNT(*) FROM \`$db\`.w_keyed") rows in w_keyed, $(src_sql "SELECT COUNT(*) FROM \`$db\`.w_nokey") in the keyless w_nokey)"
