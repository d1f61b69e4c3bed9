/*
 * fuzz_binlog_file.c - libFuzzer entry: a whole binlog file image (magic + events) through
 * the file reader (binlog/file.c) and everything a `tidm binlog decode` run touches: each
 * event is decoded; rows events have every row and value converted to JSON text (DECIMAL,
 * JSON, temporal formatting included); TRANSACTION_PAYLOAD events are decompressed and
 * their inner events decoded the same way; PREVIOUS_GTIDS bodies go through
 * tidm_gtid_set_decode_mysql.
 *
 * CRC fix-up: mutated bytes would almost always fail the CRC32 check and stop the reader at
 * the first event, so when the first event is an FDE whose checksum-algorithm byte (the
 * byte before its CRC) says CRC32, the target recomputes the CRC of every event it can
 * frame in a private copy before reading. Inputs whose FDE says "no checksum" are read
 * as they are. Errors are expected; crashes, sanitizer reports and leaks are the findings.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binlog/event.h"
#include "binlog/file.h"
#include "binlog/rows.h"
#include "util/buf.h"
#include "util/gtid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fix_crcs(uint8_t *p, size_t n)
{
	size_t off = 4;
	uint32_t size;

	if (n < 4 + 19 || p[4 + 4] != TIDM_BINLOG_FORMAT_DESCRIPTION)
		return;
	size = le32(p + 4 + 9);
	if (size < 19 + 5 || size > n - 4 || p[4 + size - 5] != TIDM_BINLOG_CSUM_CRC32)
		return;
	while (n - off >= 19) {
		uint32_t crc;
		size = le32(p + off + 9);
		if (size < 19 + 4 || size > n - off)
			break;
		crc = tidm_binlog_crc32(0, p + off, size - 4);
		p[off + size - 4] = (uint8_t)crc;
		p[off + size - 3] = (uint8_t)(crc >> 8);
		p[off + size - 2] = (uint8_t)(crc >> 16);
		p[off + size - 1] = (uint8_t)(crc >> 24);
		off += size;
	}
}

#include "fuzz_rows.inc"

static void use_event(tidm_binlog_decoder *dec, const tidm_binlog_event *ev, tidm_buf *scratch)
{
	if (ev->unsupported)
		return;
	switch (ev->hdr.type) {
	case TIDM_BINLOG_PREVIOUS_GTIDS: {
		tidm_gtid_set s;
		tidm_gtid_set_init(&s, TIDM_GTID_MYSQL);
		if (tidm_gtid_set_decode_mysql(&s, ev->u.previous_gtids.data, ev->u.previous_gtids.len) == 0)
			tidm_gtid_set_format(&s, scratch);
		tidm_gtid_set_dispose(&s);
		break;
	}
	default:
		fuzz_walk_rows(dec, ev, scratch);
		break;
	}
	tidm_buf_clear(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tidm_binlog_file *f = NULL;
	tidm_binlog_event ev;
	tidm_buf scratch = TIDM_BUF_INIT;
	uint8_t *copy;
	int rc;

	if (size > (1u << 20))
		return 0;
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	fix_crcs(copy, size);
	if (tidm_binlog_file_open_mem(&f, copy, size) == 0) {
		tidm_binlog_decoder *dec = tidm_binlog_file_decoder(f);
		while ((rc = tidm_binlog_file_next(f, &ev)) == 1) {
			use_event(dec, &ev, &scratch);
			if (ev.hdr.type == TIDM_BINLOG_TRANSACTION_PAYLOAD &&
			    tidm_binlog_decoder_payload_begin(dec, &ev) == 0) {
				tidm_binlog_event inner;
				while (tidm_binlog_decoder_payload_next(dec, &inner) == 1)
					use_event(dec, &inner, &scratch);
			}
		}
		tidm_binlog_file_close(f);
	}
	tidm_buf_dispose(&scratch);
	free(copy);
	return 0;
}
