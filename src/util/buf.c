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
	char *o = tidm_buf_grab(b, n);
	if (n)
		memcpy(o, p, n);
	tidm_buf_commit(b, n);
}

void tidm_buf_puts(tidm_buf *b, const char *s) { tidm_buf_put(b, s, strlen(s)); }

void tidm_buf_putc(tidm_buf *b, char c)
{
	char *o = tidm_buf_grab(b, 1);
	*o = c;
	tidm_buf_commit(b, 1);
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

/* "00" "01" ... "99": two digits per division (the usual fast itoa). */
static const char dig2[201] = "00010203040506070809"
			      "10111213141516171819"
			      "20212223242526272829"
			      "30313233343536373839"
			      "40414243444546474849"
			      "50515253545556575859"
			      "60616263646566676869"
			      "70717273747576777879"
			      "80818283848586878889"
			      "90919293949596979899";

/* 1-4 digits of v < 10000, no leading zeros. */
static inline char *fmt_small(char *o, uint32_t v)
{
	if (v < 100) {
		if (v < 10) {
			*o = (char)('0' + v);
			return o + 1;
		}
		memcpy(o, dig2 + 2 * v, 2);
		return o + 2;
	}
	uint32_t hi = v / 100, lo = v % 100;
	if (hi < 10) {
		*o++ = (char)('0' + hi);
	} else {
		memcpy(o, dig2 + 2 * hi, 2);
		o += 2;
	}
	memcpy(o, dig2 + 2 * lo, 2);
	return o + 2;
}

/* Exactly 4 digits of v < 10000. */
static inline char *fmt_4(char *o, uint32_t v)
{
	memcpy(o, dig2 + 2 * (v / 100), 2);
	memcpy(o + 2, dig2 + 2 * (v % 100), 2);
	return o + 4;
}

/* Exactly 8 digits of v < 10^8. */
static inline char *fmt_8(char *o, uint32_t v)
{
	return fmt_4(fmt_4(o, v / 10000), v % 10000);
}

/*
 * Split into groups of 4 and 8 digits by the number's size: a few multiply-shift divisions
 * with short dependency chains, no digit-count pass, no loop.
 */
static char *fmt_u32(char *o, uint32_t v)
{
	if (v < 10000)
		return fmt_small(o, v);
	if (v < 100000000)
		return fmt_4(fmt_small(o, v / 10000), v % 10000);
	return fmt_8(fmt_small(o, v / 100000000), v % 100000000);
}

char *tidm_buf_fmt_u64(char *o, uint64_t v)
{
	if (v <= UINT32_MAX)
		return fmt_u32(o, (uint32_t)v);
	if (v < 10000000000000000ull) /* < 10^16: high part < 10^8 */
		return fmt_8(fmt_u32(o, (uint32_t)(v / 100000000)), (uint32_t)(v % 100000000));
	o = fmt_small(o, (uint32_t)(v / 10000000000000000ull)); /* <= 1844 */
	v %= 10000000000000000ull;
	return fmt_8(fmt_8(o, (uint32_t)(v / 100000000)), (uint32_t)(v % 100000000));
}

void tidm_buf_put_u64(tidm_buf *b, uint64_t v)
{
	char *o = tidm_buf_grab(b, TIDM_BUF_I64_MAX);
	tidm_buf_commit(b, (size_t)(tidm_buf_fmt_u64(o, v) - o));
}

void tidm_buf_put_i64(tidm_buf *b, int64_t v)
{
	char *o = tidm_buf_grab(b, TIDM_BUF_I64_MAX);
	tidm_buf_commit(b, (size_t)(tidm_buf_fmt_i64(o, v) - o));
}

/* The escape of an ASCII byte that needs one (c < 0x20, '"', '\\'); returns the end. */
static char *json_escape(char *o, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	o[0] = '\\';
	switch (c) {
	case '"':
	case '\\':
		o[1] = (char)c;
		return o + 2;
	case '\n':
		o[1] = 'n';
		return o + 2;
	case '\r':
		o[1] = 'r';
		return o + 2;
	case '\t':
		o[1] = 't';
		return o + 2;
	default:
		memcpy(o + 1, "u00", 3);
		o[4] = hex[c >> 4];
		o[5] = hex[c & 15];
		return o + 6;
	}
}

/* Copy 1..15 bytes with overlapping fixed-size moves (no memcpy call for short runs). */
static inline void copy_short(char *o, const uint8_t *p, size_t n)
{
	if (n >= 8) {
		uint64_t x, y;
		memcpy(&x, p, 8);
		memcpy(&y, p + n - 8, 8);
		memcpy(o, &x, 8);
		memcpy(o + n - 8, &y, 8);
	} else if (n >= 4) {
		uint32_t x, y;
		memcpy(&x, p, 4);
		memcpy(&y, p + n - 4, 4);
		memcpy(o, &x, 4);
		memcpy(o + n - 4, &y, 4);
	} else if (n > 0) {
		o[0] = (char)p[0];
		o[n / 2] = (char)p[n / 2];
		o[n - 1] = (char)p[n - 1];
	}
}

#if defined(__SSE2__)
#include <emmintrin.h>
/*
 * Bit k set when byte k of the 16 at p needs attention: < 0x20, '"', '\\' or >= 0x80 (a signed
 * compare with 0x20 flags both ends).
 */
static inline unsigned json_special16(const uint8_t *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i x = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
				 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
					      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
	return (unsigned)_mm_movemask_epi8(x);
}
#define JSON_BLOCK 16
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * The same for 8 bytes, in a little-endian word (SWAR): the high bit of every flagged byte.
 * Borrows can also flag bytes after a flagged one, never before it, so the lowest set bit is
 * always exact.
 */
static inline unsigned json_special8(const uint8_t *p)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t w, q, bs, m;
	memcpy(&w, p, 8);
	q = w ^ (ones * '"');
	bs = w ^ (ones * '\\');
	m = (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs) | w) & high;
	/* one bit per byte, as movemask would: bit k for byte k */
	return (unsigned)(((m >> 7) * 0x0102040810204080ull) >> 56);
}
#define JSON_BLOCK 8
#endif

