#!/usr/bin/env bash
# test_service_daemon.sh - the job service as a daemon (issue 14, "Must show" 1-4), through
# a real `tidm server` process, its HTTP API (curl) and the `tidm job` client:
#  (a) a `type: all` job created with curl runs to Syncing; paused, a row written to the
#      source meanwhile does not arrive, then arrives after resume; scaled, it goes on
#      syncing; deleted at the end, its tidm_meta rows go and the target data stays;
#  (b) a second job on another database, created with `tidm job create --start`, runs at
#      the same time in the same daemon; both end equal (checksums);
#  (c) `kill -9` of the daemon while a third job dumps a big table (stage dumping/loading,
#      checked before the kill) and the first syncs under a source workload, with the
#      second paused; the daemon restarted on the same data dir: both running jobs end
#      equal, no keyed table holds a duplicate, the paused job stays paused (and catches
#      up when resumed);
#  (d) no password in any API answer, event, the daemon's log, the store file or the
#      `ps -eo args` output sampled during the run.
. "$(dirname "$0")/../harness/lib.sh"

DATA=$TEST_TMP/data
ANS=$TEST_TMP/answers
mkdir -p "$ANS"
n=0
ja=dmn-a-$$
jb=dmn-b-$$
jc=dmn-c-$$
for j in "$ja" "$jb" "$jc"; do _tidm_job_seen "$j"; done
dba=$(test_db a)
dbb=$(test_db b)
dbc=$(test_db c)
BIG_ROWS=${TIDM_TEST_DAEMON_ROWS:-400000}

