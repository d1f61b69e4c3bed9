/*
 * decimal.c - NEWDECIMAL binary to text.
 *
 * Design: the value is at most 30 bytes (DECIMAL(65,30)), so it is copied into a local
 * array, the sign bit is flipped and, for negative values, every byte inverted; then the
 * big-endian groups are read in order (leading partial integer group, full integer groups,
 * full fraction groups, trailing partial fraction group) and printed into a local digit
 * buffer: integer groups zero-padded to 9 digits except the leading one, fraction groups
 * padded to 9 digits and the trailing one to its own digit count. Leading zeros of the
 * integer part are then dropped, keeping one "0". Every group is range-checked (a 4-byte
 * group above 999999999 or a partial group above its 10^k - 1 is corrupt), which also
 * catches most misaligned reads. Nothing is written to `out` before the value is known
 * good.
 */
#include "binlog/decimal.h"

#include <stdio.h>
#include <string.h>

#include "util/err.h"

#define DIG_PER_DEC 9

static const unsigned dig2bytes[DIG_PER_DEC + 1] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
static const uint32_t powers10[DIG_PER_DEC + 1] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
};

size_t tidm_binlog_decimal_bin_size(unsigned precision, unsigned scale)
{
	unsigned intg, intg0, frac0;

	if (precision == 0 || precision > TIDM_BINLOG_DECIMAL_MAX_PRECISION ||
	    scale > TIDM_BINLOG_DECIMAL_MAX_SCALE || scale > precision)
		return 0;
	intg = precision - scale;
	intg0 = intg / DIG_PER_DEC;
	frac0 = scale / DIG_PER_DEC;
	return (size_t)intg0 * 4 + dig2bytes[intg % DIG_PER_DEC] + (size_t)frac0 * 4 +
	       dig2bytes[scale % DIG_PER_DEC];
}

/* Read a big-endian group of `nbytes` (1-4) bytes. */
static uint32_t read_be(const uint8_t *p, unsigned nbytes)
{
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < nbytes; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Append `v` as exactly `width` digits (zero-padded) to dst; returns digits written. */
static size_t put_digits(char *dst, uint32_t v, unsigned width)
{
	unsigned i;

	for (i = width; i > 0; i--) {
		dst[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	return width;
}

int tidm_binlog_decimal_to_text(tidm_buf *out, const uint8_t *p, size_t avail, unsigned precision,
				unsigned scale, size_t *consumed)
{
	uint8_t b[40];
	char digits[TIDM_BINLOG_DECIMAL_MAX_PRECISION + 8];
	size_t size, pos = 0, nd = 0, int_start, int_end;
	unsigned intg, intg0, intg0x, frac0, frac0x, i;
	uint8_t mask;
	int negative, nonzero = 0;

	size = tidm_binlog_decimal_bin_size(precision, scale);
	if (size == 0)
		return tidm_err_set(TIDM_ECORRUPT, "DECIMAL(%u,%u): invalid precision/scale",
				    precision, scale);
	if (p == NULL || avail < size)
		return tidm_err_set(TIDM_ECORRUPT, "DECIMAL(%u,%u): needs %zu bytes, %zu left",
				    precision, scale, size, avail);
	memcpy(b, p, size);
	negative = (b[0] & 0x80) == 0;
	mask = negative ? 0xff : 0x00;
	b[0] ^= 0x80;
	for (i = 0; i < size; i++)
		b[i] ^= mask;

	intg = precision - scale;
	intg0 = intg / DIG_PER_DEC;
	intg0x = intg % DIG_PER_DEC;
	frac0 = scale / DIG_PER_DEC;
	frac0x = scale % DIG_PER_DEC;

	/* Integer part. */
	if (intg0x > 0) {
		uint32_t v = read_be(b + pos, dig2bytes[intg0x]);
		if (v >= powers10[intg0x])
			return tidm_err_set(TIDM_ECORRUPT,
					    "DECIMAL(%u,%u): leading group %u exceeds %u digits",
					    precision, scale, v, intg0x);
		pos += dig2bytes[intg0x];
		nd += put_digits(digits + nd, v, intg0x);
	}
	for (i = 0; i < intg0; i++) {
		uint32_t v = read_be(b + pos, 4);
		if (v >= powers10[DIG_PER_DEC])
			return tidm_err_set(TIDM_ECORRUPT,
					    "DECIMAL(%u,%u): integer group %u at byte %zu is %u",
					    precision, scale, i, pos, v);
		pos += 4;
		nd += put_digits(digits + nd, v, DIG_PER_DEC);
	}
	int_end = nd;
	/* Fraction. */
	for (i = 0; i < frac0; i++) {
		uint32_t v = read_be(b + pos, 4);
		if (v >= powers10[DIG_PER_DEC])
			return tidm_err_set(TIDM_ECORRUPT,
					    "DECIMAL(%u,%u): fraction group %u at byte %zu is %u",
					    precision, scale, i, pos, v);
		pos += 4;
		nd += put_digits(digits + nd, v, DIG_PER_DEC);
	}
	if (frac0x > 0) {
		uint32_t v = read_be(b + pos, dig2bytes[frac0x]);
		if (v >= powers10[frac0x])
			return tidm_err_set(TIDM_ECORRUPT,
					    "DECIMAL(%u,%u): trailing group %u exceeds %u digits",
					    precision, scale, v, frac0x);
		pos += dig2bytes[frac0x];
		nd += put_digits(digits + nd, v, frac0x);
	}

	for (i = 0; i < nd; i++)
		if (digits[i] != '0')
			nonzero = 1;
	int_start = 0;
	while (int_start < int_end && digits[int_start] == '0')
		int_start++;

	tidm_buf_reserve(out, nd + 3);
	if (negative && nonzero)
		tidm_buf_putc(out, '-');
	if (int_start == int_end)
		tidm_buf_putc(out, '0');
	else
		tidm_buf_put(out, digits + int_start, int_end - int_start);
	if (scale > 0) {
		tidm_buf_putc(out, '.');
		tidm_buf_put(out, digits + int_end, nd - int_end);
	}
	if (consumed)
		*consumed = size;
	return 0;
}
