# lib.sh - helpers shared by bench/full.sh and bench/incr.sh (source it after setting
# `top`, the repository root).
#
#   die MSG / say MSG                 "bench: MSG" on stderr (die exits 1)
#   bench_tidm                        sets $tidm: $TIDM_BIN, else a Release build in
#                                     $top/build-bench (built, or brought up to date)
#   sql SIDE [client args]            mariadb client on the source or target of the loaded
#                                     scripts/testdb.sh env: batch output, no column names
#   cpu_of PID                        CPU seconds (user + system) used so far by PID
#   now / sub A B / add A B / div A B / median V...   time and arithmetic (2 decimals)
#   time_cpu FILE / time_rss FILE     CPU seconds / peak RSS (KiB) from /usr/bin/time -v
#   binlog_bytes SIDE                 bytes in SIDE's binary logs
#   quiesce SIDE                      wait until SIDE's buffer pool has (almost) no dirty pages

die() {
	echo "bench: $*" >&2
	exit 1
}
say() { echo "bench: $*" >&2; }

bench_tidm() {
	tidm=${TIDM_BIN:-}
	if [ -z "$tidm" ]; then
		tidm=$top/build-bench/tidm
		# built (or brought up to date: an old binary would measure old code)
		say "building a Release tidm in $top/build-bench"
		cmake -S "$top" -B "$top/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
		cmake --build "$top/build-bench" -j2 --target tidm >/dev/null
	fi
	[ -x "$tidm" ] || die "no tidm binary at $tidm"
}

sql() {
	local side=$1 port pw
	shift
	if [ "$side" = source ]; then
		port=$TIDM_TEST_SOURCE_PORT pw=$TIDM_TEST_SOURCE_PASSWORD
	else
		port=$TIDM_TEST_TARGET_PORT pw=$TIDM_TEST_TARGET_PASSWORD
	fi
	MYSQL_PWD=$pw mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$port" -uroot \
		--default-character-set=utf8mb4 -N -B "$@"
}

clk_tck=$(getconf CLK_TCK)
cpu_of() { awk -v t="$clk_tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
now() { echo "$EPOCHREALTIME"; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN{ printf "%.2f", a - b }'; }
add() { awk -v a="$1" -v b="$2" 'BEGIN{ printf "%.2f", a + b }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b <= 0) b = 0.001; printf "%.2f", a / b }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.2f", v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
time_cpu() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$1"; }
time_rss() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
binlog_bytes() { sql "$1" -e "SHOW BINARY LOGS" | awk '{ s += $2 } END { print s + 0 }'; }

quiesce() {
	local side=$1 pct dirty i
	pct=$(sql "$side" -e "SELECT @@GLOBAL.innodb_max_dirty_pages_pct")
	sql "$side" -e "SET GLOBAL innodb_max_dirty_pages_pct = 0"
	for ((i = 0; i < 600; i++)); do
		dirty=$(sql "$side" -e "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'" | awk '{ print $2 }')
		[ "${dirty:-0}" -le 16 ] && break
		sleep 0.2
	done
	sql "$side" -e "SET GLOBAL innodb_max_dirty_pages_pct = $pct"
}
