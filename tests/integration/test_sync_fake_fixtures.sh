#!/usr/bin/env bash
# test_sync_fake_fixtures.sh - incremental jobs (`tidm migrate --until-caught-up`) against
# tidm_fake_primary, a scripted MySQL primary serving binlogs written by real MySQL
# servers ($TIDM_FIXTURES/binlog, read in place), into the MariaDB target. Each case
# creates the target tables as they were before the binlog (when the binlog lacks the
# CREATE) and asserts the exact target contents, taken from SOURCES.md, the
# `.mariadb-binlog.txt` companion dumps (MariaDB's own decoder) or the SQL that wrote the
# file, never from tidm's output:
#  - MySQL 8.0/9.x: a zstd TRANSACTION_PAYLOAD, ENUM/SET/CHAR/VARCHAR/TEXT insert-update-
#    delete on a table without a key, TIME -507:48:27, a MINIMAL row image (absent columns
#    keep the target's default), BIT, INVISIBLE columns, JSON opaque values, a tagged GTID;
#  - older servers: 5.6 GTID events and a table named GENERATED, a MyISAM table, a 5.1
#    UPDATE whose images hold some columns only; from the other folders: DECIMAL(4,2) ..
#    (30,25) (Percona 5.6), DDL and rows across ALTERs over two files (canal, 5.7.19),
#    checksum NONE with a database filter (5.7.20), GTID-mode deletes of duplicate rows
#    in a keyless table (5.7.40);
#  - GTID skipping as a real MySQL 8.0 primary does it: transactions in the job's
#    start.gtid (the first ones, later ones, a tagged one, a statement-format one) are
#    not applied, the others are; a start set lacking the file's PREVIOUS_GTIDS is refused
#    as purged (SPEC §5).
# Not here: PARTIAL_UPDATE_ROWS (json.binlog) is applied up to the partial update only
# (tidm refuses a JSON diff without its before image), relay logs, VECTOR (MariaDB 10.11).
# Fixtures whose transactions have GTIDs are read by GTID (COM_BINLOG_DUMP_GTID), the
# ANONYMOUS_GTID ones by file and position (a MySQL primary refuses anonymous
# transactions to an auto-position replica). The fake's --rename-db serves the fixtures
# that write to the `mysql` schema (never replicated) under another name.
. "$(dirname "$0")/../harness/lib.sh"

FAKE=${TIDM_FAKE_PRIMARY:-$TIDM_BUILD/tidm_fake_primary}
[ -x "$FAKE" ] || fail "tidm_fake_primary not built ($FAKE)"
BL=$TIDM_FIXTURES/binlog
[ -r "$BL/SOURCES.md" ] || fail "fixtures missing: $BL"
command -v jq >/dev/null || fail "jq is required"

export FAKE_PW='fake-Primary-pw3'
DBS="test noria a foo fxset fxinv fxbit fxjsn fxref account_db local wanshao tsdb"
drop_dbs() { for d in $DBS; do tgt_sql "DROP DATABASE IF EXISTS \`$d\`"; done; }
drop_dbs
on_exit "drop_dbs >/dev/null 2>&1"

# serve FIXTURE [fake args...]: a fake primary for $BL/FIXTURE (stopping the previous
# one); sets PORT and FLOG (its log)
fake_pid=
serve() {
	local f=$BL/$1 out=$TEST_TMP/fake.$RANDOM
	shift
	[ -r "$f" ] || fail "fixture missing: $f"
	stop_fake
	"$FAKE" --binlog "$f" --password-env FAKE_PW "$@" >"$out.port" 2>"$out.log" &
	fake_pid=$!
	wait_for "[ -s '$out.port' ]" 10 "the fake primary to listen"
	PORT=$(head -1 "$out.port")
	FLOG=$out.log
}
stop_fake() {
	if [ -n "$fake_pid" ]; then
		kill "$fake_pid" 2>/dev/null || true
		wait "$fake_pid" 2>/dev/null || true
		fake_pid=
	fi
}
on_exit stop_fake

