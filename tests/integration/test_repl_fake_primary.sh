#!/usr/bin/env bash
# test_repl_fake_primary.sh - `tidm binlog stream` against tidm_fake_primary, a scripted
# MySQL 8.0.36 primary serving fixture binlogs (read in place from $TIDM_FIXTURES):
#  - COM_BINLOG_DUMP_GTID and COM_BINLOG_DUMP of whole files: the per-type event counts
#    equal SOURCES.md and `tidm binlog decode --count` of the same file;
#  - a dump from a middle position starts exactly there;
#  - reconnects by GTID: the primary skips the transactions the stream has (no repeats),
#    and its heartbeat after them keeps the stream's position at the end of the file;
#  - a wrong password gives the SPEC §6 source connection message;
#  - a purged binlog (--fail-purged), or a GTID set lacking the file's PREVIOUS_GTIDS,
#    gives the SPEC §5 message and exit 1.
. "$(dirname "$0")/../harness/lib.sh"

FAKE=${TIDM_FAKE_PRIMARY:-$TIDM_BUILD/tidm_fake_primary}
[ -x "$FAKE" ] || fail "tidm_fake_primary not built ($FAKE)"
BL=$TIDM_FIXTURES/binlog
[ -r "$BL/SOURCES.md" ] || fail "fixtures missing: $BL"

export FAKE_PW='fake-Primary-pw1'
export WRONG_PW='not-the-password'

# start_fake FILE [args...]: starts the fake primary; sets FAKE_PORT
start_fake() {
	local out=$TEST_TMP/fake.$RANDOM
	"$FAKE" --binlog "$@" --password-env FAKE_PW >"$out.port" 2>"$out.log" &
	local pid=$!
	on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for "[ -s '$out.port' ]" 10 "the fake primary to listen"
	FAKE_PORT=$(head -1 "$out.port")
	FAKE_LOG=$out.log
}

stream() { # PORT args...
	local port=$1
	shift
	tidm binlog stream --source "127.0.0.1:$port" --user root --password-env FAKE_PW --heartbeat-ms 500 "$@"
}

previous_gtids() { # FILE -> the GTID set of its PREVIOUS_GTIDS event
	tidm binlog decode --format json "$1" | jq -r 'select(.type=="PREVIOUS_GTIDS") | .gtid_set'
}

# --- whole files, by GTID (COM_BINLOG_DUMP_GTID) and by file (COM_BINLOG_DUMP) ------------
check_file() { # relative path, expected "TYPE N" lines (sorted) from SOURCES.md, expected events
	local f=$BL/$1 expect=$2 events=$3 name
	name=$(basename "$f")
	start_fake "$f"
	# the replica already has what the file's PREVIOUS_GTIDS says is purged (a real
	# MySQL 8.0 primary refuses a set that lacks it)
	stream "$FAKE_PORT" --start-gtid "$(previous_gtids "$f")" --until-now --count >"$TEST_TMP/gtid.count" 2>"$TEST_TMP/gtid.err" ||
		fail "stream by GTID of $1 failed: $(cat "$TEST_TMP/gtid.err")"
	assert_contains "$(cat "$FAKE_LOG")" "COM_BINLOG_DUMP_GTID" "fake primary log"
	stream "$FAKE_PORT" --start-file "$name" --start-pos 4 --until-now --count >"$TEST_TMP/file.count" 2>"$TEST_TMP/file.err" ||
		fail "stream by file of $1 failed: $(cat "$TEST_TMP/file.err")"
	tidm binlog decode --count "$f" >"$TEST_TMP/decode.count"
	assert_eq "$(sort "$TEST_TMP/decode.count")" "$(sort "$TEST_TMP/gtid.count")" "$1: stream by GTID vs decode"
	assert_eq "$(sort "$TEST_TMP/decode.count")" "$(sort "$TEST_TMP/file.count")" "$1: stream by file vs decode"
	assert_eq "$expect" "$(grep -v -e '^events ' -e '^rows ' "$TEST_TMP/gtid.count" | sort)" "$1: per-type counts (SOURCES.md)"
	assert_eq "events $events" "$(grep '^events ' "$TEST_TMP/gtid.count")" "$1: event total"
}

