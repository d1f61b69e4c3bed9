# lib.sh - shared helpers for the integration tests (tests/integration/test_*.sh).
#
# Source it first thing:   . "$(dirname "$0")/../harness/lib.sh"
#
# It loads the connection variables that scripts/testdb.sh wrote ($TIDM_TESTDB_DIR/env).
# Without servers the test is skipped (exit 77, registered as SKIP_RETURN_CODE in
# cmake/tests.cmake) - except under CI=true, where a missing server is a failure.
# It turns on `set -euo pipefail`; helpers that check something call `fail` (exit 1)
# explicitly, so they also work inside `if (...)` where `set -e` is off.
#
# Helpers:
#   src_sql [client args] "SQL"    run SQL on the source (batch, no column names); no SQL
#   tgt_sql [client args] "SQL"    argument: read it from stdin. Password via MYSQL_PWD only.
#   test_db [suffix]               a database name unique to this test run; it is dropped on
#                                  both sides at exit unless TIDM_KEEP_DBS=1
#   write_job FILE key=value...    a job file (SPEC §7.1) for the test servers; the job's
#                                  records in tidm_meta on the target are removed the first
#                                  time a test writes its name, and at exit (a finished job
#                                  run again copies nothing, so none may be left from before)
#   checksum_table side db table   "count:xor64:sum32" (or "missing"), independent of row order
#   assert_tables_equal db [table...]   assert_indexes_equal db (every index, both sides)
#   assert_eq EXPECTED ACTUAL [what]     assert_contains HAYSTACK NEEDLE [what]
#   wait_for "command" TIMEOUT_S [what]  poll every 0.2 s until the command succeeds
#   fail MESSAGE     skip MESSAGE     on_exit "command"     tidm ARGS (runs $TIDM_BIN)
#                    (in the background run "$TIDM_BIN" ... & instead: $! is then tidm itself,
#                    not a subshell whose kill would leave tidm running after the test)
#   $TEST_NAME, $TEST_TMP (a scratch directory, removed at exit when the test passed)
#
# Concurrency: CTest runs integration tests side by side (ctest -j2) on the same two
# servers. A test is ISOLATED when everything it touches is its own: databases from
# test_db, its job names (write_job's tidm_meta cleanup removes rows by job name only),
# users/roles with names no other test uses or lists, extra servers, fake primaries; and
# it asserts nothing another test's work moves (PROCESSLIST rows: filter by your database;
# Threads_connected; the binlog file list; binlog bytes beyond your own writes). Anything
# else - SET GLOBAL, FLUSH/PURGE BINARY LOGS, FLUSH TABLES WITH READ LOCK, KILL of sessions
# not your own, stopping or restarting the source/target, altering tidm_meta's tables, a
# timing limit a busy machine breaks - makes it EXCLUSIVE: add it to TIDM_EXCLUSIVE_TESTS
# in cmake/tests.cmake (it then runs alone). Prefer an extra server for a global setting
# (SET GLOBAL there is private to the test). When in doubt, EXCLUSIVE.
#
# Extra servers (settings MariaDB cannot change at run time; scripts/testdb.sh `extra`):
#   start_extra_server NAME [--mariadbd-option...]
#       a fresh throwaway MariaDB (same root password as the pair, log-bin ROW FULL, GTID
#       strict, server-id 3, then the options, e.g. --skip-log-bin --binlog-do-db=x
#       --binlog-ignore-db=y --max-connections=10) in $TIDM_TESTDB_DIR/extra-NAME; sets
#       EXTRA_PORT (and EXTRA_HOST=127.0.0.1), and is stopped by the exit handler. Call it
#       directly, not in $(...) (the exit handler and EXTRA_PORT would be lost). ~3 s
#       (the first one of a testdb directory ~6 s: it makes the template data dir).
#   extra_sql NAME [client args] "SQL"   like src_sql, on extra server NAME
#   extra_port NAME                      its port
#   stop_extra_server NAME               shut it down now (waits until the process is gone)
#   crash_extra_server NAME              kill -9 it and start it again (same data, same port)

set -euo pipefail

