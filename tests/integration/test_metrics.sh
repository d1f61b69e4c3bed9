#!/usr/bin/env bash
# test_metrics.sh - GET /metrics (issue 15) of `tidm server` with a replicating job and a
# finished one, and of `tidm migrate --metrics-listen`: the text passes `promtool check
# metrics`; the rows applied, the binlog position and the lag move when the source is
# written (the lag with transactions stamped an hour old: SET timestamp); the token of the
# server guards /metrics too. promtool comes with Debian's prometheus package (a missing
# promtool skips the test, and fails it under CI=true).
. "$(dirname "$0")/../harness/lib.sh"

if ! command -v promtool >/dev/null; then
	[ "${CI:-}" = true ] && fail "promtool is missing (apt-get install prometheus)"
	skip "promtool is missing (apt-get install prometheus)"
fi
TEST_TMP=$(mktemp -d)
db=$(test_db)
src_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t1 (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO \`$db\`.t1 VALUES (1,'a'),(2,'b')"
export TIDM_TEST_SOURCE_HOST TIDM_TEST_SOURCE_PORT TIDM_TEST_SOURCE_USER TIDM_TEST_SOURCE_PASSWORD
export TIDM_TEST_TARGET_HOST TIDM_TEST_TARGET_PORT TIDM_TEST_TARGET_USER TIDM_TEST_TARGET_PASSWORD
js=$(printf 'm-sync-%s' "$db" | cut -c1-60)
jf=$(printf 'm-full-%s' "$db" | cut -c1-60)
on_exit "tgt_sql \"DELETE FROM tidm_meta.jobs WHERE name IN ('$js','$jf')\" 2>/dev/null || true"

# value FILE SERIES: the sample of SERIES (e.g. 'tidm_jobs' or 'x{job_name="j"}'), or "absent".
value() {
	awk -v s="$2" 'index($0, s " ") == 1 { print $2; found = 1; exit } END { if (!found) print "absent" }' "$1"
}
scrape() { # scrape URL FILE [curl args]
	local url=$1 f=$2
	shift 2
	curl -sS --fail -o "$f" "$@" "$url" || fail "GET $url failed"
}
promcheck() {
	local out
	out=$(promtool check metrics <"$1" 2>&1) || fail "promtool check metrics refused $1: $out"
}

# --- tidm server: a replicating job and a finished one ---------------------------------
printf 'metrics-test-token\n' >"$TEST_TMP/token"
"$TIDM_BIN" server --listen 127.0.0.1:0 --data-dir "$TEST_TMP/data" --token-file "$TEST_TMP/token" 2>"$TEST_TMP/server.log" &
spid=$!
on_exit "kill $spid 2>/dev/null"
wait_for "grep -q 'serving the API on' '$TEST_TMP/server.log'" 60 "tidm server to listen"
BASE=http://127.0.0.1:$(sed -nE 's|.*serving the API on http://127\.0\.0\.1:([0-9]+)/.*|\1|p' "$TEST_TMP/server.log" | head -1)
AUTH=(-H "Authorization: Bearer metrics-test-token")

# without the token: 401, as the API
st=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/metrics")
assert_eq 401 "$st" "GET /metrics without the token"

body() { # body NAME TYPE
	python3 -c '
import json, os, sys
e = os.environ
print(json.dumps({"name": sys.argv[1], "type": sys.argv[2], "start": True, "objects": {"databases": [sys.argv[3]]},
  "source": {"host": e["TIDM_TEST_SOURCE_HOST"], "port": int(e["TIDM_TEST_SOURCE_PORT"]),
             "user": e["TIDM_TEST_SOURCE_USER"], "password": e["TIDM_TEST_SOURCE_PASSWORD"]},
  "target": {"host": e["TIDM_TEST_TARGET_HOST"], "port": int(e["TIDM_TEST_TARGET_PORT"]),
             "user": e["TIDM_TEST_TARGET_USER"], "password": e["TIDM_TEST_TARGET_PASSWORD"]}}))' "$1" "$2" "$db"
}
for j in "$js all" "$jf full"; do
	set -- $j
	st=$(curl -sS -o "$TEST_TMP/create.json" -w '%{http_code}' "${AUTH[@]}" -X POST --data-binary "$(body "$1" "$2")" "$BASE/api/v1/jobs")
	[ "$st" = 201 ] || fail "creating job $1: HTTP $st $(cat "$TEST_TMP/create.json")"
done
M=$TEST_TMP/m.txt
st_of() { # st_of JOB STATE: the job's state gauge is 1
	scrape "$BASE/metrics" "$M" "${AUTH[@]}"
	[ "$(value "$M" "tidm_job_state{job_name=\"$1\",state=\"$2\"}")" = 1 ]
}
wait_for "st_of '$jf' finished" 120 "job $jf to finish"
wait_for "st_of '$js' running && [ \"\$(value '$M' 'tidm_job_stage{job_name=\"$js\",stage=\"syncing\"}')\" = 1 ]" 120 "job $js to replicate"
promcheck "$M"
assert_eq 2 "$(value "$M" "tidm_full_rows_done{job_name=\"$jf\"}")" "rows copied by $jf"
assert_eq 2 "$(value "$M" tidm_jobs)" "tidm_jobs"
assert_eq absent "$(value "$M" "tidm_replication_lag_seconds{job_name=\"$jf\"}")" "no lag for a finished full job"
for name in process_cpu_seconds_total process_resident_memory_bytes process_open_fds process_threads; do
	[ "$(value "$M" "$name")" != absent ] || fail "$name missing"
done

rows_before=$(value "$M" "tidm_sync_rows_applied_total{job_name=\"$js\"}")
pos_before=$(value "$M" "tidm_binlog_position_bytes{job_name=\"$js\"}")
# transactions stamped an hour ago: the lag shows it while they are applied
old=$(($(date +%s) - 3600))
(for i in $(seq 10 400); do echo "SET timestamp = $old; INSERT INTO \`$db\`.t1 VALUES ($i, 'x');"; echo "DO SLEEP(0.01);"; done) | src_sql &
wpid=$!
lag_high() {
	scrape "$BASE/metrics" "$M" "${AUTH[@]}"
	local l
	l=$(value "$M" "tidm_replication_lag_seconds{job_name=\"$js\"}")
	[ "$l" != absent ] && [ "$l" -ge 3000 ]
}
wait_for lag_high 60 "the lag of $js to show the hour-old transactions"
wait "$wpid"
rows_after() {
	scrape "$BASE/metrics" "$M" "${AUTH[@]}"
	[ "$(value "$M" "tidm_sync_rows_applied_total{job_name=\"$js\"}")" -ge $((rows_before + 391)) ]
}
wait_for rows_after 60 "the rows applied by $js to grow by 391"
lag_low() {
	scrape "$BASE/metrics" "$M" "${AUTH[@]}"
	[ "$(value "$M" "tidm_replication_lag_seconds{job_name=\"$js\"}")" -le 5 ]
}
wait_for lag_low 60 "the lag of $js to fall back once the source is idle"
promcheck "$M"
pos_after=$(value "$M" "tidm_binlog_position_bytes{job_name=\"$js\"}")
[ "$pos_before" != absent ] && [ "$pos_after" -gt "$pos_before" ] || fail "binlog position did not move: $pos_before -> $pos_after"
[ "$(value "$M" "tidm_sync_transactions_total{job_name=\"$js\"}")" -ge 391 ] || fail "transactions: $(grep tidm_sync_transactions_total "$M")"
[ "$(value "$M" "tidm_sync_batch_duration_seconds_count{job_name=\"$js\"}")" -ge 1 ] || fail "no batch in the histogram"
[ "$(value "$M" "tidm_checkpoint_age_seconds{job_name=\"$js\"}")" -le 30 ] || fail "checkpoint age: $(grep tidm_checkpoint_age "$M")"
# the binlog runway the precheck measured (7 days of retention on the test source), less the lag
rw=$(value "$M" "tidm_binlog_runway_seconds{job_name=\"$js\"}")
[ "$rw" != absent ] && [ "$rw" -gt $((604800 - 60)) ] && [ "$rw" -le 604800 ] || fail "binlog runway: $(grep tidm_binlog_runway "$M")"
assert_tables_equal "$db" t1
kill "$spid"
wait "$spid" || true

# --- tidm migrate --metrics-listen ------------------------------------------------------
tgt_sql "DROP DATABASE IF EXISTS \`$db\`"
write_job "$TEST_TMP/job.yaml" type=all databases="$db"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --metrics-listen "127.0.0.1:$port" 2>"$TEST_TMP/migrate.log" &
mpid=$!
on_exit "kill $mpid 2>/dev/null"
jm=$(sed -n 's/^name: //p' "$TEST_TMP/job.yaml" | tr -d "'\"")
syncing() {
	scrape "http://127.0.0.1:$port/metrics" "$M"
	[ "$(value "$M" "tidm_job_stage{job_name=\"$jm\",stage=\"syncing\"}")" = 1 ]
}
wait_for syncing 120 "tidm migrate to replicate (metrics on port $port)"
promcheck "$M"
r0=$(value "$M" "tidm_sync_rows_applied_total{job_name=\"$jm\"}")
src_sql "INSERT INTO \`$db\`.t1 VALUES (1000, 'y'), (1001, 'z')"
moved() {
	scrape "http://127.0.0.1:$port/metrics" "$M"
	[ "$(value "$M" "tidm_sync_rows_applied_total{job_name=\"$jm\"}")" -ge $((r0 + 2)) ]
}
wait_for moved 60 "the rows applied by tidm migrate to grow"
promcheck "$M"
st=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/jobs")
assert_eq 404 "$st" "the API on the metrics listener"
kill -TERM "$mpid"
wait "$mpid" || true
assert_tables_equal "$db" t1
echo "PASS $TEST_NAME"