# SOURCES.md: FORMAT_DESCRIPTION×1, PREVIOUS_GTIDS×1, ANONYMOUS_GTID×1, TRANSACTION_PAYLOAD×1,
# ROTATE×1; inner: QUERY×1, TABLE_MAP×1, WRITE_ROWS_V2×1, XID×1
check_file rust_mysql_common/transaction_compression.000001 "$(printf '%s\n' \
	'ANONYMOUS_GTID 1' 'FORMAT_DESCRIPTION 1' 'PREVIOUS_GTIDS 1' 'QUERY 1' 'ROTATE 1' 'TABLE_MAP 1' \
	'TRANSACTION_PAYLOAD 1' 'WRITE_ROWS_V2 1' 'XID 1' | sort)" 9

# SOURCES.md: 303 events: FORMAT_DESCRIPTION×1, PREVIOUS_GTIDS×1, ANONYMOUS_GTID×60, QUERY×60,
# TABLE_MAP×60, WRITE_ROWS_V2×34, XID×60, UPDATE_ROWS_V2×20, DELETE_ROWS_V2×6, ROTATE×1
check_file mysql-binlog-connector-java/mysql-bin.checksum-crc32 "$(printf '%s\n' \
	'ANONYMOUS_GTID 60' 'DELETE_ROWS_V2 6' 'FORMAT_DESCRIPTION 1' 'PREVIOUS_GTIDS 1' 'QUERY 60' \
	'ROTATE 1' 'TABLE_MAP 60' 'UPDATE_ROWS_V2 20' 'WRITE_ROWS_V2 34' 'XID 60' | sort)" 303

# SOURCES.md: 191 events, checksum NONE: FORMAT_DESCRIPTION×1, PREVIOUS_GTIDS×1,
# ANONYMOUS_GTID×40, QUERY×40, TABLE_MAP×36, WRITE_ROWS_V2×34, XID×36, UPDATE_ROWS_V2×2, STOP×1
check_file mysql-binlog-connector-java/mysql-bin.checksum-none "$(printf '%s\n' \
	'ANONYMOUS_GTID 40' 'FORMAT_DESCRIPTION 1' 'PREVIOUS_GTIDS 1' 'QUERY 40' 'STOP 1' 'TABLE_MAP 36' \
	'UPDATE_ROWS_V2 2' 'WRITE_ROWS_V2 34' 'XID 36' | sort)" 191

# --- from a middle position: the first real event after the FDE starts there -------------
f=$BL/mysql-binlog-connector-java/mysql-bin.checksum-crc32
start_fake "$f"
# the 100th event's offset (a transaction start: an ANONYMOUS_GTID)
mid=$(tidm binlog decode --format json "$f" | jq -r 'select(.type=="ANONYMOUS_GTID") | .pos' | sed -n 30p)
[ -n "$mid" ] || fail "no 30th ANONYMOUS_GTID in the fixture"
stream "$FAKE_PORT" --start-file mysql-bin.checksum-crc32 --start-pos "$mid" --until-now >"$TEST_TMP/mid.json" 2>"$TEST_TMP/mid.err" ||
	fail "stream from $mid failed: $(cat "$TEST_TMP/mid.err")"
assert_eq "ROTATE FORMAT_DESCRIPTION" "$(jq -r '.type' "$TEST_TMP/mid.json" | head -2 | tr '\n' ' ' | sed 's/ $//')" "events before the start position"
assert_eq "$mid" "$(jq -r 'select(.artificial != true and .type != "FORMAT_DESCRIPTION") | .pos' "$TEST_TMP/mid.json" | head -1)" "first event position"
want=$(tidm binlog decode --format json "$f" | jq -c "select(.pos >= $mid) | [.type, .pos]" | wc -l)
got=$(jq -c 'select(.artificial != true and .type != "FORMAT_DESCRIPTION") | [.type, .pos]' "$TEST_TMP/mid.json" | wc -l)
assert_eq "$want" "$got" "events from position $mid"
# the rows are decoded: the DELETE events from there carry table names and rows
assert_eq "$(tidm binlog decode --format json "$f" | jq -c "select(.pos >= $mid and .type==\"DELETE_ROWS_V2\") | [.db,.table,(.rows|length)]")" \
	"$(jq -c 'select(.type=="DELETE_ROWS_V2") | [.db,.table,(.rows|length)]' "$TEST_TMP/mid.json")" "DELETE rows from position $mid"

