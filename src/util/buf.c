/*
 * buf.c - growable byte buffer. See buf.h.
 */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tidm_buf_init(tidm_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void tidm_buf_dispose(tidm_buf *b)
{
	free(b->data);
	tidm_buf_init(b);
}

void tidm_buf_reserve(tidm_buf *b, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX - b->len - 1)
		abort();
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = realloc(b->data, cap);
	if (!b->data) {
		fputs("tidm: out of memory\n", stderr);
		abort();
	}
	b->cap = cap;
}

void tidm_buf_clear(tidm_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void tidm_buf_truncate(tidm_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

void tidm_buf_put(tidm_buf *b, const void *p, size_t n)
{
	tidm_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void tidm_buf_puts(tidm_buf *b, const char *s) { tidm_buf_put(b, s, strlen(s)); }

void tidm_buf_putc(tidm_buf *b, char c)
{
	tidm_buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void tidm_buf_vprintf(tidm_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	tidm_buf_reserve(b, 64);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		tidm_buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	}
	va_end(ap2);
	b->len += (size_t)n;
}

void tidm_buf_printf(tidm_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tidm_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void tidm_buf_put_u64(tidm_buf *b, uint64_t v)
{
	char tmp[24];
	int i = (int)sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	tidm_buf_put(b, tmp + i, sizeof(tmp) - (size_t)i);
}

void tidm_buf_put_i64(tidm_buf *b, int64_t v)
{
	if (v < 0) {
		tidm_buf_putc(b, '-');
		tidm_buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		tidm_buf_put_u64(b, (uint64_t)v);
	}
}

char *tidm_buf_detach(tidm_buf *b)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	tidm_buf_init(b);
	return p;
}
