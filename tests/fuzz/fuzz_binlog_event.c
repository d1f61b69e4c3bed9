/*
 * fuzz_binlog_event.c - libFuzzer entry: event buffers as they arrive from a replication
 * stream, through tidm_binlog_decoder_decode() with a fixed FORMAT_DESCRIPTION already
 * applied (a MySQL 8.0.31 FDE or a MariaDB 10.5 FDE, both real, from the fixtures).
 *
 * Input: byte 0 = flags (bit 0: MariaDB FDE instead of MySQL; bit 1: events carry a CRC32
 * that is stripped but not verified, else TIDM_BINLOG_DECODE_NO_CRC), then one or more
 * events back to back. Each event is framed by its header's event_size, clamped to the
 * bytes left and written back into a private copy so the decoder sees a consistent size;
 * a stream of several events lets a TABLE_MAP feed the rows event after it, as in a real
 * dump. Rows are iterated and every value converted to JSON text; TRANSACTION_PAYLOAD
 * events are expanded. At most 64 events per input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binlog/event.h"
#include "binlog/rows.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FDE of rust mysql-binlog-connector-rust mysql-bin.000057 (MySQL 8.0.31, CRC32). */
static const uint8_t fde_mysql[] = {
#include "fde_mysql.inc"
};
/* FDE of rust_mysql_common mariadb-bin.000001 (MariaDB 10.5.15, CRC32). */
static const uint8_t fde_mariadb[] = {
#include "fde_mariadb.inc"
};

#include "fuzz_rows.inc"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tidm_binlog_decoder *dec;
	tidm_binlog_event ev;
	tidm_buf scratch = TIDM_BUF_INIT;
	const uint8_t *fde;
	size_t fde_len, off = 1;
	unsigned flags, n = 0;
	uint8_t *copy;

	if (size < 1 || size > (1u << 20))
		return 0;
	dec = tidm_binlog_decoder_new();
	if (!dec)
		return 0;
	fde = (data[0] & 1) ? fde_mariadb : fde_mysql;
	fde_len = (data[0] & 1) ? sizeof(fde_mariadb) : sizeof(fde_mysql);
	if (tidm_binlog_decoder_decode(dec, &ev, fde, fde_len, 0) != 0)
		abort(); /* the fixed FDE must always decode */
	flags = TIDM_BINLOG_DECODE_NO_VERIFY | ((data[0] & 2) ? 0 : TIDM_BINLOG_DECODE_NO_CRC);
	copy = malloc(size);
	if (!copy) {
		tidm_binlog_decoder_free(dec);
		return 0;
	}
	memcpy(copy, data, size);
	while (size - off >= TIDM_BINLOG_HEADER_LEN && n++ < 64) {
		uint8_t *p = copy + off;
		size_t len = (size_t)p[9] | (size_t)p[10] << 8 | (size_t)p[11] << 16 | (size_t)p[12] << 24;
		if (len < TIDM_BINLOG_HEADER_LEN || len > size - off)
			len = size - off;
		p[9] = (uint8_t)len;
		p[10] = (uint8_t)(len >> 8);
		p[11] = (uint8_t)(len >> 16);
		p[12] = (uint8_t)(len >> 24);
		if (tidm_binlog_decoder_decode(dec, &ev, p, len, flags) == 0) {
			fuzz_walk_rows(dec, &ev, &scratch);
			if (ev.hdr.type == TIDM_BINLOG_TRANSACTION_PAYLOAD &&
			    tidm_binlog_decoder_payload_begin(dec, &ev) == 0) {
				tidm_binlog_event inner;
				while (tidm_binlog_decoder_payload_next(dec, &inner) == 1)
					fuzz_walk_rows(dec, &inner, &scratch);
			}
		}
		tidm_buf_clear(&scratch);
		off += len;
	}
	tidm_buf_dispose(&scratch);
	free(copy);
	tidm_binlog_decoder_free(dec);
	return 0;
}
