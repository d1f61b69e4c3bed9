#!/usr/bin/env bash
# test_alerts.sh - the daemon's own alerts (issue 15 "Must show" 3, SPEC §6) through a real
# `tidm server --log-format json --sendmail FAKE`: a webhook receiver (python http.server,
# recording bodies and headers, checking the HMAC with the shared secret) and a sendmail
# stand-in (recording its standard input) subscribed with `tidm job alerts add`;
#  - a job that fails (an incremental job replaying rows of a table the target lacks) ->
#    exactly one webhook and one mail; the receiver is down at first -> the webhook is
#    retried; after the fix and a resume -> one "resolved" each;
#  - a job that makes no progress (a full job while the target is locked by FLUSH TABLES
#    WITH READ LOCK, threshold 4 s) -> one alert; the lock goes -> one "resolved";
#  - a healthy, idle, caught-up incremental job with the same short threshold -> nothing;
#  - the subscriptions API (statuses checked against docs/openapi.json) never answers a
#    secret; every log line is a JSON object with time, level, job, message; no password
#    or secret in the log.
. "$(dirname "$0")/../harness/lib.sh"

TEST_TMP=$(mktemp -d)
db=$(test_db)
SECRET='alert-shared-secret-0123456789'
printf '%s\n' "$SECRET" >"$TEST_TMP/secret"
REC=$TEST_TMP/records.tsv
: >"$REC"
n=0

# --- the stand-ins ---------------------------------------------------------------------
cat >"$TEST_TMP/sendmail" <<EOF
#!/bin/sh
# records one message per file: the arguments, then the standard input
f="$TEST_TMP/mail.\$\$.\$(date +%s%N)"
{ echo "ARGS: \$*"; cat; } >"\$f.tmp" && mv "\$f.tmp" "\$f.txt"
EOF
chmod +x "$TEST_TMP/sendmail"

cat >"$TEST_TMP/receiver.py" <<'EOF'
import hashlib, hmac, http.server, json, sys
port, out, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        rec = {"path": self.path, "signature_ok": hmac.compare_digest(want, self.headers.get("X-Tidm-Signature", "")),
               "content_type": self.headers.get("Content-Type"), "body": json.loads(body)}
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RECV=$TEST_TMP/received.jsonl
: >"$RECV"
rpid=
start_receiver() {
	python3 "$TEST_TMP/receiver.py" "$RPORT" "$RECV" "$SECRET" &
	rpid=$!
	on_exit "kill $rpid 2>/dev/null"
	wait_for "curl -s -o /dev/null http://127.0.0.1:$RPORT/" 20 "the webhook receiver to listen"
}

# --- the daemon --------------------------------------------------------------------------
LOG=$TEST_TMP/server.log
"$TIDM_BIN" server --listen 127.0.0.1:0 --data-dir "$TEST_TMP/data" --sendmail "$TEST_TMP/sendmail" \
	--log-format json 2>"$LOG" &
pid=$!
on_exit "kill $pid 2>/dev/null"
wait_for "grep -q 'serving the API on' '$LOG'" 60 "tidm server to listen"
BASE=http://127.0.0.1:$(sed -nE 's|.*serving the API on https?://127\.0\.0\.1:([0-9]+)/.*|\1|p' "$LOG" | head -1)
export TIDM_SERVER=$BASE

call() {
	local method=$1 route=$2 path=$3
	shift 3
	n=$((n + 1))
	bf=$TEST_TMP/answer.$n.json
	st=$(curl -sS -o "$bf" -w '%{http_code}' -X "$method" "$@" "$BASE/api/v1$path")
	printf '%s\t%s\t%s\t%s\n' "$method" "$route" "$st" "$bf" >>"$REC"
}
jfield() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# --- subscriptions: API statuses and the client ------------------------------------------
call POST /alerts/subscriptions /alerts/subscriptions --data-binary '{"kind":"pager"}'
assert_eq 422 "$st" "unknown kind: $(cat "$bf")"
call POST /alerts/subscriptions /alerts/subscriptions --data-binary '{"kind":"webhook","url":"http://x/"}'
assert_eq 422 "$st" "webhook without a secret: $(cat "$bf")"
assert_contains "$(cat "$bf")" '"field":"secret"'
call POST /alerts/subscriptions /alerts/subscriptions --data-binary '{"kind":"email","address":"a@b, c@d"}'
assert_eq 422 "$st" "two addresses: $(cat "$bf")"
call POST /alerts/subscriptions /alerts/subscriptions --data-binary '{"kind":'
assert_eq 400 "$st" "malformed body: $(cat "$bf")"
call DELETE '/alerts/subscriptions/{name}' /alerts/subscriptions/999
assert_eq 404 "$st" "removing an unknown subscription"
call POST /alerts/subscriptions /alerts/subscriptions --data-binary '{"kind":"email","address":"spare@example.com"}'
assert_eq 201 "$st" "e-mail subscription: $(cat "$bf")"
spare=$(jfield "$bf" id)
call DELETE '/alerts/subscriptions/{name}' "/alerts/subscriptions/$spare"
assert_eq 200 "$st" "removing a subscription"

