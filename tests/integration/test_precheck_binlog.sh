#!/usr/bin/env bash
# Precheck items about the source's binary log, each produced on the MariaDB source, then
# fixed and seen to pass: binlog_format STATEMENT and MIXED, binlog_row_image MINIMAL,
# short retention (warning and fail), the binlog runway (warning and fail, figures in the
# message), a start file that no longer exists, a GTID start set the source has purged.
# Exit codes and the JSON shape of SPEC §7.2; `tidm migrate` refuses with exit 3.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(200));
	INSERT INTO \`$db\`.t SELECT seq, REPEAT('x', 150) FROM \`$db\`.seq_1_to_20000"
job=$TEST_TMP/job.yaml
write_job "$job" name=pc-binlog type=all "databases=$db"

# settings this test changes come back at exit, whatever happens
orig=$(src_sql "SELECT CONCAT_WS(' ', @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image, @@GLOBAL.binlog_expire_logs_seconds)")
read -r o_format o_image o_expire <<<"$orig"
on_exit "src_sql \"SET GLOBAL binlog_format = '$o_format', GLOBAL binlog_row_image = '$o_image', GLOBAL binlog_expire_logs_seconds = $o_expire\" || true"

# --- all pass: exit 0, the JSON shape -----------------------------------------------------
precheck_run "$job"
assert_eq 0 "$PC_RC" "exit of a passing precheck ($(cat "$TEST_TMP/precheck.json"))"
python3 - "$TEST_TMP/precheck.json" <<'PY' || fail "precheck JSON shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["items"], list) and len(d["items"]) >= 25, "items"
ids = set()
for i in d["items"]:
    for k in ("id", "title", "state", "message", "fix"):
        assert k in i, (k, i)
    assert i["state"] in ("pass", "warning", "fail"), i
    assert i["id"] not in ids, i["id"]
    ids.add(i["id"])
for want in ("log-bin", "binlog-format", "binlog-row-image", "binlog-retention", "binlog-runway", "source-privileges",
             "target-privileges", "keyless-tables", "collations", "start-position", "binlog-db-filter"):
    assert want in ids, want
assert d["summary"]["ok"] is True and d["summary"]["fail"] == 0
PY
assert_item binlog-format pass "binlog_format = ROW"

# --- binlog_format STATEMENT and MIXED: fail -----------------------------------------------
for f in STATEMENT MIXED; do
	src_sql "SET GLOBAL binlog_format = '$f'"
	precheck_run "$job"
	assert_eq 3 "$PC_RC" "exit with binlog_format $f"
	assert_item binlog-format fail "the source's binlog_format is $f" "row events only"
	assert_contains "$(pc_field binlog-format fix)" "SET GLOBAL binlog_format = ROW" "MariaDB fix"
	# tidm migrate refuses before writing anything
	rc=0
	tidm migrate "$job" >"$TEST_TMP/m.out" 2>&1 || rc=$?
	assert_eq 3 "$rc" "migrate exit with binlog_format $f"
	assert_contains "$(cat "$TEST_TMP/m.out")" "binlog-format"
	assert_contains "$(cat "$TEST_TMP/m.out")" "not started: the precheck failed"
	[ "$(tgt_sql "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$db'")" = 0 ] ||
		fail "migrate wrote to the target although the precheck failed"
done
src_sql "SET GLOBAL binlog_format = 'ROW'"
precheck_run "$job"
assert_item binlog-format pass "binlog_format = ROW"

# --- binlog_row_image MINIMAL: fail ---------------------------------------------------------
src_sql "SET GLOBAL binlog_row_image = 'MINIMAL'"
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item binlog-row-image fail "binlog_row_image is MINIMAL" "defaults"
src_sql "SET GLOBAL binlog_row_image = 'FULL'"
precheck_run "$job"
assert_item binlog-row-image pass "binlog_row_image = FULL"

# --- retention: fail under 1 day, warning under 7 days --------------------------------------
src_sql "SET GLOBAL binlog_expire_logs_seconds = 3600"
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item binlog-retention fail "1h 00m" "binlog_expire_logs_seconds = 3600"
assert_contains "$(pc_field binlog-retention fix)" "binlog_expire_logs_seconds = 604800"
src_sql "SET GLOBAL binlog_expire_logs_seconds = 172800"
precheck_run "$job"
assert_eq 3 "$PC_RC" "an unignored warning blocks"
assert_item binlog-retention warning "2d 0h" "binlog_expire_logs_seconds = 172800"
# ignored explicitly: exit 0
precheck_run "$job" --ignore-warnings
assert_eq 0 "$PC_RC" "--ignore-warnings"
assert_eq true "$(pc_field binlog-retention ignored)"
src_sql "SET GLOBAL binlog_expire_logs_seconds = 604800"
precheck_run "$job"
assert_item binlog-retention pass "binlog_expire_logs_seconds = 604800"

# --- the runway: a large estimated copy against a short retention --------------------------
bytes=$(src_sql "SELECT DATA_LENGTH + INDEX_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db' AND TABLE_NAME = 't'")
# copy rate so that the copy takes ~1.5 days against 2 days of retention: warning (margin < 2x)
rate=$((bytes / 129600 + 1))
src_sql "SET GLOBAL binlog_expire_logs_seconds = 172800"
write_job "$job" name=pc-binlog type=all "databases=$db" precheck.copy-rate=$rate precheck.ignore=binlog-retention
precheck_run "$job"
assert_item binlog-runway warning "bytes at $rate bytes/s, the job's copy-rate" "stays for about 2d 0h" "binlog_expire_logs_seconds = 172800" "margin of 1."
# ~3 days of copy against 2 days: fail
rate=$((bytes / 259200 + 1))
write_job "$job" name=pc-binlog type=all "databases=$db" precheck.copy-rate=$rate precheck.ignore=binlog-retention
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item binlog-runway fail "estimated at 2d" "will be purged in about 2d 0h" "$bytes bytes at $rate bytes/s"
# the runway figures are in the JSON too
python3 - "$TEST_TMP/precheck.json" "$bytes" <<'PY' || fail "runway figures in the JSON"
import json, sys
r = json.load(open(sys.argv[1]))["runway"]
assert r["runway_seconds"] == 172800, r
assert r["full_bytes"] == int(sys.argv[2]), r
assert r["full_estimate_seconds"] > 172800, r
PY
# retention fixed: the runway passes; without a configured rate it samples one
src_sql "SET GLOBAL binlog_expire_logs_seconds = 604800"
write_job "$job" name=pc-binlog type=all "databases=$db"
precheck_run "$job"
assert_item binlog-runway pass "the full phase is estimated at" "margin"
assert_eq 0 "$PC_RC"

# --- an incremental start file that no longer exists ----------------------------------------
write_job "$job" name=pc-binlog-inc type=incremental "databases=$db" start.binlog-file=mysql-bin.000000 start.binlog-pos=4
tgt_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(200))"
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item start-position fail "The required binary log for migration no longer exists on the source database" "mysql-bin.000000"
cur=$(src_sql "SHOW MASTER STATUS" | cut -f1)
write_job "$job" name=pc-binlog-inc type=incremental "databases=$db" start.binlog-file="$cur" start.binlog-pos=4
precheck_run "$job"
assert_item start-position pass "$cur"

# --- a GTID start set the source has purged -------------------------------------------------
# on a server of its own: a replica connection left over from another test would keep the
# shared source from purging the file it reads
start_extra_server purged
extra_sql purged "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(200))"
old_gtid=$(extra_sql purged "SELECT @@GLOBAL.gtid_binlog_pos")
extra_sql purged "INSERT INTO \`$db\`.t VALUES (100001, 'a'); FLUSH BINARY LOGS"
extra_sql purged "INSERT INTO \`$db\`.t VALUES (100002, 'b')"
cur=$(extra_sql purged "SHOW MASTER STATUS" | cut -f1)
# MariaDB keeps the previous file until its binlog checkpoint is written (crash recovery
# may need it): purge until it has gone
wait_for "extra_sql purged \"PURGE BINARY LOGS TO '$cur'\" && [ \"\$(extra_sql purged 'SHOW BINARY LOGS' | head -1 | cut -f1)\" = '$cur' ]" 30 \
	"the binlogs before $cur to be purged"
write_job "$job" name=pc-binlog-inc type=incremental "databases=$db" start.gtid="$old_gtid" source.port="$EXTRA_PORT"
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item start-position fail "The required binary log for migration no longer exists on the source database" \
	"$old_gtid" "GTID state at the oldest binlog"
# a start set that is still there passes
now_gtid=$(extra_sql purged "SELECT @@GLOBAL.gtid_binlog_pos")
write_job "$job" name=pc-binlog-inc type=incremental "databases=$db" start.gtid="$now_gtid" source.port="$EXTRA_PORT"
precheck_run "$job"
assert_item start-position pass "still has every transaction after the start set"
assert_item gtid-mode pass "MariaDB writes GTIDs always"

# --- the runway while the job runs: replication far behind its binlog's retention ----------
# A transaction stamped 5 days ago (SET TIMESTAMP) makes the job 5 days behind for a moment;
# with 7 days of retention, the 2 days left are under twice the lag: one warning in the log,
# and the progress line shows the runway.
src_sql "SET GLOBAL binlog_expire_logs_seconds = 604800"
tgt_sql "CREATE DATABASE IF NOT EXISTS \`$db\`; CREATE TABLE IF NOT EXISTS \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(200))"
write_job "$job" name=pc-binlog-run type=incremental "databases=$db"
# ("$TIDM_BIN", not the tidm function: $! must be tidm itself, or the TERM below ends a
# subshell and leaves tidm replicating after the test)
"$TIDM_BIN" migrate "$job" >"$TEST_TMP/run.out" 2>&1 &
mpid=$!
on_exit "kill $mpid 2>/dev/null || true"
wait_for "grep -q 'replication starts\|syncing\|caught up' '$TEST_TMP/run.out' || tgt_sql \"SELECT COUNT(*) FROM tidm_meta.jobs WHERE name = 'pc-binlog-run' AND stage = 'sync'\" | grep -q 1" 60 "replication to start"
sleep 2
src_sql "SET TIMESTAMP = UNIX_TIMESTAMP() - 5 * 86400; INSERT INTO \`$db\`.t VALUES (200001, 'old'); SET TIMESTAMP = DEFAULT"
wait_for "grep -q 'binlog runway: replication is' '$TEST_TMP/run.out'" 30 "the runway warning"
assert_contains "$(cat "$TEST_TMP/run.out")" "more (binlog_expire_logs_seconds = 604800): a margin under 2x"
grep -qE "stays on the source for about (2d 0h|1d 23h) more" "$TEST_TMP/run.out" || fail "the runway left: $(grep "binlog runway" "$TEST_TMP/run.out")"
kill -TERM "$mpid"
wait "$mpid" || true
assert_eq 1 "$(grep -c 'binlog runway: replication is' "$TEST_TMP/run.out")" "the warning is given once"
