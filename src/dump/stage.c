/*
 * stage.c - the staged files and IMPORT INTO statement of mode physical on TiDB (stage.h).
 */
#include "dump/stage.h"

#include <string.h>

#include "db/quote.h"
#include "util/err.h"

static const char stage_escape[256] = {['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', [0] = '0'};

void tidm_stage_put_row(tidm_buf *b, const char *const *vals, const unsigned long *lens, unsigned ncols)
{
	for (unsigned i = 0; i < ncols; i++) {
		const unsigned char *v = (const unsigned char *)vals[i];
		if (i)
			tidm_buf_putc(b, '\t');
		if (!v) {
			tidm_buf_put(b, "\\N", 2);
			continue;
		}
		for (unsigned long j = 0; j < lens[i]; j++) {
			char e = stage_escape[v[j]];
			if (e) {
				tidm_buf_putc(b, '\\');
				tidm_buf_putc(b, e);
			} else {
				tidm_buf_putc(b, (char)v[j]);
			}
		}
	}
	tidm_buf_putc(b, '\n');
}

static void put_hex(tidm_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		tidm_buf_putc(b, hex[*p >> 4]);
		tidm_buf_putc(b, hex[*p & 15]);
	}
}

int tidm_stage_paths(const char *stage, const char *job, const char *db, const char *table, tidm_buf *dir,
		     tidm_buf *location)
{
	const char *query = strchr(stage, '?'); /* s3://bucket/prefix?region=...: the parameters go last */
	size_t n = query ? (size_t)(query - stage) : strlen(stage);

	tidm_buf_clear(dir);
	tidm_buf_clear(location);
	while (n > 8 && stage[n - 1] == '/')
		n--;
	if (!strncmp(stage, "file:///", 8)) {
		tidm_buf_put(dir, stage + 7, n - 7); /* keeps the leading '/' */
		if (dir->len > 1)
			tidm_buf_putc(dir, '/');
		tidm_buf_puts(dir, job);
		tidm_buf_putc(dir, '/');
		put_hex(dir, db);
		tidm_buf_putc(dir, '.');
		put_hex(dir, table);
		tidm_buf_put(location, dir->data, dir->len);
	} else if (!strncmp(stage, "s3://", 5) && n > 5) {
		tidm_buf_put(location, stage, n);
		tidm_buf_putc(location, '/');
		tidm_buf_puts(location, job);
		tidm_buf_putc(location, '/');
		put_hex(location, db);
		tidm_buf_putc(location, '.');
		put_hex(location, table);
	} else {
		return tidm_err_set(TIDM_EINVAL, "spec.stage \"%s\" is not a file:/// or s3:// URL", stage);
	}
	tidm_buf_puts(location, "/*.csv");
	if (query && dir->len == 0)
		tidm_buf_puts(location, query);
	return 0;
}

static void put_opt(tidm_buf *out, const char *name, const char *value)
{
	tidm_buf_puts(out, name);
	tidm_buf_putc(out, '=');
	tidm_quote_string(out, value, strlen(value));
}

void tidm_stage_import_sql(tidm_buf *out, const char *db, const char *table, const char *const *cols, size_t ncols,
			   const char *location, unsigned threads)
{
	tidm_buf_puts(out, "IMPORT INTO ");
	tidm_quote_qualified(out, db, table);
	tidm_buf_puts(out, " (");
	for (size_t i = 0; i < ncols; i++) {
		if (i)
			tidm_buf_putc(out, ',');
		tidm_quote_ident(out, cols[i]);
	}
	tidm_buf_puts(out, ") FROM ");
	tidm_quote_string(out, location, strlen(location));
	tidm_buf_puts(out, " FORMAT 'csv' WITH ");
	put_opt(out, "CHARACTER_SET", "binary");
	tidm_buf_puts(out, ", ");
	put_opt(out, "FIELDS_TERMINATED_BY", "\t");
	tidm_buf_puts(out, ", ");
	put_opt(out, "FIELDS_ENCLOSED_BY", "");
	tidm_buf_puts(out, ", ");
	put_opt(out, "FIELDS_ESCAPED_BY", "\\");
	tidm_buf_puts(out, ", ");
	put_opt(out, "FIELDS_DEFINED_NULL_BY", "\\N");
	tidm_buf_puts(out, ", ");
	put_opt(out, "LINES_TERMINATED_BY", "\n");
	if (threads)
		tidm_buf_printf(out, ", THREAD=%u", threads);
}
