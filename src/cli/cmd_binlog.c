/*
 * cmd_binlog.c - `tidm binlog decode FILE... [--format json|text] [--no-output] [--count]`.
 *
 * Prints every event of each binlog file, one line per event (SPEC section 7.2): JSON
 * objects with "type", "pos" (start offset), "next_pos" and the event's fields; rows events
 * with "db", "table" and "rows", each row an object of column name (or "@N") -> value, and
 * UPDATE rows as {"before": {...}, "after": {...}}. Events inside a TRANSACTION_PAYLOAD are
 * printed after it, each marked "in_payload": true with the outer event's pos/next_pos and
 * its own "payload_offset". On a corrupt or truncated file the command prints everything
 * before the bad event, then the error with its offset on stderr, and exits 1.
 *
 * Design: output is built in one tidm_buf and written in blocks of 1 MiB or more; values are
 * formatted by tidm_binlog_value_to_json(), so the CLI holds no type knowledge. The JSON path
 * is the hot loop of `--format json` (a sysbench binlog prints ~1.7 bytes per byte read), so
 * it uses no printf: keys are literals copied with known lengths, numbers go through
 * tidm_buf_fmt_u64() into room grabbed once per group of fields, text through
 * tidm_buf_put_json_ascii(), and the header numbers that repeat from one event to the next
 * (timestamp, server id, pos = previous next_pos = log_pos) are reused as digits (memo_u64).
 * --no-output decodes every row but prints nothing, --count prints per-type event counts:
 * both exist to measure the decoder alone (every row is decoded into typed values; DECIMAL
 * and JSON stay raw, as the decoder defers their text form).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog/decimal.h"
#include "binlog/event.h"
#include "binlog/file.h"
#include "binlog/rows.h"
#include "cli/cmd.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/gtid.h"

enum out_format { FMT_JSON, FMT_TEXT, FMT_NONE };

/* The digits of the last number written through memo_u64() with this memo. */
typedef struct num_memo {
	uint64_t v;
	size_t len; /* 0: empty */
	char s[TIDM_BUF_I64_MAX];
} num_memo;

/*
 * A recent `,"db":...,"table":...` rendering, keyed by the names themselves, compared in full:
 * a table map can be freed and its memory reused for another table. Every TABLE_MAP and
 * rows event prints the pair, and it rarely changes between neighbouring events.
 */
#define NAME_MEMO_N 4
#define NAME_MEMO_RAW 128 /* db + table longer than this are rendered each time */
typedef struct name_memo {
	size_t db_len, table_len, json_len; /* json_len 0: empty */
	char raw[NAME_MEMO_RAW];	    /* db, then table */
	char json[6 * NAME_MEMO_RAW + 24];
} name_memo;

typedef struct ctx {
	enum out_format fmt;
	bool count;
	bool multi;
	const char *path;
	tidm_buf out;
	tidm_buf scratch;
	uint64_t counts[256];
	uint64_t rows;
	uint64_t inner_next; /* next_pos printed for events inside a payload */
	num_memo ts, server_id, position; /* event header numbers, see memo_u64() */
	name_memo names[NAME_MEMO_N];
	unsigned names_last; /* the entry hit or filled last: checked first */
} ctx;

static void flush_out(ctx *c, bool force)
{
	if (c->out.len && (force || c->out.len >= (1u << 20))) {
		fwrite(c->out.data, 1, c->out.len, stdout);
		tidm_buf_clear(&c->out);
	}
}

/*
 * JSON string for server-provided text (SQL, names): ASCII runs escaped by
 * tidm_buf_put_json_ascii(); a byte >= 0x80 is kept with its continuation bytes when they form
 * a UTF-8 sequence (lead byte and continuation bytes only are checked), otherwise it is
 * printed as \u00XX (latin1 view).
 */
static void jstr(tidm_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	tidm_buf_putc_fast(b, '"');
	while (i < n) {
		i += tidm_buf_put_json_ascii(b, p + i, n - i);
		if (i >= n)
			break;
		unsigned char ch = p[i];
		size_t k = 0;
		if (ch >= 0xc2 && ch <= 0xdf)
			k = 2;
		else if (ch >= 0xe0 && ch <= 0xef)
			k = 3;
		else if (ch >= 0xf0 && ch <= 0xf4)
			k = 4;
		bool ok = k > 0 && i + k <= n;
		for (size_t j = 1; ok && j < k; j++)
			ok = (p[i + j] & 0xc0) == 0x80;
		if (ok) {
			tidm_buf_put(b, p + i, k);
			i += k;
		} else {
			char *o = tidm_buf_grab(b, 6);
			memcpy(o, "\\u00", 4);
			o[4] = hex[ch >> 4];
			o[5] = hex[ch & 15];
			tidm_buf_commit(b, 6);
			i++;
		}
	}
	tidm_buf_putc_fast(b, '"');
}

