#!/usr/bin/env bash
# Start positions of an incremental job: now, a GTID set (including one that names
# another replication domain), and a binlog file + position. Each job replicates exactly
# the changes after its start.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
schema="CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, phase VARCHAR(10));"
src_sql "$schema"
tgt_sql "$schema"
ids() { tgt_sql "SELECT IFNULL(GROUP_CONCAT(id ORDER BY id), '') FROM \`$db\`.t"; }
reset_target() { tgt_sql "DELETE FROM \`$db\`.t"; }

# --- now ----------------------------------------------------------------------------------
src_sql "INSERT INTO \`$db\`.t VALUES (1, 'before')"
write_job "$TEST_TMP/now.yaml" name=start-now type=incremental "databases=$db"
"$TIDM_BIN" migrate "$TEST_TMP/now.yaml" --until-caught-up >"$TEST_TMP/out" 2>&1 || fail "start now: $(cat "$TEST_TMP/out")"
src_sql "INSERT INTO \`$db\`.t VALUES (2, 'after')"
"$TIDM_BIN" migrate "$TEST_TMP/now.yaml" --until-caught-up >"$TEST_TMP/out" 2>&1 || fail "start now, second run: $(cat "$TEST_TMP/out")"
assert_eq "2" "$(ids)" "start now: only the change after the job started"

# --- file + position -------------------------------------------------------------------------
reset_target
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
pos=$(src_sql "SHOW MASTER STATUS" | cut -f2)
src_sql "INSERT INTO \`$db\`.t VALUES (3, 'after-pos')"
write_job "$TEST_TMP/pos.yaml" name=start-pos type=incremental "databases=$db" start.binlog-file="$file" start.binlog-pos="$pos"
"$TIDM_BIN" migrate "$TEST_TMP/pos.yaml" --until-caught-up >"$TEST_TMP/out" 2>&1 || fail "start file+pos: $(cat "$TEST_TMP/out")"
assert_eq "3" "$(ids)" "start at file+position"

# --- GTID set, two domains -------------------------------------------------------------------
reset_target
src_sql "SET SESSION gtid_domain_id = 5; INSERT INTO \`$db\`.t VALUES (50, 'dom5-old')"
gtid=$(src_sql "SELECT @@GLOBAL.gtid_binlog_pos")
case "$gtid" in *5-*) ;; *) fail "expected a domain-5 GTID in '$gtid'" ;; esac
src_sql "INSERT INTO \`$db\`.t VALUES (4, 'dom0-new')"
src_sql "SET SESSION gtid_domain_id = 5; INSERT INTO \`$db\`.t VALUES (51, 'dom5-new')"
write_job "$TEST_TMP/gtid.yaml" name=start-gtid type=incremental "databases=$db" start.gtid="$gtid"
"$TIDM_BIN" migrate "$TEST_TMP/gtid.yaml" --until-caught-up >"$TEST_TMP/out" 2>&1 || fail "start gtid: $(cat "$TEST_TMP/out")"
assert_eq "4,51" "$(ids)" "start at GTID set $gtid: everything not in it, both domains"
