/*
 * dialect.h - adapting source schema text to the target's dialect: character sets and
 * collations the target lacks, and (for a TiDB target) the plain-text rules of
 * reference/tidb-target.md §10 (table options, FULLTEXT/SPATIAL indexes, MariaDB-only
 * types and comments). Pure functions: no connection, no allocation beyond the buffers.
 *
 * Versions are the integers of tidm_server_info.version (80036, 101106, TiDB 70501).
 */
#ifndef TIDM_DB_DIALECT_H
#define TIDM_DB_DIALECT_H

#include <stdbool.h>
#include <stddef.h>

#include "db/conn.h"
#include "util/buf.h"

/*
 * The collation to use on the target for a source collation (case-insensitive name).
 * Returns `collation` itself when the target has it (then *why = NULL); otherwise a
 * name that stays valid until the fourth next call of a map function on this thread,
 * with *why set to a static, human-readable reason ("target lacks it", "TiDB has only
 * latin1_bin: comparison becomes case-sensitive", ...). NO PAD collations (MySQL's
 * *_0900_*) map to NO PAD ones where the target has them, so unique keys do not start
 * colliding on trailing spaces. A collation of a charset the target lacks maps to a
 * utf8mb4 collation (tidm sessions talk utf8mb4, so the data converts by itself).
 * `why` may be NULL.
 */
const char *tidm_dialect_map_collation(enum tidm_flavor target, unsigned target_version, const char *collation,
				       const char **why);

/* Same for a character set name ("utf8mb3" → "utf8" where the target wants it). */
const char *tidm_dialect_map_charset(enum tidm_flavor target, unsigned target_version, const char *charset,
				     const char **why);

/*
 * Rewrite `create_sql` (the second column of SHOW CREATE TABLE, or of SHOW CREATE
 * DATABASE, on the source) for the target, appending the result to `out`:
 * - every CHARSET / CHARACTER SET / COLLATE value (table defaults, columns, and inside
 *   executable version comments) goes through the two maps above; a charset written
 *   without a collation gets the source's default collation written out when source and
 *   target flavours differ (a TiDB target would otherwise pick utf8mb4_bin);
 * - MySQL/TiDB target from MariaDB: "mariadb-5.3" comments removed, INET4/INET6/UUID
 *   become VARCHAR(15)/VARCHAR(39)/CHAR(36), a MariaDB JSON column (LONGTEXT with
 *   CHECK (json_valid(`c`))) becomes JSON, WITH SYSTEM VERSIONING and MariaDB-only table
 *   options (PAGE_COMPRESSED, ...) are dropped;
 * - MariaDB target: MySQL 8/9 executable comments (version 8xxxx/9xxxx, e.g.
 *   DEFAULT ENCRYPTION='N') are dropped, as MariaDB would run and reject them;
 * - TiDB target (reference/tidb-target.md §10): ENGINE, ROW_FORMAT, KEY_BLOCK_SIZE,
 *   STATS_*, COMPRESSION, ENCRYPTION, TABLESPACE, DATA/INDEX DIRECTORY, MIN/MAX_ROWS,
 *   PACK_KEYS, CHECKSUM, DELAY_KEY_WRITE, INSERT_METHOD, UNION dropped; USING
 *   BTREE/HASH/RTREE dropped; FULLTEXT and SPATIAL indexes dropped; ZEROFILL dropped;
 *   foreign keys dropped before TiDB 6.6; spatial columns refused.
 * Strings, comments and backquoted identifiers are never rewritten (a column named
 * `COLLATE x` stays as it is). One line per change the user should know about is
 * appended to `report` (may be NULL), naming the table and column, e.g.
 *   `db`.`t` column `c`: collation utf8mb4_0900_ai_ci mapped to utf8mb4_general_ci (...)
 * Returns 0; TIDM_EUNSUPPORTED when the table cannot be created on the target (a
 * spatial column on TiDB; error message and report say which) with `out` still holding
 * the rewritten text for display; TIDM_ECORRUPT for text that does not tokenize
 * (unterminated string, identifier or comment; unbalanced parentheses), `out` untouched.
 */
int tidm_dialect_adapt_create(tidm_buf *out, const char *create_sql, enum tidm_flavor src, enum tidm_flavor target,
			      unsigned target_version, tidm_buf *report);