/* Append a string literal. */
#define PUT_LIT(b, lit) tidm_buf_put_fast((b), (lit), sizeof(lit) - 1)

/* Write a string literal at char pointer e (room already grabbed); evaluates to the end. */
#define LIT(e, lit) (memcpy((e), (lit), sizeof(lit) - 1), (e) + sizeof(lit) - 1)

/* Append the literal lit (a key: ",\"name\":") and then v in decimal. */
#define PUT_KV(b, lit, v) put_kv((b), (lit), sizeof(lit) - 1, (v))
static inline void put_kv(tidm_buf *b, const char *key, size_t klen, uint64_t v)
{
	char *o = tidm_buf_grab(b, klen + TIDM_BUF_I64_MAX);
	memcpy(o, key, klen);
	tidm_buf_commit(b, (size_t)(tidm_buf_fmt_u64(o + klen, v) - o));
}

/*
 * PUT_KV() that reuses the digits of the last value printed with memo m when v is the same.
 * Event headers repeat themselves: consecutive events share the timestamp and server id, an
 * event's pos is the previous event's next_pos, and its log_pos is usually its next_pos.
 */
/*
 * Write v at e (room for TIDM_BUF_I64_MAX bytes grabbed) reusing the digits of the last value
 * written with memo m when v is the same; returns the end. Event headers repeat themselves:
 * consecutive events share the timestamp and server id, an event's pos is the previous
 * event's next_pos, and its log_pos is usually its next_pos.
 */
static inline char *memo_u64(char *e, uint64_t v, num_memo *m)
{
	if (m->len == 0 || m->v != v) {
		m->len = (size_t)(tidm_buf_fmt_u64(m->s, v) - m->s);
		m->v = v;
	}
	memcpy(e, m->s, sizeof(m->s)); /* fixed size: a few moves instead of a call */
	return e + m->len;
}

#define PUT_KV_I64(b, lit, v) put_kv_i64((b), (lit), sizeof(lit) - 1, (v))
static inline void put_kv_i64(tidm_buf *b, const char *key, size_t klen, int64_t v)
{
	char *o = tidm_buf_grab(b, klen + TIDM_BUF_I64_MAX);
	memcpy(o, key, klen);
	tidm_buf_commit(b, (size_t)(tidm_buf_fmt_i64(o + klen, v) - o));
}

static void jkey(tidm_buf *b, const char *k)
{
	size_t n = strlen(k);
	char *o = tidm_buf_grab(b, n + 4);
	o[0] = ',';
	o[1] = '"';
	memcpy(o + 2, k, n);
	o[n + 2] = '"';
	o[n + 3] = ':';
	tidm_buf_commit(b, n + 4);
}

static void put_uuid(tidm_buf *b, const uint8_t sid[16])
{
	char u[37];
	tidm_binlog_uuid_format(u, sid);
	tidm_buf_puts(b, u);
}

/* ,"db":"...","table":"..." (JSON), reusing a recent rendering of the same names. */
static void put_db_table(ctx *c, const char *db, const char *table)
{
	tidm_buf *b = &c->out;
	size_t dl = strlen(db), tl = strlen(table), at = b->len;
	bool memo = dl + tl <= NAME_MEMO_RAW;
	name_memo *m;

	for (unsigned k = 0; memo && k < NAME_MEMO_N; k++) {
		m = &c->names[(c->names_last + k) % NAME_MEMO_N];
		if (m->json_len && m->db_len == dl && m->table_len == tl &&
		    memcmp(m->raw, db, dl) == 0 && memcmp(m->raw + dl, table, tl) == 0) {
			tidm_buf_put(b, m->json, m->json_len);
			c->names_last = (c->names_last + k) % NAME_MEMO_N;
			return;
		}
	}
	PUT_LIT(b, ",\"db\":");
	jstr(b, db, dl);
	PUT_LIT(b, ",\"table\":");
	jstr(b, table, tl);
	if (!memo || b->len - at > sizeof(m->json))
		return;
	c->names_last = (c->names_last + NAME_MEMO_N - 1) % NAME_MEMO_N; /* replace the oldest */
	m = &c->names[c->names_last];
	m->db_len = dl;
	m->table_len = tl;
	memcpy(m->raw, db, dl);
	memcpy(m->raw + dl, table, tl);
	m->json_len = b->len - at;
	memcpy(m->json, b->data + at, m->json_len);
}

static const char *rows_verb(uint8_t kind)
{
	return kind == TIDM_ROWS_INSERT ? "INSERT" : kind == TIDM_ROWS_UPDATE ? "UPDATE" : "DELETE";
}

