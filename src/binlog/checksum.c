/*
 * checksum.c - CRC32 (the zlib/gzip polynomial) of binlog events.
 *
 * Design: every event of a CRC32 binlog is checksummed, so this is the single hottest loop of
 * decoding (over half the time with zlib's table-driven crc32). On x86-64 CPUs with PCLMULQDQ
 * the bulk of the buffer is folded 64 bytes at a time with carry-less multiplications (the
 * method of Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ", with the
 * standard folding constants of the reflected 0x04C11DB7 polynomial; buffers of 16-63 bytes
 * fold 16 bytes at a time in one lane), then Barrett-reduced; the tail (< 16 bytes) goes a
 * byte at a time through zlib's table (most events are small: a call into zlib costs more
 * than the bytes), and other CPUs use zlib. The CPU check runs once. Unit tests compare
 * both paths with zlib on every length and alignment up to a few hundred bytes.
 */
#include <stdint.h>
#include <zlib.h>

#include "binlog/event.h"

static uint32_t crc32_zlib(uint32_t crc, const uint8_t *p, size_t n)
{
	/* zlib takes uInt lengths: feed large buffers in chunks */
	while (n > 0) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		crc = (uint32_t)crc32(crc, p, k);
		p += k;
		n -= k;
	}
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* Short tails (< 16 bytes): a byte at a time with zlib's table, without a call into zlib. */
static uint32_t crc32_bytes(uint32_t crc, const uint8_t *p, size_t n)
{
	const z_crc_t *t = get_crc_table();
	crc = ~crc;
	while (n--)
		crc = (uint32_t)t[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#define CLMUL_MIN 16

/* Fold len bytes (len >= 16, multiple of 16) into the un-inverted CRC state crc. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc32_clmul(uint32_t crc,
									const uint8_t *buf,
									size_t len)
{
	const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596LL, 0x0154442bd4LL);
	const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL);
	const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124LL);
	const __m128i poly = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL);
	const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
	__m128i x0, x1, x2, x3, x4, x5, x6, x7, x8;

	if (len < 64) { /* one lane: fold 16-byte blocks into the first one */
		x1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)buf),
				   _mm_cvtsi32_si128((int)crc));
		x0 = k3k4;
		buf += 16;
		len -= 16;
		goto fold16;
	}
	x1 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x00));
	x2 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x10));
	x3 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x20));
	x4 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x30));
	x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
	x0 = k1k2;
	buf += 64;
	len -= 64;

	while (len >= 64) { /* four lanes, 64 bytes per round */
		x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
		x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
		x7 = _mm_clmulepi64_si128(x3, x0, 0x00);
		x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
		x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
		x2 = _mm_clmulepi64_si128(x2, x0, 0x11);
		x3 = _mm_clmulepi64_si128(x3, x0, 0x11);
		x4 = _mm_clmulepi64_si128(x4, x0, 0x11);
		x1 = _mm_xor_si128(_mm_xor_si128(x1, x5),
				   _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x00)));
		x2 = _mm_xor_si128(_mm_xor_si128(x2, x6),
				   _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x10)));
		x3 = _mm_xor_si128(_mm_xor_si128(x3, x7),
				   _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x20)));
		x4 = _mm_xor_si128(_mm_xor_si128(x4, x8),
				   _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x30)));
		buf += 64;
		len -= 64;
	}

	/* fold the four lanes into one */
	x0 = k3k4;
	x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
	x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
	x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
	x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
	x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
	x1 = _mm_xor_si128(_mm_xor_si128(x1, x3), x5);
	x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
	x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
	x1 = _mm_xor_si128(_mm_xor_si128(x1, x4), x5);

fold16:
	while (len >= 16) { /* remaining 16-byte blocks */
		x2 = _mm_loadu_si128((const __m128i *)(const void *)buf);
		x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
		x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
		x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
		buf += 16;
		len -= 16;
	}

	/* 128 -> 64 bits */
	x2 = _mm_clmulepi64_si128(x1, x0, 0x10);
	x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
	x0 = k5k0;
	x2 = _mm_srli_si128(x1, 4);
	x1 = _mm_and_si128(x1, mask32);
	x1 = _mm_clmulepi64_si128(x1, x0, 0x00);
	x1 = _mm_xor_si128(x1, x2);

	/* Barrett reduction to 32 bits */
	x0 = poly;
	x2 = _mm_and_si128(x1, mask32);
	x2 = _mm_clmulepi64_si128(x2, x0, 0x10);
	x2 = _mm_and_si128(x2, mask32);
	x2 = _mm_clmulepi64_si128(x2, x0, 0x00);
	x1 = _mm_xor_si128(x1, x2);
	return (uint32_t)_mm_extract_epi32(x1, 1);
}

static int have_clmul = -1;

uint32_t tidm_binlog_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	if (have_clmul < 0) {
		__builtin_cpu_init();
		have_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
	}
	if (have_clmul && n >= CLMUL_MIN) {
		size_t bulk = n & ~(size_t)15;
		crc = ~crc32_clmul(~crc, p, bulk);
		p += bulk;
		n -= bulk;
	}
	if (n >= 16)
		return crc32_zlib(crc, p, n);
	return crc32_bytes(crc, p, n);
}

void tidm_binlog_crc32_force(int clmul) { have_clmul = clmul; }

#else

uint32_t tidm_binlog_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	return crc32_zlib(crc, p, n);
}

void tidm_binlog_crc32_force(int clmul) { (void)clmul; }

#endif
