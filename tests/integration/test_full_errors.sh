#!/usr/bin/env bash
# Bad input gets a clear message and a non-zero exit, and leaves nothing half-written that
# looks complete: malformed YAML (line:column), unknown key, bad job name, wrong password,
# unreachable host, missing privilege; a table dropped during the dump does not fail the job.
. "$(dirname "$0")/../harness/lib.sh"

# run_tidm EXPECTED_EXIT ARGS...: sets $out (stdout+stderr)
run_tidm() {
	local want=$1 rc=0
	shift
	out=$(tidm "$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "tidm $*: exit $rc, expected $want; output: $out"
}

# --- job file errors: exit 2, file:line:column --------------------------------------------
j=$TEST_TMP/bad.yaml
printf 'name: ok-name\ntype: full\nsource:\n  host: 127.0.0.1\n   user: x\n' >"$j"
run_tidm 2 migrate "$j"
assert_contains "$out" "$j:4:9: invalid YAML: invalid multiline plain key" "malformed YAML names line and column"

printf 'name: ok-name\ntpye: full\n' >"$j"
run_tidm 2 migrate "$j"
assert_contains "$out" "$j:2:1:" "unknown key position"
assert_contains "$out" "unknown key \"tpye\""

write_job "$j" name=9-starts-with-digit
run_tidm 2 migrate "$j"
assert_contains "$out" "$j:1:7:" "bad job name position"
assert_contains "$out" "must start with a letter"

write_job "$j" "name=has space"
run_tidm 2 migrate "$j"
assert_contains "$out" "A-Z a-z 0-9 _ -"

run_tidm 2 migrate "$TEST_TMP/does-not-exist.yaml"
assert_contains "$out" "does-not-exist.yaml"

# --- connection errors: exit 1, the SPEC message, never the password ---------------------
db=$(test_db)
src_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY); INSERT INTO \`$db\`.t VALUES (1)"
write_job "$j" name=wrong-pw "databases=$db" source.password=Not-The-Pw-4711
run_tidm 1 migrate "$j"
assert_contains "$out" "Failed to connect to the source database using given parameters. Please make sure the source database is up and can be connected using the given parameters."
case "$out" in *Not-The-Pw-4711*) fail "the password appears in the output: $out" ;; esac
write_job "$j" name=wrong-pw-target "databases=$db" target.password=Not-The-Pw-4712
run_tidm 1 migrate "$j"
assert_contains "$out" "Failed to connect to the TiDB cluster using the given user and password."
case "$out" in *Not-The-Pw-4712*) fail "the password appears in the output: $out" ;; esac

write_job "$j" name=unreachable "databases=$db" source.port=1 source.connect-timeout=2
run_tidm 1 migrate "$j"
assert_contains "$out" "Failed to connect to the source database using given parameters."
assert_contains "$out" "127.0.0.1:1"

# --- missing privilege: no RELOAD and no LOCK TABLES, so no consistent snapshot -----------
src_sql "DROP USER IF EXISTS 'tidm_lowpriv'@'%'; CREATE USER 'tidm_lowpriv'@'%' IDENTIFIED BY 'low-pw-1'; GRANT SELECT ON \`$db\`.* TO 'tidm_lowpriv'@'%'"
on_exit "src_sql \"DROP USER IF EXISTS 'tidm_lowpriv'@'%'\" >/dev/null 2>&1 || true"
write_job "$j" name=lowpriv "databases=$db" source.user=tidm_lowpriv source.password=low-pw-1
# the precheck finds it before anything is written (exit 3)
run_tidm 3 migrate "$j"
assert_contains "$out" "the source user tidm_lowpriv lacks RELOAD (global) or LOCK TABLES on \`$db\`"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM tidm_meta.jobs WHERE name = 'lowpriv'")" "no job record after a failed precheck"

# --- a table dropped during the dump -------------------------------------------------------
src_sql "CREATE TABLE \`$db\`.big (id INT PRIMARY KEY, v VARCHAR(100));
INSERT INTO \`$db\`.big SELECT seq, REPEAT('v', 80) FROM \`$db\`.seq_1_to_400000;
CREATE TABLE \`$db\`.victim (id INT PRIMARY KEY); INSERT INTO \`$db\`.victim VALUES (1),(2),(3);"
write_job "$j" name=dropped "databases=$db" spec.chunk-rows=5000 spec.dump-threads=1 spec.load-threads=1
"$TIDM_BIN" migrate "$j" >"$TEST_TMP/dropped.out" 2>&1 &
pid=$!
wait_for "[ \$(tgt_sql \"SELECT COUNT(*) FROM tidm_meta.chunks WHERE job = 'dropped' AND state = 'done'\" 2>/dev/null || echo 0) -ge 2 ]" 120 "the copy to start"
src_sql "DROP TABLE \`$db\`.victim"
rc=0
wait "$pid" || rc=$?
out=$(cat "$TEST_TMP/dropped.out")
# the job goes on: the table is gone at the later snapshot the stale table is read again
# under, so its target copy is dropped (test_full_ddl_during_copy covers each DDL kind)
assert_eq 0 "$rc" "exit code when a table was dropped during the dump ($out)"
assert_contains "$out" "\`$db\`.\`victim\` is no longer on the source: its copy on the target is dropped"
assert_eq finished "$(tgt_sql "SELECT state FROM tidm_meta.jobs WHERE name = 'dropped'")" "job state"
assert_eq 0 "$(tgt_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db' AND TABLE_NAME = 'victim'")" "victim on the target"
assert_tables_equal "$db" big