/* One image as a JSON object (or text list). */
static int put_image(ctx *c, const tidm_binlog_table *t, const tidm_binlog_value *vals)
{
	tidm_buf *b = &c->out;
	bool first = true;
	tidm_buf_putc_fast(b, c->fmt == FMT_JSON ? '{' : '(');
	for (unsigned i = 0; i < t->ncols; i++) {
		if (vals[i].kind == TIDM_BV_ABSENT)
			continue;
		if (c->fmt == FMT_JSON) {
			if (t->cols[i].name) {
				if (!first)
					tidm_buf_putc_fast(b, ',');
				jstr(b, t->cols[i].name, strlen(t->cols[i].name));
				tidm_buf_putc_fast(b, ':');
			} else { /* ,"@N": */
				char *o = tidm_buf_grab(b, 5 + TIDM_BUF_I64_MAX), *e = o;
				if (!first)
					*e++ = ',';
				*e++ = '"';
				*e++ = '@';
				if (i < 9)
					*e++ = (char)('1' + i);
				else
					e = tidm_buf_fmt_u64(e, i + 1);
				*e++ = '"';
				*e++ = ':';
				tidm_buf_commit(b, (size_t)(e - o));
			}
			first = false;
		} else {
			if (!first)
				PUT_LIT(b, ", ");
			first = false;
			if (t->cols[i].name)
				tidm_buf_printf(b, "%s=", t->cols[i].name);
			else
				tidm_buf_printf(b, "@%u=", i + 1);
		}
		int rc = tidm_binlog_value_to_json(b, &vals[i], &t->cols[i]);
		if (rc < 0) {
			tidm_err_prefix("`%s`.`%s` column %u: ", t->db, t->table, i + 1);
			return rc;
		}
	}
	tidm_buf_putc_fast(b, c->fmt == FMT_JSON ? '}' : ')');
	return 0;
}

/* Decode (and for --no-output, still convert) every row of a rows event. */
static int put_rows(ctx *c, tidm_binlog_decoder *dec, const tidm_binlog_event *ev)
{
	const tidm_binlog_rows *r = &ev->u.rows;
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	tidm_buf *b = &c->out;
	int rc, n = 0;

	rc = tidm_binlog_rows_begin(&it, dec, ev);
	if (rc < 0)
		return rc;
	if (c->fmt == FMT_JSON)
		PUT_LIT(b, ",\"rows\":[");
	while ((rc = tidm_binlog_rows_next(&it, &row)) == 1) {
		c->rows++;
		if (c->fmt == FMT_NONE)
			continue; /* decode-only: typed values, DECIMAL/JSON left raw (lazy) */
		if (c->fmt == FMT_JSON) {
			if (n++)
				tidm_buf_putc_fast(b, ',');
		} else {
			tidm_buf_printf(b, "\n  %s ", rows_verb(r->kind));
		}
		if (r->kind == TIDM_ROWS_UPDATE) {
			if (c->fmt == FMT_JSON)
				PUT_LIT(b, "{\"before\":");
			rc = put_image(c, r->table, row.before);
			if (rc < 0)
				return rc;
			if (c->fmt == FMT_JSON)
				PUT_LIT(b, ",\"after\":");
			else
				PUT_LIT(b, " -> ");
			rc = put_image(c, r->table, row.after);
			if (rc < 0)
				return rc;
			if (c->fmt == FMT_JSON)
				tidm_buf_putc_fast(b, '}');
		} else {
			rc = put_image(c, r->table, row.after ? row.after : row.before);
			if (rc < 0)
				return rc;
		}
	}
	if (rc < 0)
		return rc;
	if (c->fmt == FMT_JSON)
		tidm_buf_putc_fast(b, ']');
	return 0;
}

static bool is_rows(uint8_t t)
{
	return (t >= TIDM_BINLOG_WRITE_ROWS_V1 && t <= TIDM_BINLOG_DELETE_ROWS_V1) ||
	       (t >= TIDM_BINLOG_WRITE_ROWS_V2 && t <= TIDM_BINLOG_DELETE_ROWS_V2) ||
	       t == TIDM_BINLOG_PARTIAL_UPDATE_ROWS ||
	       (t >= TIDM_BINLOG_MARIA_WRITE_ROWS_COMPRESSED_V1 &&
		t <= TIDM_BINLOG_MARIA_DELETE_ROWS_COMPRESSED_V1);
}

static const char *csum_name(uint8_t alg)
{
	return alg == TIDM_BINLOG_CSUM_CRC32 ? "CRC32" : alg == TIDM_BINLOG_CSUM_OFF ? "NONE" : "UNDEF";
}

