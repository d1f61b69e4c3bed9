#!/usr/bin/env bash
# MariaDB sequences reach a MariaDB target: the full phase creates them with the state the
# snapshot holds, and replication carries NEXTVAL/SETVAL (row events on the sequence) and
# CREATE/ALTER/DROP SEQUENCE. Each sequence ends with the same state on both sides, and
# NEXTVAL then gives the same value on both (sequences whose last change reset the cache:
# a cached range handed out partly on the source is, as on a MariaDB replica, skipped).
. "$(dirname "$0")/../harness/lib.sh"

db=$(test_db)
src_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id BIGINT PRIMARY KEY, v VARCHAR(10));
CREATE SEQUENCE \`$db\`.s1 START WITH 10 INCREMENT BY 5 CACHE 3;
CREATE SEQUENCE \`$db\`.s2 NOCACHE;
CREATE SEQUENCE \`$db\`.gone NOCACHE;
CREATE SEQUENCE \`$db\`.unused START WITH 7 MAXVALUE 1000 CYCLE"
# before the snapshot: NEXTVAL several times, SETVAL
src_sql "SELECT NEXTVAL(\`$db\`.s1), NEXTVAL(\`$db\`.s1), NEXTVAL(\`$db\`.s1), NEXTVAL(\`$db\`.s1);
SELECT SETVAL(\`$db\`.s1, 500); SELECT NEXTVAL(\`$db\`.s2), NEXTVAL(\`$db\`.s2);
INSERT INTO \`$db\`.t VALUES (NEXTVAL(\`$db\`.s2), 'a'), (NEXTVAL(\`$db\`.s2), 'b')" >/dev/null

# the state of each sequence: the sequence table's row ("missing" when there is none)
state() { # side seq
	local side=$1 q="SELECT CONCAT_WS(',', next_not_cached_value, minimum_value, maximum_value, start_value, increment, cache_size, cycle_option, cycle_count) FROM \`$db\`.\`$2\`"
	if [ "$(${side}_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db' AND TABLE_NAME = '$2' AND TABLE_TYPE = 'SEQUENCE'")" = 0 ]; then
		echo missing
	else
		${side}_sql "$q"
	fi
}

write_job "$TEST_TMP/job.yaml" "databases=$db" type=all
tidm migrate --until-caught-up "$TEST_TMP/job.yaml" >"$TEST_TMP/out1" 2>&1 || fail "first run failed: $(cat "$TEST_TMP/out1")"
for s in s1 s2 gone unused; do
	assert_eq "$(state src $s)" "$(state tgt $s)" "state of sequence $s after the full phase"
done
assert_eq "505,1,9223372036854775806,10,5,3,0,0" "$(state tgt s1)" "s1 after SETVAL 500 (next 505)"

# during replication: NEXTVAL, SETVAL, ALTER SEQUENCE, CREATE and DROP SEQUENCE
src_sql "SELECT NEXTVAL(\`$db\`.s1), NEXTVAL(\`$db\`.s1); SELECT SETVAL(\`$db\`.s1, 2000);
SELECT NEXTVAL(\`$db\`.s2), NEXTVAL(\`$db\`.s2), NEXTVAL(\`$db\`.s2);
ALTER SEQUENCE \`$db\`.s2 INCREMENT BY 3;
SELECT NEXTVAL(\`$db\`.s2);
INSERT INTO \`$db\`.t VALUES (NEXTVAL(\`$db\`.s2), 'c');
CREATE SEQUENCE \`$db\`.s3 START WITH 100 INCREMENT BY -1 MINVALUE 1 MAXVALUE 100 NOCACHE;
SELECT NEXTVAL(\`$db\`.s3), NEXTVAL(\`$db\`.s3);
ALTER SEQUENCE \`$db\`.unused RESTART WITH 42;
DROP SEQUENCE \`$db\`.gone" >/dev/null
tidm migrate --until-caught-up "$TEST_TMP/job.yaml" >"$TEST_TMP/out2" 2>&1 || fail "second run failed: $(cat "$TEST_TMP/out2")"
for s in s1 s2 s3 unused gone; do
	assert_eq "$(state src $s)" "$(state tgt $s)" "state of sequence $s after replication"
done
assert_eq missing "$(state tgt gone)" "dropped sequence"
assert_tables_equal "$db" t
# the next value is the same on both sides (each has its cache reset by the last change)
for s in s1 s2 s3 unused; do
	assert_eq "$(src_sql "SELECT NEXTVAL(\`$db\`.$s)")" "$(tgt_sql "SELECT NEXTVAL(\`$db\`.$s)")" "NEXTVAL of $s on both sides"
done