tidm job alerts add --webhook "http://127.0.0.1:$RPORT/hook" --secret-file "$TEST_TMP/secret" >"$TEST_TMP/add1.out"
tidm job alerts add --email ops@example.com >"$TEST_TMP/add2.out"
assert_contains "$(cat "$TEST_TMP/add1.out")" "webhook  http://127.0.0.1:$RPORT/hook  (signed)"
call GET /alerts/subscriptions /alerts/subscriptions
assert_eq 200 "$st"
assert_eq 2 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["subscriptions"]))' "$bf")" "subscriptions listed"
tidm job alerts list >"$TEST_TMP/list.out"
assert_contains "$(cat "$TEST_TMP/list.out")" "ops@example.com"
if grep -lF "$SECRET" "$TEST_TMP"/answer.* "$TEST_TMP/list.out" "$TEST_TMP/add1.out"; then
	fail "a subscription's secret appears in an answer"
fi
python3 "$TIDM_SRC/tests/harness/openapi_check.py" "$TIDM_SRC/docs/openapi.json" "$REC" ||
	fail "an answer of /alerts/subscriptions is not as docs/openapi.json says"

# events of kind alert for a job, compact: "kind cleared" lines
alerts_of() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    b = r["body"]
    if b["job"] == sys.argv[2]:
        print(b["event"], "cleared" if b["cleared"] else "open", "sig-ok" if r["signature_ok"] else "sig-BAD")' "$RECV" "$1"
}
mails_of() { grep -l "^Subject: \[tidm\] job $1: $2" "$TEST_TMP"/mail.*.txt 2>/dev/null | wc -l; }
state_is() {
	local s
	s=$(curl -s "$BASE/api/v1/jobs/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("state"))')
	for want in "${@:2}"; do [ "$s" = "$want" ] && return 0; done
	return 1
}

# --- 1. a failed job; the receiver down at first -----------------------------------------
src_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v INT)"
tgt_sql "CREATE DATABASE \`$db\`"
file=$(src_sql "SHOW MASTER STATUS" | cut -f1)
posn=$(src_sql "SHOW MASTER STATUS" | cut -f2)
src_sql "INSERT INTO \`$db\`.t VALUES (1,1),(2,2)"
jf=alerts-fail-$$
write_job "$TEST_TMP/fail.yaml" name=$jf type=incremental "databases=$db" start.binlog-file="$file" start.binlog-pos="$posn"
printf 'alerts:\n  no-progress-seconds: 600\n' >>"$TEST_TMP/fail.yaml"
tidm job create "$TEST_TMP/fail.yaml" --start >/dev/null
wait_for "state_is $jf failed" 120 "job $jf to fail (its target table is missing)"
wait_for "grep -q '\"job\":\"$jf\",\"message\":\"alert subscription [0-9]* (webhook): try 1: ' '$LOG'" 30 "a first webhook try to fail (receiver down)"
wait_for "[ \$(mails_of $jf failed) -ge 1 ]" 30 "the mail about $jf"
start_receiver
wait_for "[ -n \"\$(alerts_of $jf)\" ]" 60 "the webhook about $jf after the receiver came up"
sleep 3
assert_eq "failed open sig-ok" "$(alerts_of $jf)" "webhooks about the failed job (exactly one, signed)"
assert_eq 1 "$(mails_of $jf failed)" "mails about the failed job"
m=$(cat "$(grep -l "^Subject: \[tidm\] job $jf: failed" "$TEST_TMP"/mail.*.txt)")
assert_contains "$m" "ARGS: -t -i"
assert_contains "$m" "To: ops@example.com"
curl -s "$BASE/api/v1/jobs/$jf/events?limit=1000" >"$TEST_TMP/events.json"
assert_contains "$(cat "$TEST_TMP/events.json")" '"kind":"alert"' "the alert is an event of the job"

