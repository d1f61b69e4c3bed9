#!/usr/bin/env bash
# test_fault_matrix.sh - every fault proxy action on every link of a running `tidm migrate`
# (issue 19), the ones test_fault_links.sh and test_fault_stall.sh do not already take:
#   copy        (dump links = source proxy, load links = target proxy):
#               a packet truncated mid-way, a stall of 5 s, new connections refused while
#               the open ones are cut, a slow link; on each side
#   replication (binlog stream = source proxy, apply links = target proxy):
#               the same four, on each side, while the source writes
# After each fault the job must move on by itself (no rerun: one tidm process throughout)
# and at the end the target equals the source (checksums; a duplicate row in the keyed or
# the keyless table would show).
. "$(dirname "$0")/../harness/lib.sh"
. "$TIDM_SRC/tests/harness/faults.sh"

db=$(test_db)
rows=100000
fault_tables src_sql "$db" "$rows"

start_proxies
sport=$SPORT tport=$TPORT
job=$TEST_TMP/job.yaml
write_job "$job" type=all "databases=$db" source.port="$sport" target.port="$tport" \
	source.stall-timeout=4 target.stall-timeout=4 \
	spec.dump-threads=2 spec.load-threads=2 spec.apply-workers=4 spec.chunk-rows=2000

proxy src slow 400000 >/dev/null
log=$TEST_TMP/migrate.log
"$TIDM_BIN" migrate "$job" >"$TEST_TMP/migrate.out" 2>"$log" &
mpid=$!
on_exit "kill $mpid 2>/dev/null"
tcount() { tgt_sql "SELECT COUNT(*) FROM \`$db\`.t" 2>/dev/null || echo 0; }
alive() { kill -0 "$mpid" 2>/dev/null || fail "tidm migrate ended after $1: $(tail -5 "$log")"; }
copying() { ! grep -q 'replication starts at\|replication resumes at' "$log"; }

# fault SIDE ACTION: one fault on the side's links
fault() {
	case $2 in
	truncate) proxy "$1" truncate >/dev/null ;;
	stall) proxy "$1" stall >/dev/null; sleep 5; proxy "$1" unstall >/dev/null ;;
	refuse) proxy "$1" refuse on >/dev/null; proxy "$1" cut >/dev/null; sleep 4; proxy "$1" refuse off >/dev/null ;;
	slow) proxy "$1" slow 20000 >/dev/null; sleep 4; proxy "$1" slow "$3" >/dev/null ;;
	esac
}

# --- the copy ------------------------------------------------------------------------------------
wait_for "[ \"\$(tcount)\" -gt 0 ]" 60 "the copy to start writing"
n_full=0
for f in "src truncate" "tgt truncate" "src stall" "tgt stall" "src refuse" "tgt refuse" "src slow" "tgt slow"; do
	copying || break
	set -- $f
	before=$(tcount)
	restore=0
	[ "$1" = src ] && restore=400000
	fault "$1" "$2" "$restore"
	wait_for "[ \"\$(tcount)\" -gt $before ] || grep -q 'replication starts at' '$log'" 90 "the copy to go on after $f ($(tail -2 "$log"))"
	alive "$f in the copy"
	n_full=$((n_full + 1))
	echo "copy: $f -> rows on the target $(tcount)"
done
[ "$n_full" -ge 6 ] || fail "the copy ended after $n_full faults; the test needs it slower"
proxy src slow 0 >/dev/null
wait_for "grep -q 'replication starts at\|replication resumes at' '$log'" 180 "replication to start after the copy ($(tail -3 "$log"))"
alive "the copy"

# --- replication ----------------------------------------------------------------------------------
writes() { fault_writes src_sql "$db" "$@"; }
scount() { fault_counts src_sql "$db"; }
tcounts() { fault_counts tgt_sql "$db"; }
next=$rows
for f in "src truncate" "tgt truncate" "src stall" "tgt stall" "src refuse" "tgt refuse" "src slow" "tgt slow"; do
	set -- $f
	writes "$next" 15 &
	wpid=$!
	sleep 0.2
	fault "$1" "$2" 0
	wait "$wpid"
	writes $((next + 50)) 15
	next=$((next + 100))
	want=$(scount)
	wait_for "[ \"\$(tcounts)\" = \"$want\" ]" 90 "the target to catch up after $f in replication (source: $want, target: $(tcounts))"
	alive "$f in replication"
	echo "replication: $f -> caught up"
done
assert_tables_equal "$db"
proxy src stats
proxy tgt stats
kill -INT "$mpid"
wait "$mpid" || true
echo "PASS: $TEST_NAME ($n_full faults in the copy, 8 in replication; $(grep -c 'trying again from the checkpoints' "$log") job retries, $(grep -c 'reconnect' "$log") reconnect lines)"
