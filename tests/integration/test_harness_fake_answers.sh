#!/usr/bin/env bash
# test_harness_fake_answers.sh - the harness pieces the precheck tests stand on:
#  1. tidm_fake_primary --answers FILE: scripted result sets (tab- and |-separated, NULL),
#     errors, first match wins, set-var / unset-var / set-status changing the built-in lists
#     (SHOW GLOBAL VARIABLES, SELECT @@GLOBAL.x and @@x alike), the built-in answers of a
#     MySQL 8.0 primary (variables with LIKE / WHERE filters, status, grants, databases,
#     empty information_schema SELECTs), several clients at once, and a malformed file
#     refused with FILE:LINE and exit 2;
#  2. start_extra_server: a throwaway MariaDB with --skip-log-bin, stopped on request.
. "$(dirname "$0")/../harness/lib.sh"

FAKE=${TIDM_FAKE_PRIMARY:-$TIDM_BUILD/tidm_fake_primary}
[ -x "$FAKE" ] || fail "tidm_fake_primary not built ($FAKE)"
BINLOG=$TIDM_FIXTURES/binlog/mysql-binlog-connector-java/mysql-bin.checksum-crc32
[ -r "$BINLOG" ] || fail "fixture missing: $BINLOG"
export FAKE_PW='fake-Answers-pw1'
TAB=$'\t'

# start_fake ARGS...: sets FAKE_PORT, FAKE_LOG
start_fake() {
	local out=$TEST_TMP/fake.$RANDOM
	"$FAKE" --binlog "$BINLOG" --password-env FAKE_PW "$@" >"$out.port" 2>"$out.log" &
	local pid=$!
	on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for "[ -s '$out.port' ]" 10 "the fake primary to listen"
	FAKE_PORT=$(head -1 "$out.port")
	FAKE_LOG=$out.log
}
# fq "SQL": the fake's answer, batch, no column names; stderr kept in $TEST_TMP/fq.err
fq() {
	MYSQL_PWD=$FAKE_PW "$_tidm_client" --no-defaults --protocol=TCP -h127.0.0.1 -P"$FAKE_PORT" -uroot \
		--batch --skip-column-names -e "$1" 2>"$TEST_TMP/fq.err"
}
# fq_err "SQL": the client's error line for SQL (which must fail)
fq_err() {
	if fq "$1" >/dev/null; then fail "expected an error for: $1"; fi
	cat "$TEST_TMP/fq.err"
}

# --- 1. answers -----------------------------------------------------------------------------
cat >"$TEST_TMP/answers" <<EOF
# a scripted Aurora writer with gtid_mode OFF
query: SELECT AURORA_VERSION()
columns: AURORA_VERSION()
row: 3.05.2

query= SHOW GLOBAL VARIABLES LIKE 'aurora%'
columns| Variable_name | Value
row| aurora_version | 3.05.2
row| aurora_server_id | \N

# first match wins: the second entry for the same text is never used
query: SELECT AURORA_VERSION()
columns: x
row: never

query~ ^select .* from mysql\.user( |$)
query: SELECT COUNT(*) FROM mysql.db
error: 1142 SELECT command denied to user 'root'@'127.0.0.1' for table 'user'

query: SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES
columns: TABLE_SCHEMA${TAB}TABLE_NAME${TAB}TABLE_COLLATION
row: shop${TAB}orders${TAB}utf8mb4_0900_ai_ci
row: shop${TAB}a\tb${TAB}\N

query: PURGE BINARY LOGS
error: 1227 #42000 Access denied; you need (at least one of) the SUPER privilege(s) for this operation

query: SLOW
sleep: 1500
ok

set-var: gtid_mode OFF
set-var: log_bin 0
set-var: binlog_expire_logs_seconds 3600
set-var: rds_extra_var something else
unset-var: expire_logs_days
set-status: Threads_connected 42
EOF
start_fake --answers "$TEST_TMP/answers"