# the fix, a resume -> resolved once
tgt_sql "CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v INT)"
tidm job resume "$jf" >/dev/null
wait_for "[ \"\$(alerts_of $jf | wc -l)\" -ge 2 ]" 60 "the resolved webhook about $jf"
wait_for "[ \$(mails_of $jf 'failed (resolved)') -ge 1 ]" 30 "the resolved mail about $jf"
wait_for "[ \"\$(tgt_sql 'SELECT COUNT(*) FROM \`$db\`.t')\" = 2 ]" 60 "the rows to reach the target"

# --- 2. a healthy, idle, caught-up job with a short threshold: no alert ------------------
jh=alerts-ok-$$
write_job "$TEST_TMP/ok.yaml" name=$jh type=incremental "databases=$db"
printf 'alerts:\n  no-progress-seconds: 4\n' >>"$TEST_TMP/ok.yaml"
tidm job create "$TEST_TMP/ok.yaml" --start >/dev/null
wait_for "state_is $jh running" 120 "job $jh to run"

# --- 3. no progress: a full job against a locked target ---------------------------------
db2=$(test_db 2)
src_sql "CREATE DATABASE \`$db2\`; CREATE TABLE \`$db2\`.big (id INT PRIMARY KEY, v INT); INSERT INTO \`$db2\`.big VALUES (1,1),(2,2),(3,3)"
jn=alerts-stuck-$$
# its target: an extra server (a global read lock on the shared target would stall every
# other test's writes there)
start_extra_server locked
write_job "$TEST_TMP/stuck.yaml" name=$jn type=full "databases=$db2" target.host="$EXTRA_HOST" target.port="$EXTRA_PORT" \
	target.user=root target.password="$TIDM_TEST_SOURCE_PASSWORD"
printf 'alerts:\n  no-progress-seconds: 4\n' >>"$TEST_TMP/stuck.yaml"
# a session that holds the target read-only until it is killed
( extra_sql locked "FLUSH TABLES WITH READ LOCK; SELECT SLEEP(600)" >/dev/null 2>&1 ) &
lockpid=$!
on_exit "kill $lockpid 2>/dev/null"
wait_for "[ \"\$(extra_sql locked \"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(600)%'\")\" = 1 ]" 30 "the target lock"
tidm job create "$TEST_TMP/stuck.yaml" --start >/dev/null
wait_for "[ -n \"\$(alerts_of $jn)\" ]" 90 "the no-progress webhook about $jn"
assert_eq "no_progress open sig-ok" "$(alerts_of $jn)" "the no-progress webhook"
assert_eq 1 "$(mails_of $jn 'no progress')" "mails about the stuck job"
extra_sql locked "KILL $(extra_sql locked "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(600)%'")" || true
wait_for "state_is $jn finished" 120 "job $jn to finish once the lock is gone"
wait_for "[ \"\$(alerts_of $jn | wc -l)\" -ge 2 ]" 30 "the resolved webhook about $jn"
sleep 5 # a few watcher rounds: nothing more may come
assert_eq "no_progress open sig-ok
no_progress cleared sig-ok" "$(alerts_of $jn)" "webhooks about the stuck job"
assert_eq 2 "$(mails_of $jn 'no progress')" "mails about the stuck job (alert, resolved)"
assert_eq "failed open sig-ok
failed cleared sig-ok" "$(alerts_of $jf)" "webhooks about the failed job"
assert_eq "" "$(alerts_of $jh)" "webhooks about the healthy idle job"
state_is "$jh" running || fail "the healthy job stopped"

# --- the log: JSON lines, no secret, no password -----------------------------------------
kill -TERM "$pid"
wait "$pid" || fail "tidm server did not exit 0 on SIGTERM"
python3 -c '
import json, sys
for i, l in enumerate(open(sys.argv[1]), 1):
    try:
        o = json.loads(l)
    except ValueError as e:
        sys.exit(f"log line {i} is not JSON ({e}): {l!r}")
    if sorted(o) != ["job", "level", "message", "time"]:
        sys.exit(f"log line {i} has members {sorted(o)}")
' "$LOG" || fail "the JSON log"
grep -q "\"job\":\"$jf\",\"message\":\"alert failed opened" "$LOG" || fail "no alert line for $jf in the log"
for pw in "$SECRET" "$TIDM_TEST_SOURCE_PASSWORD" "$TIDM_TEST_TARGET_PASSWORD"; do
	[ -n "$pw" ] || continue
	if grep -qF -- "$pw" "$LOG"; then fail "a password or secret appears in the server log"; fi
done
echo "PASS $TEST_NAME"
