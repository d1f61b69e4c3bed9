#!/usr/bin/env bash
# test_fault_kill_seeded.sh - tidm killed (-9) at points chosen by a seed (issue 19), while
# the source keeps writing (tests/harness/workload.sh: DML and DDL). The seed is printed
# first; `TIDM_TEST_SEED=N` replays the same kill points. Each kill lands wherever the seed
# says: in the snapshot, the copy, the index builds, the switch to replication, or
# replication itself. After the kills one run to catch up, and the target must equal the
# source (checksums: a duplicate row in a keyed or keyless table would show).
. "$(dirname "$0")/../harness/lib.sh"
. "$TIDM_SRC/tests/harness/workload.sh"

seed=${TIDM_TEST_SEED:-$(( $(od -An -N4 -tu4 /dev/urandom) % 1000000000 ))}
echo "seed $seed (replay: TIDM_TEST_SEED=$seed)"
RANDOM=$seed

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`"
workload_setup "$db"
src_sql "--database=$db" "
CREATE TABLE bulk (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(200) NOT NULL, KEY (v));
INSERT INTO bulk SELECT seq, seq % 977, REPEAT(CHAR(65 + seq % 26), 150) FROM seq_1_to_60000;
CREATE TABLE bulk_nokey (a INT, b VARCHAR(40));
INSERT INTO bulk_nokey SELECT seq % 50, CONCAT('keyless ', seq) FROM seq_1_to_20000;"
job=$TEST_TMP/job.yaml
write_job "$job" type=all "databases=$db,${db}_x" spec.apply-workers=4 spec.chunk-rows=5000 \
	spec.dump-threads=2 spec.load-threads=2

WORKLOAD_SLEEP=0.03 workload_run "$db" 1 150 >"$TEST_TMP/workload.out" 2>&1 &
wpid=$!
on_exit "kill $wpid 2>/dev/null"

kills=6
for k in $(seq 1 $kills); do
	delay_ms=$((300 + RANDOM % 3700))
	"$TIDM_BIN" migrate "$job" >"$TEST_TMP/run$k.log" 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	where=$(grep -oE '\[(copying|indexing|syncing|[a-z]+)\]|replication (starts|resumes) at|snapshot' "$TEST_TMP/run$k.log" | tail -1 || true)
	echo "kill $k at ${delay_ms} ms: last seen '${where:-starting}'"
done
wait "$wpid" || fail "the workload failed: $(tail -5 "$TEST_TMP/workload.out")"
"$TIDM_BIN" migrate "$job" --until-caught-up >"$TEST_TMP/final.log" 2>&1 ||
	fail "the run after the kills failed (seed $seed): $(tail -10 "$TEST_TMP/final.log")"
assert_tables_equal "$db"
echo "PASS: $TEST_NAME (seed $seed, $kills kills; $(cat "$TEST_TMP"/run*.log "$TEST_TMP/final.log" | grep -c 'RENAME at .* copied after it') renames found in later copies)"
