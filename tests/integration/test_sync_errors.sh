#!/usr/bin/env bash
# Replication errors of SPEC §5: a duplicate key fails the job naming table and key, and
# --replace-conflicts overwrites with the source's row; an UPDATE/DELETE of a row missing
# on the target is reported with table and key; an incremental job whose target table is
# missing names it; a purged binlog gives the exact message.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
schema="CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(20));"
src_sql "$schema"
tgt_sql "$schema"
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)
write_job "$TEST_TMP/job.yaml" name=sync-errors type=incremental "databases=$db" start.binlog-file="$file" start.binlog-pos="$pos"

run_tidm() {
	local want=$1 rc=0
	shift
	out=$("$TIDM_BIN" "$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "tidm $*: exit $rc, expected $want; output: $out"
}

# --- duplicate key ------------------------------------------------------------------------
tgt_sql "INSERT INTO \`$db\`.t VALUES (1, 'target-only')"
src_sql "INSERT INTO \`$db\`.t VALUES (1, 'from-source'), (2, 'two')"
run_tidm 1 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_contains "$out" "duplicate key while replicating"
assert_contains "$out" "\`$db\`.\`t\`"
assert_contains "$out" "Duplicate entry '1'"
assert_eq "target-only" "$(tgt_sql "SELECT v FROM \`$db\`.t WHERE id = 1")" "target row kept after the failure"
assert_eq failed "$(tgt_sql "SELECT state FROM tidm_meta.jobs WHERE name = 'sync-errors'")" "job state"
run_tidm 0 migrate "$TEST_TMP/job.yaml" --until-caught-up --replace-conflicts
assert_eq "from-source" "$(tgt_sql "SELECT v FROM \`$db\`.t WHERE id = 1")" "--replace-conflicts overwrote the row"
assert_tables_equal "$db"

# --- missing row ----------------------------------------------------------------------------
tgt_sql "DELETE FROM \`$db\`.t WHERE id = 2"
src_sql "UPDATE \`$db\`.t SET v = 'changed' WHERE id = 2"
run_tidm 1 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_contains "$out" "row missing on the target: \`$db\`.\`t\` (id=2)"
tgt_sql "INSERT INTO \`$db\`.t VALUES (2, 'two')"
run_tidm 0 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_tables_equal "$db"
tgt_sql "DELETE FROM \`$db\`.t WHERE id = 1"
src_sql "DELETE FROM \`$db\`.t WHERE id = 1"
run_tidm 1 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_contains "$out" "row missing on the target: \`$db\`.\`t\` (id=1) is not there to delete"
tgt_sql "INSERT INTO \`$db\`.t VALUES (1, 'from-source')"
run_tidm 0 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_tables_equal "$db"

# --- the same errors inside grouped statements ---------------------------------------------
# A worker sends the changes of many rows as one statement (INSERT ... ON DUPLICATE KEY
# UPDATE for updates, DELETE ... IN for deletes); the row at fault must still be named, and
# after the repair the rerun applies each change once (rows of a transaction go to several
# workers; each worker's share commits on its own, with that worker's checkpoint).
src_sql "INSERT INTO \`$db\`.t SELECT seq, CONCAT('r', seq) FROM \`$db\`.seq_10_to_99"
run_tidm 0 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_tables_equal "$db"
tgt_sql "DELETE FROM \`$db\`.t WHERE id = 57"
src_sql "UPDATE \`$db\`.t SET v = CONCAT(v, '-u') WHERE id BETWEEN 10 AND 99"
run_tidm 1 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_contains "$out" "row missing on the target: \`$db\`.\`t\` (id=57) is not there to update"
tgt_sql "INSERT INTO \`$db\`.t VALUES (57, 'r57')"
run_tidm 0 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_tables_equal "$db"
tgt_sql "DELETE FROM \`$db\`.t WHERE id = 33"
src_sql "DELETE FROM \`$db\`.t WHERE id BETWEEN 20 AND 49"
run_tidm 1 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_contains "$out" "row missing on the target: \`$db\`.\`t\` (id=33) is not there to delete"
tgt_sql "INSERT INTO \`$db\`.t VALUES (33, 'r33-u')"
run_tidm 0 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_tables_equal "$db"
# a duplicate key inside a multi-row INSERT still names the table and the key
tgt_sql "INSERT INTO \`$db\`.t VALUES (305, 'target-only')"
src_sql "INSERT INTO \`$db\`.t SELECT seq, 'new' FROM \`$db\`.seq_300_to_310"
run_tidm 1 migrate "$TEST_TMP/job.yaml" --until-caught-up
assert_contains "$out" "duplicate key while replicating \`$db\`.\`t\`"
assert_contains "$out" "Duplicate entry '305'"
run_tidm 0 migrate "$TEST_TMP/job.yaml" --until-caught-up --replace-conflicts
assert_tables_equal "$db"

# --- incremental job, target table missing --------------------------------------------------
src_sql "CREATE TABLE \`$db\`.only_source (id INT PRIMARY KEY)"
write_job "$TEST_TMP/job2.yaml" name=sync-missing-table type=incremental "databases=$db"
# the precheck finds it first (exit 3), naming the table as the reference does
run_tidm 3 migrate "$TEST_TMP/job2.yaml" --until-caught-up
assert_contains "$out" "cannot fetch downstream table schema of \`$db\`.\`only_source\`"
assert_contains "$out" "Error 1146"

# --- binlog purged -------------------------------------------------------------------------
src_sql "DROP TABLE \`$db\`.only_source"
src_sql "FLUSH BINARY LOGS"
src_sql "FLUSH BINARY LOGS"
last=$(src_sql "SHOW MASTER STATUS" | cut -f1)
# a binlog still read by a (just ended) replica connection is not purged: wait for them to go
wait_for "[ \$(src_sql \"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'\") = 0 ]" 30 "replica connections to end"
# MariaDB also keeps a binlog until its binlog checkpoint (InnoDB crash recovery) has moved
# past it, which happens in the background: purge until the file is gone.
purged() {
	src_sql "PURGE BINARY LOGS TO '$last'" >/dev/null
	! src_sql "SHOW BINARY LOGS" | cut -f1 | grep -qx "$file"
}
wait_for purged 30 "$file to be purged"
write_job "$TEST_TMP/job3.yaml" name=sync-purged type=incremental "databases=$db" start.binlog-file="$file" start.binlog-pos="$pos"
# the precheck finds the start file gone (exit 3) with the SPEC's words
run_tidm 3 migrate "$TEST_TMP/job3.yaml" --until-caught-up
assert_contains "$out" "The required binary log for migration no longer exists on the source database"
assert_contains "$out" "Please make sure binary log files are kept for long enough time for migration to succeed."
