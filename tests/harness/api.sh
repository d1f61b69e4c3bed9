# api.sh - helpers for tests of `tidm server` over HTTP (tests/integration/test_service_api.sh,
# test_console_api.sh, tests/browser/test_console.sh). Source it after lib.sh.
#
#   start_server LOGFILE ARGS...   `tidm server` on a free loopback port; sets $pid, $BASE
#   call METHOD ROUTE PATH [curl args...]   one request below /api/v1; sets $st, $bf, $hf and
#                                  records the answer in $REC for tests/harness/openapi_check.py
#   jget FILE DOTTED.PATH          a member of a JSON file
#   expect STATUS [CODE [FIELD]]   the last answer's status, error code and field
# Variables: REC (records file; set by the test), AUTH (curl args, e.g. a bearer header).
REC=${REC:-/dev/null}
n=${n:-0}
AUTH=(${AUTH[@]+"${AUTH[@]}"})

# start_server LOGFILE ARGS...: starts `tidm server` on a free loopback port; sets $pid, $BASE.
start_server() {
	local log=$1 port
	shift
	"$TIDM_BIN" server --listen 127.0.0.1:0 "$@" 2>"$log" &
	pid=$!
	on_exit "kill $pid 2>/dev/null"
	wait_for "grep -q 'serving the API on' '$log'" 60 "tidm server to listen ($log)"
	port=$(sed -nE 's|.*serving the API on https?://127\.0\.0\.1:([0-9]+)/.*|\1|p' "$log" | head -1)
	BASE=http://127.0.0.1:$port
}

# call METHOD ROUTE PATH [curl args...]: one request; sets $st (status), $bf (body file),
# $hf (headers file) and records the answer for the OpenAPI check (ROUTE is the template).
call() {
	local method=$1 route=$2 path=$3
	shift 3
	n=$((n + 1))
	bf=$TEST_TMP/answer.$n.json
	hf=$TEST_TMP/answer.$n.headers
	st=$(curl -sS -o "$bf" -D "$hf" -w '%{http_code}' -X "$method" "${AUTH[@]+"${AUTH[@]}"}" "$@" "$BASE/api/v1$path")
	printf '%s\t%s\t%s\t%s\n' "$method" "$route" "$st" "$bf" >>"$REC"
}

# jget FILE DOTTED.PATH: a member of a JSON file (strings raw, others as JSON, absent: "<absent>").
jget() {
	python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    if isinstance(v, list): v = v[int(k)]
    elif isinstance(v, dict) and k in v: v = v[k]
    else: print("<absent>"); sys.exit(0)
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}

# expect STATUS [CODE [FIELD]]: the last answer's status, error code and field.
expect() {
	[ "$st" = "$1" ] || fail "expected HTTP $1, got $st: $(cat "$bf")"
	[ $# -lt 2 ] || assert_eq "$2" "$(jget "$bf" error.code)" "error code of $(cat "$bf")"
	[ $# -lt 3 ] || assert_eq "$3" "$(jget "$bf" error.field)" "error field of $(cat "$bf")"
}
