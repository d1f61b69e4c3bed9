/*
 * decoder.c - tidm_binlog_decoder_decode() and the TRANSACTION_PAYLOAD reader (event.h).
 *
 * DESIGN
 *  The top of the decoder: checks an event's framing (header size, CRC32), then hands the
 *  body to the part that knows it - rows.c frames rows events, event.c decodes every
 *  other kind (FDE, QUERY, GTID, ...). Keeping this dispatch here lets rows.c build on
 *  event.c's helpers without event.c knowing rows.c: the dependency points one way.
 *  A TRANSACTION_PAYLOAD (MySQL 8 compressed transaction) is decompressed once into the
 *  decoder's buffer, growing toward its declared size only as the data really
 *  decompresses, and its inner events are then decoded in turn from that buffer.
 */
#include "binlog/event.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "binlog/cursor.h"
#include "binlog/decoder_int.h"
#include "util/err.h"

static const char *tname(unsigned type)
{
	const char *n = tidm_binlog_type_name(type);
	return n ? n : "UNKNOWN";
}

int tidm_binlog_decoder_decode(tidm_binlog_decoder *d, tidm_binlog_event *out, const uint8_t *p,
			       size_t n, unsigned flags)
{
	memset(out, 0, sizeof(*out));
	if (n < TIDM_BINLOG_HEADER_LEN)
		return tidm_err_set(TIDM_ECORRUPT, "event shorter than its 19-byte header");
	(void)tidm_binlog_header_parse(&out->hdr, p, n);
	if (out->hdr.event_size != n)
		return tidm_err_set(TIDM_ECORRUPT, "%s event: header says %u bytes, have %zu",
				    tname(out->hdr.type), out->hdr.event_size, n);
	out->raw = p;
	out->raw_len = n;
	out->body = p + TIDM_BINLOG_HEADER_LEN;
	out->body_len = n - TIDM_BINLOG_HEADER_LEN;
	if (out->hdr.type == TIDM_BINLOG_FORMAT_DESCRIPTION)
		return tidm_binlog_fde_decode(d, out, p, n, flags);
	if (!(flags & TIDM_BINLOG_DECODE_NO_CRC) && d->checksum_alg == TIDM_BINLOG_CSUM_CRC32) {
		if (out->body_len < 4)
			return tidm_err_set(TIDM_ECORRUPT, "%s event: no room for its CRC32",
					    tname(out->hdr.type));
		out->body_len -= 4;
		if (!(flags & TIDM_BINLOG_DECODE_NO_VERIFY)) {
			uint32_t want = (uint32_t)tidm_binlog_le(p + n - 4, 4);
			uint32_t got = tidm_binlog_crc32(0, p, n - 4);
			if (got != want)
				return tidm_err_set(TIDM_ECORRUPT,
						    "%s event: CRC32 mismatch (stored %08x, computed %08x)",
						    tname(out->hdr.type), want, got);
		}
	}
	if (tidm_binlog_is_rows_event(out->hdr.type))
		return tidm_binlog_rows_frame(d, out);
	return tidm_binlog_event_body(d, out);
}

