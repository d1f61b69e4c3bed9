#!/usr/bin/env bash
# tidm verify while the job is syncing and the source keeps writing (the replication
# workload of tests/harness/workload.sh: transactions, key changes, unique swaps, deletes,
# keyless duplicates, JSON): 20 passes in a row report no difference (exit 0, online);
# then a row changed on the target behind tidm's back (a keyed table) and a row added
# there (a keyless table) are both found by the next pass, and nothing else is. The job's
# own passes (spec.verify: continuous) run meanwhile: equal under load, then they find the
# two rows too.
. "$(dirname "$0")/../harness/lib.sh"
. "$TIDM_SRC/tests/harness/workload.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`"
workload_setup "$db"
write_job "$TEST_TMP/job.yaml" name=verify-online type=all "databases=$db" spec.apply-workers=4 spec.verify-chunk-rows=2000 spec.verify=continuous
"$TIDM_BIN" migrate "$TEST_TMP/job.yaml" >"$TEST_TMP/migrate.log" 2>&1 &
mpid=$!
on_exit "kill $mpid 2>/dev/null || true"
wait_for "[ \"\$(tgt_sql \"SELECT CONCAT(state, '/', stage) FROM tidm_meta.jobs WHERE name = 'verify-online'\")\" = running/sync ]" 120 "the job syncing"

# the write load: the workload's iterations after its DDL, until stopped
WORKLOAD_SLEEP=${WL_SLEEP:-0.01} workload_run "$db" 101 100000 >/dev/null 2>&1 &
wl=$!
on_exit "kill $wl 2>/dev/null || true"
sleep 2

for pass in $(seq 1 20); do
	rc=0
	"$TIDM_BIN" verify "$TEST_TMP/job.yaml" --format json >"$TEST_TMP/pass$pass.json" 2>"$TEST_TMP/pass$pass.err" || rc=$?
	kill -0 "$wl" 2>/dev/null || fail "the write load stopped early"
	kill -0 "$mpid" 2>/dev/null || fail "tidm migrate stopped: $(tail -5 "$TEST_TMP/migrate.log")"
	[ "$rc" = 0 ] || fail "pass $pass reported a difference under load (exit $rc): $(cat "$TEST_TMP/pass$pass.json" "$TEST_TMP/pass$pass.err")"
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["online"] and r["equal"] and len(r["tables"]) >= 5, r' \
		"$TEST_TMP/pass$pass.json" || fail "pass $pass: not an online, equal report"
done
# the load made rows differ while in flight, which the protocol proved equal
rechecked=$(python3 -c 'import json,sys; print(sum(t["rechecked_rows"] for f in sys.argv[1:] for t in json.load(open(f))["tables"]))' "$TEST_TMP"/pass*.json)
echo "20 online passes equal; $rechecked rows in flight found equal when checked again; seconds per pass:" \
	"$(python3 -c 'import json,sys; print(" ".join("%.1f" % json.load(open(f))["seconds"] for f in sys.argv[1:]))' "$TEST_TMP"/pass*.json)"
[ "$rechecked" -gt 0 ] || fail "no pass met a row in flight: the load did not test the online protocol"

# the job's own passes (spec.verify: continuous) found nothing either
assert_contains "$(cat "$TEST_TMP/migrate.log")" "verify pass 2: every table equal"
if grep -q "rows differ" "$TEST_TMP/migrate.log"; then fail "the job's verify passes reported differences: $(grep "rows differ" "$TEST_TMP/migrate.log")"; fi

# behind tidm's back: rows the load never writes
tgt_sql "UPDATE \`$db\`.\`all types\` SET t_varchar = 'changed behind tidm' WHERE id = 1;
INSERT INTO \`$db\`.\`no key\` (a, b) VALUES (99, 'extra behind tidm')"
rc=0
"$TIDM_BIN" verify "$TEST_TMP/job.yaml" --format json >"$TEST_TMP/planted.json" 2>"$TEST_TMP/planted.err" || rc=$?
assert_eq 1 "$rc" "exit code of the pass after the planted change ($(cat "$TEST_TMP/planted.err"))"
python3 - "$TEST_TMP/planted.json" "$db" <<'PY' || fail "the planted differences are not reported as expected: $(cat "$TEST_TMP/planted.json")"
import json, sys
r = json.load(open(sys.argv[1])); db = sys.argv[2]
assert r["online"], r
bad = {t["table"]: t for t in r["tables"] if t["state"] != "equal"}
assert sorted(bad) == sorted([db + ".all types", db + ".no key"]), bad
d = bad[db + ".all types"]["differences"]
assert [(x["side"], x["key"], x.get("columns")) for x in d] == [("changed", "`id`=1", "`t_varchar`")], d
d = bad[db + ".no key"]["differences"]
assert [(x["side"], x["rows"]) for x in d] == [("extra", 1)] and "extra behind tidm" in d[0]["key"], d
PY
# ... and so does the job's next pass
wait_for "grep -q 'tables equal, 2 rows differ' '$TEST_TMP/migrate.log'" 60 "the job's continuous verify finding the planted rows"
kill "$wl" 2>/dev/null || true
kill -INT "$mpid"
wait "$mpid" || true
echo ok
