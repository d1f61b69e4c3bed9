#!/usr/bin/env bash
# test_log_json.sh - `tidm migrate --log-format json` (issue 15 "Logs"): every line of its
# log is one JSON object with exactly time, level, job and message, the job named; a run
# that fails (a wrong target password) says so in a JSON line too; no password appears.
# (`tidm server --log-format json` is covered by test_alerts.sh.)
. "$(dirname "$0")/../harness/lib.sh"

TEST_TMP=$(mktemp -d)
db=$(test_db)
src_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO \`$db\`.t VALUES (1,'a'),(2,'b')"

# check_json_log FILE JOB: every line an object {time, level, job, message}; prints the messages
check_json_log() {
	python3 -c '
import json, sys
for i, l in enumerate(open(sys.argv[1]), 1):
    try:
        o = json.loads(l)
    except ValueError as e:
        sys.exit(f"line {i} is not JSON ({e}): {l!r}")
    if sorted(o) != ["job", "level", "message", "time"] or o["level"] not in ("debug", "info", "warn", "error"):
        sys.exit(f"line {i}: {l!r}")
    if o["job"] not in (None, sys.argv[2]):
        sys.exit("line %d names another job: %r" % (i, l))
    print(o["level"], o["job"], o["message"].split("\n")[0])' "$1" "$2" || fail "the JSON log $1: $(head -c 2000 "$1")"
}

job=logjson-$$
write_job "$TEST_TMP/job.yaml" name=$job type=full "databases=$db"
rc=0
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --log-format json 2>"$TEST_TMP/ok.log" || rc=$?
assert_eq 0 "$rc" "exit code of the run: $(tail -3 "$TEST_TMP/ok.log")"
assert_tables_equal "$db"
msgs=$(check_json_log "$TEST_TMP/ok.log" "$job")
assert_contains "$msgs" "info $job job $job: full migration from" "the start line names the job"

bad='Wr0ng-"pa55\word'
write_job "$TEST_TMP/bad.yaml" name=$job-bad type=full "databases=$db" "target.password=$bad"
rc=0
"$TIDM_BIN" migrate "$TEST_TMP/bad.yaml" --log-format json 2>"$TEST_TMP/bad.log" || rc=$?
assert_eq 1 "$rc" "exit code with a wrong target password"
msgs=$(check_json_log "$TEST_TMP/bad.log" "$job-bad")
assert_contains "$msgs" "error $job-bad job $job-bad failed: Failed to connect to the TiDB cluster using the given user and password"
for pw in "$bad" 'pa55' "$TIDM_TEST_SOURCE_PASSWORD" "$TIDM_TEST_TARGET_PASSWORD"; do
	[ -n "$pw" ] || continue
	if grep -qF -- "$pw" "$TEST_TMP/ok.log" "$TEST_TMP/bad.log"; then fail "a password appears in the log"; fi
done

rc=0
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" --log-format yaml 2>"$TEST_TMP/usage.err" || rc=$?
assert_eq 2 "$rc" "exit code of a bad --log-format"
assert_contains "$(cat "$TEST_TMP/usage.err")" '--log-format "yaml": expected text or json'
echo "PASS $TEST_NAME"
