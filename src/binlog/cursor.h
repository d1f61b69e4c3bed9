/*
 * cursor.h - bounds-checked little/big-endian reads over a byte range.
 *
 * A tidm_binlog_cursor is a pair of pointers (p, end) into bytes the caller owns. Every
 * read checks the remaining length first and never moves p past end. The reads return
 * true on success and false when the bytes are short; the caller decides whether "short"
 * means TIDM_EAGAIN (a stream that may grow) or TIDM_ECORRUPT (a complete event whose
 * declared size leaves no room). Everything is static inline: these are the innermost
 * loops of row decoding and must compile to a compare and a load.
 *
 * Threads: a cursor is caller storage; no shared state.
 */
#ifndef TIDM_BINLOG_CURSOR_H
#define TIDM_BINLOG_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct tidm_binlog_cursor {
	const uint8_t *p;
	const uint8_t *end;
} tidm_binlog_cursor;

static inline void tidm_binlog_cursor_init(tidm_binlog_cursor *c, const void *p, size_t n)
{
	c->p = (const uint8_t *)p;
	c->end = c->p + n;
}

static inline size_t tidm_binlog_cursor_left(const tidm_binlog_cursor *c)
{
	return (size_t)(c->end - c->p);
}

static inline bool tidm_binlog_cursor_skip(tidm_binlog_cursor *c, size_t n)
{
	if (tidm_binlog_cursor_left(c) < n)
		return false;
	c->p += n;
	return true;
}

/* Borrow n bytes: *out points into the cursor's bytes. */
static inline bool tidm_binlog_cursor_bytes(tidm_binlog_cursor *c, size_t n, const uint8_t **out)
{
	if (tidm_binlog_cursor_left(c) < n)
		return false;
	*out = c->p;
	c->p += n;
	return true;
}

/* Unsigned little-endian integer of n (1..8) bytes. */
static inline uint64_t tidm_binlog_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i > 0; i--)
		v = (v << 8) | p[i - 1];
	return v;
}

/* Unsigned big-endian integer of n (1..8) bytes. */
static inline uint64_t tidm_binlog_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline bool tidm_binlog_cursor_le(tidm_binlog_cursor *c, unsigned n, uint64_t *out)
{
	if (tidm_binlog_cursor_left(c) < n)
		return false;
	*out = tidm_binlog_le(c->p, n);
	c->p += n;
	return true;
}

static inline bool tidm_binlog_cursor_u8(tidm_binlog_cursor *c, uint8_t *out)
{
	if (c->p >= c->end)
		return false;
	*out = *c->p++;
	return true;
}

static inline bool tidm_binlog_cursor_u16(tidm_binlog_cursor *c, uint16_t *out)
{
	uint64_t v;
	if (!tidm_binlog_cursor_le(c, 2, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

static inline bool tidm_binlog_cursor_u32(tidm_binlog_cursor *c, uint32_t *out)
{
	uint64_t v;
	if (!tidm_binlog_cursor_le(c, 4, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static inline bool tidm_binlog_cursor_u64(tidm_binlog_cursor *c, uint64_t *out)
{
	return tidm_binlog_cursor_le(c, 8, out);
}

/*
 * MySQL length-encoded integer: < 0xfb one byte; 0xfc + 2; 0xfd + 3; 0xfe + 8.
 * 0xfb (NULL marker) and 0xff are invalid here and fail like a short read.
 */
static inline bool tidm_binlog_cursor_lenenc(tidm_binlog_cursor *c, uint64_t *out)
{
	uint8_t b;
	if (!tidm_binlog_cursor_u8(c, &b))
		return false;
	if (b < 0xfb) {
		*out = b;
		return true;
	}
	switch (b) {
	case 0xfc:
		return tidm_binlog_cursor_le(c, 2, out);
	case 0xfd:
		return tidm_binlog_cursor_le(c, 3, out);
	case 0xfe:
		return tidm_binlog_cursor_le(c, 8, out);
	default:
		return false;
	}
}

/* A lenenc length followed by that many bytes, borrowed. */
static inline bool tidm_binlog_cursor_lenenc_bytes(tidm_binlog_cursor *c, const uint8_t **out,
						   size_t *n)
{
	uint64_t len;
	tidm_binlog_cursor save = *c;
	if (!tidm_binlog_cursor_lenenc(c, &len) || len > tidm_binlog_cursor_left(c)) {
		*c = save;
		return false;
	}
	*n = (size_t)len;
	*out = c->p;
	c->p += len;
	return true;
}

#endif