/* The type-specific fields of an event, JSON. */
static int put_fields(ctx *c, tidm_binlog_decoder *dec, const tidm_binlog_event *ev)
{
	tidm_buf *b = &c->out;
	switch (ev->hdr.type) {
	case TIDM_BINLOG_FORMAT_DESCRIPTION:
		jkey(b, "binlog_version");
		tidm_buf_put_u64(b, ev->u.fde.binlog_version);
		jkey(b, "server_version");
		jstr(b, ev->u.fde.server_version, strlen(ev->u.fde.server_version));
		jkey(b, "checksum");
		tidm_buf_putc_fast(b, '"');
		tidm_buf_puts(b, csum_name(ev->u.fde.checksum_alg));
		tidm_buf_putc_fast(b, '"');
		return 0;
	case TIDM_BINLOG_ROTATE:
		jkey(b, "file");
		jstr(b, ev->u.rotate.name, ev->u.rotate.name_len);
		jkey(b, "position");
		tidm_buf_put_u64(b, ev->u.rotate.position);
		return 0;
	case TIDM_BINLOG_QUERY:
	case TIDM_BINLOG_MARIA_QUERY_COMPRESSED: {
		const tidm_binlog_query *q = &ev->u.query;
		jkey(b, "thread_id");
		tidm_buf_put_u64(b, q->thread_id);
		jkey(b, "exec_time");
		tidm_buf_put_u64(b, q->exec_time);
		jkey(b, "error_code");
		tidm_buf_put_u64(b, q->error_code);
		jkey(b, "db");
		jstr(b, q->db, q->db_len);
		if (q->has_sql_mode) {
			jkey(b, "sql_mode");
			tidm_buf_put_u64(b, q->sql_mode);
		}
		if (q->has_charset) {
			PUT_KV(b, ",\"charset\":{\"client\":", q->charset_client);
			PUT_KV(b, ",\"connection\":", q->collation_connection);
			PUT_KV(b, ",\"server\":", q->collation_server);
			tidm_buf_putc_fast(b, '}');
		}
		if (q->has_time_zone) {
			jkey(b, "time_zone");
			jstr(b, q->time_zone, q->time_zone_len);
		}
		if (q->has_ddl_xid) {
			jkey(b, "ddl_xid");
			tidm_buf_put_u64(b, q->ddl_xid);
		}
		jkey(b, "sql");
		jstr(b, q->sql, q->sql_len);
		return 0;
	}
	case TIDM_BINLOG_XID:
		PUT_KV(b, ",\"xid\":", ev->u.xid);
		return 0;
	case TIDM_BINLOG_INTVAR:
		jkey(b, "var");
		tidm_buf_puts(b, ev->u.intvar.type == 1   ? "\"LAST_INSERT_ID\""
				 : ev->u.intvar.type == 2 ? "\"INSERT_ID\""
							  : "\"?\"");
		jkey(b, "value");
		tidm_buf_put_u64(b, ev->u.intvar.value);
		return 0;
	case TIDM_BINLOG_RAND:
		tidm_buf_printf(b, ",\"seed1\":%llu,\"seed2\":%llu",
				(unsigned long long)ev->u.rand.seed1,
				(unsigned long long)ev->u.rand.seed2);
		return 0;
	case TIDM_BINLOG_USER_VAR: {
		const tidm_binlog_user_var *u = &ev->u.user_var;
		jkey(b, "name");
		jstr(b, u->name, u->name_len);
		jkey(b, "value");
		if (u->is_null) {
			PUT_LIT(b, "null");
		} else if (u->value_type == 2 && u->value_len == 8) {
			uint64_t v = 0;
			memcpy(&v, u->value, 8);
			if (u->flags & 1)
				tidm_buf_put_u64(b, v);
			else
				tidm_buf_put_i64(b, (int64_t)v);
		} else if (u->value_type == 4 && u->value_len >= 2) {
			/* DECIMAL: u8 precision, u8 scale, binary decimal */
			size_t at = b->len;
			tidm_buf_putc_fast(b, '"');
			if (tidm_binlog_decimal_to_text(b, u->value + 2, u->value_len - 2, u->value[0],
							u->value[1], NULL) < 0) {
				tidm_buf_truncate(b, at);
				tidm_err_clear();
				jstr(b, (const char *)u->value, u->value_len);
			} else {
				tidm_buf_putc_fast(b, '"');
			}
		} else if (u->value_type == 1 && u->value_len == 8) {
			double d;
			memcpy(&d, u->value, 8);
			tidm_buf_printf(b, "%.17g", d);
		} else {
			jstr(b, (const char *)u->value, u->value_len);
		}
		return 0;
	}
	case TIDM_BINLOG_INCIDENT:
		jkey(b, "incident");
		tidm_buf_put_u64(b, ev->u.incident.type);
		jkey(b, "message");
		jstr(b, ev->u.incident.message ? ev->u.incident.message : "",
		     ev->u.incident.message_len);
		return 0;
	case TIDM_BINLOG_HEARTBEAT:
	case TIDM_BINLOG_HEARTBEAT_V2:
		jkey(b, "file");
		jstr(b, ev->u.heartbeat.name ? ev->u.heartbeat.name : "", ev->u.heartbeat.name_len);
		jkey(b, "position");
		tidm_buf_put_u64(b, ev->u.heartbeat.position);
		return 0;
	case TIDM_BINLOG_ROWS_QUERY:
	case TIDM_BINLOG_MARIA_ANNOTATE_ROWS:
		PUT_LIT(b, ",\"query\":");
		jstr(b, ev->u.text.text, ev->u.text.len);
		return 0;
	case TIDM_BINLOG_MARIA_BINLOG_CHECKPOINT:
		jkey(b, "file");
		jstr(b, ev->u.checkpoint.name, ev->u.checkpoint.len);
		return 0;
	case TIDM_BINLOG_GTID:
	case TIDM_BINLOG_ANONYMOUS_GTID:
	case TIDM_BINLOG_GTID_TAGGED: {
		const tidm_binlog_gtid *g = &ev->u.gtid;
		PUT_LIT(b, ",\"gtid\":\"");
		put_uuid(b, g->sid);
		if (g->tag_len) {
			tidm_buf_putc_fast(b, ':');
			tidm_buf_put(b, g->tag, g->tag_len);
		}
		PUT_KV_I64(b, ":", g->gno);
		tidm_buf_putc_fast(b, '"');
		if (g->has_logical_ts) {
			PUT_KV_I64(b, ",\"last_committed\":", g->last_committed);
			PUT_KV_I64(b, ",\"sequence_number\":", g->sequence_number);
		}
		if (g->has_commit_ts) {
			PUT_KV(b, ",\"immediate_commit_ts\":", g->immediate_commit_ts);
			PUT_KV(b, ",\"original_commit_ts\":", g->original_commit_ts);
		}
		if (g->has_trx_length)
			PUT_KV(b, ",\"transaction_length\":", g->transaction_length);
		if (g->has_server_version) {
			PUT_KV(b, ",\"immediate_server_version\":", g->immediate_server_version);
			PUT_KV(b, ",\"original_server_version\":", g->original_server_version);
		}
		return 0;
	}
	case TIDM_BINLOG_PREVIOUS_GTIDS: {
		tidm_gtid_set set;
		tidm_gtid_set_init(&set, TIDM_GTID_MYSQL);
		int rc = tidm_gtid_set_decode_mysql(&set, ev->u.previous_gtids.data,
						    ev->u.previous_gtids.len);
		if (rc == 0) {
			tidm_buf_clear(&c->scratch);
			tidm_gtid_set_format(&set, &c->scratch);
			jkey(b, "gtid_set");
			jstr(b, c->scratch.data ? c->scratch.data : "", c->scratch.len);
		}
		tidm_gtid_set_dispose(&set);
		if (rc < 0)
			tidm_err_prefix("PREVIOUS_GTIDS event: ");
		return rc;
	}
	case TIDM_BINLOG_MARIA_GTID: {
		const tidm_binlog_maria_gtid *g = &ev->u.maria_gtid;
		char *o = tidm_buf_grab(b, 48 + 5 * TIDM_BUF_I64_MAX), *e;
		e = tidm_buf_fmt_u64(LIT(o, ",\"gtid\":\""), g->domain_id);
		*e++ = '-';
		e = tidm_buf_fmt_u64(e, g->server_id);
		*e++ = '-';
		e = tidm_buf_fmt_u64(e, g->seq_no);
		e = tidm_buf_fmt_u64(LIT(e, "\",\"flags2\":"), g->flags2);
		if (g->flags2 & 2)
			e = tidm_buf_fmt_u64(LIT(e, ",\"commit_id\":"), g->commit_id);
		tidm_buf_commit(b, (size_t)(e - o));
		return 0;
	}
	case TIDM_BINLOG_MARIA_GTID_LIST: {
		const tidm_binlog_maria_gtid_list *l = &ev->u.gtid_list;
		PUT_LIT(b, ",\"gtid_list\":\"");
		for (uint32_t i = 0; i < l->count; i++) {
			const uint8_t *e = l->entries + 16 * (size_t)i;
			uint32_t dom, srv;
			uint64_t seq;
			memcpy(&dom, e, 4);
			memcpy(&srv, e + 4, 4);
			memcpy(&seq, e + 8, 8);
			tidm_buf_printf(b, "%s%u-%u-%llu", i ? "," : "", dom, srv, (unsigned long long)seq);
		}
		tidm_buf_putc_fast(b, '"');
		return 0;
	}
	case TIDM_BINLOG_XA_PREPARE: {
		const tidm_binlog_xa_prepare *x = &ev->u.xa_prepare;
		tidm_buf_printf(b, ",\"one_phase\":%s,\"format_id\":%d,\"gtrid\":",
				x->one_phase ? "true" : "false", x->format_id);
		jstr(b, (const char *)x->data, x->gtrid_len);
		jkey(b, "bqual");
		jstr(b, (const char *)x->data + x->gtrid_len, x->bqual_len);
		return 0;
	}
	case TIDM_BINLOG_TRANSACTION_PAYLOAD:
		tidm_buf_printf(b,
				",\"compression\":\"%s\",\"payload_size\":%llu,\"uncompressed_size\":%llu",
				ev->u.payload.compression == 0 ? "ZSTD" : "NONE",
				(unsigned long long)ev->u.payload.payload_size,
				(unsigned long long)ev->u.payload.uncompressed_size);
		return 0;
	case TIDM_BINLOG_TABLE_MAP: {
		const tidm_binlog_table *t = ev->u.table_map;
		PUT_KV(b, ",\"table_id\":", t->table_id);
		put_db_table(c, t->db, t->table);
		PUT_LIT(b, ",\"columns\":[");
		for (unsigned i = 0; i < t->ncols; i++) {
			const tidm_binlog_column *col = &t->cols[i];
			const char *type = tidm_binlog_coltype_name(col->type);
			size_t tlen = strlen(type);
			char *o = tidm_buf_grab(b, tlen + 12), *e = o;
			if (i)
				*e++ = ',';
			e = LIT(e, "{\"type\":\"");
			memcpy(e, type, tlen);
			e += tlen;
			*e++ = '"';
			tidm_buf_commit(b, (size_t)(e - o));
			if (col->name) {
				PUT_LIT(b, ",\"name\":");
				jstr(b, col->name, strlen(col->name));
			}
			/* the rest: 120 bytes of keys and 3 numbers at most */
			o = tidm_buf_grab(b, 120 + 3 * TIDM_BUF_I64_MAX);
			e = tidm_buf_fmt_u64(LIT(o, ",\"meta\":"), col->meta);
			if (col->nullable)
				e = LIT(e, ",\"nullable\":true");
			else
				e = LIT(e, ",\"nullable\":false");
			if (col->is_unsigned)
				e = LIT(e, ",\"unsigned\":true");
			if (col->charset)
				e = tidm_buf_fmt_u64(LIT(e, ",\"charset\":"), col->charset);
			if (!col->visible)
				e = LIT(e, ",\"visible\":false");
			if (col->in_pk)
				e = LIT(e, ",\"primary_key\":true");
			if (col->vector_dim)
				e = tidm_buf_fmt_u64(LIT(e, ",\"dimensions\":"), col->vector_dim);
			*e++ = '}';
			tidm_buf_commit(b, (size_t)(e - o));
		}
		tidm_buf_putc_fast(b, ']');
		return 0;
	}
	default:
		if (ev->unsupported) {
			PUT_LIT(b, ",\"decoded\":false");
			return 0;
		}
		if (!is_rows(ev->hdr.type))
			return 0; /* no fields (STOP) */
		break;
	}
	/* rows events */
	const tidm_binlog_rows *r = &ev->u.rows;
	PUT_KV(b, ",\"table_id\":", r->table_id);
	if (r->table) {
		put_db_table(c, r->table->db, r->table->table);
	}
	PUT_KV(b, ",\"flags\":", r->flags);
	if (r->has_partition)
		PUT_KV(b, ",\"partition_id\":", r->partition_id);
	return put_rows(c, dec, ev);
}


