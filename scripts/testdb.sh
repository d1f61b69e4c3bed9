#!/usr/bin/env bash
# testdb.sh - a pair of throwaway MariaDB servers (source and target) for tests and the demo.
#
#   testdb.sh start            start both (reuses running ones), wait until they answer
#   testdb.sh stop             shut both down, remove their directory
#   testdb.sh env              print the connection variables (for eval)
#   testdb.sh status           say whether each server runs (exit 0 only when both do)
#   testdb.sh sql source|target [mariadb client args...]   a client session as root
#   testdb.sh extra NAME start [--mariadbd-option...]   a short-lived extra server (below)
#   testdb.sh extra NAME stop                           shut it down, remove its directory
#   testdb.sh extra NAME crash                          kill -9 it and start it again on the
#                                                       same data and port (a crash + restart)
#
# Extra servers: for tests that need settings MariaDB cannot change at run time
# (--skip-log-bin, --binlog-do-db=x, --binlog-ignore-db=y, --max-connections=5, ...).
# `extra NAME start` (NAME: letters, digits, _ and -) makes $TIDM_TESTDB_DIR/extra-NAME
# with a fresh copy of a kept template data directory (extra-template, made once by
# mariadb-install-db), configured as the source is (log-bin, ROW, FULL image, GTID strict
# mode; server-id 3) plus the given options (written after the defaults, so they win),
# picks a free port under the same machine-wide lock, starts it, sets up the same users
# and passwords (root / TIDM_TESTDB_PASSWORD; TLS as the pair when tls/ exists) and
# prints its port, alone, on stdout. An extra of that name already running is stopped
# first (every start is a fresh server). It never touches source/ or target/;
# `testdb.sh stop` also stops the extras. tests/harness/lib.sh wraps it: start_extra_server.
#
# Everything lives in $TIDM_TESTDB_DIR (default <repo>/.tidm/testdb):
#   source/ target/   my.cnf, data/, the socket, pid file, error.log, port
#   tls/              throwaway CA, server and client certificates (openssl)
#   env               TIDM_TEST_SOURCE_HOST/PORT/USER/PASSWORD, TIDM_TEST_TARGET_*, ...
# Ports are probed from 33061 up (TIDM_TESTDB_BASE_PORT) under a machine-wide lock, so
# several directories (several developers or build trees) never clash. `stop` only
# touches the processes named by the pid files of its own directory.
#
# The source runs with log-bin, ROW format, FULL row image, server-id 1, GTID strict mode
# and log-slave-updates; the target with server-id 2 (log-bin too). Both accept TCP as
# root@% / root@127.0.0.1 with password TIDM_TESTDB_PASSWORD (default tidm-root-pw),
# with or without TLS, and have a user tls_x509 (password tidm-tls-pw) that must present
# a client certificate (REQUIRE X509).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${TIDM_TESTDB_DIR:-$top/.tidm/testdb}
if [ -d "$dir" ]; then dir=$(cd "$dir" && pwd); fi
password=${TIDM_TESTDB_PASSWORD:-tidm-root-pw}
tls_password=tidm-tls-pw
base_port=${TIDM_TESTDB_BASE_PORT:-33061}
deadline=${TIDM_TESTDB_TIMEOUT:-60}
lock_file=/tmp/tidm-testdb-start.lock

die() {
	echo "testdb: $*" >&2
	exit 1
}

find_bin() {
	local name
	for name in "$@"; do
		if command -v "$name" >/dev/null 2>&1; then
			command -v "$name"
			return 0
		fi
		if [ -x "/usr/sbin/$name" ]; then
			echo "/usr/sbin/$name"
			return 0
		fi
	done
	return 1
}

need_server() {
	mariadbd=$(find_bin mariadbd mysqld) || mariadbd=
	install_db=$(find_bin mariadb-install-db mysql_install_db) || install_db=
	client=$(find_bin mariadb mysql) || client=
	if [ -n "$mariadbd" ] && [ -n "$install_db" ] && [ -n "$client" ]; then
		return 0
	fi
	if [ "${CI:-}" = true ]; then
		die "MariaDB server/client not installed (mariadbd, mariadb-install-db, mariadb); CI must run scripts/setup.sh first"
	fi
	echo "testdb: MariaDB server/client not installed; install them with: bash scripts/setup.sh" >&2
	echo "testdb: (or: apt-get install mariadb-server mariadb-client openssl)" >&2
	exit 1
}