# migrate_ok CASE DATABASES START...: an incremental job fx-CASE-<pid> (its own checkpoint)
# from the fake primary, START being start.gtid=... or start.binlog-file=... pairs; it
# must reach the end of the file. Output in $TEST_TMP/CASE.out.
run_job() {
	local case=$1 dbs=$2
	shift 2
	# a MySQL 8.0 source into MariaDB: their sql_mode differs, which the precheck warns about
	# (item sql-mode); these jobs accept it
	write_job "$TEST_TMP/$case.yaml" name="fx-$case-$$" type=incremental precheck.ignore=keyless-tables,sql-mode databases="$dbs" source.port="$PORT" \
		source.user=root source.password-env=FAKE_PW "$@"
	"$TIDM_BIN" migrate "$TEST_TMP/$case.yaml" --until-caught-up >"$TEST_TMP/$case.out" 2>&1
}
migrate_ok() {
	local case=$1
	run_job "$@" || fail "$case: tidm migrate failed: $(cat "$TEST_TMP/$case.out") fake primary: $(cat "$FLOG")"
}
# migrate_fails CASE DATABASES START...: the job must fail; its output in $TEST_TMP/CASE.out
migrate_fails() {
	local case=$1
	if run_job "$@"; then fail "$case: tidm migrate succeeded: $(cat "$TEST_TMP/$case.out")"; fi
}
by_file() { # FIXTURE -> job arguments to start at its first event
	printf '%s\n' "start.binlog-file=$(basename "$1")" start.binlog-pos=4
}
skipped() { # N: the fake primary skipped N transactions of the file
	assert_contains "$(cat "$FLOG")" "skipped $1 transaction(s) the replica has" "transactions skipped by GTID"
}

# dump_rows DB.TABLE NCOLS DUMP...: the rows TABLE holds after the row images of the
# mariadb-binlog dumps (its first column a key), one a line, as `mariadb --batch` prints
# them (rows shorter than NCOLS, written before an ADD COLUMN, padded with NULL); sorted.
dump_rows() {
	local tbl=$1 ncols=$2
	shift 2
	awk -v TBL="\`${tbl%%.*}\`.\`${tbl#*.}\`" -v NCOLS="$ncols" '
	function flush(   r, i) {
		if (op != "" && tbl == TBL) {
			if (op != "INSERT")
				delete rows[bv[1]]
			if (op != "DELETE") {
				r = ""
				for (i = 1; i <= NCOLS; i++)
					r = r (i > 1 ? "\t" : "") ((i in av) ? av[i] : "NULL")
				rows[av[1]] = r
			}
		}
		op = ""
		split("", av)
		split("", bv)
	}
	/^### (INSERT INTO|UPDATE|DELETE FROM) / { flush(); op = $2; tbl = $NF; part = op == "INSERT" ? "a" : "b"; next }
	/^### WHERE/ { part = "b"; next }
	/^### SET/ { part = "a"; next }
	/^###   @[0-9]+=/ {
		v = $0
		sub(/^###   @/, "", v)
		n = v + 0
		sub(/^[0-9]+=/, "", v)
		sub(/ \/\* [^'\'']*\*\/$/, "", v)
		if (v ~ /^-?[0-9]+ \([0-9]+\)$/) { print "dump_rows: signedness unknown: " $0 > "/dev/stderr"; bad = 1; exit 1 }
		if (v ~ /^'\''.*'\''$/) { v = substr(v, 2, length(v) - 2); gsub(/\\x0a/, "\\n", v) }
		if (part == "a") av[n] = v; else bv[n] = v
		next
	}
	/^#/ { flush() }
	END { if (!bad) { flush(); for (k in rows) print rows[k] } }' "$@" | LC_ALL=C sort
}
tgt_rows() { tgt_sql "$1" | LC_ALL=C sort; } # SQL -> its rows, sorted like dump_rows
# assert_dump DB.TABLE NCOLS SQL DUMP...: SQL on the target returns the rows of dump_rows
assert_dump() {
	local tbl=$1 ncols=$2 sql=$3 want
	shift 3
	want=$(dump_rows "$tbl" "$ncols" "$@") || fail "dump_rows $tbl: cannot read $*"
	[ -n "$want" ] || fail "dump_rows $tbl: no rows in $*"
	assert_eq "$want" "$(tgt_rows "$sql")" "$tbl: rows as the dump shows them"
}

