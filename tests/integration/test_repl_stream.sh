#!/usr/bin/env bash
# test_repl_stream.sh - `tidm binlog stream` against the MariaDB test source:
#  - rows written on the source appear (tables, row counts, UPDATE/DELETE) when streaming
#    from a file + position, from a MariaDB GTID position, and from "now";
#  - a purged binlog ends the stream with exit 1 and the exact SPEC §5 message;
#  - the source killed and restarted mid-stream: the stream reconnects and continues
#    without losing or repeating a transaction.
. "$(dirname "$0")/../harness/lib.sh"

export SRC_PW=$TIDM_TEST_SOURCE_PASSWORD
SRC=$TIDM_TEST_SOURCE_HOST:$TIDM_TEST_SOURCE_PORT
db=$(test_db)

stream() {
	tidm binlog stream --source "$SRC" --user "$TIDM_TEST_SOURCE_USER" --password-env SRC_PW --heartbeat-ms 500 "$@"
}
# in the background: exec, so that $! is tidm itself (it gets the SIGINT)
stream_bg() {
	exec "$TIDM_BIN" binlog stream --source "$SRC" --user "$TIDM_TEST_SOURCE_USER" --password-env SRC_PW --heartbeat-ms 500 "$@"
}

# rows_of FILE TYPE TABLE: total rows of TYPE events on $db.TABLE in a JSON stream
rows_of() {
	jq -s --arg db "$db" --arg t "$3" --arg ty "$2" \
		'[.[] | select(.type == $ty and .db == $db and .table == $t) | (.rows | length)] | add // 0' "$1"
}

src_sql "CREATE DATABASE \`$db\`"
src_sql "CREATE TABLE \`$db\`.t1 (id INT PRIMARY KEY, v VARCHAR(20)); CREATE TABLE \`$db\`.t2 (id INT PRIMARY KEY, d DATETIME)"
read -r start_file start_pos < <(src_sql "SHOW MASTER STATUS" | cut -f1,2)
start_gtid=$(src_sql "SELECT @@global.gtid_binlog_pos")
src_sql "INSERT INTO \`$db\`.t1 VALUES (1,'a'),(2,'b'),(3,'c'),(4,'d'),(5,'e')"
src_sql "INSERT INTO \`$db\`.t2 VALUES (1,'2024-01-01 00:00:00'),(2,NOW()),(3,NULL)"
src_sql "UPDATE \`$db\`.t1 SET v='z' WHERE id IN (1,2)"
src_sql "DELETE FROM \`$db\`.t2 WHERE id = 3"

check_rows() { # FILE WHAT
	assert_eq 5 "$(rows_of "$1" WRITE_ROWS_V1 t1)" "$2: rows inserted into t1"
	assert_eq 3 "$(rows_of "$1" WRITE_ROWS_V1 t2)" "$2: rows inserted into t2"
	assert_eq 2 "$(rows_of "$1" UPDATE_ROWS_V1 t1)" "$2: rows updated in t1"
	assert_eq 1 "$(rows_of "$1" DELETE_ROWS_V1 t2)" "$2: rows deleted from t2"
	# column names need binlog_row_metadata=FULL; values are checked by position
	assert_eq '[[1,"a"],[1,"z"]]' \
		"$(jq -c --arg db "$db" 'select(.type=="UPDATE_ROWS_V1" and .db==$db) | .rows[0] | [[.before[]],[.after[]]]' "$1" | head -1)" "$2: update images"
}

# --- from file + position ------------------------------------------------------------------
stream --start-file "$start_file" --start-pos "$start_pos" --until-now >"$TEST_TMP/file.json" 2>"$TEST_TMP/file.err" ||
	fail "stream from $start_file:$start_pos: $(cat "$TEST_TMP/file.err")"
check_rows "$TEST_TMP/file.json" "from $start_file:$start_pos"
assert_eq "$start_pos" "$(jq -r 'select(.artificial != true and .type != "FORMAT_DESCRIPTION") | .pos' "$TEST_TMP/file.json" | head -1)" "first event position"

# --- from a MariaDB GTID position ----------------------------------------------------------
stream --start-gtid "$start_gtid" --until-now >"$TEST_TMP/gtid.json" 2>"$TEST_TMP/gtid.err" ||
	fail "stream from GTID $start_gtid: $(cat "$TEST_TMP/gtid.err")"
check_rows "$TEST_TMP/gtid.json" "from GTID $start_gtid"
# exactly the 4 transactions written after start_gtid
assert_eq 4 "$(jq -r 'select(.type=="MARIA_GTID") | .gtid' "$TEST_TMP/gtid.json" | wc -l | tr -d ' ')" "transactions after $start_gtid"

