#!/usr/bin/env bash
# test_console_api.sh - what `tidm server` adds for the web console (issue 16), over HTTP:
# the console's files at / (compiled in, CSP, ETag and 304), the TLS upload
# (POST /files/tls: PEM checked, kept 0600 by hash, usable by a connection check), a job's
# history (samples move while it syncs), its live positions (source, checkpoint, snapshot;
# an unreachable side is null with its message), its verification results (those
# `tidm verify` wrote), its last precheck in GET /jobs/{name};
# every answer checked against docs/openapi.json, no answer holding a password.
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO \`$db\`.t VALUES (1,'a')"
REC=$TEST_TMP/records.tsv
: >"$REC"
. "$TIDM_SRC/tests/harness/api.sh"
start_server "$TEST_TMP/server.log" --data-dir "$TEST_TMP/data"

# --- the console's files ---------------------------------------------------------------
for f in / /index.html /app.js /wizard.js /details.js /app.css /favicon.svg; do
	st=$(curl -sS -o "$TEST_TMP/asset" -D "$TEST_TMP/asset.h" -w '%{http_code}' "$BASE$f")
	assert_eq 200 "$st" "GET $f"
	grep -qi '^content-security-policy: default-src .self.' "$TEST_TMP/asset.h" || fail "GET $f: no CSP header"
	grep -qi '^x-content-type-options: nosniff' "$TEST_TMP/asset.h" || fail "GET $f: no nosniff"
done
case $(grep -i '^content-type:' "$TEST_TMP/asset.h") in *image/svg+xml*) ;; *) fail "favicon.svg content type" ;; esac
curl -sS -D "$TEST_TMP/js.h" -o "$TEST_TMP/app.js" "$BASE/app.js"
cmp -s "$TEST_TMP/app.js" "$TIDM_SRC/web/app.js" || fail "GET /app.js is not web/app.js as compiled in"
etag=$(sed -nE 's/^[Ee][Tt][Aa][Gg]: ("[0-9a-f]{16}").*/\1/p' "$TEST_TMP/js.h" | tr -d '\r')
[ -n "$etag" ] || fail "no ETag on /app.js: $(cat "$TEST_TMP/js.h")"
assert_eq 304 "$(curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$BASE/app.js")" "a revalidation of an unchanged file"
assert_eq 404 "$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/nope.js")" "an unknown file"
assert_eq 404 "$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$BASE/")" "POST / (the files are GET only)"

# --- TLS uploads ---------------------------------------------------------------------------
pem_json() { python3 -c 'import json,sys; print(json.dumps({"kind": sys.argv[1], "pem": open(sys.argv[2]).read()}))' "$1" "$2"; }
call POST /files/tls /files/tls --data-binary '{"kind":"ca","pem":"hello"}'
expect 422 invalid pem
assert_contains "$(jget "$bf" error.message)" "this file is not a PEM certificate"
call POST /files/tls /files/tls --data-binary '{"kind":"cacert","pem":"x"}'
expect 422 invalid kind
call POST /files/tls /files/tls --data-binary "$(pem_json key "$TIDM_TEST_TLS_CA")"
expect 422 invalid pem
call POST /files/tls /files/tls --data-binary '{"kind": "ca"'
expect 400
declare -A path
for k in ca cert key; do
	f=$TIDM_TEST_TLS_CA
	[ "$k" = cert ] && f=$TIDM_TEST_TLS_CERT
	[ "$k" = key ] && f=$TIDM_TEST_TLS_KEY
	call POST /files/tls /files/tls --data-binary "$(pem_json "$k" "$f")"
	expect 201
	path[$k]=$(jget "$bf" path)
	cmp -s "${path[$k]}" "$f" || fail "the kept $k file differs from the upload"
	assert_eq 600 "$(stat -c %a "${path[$k]}")" "mode of the kept $k file"
	case ${path[$k]} in "$TEST_TMP/data/tls/$k-"*.pem) ;; *) fail "kept $k at ${path[$k]}" ;; esac
done
call POST /files/tls /files/tls --data-binary "$(pem_json ca "$TIDM_TEST_TLS_CA")"
expect 201
assert_eq "${path[ca]}" "$(jget "$bf" path)" "the same upload twice is one file"
# the kept files work: mutual TLS as the user that requires X509
conn=$(python3 -c '
import json, os, sys
e = os.environ
print(json.dumps({"host": e["TIDM_TEST_SOURCE_HOST"], "port": int(e["TIDM_TEST_SOURCE_PORT"]),
                  "user": e["TIDM_TEST_TLS_USER"], "password": e["TIDM_TEST_TLS_PASSWORD"],
                  "tls": {"ca": sys.argv[1], "cert": sys.argv[2], "key": sys.argv[3]}}))' "${path[ca]}" "${path[cert]}" "${path[key]}")
export TIDM_TEST_TLS_USER TIDM_TEST_TLS_PASSWORD TIDM_TEST_SOURCE_HOST TIDM_TEST_SOURCE_PORT
call POST /connections/check /connections/check --data-binary "$conn"
expect 200
assert_eq true "$(jget "$bf" ok)" "a connection check with the uploaded files: $(cat "$bf")"

# --- a syncing job: history, positions, precheck --------------------------------------------
body=$(python3 -c '
import json, os, sys
e = os.environ
print(json.dumps({"name": "cons-api", "type": "all", "start": True, "objects": {"databases": [sys.argv[1]]},
  "source": {"host": e["TIDM_TEST_SOURCE_HOST"], "port": int(e["TIDM_TEST_SOURCE_PORT"]),
             "user": e["TIDM_TEST_SOURCE_USER"], "password": e["TIDM_TEST_SOURCE_PASSWORD"]},
  "target": {"host": e["TIDM_TEST_TARGET_HOST"], "port": int(e["TIDM_TEST_TARGET_PORT"]),
             "user": e["TIDM_TEST_TARGET_USER"], "password": e["TIDM_TEST_TARGET_PASSWORD"]}}))' "$db")
export TIDM_TEST_SOURCE_USER TIDM_TEST_SOURCE_PASSWORD TIDM_TEST_TARGET_HOST TIDM_TEST_TARGET_PORT TIDM_TEST_TARGET_USER TIDM_TEST_TARGET_PASSWORD
on_exit "curl -sS -o /dev/null -X DELETE $BASE/api/v1/jobs/cons-api"
call GET /jobs/{name}/history /jobs/cons-api/history
expect 404 not_found
call POST /jobs /jobs --data-binary "$body"
expect 201
stage() { curl -sS "$BASE/api/v1/jobs/cons-api" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("stage"))'; }
wait_for '[ "$(stage)" = syncing ]' 60 "the job to sync"
call GET /jobs/{name} /jobs/cons-api
expect 200
assert_eq '"pass"' "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({i["id"]: i["state"] for i in d["precheck"]["items"]}["source-connection"]))' "$bf")" "the job's last precheck in its status"
assert_eq logical "$(jget "$bf" mode)" "the job's mode"
# rows applied while syncing show in the history (a sample every 5 s)
for i in $(seq 2 40); do src_sql "INSERT INTO \`$db\`.t VALUES ($i, 'r$i')"; done
wait_for "[ \"\$(tgt_sql \"SELECT COUNT(*) FROM \\\`$db\\\`.t\")\" = 40 ]" 30 "the rows on the target"
applied() { curl -sS "$BASE/api/v1/jobs/cons-api/history" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(s[2] for s in d["samples"]) > 0)'; }
wait_for '[ "$(applied)" = True ]' 30 "an apply rate above 0 in the history"
call GET /jobs/{name}/history /jobs/cons-api/history
expect 200
assert_eq 5 "$(jget "$bf" step_s)" "history step"
last=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples"][-1][0])' "$bf")
call GET /jobs/{name}/history "/jobs/cons-api/history?since=$last"
expect 200
assert_eq '[]' "$(jget "$bf" samples)" "no sample after the newest"
call GET /jobs/{name}/history "/jobs/cons-api/history?since=x"
expect 400
# verification results: none yet, then those `tidm verify` writes for this job
call GET /jobs/{name}/verify /jobs/cons-api/verify
expect 200
assert_eq '[]' "$(jget "$bf" tables)" "verification results before any verify"
# (written by hand: write_job would clear the running job's rows in tidm_meta)
cat >"$TEST_TMP/verify.yaml" <<EOF
name: cons-api
type: all
source: {host: $TIDM_TEST_SOURCE_HOST, port: $TIDM_TEST_SOURCE_PORT, user: $TIDM_TEST_SOURCE_USER, password-env: TIDM_TEST_SOURCE_PASSWORD}
target: {host: $TIDM_TEST_TARGET_HOST, port: $TIDM_TEST_TARGET_PORT, user: $TIDM_TEST_TARGET_USER, password-env: TIDM_TEST_TARGET_PASSWORD}
objects: {databases: ["$db"]}
EOF
"$TIDM_BIN" verify "$TEST_TMP/verify.yaml" >"$TEST_TMP/verify.out" 2>&1 || fail "tidm verify: $(tail -5 "$TEST_TMP/verify.out")"
call GET /jobs/{name}/verify /jobs/cons-api/verify
expect 200
assert_eq "$db.t equal 40 0" "$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["tables"][0]; print(t["db"]+"."+t["table"], t["state"], t["rows_checked"], t["differing_rows"])' "$bf")" "the verification result of the table"
call GET /jobs/{name}/verify /jobs/nope/verify
expect 404 not_found
call GET /jobs/{name}/positions /jobs/cons-api/positions
expect 200
src_file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
assert_eq "$src_file" "$(jget "$bf" source.file)" "the source's current binlog file"
assert_eq "$src_file" "$(jget "$bf" checkpoint.file)" "the checkpoint's file"
[ "$(jget "$bf" snapshot.pos)" -gt 0 ] || fail "no snapshot position: $(cat "$bf")"
assert_eq null "$(jget "$bf" source_error)" "no source error"
# a source that cannot be reached: null with the SPEC §6 message, the call still answers
call POST /jobs /jobs --data-binary "$(echo "$body" | python3 -c 'import json,sys; b=json.load(sys.stdin); b["name"]="cons-api-gone"; b["start"]=False; b["source"]["port"]=1; print(json.dumps(b))')"
expect 201
on_exit "curl -sS -o /dev/null -X DELETE $BASE/api/v1/jobs/cons-api-gone"
call GET /jobs/{name}/positions /jobs/cons-api-gone/positions
expect 200
assert_eq null "$(jget "$bf" source)" "an unreachable source's position"
assert_contains "$(jget "$bf" source_error)" "Failed to connect to the source database"
call GET /jobs/{name}/positions /jobs/nope/positions
expect 404 not_found

# --- every answer against the document; no password anywhere ----------------------------------
python3 "$TIDM_SRC/tests/harness/openapi_check.py" "$TIDM_SRC/docs/openapi.json" "$REC" || fail "answers differ from docs/openapi.json"
for pw in "$TIDM_TEST_SOURCE_PASSWORD" "$TIDM_TEST_TLS_PASSWORD"; do
	if grep -laF -- "$pw" "$TEST_TMP"/answer.* "$TEST_TMP/server.log"; then
		fail "a password appears in the answers or the log"
	fi
done
echo "PASS: console API ($n requests)"
