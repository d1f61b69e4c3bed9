#!/usr/bin/env bash
# test_fault_stall.sh - stalled links (issue 19): a link that stays open and carries no byte
# (a middlebox that lost its state: faultproxy.py `blackhole`), on every link of a running
# `tidm migrate`: the dump links and the load links during the copy, the binlog stream and
# the apply links during replication. tidm must notice each within the job's
# stall-timeout (3 s here; default 30 s), close the link, go on over a new one by itself,
# and end with the target equal to the source. A statement the target is still working on
# (here: waiting for a table lock held 8 s by another session) is not a stall and is not cut.
. "$(dirname "$0")/../harness/lib.sh"
. "$TIDM_SRC/tests/harness/faults.sh"

db=$(test_db)
rows=40000
fault_tables src_sql "$db" "$rows"

start_proxies
sport=$SPORT tport=$TPORT
job=$TEST_TMP/job.yaml
write_job "$job" type=all "databases=$db" source.port="$sport" target.port="$tport" \
	source.stall-timeout=3 target.stall-timeout=3 \
	spec.dump-threads=2 spec.load-threads=2 spec.apply-workers=4

proxy src slow 1000000 >/dev/null
log=$TEST_TMP/migrate.log
"$TIDM_BIN" migrate "$job" >"$TEST_TMP/migrate.out" 2>"$log" &
mpid=$!
on_exit "kill $mpid 2>/dev/null"
tcount() { tgt_sql "SELECT COUNT(*) FROM \`$db\`.t" 2>/dev/null || echo 0; }
alive() { kill -0 "$mpid" 2>/dev/null || fail "tidm migrate ended: $(tail -5 "$log")"; }
stalls() { grep -c "$1 link to .* stalled" "$log" || true; }

# --- the copy: the dump links, then the load links, go silent ------------------------------
wait_for "[ \"\$(tcount)\" -gt 0 ]" 60 "the copy to start writing"
proxy src blackhole
t0=$(date +%s)
wait_for "[ \"\$(stalls source)\" -ge 1 ]" 30 "the stalled dump link to be noticed ($(tail -3 "$log"))"
took=$(($(date +%s) - t0))
[ "$took" -le 15 ] || fail "the stalled dump link was noticed after $took s (stall-timeout 3 s)"
wait_for "grep -q 'trying again from the checkpoints' '$log'" 60 "a retry after the stalled dump link"
n_before=$(tcount)
wait_for "[ \"\$(tcount)\" -gt $n_before ]" 60 "the copy to go on after the stalled dump link"
alive
proxy tgt blackhole
wait_for "[ \"\$(stalls target)\" -ge 1 ]" 30 "the stalled load link to be noticed ($(tail -3 "$log"))"
proxy src slow 0 >/dev/null
wait_for "grep -q 'replication starts at\|replication resumes at' '$log'" 180 "replication to start after the copy ($(tail -3 "$log"))"
alive

# --- replication -------------------------------------------------------------------------------
writes() { fault_writes src_sql "$db" "$@"; }
scount() { fault_counts src_sql "$db"; }
tcounts() { fault_counts tgt_sql "$db"; }
caught_up() { local want; want=$(scount); wait_for "[ \"\$(tcounts)\" = \"$want\" ]" 120 "the target to catch up $1 (source: $want, target: $(tcounts))"; }
writes $rows 20
caught_up "before the faults"

# a long wait the target is busy with is not a stall: the apply workers wait 8 s for a lock
tgt_before=$(stalls target)
tgt_sql "LOCK TABLES \`$db\`.t WRITE; SELECT SLEEP(8); UNLOCK TABLES" >/dev/null &
lpid=$!
sleep 1
writes $((rows + 100)) 20
wait "$lpid"
caught_up "after the table lock"
assert_eq "$tgt_before" "$(stalls target)" "target stall verdicts while the target waited on a lock"

# the binlog stream goes silent
proxy src blackhole >/dev/null
writes $((rows + 200)) 20
wait_for "grep -q 'no packet for .* stall-timeout 3 s' '$log'" 30 "the stalled binlog stream to be noticed ($(tail -3 "$log"))"
caught_up "after the stalled binlog stream"
alive

# the apply links go silent
before=$(stalls target)
writes $((rows + 300)) 10 &
wpid=$!
sleep 0.3
proxy tgt blackhole >/dev/null
wait "$wpid"
writes $((rows + 400)) 20
wait_for "[ \"\$(stalls target)\" -gt $before ]" 30 "the stalled apply links to be noticed ($(tail -3 "$log"))"
caught_up "after the stalled apply links"
alive
assert_tables_equal "$db"
proxy src stats
proxy tgt stats
kill -INT "$mpid"
wait "$mpid" || true
grep -h "stalled\|no packet" "$log" | cut -c1-330 | awk "NR <= 4"
echo "PASS: $TEST_NAME ($(stalls source) source and $(stalls target) target stall verdicts, $(grep -c 'no packet for' "$log") silent binlog streams)"
