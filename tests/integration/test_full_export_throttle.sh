#!/usr/bin/env bash
# test_full_export_throttle.sh - spec.export (issue 17): a max-rows-per-second cap bounds
# the copy of all dump workers together (20,000 rows at 10,000 rows/s take at least ~1.8 s,
# and the target ends equal); a slower cap shows in the progress line ("throttled NN%
# (cap)") and in the metrics (tidm_export_throttled_ratio, tidm_export_limit_rows_per_second);
# the adaptive mode measures the source's idle probe latency, copies everything and says
# what it held back; verify's reads obey the same cap.
. "$(dirname "$0")/../harness/lib.sh"

TEST_TMP=$(mktemp -d)
db=$(test_db)
src_sql "CREATE DATABASE \`$db\`;
CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(40), n BIGINT);
INSERT INTO \`$db\`.t SELECT seq, CONCAT('row ', seq), seq * 7 FROM \`$db\`.seq_1_to_20000;"

# job FILE NAME EXPORT-MAPPING: a job of 4 dump workers and 1,000-row chunks with spec.export
job() {
	write_job "$1" "name=$2" type=full "databases=$db" spec.dump-threads=4 spec.chunk-rows=1000
	printf '  export: %s\n' "$3" >>"$1"
}
now() { date +%s.%N; }

# --- 1. a cap of 10,000 rows/s: 20,000 rows take >= 1.8 s, the copy ends equal ---------------
job "$TEST_TMP/cap.yaml" "thr-cap-$$" "{max-rows-per-second: 10000}"
t0=$(now)
rc=0
"$TIDM_BIN" migrate "$TEST_TMP/cap.yaml" >"$TEST_TMP/cap.out" 2>"$TEST_TMP/cap.log" || rc=$?
t1=$(now)
assert_eq 0 "$rc" "exit code with a cap: $(tail -3 "$TEST_TMP/cap.log")"
assert_tables_equal "$db"
el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
awk -v e="$el" 'BEGIN { exit !(e >= 1.8) }' || fail "20,000 rows at 10,000 rows/s copied in $el s (expected >= 1.8 s)"
# the copy itself (the summary's own timing) must not exceed the cap either
copy_s=$(sed -nE 's/.*rows +20000 copied in this run, ([0-9.]+) s.*/\1/p' "$TEST_TMP/cap.out")
[ -n "$copy_s" ] || fail "no copy summary: $(cat "$TEST_TMP/cap.out")"
awk -v e="$copy_s" 'BEGIN { exit !(e >= 1.8) }' || fail "the summary says the copy took $copy_s s (expected >= 1.8 s)"
assert_contains "$(cat "$TEST_TMP/cap.log")" "the export throttle: at most 10000 rows/s read from the source, all dump workers together"
assert_contains "$(cat "$TEST_TMP/cap.log")" "the export throttle: 20000 rows read in"

# --- 2. 1,500 rows/s: the progress line and the metrics show the throttle ------------------
tgt_sql "DROP DATABASE \`$db\`"
job "$TEST_TMP/slow.yaml" "thr-slow-$$" "{max-rows-per-second: 1500}"
"$TIDM_BIN" migrate "$TEST_TMP/slow.yaml" --metrics-listen 127.0.0.1:0 >"$TEST_TMP/slow.out" 2>"$TEST_TMP/slow.log" &
pid=$!
on_exit "kill $pid 2>/dev/null || true"
wait_for "grep -q 'metrics at http://' '$TEST_TMP/slow.log'" 30 "the metrics listener"
url=$(sed -nE 's|.*metrics at (http://[0-9.:]+/metrics).*|\1|p' "$TEST_TMP/slow.log" | head -1)
# a few seconds into the copy: the workers mostly wait
wait_for "grep -q 'the export throttle: at most 1500 rows/s' '$TEST_TMP/slow.log'" 30 "the copy to start"
sleep 6
curl -sS --fail -o "$TEST_TMP/metrics.txt" "$url" || fail "GET $url failed"
ratio=$(awk '/^tidm_export_throttled_ratio\{/ { print $2 }' "$TEST_TMP/metrics.txt")
limit=$(awk '/^tidm_export_limit_rows_per_second\{/ { print $2 }' "$TEST_TMP/metrics.txt")
assert_eq 1500 "$limit" "tidm_export_limit_rows_per_second"
awk -v r="$ratio" 'BEGIN { exit !(r + 0 >= 0.5) }' || fail "tidm_export_throttled_ratio is '$ratio' (expected >= 0.5): $(grep export "$TEST_TMP/metrics.txt")"
if command -v promtool >/dev/null; then
	out=$(promtool check metrics <"$TEST_TMP/metrics.txt" 2>&1) || fail "promtool check metrics refused it: $out"
fi
rc=0
wait "$pid" || rc=$?
assert_eq 0 "$rc" "exit code of the slow copy: $(tail -3 "$TEST_TMP/slow.log")"
assert_tables_equal "$db"
# the log's progress line (every 10 s without a terminal) says the throttle holds back
line=$(grep -E '\[copying\] .*throttled [0-9]+% \(cap\)' "$TEST_TMP/slow.log" | head -1) ||
	fail "no progress line shows the throttle: $(grep copying "$TEST_TMP/slow.log")"
pct=$(sed -nE 's/.*throttled ([0-9]+)% \(cap\).*/\1/p' <<<"$line")
[ "$pct" -ge 50 ] || fail "the progress line says throttled $pct% (expected >= 50%): $line"

# --- 3. adaptive: the idle baseline is measured, the copy finishes and ends equal -------------
tgt_sql "DROP DATABASE \`$db\`"
job "$TEST_TMP/adapt.yaml" "thr-adapt-$$" "{adaptive: true}"
rc=0
"$TIDM_BIN" migrate "$TEST_TMP/adapt.yaml" >"$TEST_TMP/adapt.out" 2>"$TEST_TMP/adapt.log" || rc=$?
assert_eq 0 "$rc" "exit code adaptive: $(tail -3 "$TEST_TMP/adapt.log")"
assert_tables_equal "$db"
grep -qE 'the export throttle: adaptive; the source answers a probe in [0-9.]+ ms before the copy \(median of [0-9]+\)' "$TEST_TMP/adapt.log" ||
	fail "no baseline in the log: $(cat "$TEST_TMP/adapt.log")"
grep -qE 'the export throttle: 20000 rows read in [0-9.]+ s; .*the adaptive limit was lowered [0-9]+ times' "$TEST_TMP/adapt.log" ||
	fail "no adaptive summary in the log: $(cat "$TEST_TMP/adapt.log")"

# --- 4. verify's reads from the source obey spec.export's cap too (issue 18) -----------------
# (20,000 rows at 10,000 rows/s: two seconds or more; a few tenths without the cap)
out=$("$TIDM_BIN" verify "$TEST_TMP/cap.yaml" --format json 2>&1) || fail "verify under spec.export: $out"
python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["seconds"] >= 1.8 and r["equal"], r' <<<"$out" ||
	fail "spec.export's 10,000 rows/s did not slow verify: $out"
echo "PASS $TEST_NAME"