/* A short summary after the type in --format text. */
static void text_detail(tidm_buf *b, const tidm_binlog_event *ev)
{
	char u[37];
	switch (ev->hdr.type) {
	case TIDM_BINLOG_QUERY:
	case TIDM_BINLOG_MARIA_QUERY_COMPRESSED:
		tidm_buf_putc_fast(b, ' ');
		for (size_t i = 0; i < ev->u.query.sql_len; i++) {
			char ch = ev->u.query.sql[i];
			tidm_buf_putc_fast(b, ch == '\n' || ch == '\r' || ch == '\t' ? ' ' : ch);
		}
		break;
	case TIDM_BINLOG_XID:
		tidm_buf_printf(b, " xid=%llu", (unsigned long long)ev->u.xid);
		break;
	case TIDM_BINLOG_ROTATE:
		tidm_buf_printf(b, " %.*s:%llu", (int)ev->u.rotate.name_len, ev->u.rotate.name,
				(unsigned long long)ev->u.rotate.position);
		break;
	case TIDM_BINLOG_GTID:
	case TIDM_BINLOG_ANONYMOUS_GTID:
	case TIDM_BINLOG_GTID_TAGGED:
		tidm_binlog_uuid_format(u, ev->u.gtid.sid);
		tidm_buf_printf(b, " %s%s%.*s:%lld", u, ev->u.gtid.tag_len ? ":" : "",
				(int)ev->u.gtid.tag_len, ev->u.gtid.tag ? ev->u.gtid.tag : "",
				(long long)ev->u.gtid.gno);
		break;
	case TIDM_BINLOG_MARIA_GTID:
		tidm_buf_printf(b, " %u-%u-%llu", ev->u.maria_gtid.domain_id, ev->u.maria_gtid.server_id,
				(unsigned long long)ev->u.maria_gtid.seq_no);
		break;
	case TIDM_BINLOG_TABLE_MAP:
		tidm_buf_printf(b, " `%s`.`%s` id=%llu", ev->u.table_map->db, ev->u.table_map->table,
				(unsigned long long)ev->u.table_map->table_id);
		break;
	case TIDM_BINLOG_FORMAT_DESCRIPTION:
		tidm_buf_printf(b, " %s checksum=%s", ev->u.fde.server_version,
				csum_name(ev->u.fde.checksum_alg));
		break;
	default:
		break;
	}
}

