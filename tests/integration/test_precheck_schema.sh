#!/usr/bin/env bash
# Precheck items about what is migrated, each produced on MariaDB, then fixed and seen to
# pass: a non-empty target table in physical mode; an incremental job whose target table is
# missing (named); a keyless table; a keyless table into a non-empty target table; a
# collation the target lacks (a source started with a user-defined collation); a target
# that requires primary keys; triggers, routines and events on the source. And the rules
# around them: `tidm migrate` refuses on a fail and on an unignored warning (exit 3, nothing
# written), starts with --ignore-warnings or with the item's id in precheck.ignore; an
# unknown id there is a job-file error (exit 2).
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`;
	CREATE TABLE \`$db\`.keyed (id INT PRIMARY KEY, v VARCHAR(20));
	CREATE TABLE \`$db\`.uniq (a INT NOT NULL, b INT NOT NULL, UNIQUE KEY (a, b));
	CREATE TABLE \`$db\`.nullable_uniq (a INT NULL, UNIQUE KEY (a));
	CREATE TABLE \`$db\`.\`key less\` (v VARCHAR(20));
	INSERT INTO \`$db\`.keyed VALUES (1, 'a'), (2, 'b');
	INSERT INTO \`$db\`.\`key less\` VALUES ('x'), ('x'), ('y');
	INSERT INTO \`$db\`.nullable_uniq VALUES (NULL), (NULL), (1)"
job=$TEST_TMP/job.yaml

# --- keyless tables: a warning naming exactly those without a usable key --------------------
write_job "$job" name=pc-schema type=all "databases=$db" precheck.ignore=
precheck_run "$job"
assert_eq 3 "$PC_RC" "an unignored warning blocks"
assert_item keyless-tables warning "2 selected tables have no primary key" "\`$db\`.\`key less\`" "\`$db\`.\`nullable_uniq\`"
msg=$(pc_field keyless-tables message)
case "$msg" in *"\`uniq\`"* | *"\`keyed\`"*) fail "keyless-tables names a table with a key: $msg" ;; esac
# migrate refuses, writes nothing
rc=0
tidm migrate "$job" >"$TEST_TMP/m.out" 2>&1 || rc=$?
assert_eq 3 "$rc" "migrate with an unignored warning"
assert_contains "$(cat "$TEST_TMP/m.out")" "has warnings that are not ignored"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$db'")" "nothing written"
# ignored by id: the precheck passes, the item says it is ignored
write_job "$job" name=pc-schema type=all "databases=$db" precheck.ignore=keyless-tables
precheck_run "$job"
assert_eq 0 "$PC_RC"
assert_eq true "$(pc_field keyless-tables ignored)"
# an unknown id is a job-file error naming it and the known ones
write_job "$job" name=pc-schema type=all "databases=$db" precheck.ignore=keyless-table
rc=0
tidm precheck "$job" >"$TEST_TMP/p.out" 2>&1 || rc=$?
assert_eq 2 "$rc" "unknown precheck id"
assert_contains "$(cat "$TEST_TMP/p.out")" "unknown precheck item \"keyless-table\" in precheck.ignore; expected one of source-connection,"
# fixed: keys added, nothing to warn about
src_sql "ALTER TABLE \`$db\`.\`key less\` ADD COLUMN id INT AUTO_INCREMENT PRIMARY KEY;
	ALTER TABLE \`$db\`.nullable_uniq ADD COLUMN id INT AUTO_INCREMENT PRIMARY KEY"
write_job "$job" name=pc-schema type=all "databases=$db" precheck.ignore=
precheck_run "$job"
assert_item keyless-tables pass "every selected table (4)"
src_sql "ALTER TABLE \`$db\`.\`key less\` DROP COLUMN id; ALTER TABLE \`$db\`.nullable_uniq DROP COLUMN id"

# --- a keyless table into a non-empty target table ---------------------------------------
tgt_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.\`key less\` (v VARCHAR(20)); INSERT INTO \`$db\`.\`key less\` VALUES ('old')"
write_job "$job" name=pc-schema type=all "databases=$db"
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item keyless-nonempty fail "\`$db\`.\`key less\` on the target already holds rows and has no key"
write_job "$job" name=pc-schema type=all "databases=$db" spec.keyless-nonempty=append
precheck_run "$job"
assert_item keyless-nonempty pass "\`$db\`.\`key less\`" "as the job asks (spec: keyless-nonempty: append)"
# a warning not ignored stops migrate; --ignore-warnings lets it start: the rows are added as asked
src_sql "CREATE TRIGGER \`$db\`.trg_w BEFORE INSERT ON \`$db\`.keyed FOR EACH ROW SET NEW.v = NEW.v"
rc=0
tidm migrate "$job" --until-caught-up >"$TEST_TMP/m.out" 2>&1 || rc=$?
assert_eq 3 "$rc" "migrate with the source-objects warning: $(tail -3 "$TEST_TMP/m.out")"
assert_contains "$(cat "$TEST_TMP/m.out")" "source-objects"
rc=0
tidm migrate "$job" --ignore-warnings --until-caught-up >"$TEST_TMP/m.out" 2>&1 || rc=$?
assert_eq 0 "$rc" "migrate --ignore-warnings: $(tail -5 "$TEST_TMP/m.out")"
assert_eq 4 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.\`key less\`")" "3 copied rows added to the 1 that was there"
src_sql "DROP TRIGGER \`$db\`.trg_w"
tgt_sql "DROP DATABASE \`$db\`"
_tidm_forget_job pc-schema
write_job "$job" name=pc-schema type=all "databases=$db"
precheck_run "$job"
assert_item keyless-nonempty pass

# --- physical mode into a non-empty target table -----------------------------------------
tgt_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.keyed (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO \`$db\`.keyed VALUES (9, 'z');
	CREATE TABLE \`$db\`.uniq (a INT NOT NULL, b INT NOT NULL, UNIQUE KEY (a, b))"
write_job "$job" name=pc-schema type=full mode=physical "databases=$db"
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item physical-empty fail "mode physical writes only into empty tables, and \`$db\`.\`keyed\` on the target holds rows"
msg=$(pc_field physical-empty message)
case "$msg" in *"\`uniq\`"*) fail "physical-empty names an empty table: $msg" ;; esac
tgt_sql "DELETE FROM \`$db\`.keyed"
precheck_run "$job"
assert_item physical-empty pass "is empty (2 of 4 exist)"
write_job "$job" name=pc-schema type=full "databases=$db"
precheck_run "$job"
assert_item physical-empty pass "not needed"
tgt_sql "DROP DATABASE \`$db\`"

# --- incremental: a selected table missing on the target, named ----------------------------
tgt_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.keyed (id INT PRIMARY KEY, v VARCHAR(20));
	CREATE TABLE \`$db\`.uniq (a INT NOT NULL, b INT NOT NULL, UNIQUE KEY (a, b));
	CREATE TABLE \`$db\`.nullable_uniq (a INT NULL, UNIQUE KEY (a))"
write_job "$job" name=pc-schema-inc type=incremental "databases=$db"
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item target-tables fail "cannot fetch downstream table schema of \`$db\`.\`key less\`" "Error 1146"
rc=0
tidm migrate "$job" --until-caught-up >"$TEST_TMP/m.out" 2>&1 || rc=$?
assert_eq 3 "$rc" "migrate of an incremental job with a missing table"
assert_contains "$(cat "$TEST_TMP/m.out")" "\`$db\`.\`key less\`"
tgt_sql "CREATE TABLE \`$db\`.\`key less\` (v VARCHAR(20))"
precheck_run "$job"
assert_item target-tables pass "all 4 selected tables exist on the target"
tgt_sql "DROP DATABASE \`$db\`"

# --- a target that requires primary keys ----------------------------------------------------
# (an extra server as the target: SET GLOBAL on the shared one would reach other tests)
start_extra_server forcepk
extra_sql forcepk "SET GLOBAL innodb_force_primary_key = ON"
write_job "$job" name=pc-schema type=all "databases=$db" target.host="$EXTRA_HOST" target.port="$EXTRA_PORT" \
	target.user=root target.password="$TIDM_TEST_SOURCE_PASSWORD"
precheck_run "$job"
assert_item require-primary-key fail "innodb_force_primary_key = ON" "\`$db\`.\`key less\`"
extra_sql forcepk "SET GLOBAL innodb_force_primary_key = OFF"
precheck_run "$job"
assert_item require-primary-key pass
stop_extra_server forcepk
write_job "$job" name=pc-schema type=all "databases=$db"

# --- triggers, routines and events on the source: not migrated, said so --------------------
src_sql "CREATE TRIGGER \`$db\`.trg_keyed BEFORE INSERT ON \`$db\`.keyed FOR EACH ROW SET NEW.v = UPPER(NEW.v);
	CREATE PROCEDURE \`$db\`.p_noop() SELECT 1;
	CREATE EVENT \`$db\`.ev_noop ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1"
precheck_run "$job"
assert_item source-objects warning "trigger \`$db\`.\`trg_keyed\`" "routine \`$db\`.\`p_noop\`" "event \`$db\`.\`ev_noop\`" "does not migrate triggers"
src_sql "DROP TRIGGER \`$db\`.trg_keyed; DROP PROCEDURE \`$db\`.p_noop; DROP EVENT \`$db\`.ev_noop"
precheck_run "$job"
assert_item source-objects pass

# --- a collation the target lacks ---------------------------------------------------------
# a source with a user-defined collation (LDML in its own character-sets directory)
cs=$TEST_TMP/charsets
cp -r "$(src_sql "SELECT @@character_sets_dir")" "$cs"
python3 - "$cs/Index.xml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index('<charset name="utf8mb3">')
j = s.index('</charset>', i)
s = s[:j] + '  <collation name="utf8mb3_tidm_test_ci" id="1029">\n   <rules><reset>\\u0000</reset><i>\\u0020</i></rules>\n  </collation>\n' + s[j:]
open(p, "w").write(s)
PY
start_extra_server coll "--character-sets-dir=$cs"
extra_sql coll "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, name VARCHAR(20) CHARACTER SET utf8mb3 COLLATE utf8mb3_tidm_test_ci)"
write_job "$job" name=pc-schema type=all "databases=$db" source.port="$EXTRA_PORT"
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item collations fail "the target lacks collation tidm cannot map to one it has: utf8mb3_tidm_test_ci (used by \`$db\`.\`t\`)"
extra_sql coll "ALTER TABLE \`$db\`.t MODIFY name VARCHAR(20) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci"
precheck_run "$job"
assert_item collations pass "the target has every collation the selected tables use"

# --- generated columns: named; a MariaDB target computes them itself (pass) ---------------
src_sql "CREATE TABLE \`$db\`.gen (id INT PRIMARY KEY, a INT, twice INT AS (a * 2) VIRTUAL, label VARCHAR(20) AS (CONCAT('n', a)) PERSISTENT)"
write_job "$job" name=pc-schema type=all "databases=$db"
precheck_run "$job"
assert_item generated-columns pass "\`$db\`.\`gen\`.\`twice\`" "\`$db\`.\`gen\`.\`label\`" "the target computes them"