# --- process helpers ---------------------------------------------------------------------

# The pid of server $1 when it is running from this directory; empty otherwise.
server_pid() {
	local sd=$dir/$1 pid
	[ -f "$sd/mariadbd.pid" ] || return 0
	pid=$(cat "$sd/mariadbd.pid" 2>/dev/null) || return 0
	case "$pid" in '' | *[!0-9]*) return 0 ;; esac
	kill -0 "$pid" 2>/dev/null || return 0
	# Guard against pid reuse: the process must be our mariadbd with our my.cnf.
	if [ -r "/proc/$pid/cmdline" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$sd/my.cnf"; then
		return 0
	fi
	echo "$pid"
}

# The unix socket of server $1: in its directory, or under /tmp when that path would be
# too long for a socket address (108 bytes).
sock_path() {
	local p=$dir/$1/mariadbd.sock
	if [ "${#p}" -gt 100 ]; then
		p=/tmp/tidm-testdb-$(printf '%s' "$dir" | cksum | cut -d' ' -f1)-$1.sock
	fi
	echo "$p"
}

# Client over the server's socket as root (admin path; works before users are set up).
sock_sql() {
	local name=$1 sd=$dir/$1
	shift
	MYSQL_PWD=$(cat "$sd/root-pw" 2>/dev/null || true) \
		"$client" --no-defaults --protocol=SOCKET --socket="$(sock_path "$name")" -uroot \
		--default-character-set=utf8mb4 -N -B "$@"
}