/* Same, naming the database `db` in report lines and messages (NULL: table name only). */
int tidm_dialect_adapt_create_in(tidm_buf *out, const char *db, const char *create_sql, enum tidm_flavor src,
				 enum tidm_flavor target, unsigned target_version, tidm_buf *report);

/*
 * Split the plain secondary indexes (KEY lines: not PRIMARY, UNIQUE, FULLTEXT, SPATIAL)
 * off a CREATE TABLE laid out as SHOW CREATE TABLE prints it, one definition per line:
 * `table_sql` receives the statement without them, `keys` one "ADD KEY ..." clause per
 * line. Building an index once after the rows are loaded costs the target much less than
 * keeping it up to date row by row. Nothing is split (0 returned, table_sql = the input)
 * when the table has a foreign key (it needs its index from the start) or the text is not
 * laid out one definition per line; an index that leads with an AUTO_INCREMENT column
 * stays (the column must be indexed). Returns the number of indexes split off.
 */
size_t tidm_dialect_split_keys(const char *create_sql, tidm_buf *table_sql, tidm_buf *keys);

/* ---- MariaDB sequences ----------------------------------------------------------------- */

enum tidm_seq_stmt { TIDM_SEQ_NONE, TIDM_SEQ_CREATE, TIDM_SEQ_ALTER, TIDM_SEQ_DROP };

#define TIDM_SEQ_MAX_NAMES 16
typedef struct tidm_seq_info {
	enum tidm_seq_stmt kind;
	bool temporary;
	size_t n_names;          /* sequences named (DROP may name several; more are not listed) */
	struct {
		char db[256];    /* "" when the statement does not qualify the name */
		char name[256];
	} names[TIDM_SEQ_MAX_NAMES];
} tidm_seq_info;

/*
 * Adapt a MariaDB sequence statement - CREATE [OR REPLACE] [TEMPORARY] SEQUENCE [IF NOT
 * EXISTS] s ..., ALTER SEQUENCE [IF EXISTS] s ..., DROP [TEMPORARY] SEQUENCE [IF EXISTS]
 * s [, s]... (as replicated, or as SHOW CREATE SEQUENCE prints it) - for the target.
 * `info` receives the kind and the names (unquoted); kind TIDM_SEQ_NONE: not a sequence
 * statement, 0 returned, `out` untouched. Otherwise, the statement to run is appended to `out`:
 * - MariaDB target: the statement unchanged;
 * - TiDB target (sequences since 4.0, ALTER SEQUENCE since 6.4): CREATE loses the table
 *   options (ENGINE=...) and `AS type`, OR REPLACE becomes DROP SEQUENCE IF EXISTS then
 *   CREATE (two statements separated by "; "), CACHE 0 becomes NOCACHE; a report line
 *   says that TiDB hands out cached values per TiDB server (gaps and order differ);
 * - MySQL target, or TiDB too old: TIDM_EUNSUPPORTED with one report line (and the error
 *   message) saying what is not carried over; `out` untouched.
 * TIDM_ECORRUPT when the text does not tokenize.
 */
int tidm_dialect_adapt_sequence(tidm_buf *out, tidm_seq_info *info, const char *sql, size_t len,
				enum tidm_flavor target, unsigned target_version, tidm_buf *report);

/* A row of a MariaDB sequence table (SELECT * FROM seq, or a binlog row event on it). */
typedef struct tidm_seq_state {
	long long next_not_cached, min, max, start, increment;
	unsigned long long cache;
	int cycle;
	long long cycle_count;
} tidm_seq_state;

/*
 * The statement that gives the target's sequence `db`.`name` the state `st`, appended to
 * `out`: MariaDB: INSERT INTO `db`.`name` VALUES (...) (a sequence takes its whole state
 * that way); TiDB: SELECT SETVAL(`db`.`name`, next_not_cached - increment), nothing when
 * the sequence was never used (next_not_cached = start, no cycle yet). Returns 0; MySQL:
 * TIDM_EUNSUPPORTED, `out` untouched.
 */
int tidm_dialect_sequence_state(tidm_buf *out, const char *db, const char *name, const tidm_seq_state *st,
				enum tidm_flavor target);

#endif
