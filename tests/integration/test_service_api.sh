#!/usr/bin/env bash
# test_service_api.sh - the job service's HTTP API (issue 14, SPEC §7.3) through a real
# `tidm server`: every route and every error status (400 naming the field or the JSON
# position, 401 without / with a wrong token, 404, 405 with Allow, 409 for an operation the
# state forbids, 413, 422), the `tidm job` client and its exit codes, HTTPS, a clean
# SIGTERM; every answer is checked against docs/openapi.json (tests/harness/openapi_check.py)
# and no answer holds a password.
. "$(dirname "$0")/../harness/lib.sh"

TEST_TMP=$(mktemp -d)
db=$(test_db)
src_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t1 (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO \`$db\`.t1 VALUES (1,'a'),(2,'b')"
REC=$TEST_TMP/records.tsv
: >"$REC"
n=0
AUTH=()

. "$TIDM_SRC/tests/harness/api.sh"

# job_body NAME TYPE [extra JSON members]: a job body for the test servers.
job_body() {
	python3 -c '
import json, os, sys
e = os.environ
b = {"name": sys.argv[1], "type": sys.argv[2], "objects": {"databases": [sys.argv[3]]},
     "source": {"host": e["TIDM_TEST_SOURCE_HOST"], "port": int(e["TIDM_TEST_SOURCE_PORT"]),
                "user": e["TIDM_TEST_SOURCE_USER"], "password": e["TIDM_TEST_SOURCE_PASSWORD"]},
     "target": {"host": e["TIDM_TEST_TARGET_HOST"], "port": int(e["TIDM_TEST_TARGET_PORT"]),
                "user": e["TIDM_TEST_TARGET_USER"], "password": e["TIDM_TEST_TARGET_PASSWORD"]}}
b.update(json.loads(sys.argv[4]))
print(json.dumps(b))' "$1" "$2" "$db" "${3:-{\}}"
}
export TIDM_TEST_SOURCE_HOST TIDM_TEST_SOURCE_PORT TIDM_TEST_SOURCE_USER TIDM_TEST_SOURCE_PASSWORD
export TIDM_TEST_TARGET_HOST TIDM_TEST_TARGET_PORT TIDM_TEST_TARGET_USER TIDM_TEST_TARGET_PASSWORD

# ec COMMAND...: prints the exit code of COMMAND (its stdout is dropped).
ec() {
	local rc=0
	"$@" >/dev/null || rc=$?
	echo "$rc"
}

state_is() { # state_is NAME STATE...
	local s
	s=$(curl -sS "${AUTH[@]+"${AUTH[@]}"}" "$BASE/api/v1/jobs/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("state"))')
	shift
	for x in "$@"; do [ "$s" = "$x" ] && return 0; done
	return 1
}

# --- startup rules ---------------------------------------------------------------------
rc=0
out=$("$TIDM_BIN" server --listen 0.0.0.0:0 --data-dir "$TEST_TMP/refused" 2>&1) || rc=$?
assert_eq 2 "$rc" "exit code of a non-loopback listen without --token-file"
assert_contains "$out" "refusing to listen on 0.0.0.0:0 without --token-file"

start_server "$TEST_TMP/server.log" --data-dir "$TEST_TMP/data"
ja=api-full-$$
jb=api-incr-$$

# --- documentation ---------------------------------------------------------------------
call GET /openapi.json /openapi.json
expect 200
cmp -s "$bf" "$TIDM_SRC/docs/openapi.json" || fail "GET /openapi.json differs from docs/openapi.json"

# --- 400 / 422 / 413 on create -----------------------------------------------------------
call POST /jobs /jobs -H 'Content-Type: application/json' --data-binary $'{\n  "name": "x",\n  "type": }'
expect 400 malformed_json
assert_contains "$(jget "$bf" error.message)" "line 3, column 11 (byte 28)" "malformed JSON names the position"
call POST /jobs /jobs --data-binary '[1,2]'
expect 400 malformed_json
call POST /jobs /jobs --data-binary "$(job_body x full | python3 -c 'import json,sys; b=json.load(sys.stdin); b["name"]=42; print(json.dumps(b))')"
expect 400 wrong_type name
call POST /jobs /jobs --data-binary "$(job_body 9starts-with-digit full)"
expect 422 invalid
assert_contains "$(jget "$bf" error.message)" "name" "422 names the job name"
head -c 2000000 /dev/zero | tr '\0' ' ' >"$TEST_TMP/big.json"
call POST /jobs /jobs --data-binary @"$TEST_TMP/big.json"
expect 413 payload_too_large
call POST /jobs /jobs -H 'Transfer-Encoding: chunked' --data-binary @"$TEST_TMP/big.json"
expect 413 payload_too_large

# --- create, list, get, 409, 404, 405 ----------------------------------------------------
call POST /jobs /jobs --data-binary "$(job_body "$ja" full)"
expect 201
assert_eq "$ja" "$(jget "$bf" name)"
assert_eq created "$(jget "$bf" state)"
call POST /jobs /jobs --data-binary "$(job_body "$ja" full)"
expect 409 conflict
call GET /jobs /jobs
expect 200
assert_contains "$(cat "$bf")" "\"$ja\""
call GET '/jobs/{name}' "/jobs/$ja"
expect 200
call GET '/jobs/{name}' /jobs/no-such-job
expect 404 not_found
call PUT /jobs /jobs
expect 405 method_not_allowed
grep -qi '^Allow: .*GET' "$hf" || fail "405 without an Allow header: $(cat "$hf")"
call GET /no/such/route /no/such/route
expect 404 not_found

# --- operations the state forbids (409 naming the state), bad bodies --------------------
call POST '/jobs/{name}/pause' "/jobs/$ja/pause"
expect 409 conflict
assert_contains "$(jget "$bf" error.message)" "created" "409 names the current state"
call POST '/jobs/{name}/scale' "/jobs/$ja/scale" --data-binary '{"apply-workers":2}'
expect 409 conflict
call POST '/jobs/{name}/scale' "/jobs/$ja/scale" --data-binary '{"apply-workers":"two"}'
expect 400 wrong_type apply-workers
call POST '/jobs/{name}/scale' "/jobs/$ja/scale" --data-binary '{"workers":2}'
expect 422 unknown_field workers
call POST '/jobs/{name}/scale' "/jobs/$ja/scale" --data-binary '{"batch":0}'
expect 422 invalid batch
call POST '/jobs/{name}/scale' /jobs/no-such-job/scale --data-binary '{"batch":10}'
expect 404
call POST '/jobs/{name}/restart' "/jobs/$ja/restart" --data-binary '{"replace_conflicts":"yes"}'
expect 400 wrong_type replace_conflicts
call POST '/jobs/{name}/start' /jobs/no-such-job/start
expect 404
call POST '/jobs/{name}/resume' /jobs/no-such-job/resume
expect 404
call POST '/jobs/{name}/pause' /jobs/no-such-job/pause
expect 404
call POST '/jobs/{name}/restart' /jobs/no-such-job/restart
expect 404
call GET '/jobs/{name}/events' "/jobs/$ja/events?limit=0"
expect 400 bad_query limit
call GET '/jobs/{name}/events' "/jobs/no-such-job/events"
expect 404
call GET '/jobs/{name}/events' "/jobs/$ja/events?after=0&limit=10"
expect 200
call POST '/jobs/{name}/restart' "/jobs/$ja/restart" --data-binary '{"replace_conflicts":true}'
expect 200
wait_for "state_is $ja running finished" 120 "job $ja to run"

# --- an incremental job: start with the create, scale, pause, 409, resume, delete -------
call POST /jobs /jobs --data-binary "$(job_body "$jb" incremental '{"start":true}')"
expect 201
wait_for "state_is $jb running" 120 "job $jb to run"
call POST '/jobs/{name}/start' "/jobs/$jb/start"
expect 409 conflict
call POST '/jobs/{name}/scale' "/jobs/$jb/scale" --data-binary '{"apply-workers":2,"batch":50}'
expect 200
wait_for "state_is $jb running" 120 "job $jb to run after scale"
call POST '/jobs/{name}/pause' "/jobs/$jb/pause"
expect 200
wait_for "state_is $jb paused" 120 "job $jb to pause"
call POST '/jobs/{name}/pause' "/jobs/$jb/pause"
expect 409 conflict
assert_contains "$(jget "$bf" error.message)" "paused" "409 names the current state"
call POST '/jobs/{name}/resume' "/jobs/$jb/resume"
expect 200
wait_for "state_is $jb running" 120 "job $jb to resume"
call GET '/jobs/{name}/events' "/jobs/$jb/events"
expect 200
[ "$(jget "$bf" events.0.id)" != "<absent>" ] || fail "job $jb has no events: $(cat "$bf")"
call DELETE '/jobs/{name}' "/jobs/$jb"
expect 200
call GET '/jobs/{name}' "/jobs/$jb"
expect 404
call DELETE '/jobs/{name}' "/jobs/$jb"
expect 404

# --- connections and objects -------------------------------------------------------------
conn=$(python3 -c 'import json,os; e=os.environ; print(json.dumps({"host":e["TIDM_TEST_SOURCE_HOST"],"port":int(e["TIDM_TEST_SOURCE_PORT"]),"user":e["TIDM_TEST_SOURCE_USER"],"password":e["TIDM_TEST_SOURCE_PASSWORD"]}))')
call POST /connections/check /connections/check --data-binary "$conn"
expect 200
assert_eq true "$(jget "$bf" ok)" "check of the test source: $(cat "$bf")"
call POST /connections/check /connections/check --data-binary '{"host":"127.0.0.1","port":1,"user":"u","password":"p"}'
expect 200
assert_eq false "$(jget "$bf" ok)"
assert_contains "$(jget "$bf" message)" "Failed to connect to the source database using given parameters"
call POST /connections/check /connections/check --data-binary '{"host":"127.0.0.1","port":"1","user":"u"}'
expect 400 wrong_type port
call POST /connections/check /connections/check --data-binary '{"host":"127.0.0.1","port":70000,"user":"u"}'
expect 422 invalid port
call POST /sources/objects /sources/objects --data-binary "$conn"
expect 200
python3 -c '
import json, sys
d = {x["name"]: [t["name"] for t in x["tables"]] for x in json.load(open(sys.argv[1]))["databases"]}
assert d.get(sys.argv[2]) == ["t1"], d.get(sys.argv[2])
assert "mysql" not in d and "information_schema" not in d, sorted(d)' "$bf" "$db" || fail "objects: $(cat "$bf")"
call GET /sources/objects "/sources/objects?host=$TIDM_TEST_SOURCE_HOST&port=$TIDM_TEST_SOURCE_PORT&user=$TIDM_TEST_SOURCE_USER" \
	--data-urlencode "password=$TIDM_TEST_SOURCE_PASSWORD" -G
expect 200
assert_contains "$(cat "$bf")" "\"$db\""
call GET /sources/objects "/sources/objects?port=1"
expect 400 missing_field host
call GET /sources/objects "/sources/objects?host=127.0.0.1&port=1&user=u"
expect 422 connection_failed

# --- precheck: the items of `tidm precheck --format json`; a body that is no job is 422 --
call POST /precheck /precheck --data-binary "$(job_body "$ja" full)"
expect 200
assert_eq pass "$(jget "$bf" items.0.state)" "source-connection of POST /precheck: $(cat "$bf")"
assert_eq source-connection "$(jget "$bf" items.0.id)"
[ "$(jget "$bf" summary.ok)" != "<absent>" ] || fail "precheck without a summary: $(cat "$bf")"
call POST /precheck /precheck --data-binary '{"name": "9bad", "type": "full"}'
expect 422 invalid_job
call POST /precheck /precheck --data-binary '{'
expect 400 malformed_json

# --- the tidm job client ----------------------------------------------------------------
export TIDM_SERVER=$BASE
jc=api-cli-$$
write_job "$TEST_TMP/cli.yaml" name="$jc" type=incremental databases="$db" source.password-env=TIDM_SRC_PW
TIDM_SRC_PW=$TIDM_TEST_SOURCE_PASSWORD tidm job create "$TEST_TMP/cli.yaml" >"$TEST_TMP/cli.out"
assert_contains "$(cat "$TEST_TMP/cli.out")" "job $jc created"
assert_eq 2 "$(ec tidm job create "$TEST_TMP/cli.yaml" 2>"$TEST_TMP/cli.err")" "exit code of create with password-env unset"
assert_contains "$(cat "$TEST_TMP/cli.err")" "TIDM_SRC_PW"
assert_eq 1 "$(TIDM_SRC_PW=$TIDM_TEST_SOURCE_PASSWORD ec tidm job create "$TEST_TMP/cli.yaml" 2>"$TEST_TMP/cli.err")" \
	"exit code of create of an existing job"
assert_contains "$(cat "$TEST_TMP/cli.err")" "HTTP 409"
assert_eq 1 "$(ec tidm job pause "$jc" 2>"$TEST_TMP/cli.err")" "exit code of pause of a created job"
assert_contains "$(cat "$TEST_TMP/cli.err")" "created"
assert_eq 1 "$(ec tidm job show no-such-job 2>"$TEST_TMP/cli.err")" "exit code of show of a missing job"
assert_contains "$(cat "$TEST_TMP/cli.err")" "HTTP 404"
assert_eq 2 "$(ec tidm job scale "$jc" 2>/dev/null)" "exit code of scale without a change"
assert_eq 1 "$(ec tidm job list --server http://127.0.0.1:1 2>"$TEST_TMP/cli.err")" "exit code with no server"
assert_contains "$(cat "$TEST_TMP/cli.err")" "cannot reach the job service"
tidm job list >"$TEST_TMP/list.out"
head -1 "$TEST_TMP/list.out" | grep -q '^NAME  *TYPE  *STATE' || fail "list header: $(cat "$TEST_TMP/list.out")"
grep -q "^$jc  *incremental  *created" "$TEST_TMP/list.out" || fail "list row of $jc: $(cat "$TEST_TMP/list.out")"
tidm job list --format json | python3 -c 'import json,sys; j=json.load(sys.stdin); assert any(x["name"]==sys.argv[1] for x in j["jobs"])' "$jc"
tidm job start "$jc" >/dev/null
wait_for "state_is $jc running" 120 "job $jc to run"
tidm job scale "$jc" --apply-workers 2 >/dev/null
# a scaled job starts again from its checkpoint, through its precheck
wait_for "state_is $jc running" 120 "job $jc to run again after scale"
tidm job show "$jc" | grep -q '^state  *\(running\|paused\)' || fail "show: $(tidm job show "$jc")"
tidm job events "$jc" | grep -q . || fail "no events for $jc"
tidm job delete "$jc" >/dev/null
assert_eq 1 "$(ec tidm job show "$jc" 2>/dev/null)" "show after delete"

# --- no password in any answer -------------------------------------------------------------
for pw in "$TIDM_TEST_SOURCE_PASSWORD" "$TIDM_TEST_TARGET_PASSWORD"; do
	[ ${#pw} -ge 4 ] || continue
	if grep -lF -- "$pw" "$TEST_TMP"/answer.* "$TEST_TMP/server.log"; then
		fail "a password appears in an API answer or the server log"
	fi
done

# --- bearer token -------------------------------------------------------------------------
call DELETE '/jobs/{name}' "/jobs/$ja"
expect 200
kill -TERM "$pid"
wait "$pid" || fail "tidm server did not exit 0 on SIGTERM: $(tail -5 "$TEST_TMP/server.log")"
grep -q 'SIGTERM received' "$TEST_TMP/server.log" || fail "no shutdown line in the log"
printf 'tok-%s-%s\n' "$$" "$RANDOM$RANDOM" >"$TEST_TMP/token"
chmod 600 "$TEST_TMP/token"
start_server "$TEST_TMP/server2.log" --data-dir "$TEST_TMP/data" --token-file "$TEST_TMP/token"
call GET /jobs /jobs
expect 401 unauthorized
grep -qi '^WWW-Authenticate: Bearer' "$hf" || fail "401 without WWW-Authenticate"
call GET /jobs /jobs -H 'Authorization: Bearer wrong'
expect 401 unauthorized
call GET /jobs /jobs -H "Authorization: Bearer $(cat "$TEST_TMP/token")x"
expect 401 unauthorized
call POST /jobs /jobs --data-binary "$(job_body "$ja" full)"
expect 401 unauthorized
AUTH=(-H "Authorization: Bearer $(cat "$TEST_TMP/token")")
call GET /jobs /jobs
expect 200
assert_eq 1 "$(TIDM_SERVER=$BASE ec tidm job list 2>"$TEST_TMP/cli.err")" "tidm job without the token"
assert_contains "$(cat "$TEST_TMP/cli.err")" "HTTP 401"
TIDM_SERVER=$BASE TIDM_TOKEN_FILE=$TEST_TMP/token tidm job list >/dev/null
kill -TERM "$pid"
wait "$pid" || fail "tidm server (token) did not exit 0 on SIGTERM"

# --- HTTPS ------------------------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_TMP/key.pem" -out "$TEST_TMP/cert.pem" -days 1 \
	-subj /CN=127.0.0.1 >/dev/null 2>&1
start_server "$TEST_TMP/server3.log" --data-dir "$TEST_TMP/data" --tls-cert "$TEST_TMP/cert.pem" --tls-key "$TEST_TMP/key.pem"
grep -q 'serving the API on https://' "$TEST_TMP/server3.log" || fail "no https in $(cat "$TEST_TMP/server3.log")"
BASE=${BASE/http:/https:}
call GET /jobs /jobs --cacert "$TEST_TMP/cert.pem"
expect 200
curl -sS -o /dev/null "${BASE/https:/http:}/api/v1/jobs" 2>/dev/null && fail "plain HTTP answered on the HTTPS port"
kill -TERM "$pid"
wait "$pid" || fail "tidm server (https) did not exit 0 on SIGTERM"

# --- every answer against the document -----------------------------------------------------------
python3 "$TIDM_SRC/tests/harness/openapi_check.py" "$TIDM_SRC/docs/openapi.json" "$REC" || fail "answers differ from docs/openapi.json"
echo "PASS: service API ($n requests)"
