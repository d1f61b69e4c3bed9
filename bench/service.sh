#!/usr/bin/env bash
# service.sh - the job service (`tidm server`, issue 14): API latency with a full store and
# the daemon's memory with idle syncing jobs.
#
#   bench/service.sh            run it (servers are kept for the next run)
#   bench/service.sh --clean    stop this benchmark's servers and remove its cache
#
# Setup: a throwaway source and target MariaDB (scripts/testdb.sh in
# <repo>/.bench-cache/testdb-service, never anyone else's servers).
#
#  1. list latency: a `tidm server` on a fresh data dir; JOBS jobs (default 200, the
#     store's limit) created through POST /api/v1/jobs (type full, pointing at the
#     servers, not started); then CALLS calls (default 30) each of `tidm job list` (the
#     wall time of the whole client process, table output), of GET /api/v1/jobs and of
#     GET /metrics (curl's time_total for one request on a new connection). Medians, goal
#     < 50 ms each.
#  2. memory: another data dir; IDLE jobs (default 20) of type incremental, each on its
#     own small source database, created with "start": true and waited for until every
#     one is running in stage syncing; after SETTLE seconds (default 5) without writes, the
#     daemon's VmRSS and thread count (/proc/PID/status). Also VmRSS of the daemon with
#     no job and with the JOBS created jobs of part 1, for comparison.
#
# Environment: JOBS, CALLS, IDLE, SETTLE, TIDM_BIN (default: a Release build in
# <repo>/build-bench, built when missing), BENCH_CACHE (default <repo>/.bench-cache).
# Needs curl, python3, the mariadb client. Exit 1 when a step failed (a goal MISSed or
# not).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cache=${BENCH_CACHE:-$top/.bench-cache}
jobs=${JOBS:-200}
calls=${CALLS:-30}
idle=${IDLE:-20}
settle=${SETTLE:-5}
export TIDM_TESTDB_DIR=$cache/testdb-service
work=$cache/service-work

if [ "${1:-}" = --clean ]; then
	"$top/scripts/testdb.sh" stop >&2
	rm -rf "$work"
	exit 0
fi
[ $# -eq 0 ] || die "usage: bench/service.sh [--clean]"
for v in "$jobs" "$calls" "$idle" "$settle"; do
	case "$v" in '' | *[!0-9]* | 0) die "JOBS, CALLS, IDLE and SETTLE must be positive numbers" ;; esac
done
for tool in curl python3 mariadb; do
	command -v "$tool" >/dev/null || die "$tool not installed"
done

bench_tidm
rm -rf "$work"
mkdir -p "$cache" "$work"
cp "$tidm" "$work/tidm.bin"
tidm=$work/tidm.bin
"$top/scripts/testdb.sh" start >&2
# shellcheck disable=SC1090
eval "$("$top/scripts/testdb.sh" env)"
export TIDM_TEST_SOURCE_PORT TIDM_TEST_SOURCE_PASSWORD TIDM_TEST_TARGET_PORT TIDM_TEST_TARGET_PASSWORD

pid=
stop_server() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=
	fi
}
trap stop_server EXIT

# start_server DATA_DIR: sets $pid and $base
start_server() {
	local log i port=
	log=$work/$(basename "$1").log
	"$tidm" server --listen 127.0.0.1:0 --data-dir "$1" --max-jobs "$((jobs > idle ? jobs : idle))" 2>"$log" &
	pid=$!
	for ((i = 0; i < 300; i++)); do
		port=$(sed -nE 's|.*serving the API on http://127\.0\.0\.1:([0-9]+)/.*|\1|p' "$log" | head -1)
		[ -n "$port" ] && break
		kill -0 "$pid" 2>/dev/null || die "tidm server exited: $(tail -3 "$log")"
		sleep 0.1
	done
	[ -n "$port" ] || die "tidm server did not start: $(tail -3 "$log")"
	base=http://127.0.0.1:$port
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }

# body NAME TYPE DB [extra JSON]: a job as JSON, to a file
body() {
	python3 -c '
import json, os, sys
e = os.environ
ep = lambda p, pw: {"host": "127.0.0.1", "port": int(p), "user": "root", "password": pw}
b = {"name": sys.argv[1], "type": sys.argv[2], "objects": {"databases": [sys.argv[3]]},
     "source": ep(e["TIDM_TEST_SOURCE_PORT"], e["TIDM_TEST_SOURCE_PASSWORD"]),
     "target": ep(e["TIDM_TEST_TARGET_PORT"], e["TIDM_TEST_TARGET_PASSWORD"])}
b.update(json.loads(sys.argv[4] if len(sys.argv) > 4 else "{}"))
print(json.dumps(b))' "$@" >"$work/body.json"
}

create() { # create NAME TYPE DB [extra JSON]
	local st
	body "$@"
	st=$(curl -sS -o "$work/answer.json" -w '%{http_code}' -X POST --data-binary @"$work/body.json" "$base/api/v1/jobs")
	[ "$st" = 201 ] || die "POST /api/v1/jobs ($1): HTTP $st $(cat "$work/answer.json")"
}

ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }

# --- 1. list latency with JOBS jobs ------------------------------------------------------------
start_server "$work/data-empty"
sleep 1
rss_empty=$(rss_kib "$pid")
stop_server
start_server "$work/data-list"
say "creating $jobs jobs"
for ((i = 1; i <= jobs; i++)); do
	create "bench-list-$i" full "bench_svc_list"