/* 0: copy as is; 1: escape; 2: not ASCII */
static const uint8_t json_class[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2,
};

/*
 * Design: the input is scanned a block (16 bytes with SSE2, else 8) at a time; a clean block
 * is stored whole (room for the worst case, 6 output bytes per input byte, is reserved per
 * 4 KiB chunk, so the store may run ahead of the committed length). The last partial block
 * of a chunk is checked with an overlapping load that ends at the chunk's end and, when
 * clean, copied with overlapping moves; otherwise bytes go one by one through json_class.
 */
size_t tidm_buf_put_json_ascii(tidm_buf *b, const void *src, size_t n)
{
	const uint8_t *p = src;
	size_t i = 0;

	if (n < 16) { /* names and short values: straight to the byte loop */
		char *o0 = tidm_buf_grab(b, 6 * n), *o = o0;
		for (; i < n; i++) {
			uint8_t c = p[i], k = json_class[c];
			if (k == 0)
				*o++ = (char)c;
			else if (k == 1)
				o = json_escape(o, c);
			else
				break;
		}
		tidm_buf_commit(b, (size_t)(o - o0));
		return i;
	}
	while (i < n) {
		size_t end = n - i > 4096 ? i + 4096 : n;
		char *o0 = tidm_buf_grab(b, 6 * (end - i)), *o = o0;
#ifdef JSON_BLOCK
#if JSON_BLOCK == 16
		while (end - i >= 32) { /* two blocks per round: one test and branch for 32 bytes */
			unsigned m = json_special16(p + i) | json_special16(p + i + 16) << 16;
			memcpy(o, p + i, 32); /* room: >= 6 * 32 bytes reserved */
			if (!m) {
				i += 32;
				o += 32;
				continue;
			}
			unsigned k = (unsigned)__builtin_ctz(m);
			i += k;
			o += k;
			if (p[i] >= 0x80) {
				tidm_buf_commit(b, (size_t)(o - o0));
				return i;
			}
			o = json_escape(o, p[i++]);
		}
#endif
		while (end - i >= JSON_BLOCK) {
			unsigned m;
#if JSON_BLOCK == 16
			m = json_special16(p + i);
#else
			m = json_special8(p + i);
#endif
			memcpy(o, p + i, JSON_BLOCK); /* room: >= 6 * JSON_BLOCK bytes reserved */
			if (!m) {
				i += JSON_BLOCK;
				o += JSON_BLOCK;
				continue;
			}
			unsigned k = (unsigned)__builtin_ctz(m);
			i += k;
			o += k;
			if (p[i] >= 0x80) {
				tidm_buf_commit(b, (size_t)(o - o0));
				return i;
			}
			o = json_escape(o, p[i++]);
		}
		if (i < end && end >= JSON_BLOCK) {
			size_t rem = end - i;
#if JSON_BLOCK == 16
			unsigned m = json_special16(p + end - 16) >> (16 - rem);
#else
			unsigned m = json_special8(p + end - 8) >> (8 - rem);
#endif
			if (!m) {
				copy_short(o, p + i, rem);
				o += rem;
				i = end;
			}
		}
#endif
		for (; i < end; i++) {
			uint8_t c = p[i];
			switch (json_class[c]) {
			case 0:
				*o++ = (char)c;
				break;
			case 1:
				o = json_escape(o, c);
				break;
			default:
				tidm_buf_commit(b, (size_t)(o - o0));
				return i;
			}
		}
		tidm_buf_commit(b, (size_t)(o - o0));
	}
	return n;
}

char *tidm_buf_detach(tidm_buf *b)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	tidm_buf_init(b);
	return p;
}