port_busy() {
	timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

pick_port() {
	local p=$1
	while [ "$p" -lt 65000 ]; do
		if ! port_busy "$p" && [ "$p" != "${2:-}" ]; then
			echo "$p"
			return 0
		fi
		p=$((p + 1))
	done
	die "no free port from $1"
}

# --- TLS material ------------------------------------------------------------------------

make_tls() {
	local t=$dir/tls
	[ -s "$t/client-key.pem" ] && return 0
	command -v openssl >/dev/null 2>&1 || die "openssl not installed (bash scripts/setup.sh)"
	rm -rf "$t"
	mkdir -p "$t"
	(
		cd "$t"
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=tidm test CA" \
			-keyout ca-key.pem -out ca.pem
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >server.ext
		openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
			-keyout server-key.pem -out server.csr
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
			-days 3650 -extfile server.ext -out server.pem
		printf 'basicConstraints=CA:FALSE\n' >client.ext
		openssl req -newkey rsa:2048 -nodes -subj "/CN=tidm test client" \
			-keyout client-key.pem -out client.csr
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
			-days 3650 -extfile client.ext -out client.pem
		rm -f ./*.csr ./*.ext ca.srl
		chmod 600 ./*-key.pem
	) >"$dir/tls.log" 2>&1 || {
		cat "$dir/tls.log" >&2
		die "could not create TLS certificates"
	}
}

# --- one server --------------------------------------------------------------------------

write_cnf() {
	local name=$1 port=$2 sd=$dir/$1 id extra
	if [ "$name" = source ]; then
		id=1
		extra="gtid_strict_mode=ON"
	elif [ "${name#extra-}" != "$name" ]; then
		id=3
		extra="gtid_strict_mode=ON"
	else
		id=2
		extra=""
	fi
	mkdir -p "$sd/tmp"
	cat >"$sd/my.cnf" <<EOF
# Throwaway $name server of scripts/testdb.sh; not for real data.
[mariadbd]
datadir=$sd/data
# its own temporary directory: internal temporary tables never share the machine's /tmp
tmpdir=$sd/tmp
socket=$(sock_path "$1")
pid-file=$sd/mariadbd.pid
log-error=$sd/error.log
port=$port
bind-address=127.0.0.1
server-id=$id
log-bin=mysql-bin
log-slave-updates=ON
binlog-format=ROW
binlog-row-image=FULL
binlog_expire_logs_seconds=604800
$extra
skip-name-resolve
character-set-server=utf8mb4
innodb_buffer_pool_size=256M
innodb_log_file_size=256M
innodb_flush_log_at_trx_commit=2
sync_binlog=0
max_allowed_packet=256M
max_connections=500
ssl-ca=$dir/tls/ca.pem
ssl-cert=$dir/tls/server.pem
ssl-key=$dir/tls/server-key.pem
EOF
	if [ "${name#extra-}" != "$name" ]; then
		# extras: small, the template's redo log size (no resize at start), no TLS files
		# unless the pair made them, then the caller's options
		sed -i -e '/^innodb_buffer_pool_size=/s/=.*/=32M/' -e '/^innodb_log_file_size=/d' "$sd/my.cnf"
		[ -s "$dir/tls/server-key.pem" ] || sed -i '/^ssl-/d' "$sd/my.cnf"
		if [ -f "$sd/data/ib_logfile0" ]; then
			echo "innodb_log_file_size=$(stat -c %s "$sd/data/ib_logfile0")" >>"$sd/my.cnf"
		fi
		local o
		for o in "${extra_opts[@]+"${extra_opts[@]}"}"; do
			printf '%s\n' "${o#--}" >>"$sd/my.cnf"
		done
	fi
}

# Launch server $1 (its my.cnf must exist) and wait until it answers or dies.
# Returns 2 when it could not bind its port (caller picks another), 1 on other failures.
launch() {
	local name=$1 sd=$dir/$1 user_opt=() pid waited=0
	[ "$(id -u)" -eq 0 ] && user_opt=(--user=root)
	: >>"$sd/error.log"
	local log_start
	log_start=$(wc -c <"$sd/error.log")
	rm -f "$sd/mariadbd.pid"
	# setsid + all fds redirected: the server must outlive this script and must not hold
	# ctest's output pipe open.
	setsid "$mariadbd" --defaults-file="$sd/my.cnf" "${user_opt[@]}" \
		</dev/null >>"$sd/error.log" 2>&1 9>&- &
	pid=$!
	while :; do
		if sock_sql "$name" -e 'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			if tail -c +"$((log_start + 1))" "$sd/error.log" | grep -qiE "bind on tcp/ip port|address already in use"; then
				return 2
			fi
			echo "testdb: $name server exited during start; last lines of $sd/error.log:" >&2
			tail -n 40 "$sd/error.log" >&2
			return 1
		fi
		if [ "$waited" -ge $((deadline * 5)) ]; then
			echo "testdb: $name server did not answer within ${deadline}s; last lines of $sd/error.log:" >&2
			tail -n 40 "$sd/error.log" >&2
			kill -TERM "$pid" 2>/dev/null || true
			return 1
		fi
		sleep 0.2
		waited=$((waited + 1))
	done
}

# Users and grants, once per data directory; kept out of the binary log.
setup_users() {
	local name=$1 sd=$dir/$1
	[ -f "$sd/ready" ] && return 0
	sock_sql "$name" <<EOF
SET SESSION sql_log_bin = 0;
CREATE OR REPLACE USER 'root'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
CREATE OR REPLACE USER 'root'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE OR REPLACE USER 'tls_x509'@'%' IDENTIFIED BY '$tls_password' REQUIRE X509;
GRANT ALL PRIVILEGES ON *.* TO 'tls_x509'@'%';
ALTER USER 'root'@'localhost' IDENTIFIED BY '$password';
FLUSH PRIVILEGES;
EOF
	echo "$password" >"$sd/root-pw"
	chmod 600 "$sd/root-pw"
	touch "$sd/ready"
}

# Make sure server $1 runs; $2 is a port not to use (the other server's).
ensure_server() {
	local name=$1 avoid=${2:-} sd=$dir/$1 port rc tries=0
	if [ -n "$(server_pid "$name")" ]; then
		return 0
	fi
	mkdir -p "$sd"
	if [ ! -f "$sd/ready" ]; then
		rm -rf "$sd/data"
		if [ -d "$dir/template" ]; then
			cp -a "$dir/template" "$sd/data"
		else
			local user_opt=()
			[ "$(id -u)" -eq 0 ] && user_opt=(--user=root)
			"$install_db" --no-defaults --datadir="$dir/template" "${user_opt[@]}" \
				--auth-root-authentication-method=normal --skip-test-db \
				--skip-name-resolve >"$dir/install-db.log" 2>&1 || {
				tail -n 40 "$dir/install-db.log" >&2
				die "mariadb-install-db failed (log: $dir/install-db.log)"
			}
			cp -a "$dir/template" "$sd/data"
		fi
	fi
	port=$(cat "$sd/port" 2>/dev/null || true)
	while :; do
		if [ -z "$port" ] || port_busy "$port" || [ "$port" = "$avoid" ]; then
			port=$(pick_port "$base_port" "$avoid")
		fi
		echo "$port" >"$sd/port"
		write_cnf "$name" "$port"
		rc=0
		launch "$name" || rc=$?
		if [ "$rc" -eq 0 ]; then
			break
		fi
		tries=$((tries + 1))
		if [ "$rc" -ne 2 ] || [ "$tries" -ge 5 ]; then
			die "could not start the $name server (dir $sd)"
		fi
		port=$((port + 1))
	done
	setup_users "$name"
}

write_env() {
	local sp tp
	sp=$(cat "$dir/source/port")
	tp=$(cat "$dir/target/port")
	cat >"$dir/env.tmp" <<EOF
export TIDM_TESTDB_DIR='$dir'
export TIDM_TEST_SOURCE_HOST=127.0.0.1
export TIDM_TEST_SOURCE_PORT=$sp
export TIDM_TEST_SOURCE_USER=root
export TIDM_TEST_SOURCE_PASSWORD='$password'
export TIDM_TEST_SOURCE=127.0.0.1:$sp
export TIDM_TEST_SOURCE_SOCKET='$(sock_path source)'
export TIDM_TEST_TARGET_HOST=127.0.0.1
export TIDM_TEST_TARGET_PORT=$tp
export TIDM_TEST_TARGET_USER=root
export TIDM_TEST_TARGET_PASSWORD='$password'
export TIDM_TEST_TARGET=127.0.0.1:$tp
export TIDM_TEST_TARGET_SOCKET='$(sock_path target)'
export TIDM_TEST_TLS_CA='$dir/tls/ca.pem'
export TIDM_TEST_TLS_CERT='$dir/tls/client.pem'
export TIDM_TEST_TLS_KEY='$dir/tls/client-key.pem'
export TIDM_TEST_TLS_USER=tls_x509
export TIDM_TEST_TLS_PASSWORD='$tls_password'
EOF
	mv "$dir/env.tmp" "$dir/env"
}

# --- commands ----------------------------------------------------------------------------

cmd_start() {
	need_server
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	# One start at a time on this machine: port probing and binding happen under the lock.
	exec 9>>"$lock_file"
	flock -w 170 9 || die "timed out waiting for $lock_file"
	make_tls
	ensure_server source ""
	ensure_server target "$(cat "$dir/source/port")"
	rm -rf "$dir/template"
	write_env
	exec 9>&-
	echo "testdb: source 127.0.0.1:$(cat "$dir/source/port"), target 127.0.0.1:$(cat "$dir/target/port") (dir $dir)"
}

stop_server() {
	local name=$1 pid n=0
	pid=$(server_pid "$name")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$n" -ge 300 ]; then
			echo "testdb: $name server (pid $pid) did not stop in 60s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.2
		n=$((n + 1))
	done
}

cmd_stop() {
	[ -d "$dir" ] || return 0
	stop_server source &
	stop_server target &
	local e
	for e in "$dir"/extra-*/; do
		[ -d "$e" ] || continue
		e=$(basename "$e")
		[ "$e" = extra-template ] || stop_server "$e" &
	done
	wait
	# Refuse to delete anything that does not look like a testdb directory.
	if [ -d "$dir/source" ] || [ -d "$dir/target" ] || [ -f "$dir/env" ] || [ -d "$dir/tls" ]; then
		rm -rf "$dir"
	fi
	echo "testdb: stopped ($dir)"
}

cmd_env() {
	[ -f "$dir/env" ] || die "no servers in $dir (run: scripts/testdb.sh start)"
	cat "$dir/env"
}

cmd_status() {
	local name pid rc=0
	for name in source target; do
		pid=$(server_pid "$name")
		if [ -n "$pid" ]; then
			echo "$name: running, pid $pid, 127.0.0.1:$(cat "$dir/$name/port"), dir $dir/$name"
		else
			echo "$name: not running ($dir/$name)"
			rc=3
		fi
	done
	return "$rc"
}

cmd_sql() {
	local side=${1:-}
	case "$side" in source | target) ;; *) die "usage: testdb.sh sql source|target [client args]" ;; esac
	shift
	need_server
	[ -f "$dir/$side/port" ] || die "no $side server in $dir (run: scripts/testdb.sh start)"
	MYSQL_PWD=$password exec "$client" --no-defaults --protocol=TCP -h127.0.0.1 \
		-P"$(cat "$dir/$side/port")" -uroot --default-character-set=utf8mb4 "$@"
}