static int put_event(ctx *c, tidm_binlog_decoder *dec, const tidm_binlog_event *ev, uint64_t pos,
		     bool inner, size_t inner_off)
{
	tidm_buf *b = &c->out;
	const char *name = tidm_binlog_type_name(ev->hdr.type);
	uint64_t next = pos + (inner ? 0 : ev->hdr.event_size);
	int rc;

	c->counts[ev->hdr.type]++;
	if (c->fmt == FMT_NONE)
		return is_rows(ev->hdr.type) && !ev->unsupported ? put_rows(c, dec, ev) : 0;
	size_t start = b->len;
	if (c->fmt == FMT_TEXT) {
		tidm_buf_printf(b, "#%llu %s", (unsigned long long)pos, name ? name : "UNKNOWN");
		if (inner)
			tidm_buf_printf(b, " (in payload at %zu)", inner_off);
		if (is_rows(ev->hdr.type) && ev->u.rows.table)
			tidm_buf_printf(b, " `%s`.`%s`", ev->u.rows.table->db, ev->u.rows.table->table);
		else
			text_detail(b, ev);
		rc = is_rows(ev->hdr.type) ? put_rows(c, dec, ev) : 0;
		tidm_buf_putc_fast(b, '\n');
		if (rc < 0)
			tidm_buf_truncate(b, start);
		return rc;
	}
	size_t nlen = name ? strlen(name) : 0;
	char *o = tidm_buf_grab(b, nlen + 40), *e = o;
	e = LIT(e, "{\"type\":\"");
	if (name) {
		memcpy(e, name, nlen);
		e += nlen;
	} else {
		e = tidm_buf_fmt_u64(LIT(e, "UNKNOWN_"), ev->hdr.type);
	}
	*e++ = '"';
	tidm_buf_commit(b, (size_t)(e - o));
	if (c->multi) {
		PUT_LIT(b, ",\"file\":");
		jstr(b, c->path, strlen(c->path));
	}
	/* 7 numbers and 100 bytes of keys at most */
	o = tidm_buf_grab(b, 7 * TIDM_BUF_I64_MAX + 128);
	e = memo_u64(LIT(o, ",\"pos\":"), pos, &c->position);
	e = memo_u64(LIT(e, ",\"next_pos\":"), inner ? c->inner_next : next, &c->position);
	if (inner)
		e = tidm_buf_fmt_u64(LIT(e, ",\"in_payload\":true,\"payload_offset\":"), inner_off);
	e = memo_u64(LIT(e, ",\"timestamp\":"), ev->hdr.timestamp, &c->ts);
	e = memo_u64(LIT(e, ",\"server_id\":"), ev->hdr.server_id, &c->server_id);
	e = memo_u64(LIT(e, ",\"log_pos\":"), ev->hdr.log_pos, &c->position);
	e = tidm_buf_fmt_u64(LIT(e, ",\"size\":"), ev->hdr.event_size);
	tidm_buf_commit(b, (size_t)(e - o));
	rc = put_fields(c, dec, ev);
	if (rc < 0) {
		tidm_buf_truncate(b, start);
		return rc;
	}
	PUT_LIT(b, "}\n");
	return 0;
}

