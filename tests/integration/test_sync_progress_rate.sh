#!/usr/bin/env bash
# The replication progress line's rate is rows per second since replication started: an
# incremental job with a backlog of 10 transactions of 5,000 rows logs no rate above the
# rows it has applied per second so far (the first line divided the rows applied in the
# first 0.2 s by ~0 s: "rows 1586 (2140348555/s)").
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
schema="CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v INT)"
src_sql "$schema"
tgt_sql "$schema"
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)
for ((i = 0; i < 10; i++)); do
	src_sql "INSERT INTO \`$db\`.t SELECT seq, seq FROM \`$db\`.seq_$((i * 5000 + 1))_to_$((i * 5000 + 5000))"
done
write_job "$TEST_TMP/job.yaml" name=progress-rate-$$ type=incremental "databases=$db" \
	start.binlog-file="$file" start.binlog-pos="$pos" spec.apply-workers=2
tidm migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/out" 2>&1 || fail "migrate failed: $(cat "$TEST_TMP/out")"
assert_tables_equal "$db"
grep -q '\[syncing\]' "$TEST_TMP/out" || fail "no progress line: $(cat "$TEST_TMP/out")"
# every line: rate (rows/s) at most the rows applied so far (each line comes >= 0.2 s after the start,
# so rows/0.2 s would be the honest bound; rows itself leaves no room for a ~0 s division)
bad=$(sed -n 's/.*\[syncing\].* rows \([0-9]*\) (\([0-9]*\)\/s).*/\1 \2/p' "$TEST_TMP/out" | awk '$2 > 5 * $1 + 1')
[ -z "$bad" ] || fail "progress rate above what was applied (rows rate): $bad; $(grep syncing "$TEST_TMP/out")"