# === MySQL 8.0.32: one transaction in a zstd TRANSACTION_PAYLOAD =========================
# SOURCES.md: test.tb1(INT), QUERY/TABLE_MAP/WRITE_ROWS_V2/XID inside; the row (1) was
# read from the payload decompressed with the zstd tool.
f=rust_mysql_common/transaction_compression.000001
serve "$f"
tgt_sql "CREATE DATABASE test; CREATE TABLE test.tb1 (a INT)"
mapfile -t start < <(by_file "$f")
migrate_ok compressed test "${start[@]}"
assert_eq "1" "$(tgt_sql "SELECT a FROM test.tb1")" "$f: the row of the compressed transaction"

# === MySQL 8.0.28: ENUM/SET/CHAR/VARCHAR/TEXT insert, update, delete; GTID skipping =====
# No key on the table: the update and the delete find the row by all its columns. The
# dump: INSERT ('0123456789'x10, LONG, 1, b'101', '0123456789'), UPDATE to ('field1',
# 'field_2', 2, b'1010', LONG), DELETE of that; LONG: the 298 characters below.
f=rust_mysql_common/mysql-enum-string-set.000001
u=93e95066-a2f4-11ec-9b69-9657f0ae95e2
d10=$(printf '0123456789%.0s' {1..10})
d12=$(printf '0123456789%.0s' {1..12})
long="${d12}012345678${d12}012345678$(printf '0123456789%.0s' {1..4})"
serve "$f" --rename-db mysql=fxset
tgt_sql "CREATE DATABASE fxset; CREATE TABLE fxset.t (f1 CHAR(128), f2 VARCHAR(300),
  f3 ENUM('var1', 'variant2', 'foo'), f4 SET('one', 'two', 'three', 'four'), f5 TEXT)"
# :1-2 (ALTER USER, CREATE TABLE in `mysql`) and :5 (the DELETE) are the job's already
migrate_ok enum_a fxset start.gtid="$u:1-2:5"
skipped 3
assert_eq "field1	field_2	variant2	two,four	$long" "$(tgt_sql "SELECT f1, f2, f3, f4, f5 FROM fxset.t")" \
	"$f: the row after INSERT and UPDATE, the DELETE (:5) skipped"
# the same job again: it resumes at its checkpoint by file and position, where the
# primary skips nothing; :5 is still in the job's start set and must stay unapplied
serve "$f" --rename-db mysql=fxset
migrate_ok enum_a fxset start.gtid="$u:1-2:5"
assert_eq "field1	field_2	variant2	two,four	$long" "$(tgt_sql "SELECT f1, f2, f3, f4, f5 FROM fxset.t")" \
	"$f: a resumed job passes over :5 of its start set too"
# then from :1-4: only the DELETE comes (the INSERT again would make two rows)
serve "$f" --rename-db mysql=fxset
migrate_ok enum_b fxset start.gtid="$u:1-4"
skipped 4
assert_eq "0" "$(tgt_sql "SELECT COUNT(*) FROM fxset.t")" "$f: the DELETE of :5"
# the insert alone, from :1-2 with :4-5 skipped: the first image, ENUM by index 1, SET b'101'
tgt_sql "TRUNCATE fxset.t"
serve "$f" --rename-db mysql=fxset
migrate_ok enum_c fxset start.gtid="$u:1-2:4-5"
assert_eq "$d10	$long	var1	one,three	0123456789" \
	"$(tgt_sql "SELECT f1, f2, f3, f4, f5 FROM fxset.t")" "$f: the inserted row"

# === MySQL 8.0.26: INVISIBLE columns; the first transactions skipped =====================
# dump: INSERT (1, 2, -3, '4', x'05', 6000000000), INSERT (NULL, NULL, -33, '44', 'U',
# NULL), UPDATE of the second to (111, 222, -333, '444', 'U', NULL); f1, f2, f6 invisible.
f=rust_mysql_common/binlog-invisible-columns.000001
u=97c7af02-4c50-11ec-acd8-681842034964
serve "$f" --rename-db mysql=fxinv
tgt_sql "CREATE DATABASE fxinv; CREATE TABLE fxinv.t1 (f1 INT UNSIGNED INVISIBLE, f2 INT UNSIGNED INVISIBLE, f3 INT,
  f4 TEXT, f5 BLOB, f6 BIGINT UNSIGNED INVISIBLE)"
