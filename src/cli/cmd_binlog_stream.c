/*
 * cmd_binlog_stream.c - `tidm binlog stream`: a debugging command that streams the binlog
 * of a live source through repl/stream and prints the events like `tidm binlog decode`.
 *
 *   tidm binlog stream --source HOST:PORT --user U [--password-env VAR]
 *        [--start-file F [--start-pos P] | --start-gtid G]   (default: from now)
 *        [--until-now] [--non-block] [--server-id N] [--heartbeat-ms MS]
 *        [--format json|text] [--count]
 *
 * Output: one JSON line per event: "type", "file", "pos", "next_pos", header fields, and
 * per type the useful fields (rotate target, query db/sql, GTID, rows as JSON objects of
 * column -> value). --count prints per-type counts, "events N" and "rows N" in the format
 * of `tidm binlog decode --count`; artificial events (fake ROTATE, fake GTID_LIST,
 * heartbeats) are not counted there, so the counts of a whole file streamed from a
 * primary equal those of decoding the file.
 *
 * Design: like the applier, output is held per transaction and written when the
 * transaction ends; when the stream reconnects (TIDM_REPL_RECONNECTED) the held part of
 * an unfinished transaction is dropped, since the stream resends it whole. That makes the
 * output of a stream across a source restart equal to one without. --until-now stops
 * once the source position read at start has been reached. SIGINT/SIGTERM end the stream
 * cleanly (exit 0). Exit 1 with the message on stderr on any error (a purged binlog: the
 * SPEC §5 message).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog/event.h"
#include "binlog/rows.h"
#include "cli/cmd.h"
#include "repl/stream.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/gtid.h"
#include "util/log.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(void)
{
	fputs("usage: tidm binlog stream --source HOST:PORT --user USER [--password-env VAR]\n"
	      "         [--start-file FILE [--start-pos POS] | --start-gtid GTIDS] [--until-now]\n"
	      "         [--non-block] [--server-id N] [--heartbeat-ms MS] [--format json|text] [--count]\n",
	      stderr);
}

/* JSON string of server-provided bytes: escapes; non-ASCII bytes as \u00XX. */
static void jstr(tidm_buf *b, const char *s, size_t n)
{
	tidm_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			tidm_buf_putc(b, '\\');
			tidm_buf_putc(b, (char)ch);
		} else if (ch < 0x20 || ch >= 0x7f) {
			tidm_buf_printf(b, "\\u%04x", ch);
		} else {
			tidm_buf_putc(b, (char)ch);
		}
	}
	tidm_buf_putc(b, '"');
}

static bool is_rows(uint8_t t)
{
	return (t >= TIDM_BINLOG_WRITE_ROWS_V1 && t <= TIDM_BINLOG_DELETE_ROWS_V1) ||
	       (t >= TIDM_BINLOG_WRITE_ROWS_V2 && t <= TIDM_BINLOG_DELETE_ROWS_V2) ||
	       t == TIDM_BINLOG_PARTIAL_UPDATE_ROWS ||
	       (t >= TIDM_BINLOG_MARIA_WRITE_ROWS_COMPRESSED_V1 && t <= TIDM_BINLOG_MARIA_DELETE_ROWS_COMPRESSED_V1);
}

static int put_image(tidm_buf *b, const tidm_binlog_table *t, const tidm_binlog_value *vals)
{
	bool first = true;
	tidm_buf_putc(b, '{');
	for (unsigned i = 0; i < t->ncols; i++) {
		if (vals[i].kind == TIDM_BV_ABSENT)
			continue;
		if (!first)
			tidm_buf_putc(b, ',');
		first = false;
		if (t->cols[i].name)
			jstr(b, t->cols[i].name, strlen(t->cols[i].name));
		else
			tidm_buf_printf(b, "\"@%u\"", i + 1);
		tidm_buf_putc(b, ':');
		int rc = tidm_binlog_value_to_json(b, &vals[i], &t->cols[i]);
		if (rc < 0)
			return rc;
	}
	tidm_buf_putc(b, '}');
	return 0;
}

