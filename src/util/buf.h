/*
 * buf.h - the one growable byte buffer of tidm.
 *
 * A tidm_buf is caller storage: tidm_buf_init() / tidm_buf_dispose(). Its data is always
 * NUL-terminated (not counted in len) so it can be used as a C string. Appends grow the
 * buffer geometrically; on allocation failure the process aborts (out of memory is not
 * a recoverable condition for a migration tool, and every caller would do the same).
 * Pointers into data are invalidated by any append.
 */
#ifndef TIDM_UTIL_BUF_H
#define TIDM_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct tidm_buf {
	char *data;
	size_t len;
	size_t cap;
} tidm_buf;

#define TIDM_BUF_INIT {NULL, 0, 0}

void tidm_buf_init(tidm_buf *b);
void tidm_buf_dispose(tidm_buf *b);
/* Ensure room for `extra` more bytes (plus the NUL). */
void tidm_buf_reserve(tidm_buf *b, size_t extra);
void tidm_buf_clear(tidm_buf *b); /* len = 0, keeps memory */
void tidm_buf_truncate(tidm_buf *b, size_t len);
void tidm_buf_put(tidm_buf *b, const void *p, size_t n);
void tidm_buf_puts(tidm_buf *b, const char *s);
void tidm_buf_putc(tidm_buf *b, char c);
void tidm_buf_printf(tidm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tidm_buf_vprintf(tidm_buf *b, const char *fmt, va_list ap);
void tidm_buf_put_u64(tidm_buf *b, uint64_t v); /* decimal */
void tidm_buf_put_i64(tidm_buf *b, int64_t v);  /* decimal */
/* Move the contents out as a malloc'd string; the buffer is left empty. */
char *tidm_buf_detach(tidm_buf *b);

/*
 * Fast appends for hot output paths (binlog decode writes hundreds of MB of JSON).
 *
 * tidm_buf_grab() makes room for `extra` more bytes (plus the NUL) and returns where they go;
 * write at most `extra` bytes there, then tidm_buf_commit() the number written, which also
 * restores the NUL. Between the two calls the data is not NUL-terminated, and any other append
 * invalidates the returned pointer.
 */
static inline char *tidm_buf_grab(tidm_buf *b, size_t extra)
{
	if (b->cap - b->len <= extra)
		tidm_buf_reserve(b, extra);
	return b->data + b->len;
}

static inline void tidm_buf_commit(tidm_buf *b, size_t n)
{
	b->len += n;
	b->data[b->len] = '\0';
}

/* tidm_buf_putc(), inline for hot loops. */
static inline void tidm_buf_putc_fast(tidm_buf *b, char c)
{
	char *o = tidm_buf_grab(b, 1);
	*o = c;
	tidm_buf_commit(b, 1);
}

/* tidm_buf_put(), inline: with a constant n the copy compiles to a few moves. */
static inline void tidm_buf_put_fast(tidm_buf *b, const void *p, size_t n)
{
	char *o = tidm_buf_grab(b, n);
	memcpy(o, p, n);
	tidm_buf_commit(b, n);
}

/* Longest output of tidm_buf_fmt_u64() / tidm_buf_fmt_i64(). */
#define TIDM_BUF_I64_MAX 20

/* Write v in decimal at o (no NUL); return the end. */
char *tidm_buf_fmt_u64(char *o, uint64_t v);
static inline char *tidm_buf_fmt_i64(char *o, int64_t v)
{
	if (v < 0) {
		*o++ = '-';
		return tidm_buf_fmt_u64(o, (uint64_t)0 - (uint64_t)v);
	}
	return tidm_buf_fmt_u64(o, (uint64_t)v);
}

/*
 * Append the bytes p[0..n) as the body of a JSON string (no quotes) for as long as they are
 * ASCII: '"' and '\\' are escaped, \n \r \t as such, other bytes below 0x20 as \u00xx, all else
 * copied. Stops at the first byte >= 0x80 and returns its index (n when there is none), so the
 * caller applies its own policy to non-ASCII bytes and calls again after them.
 */
size_t tidm_buf_put_json_ascii(tidm_buf *b, const void *p, size_t n);

#endif
