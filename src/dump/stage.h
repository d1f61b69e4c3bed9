/*
 * stage.h - mode physical on TiDB 7.2+: the files staged for IMPORT INTO and the statement
 * that reads them (pure functions, unit-tested: no TiDB runs where tidm is built).
 *
 * File format: one row per line, columns separated by a TAB, no enclosing quotes,
 * backslash escapes: "\\" for a backslash, "\t", "\n", "\r" and "\0" for TAB, LF, CR and
 * NUL; every other byte as it is (CHARACTER_SET='binary': no transcoding, so binary
 * columns keep every byte). NULL is \N; an empty string is an empty field; the string
 * "\N" is written "\\N". These are the options tidm_stage_import_sql passes.
 */
#ifndef TIDM_DUMP_STAGE_H
#define TIDM_DUMP_STAGE_H

#include <stddef.h>

#include "util/buf.h"

/* Append one row (vals[i] NULL = SQL NULL). */
void tidm_stage_put_row(tidm_buf *b, const char *const *vals, const unsigned long *lens, unsigned ncols);

/*
 * Where a table's files go under the stage URL `stage` (file:///dir or s3://bucket/prefix):
 * <stage>/<job>/<hex of db>.<hex of table>/ (hex: any name is a safe path component).
 * `dir` receives the local directory (file:// only; empty for s3://), `location` the
 * pattern IMPORT INTO reads (the directory's *.csv). 0, or TIDM_EINVAL for another URL.
 */
int tidm_stage_paths(const char *stage, const char *job, const char *db, const char *table, tidm_buf *dir,
		     tidm_buf *location);

/* IMPORT INTO `db`.`table` (`c1`,...) FROM '<location>' FORMAT 'csv' WITH <the options of
 * the format above>, THREAD = threads (0: TiDB's default). */
void tidm_stage_import_sql(tidm_buf *out, const char *db, const char *table, const char *const *cols, size_t ncols,
			   const char *location, unsigned threads);

#endif
