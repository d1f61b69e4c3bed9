#!/usr/bin/env bash
# Triggers on the target's selected tables: the job refuses to start, naming each table and
# trigger, before anything is written; with `target: {triggers: allow}` it runs, warns, and
# the triggers fire for the rows tidm writes (what the warning says).
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
schema="CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(20)); CREATE TABLE \`$db\`.u (id INT PRIMARY KEY);"
src_sql "$schema"
tgt_sql "$schema"
src_sql "INSERT INTO \`$db\`.t VALUES (1, 'a'), (2, 'b'), (3, 'c'); INSERT INTO \`$db\`.u VALUES (1)"
tgt_sql "CREATE TRIGGER \`$db\`.t_bi BEFORE INSERT ON \`$db\`.t FOR EACH ROW SET NEW.v = 'by-trigger';
CREATE TRIGGER \`$db\`.u_ad AFTER DELETE ON \`$db\`.u FOR EACH ROW DELETE FROM \`$db\`.t"

for type in full all incremental; do
	write_job "$TEST_TMP/job-$type.yaml" "databases=$db" type=$type name=triggers-$type
	rc=0
	tidm migrate --until-caught-up "$TEST_TMP/job-$type.yaml" >"$TEST_TMP/out-$type" 2>&1 || rc=$?
	# the precheck refuses the job (exit 3) before anything is written
	assert_eq 3 "$rc" "exit status of a $type job with triggers on the target"
	assert_contains "$(cat "$TEST_TMP/out-$type")" "the target has 2 triggers on selected tables: \`$db\`.\`t\` (trigger \`t_bi\` BEFORE INSERT), \`$db\`.\`u\` (trigger \`u_ad\` AFTER DELETE); they would run for every row tidm writes there (the copy and each replicated change) and may change or add rows beyond the source's (whose own triggers' effects already come as rows)"
	assert_contains "$(cat "$TEST_TMP/out-$type")" "tidm: job triggers-$type not started: the precheck failed"
	assert_eq "0 0" "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.t") $(tgt_sql "SELECT COUNT(*) FROM \`$db\`.u")" "nothing written by the refused $type job"
done

# a table not selected may keep its triggers
write_job "$TEST_TMP/job-u.yaml" "tables=$db.u" name=triggers-other
tidm migrate "$TEST_TMP/job-u.yaml" >"$TEST_TMP/out-u" 2>&1 && rc=0 || rc=$?
assert_eq 3 "$rc" "exit status with a trigger on the one selected table"
assert_contains "$(cat "$TEST_TMP/out-u")" "the target has 1 trigger on selected tables: \`$db\`.\`u\` (trigger \`u_ad\` AFTER DELETE);"

# allowed: the job runs, says what will happen, and the trigger does fire
write_job "$TEST_TMP/job-allow.yaml" "databases=$db" name=triggers-allow target.triggers=allow
tidm migrate "$TEST_TMP/job-allow.yaml" >"$TEST_TMP/out-allow" 2>&1 || fail "tidm migrate with triggers: allow failed: $(cat "$TEST_TMP/out-allow")"
assert_contains "$(cat "$TEST_TMP/out-allow")" "the target has 2 triggers on selected tables: \`$db\`.\`t\` (trigger \`t_bi\` BEFORE INSERT), \`$db\`.\`u\` (trigger \`u_ad\` AFTER DELETE); with triggers: allow they run for every row tidm writes there"
assert_eq 3 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.t WHERE v = 'by-trigger'")" "the target's trigger ran for each copied row"

# a bad value is a job-file error
write_job "$TEST_TMP/job-bad.yaml" "databases=$db" name=triggers-bad target.triggers=yes
tidm migrate "$TEST_TMP/job-bad.yaml" >"$TEST_TMP/out-bad" 2>&1 && rc=0 || rc=$?
assert_eq 2 "$rc" "exit status of a bad triggers value"
assert_contains "$(cat "$TEST_TMP/out-bad")" 'job-bad.yaml:13:13: triggers in target is "yes"; expected one of refuse, allow'
