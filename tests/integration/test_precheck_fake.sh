#!/usr/bin/env bash
# Precheck items MariaDB cannot produce, against the scripted fake MySQL primary
# (tests/harness/fake_primary.c --answers): an Aurora reader with an incremental job; MySQL
# gtid_mode OFF with a GTID start; RDS's binlog retention hours (NULL, short, enough); the
# statement names of MySQL 8.4 (SHOW BINARY LOG STATUS) with binlog_do_db; the fix hints of
# Azure and Cloud SQL; a MySQL 8 collation the MariaDB target lacks, mapped. Each is then
# fixed and seen to pass.
. "$(dirname "$0")/../harness/lib.sh"

FAKE=${TIDM_FAKE_PRIMARY:-$TIDM_BUILD/tidm_fake_primary}
[ -x "$FAKE" ] || fail "tidm_fake_primary not built ($FAKE)"
BIN=$TIDM_FIXTURES/binlog/mysql-binlog-connector-rust/mysql-bin.000057
[ -r "$BIN" ] || fail "fixture missing: $BIN"
export FAKE_PW='fake-Primary-pw3'
u=76f3e7be-6720-11ed-9cad-0242ac110002
fpid=
stop_fake() { [ -z "$fpid" ] || { kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null || true; }; fpid=; }
on_exit stop_fake
# fake ANSWERS-FILE [fake args]: (re)start the fake primary; sets $port
fake() {
	local answers=$1
	shift
	stop_fake
	: >"$TEST_TMP/fake.port"
	"$FAKE" --binlog "$BIN" --password-env FAKE_PW --answers "$answers" "$@" >"$TEST_TMP/fake.port" 2>>"$TEST_TMP/fake.log" &
	fpid=$!
	wait_for "[ -s '$TEST_TMP/fake.port' ]" 10 "the fake primary to listen"
	port=$(head -1 "$TEST_TMP/fake.port")
}
db=$(test_db)
tgt_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY)"
job=$TEST_TMP/job.yaml
# job TYPE [write_job args]: a job on the fake primary
job() {
	local type=$1
	shift
	write_job "$job" name=pc-fake type="$type" "databases=$db" source.port="$port" source.user=root \
		source.password-env=FAKE_PW precheck.ignore=sql-mode "$@"
}
a=$TEST_TMP/answers

# --- an Aurora reader: incremental refused, type full allowed -------------------------------
cat >"$a" <<'EOF'
query= SELECT AURORA_VERSION()
columns: AURORA_VERSION()
row: 3.05.2
set-var: innodb_read_only ON
set-var: aurora_version 3.05.2
EOF
fake "$a"
job incremental
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item source-version fail "the source is an Aurora reader instance" "a type incremental job cannot replicate from it"
assert_contains "$(pc_field source-version fix)" "cluster (writer) endpoint"
job full
precheck_run "$job"
assert_item source-version pass "(Aurora writer)" "Amazon Aurora"
# the writer
sed -i 's/^set-var: innodb_read_only ON/set-var: innodb_read_only OFF/' "$a"
fake "$a"
job incremental
precheck_run "$job"
assert_item source-version pass "MySQL 8.0.36 (Aurora writer) (Amazon Aurora)"

# --- gtid_mode OFF with a GTID start ------------------------------------------------------
printf 'set-var: gtid_mode OFF\n' >"$a"
fake "$a"
job incremental start.gtid="$u:1-10"
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item gtid-mode fail "the source's gtid_mode is OFF"
assert_contains "$(pc_field gtid-mode fix)" "MySQL: SET PERSIST gtid_mode = ON"
printf 'set-var: gtid_mode ON_PERMISSIVE\n' >"$a"
fake "$a"
job incremental start.gtid="$u:1-10"
precheck_run "$job"
assert_item gtid-mode pass "gtid_mode = ON_PERMISSIVE"