# --- non-blocking dump: the stream ends at the primary's EOF packet ------------------------
f=$BL/mysql-binlog-connector-java/mysql-bin.checksum-crc32
start_fake "$f"
stream "$FAKE_PORT" --start-file mysql-bin.checksum-crc32 --non-block --count >"$TEST_TMP/nb.count" 2>"$TEST_TMP/nb.err" ||
	fail "non-blocking stream failed: $(cat "$TEST_TMP/nb.err")"
assert_eq "$(tidm binlog decode --count "$f" | sort)" "$(sort "$TEST_TMP/nb.count")" "non-blocking dump: counts"
assert_contains "$(cat "$FAKE_LOG")" "flags 0x1" "dump flags"

# --- MySQL 8.4: SHOW MASTER STATUS is gone, SHOW BINARY LOG STATUS is used ----------------
f=$BL/rust_mysql_common/transaction_compression.000001
start_fake "$f" --server-version 8.4.3
stream "$FAKE_PORT" --start-gtid "$(previous_gtids "$f")" --until-now --count >"$TEST_TMP/84.count" 2>"$TEST_TMP/84.err" ||
	fail "stream from a MySQL 8.4 primary failed: $(cat "$TEST_TMP/84.err")"
assert_eq "$(tidm binlog decode --count "$f" | sort)" "$(sort "$TEST_TMP/84.count")" "8.4 primary: counts"

# --- dead link: no heartbeat for 2.5 periods -> reconnect from the last boundary -----------
# checksum-none ends with STOP, so the boundary after the whole file is (file, its size):
# each reconnect gets nothing new, and nothing is counted twice.
f=$BL/mysql-binlog-connector-java/mysql-bin.checksum-none
start_fake "$f" --stall
"$TIDM_BIN" binlog stream --source "127.0.0.1:$FAKE_PORT" --user root --password-env FAKE_PW --heartbeat-ms 400 \
	--start-file mysql-bin.checksum-none --start-pos 4 --count >"$TEST_TMP/stall.count" 2>"$TEST_TMP/stall.err" &
spid=$!
on_exit "kill $spid 2>/dev/null"
wait_for "[ \"\$(grep -c 'reconnecting' '$TEST_TMP/stall.err')\" -ge 2 ]" 20 "two reconnects after a silent primary"
kill -INT $spid
wait $spid || fail "stream exited $? after SIGINT: $(cat "$TEST_TMP/stall.err")"
assert_contains "$(cat "$TEST_TMP/stall.err")" "no packet for 1000 ms (heartbeat period 400 ms): the link or the source is gone" "dead link reported"
assert_eq "$(tidm binlog decode --count "$f" | sort)" "$(sort "$TEST_TMP/stall.count")" "counts across reconnects"
assert_contains "$(cat "$FAKE_LOG")" "COM_BINLOG_DUMP pos $(stat -c %s "$f")" "reconnect resumes at the end of the file"

# --- dead link, by GTID: each reconnect sends the executed set; the primary skips it all --
# The file's transactions are :1-5; the stream starts with :1. After the first pass, a
# reconnect asks with :1-5, and the primary sends only FDE and PREVIOUS_GTIDS, then a
# heartbeat with the end of what it skipped: the position stays at the end of the file.
f=$BL/rust_mysql_common/mysql-enum-string-set.000001
u=93e95066-a2f4-11ec-9b69-9657f0ae95e2
start_fake "$f" --stall
"$TIDM_BIN" binlog stream --source "127.0.0.1:$FAKE_PORT" --user root --password-env FAKE_PW --heartbeat-ms 400 \
	--start-gtid "$u:1" --count >"$TEST_TMP/gstall.count" 2>"$TEST_TMP/gstall.err" &