# extra NAME start [--options] | extra NAME stop   (see the header)
extra_opts=()
cmd_extra() {
	local name=${1:-} what=${2:-} o sd port rc tries=0
	case "$name" in '' | *[!A-Za-z0-9_-]* | template) die "usage: testdb.sh extra NAME start|stop [--option...] (NAME: letters, digits, _ -)" ;; esac
	case "$what" in start | stop | crash) ;; *) die "usage: testdb.sh extra NAME start|stop|crash [--option...]" ;; esac
	shift 2
	[ "${1:-}" = -- ] && shift
	for o in "$@"; do
		case "$o" in
		--[A-Za-z]*) ;;
		*) die "extra $name: '$o' is not a --mariadbd-option" ;;
		esac
		case "$o" in *$'\n'* | *$'\r'*) die "extra $name: an option may not contain a line break" ;; esac
	done
	[ "$what" != start ] && [ $# -gt 0 ] && die "extra $name $what takes no options"
	extra_opts=("$@")
	name=extra-$name
	if [ "$what" = crash ]; then
		need_server
		dir=$(cd "$dir" && pwd)
		sd=$dir/$name
		[ -f "$sd/my.cnf" ] && [ -s "$sd/mariadbd.pid" ] || die "extra ${name#extra-} is not running"
		o=$(cat "$sd/mariadbd.pid")
		kill -9 "$o" 2>/dev/null || true
		while kill -0 "$o" 2>/dev/null; do sleep 0.05; done
		launch "$name" >&2 || die "the extra server $name did not come back (dir $sd)"
		return 0
	fi
	if [ "$what" = stop ]; then
		[ -d "$dir" ] || return 0
		dir=$(cd "$dir" && pwd)
		stop_server "$name"
		[ -f "$dir/$name/my.cnf" ] && rm -rf "${dir:?}/$name"
		return 0
	fi
	need_server
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	sd=$dir/$name
	stop_server "$name"
	rm -rf "$sd"
	mkdir -p "$sd"
	exec 9>>"$lock_file"
	flock -w 170 9 || die "timed out waiting for $lock_file"
	if [ ! -d "$dir/extra-template/mysql" ]; then
		local user_opt=()
		[ "$(id -u)" -eq 0 ] && user_opt=(--user=root)
		rm -rf "$dir/extra-template"
		"$install_db" --no-defaults --datadir="$dir/extra-template" "${user_opt[@]}" \
			--auth-root-authentication-method=normal --skip-test-db \
			--skip-name-resolve >"$dir/install-db-extra.log" 2>&1 || {
			tail -n 40 "$dir/install-db-extra.log" >&2
			die "mariadb-install-db failed (log: $dir/install-db-extra.log)"
		}
	fi
	cp -a "$dir/extra-template" "$sd/data"
	port=$(pick_port "$base_port")
	while :; do
		write_cnf "$name" "$port"
		rc=0
		launch "$name" >&2 || rc=$?
		[ "$rc" -eq 0 ] && break
		tries=$((tries + 1))
		if [ "$rc" -ne 2 ] || [ "$tries" -ge 5 ]; then
			die "could not start the extra server $name (dir $sd; options: ${extra_opts[*]-none})"
		fi
		port=$(pick_port "$((port + 1))")
	done
	echo "$port" >"$sd/port"
	exec 9>&-
	setup_users "$name" >&2
	echo "$port"
}

case "${1:-}" in
start) cmd_start ;;
extra)
	shift
	cmd_extra "$@"
	;;
stop) cmd_stop ;;
env) cmd_env ;;
status) cmd_status ;;
sql)
	shift
	cmd_sql "$@"
	;;
*)
	echo "usage: testdb.sh start|stop|env|status|sql source|target [args]|extra NAME start|stop [--options]" >&2
	exit 2
	;;
esac