int tidm_binlog_decoder_payload_begin(tidm_binlog_decoder *d, const tidm_binlog_event *ev)
{
	const tidm_binlog_payload *pl = &ev->u.payload;
	size_t want;

	d->pl_len = d->pl_off = 0;
	if (ev->hdr.type != TIDM_BINLOG_TRANSACTION_PAYLOAD)
		return tidm_err_set(TIDM_EINVAL, "not a TRANSACTION_PAYLOAD event");
	if (pl->uncompressed_size > TIDM_BINLOG_MAX_DECOMPRESSED)
		return tidm_err_set(TIDM_ECORRUPT,
				    "TRANSACTION_PAYLOAD event: uncompressed size %llu over the %zu cap",
				    (unsigned long long)pl->uncompressed_size,
				    (size_t)TIDM_BINLOG_MAX_DECOMPRESSED);
	want = (size_t)pl->uncompressed_size;
	if (pl->compression == 255)
		want = pl->data_len;
	/* start from a buffer sized by the compressed bytes and grow toward the declared size
	 * only as the data really decompresses: a lying header cannot make us allocate 1 GiB */
	size_t first = pl->compression == 255 ? want : pl->data_len * 8 + 65536;
	if (first > want)
		first = want;
	if (first > d->pl_cap) {
		uint8_t *nb = realloc(d->pl_buf, first);
		if (!nb)
			return tidm_err_set(TIDM_ENOMEM, "TRANSACTION_PAYLOAD: out of memory (%zu)", first);
		d->pl_buf = nb;
		d->pl_cap = first;
	}
	if (pl->compression == 255) {
		if (want)
			memcpy(d->pl_buf, pl->data, want);
		d->pl_len = want;
		return 0;
	}
	if (!d->zs && !(d->zs = ZSTD_createDStream()))
		return tidm_err_set(TIDM_ENOMEM, "TRANSACTION_PAYLOAD: cannot create zstd stream");
	ZSTD_inBuffer in = {pl->data, pl->data_len, 0};
	ZSTD_outBuffer outb = {d->pl_buf, d->pl_cap < want ? d->pl_cap : want, 0};
	size_t r = ZSTD_initDStream(d->zs);
	bool done = false;
	int rc = 0;
	while (!ZSTD_isError(r)) {
		size_t in0 = in.pos, out0 = outb.pos;
		r = ZSTD_decompressStream(d->zs, &outb, &in);
		if (ZSTD_isError(r))
			break;
		if (r == 0) {
			done = in.pos == in.size; /* one frame, nothing after it */
			break;
		}
		if (outb.pos == outb.size && outb.size < want) {
			size_t nc = outb.size * 2 < want ? outb.size * 2 : want;
			if (nc > d->pl_cap) {
				uint8_t *nb = realloc(d->pl_buf, nc);
				if (!nb)
					return tidm_err_set(TIDM_ENOMEM,
							    "TRANSACTION_PAYLOAD: out of memory (%zu)", nc);
				d->pl_buf = nb;
				d->pl_cap = nc;
			}
			outb.dst = d->pl_buf;
			outb.size = nc;
			continue;
		}
		if (in.pos == in0 && outb.pos == out0)
			break; /* no progress: truncated input or output over the declared size */
	}
	if (!done || outb.pos != want)
		rc = tidm_err_set(TIDM_ECORRUPT,
				  "TRANSACTION_PAYLOAD event: zstd data does not decompress to the "
				  "declared %zu bytes (%s)",
				  want, ZSTD_isError(r) ? ZSTD_getErrorName(r) : "truncated or size mismatch");
	if (rc == 0)
		d->pl_len = want;
	return rc;
}

int tidm_binlog_decoder_payload_next(tidm_binlog_decoder *d, tidm_binlog_event *out)
{
	tidm_binlog_header h;
	size_t left = d->pl_len - d->pl_off;
	int rc;

	if (left == 0)
		return 0;
	if (tidm_binlog_header_parse(&h, d->pl_buf + d->pl_off, left) < 0 ||
	    h.event_size < TIDM_BINLOG_HEADER_LEN || h.event_size > left) {
		return tidm_err_set(TIDM_ECORRUPT,
				    "TRANSACTION_PAYLOAD event: inner event at payload offset %zu "
				    "is truncated",
				    d->pl_off);
	}
	if (h.type == TIDM_BINLOG_TRANSACTION_PAYLOAD || h.type == TIDM_BINLOG_FORMAT_DESCRIPTION)
		return tidm_err_set(TIDM_ECORRUPT,
				    "TRANSACTION_PAYLOAD event: %s inside a payload at offset %zu",
				    tname(h.type), d->pl_off);
	rc = tidm_binlog_decoder_decode(d, out, d->pl_buf + d->pl_off, h.event_size,
					TIDM_BINLOG_DECODE_NO_CRC);
	if (rc < 0) {
		tidm_err_prefix("TRANSACTION_PAYLOAD inner event at payload offset %zu: ", d->pl_off);
		return rc;
	}
	d->pl_off += h.event_size;
	return 1;
}
