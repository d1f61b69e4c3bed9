# workload.sh - a deterministic write workload for replication tests, sourced after lib.sh.
#
#   workload_setup DB            tables and starting rows (before any migration)
#   workload_sql DB FROM TO      prints the SQL of iterations FROM..TO (one client session)
#   workload_run DB FROM TO      runs it on the source (WORKLOAD_SLEEP=seconds between iterations)
#
# What the iterations cover: multi-statement transactions; inserts; updates, including
# primary-key changes and unique-key swaps; deletes; keyless tables (duplicates
# included); JSON; every column type (rows of `all types` copied with new keys); DDL at
# fixed iterations: add/drop/modify column, add/drop index, create/rename/truncate/drop
# table, create/drop database; one 100,000-row transaction.

workload_setup() {
	local db=$1
	src_sql "--database=$db" "$(cat "$TIDM_SRC/tests/integration/sql/types.sql")"
	src_sql "--database=$db" "
CREATE TABLE w_keyed (id INT PRIMARY KEY, k INT NOT NULL, v VARCHAR(100), j JSON, KEY (k)) CHARACTER SET utf8mb4;
CREATE TABLE w_nokey (a INT, b VARCHAR(20)) CHARACTER SET utf8mb4;
CREATE TABLE w_uk (id INT PRIMARY KEY, u INT NOT NULL, UNIQUE KEY (u));
CREATE TABLE w_big (id INT PRIMARY KEY, pad VARCHAR(64));
INSERT INTO w_keyed SELECT seq, seq % 10, CONCAT('start-', seq), JSON_OBJECT('n', seq, 'tags', JSON_ARRAY('a', seq)) FROM seq_1_to_2000;
INSERT INTO w_nokey SELECT seq % 5, 'start' FROM seq_1_to_300;
INSERT INTO w_uk SELECT seq, seq FROM seq_1_to_50;"
}

workload_sql() {
	local db=$1 from=$2 to=$3 i
	printf 'USE `%s`;\n' "$db"
	for ((i = from; i <= to; i++)); do
		[ -n "${WORKLOAD_SLEEP:-}" ] && printf 'DO SLEEP(%s);\n' "$WORKLOAD_SLEEP"
		printf "BEGIN; INSERT INTO w_keyed (id, k, v, j) VALUES (%d, %d, 'ins-%d', JSON_OBJECT('i', %d, 'x', JSON_ARRAY(1.5, 'é', NULL))); UPDATE w_keyed SET v = CONCAT(v, '+'), j = JSON_SET(j, '\$.u', %d) WHERE id = %d; INSERT INTO w_nokey VALUES (%d, 'it-%d'); COMMIT;\n" \
			$((10000 + i)) $((i % 10)) "$i" "$i" "$i" $((i % 2000 + 1)) $((i % 5)) "$i"
		if ((i % 7 == 0)); then
			printf 'UPDATE w_keyed SET id = id + 100000 WHERE id = %d;\n' $((10000 + i - 3))
		fi
		if ((i % 11 == 0)); then
			printf 'BEGIN; DELETE FROM w_keyed WHERE id = %d; DELETE FROM w_nokey WHERE a = %d LIMIT 1; COMMIT;\n' $((i % 2000 + 1)) $((i % 5))
		fi
		if ((i % 13 == 0)); then
			# swap the unique values of two rows inside one transaction, then swap them back
			local a=$((i % 50 + 1)) b=$(((i + 1) % 50 + 1))
			printf 'BEGIN; UPDATE w_uk SET u = -1 WHERE id = %d; UPDATE w_uk SET u = %d WHERE id = %d; UPDATE w_uk SET u = %d WHERE id = %d; COMMIT;\n' "$a" "$a" "$b" "$b" "$a"
			printf 'BEGIN; UPDATE w_uk SET u = -1 WHERE id = %d; UPDATE w_uk SET u = %d WHERE id = %d; UPDATE w_uk SET u = %d WHERE id = %d; COMMIT;\n' "$a" "$b" "$b" "$a" "$a"
		fi
		case $i in
		20) printf 'ALTER TABLE w_keyed ADD COLUMN extra INT NOT NULL DEFAULT 7;\n' ;;
		30) printf 'ALTER TABLE w_keyed ADD INDEX idx_v (v);\n' ;;
		40) printf 'ALTER TABLE w_keyed MODIFY COLUMN v VARCHAR(200);\n' ;;
		50) printf 'ALTER TABLE w_keyed DROP INDEX idx_v;\n' ;;
		60) printf "CREATE TABLE w_tmp (id INT PRIMARY KEY, s TEXT); INSERT INTO w_tmp VALUES (1, 'a'), (2, 'b'); RENAME TABLE w_tmp TO w_tmp2; TRUNCATE TABLE w_tmp2; INSERT INTO w_tmp2 VALUES (3, 'c');\n" ;;
		70) printf "CREATE TABLE w_gone (id INT PRIMARY KEY); INSERT INTO w_gone VALUES (1); DROP TABLE w_gone;\n" ;;
		80) printf 'CREATE DATABASE `%s_x`; CREATE TABLE `%s_x`.t (id INT PRIMARY KEY); INSERT INTO `%s_x`.t VALUES (1); DROP DATABASE `%s_x`;\n' "$db" "$db" "$db" "$db" ;;
		90)
			printf 'BEGIN; INSERT INTO w_big SELECT seq, MD5(seq) FROM seq_1_to_100000; COMMIT;\n'
			printf 'UPDATE `all types` SET t_varchar = CONCAT(IFNULL(t_varchar, ""), " upd"), t_json = JSON_OBJECT("k", id) WHERE id < 5;\n'
			printf 'INSERT INTO `all types` SELECT id + 1000, t_tiny, t_utiny, t_small, t_usmall, t_med, t_umed, t_int, t_uint, t_big, t_ubig, t_dec, t_dec2, t_float, t_double, t_date, t_time, t_time0, t_dt, t_dt0, t_ts, t_year, t_char, t_varchar, t_text, t_mtext, t_ltext, t_ttext, t_latin1, t_binary, t_varbinary, t_blob, t_tblob, t_mblob, t_lblob, t_enum, t_set, t_bit1, t_bit64, t_json, t_geom, t_point, t_uuid_like FROM `all types` WHERE id < 1000;\n'
			printf 'UPDATE `all types` SET id = id + 5000 WHERE id = 1003;\n'
			printf 'DELETE FROM `all types` WHERE id = 1004;\n'
			printf 'UPDATE `no key` SET b = "changed" WHERE a = 1 LIMIT 1; DELETE FROM `no key` WHERE a = 2 LIMIT 1;\n'
			;;
		100) printf 'ALTER TABLE w_keyed DROP COLUMN extra;\n' ;;
		esac
	done
}

workload_run() {
	workload_sql "$@" | src_sql
}