assert_eq "3.05.2" "$(fq "select   aurora_version()")" "scripted single value (whitespace and case ignored)"
assert_eq "aurora_server_id${TAB}NULL
aurora_version${TAB}3.05.2" "$(fq "SHOW GLOBAL VARIABLES LIKE 'aurora%'" | sort)" "|-separated rows, \\N is NULL"
assert_eq "shop${TAB}orders${TAB}utf8mb4_0900_ai_ci
shop${TAB}a\\tb${TAB}NULL" "$(fq "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop'")" \
	"tab-separated rows with an escaped tab (prefix match)"
assert_contains "$(fq_err "SELECT user, host FROM mysql.user")" \
	"ERROR 1142 (42000) at line 1: SELECT command denied to user 'root'@'127.0.0.1' for table 'user'" "regex entry error"
assert_contains "$(fq_err "SELECT COUNT(*) FROM mysql.db")" "ERROR 1142" "second query line of one entry"
assert_contains "$(fq_err "PURGE BINARY LOGS BEFORE NOW()")" \
	"ERROR 1227 (42000) at line 1: Access denied; you need (at least one of) the SUPER privilege(s)" "explicit SQLSTATE"
assert_contains "$(cat "$FAKE_LOG")" "answers:2 answers: select   aurora_version()" "the log names the entry"

# set-var / unset-var / set-status against the built-in lists
assert_eq "OFF${TAB}0${TAB}0${TAB}3600" "$(fq "SELECT @@GLOBAL.gtid_mode, @@log_bin, @@global.log_bin AS lb, @@binlog_expire_logs_seconds")" \
	"SELECT @@ sees set-var (booleans as 0/1)"
assert_eq "binlog_expire_logs_seconds${TAB}3600
gtid_mode${TAB}OFF
log_bin${TAB}OFF
rds_extra_var${TAB}something else" \
	"$(fq "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('gtid_mode', 'log_bin', 'rds_extra_var') OR Variable_name = 'binlog_expire_logs_seconds'")" \
	"SHOW GLOBAL VARIABLES sees set-var (sorted, ON/OFF)"
assert_contains "$(fq_err "SELECT @@GLOBAL.expire_logs_days")" "ERROR 1193 (HY000) at line 1: Unknown system variable 'expire_logs_days'" "unset-var"
assert_eq "" "$(fq "SHOW VARIABLES LIKE 'expire_logs_days'")" "unset-var hides it from SHOW VARIABLES"
assert_eq "Threads_connected${TAB}42" "$(fq "SHOW GLOBAL STATUS LIKE 'Threads_conn%'")" "set-status"

# several clients at once: a slow answer does not hold up another connection
start=$SECONDS
fq "SLOW QUERY" >/dev/null &
slow=$!
sleep 0.3
assert_eq "OFF" "$(fq "SELECT @@gtid_mode")" "a second client while the first waits"
wait "$slow" || fail "the slow scripted OK failed: $(cat "$TEST_TMP/fq.err")"

# --- built-in answers (no answers file) -----------------------------------------------------
start_fake
vars=$(fq "SHOW GLOBAL VARIABLES")
for kv in "server_id${TAB}1" "log_bin${TAB}ON" "binlog_format${TAB}ROW" "binlog_row_image${TAB}FULL" \
	"binlog_expire_logs_seconds${TAB}2592000" "expire_logs_days${TAB}0" "gtid_mode${TAB}ON" \
	"enforce_gtid_consistency${TAB}ON" "max_connections${TAB}151" "lower_case_table_names${TAB}0" \
	"time_zone${TAB}SYSTEM" "system_time_zone${TAB}UTC" "version${TAB}8.0.36" "basedir${TAB}/usr/" \
	"character_set_server${TAB}utf8mb4" "collation_server${TAB}utf8mb4_0900_ai_ci" \
	"log_replica_updates${TAB}ON" "binlog_transaction_compression${TAB}OFF" "binlog_checksum${TAB}CRC32" \
	"server_uuid${TAB}5a0c1c7e-8b0a-11ee-9f00-0242ac120002"; do
	assert_contains "$vars" "$kv" "built-in SHOW GLOBAL VARIABLES"