static int decode_file(ctx *c, const char *path)
{
	tidm_binlog_file *f;
	tidm_binlog_event ev, inner;
	int rc;

	c->path = path;
	rc = tidm_binlog_file_open(&f, path);
	if (rc < 0)
		return rc;
	tidm_binlog_decoder *dec = tidm_binlog_file_decoder(f);
	while ((rc = tidm_binlog_file_next(f, &ev)) == 1) {
		uint64_t pos = tidm_binlog_file_offset(f);
		uint64_t next = pos + ev.hdr.event_size;
		rc = put_event(c, dec, &ev, pos, false, 0);
		if (rc == 0 && ev.hdr.type == TIDM_BINLOG_TRANSACTION_PAYLOAD) {
			size_t off = 0;
			c->inner_next = next;
			rc = tidm_binlog_decoder_payload_begin(dec, &ev);
			while (rc == 0) {
				int k = tidm_binlog_decoder_payload_next(dec, &inner);
				if (k <= 0) {
					rc = k;
					break;
				}
				rc = put_event(c, dec, &inner, pos, true, off);
				off += inner.hdr.event_size;
			}
		}
		if (rc < 0) {
			tidm_err_prefix("%s event at offset %llu: ",
					tidm_binlog_type_name(ev.hdr.type) ? tidm_binlog_type_name(ev.hdr.type)
									   : "UNKNOWN",
					(unsigned long long)pos);
			break;
		}
		flush_out(c, false);
	}
	flush_out(c, true);
	tidm_binlog_file_close(f);
	return rc;
}

