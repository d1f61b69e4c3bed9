#!/usr/bin/env bash
# precheck.sh - the whole `tidm precheck` on a source with many tables: 1,000 databases of
# 20 tables each (20,000 tables; 18 with a primary key, one keyless, one with a nullable
# unique key; a few rows in each), a type all job selecting everything. Goal: under 10 s
# here (DM's users report its checks taking minutes on big schemas: peers.md).
#
#   bench/precheck.sh            run (the 20,000 tables are created once and cached)
#   bench/precheck.sh --clean    stop this benchmark's servers and remove their data
#
# Reference in the same run: what a peer spends just to read the same schemas,
# `mydumper --no-data --threads 4` (every table's CREATE TABLE to files), which is the
# first step of any logical migration tool and a lower bound of a DM-style check that
# reads each table's definition. Reported: the median of ROUNDS (3) precheck runs, its
# slowest items (from the JSON's per-item seconds), mydumper's time, and the ratio.
# Servers: scripts/testdb.sh in .bench-cache/testdb-precheck (nobody else's).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$top/bench/lib.sh"
cache=${BENCH_CACHE:-$top/.bench-cache}
export TIDM_TESTDB_DIR=$cache/testdb-precheck
DBS=${DBS:-1000}
TABLES=${TABLES:-20}
ROUNDS=${ROUNDS:-3}

if [ "${1:-}" = --clean ]; then
	"$top/scripts/testdb.sh" stop >&2 || true
	rm -rf "$TIDM_TESTDB_DIR"
	exit 0
fi

bench_tidm
command -v mydumper >/dev/null || die "mydumper not installed (scripts/setup.sh)"
mkdir -p "$cache"
"$top/scripts/testdb.sh" start >/dev/null
eval "$("$top/scripts/testdb.sh" env)"

marker=$TIDM_TESTDB_DIR/source/precheck-$DBS-$TABLES
if [ ! -f "$marker" ]; then
	say "creating $DBS databases of $TABLES tables on the source (once; cached)"
	t0=$(now)
	{
		echo "SET SESSION sql_log_bin = 0;"
		for ((d = 1; d <= DBS; d++)); do
			echo "CREATE DATABASE IF NOT EXISTS pc_db$d;"
			for ((t = 1; t <= TABLES - 2; t++)); do
				echo "CREATE TABLE IF NOT EXISTS pc_db$d.t$t (id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(10,2), created DATETIME, KEY (name));"
			done
			echo "CREATE TABLE IF NOT EXISTS pc_db$d.nokey (a INT, b VARCHAR(20));"
			echo "CREATE TABLE IF NOT EXISTS pc_db$d.uniq_null (a INT NULL, UNIQUE KEY (a));"
			echo "INSERT IGNORE INTO pc_db$d.t1 VALUES (1, 'a', 1.00, NOW()), (2, 'b', 2.00, NOW());"
		done
	} | sql source
	touch "$marker"
	say "created in $(sub "$(now)" "$t0") s"
fi
n=$(sql source -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE 'pc\\_db%'")
say "source: $n tables in $DBS databases"

job=$cache/precheck-job.yaml
cat >"$job" <<YAML
name: bench-precheck
type: all
source: {host: 127.0.0.1, port: $TIDM_TEST_SOURCE_PORT, user: root, password-env: TIDM_TEST_SOURCE_PASSWORD}
target: {host: 127.0.0.1, port: $TIDM_TEST_TARGET_PORT, user: root, password-env: TIDM_TEST_TARGET_PASSWORD}
objects: {databases: ["pc_db*"]}
YAML

times=()
for ((r = 1; r <= ROUNDS; r++)); do
	t0=$(now)
	rc=0
	"$tidm" precheck "$job" --format json >"$cache/precheck.json" 2>"$cache/precheck.err" || rc=$?
	el=$(sub "$(now)" "$t0")
	[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || die "tidm precheck exit $rc: $(cat "$cache/precheck.err")"
	times+=("$el")
	say "precheck round $r: $el s (exit $rc)"
done
med=$(median "${times[@]}")
python3 - "$cache/precheck.json" <<'PY' >&2
import json, sys
d = json.load(open(sys.argv[1]))
items = sorted(d["items"], key=lambda i: -i["seconds"])
print("bench: slowest items: " + ", ".join("%s %.2f s" % (i["id"], i["seconds"]) for i in items[:5]))
s = d["summary"]
print("bench: outcome: %d pass, %d warning, %d fail (keyless-tables names %s)" % (
    s["pass"], s["warning"], s["fail"],
    [i["message"][:60] for i in d["items"] if i["id"] == "keyless-tables"][0]))
PY

out=$cache/mydumper-nodata
rm -rf "$out"
t0=$(now)
mydumper --host 127.0.0.1 --port "$TIDM_TEST_SOURCE_PORT" --user root --password "$TIDM_TEST_SOURCE_PASSWORD" \
	--no-data --threads 4 --regex '^pc_db' --outputdir "$out" >"$cache/mydumper.log" 2>&1 ||
	die "mydumper failed: $(tail -5 "$cache/mydumper.log")"
md=$(sub "$(now)" "$t0")
rm -rf "$out"

echo
printf '%-44s %10s\n' "" seconds
printf '%-44s %10s\n' "tidm precheck ($n tables, median of $ROUNDS)" "$med"
printf '%-44s %10s\n' "mydumper --no-data --threads 4 (schemas only)" "$md"
printf '%-44s %10s\n' "ratio tidm / mydumper" "$(div "$med" "$md")"
awk -v m="$med" 'BEGIN { if (m < 10) print "goal: under 10 s: met"; else print "goal: under 10 s: MISSED" }'