src_sql "CREATE DATABASE \`$dba\`; CREATE TABLE \`$dba\`.t (id INT PRIMARY KEY, v VARCHAR(40));
         INSERT INTO \`$dba\`.t SELECT seq, CONCAT('a-', seq) FROM \`$dba\`.seq_1_to_500;
         CREATE TABLE \`$dba\`.u (id INT PRIMARY KEY, n INT NOT NULL, UNIQUE KEY (n));
         INSERT INTO \`$dba\`.u SELECT seq, seq FROM \`$dba\`.seq_1_to_50;"
src_sql "CREATE DATABASE \`$dbb\`; CREATE TABLE \`$dbb\`.t (id INT PRIMARY KEY, v VARCHAR(40));
         INSERT INTO \`$dbb\`.t SELECT seq, CONCAT('b-', seq) FROM \`$dbb\`.seq_1_to_300;"
src_sql "CREATE DATABASE \`$dbc\`; CREATE TABLE \`$dbc\`.big (id INT PRIMARY KEY, pad VARCHAR(100));
         INSERT INTO \`$dbc\`.big SELECT seq, REPEAT(CHAR(65 + seq % 26), 100) FROM \`$dbc\`.seq_1_to_$BIG_ROWS;"

# `ps -eo args` sampled all along (checked for the passwords at the end)
(while :; do ps -eo args >>"$TEST_TMP/ps.txt" 2>/dev/null; sleep 0.3; done) &
ps_pid=$!
on_exit "kill $ps_pid 2>/dev/null"

# start_server LOG: `tidm server` on a free loopback port and DATA; sets $pid and $BASE.
start_server() {
	local log=$1 port
	"$TIDM_BIN" server --listen 127.0.0.1:0 --data-dir "$DATA" 2>"$log" &
	pid=$!
	on_exit "kill -9 $pid 2>/dev/null"
	wait_for "grep -q 'serving the API on' '$log'" 60 "tidm server to listen ($log)"
	port=$(sed -nE 's|.*serving the API on http://127\.0\.0\.1:([0-9]+)/.*|\1|p' "$log" | head -1)
	BASE=http://127.0.0.1:$port
	export TIDM_SERVER=$BASE
}

# call METHOD PATH [curl args...]: one request; every answer is kept in $ANS; sets $st, $bf.
call() {
	local method=$1 path=$2
	shift 2
	n=$((n + 1))
	bf=$ANS/$n-${EPOCHREALTIME/./}.json
	st=$(curl -sS -o "$bf" -w '%{http_code}' -X "$method" "$@" "$BASE/api/v1$path")
}
expect() { [ "$st" = "$1" ] || fail "expected HTTP $1, got $st: $(cat "$bf")"; }

# jf NAME FIELD: a member of GET /jobs/NAME (strings raw; null / absent: "-")
jf() {
	call GET "/jobs/$1"
	[ "$st" = 200 ] || { echo "HTTP $st"; return 0; }
	python3 -c '
import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("-" if v is None else v if isinstance(v, str) else json.dumps(v))' "$bf" "$2"
}
# is NAME STATE/STAGE: the job's state and stage now
is() { [ "$(jf "$1" state)/$(jf "$1" stage)" = "$2" ]; }
tgt_count() { tgt_sql "SELECT COUNT(*) FROM $1"; }

# equal_now DB: the checksums of every table of DB are the same on both sides
equal_now() { (assert_tables_equal "$1") >/dev/null 2>&1; }

# no_dups DB TABLE...: COUNT(*) = COUNT(DISTINCT id) on the target
no_dups() {
	local db=$1 t d
	shift
	for t in "$@"; do
		d=$(tgt_sql "SELECT COUNT(*) - COUNT(DISTINCT id) FROM \`$db\`.\`$t\`")
		assert_eq 0 "$d" "duplicate keys in $db.$t on the target"
	done
}

# body NAME TYPE DB [extra JSON]: a job as JSON (the job file's fields), in a file (not on
# a command line: ps would show it)
body() {
	python3 -c '
import json, os, sys
e = os.environ
b = {"name": sys.argv[1], "type": sys.argv[2], "objects": {"databases": [sys.argv[3]]},
     "source": {"host": e["TIDM_TEST_SOURCE_HOST"], "port": int(e["TIDM_TEST_SOURCE_PORT"]),
                "user": e["TIDM_TEST_SOURCE_USER"], "password": e["TIDM_TEST_SOURCE_PASSWORD"]},
     "target": {"host": e["TIDM_TEST_TARGET_HOST"], "port": int(e["TIDM_TEST_TARGET_PORT"]),
                "user": e["TIDM_TEST_TARGET_USER"], "password": e["TIDM_TEST_TARGET_PASSWORD"]},
     "precheck": {"ignore": ["keyless-tables"]}}
b.update(json.loads(sys.argv[4]))
print(json.dumps(b))' "$1" "$2" "$3" "${4:-{\}}" >"$TEST_TMP/$1.json"
	echo "$TEST_TMP/$1.json"
}
export TIDM_TEST_SOURCE_HOST TIDM_TEST_SOURCE_PORT TIDM_TEST_SOURCE_USER TIDM_TEST_SOURCE_PASSWORD
export TIDM_TEST_TARGET_HOST TIDM_TEST_TARGET_PORT TIDM_TEST_TARGET_USER TIDM_TEST_TARGET_PASSWORD

start_server "$TEST_TMP/server1.log"

# --- (a)+(b): job A with curl, job B with tidm job, both running at once -----------------
call POST /jobs -H 'Content-Type: application/json' --data-binary @"$(body "$ja" all "$dba" '{"start": true, "spec": {"apply-workers": 2}}')"
expect 201
write_job "$TEST_TMP/b.yaml" name="$jb" type=all databases="$dbb"
tidm job create "$TEST_TMP/b.yaml" --start >"$TEST_TMP/b.out"
assert_contains "$(cat "$TEST_TMP/b.out")" "$jb"
wait_for "is $ja running/syncing" 180 "job $ja to reach syncing"
wait_for "is $jb running/syncing" 180 "job $jb to reach syncing"
src_sql "INSERT INTO \`$dba\`.t VALUES (1001, 'a while both run'); INSERT INTO \`$dbb\`.t VALUES (1001, 'b while both run')"
wait_for "equal_now $dba && equal_now $dbb" 90 "both jobs to apply a change each"
tidm job list >"$TEST_TMP/list.out"
grep -q "^$ja  *all  *running" "$TEST_TMP/list.out" || fail "tidm job list: $(cat "$TEST_TMP/list.out")"
grep -q "^$jb  *all  *running" "$TEST_TMP/list.out" || fail "tidm job list: $(cat "$TEST_TMP/list.out")"
"$TIDM_BIN" job events "$ja" --follow >"$TEST_TMP/follow.out" 2>&1 &
follow_pid=$!
on_exit "kill $follow_pid 2>/dev/null"

# (a) pause, a row while paused, resume, scale
call POST "/jobs/$ja/pause"
expect 200
wait_for "is $ja paused/syncing" 60 "job $ja to pause"
src_sql "INSERT INTO \`$dba\`.t VALUES (1002, 'written while paused')"
sleep 3
assert_eq 0 "$(tgt_count "\`$dba\`.t WHERE id = 1002")" "a row applied while the job was paused"
call POST "/jobs/$ja/resume"
expect 200
wait_for "is $ja running/syncing" 120 "job $ja to resume"
wait_for "[ \"\$(tgt_count '\`$dba\`.t WHERE id = 1002')\" = 1 ]" 60 "the row written while paused"
call POST "/jobs/$ja/scale" --data-binary '{"apply-workers": 3, "batch": 50}'
expect 200
wait_for "is $ja running/syncing" 120 "job $ja to run again after scale"
assert_eq 3 "$(jf "$ja" spec | python3 -c 'import json,sys; print(json.load(sys.stdin)["apply-workers"])')" "apply-workers after scale"
src_sql "UPDATE \`$dba\`.t SET v = 'after scale' WHERE id = 7"
wait_for "[ \"\$(tgt_sql \"SELECT v FROM \\\`$dba\\\`.t WHERE id = 7\")\" = 'after scale' ]" 60 "a change after scale"

# --- (c): B paused, C dumping, A syncing under a workload; kill -9 --------------------------
tidm job pause "$jb" >/dev/null
wait_for "is $jb paused/syncing" 60 "job $jb to pause"
src_sql "INSERT INTO \`$dbb\`.t VALUES (1002, 'b while paused over the kill')"
call POST /jobs --data-binary @"$(body "$jc" all "$dbc" '{"start": true, "spec": {"dump-threads": 1, "load-threads": 1, "chunk-rows": 1000}}')"
expect 201
# the workload: keyed inserts, updates, deletes and unique-key swaps on A's database
: >"$TEST_TMP/wl.count"
(
	i=0
	while [ ! -e "$TEST_TMP/wl.stop" ]; do
		i=$((i + 1))
		src_sql "BEGIN; INSERT INTO \`$dba\`.t VALUES ($((2000 + i)), 'wl-$i');
		         UPDATE \`$dba\`.t SET v = CONCAT('u', $i) WHERE id = $((i % 500 + 1));
		         DELETE FROM \`$dba\`.t WHERE id = $((2000 + i - 5));
		         UPDATE \`$dba\`.u SET n = -n WHERE id IN ($((i % 50 + 1)), $(((i + 1) % 50 + 1)));
		         UPDATE \`$dba\`.u SET n = -n WHERE id IN ($((i % 50 + 1)), $(((i + 1) % 50 + 1))); COMMIT;" ||
			exit 1
		echo "$i" >"$TEST_TMP/wl.count"
	done
) &
wl_pid=$!
on_exit "touch $TEST_TMP/wl.stop; kill $wl_pid 2>/dev/null"
wait_for "case \$(jf $jc stage) in dumping|loading) [ \$(tgt_count '\`$dbc\`.big') -gt 0 ];; *) false;; esac" 180 \
	"job $jc to copy rows (stage dumping or loading)"
# kill at once: beside other tests (ctest -j2) the copy may run fast enough to finish in a
# pause of a couple of seconds, and the kill must land inside it
stage=$(jf "$jc" stage)
rows=$(tgt_count "\`$dbc\`.big")
case "$stage" in dumping | loading) ;; *) fail "job $jc is in stage $stage (not dumping/loading) before the kill" ;; esac
[ "$rows" -lt "$BIG_ROWS" ] || fail "job $jc copied everything before the kill: make the table bigger"
assert_eq running/syncing "$(jf "$ja" state)/$(jf "$ja" stage)" "job $ja before the kill"
[ "$(cat "$TEST_TMP/wl.count")" -gt 0 ] || fail "the workload wrote nothing before the kill"
echo "kill -9 with $jc in stage $stage ($rows of $BIG_ROWS rows copied), workload at $(cat "$TEST_TMP/wl.count")"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
sleep 1

start_server "$TEST_TMP/server2.log"
assert_eq paused "$(jf "$jb" state)" "the job paused before the kill, after the restart"
wait_for "is $ja running/syncing" 180 "job $ja to run again after the restart"
wait_for "is $jc running/syncing" 300 "job $jc to finish its copy after the restart"
touch "$TEST_TMP/wl.stop"
wait "$wl_pid" || fail "the source workload failed"
echo "workload: $(cat "$TEST_TMP/wl.count") transactions"
wait_for "equal_now $dba && equal_now $dbc" 120 "jobs $ja and $jc to catch up"
sleep 2
assert_tables_equal "$dba"
assert_tables_equal "$dbc"
no_dups "$dba" t u
no_dups "$dbc" big
assert_eq paused "$(jf "$jb" state)" "the paused job, still"
assert_eq 0 "$(tgt_count "\`$dbb\`.t WHERE id = 1002")" "a row applied by the paused job"
tidm job resume "$jb" >/dev/null
wait_for "is $jb running/syncing" 120 "job $jb to resume"
wait_for "equal_now $dbb" 60 "job $jb to catch up"
assert_tables_equal "$dbb"
no_dups "$dbb" t
grep -q "resumed: the daemon stopped while the job ran" <(curl -sS "$BASE/api/v1/jobs/$jc/events") ||
	fail "no resume event for $jc after the restart"

# events and details of every job, kept for the password grep
for j in "$ja" "$jb" "$jc"; do
	call GET "/jobs/$j/events?limit=1000"
	expect 200
	call GET "/jobs/$j"
	expect 200
done
call GET /jobs
expect 200
tidm job show "$ja" >"$ANS/show.txt"
tidm job list --format json >"$ANS/list.json"
# the store while it holds the three jobs (their definitions and sealed passwords)
sqlite3 "$DATA/tidm.db" .dump >"$TEST_TMP/store1.dump" 2>/dev/null || cat "$DATA"/tidm.db* >"$TEST_TMP/store1.dump"
grep -q "$jc" "$TEST_TMP/store1.dump" || fail "job $jc is not in the store dump"
mkdir "$TEST_TMP/data1" && cp -a "$DATA"/. "$TEST_TMP/data1/"

# --- (a) delete: the tidm_meta rows go, the target data stays --------------------------------
kill "$follow_pid" 2>/dev/null || true
grep -q . "$TEST_TMP/follow.out" || fail "tidm job events --follow printed nothing"
for j in "$ja" "$jb" "$jc"; do
	call DELETE "/jobs/$j"
	expect 200
	call GET "/jobs/$j"
	expect 404
done
for t in jobs sync_workers tables; do
	col=job
	[ "$t" = jobs ] && col=name
	assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.$t WHERE $col IN ('$ja','$jb','$jc')")" "tidm_meta.$t rows after delete"
done
assert_tables_equal "$dba"
assert_eq "$BIG_ROWS" "$(tgt_count "\`$dbc\`.big")" "target data after delete"
kill -TERM "$pid"
wait "$pid" || fail "tidm server did not exit 0 on SIGTERM"
kill "$ps_pid" 2>/dev/null || true

# --- (d) the passwords: nowhere ------------------------------------------------------------------
sqlite3 "$DATA/tidm.db" .dump >"$TEST_TMP/store2.dump" 2>/dev/null || cat "$DATA"/tidm.db* >"$TEST_TMP/store2.dump"
grep -q "tidm server --listen" "$TEST_TMP/ps.txt" || fail "the ps samples missed the daemon"
for pw in "$TIDM_TEST_SOURCE_PASSWORD" "$TIDM_TEST_TARGET_PASSWORD"; do
	[ ${#pw} -ge 4 ] || fail "test password too short to grep for"
	grep -qF -- "$pw" "$TEST_TMP/$ja.json" || fail "self-check: the request body of $ja holds no password"
	if grep -laF -- "$pw" "$ANS"/* "$TEST_TMP"/server*.log "$TEST_TMP/follow.out" "$TEST_TMP"/store*.dump \
		"$DATA"/* "$TEST_TMP"/data1/* "$TEST_TMP/ps.txt"; then
		fail "a password appears in the files above"
	fi
done
echo "PASS: $TEST_NAME ($(find "$ANS" -type f | wc -l) answers checked)"
