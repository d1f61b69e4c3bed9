#!/usr/bin/env bash
# Precheck items about the servers and their users, each produced on MariaDB, then fixed and
# seen to pass: the binary log off; binlog_do_db / binlog_ignore_db leaving out a selected
# database (named); a source user lacking each privilege the job needs, a target user
# lacking each; max_connections below the job's concurrency on either side (an extra server).
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
other=$(test_db other)
src_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY); INSERT INTO \`$db\`.t VALUES (1), (2)"
job=$TEST_TMP/job.yaml

# --- the binary log off, on a server started without it -----------------------------------
start_extra_server nobinlog --skip-log-bin
extra_sql nobinlog "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY)"
write_job "$job" name=pc-servers type=all "databases=$db" source.port="$EXTRA_PORT"
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item log-bin fail "the source's binary log is off (log_bin = OFF)"
assert_contains "$(pc_field log-bin fix)" "MariaDB: add log-bin"
# a type full job does not need it
write_job "$job" name=pc-servers type=full "databases=$db" source.port="$EXTRA_PORT"
precheck_run "$job"
assert_item log-bin pass "not needed"
stop_extra_server nobinlog
# fixed: the test source writes its binary log
write_job "$job" name=pc-servers type=all "databases=$db"
precheck_run "$job"
assert_item log-bin pass "log_bin = ON"
assert_eq 0 "$PC_RC" "exit on the test servers: $(cat "$TEST_TMP/precheck.json")"

# --- binlog_do_db / binlog_ignore_db -------------------------------------------------------
start_extra_server dodb "--binlog-do-db=$other"
extra_sql dodb "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY)"
write_job "$job" name=pc-servers type=all "databases=$db" source.port="$EXTRA_PORT"
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item binlog-db-filter fail "does not write the changes of \`$db\` to its binary log" "binlog_do_db = $other"
stop_extra_server dodb
start_extra_server ignoredb "--binlog-ignore-db=$db"
extra_sql ignoredb "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY)"
write_job "$job" name=pc-servers type=all "databases=$db" source.port="$EXTRA_PORT"
precheck_run "$job"
assert_item binlog-db-filter fail "\`$db\`" "binlog_ignore_db = $db"
# a job on another database of that server is not concerned
extra_sql ignoredb "CREATE DATABASE \`$other\`; CREATE TABLE \`$other\`.t (id INT PRIMARY KEY)"
write_job "$job" name=pc-servers type=all "databases=$other" source.port="$EXTRA_PORT"
precheck_run "$job"
assert_item binlog-db-filter pass "every selected database is written" "binlog_ignore_db = $db"
stop_extra_server ignoredb
write_job "$job" name=pc-servers type=all "databases=$db"
precheck_run "$job"
assert_item binlog-db-filter pass "no binlog_do_db / binlog_ignore_db"

# --- privileges --------------------------------------------------------------------------
pw=pc-user-pw
drop_users() {
	src_sql "DROP USER IF EXISTS 'pc_src'@'%'" || true
	tgt_sql "DROP USER IF EXISTS 'pc_tgt'@'%'" || true
}
on_exit drop_users
src_user() { # GRANTS...: the source user with exactly these grants
	src_sql "DROP USER IF EXISTS 'pc_src'@'%'; CREATE USER 'pc_src'@'%' IDENTIFIED BY '$pw'"
	local g
	for g in "$@"; do src_sql "GRANT $g TO 'pc_src'@'%'"; done
}
tgt_user() {
	tgt_sql "DROP USER IF EXISTS 'pc_tgt'@'%'; CREATE USER 'pc_tgt'@'%' IDENTIFIED BY '$pw'"
	local g
	for g in "$@"; do tgt_sql "GRANT $g TO 'pc_tgt'@'%'"; done
}
write_job "$job" name=pc-servers type=all "databases=$db" source.user=pc_src source.password=$pw \
	target.user=pc_tgt target.password=$pw
tgt_user "CREATE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP, INDEX ON *.*"

src_user "SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.*"
precheck_run "$job"
assert_item source-privileges pass "has what the job needs"
assert_item target-privileges pass "CREATE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP and INDEX"

# each one missing; database-level grants count where they suffice
src_user "RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.*"
precheck_run "$job"
assert_item source-privileges fail "the source user pc_src lacks SELECT on \`$db\`"
src_sql "GRANT SELECT ON \`$db\`.* TO 'pc_src'@'%'"
precheck_run "$job"
assert_item source-privileges pass

src_user "SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.*"
precheck_run "$job"
assert_item source-privileges fail "lacks RELOAD (global) or LOCK TABLES on \`$db\`"
src_sql "GRANT LOCK TABLES ON \`$db\`.* TO 'pc_src'@'%'"
precheck_run "$job"
assert_item source-privileges pass "LOCK TABLES"

src_user "SELECT, RELOAD, REPLICATION CLIENT ON *.*"
precheck_run "$job"
assert_item source-privileges fail "lacks REPLICATION SLAVE (global)"
src_sql "GRANT REPLICATION SLAVE ON *.* TO 'pc_src'@'%'"
precheck_run "$job"
assert_item source-privileges pass

# a privilege granted through a role (its name needs quoting) counts
rname="pc role'x"
on_exit "src_sql \"DROP ROLE IF EXISTS \\\`pc role'x\\\`\" || true"
src_user "SELECT, RELOAD, REPLICATION CLIENT ON *.*"
src_sql "DROP ROLE IF EXISTS \`$rname\`; CREATE ROLE \`$rname\`; GRANT REPLICATION SLAVE ON *.* TO \`$rname\`;
	GRANT \`$rname\` TO 'pc_src'@'%'; SET DEFAULT ROLE \`$rname\` FOR 'pc_src'@'%'"
precheck_run "$job"
assert_item source-privileges pass "REPLICATION SLAVE"
src_sql "DROP ROLE \`$rname\`"

src_user "SELECT, RELOAD, REPLICATION SLAVE ON *.*"
precheck_run "$job"
assert_item source-privileges fail "lacks REPLICATION CLIENT (global)"
assert_contains "$(pc_field source-privileges fix)" "BINLOG MONITOR"
src_sql "GRANT REPLICATION CLIENT ON *.* TO 'pc_src'@'%'"
precheck_run "$job"
assert_item source-privileges pass

# the target: each of the eight missing, then granted on the databases the job writes
all="CREATE SELECT INSERT UPDATE DELETE ALTER DROP INDEX"
for p in $all; do
	rest=$(printf '%s\n' $all | grep -vx "$p" | paste -sd, | sed 's/,/, /g')
	tgt_user "$rest ON *.*"
	precheck_run "$job"
	assert_item target-privileges fail "the target user pc_tgt lacks $p on \`$db\`, \`tidm_meta\`"
	tgt_sql "GRANT $p ON \`$db\`.* TO 'pc_tgt'@'%'; GRANT $p ON \`tidm_meta\`.* TO 'pc_tgt'@'%'"
	precheck_run "$job"
	assert_item target-privileges pass
done
drop_users

# --- max_connections on either side --------------------------------------------------------
# on an extra server, as the source and then as the target (SET GLOBAL max_connections on
# the shared servers would refuse other tests' connections)
start_extra_server conns
extra_sql conns "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY); INSERT INTO \`$db\`.t VALUES (1), (2)"
emax=$(extra_sql conns "SELECT @@GLOBAL.max_connections")
extra_sql conns "SET GLOBAL max_connections = 10"
write_job "$job" name=pc-servers type=all "databases=$db" spec.dump-threads=12 source.port="$EXTRA_PORT"
precheck_run "$job"
assert_eq 3 "$PC_RC"
assert_item source-connections fail "the source's max_connections is 10, but the job opens up to 14 connections to it (12 dump threads + 2)"
extra_sql conns "SET GLOBAL max_connections = $emax"
precheck_run "$job"
assert_item source-connections pass "max_connections $emax"
extra_sql conns "SET GLOBAL max_connections = 10"
write_job "$job" name=pc-servers type=all "databases=$db" spec.apply-workers=16 target.host="$EXTRA_HOST" \
	target.port="$EXTRA_PORT" target.user=root target.password="$TIDM_TEST_SOURCE_PASSWORD"
extra_sql conns "DROP DATABASE \`$db\`"
precheck_run "$job"
assert_item target-connections fail "the target's max_connections is 10, but the job opens up to 18 connections to it (16 apply workers + 2)"
extra_sql conns "SET GLOBAL max_connections = $emax"
precheck_run "$job"
assert_item target-connections pass
assert_eq 0 "$PC_RC" "exit with every item passing: $(cat "$TEST_TMP/precheck.json")"