q="SELECT f1, f2, f3, f4, HEX(f5), f6 FROM fxinv.t1 ORDER BY f3 DESC"
migrate_ok invisible_a fxinv start.gtid="$u:1-3"
skipped 3
assert_eq "111	222	-333	444	55	NULL" "$(tgt_sql "$q")" "$f: the first INSERT (:3) skipped, the second and its UPDATE applied"
tgt_sql "TRUNCATE fxinv.t1"
serve "$f" --rename-db mysql=fxinv
migrate_ok invisible_b fxinv start.gtid="$u:1-2"
assert_eq "1	2	-3	4	05	6000000000
111	222	-333	444	55	NULL" "$(tgt_sql "$q")" "$f: both rows, invisible columns included"

# === MySQL 8.0.26: BIT(3), TEXT, BIT(8) ==================================================
# SOURCES.md and the dump: (b'100', 'foo', b'00100000')
f=rust_mysql_common/mysql_type_bit.000001
serve "$f" --rename-db mysql=fxbit
tgt_sql "CREATE DATABASE fxbit; CREATE TABLE fxbit.foo (a BIT(3), b TEXT, c BIT(8))"
migrate_ok bit fxbit start.gtid="fbda2ad0-7c46-11ec-ae30-4ef7efc81a2a:1-2"
assert_eq "100	foo	00100000" "$(tgt_sql "SELECT BIN(a), b, LPAD(BIN(c), 8, '0') FROM fxbit.foo")" "$f: BIT values"

# === MySQL 8.0.40: TIME(0) beyond 24 h, negative ==========================================
# SOURCES.md and the dump: '-507:48:27'
f=rust_mysql_common/time_issue.000001
serve "$f"
tgt_sql "CREATE DATABASE noria; CREATE TABLE noria.t (c1 TIME)"
mapfile -t start < <(by_file "$f")
migrate_ok time noria "${start[@]}"
assert_eq "-507:48:27" "$(tgt_sql "SELECT c1 FROM noria.t")" "$f: TIME value"

# === MySQL 8.0.40: binlog_row_image=MINIMAL, an INSERT of columns 1, 3 and 5 ==============
# the dump: @1=1, @3='a' (CHAR, utf8mb4), @5=3230202323 (INT UNSIGNED); @2 and @4 are not
# in the image, so they take the target's defaults (NULL, 7), not NULL.
f=rust_mysql_common/minimal_row_metadata.000001
serve "$f"
tgt_sql "CREATE TABLE noria.t1 (c1 INT NOT NULL PRIMARY KEY, c2 BLOB, c3 CHAR(2), c4 INT DEFAULT 7, c5 INT UNSIGNED)"
mapfile -t start < <(by_file "$f")
migrate_ok minimal noria "${start[@]}"
assert_eq "1	NULL	a	7	3230202323" "$(tgt_sql "SELECT c1, c2, c3, c4, c5 FROM noria.t1")" "$f: MINIMAL insert"

# === MySQL 8.0.22: JSON, virtual generated columns, PARTIAL_UPDATE_ROWS ====================
# mysql.t(id, json_col, name AS json_col->>'$.name', age AS json_col->'$.age'): 4 inserts
# (ids 1-6, ages 24/32/40), a full UPDATE (ages +1), then a PARTIAL_UPDATE_ROWS whose
# before image is the id only and whose diffs replace $.age (+1 again). MySQL wrote the
# generated columns' values into the images: they are the expectation for json_col.
# Without the before document, tidm computes the new value on the target (JSON_REPLACE of
# the column as it is there).
f=rust_mysql_common/json.binlog.000001
serve "$f" --rename-db mysql=fxjsn
tgt_sql "CREATE DATABASE fxjsn; CREATE TABLE fxjsn.t (id INT PRIMARY KEY AUTO_INCREMENT, json_col JSON,
  name VARCHAR(100) AS (JSON_VALUE(json_col, '\$.name')) VIRTUAL, age INT AS (JSON_VALUE(json_col, '\$.age')) VIRTUAL)"
