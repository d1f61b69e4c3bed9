#!/usr/bin/env bash
# The job service's manager (src/service/) drives a real `type: all` job in-process
# (tests/harness/service_drive.c): created and started, it reaches Syncing; paused, a row
# written to the source meanwhile arrives after resume; scaled while syncing it restarts
# from its checkpoint; a clean shutdown pauses it and the next open resumes it; a job
# paused by the user stays paused over the restart; the target equals the source
# (checksums); deleted, its tidm_meta rows are gone and the target data stays. The
# password appears in no answer, event, log line or file of the data directory.
. "$(dirname "$0")/../harness/lib.sh"

[ -x "${TIDM_SERVICE_DRIVE:-}" ] || TIDM_SERVICE_DRIVE=$TIDM_BUILD/tidm_service_drive
db=$(test_db)
src_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(32));
         INSERT INTO \`$db\`.t VALUES (1,'a'),(2,'b'),(3,'c');
         CREATE TABLE \`$db\`.k (v INT); INSERT INTO \`$db\`.k VALUES (1),(1),(2);"
write_job "$TEST_TMP/job.yaml" name=svc-job type=all "databases=$db" spec.apply-workers=2
db2=$(test_db idle)
src_sql "CREATE DATABASE \`$db2\`; CREATE TABLE \`$db2\`.t (id INT PRIMARY KEY); INSERT INTO \`$db2\`.t VALUES (1)"
write_job "$TEST_TMP/idle.yaml" name=svc-idle type=all "databases=$db2"
pw=$TIDM_TEST_SOURCE_PASSWORD

coproc DRV { "$TIDM_SERVICE_DRIVE" "$TEST_TMP/data" 2>"$TEST_TMP/log"; }
on_exit "kill ${DRV_PID:-0} 2>/dev/null"
# cmd LINE: send a command, print its answer; fail unless it starts with "ok"
cmd() {
	local ans
	echo "$1" >&"${DRV[1]}"
	IFS= read -r -t 300 ans <&"${DRV[0]}" || fail "no answer to '$1' (log: $(tail -5 "$TEST_TMP/log"))"
	echo "$ans" >>"$TEST_TMP/answers"
	case "$ans" in ok*) printf '%s\n' "$ans" ;; *) fail "'$1' answered: $ans (log: $(tail -5 "$TEST_TMP/log"))" ;; esac
}

cmd "open" >/dev/null
cmd "create $TEST_TMP/job.yaml start" >/dev/null
cmd "wait svc-job running/syncing 180" >/dev/null
cmd "create $TEST_TMP/idle.yaml" >/dev/null
wait_for "[ \"\$(tgt_sql 'SELECT COUNT(*) FROM \`$db\`.t')\" = 3 ]" 60 "the full copy"

cmd "pause svc-job" >/dev/null
cmd "wait svc-job paused/syncing 5" >/dev/null
src_sql "INSERT INTO \`$db\`.t VALUES (4,'written while paused')"
sleep 2
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.t WHERE id = 4")" "nothing applied while paused"
cmd "resume svc-job" >/dev/null
cmd "wait svc-job running/syncing 60" >/dev/null
wait_for "[ \"\$(tgt_sql 'SELECT COUNT(*) FROM \`$db\`.t WHERE id = 4')\" = 1 ]" 60 "the row written while paused"

cmd "scale svc-job apply-workers=3" >/dev/null
cmd "wait svc-job running/syncing 60" >/dev/null
src_sql "UPDATE \`$db\`.t SET v = 'after scale' WHERE id = 2; INSERT INTO \`$db\`.k VALUES (3)"
wait_for "[ \"\$(tgt_sql \"SELECT v FROM \\\`$db\\\`.t WHERE id = 2\")\" = 'after scale' ]" 60 "a change after scale"
ans=$(cmd "get svc-job")
assert_contains "$ans" '"apply-workers":3'

# a clean shutdown and a new open: the running job resumes, a paused one stays paused
cmd "start svc-idle" >/dev/null
cmd "wait svc-idle running/syncing 120" >/dev/null
cmd "pause svc-idle" >/dev/null
cmd "close" >/dev/null
src_sql "INSERT INTO \`$db\`.t VALUES (5,'while the daemon was down')"
cmd "open" >/dev/null
cmd "wait svc-job running/syncing 60" >/dev/null
cmd "wait svc-idle paused/syncing 5" >/dev/null
wait_for "[ \"\$(tgt_sql 'SELECT COUNT(*) FROM \`$db\`.t WHERE id = 5')\" = 1 ]" 60 "the row written while the daemon was down"
sleep 2
assert_tables_equal "$db"
assert_tables_equal "$db2"
ev=$(cmd "events svc-job")
assert_contains "$ev" "paused by the daemon's shutdown; resumes when it starts again"
assert_contains "$ev" "a table without a primary key or unique key may receive duplicate rows"

# delete: tidm_meta rows go, target data stays
cmd "delete svc-job" >/dev/null
cmd "delete svc-idle" >/dev/null
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.jobs WHERE name IN ('svc-job','svc-idle')")" "job rows in tidm_meta"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.sync_workers WHERE job IN ('svc-job','svc-idle')")" "checkpoints in tidm_meta"
assert_eq 5 "$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.t")" "target data kept"
ans=$(echo "get svc-job" >&"${DRV[1]}"; IFS= read -r -t 60 l <&"${DRV[0]}"; echo "$l")
assert_contains "$ans" "err ENOTFOUND no job named svc-job"
exec {DRV[1]}>&-
wait "$DRV_PID" || true

# the password: in no answer, log line or stored file
if [ -n "$pw" ]; then
	! grep -aF -- "$pw" "$TEST_TMP/answers" "$TEST_TMP/log" "$TEST_TMP"/data/* || fail "the password leaked"
fi
echo "PASS: $TEST_NAME"
