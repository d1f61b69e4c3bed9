#!/usr/bin/env bash
# test_fault_disk_full.sh - the target runs out of storage in the middle of the copy, and
# then in replication (issue 19, SPEC §6): the target table's tablespace lives on a 6 MiB
# tmpfs (DATA DIRECTORY), the source table needs about three times that; a second table,
# on a 4 MiB tmpfs, fills up with replicated rows. Each time tidm must stop with the
# message that the target is out of storage (exit 1), and once space is freed (the tmpfs
# grown) the same command resumes and ends equal to the source, no row twice.
. "$(dirname "$0")/../harness/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "mounting a small filesystem needs root"
fs=$TEST_TMP/fs
mkdir -p "$fs"
mount -t tmpfs -o size=6m tmpfs "$fs" || fail "cannot mount a tmpfs at $fs (the test needs root and mount)"
on_exit "umount -l '$fs' 2>/dev/null"
fs2=$TEST_TMP/fs2
mkdir -p "$fs2"
mount -t tmpfs -o size=4m tmpfs "$fs2" || fail "cannot mount a tmpfs at $fs2"
on_exit "umount -l '$fs2' 2>/dev/null"

db=$(test_db)
on_exit "tgt_sql \"DROP DATABASE IF EXISTS \\\`$db\\\`\" >/dev/null 2>&1"
src_sql "CREATE DATABASE \`$db\`; USE \`$db\`;
CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, pad VARCHAR(200) NOT NULL);
INSERT INTO \`$db\`.t SELECT seq, REPEAT(CHAR(97 + seq % 26), 200) FROM seq_1_to_60000;
CREATE TABLE \`$db\`.r (id INT PRIMARY KEY, pad VARCHAR(200) NOT NULL);"
tgt_sql "CREATE DATABASE \`$db\`;
CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, pad VARCHAR(200) NOT NULL) DATA DIRECTORY = '$fs';
CREATE TABLE \`$db\`.r (id INT PRIMARY KEY, pad VARCHAR(200) NOT NULL) DATA DIRECTORY = '$fs2';"

job=$TEST_TMP/job.yaml
write_job "$job" type=all "databases=$db"
rc=0
out=$("$TIDM_BIN" migrate "$job" --until-caught-up 2>&1) || rc=$?
assert_eq 1 "$rc" "exit code when the target is out of storage ($(tail -3 <<<"$out"))"
assert_contains "$out" "the target database is out of storage; free space and resume"
n=$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.t")
[ "$n" -lt 60000 ] || fail "self-check: the whole table fitted ($n rows)"
echo "stopped with $n of 60000 rows on the target"

mount -o remount,size=64m "$fs" || fail "cannot grow the tmpfs"
"$TIDM_BIN" migrate "$job" --until-caught-up >"$TEST_TMP/rerun.out" 2>&1 || fail "the rerun after freeing space failed: $(tail -5 "$TEST_TMP/rerun.out")"
assert_tables_equal "$db"

# replication fills the second table's filesystem
src_sql "USE \`$db\`; INSERT INTO r SELECT seq, REPEAT(CHAR(97 + seq % 26), 200) FROM seq_1_to_40000"
rc=0
out=$("$TIDM_BIN" migrate "$job" --until-caught-up 2>&1) || rc=$?
assert_eq 1 "$rc" "exit code when the target is out of storage in replication ($(tail -3 <<<"$out"))"
assert_contains "$out" "the target database is out of storage; free space and resume"
n=$(tgt_sql "SELECT COUNT(*) FROM \`$db\`.r")
[ "$n" -lt 40000 ] || fail "self-check: the replicated rows fitted ($n rows)"
echo "replication stopped with $n of 40000 rows on the target"
mount -o remount,size=64m "$fs2" || fail "cannot grow the second tmpfs"
"$TIDM_BIN" migrate "$job" --until-caught-up >"$TEST_TMP/rerun2.out" 2>&1 ||
	fail "the rerun after freeing space in replication failed: $(tail -5 "$TEST_TMP/rerun2.out")"
assert_tables_equal "$db"
echo "PASS: $TEST_NAME"
