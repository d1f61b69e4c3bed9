/*
 * quote.c - SQL quoting of identifiers and values. See quote.h.
 *
 * Design: pure byte transforms appended to a tidm_buf, no allocation of their own and
 * no dependence on a connection. Strings are escaped for a session without
 * NO_BACKSLASH_ESCAPES (db/conn.c sets the session sql_mode on every connection it
 * opens), so the escaping does not depend on the connection character set: every byte
 * that is not one of the escaped ASCII characters is copied as is, and no multi-byte
 * character of utf8mb4, latin1 or binary can contain an ASCII byte. (gbk/sjis can; tidm
 * talks utf8mb4 on every session, so they never reach the wire in their own encoding.)
 */
#include <string.h>

#include "db/quote.h"

static const char hexdig[] = "0123456789ABCDEF";

void tidm_quote_ident(tidm_buf *b, const char *name)
{
	const char *p;

	tidm_buf_putc(b, '`');
	for (p = name; *p; p++) {
		if (*p == '`')
			tidm_buf_putc(b, '`');
		tidm_buf_putc(b, *p);
	}
	tidm_buf_putc(b, '`');
}

void tidm_quote_qualified(tidm_buf *b, const char *db, const char *table)
{
	tidm_quote_ident(b, db);
	tidm_buf_putc(b, '.');
	tidm_quote_ident(b, table);
}

void tidm_quote_string(tidm_buf *b, const char *s, size_t n)
{
	size_t i, run = 0;

	tidm_buf_reserve(b, n + 2);
	tidm_buf_putc(b, '\'');
	for (i = 0; i < n; i++) {
		char esc;

		switch (s[i]) {
		case '\0': esc = '0'; break;
		case '\'': esc = '\''; break;
		case '"': esc = '"'; break;
		case '\\': esc = '\\'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\032': esc = 'Z'; break;
		default: continue;
		}
		/* copy the unescaped run before this byte in one append */
		tidm_buf_put(b, s + run, i - run);
		tidm_buf_putc(b, '\\');
		tidm_buf_putc(b, esc);
		run = i + 1;
	}
	tidm_buf_put(b, s + run, n - run);
	tidm_buf_putc(b, '\'');
}

void tidm_quote_hex(tidm_buf *b, const void *p, size_t n)
{
	const unsigned char *u = p;
	size_t i;

	if (n == 0) {
		tidm_buf_puts(b, "''");
		return;
	}
	tidm_buf_reserve(b, 2 * n + 3);
	tidm_buf_puts(b, "X'");
	for (i = 0; i < n; i++) {
		tidm_buf_putc(b, hexdig[u[i] >> 4]);
		tidm_buf_putc(b, hexdig[u[i] & 15]);
	}
	tidm_buf_putc(b, '\'');
}

size_t tidm_literal_split(const char *list, const char **starts, size_t *lens, size_t max)
{
	size_t n = 0;
	const char *p = list;

	while (n < max) {
		const char *e = strchr(p, ',');
		starts[n] = p;
		lens[n] = e ? (size_t)(e - p) : strlen(p);
		n++;
		if (!e)
			break;
		p = e + 1;
	}
	return n;
}