done
n=$(curl -sS "$base/api/v1/jobs" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))')
[ "$n" = "$jobs" ] || die "GET /api/v1/jobs lists $n jobs, expected $jobs"
"$tidm" job list --server "$base" >/dev/null # warm
list_t=() get_t=() met_t=()
for ((i = 0; i < calls; i++)); do
	t0=$(now)
	"$tidm" job list --server "$base" >"$work/list.out"
	list_t+=("$(ms "$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.6f", a - b }')")")
	get_t+=("$(ms "$(curl -sS -o "$work/get.json" -w '%{time_total}' "$base/api/v1/jobs")")")
	met_t+=("$(ms "$(curl -sS -o "$work/metrics.txt" -w '%{time_total}' "$base/metrics")")")
done
[ "$(grep -c '^tidm_job_info{' "$work/metrics.txt")" = "$jobs" ] || die "GET /metrics has $(grep -c '^tidm_job_info{' "$work/metrics.txt") jobs"
[ "$(grep -c '^bench-list-' "$work/list.out")" = "$jobs" ] || die "tidm job list printed $(grep -c '^bench-list-' "$work/list.out") jobs"
list_ms=$(median "${list_t[@]}")
get_ms=$(median "${get_t[@]}")
met_ms=$(median "${met_t[@]}")
list_bytes=$(wc -c <"$work/get.json")
rss_200=$(rss_kib "$pid")
stop_server

# --- 2. RSS with IDLE idle syncing jobs -------------------------------------------------------------
say "creating $idle source databases and $idle incremental jobs"
for ((i = 1; i <= idle; i++)); do
	sql source -e "DROP DATABASE IF EXISTS bench_svc_$i; CREATE DATABASE bench_svc_$i;
		CREATE TABLE bench_svc_$i.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO bench_svc_$i.t VALUES (1, 'x')"
	sql target -e "DROP DATABASE IF EXISTS bench_svc_$i; CREATE DATABASE bench_svc_$i;
		CREATE TABLE bench_svc_$i.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO bench_svc_$i.t VALUES (1, 'x')"
done
sql target -e "DROP DATABASE IF EXISTS tidm_meta"
start_server "$work/data-idle"
for ((i = 1; i <= idle; i++)); do
	create "bench-idle-$i" incremental "bench_svc_$i" '{"start": true}'
done
syncing() {
	curl -sS "$base/api/v1/jobs" | python3 -c '
import json, sys
j = json.load(sys.stdin)["jobs"]
bad = [x for x in j if x["state"] in ("failed", "finished")]
if bad: print("FAILED " + bad[0]["name"] + ": " + json.dumps(bad[0].get("last_error"))); sys.exit(0)
print(sum(1 for x in j if x["state"] == "running" and x["stage"] == "syncing"))'
}
for ((i = 0; i < 1200; i++)); do
	s=$(syncing)
	case "$s" in FAILED*) die "a job failed: $s" ;; esac
	[ "$s" = "$idle" ] && break
	sleep 0.5
done
[ "$s" = "$idle" ] || die "only $s of $idle jobs reached syncing"
# one write per job: each has applied something (not only connected)
for ((i = 1; i <= idle; i++)); do
	sql source -e "INSERT INTO bench_svc_$i.t VALUES (2, 'y')"
done
for ((i = 1; i <= idle; i++)); do
	for ((k = 0; k < 600; k++)); do
		[ "$(sql target -e "SELECT COUNT(*) FROM bench_svc_$i.t")" = 2 ] && break
		sleep 0.2
	done
	[ "$k" -lt 600 ] || die "job bench-idle-$i did not apply a row"
done
sleep "$settle"
rss_idle=$(rss_kib "$pid")
thr_idle=$(threads_of "$pid")
cpu_idle0=$(cpu_of "$pid")
sleep 10
cpu_idle=$(sub "$(cpu_of "$pid")" "$cpu_idle0")
stop_server
for ((i = 1; i <= idle; i++)); do
	sql source -e "DROP DATABASE IF EXISTS bench_svc_$i"
	sql target -e "DROP DATABASE IF EXISTS bench_svc_$i"
done

goal() { awk -v v="$1" -v g="$2" 'BEGIN { print (v < g) ? "PASS" : "MISS" }'; }
printf '\n%-52s %12s %s\n' "tidm server ($(date +%F), $(nproc) cores)" value goal
printf '%-52s %9s ms  < 50 ms %s\n' "tidm job list, $jobs jobs (median of $calls)" "$list_ms" "$(goal "$list_ms" 50)"
printf '%-52s %9s ms  < 50 ms %s\n' "GET /api/v1/jobs, $jobs jobs (median of $calls)" "$get_ms" "$(goal "$get_ms" 50)"
printf '%-52s %9s B\n' "GET /api/v1/jobs answer size" "$list_bytes"
printf '%-52s %9s ms  < 50 ms %s\n' "GET /metrics, $jobs jobs (median of $calls)" "$met_ms" "$(goal "$met_ms" 50)"
printf '%-52s %9s MiB\n' "daemon VmRSS, no job" "$(awk -v k="$rss_empty" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '%-52s %9s MiB\n' "daemon VmRSS, $jobs created jobs (after the calls)" "$(awk -v k="$rss_200" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '%-52s %9s MiB (%s threads)\n' "daemon VmRSS, $idle idle syncing jobs" "$(awk -v k="$rss_idle" 'BEGIN { printf "%.1f", k / 1024 }')" "$thr_idle"
printf '%-52s %9s s\n' "daemon CPU over 10 s with $idle idle syncing jobs" "$cpu_idle"