# --- Amazon RDS: binlog retention hours ----------------------------------------------------
rds() { # HOURS (\N for NULL)
	cat >"$a" <<EOF
set-var: basedir /rdsdbbin/mysql-8.0.36.R1/
query: SELECT value FROM mysql.rds_configuration WHERE name = 'binlog retention hours'
columns: value
row: $1
EOF
	fake "$a"
	job incremental
	precheck_run "$job"
}
rds '\N'
assert_eq 3 "$PC_RC"
assert_item binlog-retention fail "binlog retention hours = NULL (binary logs are removed within minutes)"
assert_contains "$(pc_field binlog-retention fix)" "CALL mysql.rds_set_configuration('binlog retention hours', 168);"
assert_eq "Amazon RDS" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["source_hosting"])' "$TEST_TMP/precheck.json")"
rds 24
assert_item binlog-retention warning "binlog retention hours = 24" "1d 0h"
rds 168
assert_item binlog-retention pass "binlog retention hours = 168"
assert_item binlog-format pass

# --- MySQL 8.4: SHOW MASTER STATUS is gone; binlog_do_db leaves the database out ----------
cat >"$a" <<EOF
query= SHOW BINARY LOG STATUS
columns: File	Position	Binlog_Do_DB	Binlog_Ignore_DB	Executed_Gtid_Set
row: mysql-bin.000057	1000	other_db		$u:1-13
EOF
fake "$a" --server-version 8.4.3
job incremental
precheck_run "$job"
assert_item binlog-db-filter fail "does not write the changes of \`$db\` to its binary log (binlog_do_db = other_db)"
: >"$a"
fake "$a" --server-version 8.4.3
job incremental
precheck_run "$job"
assert_item binlog-db-filter pass "no binlog_do_db / binlog_ignore_db"
assert_item binlog-runway pass "the needed binlog position stays on the source"
assert_item source-version pass "MySQL 8.4.3"
assert_contains "$(cat "$TEST_TMP/fake.log")" "SHOW BINARY LOG STATUS"

# --- hosting-specific fixes: Azure, Cloud SQL ----------------------------------------------
printf 'set-var: aad_auth_only OFF\nset-var: binlog_row_image MINIMAL\n' >"$a"
fake "$a"
job incremental
precheck_run "$job"
assert_item binlog-row-image fail "binlog_row_image is MINIMAL"
assert_contains "$(pc_field binlog-row-image fix)" "Azure Database for MySQL Flexible Server: in the portal, Settings > Server parameters, set binlog_row_image to FULL"
printf 'set-var: cloudsql_iam_authentication OFF\nset-var: binlog_format MIXED\n' >"$a"
fake "$a"
job incremental
precheck_run "$job"
assert_item binlog-format fail "binlog_format is MIXED"
assert_contains "$(pc_field binlog-format fix)" "Google Cloud SQL: set the database flag binlog_format=ROW"

# --- a MySQL 8 collation the MariaDB target lacks: mapped, said so --------------------------
cat >"$a" <<EOF
query~ ^SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES
columns: TABLE_SCHEMA	TABLE_NAME	ENGINE	TABLE_COLLATION
row: $db	t	InnoDB	utf8mb4_0900_ai_ci
query~ ^SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLLATION_NAME, EXTRA FROM information_schema.COLUMNS
columns: TABLE_SCHEMA	TABLE_NAME	COLUMN_NAME	COLLATION_NAME	EXTRA
row: $db	t	name	utf8mb4_0900_ai_ci	
query~ ^SELECT SCHEMA_NAME FROM information_schema.SCHEMATA
columns: SCHEMA_NAME
row: $db
EOF
fake "$a"
job full
precheck_run "$job"
assert_item collations warning "utf8mb4_0900_ai_ci -> utf8mb4_" "\`$db\`.\`t\`"
sed -i 's/utf8mb4_0900_ai_ci/utf8mb4_general_ci/g' "$a"
fake "$a"
job full
precheck_run "$job"
assert_item collations pass "the target has every collation"

# --- an item that hangs: its timeout makes it a warning, the others still answer ------------
cat >"$a" <<'EOF2'
query: SHOW GRANTS
sleep: 5000
columns: Grants for root@%
row: GRANT ALL PRIVILEGES ON *.* TO `root`@`%`
EOF2
fake "$a"
job incremental precheck.timeout=1
t0=$SECONDS
precheck_run "$job"
[ $((SECONDS - t0)) -lt 5 ] || fail "the precheck waited for the hanging item ($((SECONDS - t0)) s)"
assert_item source-privileges warning "could not check the source user's privileges (SHOW GRANTS)"
assert_item binlog-format pass "binlog_format = ROW"