/* Rows of a rows event: appended as ,"rows":[...] (json) or counted only (b NULL). */
static int put_rows(tidm_buf *b, const tidm_repl_event *re, uint64_t *nrows)
{
	tidm_binlog_row_iter it;
	tidm_binlog_row row;
	int rc, n = 0;

	if ((rc = tidm_binlog_rows_begin(&it, re->dec, &re->ev)) < 0)
		return rc;
	if (b)
		tidm_buf_puts(b, ",\"rows\":[");
	while ((rc = tidm_binlog_rows_next(&it, &row)) == 1) {
		(*nrows)++;
		if (!b)
			continue;
		if (n++)
			tidm_buf_putc(b, ',');
		if (re->ev.u.rows.kind == TIDM_ROWS_UPDATE) {
			tidm_buf_puts(b, "{\"before\":");
			if ((rc = put_image(b, re->ev.u.rows.table, row.before)) < 0)
				return rc;
			tidm_buf_puts(b, ",\"after\":");
			if ((rc = put_image(b, re->ev.u.rows.table, row.after)) < 0)
				return rc;
			tidm_buf_putc(b, '}');
		} else if ((rc = put_image(b, re->ev.u.rows.table, row.after ? row.after : row.before)) < 0) {
			return rc;
		}
	}
	if (rc < 0)
		return rc;
	if (b)
		tidm_buf_putc(b, ']');
	return 0;
}

static int put_event(tidm_buf *b, const tidm_repl_event *re, bool text, uint64_t *nrows)
{
	const tidm_binlog_event *ev = &re->ev;
	const char *name = tidm_binlog_type_name(ev->hdr.type);
	uint8_t t = ev->hdr.type;

	if (text) {
		tidm_buf_printf(b, "%s:%llu %s", re->file, (unsigned long long)re->pos, name ? name : "UNKNOWN");
		if (is_rows(t) && !ev->unsupported && ev->u.rows.table)
			tidm_buf_printf(b, " `%s`.`%s`", ev->u.rows.table->db, ev->u.rows.table->table);
		if (is_rows(t) && !ev->unsupported) {
			uint64_t before = *nrows;
			int rc = put_rows(NULL, re, nrows);
			if (rc < 0)
				return rc;
			tidm_buf_printf(b, " rows=%llu", (unsigned long long)(*nrows - before));
		}
		tidm_buf_putc(b, '\n');
		return 0;
	}
	if (name)
		tidm_buf_printf(b, "{\"type\":\"%s\"", name);
	else
		tidm_buf_printf(b, "{\"type\":\"UNKNOWN_%u\"", t);
	tidm_buf_puts(b, ",\"file\":");
	jstr(b, re->file, strlen(re->file));
	tidm_buf_printf(b, ",\"pos\":%llu,\"next_pos\":%llu,\"timestamp\":%u,\"server_id\":%u,\"log_pos\":%u,\"size\":%u",
			(unsigned long long)re->pos, (unsigned long long)re->next_pos, ev->hdr.timestamp,
			ev->hdr.server_id, ev->hdr.log_pos, ev->hdr.event_size);
	if (re->artificial)
		tidm_buf_puts(b, ",\"artificial\":true");
	if (re->in_payload)
		tidm_buf_puts(b, ",\"in_payload\":true");
	if (re->trx_end)
		tidm_buf_puts(b, ",\"trx_end\":true");
	if (ev->unsupported) {
		tidm_buf_puts(b, ",\"unsupported\":true}\n");
		return 0;
	}
	switch (t) {
	case TIDM_BINLOG_ROTATE:
		tidm_buf_puts(b, ",\"name\":");
		jstr(b, ev->u.rotate.name, ev->u.rotate.name_len);
		tidm_buf_printf(b, ",\"position\":%llu", (unsigned long long)ev->u.rotate.position);
		break;
	case TIDM_BINLOG_FORMAT_DESCRIPTION:
		tidm_buf_puts(b, ",\"server_version\":");
		jstr(b, ev->u.fde.server_version, strlen(ev->u.fde.server_version));
		tidm_buf_printf(b, ",\"checksum\":\"%s\"",
				ev->u.fde.checksum_alg == TIDM_BINLOG_CSUM_CRC32 ? "CRC32" : "NONE");
		break;
	case TIDM_BINLOG_QUERY:
	case TIDM_BINLOG_MARIA_QUERY_COMPRESSED:
		tidm_buf_puts(b, ",\"db\":");
		jstr(b, ev->u.query.db ? ev->u.query.db : "", ev->u.query.db ? ev->u.query.db_len : 0);
		tidm_buf_puts(b, ",\"sql\":");
		jstr(b, ev->u.query.sql ? ev->u.query.sql : "", ev->u.query.sql ? ev->u.query.sql_len : 0);
		break;
	case TIDM_BINLOG_XID:
		tidm_buf_printf(b, ",\"xid\":%llu", (unsigned long long)ev->u.xid);
		break;
	case TIDM_BINLOG_GTID:
	case TIDM_BINLOG_GTID_TAGGED: {
		char u[37];
		tidm_binlog_uuid_format(u, ev->u.gtid.sid);
		tidm_buf_printf(b, ",\"gtid\":\"%s:", u);
		if (ev->u.gtid.tag && ev->u.gtid.tag_len) {
			tidm_buf_put(b, ev->u.gtid.tag, ev->u.gtid.tag_len);
			tidm_buf_putc(b, ':');
		}
		tidm_buf_printf(b, "%lld\"", (long long)ev->u.gtid.gno);
		break;
	}
	case TIDM_BINLOG_MARIA_GTID:
		tidm_buf_printf(b, ",\"gtid\":\"%u-%u-%llu\"", ev->u.maria_gtid.domain_id, ev->u.maria_gtid.server_id,
				(unsigned long long)ev->u.maria_gtid.seq_no);
		break;
	case TIDM_BINLOG_HEARTBEAT:
	case TIDM_BINLOG_HEARTBEAT_V2:
		tidm_buf_printf(b, ",\"position\":%llu", (unsigned long long)ev->u.heartbeat.position);
		break;
	default:
		if (is_rows(t)) {
			const tidm_binlog_table *tb = ev->u.rows.table;
			if (tb) {
				tidm_buf_puts(b, ",\"db\":");
				jstr(b, tb->db, strlen(tb->db));
				tidm_buf_puts(b, ",\"table\":");
				jstr(b, tb->table, strlen(tb->table));
			}
			int rc = put_rows(b, re, nrows);
			if (rc < 0)
				return rc;
		}
		break;
	}
	tidm_buf_puts(b, "}\n");
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	*out = strtoull(s, &end, 10);
	return *end ? -1 : 0;
}