mapfile -t start < <(by_file "$f")
migrate_ok json fxjsn "${start[@]}"
assert_eq "1	Joe	26	xxxxxxxxxx	3
2	Sue	34	yyyyyyyyyy	3
3	Pete	42	zzzzzzzzzz	3
4	Joe	26	xxxxxxxxxx	3
5	Sue	34	yyyyyyyyyy	3
6	Pete	42	zzzzzzzzzz	3" "$(tgt_sql "SELECT id, name, age, JSON_VALUE(json_col, '\$.data'), JSON_LENGTH(json_col) FROM fxjsn.t ORDER BY id")" \
	"$f: rows after the full UPDATE and the partial one (ages as MySQL wrote them in the images)"

# === MySQL 9.0.1: JSON opaque values (DECIMAL, DATE, DATETIME, TIME, VARCHAR) =============
# The binlog creates foo and foo.test(a json). SOURCES.md (rust_mysql_common's assertions,
# which print DECIMALs as strings) lists {"a":"base64:type15:VQ=="}, {"b":"2012-03-18"},
# {"c":"2012-03-18 11:30:45.000000"}, {"c":"87:31:46.654321"}, {"d":"123.456"},
# {"e":"9.00"}, {"e":[0,1,true,false]}, {"e":null}; below in MySQL's JSON text, where a
# DECIMAL is a number that keeps its scale.
f=rust_mysql_common/json-opaque.binlog
serve "$f" --server-version 9.0.1
mapfile -t start < <(by_file "$f")
migrate_ok opaque foo "${start[@]}"
assert_eq "$(printf '%s\n' '{"a": "base64:type15:VQ=="}' '{"b": "2012-03-18"}' '{"c": "2012-03-18 11:30:45.000000"}' \
	'{"c": "87:31:46.654321"}' '{"d": 123.456}' '{"e": 9.00}' '{"e": [0, 1, true, false]}' '{"e": null}' | LC_ALL=C sort)" \
	"$(tgt_rows "SELECT a FROM foo.test")" "$f: JSON opaque values"

# === MySQL 9.6.0: a tagged GTID (GTID_TAGGED_LOG_EVENT) ==================================
# SOURCES.md: PREVIOUS_GTIDS 55778904-...:1-13 and :mytag:1-2, then :mytag:3 inserting
# into test.orders(INT, INT, DECIMAL); the row, read from the event bytes: (3, 100, 250.00).
f=rust_mysql_common/binlog_transaction_with_GTID_TAG.000001
u=55778904-0299-11f1-b1b8-4ef0c4956feb
serve "$f" --server-version 9.6.0
tgt_sql "CREATE TABLE test.orders (id INT NOT NULL PRIMARY KEY, qty INT, price DECIMAL(10,2))"
migrate_ok tag_a test start.gtid="$u:1-13:mytag:1-3"
skipped 1
assert_eq "0" "$(tgt_sql "SELECT COUNT(*) FROM test.orders")" "$f: :mytag:3 already in the start set, not applied"
serve "$f" --server-version 9.6.0
migrate_ok tag_b test start.gtid="$u:1-13:mytag:1-2"
skipped 0
assert_eq "3	100	250.00" "$(tgt_sql "SELECT id, qty, price FROM test.orders")" "$f: the tagged transaction"
# a start set without :mytag:1-2, which the primary no longer has: purged
serve "$f" --server-version 9.6.0
migrate_fails tag_c test start.gtid="$u:1-13"
assert_contains "$(cat "$TEST_TMP/tag_c.out")" "The required binary log for migration no longer exists on the source database." "$f: purged GTIDs"
# found by the precheck before replication starts (it reads gtid_purged)
assert_contains "$(cat "$TEST_TMP/tag_c.out")" "the job would need $u:mytag:1-2" "$f: the missing GTIDs"

