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

#endif
