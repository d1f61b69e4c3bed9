#!/usr/bin/env bash
# Type `all` while a workload runs on the source (multi-statement transactions, inserts,
# updates with primary-key changes, deletes, a 100,000-row transaction, JSON and every
# column type, keyless tables, DDL of every kind): `tidm migrate --until-caught-up` ends
# with every selected table equal to the source, and databases outside the selection
# untouched on the target.
. "$(dirname "$0")/../harness/lib.sh"
. "$TIDM_SRC/tests/harness/workload.sh"

db=$(test_db)
other=$(test_db out)
src_sql "CREATE DATABASE \`$db\`; CREATE DATABASE \`$other\`; CREATE TABLE \`$other\`.t (id INT PRIMARY KEY); INSERT INTO \`$other\`.t VALUES (1);"
workload_setup "$db"
write_job "$TEST_TMP/job.yaml" name=sync-all type=all "databases=$db,${db}_x" spec.chunk-rows=1000 spec.apply-workers=4

# first part of the workload runs while the full phase and the start of replication run
WORKLOAD_SLEEP=0.05 workload_run "$db" 1 60 &
wl=$!
tidm migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/run1" 2>&1 || fail "first run failed: $(cat "$TEST_TMP/run1")"
wait "$wl" || fail "workload part 1 failed"
src_sql "INSERT INTO \`$other\`.t VALUES (2)"
workload_run "$db" 61 120
tidm migrate "$TEST_TMP/job.yaml" --until-caught-up >"$TEST_TMP/run2" 2>&1 || fail "second run failed: $(cat "$TEST_TMP/run2")"
cat "$TEST_TMP/run2"
assert_contains "$(cat "$TEST_TMP/run2")" "caught up with the source"

assert_tables_equal "$db"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name IN ('$other', '${db}_x')")" "unselected and dropped databases absent on the target"
assert_eq 100000 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.w_big")" "the 100,000-row transaction"
assert_eq "id,k,v,j" "$(tgt_sql "SELECT GROUP_CONCAT(column_name ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '$db' AND table_name = 'w_keyed'")" "columns after add/drop"
assert_eq "varchar(200)" "$(tgt_sql "SELECT column_type FROM information_schema.columns WHERE table_schema = '$db' AND table_name = 'w_keyed' AND column_name = 'v'")" "modified column"
# the first run really overlapped the workload: it replicated transactions after its snapshot
assert_contains "$(cat "$TEST_TMP/run1")" "full migration finished"
grep -Eq "replicated [1-9][0-9]* transactions" "$TEST_TMP/run1" || fail "the first run replicated nothing: $(cat "$TEST_TMP/run1")"