spid=$!
on_exit "kill $spid 2>/dev/null"
wait_for "[ \"\$(grep -c 'reconnecting' '$TEST_TMP/gstall.err')\" -ge 3 ]" 20 "three reconnects after a silent primary"
kill -INT $spid
wait $spid || fail "stream exited $? after SIGINT: $(cat "$TEST_TMP/gstall.err")"
assert_contains "$(cat "$FAKE_LOG")" "gtid '$u:1-5'" "a reconnect sends the executed set"
assert_contains "$(cat "$FAKE_LOG")" "skipped 5 transaction(s)" "the primary skips what the stream has"
assert_eq "GTID 4|WRITE_ROWS_V2 1|UPDATE_ROWS_V2 1|DELETE_ROWS_V2 1|XID 3" \
	"$(grep -E '^(GTID|WRITE_ROWS_V2|UPDATE_ROWS_V2|DELETE_ROWS_V2|XID) ' "$TEST_TMP/gstall.count" | sort -k1,1 |
		awk '{ n[$1] = $2 } END { printf "GTID %s|WRITE_ROWS_V2 %s|UPDATE_ROWS_V2 %s|DELETE_ROWS_V2 %s|XID %s", n["GTID"], n["WRITE_ROWS_V2"], n["UPDATE_ROWS_V2"], n["DELETE_ROWS_V2"], n["XID"] }')" \
	"transactions :2-5 once across reconnects"
assert_eq "" "$(grep 'reconnecting' "$TEST_TMP/gstall.err" | grep -v "resume at the executed GTID set, mysql-enum-string-set.000001:$(stat -c %s "$f"))" || true)" \
	"every reconnect resumes at the end of the file"

# --- wrong password: SPEC §6 -------------------------------------------------------------
rc=0
tidm binlog stream --source "127.0.0.1:$FAKE_PORT" --user root --password-env WRONG_PW --until-now >/dev/null 2>"$TEST_TMP/pw.err" || rc=$?
assert_eq 1 "$rc" "exit code with a wrong password"
assert_contains "$(cat "$TEST_TMP/pw.err")" "Failed to connect to the source database using given parameters. Please make sure the source database is up and can be connected using the given parameters." "wrong password message"
assert_contains "$(cat "$TEST_TMP/pw.err")" "1045" "raw cause"
if grep -q "$WRONG_PW" "$TEST_TMP/pw.err"; then fail "the password appears in the message"; fi

# --- purged GTIDs: a replica set lacking the file's PREVIOUS_GTIDS gets 1236, SPEC §5 -----
f=$BL/rust_mysql_common/transaction_compression.000001
start_fake "$f"
rc=0
stream "$FAKE_PORT" --start-gtid "" --until-now >/dev/null 2>"$TEST_TMP/gpurged.err" || rc=$?
assert_eq 1 "$rc" "exit code for purged GTIDs"
assert_contains "$(cat "$TEST_TMP/gpurged.err")" "The required binary log for migration no longer exists on the source database." "purged GTIDs message"
assert_contains "$(cat "$TEST_TMP/gpurged.err")" "the missing transactions are '357df524-4139-11ee-9979-b033ee13919e:1'" "missing GTIDs named"

# --- purged binlog: SPEC §5 --------------------------------------------------------------
start_fake "$BL/rust_mysql_common/transaction_compression.000001" --fail-purged
for how in "--start-gtid ''" "--start-file transaction_compression.000001 --start-pos 4"; do
	rc=0
	eval "stream $FAKE_PORT $how --until-now" >/dev/null 2>"$TEST_TMP/purged.err" || rc=$?
	assert_eq 1 "$rc" "exit code for a purged binlog ($how)"
	assert_contains "$(cat "$TEST_TMP/purged.err")" "The required binary log for migration no longer exists on the source database. Please make sure binary log files are kept for long enough time for migration to succeed. (Could not find first log file name in binary log index file" "purged message ($how)"
done

echo "ok: repl_fake_primary"