int tidm_cmd_binlog_stream(int argc, char **argv)
{
	tidm_repl_opts o = TIDM_REPL_OPTS_INIT;
	tidm_repl_stream *s = NULL;
	tidm_repl_event re;
	tidm_buf pending = TIDM_BUF_INIT;
	const char *source = NULL, *pw_env = NULL;
	char host[256] = "";
	bool text = false, count = false;
	uint64_t counts[256] = {0}, pcounts[256] = {0}, nrows = 0, prows = 0, v;
	int rc, exit_code = TIDM_EXIT_OK;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE()                                                                                     \
	do {                                                                                       \
		if (!val) {                                                                        \
			fprintf(stderr, "tidm: %s needs a value\n", a);                           \
			return TIDM_EXIT_USAGE;                                                    \
		}                                                                                  \
		i++;                                                                               \
	} while (0)
		if (!strcmp(a, "--source")) {
			TAKE();
			source = val;
		} else if (!strcmp(a, "--user")) {
			TAKE();
			o.conn.user = val;
		} else if (!strcmp(a, "--password-env")) {
			TAKE();
			pw_env = val;
		} else if (!strcmp(a, "--start-file")) {
			TAKE();
			o.start = TIDM_REPL_START_FILE;
			o.start_file = val;
		} else if (!strcmp(a, "--start-pos")) {
			TAKE();
			if (parse_u64(val, &o.start_pos) < 0) {
				fprintf(stderr, "tidm: bad --start-pos '%s'\n", val);
				return TIDM_EXIT_USAGE;
			}
		} else if (!strcmp(a, "--start-gtid")) {
			TAKE();
			o.start = TIDM_REPL_START_GTID;
			o.start_gtid = val;
		} else if (!strcmp(a, "--server-id")) {
			TAKE();
			if (parse_u64(val, &v) < 0 || v == 0 || v > UINT32_MAX) {
				fprintf(stderr, "tidm: bad --server-id '%s'\n", val);
				return TIDM_EXIT_USAGE;
			}
			o.server_id = (uint32_t)v;
		} else if (!strcmp(a, "--heartbeat-ms")) {
			TAKE();
			if (parse_u64(val, &v) < 0 || v == 0 || v > 600000) {
				fprintf(stderr, "tidm: bad --heartbeat-ms '%s'\n", val);
				return TIDM_EXIT_USAGE;
			}
			o.heartbeat_ms = (unsigned)v;
		} else if (!strcmp(a, "--format")) {
			TAKE();
			if (strcmp(val, "json") && strcmp(val, "text")) {
				fprintf(stderr, "tidm: unknown format '%s' (json or text)\n", val);
				return TIDM_EXIT_USAGE;
			}
			text = !strcmp(val, "text");
		} else if (!strcmp(a, "--until-now")) {
			o.until_open_pos = true;
		} else if (!strcmp(a, "--non-block")) {
			o.non_block = true;
		} else if (!strcmp(a, "--count")) {
			count = true;
		} else {
			fprintf(stderr, "tidm: unknown option '%s'\n", a);
			usage();
			return TIDM_EXIT_USAGE;
		}
#undef TAKE
	}
	if (!source || !o.conn.user) {
		usage();
		return TIDM_EXIT_USAGE;
	}
	{
		const char *colon = strrchr(source, ':');
		uint64_t port = 3306;
		size_t hl = colon ? (size_t)(colon - source) : strlen(source);
		if ((colon && (parse_u64(colon + 1, &port) < 0 || port == 0 || port > 65535)) || hl == 0 ||
		    hl >= sizeof(host)) {
			fprintf(stderr, "tidm: bad --source '%s' (HOST:PORT)\n", source);
			return TIDM_EXIT_USAGE;
		}
		memcpy(host, source, hl);
		host[hl] = '\0';
		o.conn.host = host;
		o.conn.port = (unsigned)port;
	}
	if (pw_env) {
		o.conn.password = getenv(pw_env);
		if (!o.conn.password) {
			fprintf(stderr, "tidm: environment variable %s (--password-env) is not set\n", pw_env);
			return TIDM_EXIT_USAGE;
		}
	}
	o.job_name = "tidm-binlog-stream";
	o.cancel = &stop_flag;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if ((rc = tidm_repl_stream_open(&s, &o)) < 0) {
		fprintf(stderr, "tidm: %s\n", tidm_err_msg());
		return TIDM_EXIT_FAILED;
	}
	while ((rc = tidm_repl_stream_next(s, &re)) > 0) {
		if (rc == TIDM_REPL_RECONNECTED) {
			/* the stream resends the unfinished transaction whole */
			tidm_buf_clear(&pending);
			memset(pcounts, 0, sizeof(pcounts));
			prows = 0;
			continue;
		}
		if (count) {
			if (!re.artificial)
				pcounts[re.ev.hdr.type]++;
			if (!re.artificial && is_rows(re.ev.hdr.type) && !re.ev.unsupported &&
			    (rc = put_rows(NULL, &re, &prows)) < 0)
				break;
		} else if ((rc = put_event(&pending, &re, text, &prows)) < 0) {
			break;
		}
		if (!re.in_trx) {
			for (int t = 0; t < 256; t++)
				counts[t] += pcounts[t];
			nrows += prows;
			memset(pcounts, 0, sizeof(pcounts));
			prows = 0;
			if (pending.len) {
				fwrite(pending.data, 1, pending.len, stdout);
				fflush(stdout);
				tidm_buf_clear(&pending);
			}
		}
	}
	if (rc < 0 && rc != TIDM_ECANCELED) {
		fflush(stdout);
		fprintf(stderr, "tidm: %s\n", tidm_err_msg());
		exit_code = TIDM_EXIT_FAILED;
	}
	if (count) {
		uint64_t total = 0;
		for (int t = 1; t < 256; t++) {
			if (!counts[t])
				continue;
			const char *n = tidm_binlog_type_name((unsigned)t);
			printf("%s %llu\n", n ? n : "UNKNOWN", (unsigned long long)counts[t]);
			total += counts[t];
		}
		printf("events %llu\nrows %llu\n", (unsigned long long)total, (unsigned long long)nrows);
	}
	fflush(stdout);
	tidm_buf_dispose(&pending);
	tidm_repl_stream_close(s);
	return exit_code;
}
