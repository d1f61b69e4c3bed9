#!/usr/bin/env bash
# A misbehaving replication peer (issue 19, "Hostile input"): tidm_fake_primary
# --misbehave MODE serves mysql-bin.checksum-crc32 (303 events; its first ROWS event, a
# WRITE_ROWS_V2, is at position 384) and lies at that event. `tidm binlog stream` never
# crashes (ASan/UBSan build: no report in its stderr), never hangs (each run is bounded by
# a timeout), and either stops with a message naming what and where, or recovers.
# What a DBA expects, by mode:
#  - corrupt bytes are corrupt data, not a flaky link: fail at once, exit 1, naming the
#    file, the position and the event (a retry would read the same bytes again; going on
#    would apply a wrong row):
#      bad-length (the size field lies), bad-crc (a flipped body byte), unknown-table (a
#      ROWS event for a table id no TABLE_MAP defined), fde-header-len (a 255-byte common
#      header), oversized (a 48 MiB garbage packet);
#  - a connection that breaks or goes silent mid-packet is a transient fault: reconnect
#    from the last transaction boundary and deliver every event exactly once
#      truncate (half an event, then close), stall-packet (half an event, then silence);
#    a peer that does it on every connection is retried until stopped (SIGINT), with no
#    event delivered twice;
#  - bad-seq (a packet sequence number 7 ahead): Connector/C does not check the sequence
#    number of stream packets; the event's bytes are intact (its CRC holds), so the stream
#    is complete and correct;
#  - heartbeat-flood (heartbeats at position 4 forever): a source with nothing to send; the
#    stream waits, stays responsive and ends cleanly on SIGINT;
#  - garbage-handshake (junk after a good login): the connection's first statement fails
#    with the source connection message naming host:port and the statement, exit 1.
. "$(dirname "$0")/../harness/lib.sh"

FAKE=${TIDM_FAKE_PRIMARY:-$TIDM_BUILD/tidm_fake_primary}
[ -x "$FAKE" ] || fail "tidm_fake_primary not built ($FAKE)"
F=$TIDM_FIXTURES/binlog/mysql-binlog-connector-java/mysql-bin.checksum-crc32
[ -r "$F" ] || fail "fixture missing: $F"
NAME=mysql-bin.checksum-crc32
export FAKE_PW='fake-Hostile-pw3'
ALL=$(tidm binlog decode --count "$F" | sort)

start_fake() { # args... -> FAKE_PORT, FAKE_LOG
	local out=$TEST_TMP/fake.$RANDOM
	"$FAKE" --binlog "$F" --password-env FAKE_PW "$@" >"$out.port" 2>"$out.log" &
	local pid=$!
	on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for "[ -s '$out.port' ]" 10 "the fake primary to listen"
	FAKE_PORT=$(head -1 "$out.port")
	FAKE_LOG=$out.log
}
no_sanitizer_report() { # FILE what
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$1"; then
		fail "$2: a sanitizer report: $(grep -E -A5 'AddressSanitizer|LeakSanitizer|runtime error:' "$1" | head -20)"
	fi
}
# stream MODE [--misbehave-once]: the whole file, bounded; sets RC, ERR (stderr), OUT (counts)
stream() {
	start_fake --misbehave "$@"
	RC=0
	timeout 60 "$TIDM_BIN" binlog stream --source "127.0.0.1:$FAKE_PORT" --user root --password-env FAKE_PW \
		--heartbeat-ms 500 --start-file "$NAME" --start-pos 4 --until-now --count \
		>"$TEST_TMP/$1.out" 2>"$TEST_TMP/$1.err" || RC=$?
	[ "$RC" -ne 124 ] || fail "$1: tidm binlog stream still running after 60 s: $(tail -5 "$TEST_TMP/$1.err")"
	ERR=$(cat "$TEST_TMP/$1.err")
	OUT=$(cat "$TEST_TMP/$1.out")
	no_sanitizer_report "$TEST_TMP/$1.err" "$1"
	assert_contains "$(cat "$FAKE_LOG")" "misbehaving: $1" "the fake primary misbehaved ($1)"
}

