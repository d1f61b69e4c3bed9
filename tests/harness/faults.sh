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
