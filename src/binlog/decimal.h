/*
 * decimal.h - MySQL NEWDECIMAL binary (row images, JSON opaque DECIMAL) to exact text.
 *
 * Layout (binlog-protocol.md section 4.1, MySQL strings/decimal.cc decimal2bin): integer
 * digits = precision - scale; groups of 9 digits in 4 bytes big-endian, partial groups of k
 * digits in {0,1,1,2,2,3,3,4,4,4}[k] bytes; sign in bit 7 of byte 0 (1 = positive), negative
 * values stored with every byte inverted.
 *
 * Threads: pure functions, safe anywhere. Errors set tidm_err (thread-local).
 */
#ifndef TIDM_BINLOG_DECIMAL_H
#define TIDM_BINLOG_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Largest precision MySQL allows (DECIMAL(65,30)). */
#define TIDM_BINLOG_DECIMAL_MAX_PRECISION 65
#define TIDM_BINLOG_DECIMAL_MAX_SCALE 30

/*
 * Bytes taken by a DECIMAL(precision, scale) value; 0 when precision/scale are invalid
 * (precision 0 or > 65, scale > 30 or scale > precision).
 */
size_t tidm_binlog_decimal_bin_size(unsigned precision, unsigned scale);

/*
 * Append the text of the NEWDECIMAL value at p (avail bytes readable) to `out`, the way
 * MySQL prints it: optional '-', integer part without leading zeros ("0" when it is zero),
 * then '.' and exactly `scale` digits when scale > 0 ("-0.50", "12345.678900", "0").
 * A negative zero prints without sign (MySQL never shows "-0").
 * *consumed (may be NULL) receives the value's byte size.
 * Returns 0; TIDM_EAGAIN never; TIDM_ECORRUPT when avail is short of the size, when
 * precision/scale are invalid, or when a 9-digit group holds a value above 999999999
 * (message names the group). `out` is untouched on error.
 */
int tidm_binlog_decimal_to_text(tidm_buf *out, const uint8_t *p, size_t avail, unsigned precision,
				unsigned scale, size_t *consumed);

#endif
