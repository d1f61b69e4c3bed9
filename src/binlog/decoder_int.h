/*
 * decoder_int.h - private layout of tidm_binlog_decoder, shared by event.c, tablemap.c,
 * rows.c and decoder.c (which dispatches to the others; event.c does not call rows.c).
 * Not part of the API: include only from the .c files of src/binlog.
 */
#ifndef TIDM_BINLOG_DECODER_INT_H
#define TIDM_BINLOG_DECODER_INT_H

#include "binlog/event.h"

/* One cached TABLE_MAP: the table plus the memory its pointers refer to. */
typedef struct tm_entry {
	tidm_binlog_table t;
	uint8_t *raw; /* copy of the TABLE_MAP body (after the table id), for the fast compare */
	size_t raw_len;
	char *pool; /* NUL-terminated strings (db, table, column names, enum/set strings) */
	const char **strs;
	uint32_t *strs_len;
	uint16_t *pk;
} tm_entry;

struct tidm_binlog_decoder {
	tidm_binlog_fde fde;
	bool have_fde;
	uint8_t checksum_alg;
	uint8_t post_header[256]; /* by event type */

	/* table-map cache: open addressing on table id, power-of-two capacity */
	tm_entry **slots;
	size_t nslots, nused;

	/* row values, reused: before and after images, vals_cap columns each */
	tidm_binlog_value *vals;
	unsigned vals_cap;
	tidm_buf json_text; /* JSON_TEXT results of the current row */

	tidm_buf scratch; /* decompressed MariaDB QUERY text / rows part */

	/* TRANSACTION_PAYLOAD */
	uint8_t *pl_buf;
	size_t pl_cap, pl_len, pl_off;
	struct ZSTD_DCtx_s *zs; /* reused zstd stream (ZSTD_DStream) */
};

/* tablemap.c: parse a TABLE_MAP body into the cache; *out borrowed from the cache. */
int tidm_binlog_tablemap_decode(tidm_binlog_decoder *d, const uint8_t *body, size_t len,
				const tidm_binlog_table **out);
const tidm_binlog_table *tidm_binlog_tablemap_find(const tidm_binlog_decoder *d, uint64_t id);
void tidm_binlog_tablemap_clear(tidm_binlog_decoder *d);

/* rows.c: frame a rows event body. */
int tidm_binlog_rows_frame(tidm_binlog_decoder *d, tidm_binlog_event *ev);

/* event.c: the FORMAT_DESCRIPTION event (it sets the decoder's checksum and post-header
 * lengths); the body of any event that is neither a rows event nor a TABLE_MAP... */
int tidm_binlog_fde_decode(tidm_binlog_decoder *d, tidm_binlog_event *ev, const uint8_t *p, size_t n,
			   unsigned flags);
/* ...nor FORMAT_DESCRIPTION (decoder.c dispatches those). */
int tidm_binlog_event_body(tidm_binlog_decoder *d, tidm_binlog_event *ev);

/* event.c: MariaDB compressed block (binlog-protocol.md 3.16) into d->scratch. */
int tidm_binlog_maria_uncompress(tidm_binlog_decoder *d, const uint8_t *p, size_t n);

#endif
