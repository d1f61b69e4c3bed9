# faults.sh - link faults for integration tests (issue 19). Source it after lib.sh.
#
#   start_proxy NAME HOST PORT   a tests/harness/faultproxy.py relaying to HOST:PORT; sets
#                                PROXY_PORT (its listening port; also `proxy_port NAME`);
#                                stopped by the exit handler. Call it directly, not in $(...).
#   proxy NAME COMMAND...        one control command (cut, stall, blackhole, unstall, slow N, truncate,
#                                refuse on|off, stats); prints the answer, fails on "error"
#   proxy_port NAME              its listening port
_proxy_dir() { echo "$TEST_TMP/proxy-$1"; }

start_proxy() {
	local name=$1 host=$2 port=$3 dir
	dir=$(_proxy_dir "$name")
	mkdir -p "$dir"
	python3 "$TIDM_SRC/tests/harness/faultproxy.py" --to "$host:$port" --ready "$dir/ready" 2>"$dir/log" &
	echo $! >"$dir/pid"
	on_exit "kill $! 2>/dev/null"
	wait_for "[ -s '$dir/ready' ]" 10 "fault proxy $name to listen"
	PROXY_PORT=$(cut -d' ' -f1 "$dir/ready")
}

proxy_port() { cut -d' ' -f1 "$(_proxy_dir "$1")/ready"; }

proxy() {
	local name=$1 ctl answer
	shift
	ctl=$(cut -d' ' -f2 "$(_proxy_dir "$name")/ready")
	answer=$(python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall((" ".join(sys.argv[2:]) + "\n").encode())
print(s.makefile().readline().strip())' "$ctl" "$@")
	case $answer in ok*) echo "$answer" ;; *) fail "proxy $name $*: $answer" ;; esac
}

# The data the fault tests copy and replicate (test_fault_links/_matrix/_stall/_restart):
#   fault_tables RUNNER DB ROWS    on the source: DB.t (id key, v, pad; ROWS rows) and DB.k
#                                  (keyless, 3000 rows); RUNNER is src_sql or a function
#                                  taking the SQL as its last argument
#   fault_writes RUNNER DB FIRST N N source transactions of four statements each on t and
#                                  k (insert, update, keyless insert and delete), one client
#   fault_counts RUNNER DB         "COUNT(*) SUM(v)" of t, then COUNT(*) of k
fault_tables() {
	"$1" "CREATE DATABASE \`$2\`; USE \`$2\`;
CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(200) NOT NULL);
INSERT INTO t SELECT seq, seq % 977, REPEAT(CHAR(65 + seq % 26), 150) FROM seq_1_to_$3;
CREATE TABLE k (a INT, b VARCHAR(40));
INSERT INTO k SELECT seq % 50, CONCAT('keyless ', seq) FROM seq_1_to_3000;"
}

fault_writes() {
	local run=$1 db=$2 first=$3 i sql="USE \`$2\`;"
	for i in $(seq 1 "$4"); do
		sql+="INSERT INTO t VALUES ($((first + i)), $i, 'after the copy');
UPDATE t SET v = v + 1 WHERE id = $i;
INSERT INTO k VALUES ($i, 'keyless after');
DELETE FROM k WHERE b = 'keyless $((i * 7))' LIMIT 1;
"
	done
	"$run" "$sql"
}

fault_counts() {
	"$1" "SELECT COUNT(*), SUM(v) FROM \`$2\`.t; SELECT COUNT(*) FROM \`$2\`.k" 2>/dev/null || true
}

# start_proxies: a proxy named src in front of the test source and one named tgt in front of
# the test target; sets SPORT and TPORT (their ports). Call it directly, not in $(...).
start_proxies() {
	start_proxy src "$TIDM_TEST_SOURCE_HOST" "$TIDM_TEST_SOURCE_PORT"
	SPORT=$PROXY_PORT
	start_proxy tgt "$TIDM_TEST_TARGET_HOST" "$TIDM_TEST_TARGET_PORT"
	TPORT=$PROXY_PORT
}