static void usage(void)
{
	fputs("usage: tidm binlog decode FILE... [--format json|text] [--no-output] [--count]\n",
	      stderr);
}

int tidm_cmd_binlog(int argc, char **argv)
{
	ctx c;
	int nfiles = 0, rc = 0;
	const char **files;

	if (argc >= 2 && strcmp(argv[1], "stream") == 0)
		return tidm_cmd_binlog_stream(argc - 1, argv + 1);
	if (argc < 2 || strcmp(argv[1], "decode") != 0) {
		usage();
		return TIDM_EXIT_USAGE;
	}
	memset(&c, 0, sizeof(c));
	files = calloc((size_t)argc, sizeof(*files));
	if (!files)
		return TIDM_EXIT_FAILED;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			const char *f = argv[++i];
			if (strcmp(f, "json") == 0)
				c.fmt = FMT_JSON;
			else if (strcmp(f, "text") == 0)
				c.fmt = FMT_TEXT;
			else {
				fprintf(stderr, "tidm: unknown format '%s' (json or text)\n", f);
				free(files);
				return TIDM_EXIT_USAGE;
			}
		} else if (strncmp(argv[i], "--format=", 9) == 0) {
			c.fmt = strcmp(argv[i] + 9, "text") == 0 ? FMT_TEXT : FMT_JSON;
		} else if (strcmp(argv[i], "--no-output") == 0) {
			c.fmt = FMT_NONE;
		} else if (strcmp(argv[i], "--count") == 0) {
			c.count = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "tidm: unknown option '%s'\n", argv[i]);
			usage();
			free(files);
			return TIDM_EXIT_USAGE;
		} else {
			files[nfiles++] = argv[i];
		}
	}
	if (nfiles == 0) {
		usage();
		free(files);
		return TIDM_EXIT_USAGE;
	}
	if (c.count && c.fmt != FMT_NONE)
		c.fmt = FMT_NONE;
	c.multi = nfiles > 1;
	tidm_buf_init(&c.out);
	tidm_buf_init(&c.scratch);
	for (int i = 0; i < nfiles && rc == 0; i++) {
		rc = decode_file(&c, files[i]);
		if (rc < 0) {
			fflush(stdout);
			fprintf(stderr, "tidm: %s: %s\n", files[i], tidm_err_msg());
		}
	}
	if (c.count) {
		uint64_t total = 0;
		for (int t = 1; t < 256; t++) {
			if (!c.counts[t])
				continue;
			const char *n = tidm_binlog_type_name((unsigned)t);
			printf("%s %llu\n", n ? n : "UNKNOWN", (unsigned long long)c.counts[t]);
			total += c.counts[t];
		}
		printf("events %llu\nrows %llu\n", (unsigned long long)total,
		       (unsigned long long)c.rows);
	}
	fflush(stdout);
	tidm_buf_dispose(&c.out);
	tidm_buf_dispose(&c.scratch);
	free(files);
	return rc < 0 ? TIDM_EXIT_FAILED : TIDM_EXIT_OK;
}
