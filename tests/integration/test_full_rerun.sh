#!/usr/bin/env bash
# A finished type full job run again changes nothing on the target (keyless rows are not
# doubled) and says when it finished, even with triggers made on the target since;
# --restart copies again from a new snapshot, emptying the keyless tables tidm filled
# first (on a type incremental job it is a usage error); a keyless target table holding
# rows tidm did not write is refused before anything is written, unless
# spec.keyless-nonempty: append.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`;
CREATE TABLE \`$db\`.k (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO \`$db\`.k SELECT seq, CONCAT('k', seq) FROM \`$db\`.seq_1_to_3000;
CREATE TABLE \`$db\`.nokey (a INT, b VARCHAR(20));
INSERT INTO \`$db\`.nokey VALUES (1,'x'),(1,'x'),(2,'y'),(3,NULL),(4,'z'),(5,'z');"

write_job "$TEST_TMP/job.yaml" name=rerun-job "databases=$db" spec.chunk-rows=1000
tidm migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/run1" 2>&1 || fail "first run failed: $(cat "$TEST_TMP/run1")"
assert_tables_equal "$db"
snap=$(tgt_sql "SELECT CONCAT(snap_file, ':', snap_pos) FROM tidm_meta.jobs WHERE name = 'rerun-job'")

# the same command again: the finished job is reported, nothing is written
tgt_sql "UPDATE \`$db\`.k SET v = 'MARKER' WHERE id = 7"
rc=0
tidm migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/run2" 2>&1 || rc=$?
cat "$TEST_TMP/run2"
assert_eq 6 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.nokey")" "keyless rows after the rerun"
assert_eq MARKER "$(tgt_sql "SELECT v FROM \`$db\`.k WHERE id = 7")" "a keyed row was not rewritten"
assert_eq 0 "$rc" "exit status of a finished job run again"
assert_contains "$(cat "$TEST_TMP/run2")" "job rerun-job: finished at 20"
assert_contains "$(cat "$TEST_TMP/run2")" "(snapshot FTWRL $snap gtid "
assert_contains "$(cat "$TEST_TMP/run2")" "nothing copied, the target is unchanged"
assert_contains "$(cat "$TEST_TMP/run2")" "to copy it again from a new snapshot: tidm migrate --restart $TEST_TMP/job.yaml"
# the command it suggests can be pasted when the job file's path has a space or a quote
mkdir -p "$TEST_TMP/my jobs"
cp "$TEST_TMP/job.yaml" "$TEST_TMP/my jobs/it's.yaml"
tidm migrate "$TEST_TMP/my jobs/it's.yaml" >"$TEST_TMP/run2q" 2>&1 || fail "rerun from a quoted path failed: $(cat "$TEST_TMP/run2q")"
assert_contains "$(cat "$TEST_TMP/run2q")" "tidm migrate --restart '$TEST_TMP/my jobs/it'\\''s.yaml'"
tgt_sql "UPDATE \`$db\`.k SET v = 'k7' WHERE id = 7"
assert_tables_equal "$db"

# triggers made on the target after the migration (as the trigger refusal advises) do not
# fail the finished job run again, which writes nothing; it stays finished
tgt_sql "CREATE TRIGGER \`$db\`.k_bi BEFORE INSERT ON \`$db\`.k FOR EACH ROW SET NEW.v = 'by-trigger'"
rc=0
tidm migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/run2t" 2>&1 || rc=$?
cat "$TEST_TMP/run2t"
assert_eq 0 "$rc" "exit status of a finished job run again with a trigger on the target"
assert_contains "$(cat "$TEST_TMP/run2t")" "nothing copied, the target is unchanged"
assert_eq finished "$(tgt_sql "SELECT state FROM tidm_meta.jobs WHERE name = 'rerun-job'")" "job state after the rerun"
tgt_sql "DROP TRIGGER \`$db\`.k_bi"

# --restart: a new snapshot, the keyless table emptied first (and said so), then equal
src_sql "INSERT INTO \`$db\`.nokey VALUES (6, 'new'); INSERT INTO \`$db\`.k VALUES (3001, 'new')"
tidm migrate "$TEST_TMP/job.yaml" --restart >"$TEST_TMP/run3" 2>&1 || fail "--restart failed: $(cat "$TEST_TMP/run3")"
cat "$TEST_TMP/run3"
assert_contains "$(cat "$TEST_TMP/run3")" "\`$db\`.\`nokey\` has no key: emptied it on the target before copying it again"
assert_contains "$(cat "$TEST_TMP/run3")" "job rerun-job: full migration finished"
assert_contains "$(cat "$TEST_TMP/run3")" "(0 already done before this run)"
[ "$(tgt_sql "SELECT CONCAT(snap_file, ':', snap_pos) FROM tidm_meta.jobs WHERE name = 'rerun-job'")" != "$snap" ] ||
	fail "--restart kept the old snapshot position $snap"
assert_eq 7 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.nokey")" "keyless rows after --restart"
assert_tables_equal "$db"
# and a plain rerun after the restart changes nothing again
tidm migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/run4" 2>&1 || fail "rerun after --restart failed: $(cat "$TEST_TMP/run4")"
assert_contains "$(cat "$TEST_TMP/run4")" "nothing copied, the target is unchanged"
assert_tables_equal "$db"

# a keyless table that has a key on the source by the next --restart: its target copy keeps
# no key (an existing target table is not altered), so it is still emptied first, not doubled
src_sql "DELETE FROM \`$db\`.nokey WHERE a = 1; ALTER TABLE \`$db\`.nokey MODIFY a INT NOT NULL, ADD PRIMARY KEY (a)"
tidm migrate "$TEST_TMP/job.yaml" --restart >"$TEST_TMP/run5" 2>&1 || fail "--restart after a key was added failed: $(cat "$TEST_TMP/run5")"
assert_contains "$(cat "$TEST_TMP/run5")" "\`$db\`.\`nokey\` has no key: emptied it on the target before copying it again"
assert_eq 5 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.nokey")" "rows of the table that gained a key, after --restart"
assert_tables_equal "$db"
src_sql "ALTER TABLE \`$db\`.nokey DROP PRIMARY KEY, MODIFY a INT NULL; INSERT INTO \`$db\`.nokey VALUES (1,'x'),(1,'x')"

# A keyless target table with rows tidm did not write: refused, naming it, nothing written.
tgt_sql "DROP DATABASE \`$db\`"
tgt_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.nokey (a INT, b VARCHAR(20)); INSERT INTO \`$db\`.nokey VALUES (99, 'theirs')"
write_job "$TEST_TMP/job-f.yaml" name=rerun-foreign "databases=$db"
rc=0
tidm migrate "$TEST_TMP/job-f.yaml" >"$TEST_TMP/out-f" 2>&1 || rc=$?
cat "$TEST_TMP/out-f"
# the precheck refuses it (exit 3, item keyless-nonempty) before anything is written
assert_eq 3 "$rc" "exit status when a keyless target table holds other rows"
assert_contains "$(cat "$TEST_TMP/out-f")" "\`$db\`.\`nokey\` on the target already holds rows and has no key"
assert_contains "$(cat "$TEST_TMP/out-f")" "set spec: {keyless-nonempty: append}"
assert_eq "" "$(tgt_sql "SHOW TABLES FROM \`$db\` LIKE 'k'")" "no table created when refused"
assert_eq 1 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.nokey")" "no row written when refused"
# the same again refuses the same way (the refusal did not claim the table)
rc=0
tidm migrate "$TEST_TMP/job-f.yaml" >"$TEST_TMP/out-f2" 2>&1 || rc=$?
assert_eq 3 "$rc" "exit status of the refused job run again"
assert_contains "$(cat "$TEST_TMP/out-f2")" "\`$db\`.\`nokey\` on the target already holds rows and has no key"
assert_eq 1 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.nokey")" "still no row written"

# allowed with the option: the source's rows are added to the target's
write_job "$TEST_TMP/job-a.yaml" name=rerun-append "databases=$db" spec.keyless-nonempty=append
tidm migrate "$TEST_TMP/job-a.yaml" >"$TEST_TMP/out-a" 2>&1 || fail "append run failed: $(cat "$TEST_TMP/out-a")"
assert_contains "$(cat "$TEST_TMP/out-a")" "\`$db\`.\`nokey\` has no key and already holds rows on the target: the source's rows are added to them (spec.keyless-nonempty: append)"
assert_eq 8 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.nokey")" "target row + source rows"
assert_eq 1 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.nokey WHERE a = 99")" "the target's own row kept"
tgt_sql "DELETE FROM \`$db\`.nokey WHERE a = 99"
assert_tables_equal "$db"

# a bad value of the option is a job-file error (exit 2)
write_job "$TEST_TMP/job-bad.yaml" name=rerun-bad "databases=$db" spec.keyless-nonempty=sometimes
rc=0
tidm migrate "$TEST_TMP/job-bad.yaml" >"$TEST_TMP/out-bad" 2>&1 || rc=$?
assert_eq 2 "$rc" "exit status of a bad spec.keyless-nonempty"
assert_contains "$(cat "$TEST_TMP/out-bad")" "keyless-nonempty"

# --restart on a type incremental job is a usage error (exit 2), before any connection:
# nothing to resume, no job record made or changed
write_job "$TEST_TMP/job-inc.yaml" name=rerun-inc "databases=$db" type=incremental
rc=0
tidm migrate --restart "$TEST_TMP/job-inc.yaml" >"$TEST_TMP/out-inc" 2>&1 || rc=$?
assert_eq 2 "$rc" "exit status of --restart on a type incremental job"
assert_contains "$(cat "$TEST_TMP/out-inc")" "tidm: $TEST_TMP/job-inc.yaml: --restart starts a job's full phase again from a new snapshot; job rerun-inc is type incremental and has none"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.jobs WHERE name = 'rerun-inc'")" "no job record for the refused --restart"