# --- corrupt: fail at once, naming file, position and event ---------------------------------
stream bad-length
assert_eq 1 "$RC" "bad-length: exit code ($ERR)"
assert_contains "$ERR" "tidm: binlog $NAME position 384: packet of 102 bytes holds an event of size 1102"
stream bad-crc
assert_eq 1 "$RC" "bad-crc: exit code ($ERR)"
assert_contains "$ERR" "tidm: binlog $NAME position 384, WRITE_ROWS_V2 event: WRITE_ROWS_V2 event: CRC32 mismatch (stored"
stream unknown-table
assert_eq 1 "$RC" "unknown-table: exit code ($ERR)"
assert_contains "$ERR" "tidm: binlog $NAME position 384, WRITE_ROWS_V2 event: WRITE_ROWS_V2 event: no TABLE_MAP for table id 11259375"
stream fde-header-len
assert_eq 1 "$RC" "fde-header-len: exit code ($ERR)"
assert_contains "$ERR" "tidm: binlog $NAME position 4, FORMAT_DESCRIPTION event: FORMAT_DESCRIPTION event: binlog version 4 with 255-byte headers is not supported"
stream oversized
assert_eq 1 "$RC" "oversized: exit code ($ERR)"
assert_contains "$ERR" "tidm: binlog $NAME position 384: packet of 50331654 bytes holds an event of size"
# nothing of a corrupt event was delivered: only what came before it (FDE, PREVIOUS_GTIDS)
assert_eq "events 2" "$(grep '^events ' <<<"$OUT")" "events delivered before the oversized packet"

# --- transient: reconnect, every event exactly once ------------------------------------------
for m in truncate stall-packet; do
	stream "$m" --misbehave-once
	assert_eq 0 "$RC" "$m once: exit code ($ERR)"
	assert_contains "$ERR" "connection lost: Lost connection to server during query (errno 2013)" "$m: reported"
	assert_contains "$ERR" "reconnecting in 500 ms (resume at $NAME:154)" "$m: resumes at the last boundary"
	assert_eq "$ALL" "$(sort <<<"$OUT")" "$m once: the stream equals the file (each event once)"
done

# a peer that truncates every time: retried (a transient fault) until stopped, nothing twice
start_fake --misbehave truncate
"$TIDM_BIN" binlog stream --source "127.0.0.1:$FAKE_PORT" --user root --password-env FAKE_PW --heartbeat-ms 500 \
	--start-file "$NAME" --start-pos 4 --count >"$TEST_TMP/trunc.out" 2>"$TEST_TMP/trunc.err" &
spid=$!
on_exit "kill $spid 2>/dev/null"
wait_for "[ \"\$(grep -c 'reconnecting' '$TEST_TMP/trunc.err')\" -ge 3 ]" 30 "three reconnects to a peer that always truncates"
kill -INT $spid
rc=0
wait $spid || rc=$?
assert_eq 0 "$rc" "exit code after SIGINT ($(tail -3 "$TEST_TMP/trunc.err"))"
no_sanitizer_report "$TEST_TMP/trunc.err" "truncate (always)"
assert_eq "events 2" "$(grep '^events ' "$TEST_TMP/trunc.out")" "events before the truncated one, delivered once across reconnects"

# --- bad-seq: the event is intact; the stream is complete ------------------------------------
stream bad-seq
assert_eq 0 "$RC" "bad-seq: exit code ($ERR)"
assert_eq "$ALL" "$(sort <<<"$OUT")" "bad-seq: the stream equals the file"

# --- heartbeat-flood: waits, responsive, clean exit on SIGINT --------------------------------
start_fake --misbehave heartbeat-flood
"$TIDM_BIN" binlog stream --source "127.0.0.1:$FAKE_PORT" --user root --password-env FAKE_PW --heartbeat-ms 500 \
	--start-file "$NAME" --start-pos 4 --count >"$TEST_TMP/hb.out" 2>"$TEST_TMP/hb.err" &
spid=$!
on_exit "kill $spid 2>/dev/null"
wait_for "grep -q 'misbehaving: heartbeat-flood' '$FAKE_LOG'" 20 "the heartbeat flood to start"
sleep 3
kill -0 $spid 2>/dev/null || fail "the stream ended under a heartbeat flood: $(cat "$TEST_TMP/hb.err")"
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$spid/status")
[ "$rss" -lt 1000000 ] || fail "the stream grew to $rss kB under a heartbeat flood"
kill -INT $spid
end=$((SECONDS + 10))
while kill -0 $spid 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
kill -0 $spid 2>/dev/null && fail "the stream did not stop within 10 s of SIGINT under a heartbeat flood"
rc=0
wait $spid || rc=$?
assert_eq 0 "$rc" "exit code after SIGINT under a heartbeat flood ($(tail -3 "$TEST_TMP/hb.err"))"
no_sanitizer_report "$TEST_TMP/hb.err" "heartbeat-flood"
assert_eq "events 1" "$(grep '^events ' "$TEST_TMP/hb.out")" "only the FDE before the flood"

# --- garbage after the handshake --------------------------------------------------------------
stream garbage-handshake
assert_eq 1 "$RC" "garbage-handshake: exit code ($ERR)"
assert_contains "$ERR" "tidm: source connection to 127.0.0.1:$FAKE_PORT: source query failed (statement: SET NAMES utf8mb4): Lost connection to server during query (errno 2013)"
if grep -q "$FAKE_PW" "$TEST_TMP"/*.err; then fail "the password appears in a message"; fi
echo "ok: repl_fake_hostile"
