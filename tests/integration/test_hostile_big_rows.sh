#!/usr/bin/env bash
# Rows near max_allowed_packet (issue 19, "Hostile input"). Two extra servers: a source
# whose max_allowed_packet is 8 MiB, holding a LONGBLOB row of 8 MiB - 64 KiB (and one of
# 3 MiB among small ones), and a target whose max_allowed_packet is 4 MiB.
#  1. to the shared target (256 MiB): the full phase (LOAD DATA and multi-row REPLACE) and
#     replication of new near-limit rows give a target equal to the source;
#  2. to the 4 MiB target with multi-row REPLACE: a row no statement can carry is a clear
#     error naming the table, the row's key and both sizes, at once (not retried as a
#     lost connection for minutes), exit 1; the rows before it are kept and a rerun after
#     raising the target's max_allowed_packet ends equal (nothing lost);
#  3. replication of such a row to the 4 MiB target: the same clear error naming the row,
#     exit 1, at once; raised limit, the same command: equal.
. "$(dirname "$0")/../harness/lib.sh"

start_extra_server bigsrc --max-allowed-packet=8M
src_port=$EXTRA_PORT
start_extra_server smalltgt --max-allowed-packet=4M
small_port=$EXTRA_PORT
db=$(test_db)
q="\`$db\`.big"
on_exit "extra_sql smalltgt 'DROP DATABASE IF EXISTS \`$db\`' >/dev/null 2>&1 || true"