# --- from now: only what is written after the stream started ------------------------------
stream_bg --format json >"$TEST_TMP/now.json" 2>"$TEST_TMP/now.err" &
spid=$!
on_exit "kill $spid 2>/dev/null"
wait_for "grep -q 'binlog stream from' '$TEST_TMP/now.err'" 20 "the stream to start"
src_sql "CREATE TABLE \`$db\`.t3 (id INT PRIMARY KEY); INSERT INTO \`$db\`.t3 VALUES (1),(2),(3),(4)"
wait_for "[ \"\$(jq -s --arg db '$db' '[.[] | select(.type==\"WRITE_ROWS_V1\" and .db==\$db and .table==\"t3\") | (.rows|length)] | add // 0' '$TEST_TMP/now.json')\" = 4 ]" 20 "the t3 rows in the stream"
kill -INT $spid
wait $spid || fail "stream from now exited $?: $(cat "$TEST_TMP/now.err")"
assert_eq 0 "$(rows_of "$TEST_TMP/now.json" WRITE_ROWS_V1 t1)" "t1 rows written before 'now'"
assert_eq 4 "$(rows_of "$TEST_TMP/now.json" WRITE_ROWS_V1 t3)" "t3 rows from now"

# --- source restarted mid-stream -------------------------------------------------------------
src_sql "CREATE TABLE \`$db\`.t4 (id INT PRIMARY KEY, b VARCHAR(10))"
stream_bg --format json >"$TEST_TMP/rs.json" 2>"$TEST_TMP/rs.err" &
spid=$!
on_exit "kill $spid 2>/dev/null"
wait_for "grep -q 'binlog stream from' '$TEST_TMP/rs.err'" 20 "the stream to start"
for i in $(seq 1 20); do src_sql "INSERT INTO \`$db\`.t4 VALUES ($i, 'before')"; done
wait_for "[ \"\$(jq -s --arg db '$db' '[.[] | select(.type==\"WRITE_ROWS_V1\" and .db==\$db and .table==\"t4\")] | length' '$TEST_TMP/rs.json')\" = 20 ]" 20 "the first 20 transactions"
pidfile=$TIDM_TESTDB_DIR/source/mariadbd.pid
[ -r "$pidfile" ] || skip "source pid file $pidfile not readable (servers not started by testdb.sh here)"
kill -9 "$(cat "$pidfile")"
wait_for "grep -q 'reconnect' '$TEST_TMP/rs.err'" 30 "the stream to notice the lost source"
"$TIDM_SRC/scripts/testdb.sh" start >"$TEST_TMP/restart.log" 2>&1 || fail "source restart: $(cat "$TEST_TMP/restart.log")"
for i in $(seq 21 40); do src_sql "INSERT INTO \`$db\`.t4 VALUES ($i, 'after')"; done
wait_for "[ \"\$(jq -s --arg db '$db' '[.[] | select(.type==\"WRITE_ROWS_V1\" and .db==\$db and .table==\"t4\")] | length' '$TEST_TMP/rs.json')\" -ge 40 ]" 60 "the transactions after the restart"
sleep 1 # anything repeated would arrive now
kill -INT $spid
wait $spid || fail "stream across the restart exited $?: $(cat "$TEST_TMP/rs.err")"
assert_contains "$(cat "$TEST_TMP/rs.err")" "reconnecting" "stream log"
ids=$(jq -r --arg db "$db" 'select(.type=="WRITE_ROWS_V1" and .db==$db and .table=="t4") | .rows[] | to_entries[0].value' "$TEST_TMP/rs.json" | tr '\n' ' ')
assert_eq "$(seq 1 40 | tr '\n' ' ')" "$ids" "t4 rows across the restart (no loss, no repeat, in order)"
dups=$(jq -r 'select(.type=="MARIA_GTID") | .gtid' "$TEST_TMP/rs.json" | sort | uniq -d)
assert_eq "" "$dups" "repeated GTIDs"

# --- purged binlog: SPEC §5 ----------------------------------------------------------------
src_sql "FLUSH BINARY LOGS"
cur=$(src_sql "SHOW MASTER STATUS" | cut -f1)
src_sql "PURGE BINARY LOGS TO '$cur'"
rc=0
stream --start-file "$start_file" --start-pos "$start_pos" --until-now >/dev/null 2>"$TEST_TMP/purged.err" || rc=$?
assert_eq 1 "$rc" "exit code for a purged binlog"
assert_contains "$(cat "$TEST_TMP/purged.err")" "tidm: The required binary log for migration no longer exists on the source database. Please make sure binary log files are kept for long enough time for migration to succeed. (" "purged binlog message"
rc=0
stream --start-gtid "$start_gtid" --until-now >/dev/null 2>"$TEST_TMP/purged2.err" || rc=$?
assert_eq 1 "$rc" "exit code for a purged GTID position"
assert_contains "$(cat "$TEST_TMP/purged2.err")" "The required binary log for migration no longer exists on the source database." "purged GTID message"

echo "ok: repl_stream"
