#!/usr/bin/env bash
# test_monitoring.sh - monitoring/ ships usable files (issue 15): `promtool check rules`
# accepts monitoring/tidm-alerts.yml, the dashboard is JSON, and every metric name that
# the rules and the dashboard use is one `tidm server` serves at GET /metrics (its
# # TYPE lines name every family even without jobs; a histogram stands for its _bucket,
# _sum and _count). Needs no database. A missing promtool skips it (fails under CI=true).
set -euo pipefail
TIDM_BIN=${TIDM_BIN:?set TIDM_BIN to the tidm binary}
root=${TIDM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
mon=$root/monitoring
if ! command -v promtool >/dev/null; then
	[ "${CI:-}" = true ] && { echo "FAIL: promtool is missing (apt-get install prometheus)" >&2; exit 1; }
	echo "SKIP: promtool is missing (apt-get install prometheus)"
	exit 77
fi
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT

promtool check rules "$mon/tidm-alerts.yml"
python3 -m json.tool "$mon/tidm-dashboard.json" >/dev/null || { echo "FAIL: the dashboard is not JSON" >&2; exit 1; }

"$TIDM_BIN" server --listen 127.0.0.1:0 --data-dir "$tmp/data" 2>"$tmp/log" &
pid=$!
for _ in $(seq 1 300); do grep -q 'serving the API on' "$tmp/log" && break; sleep 0.1; done
port=$(sed -nE 's|.*serving the API on http://127\.0\.0\.1:([0-9]+)/.*|\1|p' "$tmp/log" | head -1)
[ -n "$port" ] || { echo "FAIL: tidm server did not start: $(cat "$tmp/log")" >&2; exit 1; }
curl -sS --fail "http://127.0.0.1:$port/metrics" >"$tmp/metrics"
promtool check metrics <"$tmp/metrics"
awk '/^# TYPE / { print $3; if ($4 == "histogram") { print $3 "_bucket"; print $3 "_sum"; print $3 "_count" } }' \
	"$tmp/metrics" | sort -u >"$tmp/served"

# names used: tidm_* and process_* words in the rule expressions and the dashboard's queries
python3 - "$mon/tidm-dashboard.json" >"$tmp/dash_exprs" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("expr", "definition") and isinstance(v, str): print(v)
            elif k == "query" and isinstance(v, (str, dict)): print(v if isinstance(v, str) else v.get("query", ""))
            else: walk(v)
    elif isinstance(o, list):
        for v in o: walk(v)
walk(d)
PY
grep -E '^\s*expr:|^\s{10,}' "$mon/tidm-alerts.yml" >"$tmp/rule_exprs"
bad=0
n=0
for f in "$tmp/dash_exprs" "$tmp/rule_exprs"; do
	for name in $(grep -oE '\b(tidm|process)_[a-z0-9_]+' "$f" | sort -u); do
		n=$((n + 1))
		if ! grep -qx "$name" "$tmp/served"; then
			echo "FAIL: $(basename "$f" | sed 's/_exprs//') uses $name, which tidm does not serve" >&2
			bad=1
		fi
	done
done
[ "$n" -ge 10 ] || { echo "FAIL: only $n metric names found in monitoring/ (the extraction is broken)" >&2; exit 1; }
[ "$bad" = 0 ] || exit 1
echo "PASS monitoring: $n metric names used, all served; rules check"
