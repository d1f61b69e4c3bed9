#!/usr/bin/env bash
# test_fault_restart.sh - servers that crash and come back, and a source that rotates and
# purges its binlogs, under one running `tidm migrate` (issue 19). On servers of its own
# (extras), so the rest of the suite runs beside it:
#   the copy:        the source crashes (kill -9) and restarts; then the target does
#   replication:     the same, while the source writes; then the source rotates its binlog
#                    and purges the files before the current one, five times, with the
#                    binlog link cut after each purge
# tidm goes on by itself throughout (one process) and the target ends equal to the source.
# Last, with the job paused, the source purges past the job's position: the next run must
# stop with the SPEC §5 message, exit 1, and write nothing.
. "$(dirname "$0")/../harness/lib.sh"
. "$TIDM_SRC/tests/harness/faults.sh"

start_extra_server rsrc
sport=$EXTRA_PORT
start_extra_server rtgt
tport=$EXTRA_PORT
db=$(test_db)
S() { extra_sql rsrc "$@"; }
T() { extra_sql rtgt "$@" 2>/dev/null; }
fault_tables S "$db" 80000

start_proxy src 127.0.0.1 "$sport"
pport=$PROXY_PORT
job=$TEST_TMP/job.yaml
write_job "$job" type=all "databases=$db" source.port="$pport" target.port="$tport" \
	source.stall-timeout=5 target.stall-timeout=5 spec.dump-threads=2 spec.load-threads=2 \
	spec.apply-workers=4 spec.chunk-rows=4000
proxy src slow 700000 >/dev/null
log=$TEST_TMP/migrate.log
"$TIDM_BIN" migrate "$job" >"$TEST_TMP/migrate.out" 2>"$log" &
mpid=$!
on_exit "kill $mpid 2>/dev/null"
tcount() { T "SELECT COUNT(*) FROM \`$db\`.t" 2>/dev/null | tail -1 || echo 0; }
alive() { kill -0 "$mpid" 2>/dev/null || fail "tidm migrate ended after $1: $(tail -5 "$log")"; }

# --- the copy ------------------------------------------------------------------------------------
wait_for "[ \"\$(tcount)\" -gt 0 ]" 60 "the copy to start writing"
crash_extra_server rsrc
before=$(tcount)
wait_for "[ \"\$(tcount)\" -gt $before ]" 90 "the copy to go on after the source crashed ($(tail -2 "$log"))"
alive "the source crash in the copy"
crash_extra_server rtgt
before=$(tcount)
wait_for "[ \"\$(tcount)\" -gt $before ]" 90 "the copy to go on after the target crashed ($(tail -2 "$log"))"
alive "the target crash in the copy"
grep -q 'replication starts at' "$log" && fail "the copy ended before the faults; make the table bigger"
proxy src slow 0 >/dev/null
wait_for "grep -q 'replication starts at\|replication resumes at' '$log'" 180 "replication to start ($(tail -3 "$log"))"

# --- replication -------------------------------------------------------------------------------------
writes() { fault_writes S "$db" "$@"; }
counts() { fault_counts "$1" "$db"; }
caught_up() { local want; want=$(counts S); wait_for "[ \"\$(counts T)\" = \"$want\" ]" 120 "the target to catch up $1 (source: $want, target: $(counts T))"; }
next=100000
writes $next 20 &
wpid=$!
crash_extra_server rtgt
wait "$wpid" || true # the crash may end the writer's session: what it committed counts
writes $((next + 100)) 20
caught_up "after the target crashed"
alive "the target crash in replication"
next=$((next + 200))
writes $next 20
crash_extra_server rsrc
writes $((next + 100)) 20
caught_up "after the source crashed"
alive "the source crash in replication"

for round in 1 2 3 4 5; do
	next=$((next + 200))
	writes $next 15
	S "FLUSH BINARY LOGS"
	writes $((next + 100)) 15
	caught_up "before purge $round"
	cur=$(S "SHOW MASTER STATUS" | cut -f1)
	S "PURGE BINARY LOGS TO '$cur'" 2>"$TEST_TMP/purge.err" || true
	proxy src cut >/dev/null
done
writes $((next + 300)) 10
caught_up "after the rotations and purges"
alive "the rotations and purges"
[ "$(S "SHOW BINARY LOGS" | wc -l)" -le 3 ] || fail "the purges did not purge: $(S 'SHOW BINARY LOGS')"
assert_eq "$(S "CHECKSUM TABLE \`$db\`.t, \`$db\`.k EXTENDED" | cut -f2 | tr '\n' ' ')" \
	"$(T "CHECKSUM TABLE \`$db\`.t, \`$db\`.k EXTENDED" | cut -f2 | tr '\n' ' ')" "checksums of t and k"

# --- a purge past the job's position: refused, nothing written -----------------------------------------
kill -INT "$mpid"
wait "$mpid" || true
grep -q "paused at" "$log" || fail "tidm did not pause: $(tail -3 "$log")"
before=$(T "CHECKSUM TABLE \`$db\`.t, \`$db\`.k EXTENDED" | cut -f2 | tr '\n' ' ')
writes $((next + 500)) 10
S "FLUSH BINARY LOGS"
S "FLUSH BINARY LOGS"
# the paused job's dump thread ends when the server next writes to it; until then its file
# is in use and PURGE stops before it
wait_for "[ \"\$(S \"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'\")\" = 0 ]" 30 \
	"the paused job's dump thread to end on the source"
cur=$(S "SHOW MASTER STATUS" | cut -f1)
paused=$(sed -nE 's/.*paused at ([^:]+):.*/\1/p' "$log" | tail -1)
# MariaDB keeps a file until InnoDB has made its transactions durable (its binlog
# checkpoint, about a second with innodb_flush_log_at_trx_commit = 2): purge until it goes
purged() { S "PURGE BINARY LOGS TO '$cur'" >/dev/null; ! S "SHOW BINARY LOGS" | cut -f1 | grep -qx "$paused"; }
wait_for purged 30 "the job's binlog $paused to be purged ($(S 'SHOW BINARY LOGS' | cut -f1 | tr '\n' ' '))"
rc=0
"$TIDM_BIN" migrate "$job" --until-caught-up >"$TEST_TMP/purged.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit code of a run whose binlog position was purged ($(tail -3 "$TEST_TMP/purged.out"))"
grep -q "Please make sure binary log files are kept for long enough time for migration to succeed" "$TEST_TMP/purged.out" ||
	fail "no SPEC §5 message: $(tail -5 "$TEST_TMP/purged.out")"
assert_eq "$before" "$(T "CHECKSUM TABLE \`$db\`.t, \`$db\`.k EXTENDED" | cut -f2 | tr '\n' ' ')" \
	"the target after the refused run"
echo "PASS: $TEST_NAME ($(grep -c 'trying again from the checkpoints' "$log") job retries, $(grep -c 'reconnect' "$log") reconnect lines)"