extra_sql bigsrc "CREATE DATABASE \`$db\`; CREATE TABLE $q (id INT PRIMARY KEY, b LONGBLOB, s INT);
INSERT INTO $q SELECT seq, REPEAT(CHAR(seq), 1000), seq FROM \`$db\`.seq_1_to_20;
INSERT INTO $q VALUES (100, REPEAT('x', 8 * 1024 * 1024 - 65536), 1), (101, REPEAT('y', 3 * 1024 * 1024), 1);
INSERT INTO $q SELECT 200 + seq, REPEAT('z', 500), seq FROM \`$db\`.seq_1_to_20;"
assert_eq "8323072" "$(extra_sql bigsrc "SELECT LENGTH(b) FROM $q WHERE id = 100")" "the near-limit row on the source"

# checksums of the extra servers' tables: the harness compares source and target only
sum_of() { # SERVER(extra name | target) -> one line per row: id, length, md5
	local sqlq="SELECT GROUP_CONCAT(id, ':', LENGTH(b), ':', MD5(b), ':', IFNULL(s, 'N') ORDER BY id SEPARATOR '|') FROM $q"
	if [ "$1" = target ]; then tgt_sql "$sqlq"; else extra_sql "$1" "$sqlq"; fi
}
assert_same() { # SERVER what
	assert_eq "$(sum_of bigsrc)" "$(sum_of "$1")" "$2"
}
src_args=(source.host=127.0.0.1 "source.port=$src_port" source.user=root "source.password=$TIDM_TEST_SOURCE_PASSWORD")
small_args=(target.host=127.0.0.1 "target.port=$small_port" target.user=root "target.password=$TIDM_TEST_SOURCE_PASSWORD")

# --- 1. to the shared target: LOAD DATA, then replication of near-limit rows ---------------
write_job "$TEST_TMP/ok.yaml" name=big-rows-ok type=all "databases=$db" "${src_args[@]}"
rc=0
timeout 120 "$TIDM_BIN" migrate "$TEST_TMP/ok.yaml" --until-caught-up >"$TEST_TMP/ok1" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "migrate to the shared target: exit $rc: $(cat "$TEST_TMP/ok1")"
assert_same target "full copy of near-limit rows (LOAD DATA)"
extra_sql bigsrc "INSERT INTO $q VALUES (300, REPEAT('n', 8 * 1024 * 1024 - 65536), 3);
UPDATE $q SET b = REPEAT('u', 8 * 1024 * 1024 - 131072), id = 102 WHERE id = 101;
DELETE FROM $q WHERE id = 100;"
rc=0
timeout 120 "$TIDM_BIN" migrate "$TEST_TMP/ok.yaml" --until-caught-up >"$TEST_TMP/ok2" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "replication of near-limit rows: exit $rc: $(cat "$TEST_TMP/ok2")"
assert_contains "$(cat "$TEST_TMP/ok2")" "caught up with the source"
assert_same target "replicated near-limit rows"

# --- 2. full copy with REPLACE to a target whose max_allowed_packet is too small ------------
write_job "$TEST_TMP/small.yaml" name=big-rows-small type=all "databases=$db" spec.load-method=insert \
	"${src_args[@]}" "${small_args[@]}"
rc=0
start=$SECONDS
timeout 100 "$TIDM_BIN" migrate "$TEST_TMP/small.yaml" --until-caught-up >"$TEST_TMP/small1" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit code of a copy with a row over the target's max_allowed_packet ($(tail -5 "$TEST_TMP/small1"))"
[ $((SECONDS - start)) -lt 30 ] || fail "the oversized row was retried for $((SECONDS - start)) s: $(cat "$TEST_TMP/small1")"
out=$(cat "$TEST_TMP/small1")
assert_contains "$out" "copying \`$db\`.\`big\` (chunk 0), the row with \`id\` = 102: a statement of"
assert_contains "$out" "bytes is larger than the target's max_allowed_packet (4194304 bytes); raise max_allowed_packet on the target"
if grep -q "connection was lost" "$TEST_TMP/small1"; then fail "reported as a lost connection: $out"; fi
# rows are not lost: raise the limit, the same command resumes to equal
extra_sql smalltgt "SET GLOBAL max_allowed_packet = 64 * 1024 * 1024"
rc=0
timeout 120 "$TIDM_BIN" migrate "$TEST_TMP/small.yaml" --until-caught-up >"$TEST_TMP/small2" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "rerun after raising max_allowed_packet: exit $rc: $(cat "$TEST_TMP/small2")"
assert_same smalltgt "full copy after raising the target's max_allowed_packet"

# --- 3. replication of a row over the target's limit ----------------------------------------
extra_sql smalltgt "SET GLOBAL max_allowed_packet = 4 * 1024 * 1024"
extra_sql bigsrc "INSERT INTO $q VALUES (400, 'before', 4);
INSERT INTO $q VALUES (401, REPEAT('o', 6 * 1024 * 1024), 4);
INSERT INTO $q VALUES (402, 'after', 4);"
rc=0
start=$SECONDS
timeout 100 "$TIDM_BIN" migrate "$TEST_TMP/small.yaml" --until-caught-up >"$TEST_TMP/small3" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit code of replicating a row over the target's max_allowed_packet ($(tail -5 "$TEST_TMP/small3"))"
[ $((SECONDS - start)) -lt 60 ] || fail "the oversized replicated row was retried for $((SECONDS - start)) s"
out=$(cat "$TEST_TMP/small3")
assert_contains "$out" "bytes is larger than the target's max_allowed_packet (4194304 bytes)"
assert_contains "$out" "\`$db\`.\`big\` (id=401): a statement of"
# the refused row is not on the target (rows of other keys may be: apply workers run in
# parallel by row key, each from its own checkpoint)
assert_eq "0" "$(extra_sql smalltgt "SELECT COUNT(*) FROM $q WHERE id = 401")" "the refused row is not applied"
extra_sql smalltgt "SET GLOBAL max_allowed_packet = 64 * 1024 * 1024"
rc=0
timeout 120 "$TIDM_BIN" migrate "$TEST_TMP/small.yaml" --until-caught-up >"$TEST_TMP/small4" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "replication rerun after raising max_allowed_packet: exit $rc: $(cat "$TEST_TMP/small4")"
assert_same smalltgt "replication after raising the target's max_allowed_packet"
echo "ok: hostile_big_rows"