done
assert_eq "binlog_format${TAB}ROW" "$(fq "SHOW GLOBAL VARIABLES LIKE 'binlog\\_format'")" "LIKE filter"
assert_eq "1${TAB}ON${TAB}CRC32${TAB}8.0.36" "$(fq "SELECT @@server_id, @@GLOBAL.gtid_mode, @@global.binlog_checksum, @@version")" "SELECT @@ built-ins"
assert_eq "8.0.36" "$(fq "SELECT VERSION()")" "VERSION()"
assert_contains "$(fq "SHOW GLOBAL STATUS")" "Threads_connected${TAB}1" "built-in status"
assert_eq "GRANT ALL PRIVILEGES ON *.* TO \`root\`@\`%\` WITH GRANT OPTION" "$(fq "SHOW GRANTS FOR CURRENT_USER()")" "grants"
assert_eq "$(fq "SHOW GRANTS FOR CURRENT_USER()")" "$(fq "SHOW GRANTS")" "SHOW GRANTS"
assert_eq "information_schema mysql performance_schema sys" "$(fq "SHOW DATABASES" | tr '\n' ' ' | sed 's/ $//')" "databases"
assert_eq "" "$(fq "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'")" "empty information_schema"
cols=$(MYSQL_PWD=$FAKE_PW "$_tidm_client" --no-defaults --protocol=TCP -h127.0.0.1 -P"$FAKE_PORT" -uroot --batch \
	--column-names -e "SELECT t.TABLE_SCHEMA, \`ENGINE\` AS e, COUNT(*) n FROM information_schema.TABLES t WHERE x = 'a, b'")
assert_eq "TABLE_SCHEMA${TAB}e${TAB}n
NULL${TAB}NULL${TAB}0" "$cols" "column names from the select list; COUNT(*) without GROUP BY gives one row"
assert_contains "$(fq_err "SELECT nothing_scripted()")" "tidm fake primary does not answer this statement" "unknown statement"
assert_contains "$(fq "SHOW BINARY LOGS")" "mysql-bin.checksum-crc32" "SHOW BINARY LOGS still answered"

# --- malformed answers files: FILE:LINE, exit 2 ---------------------------------------------
bad() { # bad "CONTENT" "EXPECTED MESSAGE"
	printf '%s\n' "$1" >"$TEST_TMP/bad"
	local rc=0
	"$FAKE" --binlog "$BINLOG" --answers "$TEST_TMP/bad" >/dev/null 2>"$TEST_TMP/bad.err" || rc=$?
	assert_eq 2 "$rc" "exit code for a malformed answers file ($2)"
	assert_contains "$(cat "$TEST_TMP/bad.err")" "$TEST_TMP/bad:$2"
}
bad "query: X
columns: a${TAB}b
row: 1" "3: row has 1 field(s), the columns are 2"
bad "# c
row: 1" "2: 'row' before any 'query' line"
bad "query: X" "1: the entry of $TEST_TMP/bad:1 has no answer"
bad "query~ (" "1: bad regular expression"
bad "query: X
error: abc" "2: error: CODE [#SQLSTATE] MESSAGE expected"
bad "query: X
ok
columns: a" "3: second answer for the entry"
bad "frobnicate: 1" "1: unknown keyword 'frobnicate'"

# --- 2. an extra server with --skip-log-bin ---------------------------------------------------
start_extra_server nolog --skip-log-bin
[ "$EXTRA_PORT" != "$TIDM_TEST_SOURCE_PORT" ] && [ "$EXTRA_PORT" != "$TIDM_TEST_TARGET_PORT" ] ||
	fail "the extra server took a port of the pair ($EXTRA_PORT)"
assert_eq "0" "$(extra_sql nolog "SELECT @@log_bin")" "log_bin of the extra server"
assert_eq "1" "$(src_sql "SELECT @@log_bin")" "the source keeps its binary log"
pid=$(cat "$TIDM_TESTDB_DIR/extra-nolog/mariadbd.pid")
kill -0 "$pid" || fail "no extra server process $pid"
stop_extra_server nolog
if kill -0 "$pid" 2>/dev/null; then fail "the extra server (pid $pid) still runs after stop_extra_server"; fi
[ ! -d "$TIDM_TESTDB_DIR/extra-nolog" ] || fail "extra-nolog directory left behind"
src_sql "SELECT 1" >/dev/null || fail "the source went away with the extra server"

echo "ok: harness_fake_answers"