# === MySQL 5.6.41 GTIDs (no commit timestamps): a table named GENERATED ==================
# :1-2 create test.t1 and test.GENERATED, :3 is a statement-format INSERT (1), (2), (3),
# :4 a row INSERT (65), :5-6 drop both tables. The job has :1-3 and :5-6: the target is
# as after :3, and only :4 comes.
f=rust_mysql_common/binlog_56_gtid_reserved_word.000001
serve "$f"
tgt_sql "CREATE TABLE test.\`GENERATED\` (a INT PRIMARY KEY); INSERT INTO test.\`GENERATED\` VALUES (1), (2), (3)"
migrate_ok gtid56 test start.gtid="11111111-1111-1111-1111-111111111111:1-3:5-6"
skipped 5
assert_eq "1 2 3 65" "$(tgt_sql "SELECT a FROM test.\`GENERATED\` ORDER BY a" | tr '\n' ' ' | sed 's/ $//')" "$f: only :4 applied"

# === MySQL 5.7.1: a MyISAM table (BEGIN/COMMIT queries, no XID) ===========================
# the binlog creates test.t1 (a int) engine = myisam; the dump: two rows (1)
f=rust_mysql_common/bug32407.001
serve "$f"
mapfile -t start < <(by_file "$f")
migrate_ok myisam test "${start[@]}"
assert_eq "1 1" "$(tgt_sql "SELECT a FROM test.t1" | tr '\n' ' ' | sed 's/ $//')" "$f: rows"

# === MySQL 5.1 (NDB): an UPDATE_ROWS_V1 whose images hold columns 1 and 3 only ==============
# the dump: INSERT (3,3,3), (1,1,1), (2,2,2), (4,4,4), UPDATE WHERE @1=4 @3=4 SET @1=4
# @3=40, DELETE @1=2 (and a row of mysql.ndb_apply_status, not replicated)
f=rust_mysql_common/update-partial-row.binlog
serve "$f"
tgt_sql "CREATE TABLE test.ba (c1 INT NOT NULL PRIMARY KEY, c2 INT, c3 INT)"
mapfile -t start < <(by_file "$f")
migrate_ok partial_update test "${start[@]}"
assert_eq "1	1	1
3	3	3
4	4	40" "$(tgt_sql "SELECT c1, c2, c3 FROM test.ba ORDER BY c1")" "$f: rows"

# === MySQL 5.7.40 (GTID mode): deletes of duplicate rows in a keyless table, DDL ==========
# the dump: :53 and :54 each DELETE two rows (12) of a.b, :55 and :56 INSERT (12); :57-60
# create and drop a.aaa and a.bbba, :61 creates a.emoji, :62 inserts (2, ''). a.b starts
# with five rows (12) and one (7): exactly four of them go.
f=mysql-binlog-connector-rust/mysql-bin.000080
u=58cf6502-63db-11ed-8079-0242ac110002
for case in all skip; do
	tgt_sql "DROP DATABASE IF EXISTS a; CREATE DATABASE a; CREATE TABLE a.b (id INT);
	  INSERT INTO a.b VALUES (12), (12), (12), (12), (12), (7)"
	serve "$f"
	if [ $case = all ]; then
		migrate_ok dup_all a start.gtid="$u:1-52"
		want="7	1
12	3"
	else
		migrate_ok dup_skip a start.gtid="$u:1-54" # the two DELETE transactions skipped
		skipped 2
		want="7	1
12	7"
	fi
	assert_eq "$want" "$(tgt_sql "SELECT id, COUNT(*) FROM a.b GROUP BY id ORDER BY id")" "$f ($case): a.b"
	assert_eq "b emoji" "$(tgt_sql "SHOW TABLES FROM a" | tr '\n' ' ' | sed 's/ $//')" "$f ($case): tables of a"
	assert_dump a.emoji 2 "SELECT id, value FROM a.emoji" "$BL/$f.mariadb-binlog.txt"
done

# === Percona 5.6.16: DECIMAL(4,2) ... DECIMAL(30,25) =======================================
# go-mysql's ddsql.sql wrote the file: its CREATE TABLE is the target table, its INSERT,
# run on the target without strict mode (5.6's default) into a reference table, and the
# dump's row images are the two expectations.
f=go-mysql/tcb-eval002c-bin.003320
ddl=$(sed -n '/^CREATE TABLE/,/engine=InnoDB;/p' "$BL/go-mysql/ddsql.sql")
ins=$(sed -n '/^INSERT/,$p' "$BL/go-mysql/ddsql.sql")
[ -n "$ddl" ] && [ -n "$ins" ] || fail "cannot read $BL/go-mysql/ddsql.sql"
tgt_sql "USE test; $ddl"
tgt_sql "CREATE DATABASE fxref; USE fxref; $ddl SET SESSION sql_mode = ''; $ins"
serve "$f"
mapfile -t start < <(by_file "$f")
migrate_ok decimal test "${start[@]}"
assert_dump test.decodedecimal 14 "SELECT * FROM test.decodedecimal" "$BL/$f.mariadb-binlog.txt"
assert_eq "$(tgt_rows "SELECT * FROM fxref.decodedecimal")" "$(tgt_rows "SELECT * FROM test.decodedecimal")" \
	"$f: rows as ddsql.sql's INSERT stores them"

# === MySQL 5.7.19 (canal): two files, DDL around the rows ===================================
# mysql-bin.000002 creates local.exception (ALTERed four times), wanshao.wanshao_test and
# wanshao_sync, a second local.wanshao_test (dropped), CREATE USER/GRANT (not table DDL),
# one row; mysql-bin.000003 adds, drops and re-adds columns of wanshao_test between its
# rows, creates tsdb and its two tables twice (DROP between) and fills them. Each file is
# one job, the second starting where the first file ended.
tgt_sql "DROP DATABASE IF EXISTS local; DROP DATABASE IF EXISTS wanshao; DROP DATABASE IF EXISTS tsdb"
serve canal/tsdb/mysql-bin.000002
mapfile -t start < <(by_file mysql-bin.000002)
migrate_ok canal_2 local,wanshao,tsdb "${start[@]}"
serve canal/tsdb/mysql-bin.000003
mapfile -t start < <(by_file mysql-bin.000003)
migrate_ok canal_3 local,wanshao,tsdb "${start[@]}"
assert_eq "exception" "$(tgt_sql "SHOW TABLES FROM local")" "canal: tables of local"
assert_eq "longtext" "$(tgt_sql "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'local' AND TABLE_NAME = 'exception' AND COLUMN_NAME = 'exp_str'")" \
	"canal: local.exception.exp_str after the ALTERs"
assert_eq "id name age col2 col1" "$(tgt_sql "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION SEPARATOR ' ') FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'wanshao' AND TABLE_NAME = 'wanshao_test'")" \
	"canal: columns of wanshao.wanshao_test"
c2=$BL/canal/tsdb/mysql-bin.000002.mariadb-binlog.txt c3=$BL/canal/tsdb/mysql-bin.000003.mariadb-binlog.txt
assert_dump wanshao.wanshao_test 5 "SELECT * FROM wanshao.wanshao_test" "$c2" "$c3"
assert_eq 19 "$(tgt_sql "SELECT COUNT(*) FROM wanshao.wanshao_test")" "canal: rows of wanshao.wanshao_test"
assert_eq "0" "$(tgt_sql "SELECT COUNT(*) FROM wanshao.wanshao_sync")" "canal: wanshao.wanshao_sync"
assert_dump tsdb.canal_table_meta_history 13 "SELECT * FROM tsdb.canal_table_meta_history" "$c3"
assert_dump tsdb.canal_table_meta_snapshot 9 "SELECT * FROM tsdb.canal_table_meta_snapshot" "$c3"

# === MySQL 5.7.20, binlog_checksum=NONE: account_db only ===================================
# the binlog creates account_db and three tables, then 33 inserts and 2 updates there and
# one insert into meeteam_file_storage, which the job does not select.
f=mysql-binlog-connector-java/mysql-bin.checksum-none
serve "$f"
mapfile -t start < <(by_file "$f")
migrate_ok nocrc account_db "${start[@]}"
dump=$BL/$f.mariadb-binlog.txt
for t in account:9 refresh_token:6 message:6; do
	assert_dump "account_db.${t%:*}" "${t#*:}" "SELECT * FROM account_db.${t%:*}" "$dump"
done
assert_eq "2 24 7" "$(tgt_sql "SELECT (SELECT COUNT(*) FROM account_db.account), (SELECT COUNT(*) FROM account_db.refresh_token),
  (SELECT COUNT(*) FROM account_db.message)" | tr '\t' ' ')" "$f: row counts"
assert_eq "0" "$(tgt_sql "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'meeteam_file_storage'")" \
	"$f: the unselected database is not created"

echo "ok: sync_fake_fixtures"
