#!/usr/bin/env bash
# test_fault_links.sh - link faults on every link of a running `tidm migrate` (issue 19):
# a fault proxy (tests/harness/faultproxy.py) sits between tidm and each server. During the
# full phase the dump links (source) and the load links (target) are cut; during
# replication the binlog stream is cut and truncated mid-packet and the apply links are cut
# and stalled, while the source keeps writing. tidm must carry on by itself - no rerun -
# and end with the target equal to the source (checksums: a duplicate row in the keyed or
# the keyless table would show), its retries logged and counted. Then the same cut in the
# copy of a job run by `tidm server`: retried by itself, finished, equal.
. "$(dirname "$0")/../harness/lib.sh"
. "$TIDM_SRC/tests/harness/faults.sh"

db=$(test_db)
rows=40000
fault_tables src_sql "$db" "$rows"

start_proxies
sport=$SPORT tport=$TPORT
job=$TEST_TMP/job.yaml
write_job "$job" type=all "databases=$db" source.port="$sport" target.port="$tport" \
	spec.dump-threads=2 spec.load-threads=2 spec.apply-workers=4

# The dump links run slowly so that the cuts land in the middle of the copy.
proxy src slow 1500000 >/dev/null
log=$TEST_TMP/migrate.log
"$TIDM_BIN" migrate "$job" --metrics-listen 127.0.0.1:0 >"$TEST_TMP/migrate.out" 2>"$log" &
mpid=$!
on_exit "kill $mpid 2>/dev/null"
tcount() { tgt_sql "SELECT COUNT(*) FROM \`$db\`.t" 2>/dev/null || echo 0; }

# --- the full phase: a dump link cut, then a load link cut --------------------------------
wait_for "[ \"\$(tcount)\" -gt 0 ]" 60 "the copy to start writing"
proxy src cut
wait_for "[ \"\$(tcount)\" -gt 0 ] && grep -q 'trying again from the checkpoints' '$log'" 60 "a retry after the dump link cut"
n_before=$(tcount)
wait_for "[ \"\$(tcount)\" -gt $n_before ]" 60 "the copy to go on after the cut"
proxy tgt cut
proxy src slow 0 >/dev/null
wait_for "grep -q 'replication starts at\|replication resumes at' '$log'" 120 "replication to start after the copy ($(tail -3 "$log"))"
kill -0 "$mpid" 2>/dev/null || fail "tidm migrate ended: $(tail -5 "$log")"
retries_full=$(grep -c 'trying again from the checkpoints' "$log")
[ "$retries_full" -ge 2 ] || fail "expected a retry for each cut in the full phase, saw $retries_full: $(grep -i 'warn\|error' "$log" | tail -5)"

# --- replication: the source writes while every link is hit -----------------------------------
writes() { fault_writes src_sql "$db" "$@"; }
writes $rows 40
proxy src cut >/dev/null        # the binlog stream
writes $((rows + 100)) 40
proxy tgt cut >/dev/null        # the apply links
writes $((rows + 200)) 40
proxy src truncate >/dev/null   # a binlog packet cut mid-way
writes $((rows + 300)) 40
proxy tgt stall >/dev/null      # the apply links stop answering for a while
writes $((rows + 400)) 20
sleep 3
proxy tgt unstall >/dev/null
writes $((rows + 500)) 20

scount() { fault_counts src_sql "$db"; }
tcounts() { fault_counts tgt_sql "$db"; }
want=$(scount)
wait_for "[ \"\$(tcounts)\" = \"$want\" ]" 120 "the target to catch up after the faults (source: $want, target: $(tcounts))"
kill -0 "$mpid" 2>/dev/null || fail "tidm migrate ended: $(tail -5 "$log")"
assert_tables_equal "$db"
proxy src stats
proxy tgt stats

# the retries are counted, and the job stops cleanly when asked
mport=$(sed -nE 's|.*metrics at http://127\.0\.0\.1:([0-9]+)/.*|\1|p' "$log" | head -1)
[ -n "$mport" ] || fail "no metrics address in the log"
r=$(curl -sS "http://127.0.0.1:$mport/metrics" | sed -nE 's/^tidm_job_retries_total\{[^}]*\} ([0-9]+).*/\1/p')
[ "${r:-0}" -ge 2 ] || fail "tidm_job_retries_total is ${r:-absent}"
kill -INT "$mpid"
rc=0
wait "$mpid" || rc=$?
assert_eq 1 "$rc" "exit code of tidm migrate interrupted by SIGINT ($(tail -3 "$log"))"
grep -q "job .* paused at mysql-bin" "$log" || fail "no 'paused at' line after SIGINT: $(tail -3 "$log")"

# --- the job service: a dump link cut in the copy is tried again by itself --------------------
db2=$(test_db svc)
src_sql "CREATE DATABASE \`$db2\`; USE \`$db2\`;
CREATE TABLE \`$db2\`.t (id INT PRIMARY KEY, pad VARCHAR(200) NOT NULL);
INSERT INTO \`$db2\`.t SELECT seq, REPEAT('s', 150) FROM seq_1_to_30000;"
. "$TIDM_SRC/tests/harness/api.sh"
start_server "$TEST_TMP/server.log" --data-dir "$TEST_TMP/data"
proxy src slow 1000000 >/dev/null
python3 -c '
import json, os, sys
e = os.environ
print(json.dumps({"name": "fault-svc", "type": "full", "start": True, "objects": {"databases": [sys.argv[1]]},
  "source": {"host": "127.0.0.1", "port": int(sys.argv[2]), "user": e["TIDM_TEST_SOURCE_USER"], "password": e["TIDM_TEST_SOURCE_PASSWORD"]},
  "target": {"host": "127.0.0.1", "port": int(sys.argv[3]), "user": e["TIDM_TEST_TARGET_USER"], "password": e["TIDM_TEST_TARGET_PASSWORD"]}}))' \
	"$db2" "$sport" "$tport" >"$TEST_TMP/svc.json"
call POST /jobs /jobs --data-binary "@$TEST_TMP/svc.json"
expect 201
on_exit "curl -sS -o /dev/null -X DELETE $BASE/api/v1/jobs/fault-svc"
t2count() { tgt_sql "SELECT COUNT(*) FROM \`$db2\`.t" 2>/dev/null || echo 0; }
wait_for "[ \"\$(t2count)\" -gt 0 ]" 60 "the service's copy to start writing"
proxy src cut >/dev/null
proxy src slow 0 >/dev/null
svc_state() { curl -sS "$BASE/api/v1/jobs/fault-svc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
wait_for '[ "$(svc_state)" = finished ]' 120 "the service's job to finish after the cut (state $(svc_state))"
assert_tables_equal "$db2"
curl -sS "$BASE/api/v1/jobs/fault-svc/events?limit=1000" | grep -q 'transient failure, try 2 again from the checkpoints' ||
	fail "no retry event in the service's job: $(curl -sS "$BASE/api/v1/jobs/fault-svc/events?limit=1000" | head -c 1500)"
echo "PASS: $TEST_NAME ($(grep -c 'trying again from the checkpoints' "$log") retries, $(grep -c 'reconnect' "$log") reconnect lines)"
