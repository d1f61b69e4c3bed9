#!/usr/bin/env bash
# A 300 MiB source transaction (a keyed and a keyless table, wide rows) replicated to a
# target that refuses transactions above 32 MiB: the target's max_binlog_cache_size stands
# in for TiDB's txn-total-size-limit (a transaction over it fails, as TiDB's error 8004
# does). With spec.max-txn-bytes = 8 MiB tidm applies it in pieces, whose checkpoints lie
# inside the transaction while it runs; the source connection is cut after the first
# pieces (the stream reconnects and the transaction is read again from its start), then a
# kill -9 after some more, then a rerun: it ends
# equal with no row twice (the keyless table would show it). tidm's peak RSS is reported
# for both runs and stays far below the transaction's size. The job store starts in the
# format of an older tidm (no sync_workers.txn_row).
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
rows=19800 # per table; rows of 8000 bytes: 2 x 151 MiB in the source transaction
pad="REPEAT(CHAR(65 + seq % 26), 7990)"
schema="CREATE DATABASE \`$db\`;
CREATE TABLE \`$db\`.k (id INT PRIMARY KEY, pad BLOB NOT NULL);
CREATE TABLE \`$db\`.kl (n INT NOT NULL, pad BLOB NOT NULL);"
src_sql "$schema"
tgt_sql "$schema"
# a job store from before txn_row existed is upgraded in place
tgt_sql "CREATE DATABASE IF NOT EXISTS tidm_meta;
CREATE TABLE IF NOT EXISTS tidm_meta.sync_workers (job VARCHAR(64) NOT NULL, worker INT UNSIGNED NOT NULL,
	file VARCHAR(255) NOT NULL DEFAULT '', pos BIGINT UNSIGNED NOT NULL DEFAULT 0,
	nworkers INT UNSIGNED NOT NULL DEFAULT 0, updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
	ON UPDATE CURRENT_TIMESTAMP(3), PRIMARY KEY (job, worker)) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE tidm_meta.sync_workers DROP COLUMN IF EXISTS txn_row"
src_sql "FLUSH BINARY LOGS"
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)
job=big-txn-$$
write_job "$TEST_TMP/job.yaml" name=$job type=incremental "databases=$db" start.binlog-file="$file" \
	start.binlog-pos="$pos" spec.apply-workers=4 spec.max-txn-bytes=8388608

old_cache=$(tgt_sql "SELECT @@GLOBAL.max_binlog_cache_size")
on_exit "tgt_sql 'SET GLOBAL max_binlog_cache_size = $old_cache'"
tgt_sql "SET GLOBAL max_binlog_cache_size = 33554432"

t0=$(date +%s)
src_sql "BEGIN;
INSERT INTO \`$db\`.k SELECT seq, $pad FROM \`$db\`.seq_1_to_$rows;
INSERT INTO \`$db\`.kl SELECT seq, $pad FROM \`$db\`.seq_1_to_$rows;
COMMIT;"
end_pos=$(src_sql "SHOW BINARY LOGS" | awk -v f="$file" '$1 == f {print $2}')
txn_mib=$(((end_pos - pos) >> 20))
echo "source transaction written in $(($(date +%s) - t0)) s: $txn_mib MiB of binlog"
[ "$txn_mib" -ge 300 ] || fail "the source transaction is only $txn_mib MiB"

# VmHWM (peak resident set, kB) of a process, sampled until it ends
peak_rss() { # PID OUTFILE
	local v
	while kill -0 "$1" 2>/dev/null; do
		v=$(awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null) || true
		[ -n "$v" ] && echo "$v" >"$2"
		sleep 0.2
	done
}
# ASan holds freed memory in a quarantine (256 MiB by default): keep it small, so the
# figure is tidm's own
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=16"

t0=$(date +%s)
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/run1" 2>&1 &
pid=$!
peak_rss "$pid" "$TEST_TMP/rss1" &
# pieces committed while the transaction is open: a checkpoint inside it, rows on the target
piece_cp() { [ "$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.sync_workers WHERE job = '$job' AND txn_row > 0")" -gt 0 ]; }
wait_for piece_cp 300 "a checkpoint inside the source transaction"
# the source connection lost after a piece: the transaction is read again from its start,
# and the rows already committed are skipped
for id in $(src_sql "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'"); do
	src_sql "KILL $id" || true
done
wait_for "grep -q 'binlog stream: reconnecting' '$TEST_TMP/run1'" 120 "the binlog stream reconnecting"
half() { [ "$(tgt_sql "SELECT (SELECT COUNT(*) FROM \`$db\`.k) + (SELECT COUNT(*) FROM \`$db\`.kl)")" -ge "$rows" ]; }
wait_for half 300 "half of the rows on the target"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
wait
k1=$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.k")
kl1=$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.kl")
echo "killed after $(($(date +%s) - t0)) s with $k1 + $kl1 of 2 x $rows rows on the target; checkpoints:"
tgt_sql "SELECT worker, file, pos, txn_row FROM tidm_meta.sync_workers WHERE job = '$job' ORDER BY worker"
[ "$((k1 + kl1))" -lt "$((2 * rows))" ] || fail "the transaction was complete before the kill"
assert_contains "$(cat "$TEST_TMP/run1")" "commits it in pieces" "run 1 output"
grep -E "reconnecting|in pieces" "$TEST_TMP/run1" | cut -c1-160

t0=$(date +%s)
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/run2" 2>&1 &
pid=$!
peak_rss "$pid" "$TEST_TMP/rss2"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "the rerun failed (exit $rc): $(cat "$TEST_TMP/run2")"
echo "rerun done in $(($(date +%s) - t0)) s"
assert_contains "$(cat "$TEST_TMP/run2")" "replication resumes at the checkpoint $file:" "run 2 output"
assert_tables_equal "$db"
assert_eq "$rows 0" "$(tgt_sql "SELECT COUNT(*), COUNT(*) - COUNT(DISTINCT n) FROM \`$db\`.kl" | tr '\t' ' ')" \
	"keyless rows on the target, and rows there twice"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.sync_workers WHERE job = '$job' AND txn_row > 0")" \
	"checkpoints inside a transaction after the end"
rss1=$(cat "$TEST_TMP/rss1") rss2=$(cat "$TEST_TMP/rss2")
echo "tidm peak RSS: $((rss1 / 1024)) MiB (killed run), $((rss2 / 1024)) MiB (rerun); source transaction $txn_mib MiB"
[ "$rss1" -lt 204800 ] && [ "$rss2" -lt 204800 ] || fail "peak RSS not bounded: $rss1 kB, $rss2 kB"