TIDM_SRC=${TIDM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TIDM_BUILD=${TIDM_BUILD:-$TIDM_SRC/build}
TIDM_BIN=${TIDM_BIN:-$TIDM_BUILD/tidm}
TIDM_FIXTURES=${TIDM_FIXTURES:-$(cd "$TIDM_SRC/.." && pwd)/shared/fixtures}
TIDM_TESTDB_DIR=${TIDM_TESTDB_DIR:-$TIDM_SRC/.tidm/testdb}
export TIDM_SRC TIDM_BUILD TIDM_BIN TIDM_FIXTURES TIDM_TESTDB_DIR

TEST_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
TEST_NAME=${TEST_NAME#test_}

fail() {
	local where=""
	if [ "${#BASH_LINENO[@]}" -gt 1 ]; then
		where=" ($(basename "${BASH_SOURCE[1]}"):${BASH_LINENO[0]})"
	fi
	echo "FAIL${where}: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

# --- exit handlers ------------------------------------------------------------------------
_tidm_exit_cmds=()
on_exit() {
	_tidm_exit_cmds+=("$1")
}
_tidm_on_exit() {
	local rc=$? i
	set +e
	for ((i = ${#_tidm_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_tidm_exit_cmds[i]}"
	done
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
		[ -n "${TEST_TMP:-}" ] && rm -rf "$TEST_TMP"
	else
		[ -n "${TEST_TMP:-}" ] && echo "test $TEST_NAME failed (exit $rc); scratch files kept in $TEST_TMP" >&2
	fi
	return "$rc"
}
trap _tidm_on_exit EXIT
trap 'echo "FAIL ($(basename "${BASH_SOURCE[0]}"):$LINENO): command failed: $BASH_COMMAND" >&2' ERR

# --- servers ------------------------------------------------------------------------------
if [ ! -r "$TIDM_TESTDB_DIR/env" ]; then
	if [ "${CI:-}" = true ]; then
		fail "no test servers: $TIDM_TESTDB_DIR/env missing (scripts/testdb.sh start did not run or failed)"
	fi
	skip "no test servers ($TIDM_TESTDB_DIR/env missing; run: scripts/testdb.sh start)"
fi
# shellcheck disable=SC1091
. "$TIDM_TESTDB_DIR/env"

_tidm_client=$(command -v mariadb || command -v mysql || true)
[ -n "$_tidm_client" ] || fail "no mariadb/mysql client installed (bash scripts/setup.sh)"

mkdir -p "$TIDM_BUILD/test-tmp"
TEST_TMP=$(mktemp -d "$TIDM_BUILD/test-tmp/$TEST_NAME.XXXXXX")
export TEST_TMP

# _sql SIDE [client args] "SQL" | _sql SIDE < file
_sql() {
	local side=$1 host port user pw
	shift
	case "$side" in
	source) host=$TIDM_TEST_SOURCE_HOST port=$TIDM_TEST_SOURCE_PORT user=$TIDM_TEST_SOURCE_USER pw=$TIDM_TEST_SOURCE_PASSWORD ;;
	target) host=$TIDM_TEST_TARGET_HOST port=$TIDM_TEST_TARGET_PORT user=$TIDM_TEST_TARGET_USER pw=$TIDM_TEST_TARGET_PASSWORD ;;
	extra:*) host=127.0.0.1 port=$(extra_port "${side#extra:}") user=root pw=$TIDM_TEST_SOURCE_PASSWORD ;;
	*) fail "unknown side '$side' (source, target or extra:NAME)" ;;
	esac
	local args=(--no-defaults --protocol=TCP -h "$host" -P "$port" -u "$user"
		--default-character-set=utf8mb4 --batch --skip-column-names)
	if [ $# -eq 0 ]; then
		MYSQL_PWD=$pw "$_tidm_client" "${args[@]}"
	else
		local sql=${!#}
		MYSQL_PWD=$pw "$_tidm_client" "${args[@]}" "${@:1:$#-1}" -e "$sql"
	fi
}
src_sql() { _sql source "$@"; }
tgt_sql() { _sql target "$@"; }

# An env file left behind by servers that are gone counts as "no servers".
for _tidm_side in source target; do
	if ! _sql "$_tidm_side" "SELECT 1" >/dev/null 2>&1; then
		[ "${CI:-}" = true ] && fail "the $_tidm_side test server in $TIDM_TESTDB_DIR does not answer"
		skip "the $_tidm_side test server in $TIDM_TESTDB_DIR does not answer (run: scripts/testdb.sh start)"
	fi
done

# --- extra servers (see the header) -------------------------------------------------------
extra_port() {
	local f=$TIDM_TESTDB_DIR/extra-$1/port
	[ -s "$f" ] || fail "no extra server '$1' (start_extra_server $1 first)"
	cat "$f"
}
start_extra_server() {
	local name=${1:?start_extra_server NAME [--option...]} out
	shift
	out=$(bash "$TIDM_SRC/scripts/testdb.sh" extra "$name" start "$@" 2>"$TEST_TMP/extra-$name.err") ||
		fail "extra server $name ($*) did not start: $(tail -n 20 "$TEST_TMP/extra-$name.err")"
	on_exit "stop_extra_server '$name'"
	EXTRA_HOST=127.0.0.1
	EXTRA_PORT=$(printf '%s\n' "$out" | tail -n 1)
	export EXTRA_HOST EXTRA_PORT
}
stop_extra_server() {
	bash "$TIDM_SRC/scripts/testdb.sh" extra "$1" stop >/dev/null
}
crash_extra_server() { # kill -9, then start again on the same data and port
	bash "$TIDM_SRC/scripts/testdb.sh" extra "$1" crash >/dev/null 2>"$TEST_TMP/extra-$1.crash" ||
		fail "extra server $1 did not come back: $(tail -n 20 "$TEST_TMP/extra-$1.crash")"
}
extra_sql() {
	local name=$1
	shift
	_sql "extra:$name" "$@"
}

# Unique database names: t_<test>_<pid>[_suffix], at most 64 characters.
_tidm_db_prefix="t_$(printf '%s' "$TEST_NAME" | tr -c 'A-Za-z0-9_' '_' | cut -c1-30)_$$"
_tidm_dbs=()
test_db() {
	local name=$_tidm_db_prefix
	[ -n "${1:-}" ] && name=${name}_$1
	name=${name:0:64}
	local d
	for d in "${_tidm_dbs[@]+"${_tidm_dbs[@]}"}"; do
		[ "$d" = "$name" ] && {
			echo "$name"
			return 0
		}
	done
	_tidm_dbs+=("$name")
	echo "$name"
}
_tidm_drop_dbs() {
	[ "${TIDM_KEEP_DBS:-0}" = 1 ] && return 0
	local dbs
	dbs=$(src_sql "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '${_tidm_db_prefix//_/\\_}%'" 2>/dev/null || true)
	for d in $dbs; do src_sql "DROP DATABASE IF EXISTS \`$d\`" >/dev/null 2>&1 || true; done
	dbs=$(tgt_sql "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '${_tidm_db_prefix//_/\\_}%'" 2>/dev/null || true)
	for d in $dbs; do tgt_sql "DROP DATABASE IF EXISTS \`$d\`" >/dev/null 2>&1 || true; done
}
on_exit _tidm_drop_dbs

# --- job files ----------------------------------------------------------------------------

# A YAML scalar: plain when it is safe, otherwise double-quoted.
_yaml_scalar() {
	local v=$1
	if [[ "$v" =~ ^[A-Za-z0-9_./-]+$ ]] && [[ ! "$v" =~ ^[-.] ]]; then
		printf '%s' "$v"
	else
		v=${v//\\/\\\\}
		v=${v//\"/\\\"}
		printf '"%s"' "$v"
	fi
}
# A comma-separated list as a YAML flow sequence of double-quoted strings.
_yaml_list() {
	local IFS=, item out="" sep=""
	for item in $1; do
		item=${item//\\/\\\\}
		item=${item//\"/\\\"}
		out+="$sep\"$item\""
		sep=", "
	done
	printf '[%s]' "$out"
}

# write_job FILE key=value...
#   name=..  type=full|incremental|all  mode=logical|physical  safe-mode=true|false
#   databases=a,b  tables=db.t,db.u  exclude=db.tmp_*     (comma lists -> objects)
#   source.KEY=..  target.KEY=..   (host port user password password-env password-file
#                                   connect-timeout tls.ca tls.cert tls.key tls.verify-hostname)
#   start.gtid=..  start.binlog-file=..  start.binlog-pos=..   spec.KEY=..
#   precheck.ignore=id,id  precheck.copy-rate=N  precheck.timeout=N
#     (precheck.ignore defaults to keyless-tables: most tests use tables without a key on
#     purpose, and `tidm migrate` stops at that warning otherwise; give precheck.ignore=
#     (empty) for a job that ignores nothing)
# Defaults: name from the test, type full, both endpoints = the test servers with their
# passwords inline (a password-env or password-file given for a side replaces it).
write_job() {
	local file=$1 kv key val side sub
	shift
	local -A top=([name]="$(printf '%s' "${TEST_NAME:-test}" | tr -c 'A-Za-z0-9_-' '-' | sed -E 's/^([^A-Za-z])/t\1/' | cut -c1-50)" [type]=full)
	local -A ep=(
		[source.host]=$TIDM_TEST_SOURCE_HOST [source.port]=$TIDM_TEST_SOURCE_PORT
		[source.user]=$TIDM_TEST_SOURCE_USER [source.password]=$TIDM_TEST_SOURCE_PASSWORD
		[target.host]=$TIDM_TEST_TARGET_HOST [target.port]=$TIDM_TEST_TARGET_PORT
		[target.user]=$TIDM_TEST_TARGET_USER [target.password]=$TIDM_TEST_TARGET_PASSWORD)
	local -A objs=() start=() spec=() pre=([ignore]=keyless-tables)
	local -a top_order=(name type mode safe-mode) ep_keys=(host port user password password-env password-file connect-timeout stall-timeout triggers)
	local -a spec_order=()
	for kv in "$@"; do
		[[ "$kv" == *=* ]] || fail "write_job: '$kv' is not key=value"
		key=${kv%%=*}
		val=${kv#*=}
		case "$key" in
		name | type | mode | safe-mode) top[$key]=$val ;;
		databases | tables | exclude) objs[$key]=$val ;;
		source.* | target.*)
			side=${key%%.*}
			sub=${key#*.}
			case "$sub" in
			password-env | password-file) unset "ep[$side.password]" ;;
			password) unset "ep[$side.password-env]" "ep[$side.password-file]" ;;
			esac
			ep[$key]=$val
			;;
		start.*) start[${key#start.}]=$val ;;
		precheck.*) pre[${key#precheck.}]=$val ;;
		spec.*)
			spec[${key#spec.}]=$val
			spec_order+=("${key#spec.}")
			;;
		*) fail "write_job: unknown key '$key'" ;;
		esac
	done
	{
		for key in "${top_order[@]}"; do
			[ -n "${top[$key]+x}" ] && printf '%s: %s\n' "$key" "$(_yaml_scalar "${top[$key]}")"
		done
		for side in source target; do
			printf '%s:\n' "$side"
			for sub in "${ep_keys[@]}"; do
				if [ -n "${ep[$side.$sub]+x}" ]; then
					if [ "$sub" = password ]; then
						val=${ep[$side.$sub]//\\/\\\\}
						printf '  password: "%s"\n' "${val//\"/\\\"}"
					else
						printf '  %s: %s\n' "$sub" "$(_yaml_scalar "${ep[$side.$sub]}")"
					fi
				fi
			done
			if [ -n "${ep[$side.tls.ca]+x}${ep[$side.tls.cert]+x}${ep[$side.tls.key]+x}" ]; then
				printf '  tls:\n'
				for sub in ca cert key verify-hostname; do
					[ -n "${ep[$side.tls.$sub]+x}" ] && printf '    %s: %s\n' "$sub" "$(_yaml_scalar "${ep[$side.tls.$sub]}")"
				done
			fi
		done
		if [ ${#objs[@]} -gt 0 ]; then
			printf 'objects:\n'
			for key in databases tables exclude; do
				[ -n "${objs[$key]+x}" ] && printf '  %s: %s\n' "$key" "$(_yaml_list "${objs[$key]}")"
			done
		fi
		if [ ${#start[@]} -gt 0 ]; then
			printf 'start:\n'
			for key in gtid binlog-file binlog-pos; do
				[ -n "${start[$key]+x}" ] && printf '  %s: %s\n' "$key" "$(_yaml_scalar "${start[$key]}")"
			done
		fi
		if [ ${#pre[@]} -gt 0 ]; then
			printf 'precheck:\n'
			for key in ignore copy-rate timeout; do
				if [ -n "${pre[$key]+x}" ]; then
					if [ "$key" = ignore ]; then
						printf '  ignore: %s\n' "$(_yaml_list "${pre[$key]}")"
					else
						printf '  %s: %s\n' "$key" "$(_yaml_scalar "${pre[$key]}")"
					fi
				fi
			done
		fi
		if [ ${#spec[@]} -gt 0 ]; then
			printf 'spec:\n'
			for key in "${!spec[@]}"; do
				printf '  %s: %s\n' "$key" "$(_yaml_scalar "${spec[$key]}")"
			done
		fi
		true
	} >"$file"
	_tidm_job_seen "${top[name]}"
}

# Job names this test wrote: their tidm_meta records are removed first and at exit.
_tidm_jobs=()
_tidm_job_seen() {
	local j
	for j in "${_tidm_jobs[@]+"${_tidm_jobs[@]}"}"; do
		[ "$j" = "$1" ] && return 0
	done
	_tidm_jobs+=("$1")
	_tidm_forget_job "$1"
}
_tidm_forget_job() {
	local t col name
	name=$(_sql_str "$1")
	for t in jobs tables chunks sync_workers osc verify_tables; do
		col=job
		[ "$t" = jobs ] && col=name
		tgt_sql "DELETE FROM tidm_meta.\`$t\` WHERE \`$col\` = $name" >/dev/null 2>&1 || true
	done
}
_tidm_forget_jobs() {
	[ "${TIDM_KEEP_DBS:-0}" = 1 ] && return 0
	local j
	for j in "${_tidm_jobs[@]+"${_tidm_jobs[@]}"}"; do
		_tidm_forget_job "$j"
	done
}
on_exit _tidm_forget_jobs

# --- checksums ----------------------------------------------------------------------------

_sql_str() { # a SQL string literal
	local s=${1//\\/\\\\}
	printf "'%s'" "${s//\'/\'\'}"
}

# checksum_table SIDE DB TABLE -> "rows:xor64:sum32" over all rows, whatever their order
# or the table's engine; "missing" when the table does not exist on SIDE. One round trip:
# the row expression is built from SIDE's information_schema (columns in name order, each
# an ISNULL marker + the value, HEX for binary and text so that neither separators nor
# charsets can blur it), then run as a prepared statement.
checksum_table() {
	local side=$1 db=$2 table=$3
	_sql "$side" "SET SESSION group_concat_max_len = 1048576;
$(_checksum_sql "$db" "$table")" || fail "checksum_table: query on $side failed for $db.$table"
}
_checksum_sql() { # DB TABLE -> the statements of checksum_table (one result row)
	local db=$1 table=$2 qt
	qt="\`${db//\`/\`\`}\`.\`${table//\`/\`\`}\`"
	printf '%s\n' "SET @tidm_expr = (SELECT GROUP_CONCAT(CONCAT('ISNULL(\`', REPLACE(column_name, '\`', '\`\`'), '\`),',
  CASE
    WHEN data_type IN ('binary','varbinary','tinyblob','blob','mediumblob','longblob','bit',
                       'geometry','point','linestring','polygon','multipoint','multilinestring',
                       'multipolygon','geometrycollection')
      THEN CONCAT('HEX(\`', REPLACE(column_name, '\`', '\`\`'), '\`)')
    WHEN data_type IN ('char','varchar','tinytext','text','mediumtext','longtext','enum','set','json')
      THEN CONCAT('HEX(CONVERT(\`', REPLACE(column_name, '\`', '\`\`'), '\` USING utf8mb4))')
    ELSE CONCAT('\`', REPLACE(column_name, '\`', '\`\`'), '\`')
  END) ORDER BY column_name SEPARATOR ',')
  FROM information_schema.columns
  WHERE table_schema = $(_sql_str "$db") AND table_name = $(_sql_str "$table"));
SET @tidm_q = IF(@tidm_expr IS NULL, 'SELECT ''missing''', CONCAT(
  'SELECT CONCAT(COUNT(*), '':'', COALESCE(BIT_XOR(CAST(CONV(LEFT(MD5(r), 16), 16, 10) AS UNSIGNED)), 0), '':'',',
  ' COALESCE(SUM(CRC32(r)), 0)) FROM (SELECT CONCAT_WS(''#'', ', @tidm_expr, ') AS r FROM ',
  $(_sql_str "$qt"), ') AS rows_of_table'));
PREPARE tidm_checksum FROM @tidm_q;
EXECUTE tidm_checksum;"
}
# _checksums SIDE DB TABLE... -> checksum_table's line for each TABLE, in order, from one
# client session (hundreds of tables would otherwise start hundreds of clients)
_checksums() {
	local side=$1 db=$2 t out n
	shift 2
	out=$({
		echo "SET SESSION group_concat_max_len = 1048576;"
		for t in "$@"; do _checksum_sql "$db" "$t"; done
	} | _sql "$side") || fail "checksum_table: query on $side failed for $db ($*)"
	n=$(printf '%s\n' "$out" | sed '/^$/d' | wc -l)
	[ "$n" -eq $# ] || fail "checksum_table: $n results on $side for $# tables of $db"
	printf '%s\n' "$out"
}

_base_tables() { # SIDE DB -> base table names (system-versioned ones too), one a line, sorted
	_sql "$1" "SELECT table_name FROM information_schema.tables
WHERE table_schema = $(_sql_str "$2") AND table_type IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY table_name"
}

# assert_tables_equal DB [TABLE...]: same contents on both sides. Without tables: every base
# table of DB on either side (a table on one side only is a difference too).
assert_tables_equal() {
	local db=$1 t s_sum t_sum bad=() s_list t_list
	shift
	local tables=("$@")
	if [ ${#tables[@]} -eq 0 ]; then
		s_list=$(_base_tables source "$db") || fail "cannot list tables of $db on source"
		t_list=$(_base_tables target "$db") || fail "cannot list tables of $db on target"
		[ -n "$s_list$t_list" ] || fail "assert_tables_equal: database $db has no tables on either side"
		mapfile -t tables < <(printf '%s\n%s\n' "$s_list" "$t_list" | sed '/^$/d' | sort -u)
		# the client's batch output escapes \ newline tab in names: undo that per name
		local k
		for k in "${!tables[@]}"; do tables[k]=$(printf '%b' "${tables[k]}"); done
	fi
	local s_sums t_sums i=0
	mapfile -t s_sums < <(_checksums source "$db" "${tables[@]}" || echo "ERROR")
	mapfile -t t_sums < <(_checksums target "$db" "${tables[@]}" || echo "ERROR")
	[[ " ${s_sums[*]} ${t_sums[*]} " != *" ERROR "* ]] || fail "assert_tables_equal: the checksum query on $db failed (above)"
	[ "${#s_sums[@]}" -eq "${#tables[@]}" ] || fail "assert_tables_equal: cannot checksum $db on the source: ${s_sums[*]}"
	[ "${#t_sums[@]}" -eq "${#tables[@]}" ] || fail "assert_tables_equal: cannot checksum $db on the target: ${t_sums[*]}"
	for t in "${tables[@]}"; do
		s_sum=${s_sums[i]} t_sum=${t_sums[i]}
		i=$((i + 1))
		if [ "$s_sum" = missing ] || [ "$t_sum" = missing ]; then
			if [ "$s_sum" = missing ]; then bad+=("$db.$t: missing on source"); fi
			if [ "$t_sum" = missing ]; then bad+=("$db.$t: missing on target"); fi
		elif [ "$s_sum" != "$t_sum" ]; then
			bad+=("$db.$t: differs (rows:xor:sum source $s_sum, target $t_sum)")
		fi
	done
	if [ ${#bad[@]} -gt 0 ]; then
		fail "tables not equal: $(printf '\n  %s' "${bad[@]}")"
	fi
}

# assert_indexes_equal DB: every index of every table of DB is the same on both sides (name,
# columns in order, prefix lengths, uniqueness, type).
assert_indexes_equal() {
	local db=$1 q s t
	q="SELECT GROUP_CONCAT(TABLE_NAME, ':', INDEX_NAME, ':', SEQ_IN_INDEX, ':', COLUMN_NAME, ':', NON_UNIQUE, ':',
		IFNULL(SUB_PART, '-'), ':', INDEX_TYPE ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX SEPARATOR '|')
		FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = $(_sql_str "$db")"
	s=$(src_sql "$q") || fail "cannot read the indexes of $db on the source"
	t=$(tgt_sql "$q") || fail "cannot read the indexes of $db on the target"
	[ -n "$s" ] && [ "$s" != NULL ] || fail "assert_indexes_equal: $db has no index on the source"
	assert_eq "$s" "$t" "indexes of $db"
}

# --- assertions and polling ---------------------------------------------------------------

assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-values differ}: expected '$1', got '$2'"
}

assert_contains() {
	case "$1" in
	*"$2"*) ;;
	*) fail "${3:-text does not contain '$2'}: got '$1'" ;;
	esac
}

# wait_for "COMMAND" TIMEOUT_SECONDS [what]: run COMMAND (eval) until it succeeds.
wait_for() {
	local cmd=$1 timeout=${2:-30} what=${3:-$1} end
	end=$((SECONDS + timeout))
	while :; do
		if (eval "$cmd") >/dev/null 2>&1; then
			return 0
		fi
		[ "$SECONDS" -lt "$end" ] || fail "timed out after ${timeout}s waiting for: $what"
		sleep 0.2
	done
}

# tidm ARGS...: the program under test.
tidm() {
	"$TIDM_BIN" "$@"
}

# --- precheck ------------------------------------------------------------------------------
# precheck_run JOBFILE [args...]: `tidm precheck JOBFILE --format json`; the JSON goes to
# $TEST_TMP/precheck.json, the exit code to $PC_RC.
precheck_run() {
	local job=$1
	shift
	PC_RC=0
	tidm precheck "$job" --format json "$@" >"$TEST_TMP/precheck.json" 2>"$TEST_TMP/precheck.err" || PC_RC=$?
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TEST_TMP/precheck.json" 2>/dev/null ||
		fail "tidm precheck $job: not JSON (exit $PC_RC): $(head -c 2000 "$TEST_TMP/precheck.json") $(head -c 2000 "$TEST_TMP/precheck.err")"
}
# pc_field ID FIELD: one field (state, message, fix, ignored) of item ID of the last run.
pc_field() {
	python3 - "$TEST_TMP/precheck.json" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
items = [i for i in d["items"] if i["id"] == sys.argv[2]]
if not items:
    sys.exit("no item " + sys.argv[2])
v = items[0][sys.argv[3]]
print("" if v is None else (str(v).lower() if isinstance(v, bool) else v))
PY
}
# assert_item ID STATE [TEXT...]: item ID has STATE and its message contains every TEXT.
assert_item() {
	local id=$1 state=$2 got msg t
	shift 2
	got=$(pc_field "$id" state) || fail "precheck has no item $id"
	msg=$(pc_field "$id" message)
	[ "$got" = "$state" ] || fail "precheck item $id: state $got, expected $state; message: $msg"
	for t in "$@"; do
		assert_contains "$msg" "$t" "precheck item $id message"
	done
	if [ "$state" != pass ]; then
		[ -n "$(pc_field "$id" fix)" ] || fail "precheck item $id ($state) has no fix"
	fi
}
