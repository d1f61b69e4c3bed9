/*
 * test_stream.c - the server-free parts of repl/stream and db/replica:
 *   - transaction boundaries (tidm_repl_trx_feed, behind `trx_end` and the reconnect
 *     position) over real binlogs from $TIDM_FIXTURES/binlog: one boundary per
 *     transaction that SOURCES.md lists (XID, COMMIT, DDL after a GTID, inside a
 *     TRANSACTION_PAYLOAD), with the transaction's GTID;
 *   - hand-built statements: BEGIN/COMMIT, ROLLBACK TO SAVEPOINT (no end), XA, DDL;
 *   - binlog file name order across a suffix width change;
 *   - the default replica server_id of a job: stable, in [1e9, 2e9).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "binlog/event.h"
#include "binlog/file.h"
#include "db/replica.h"
#include "repl/stream.h"
#include "util/buf.h"
#include "util/gtid.h"

static const char *fixture(const char *rel)
{
	static char path[1200];
	const char *e = getenv("TIDM_FIXTURES");
	snprintf(path, sizeof(path), "%s/binlog/%s", e && *e ? e : "/work/shared/fixtures", rel);
	return path;
}

typedef struct trx_count {
	unsigned ends;
	unsigned with_gtid;
	tidm_gtid_set set;  /* GTIDs of the ended transactions */
	tidm_buf last;      /* GTID text of the last ended transaction */
} trx_count;

static void feed(tidm_repl_trx *t, const tidm_binlog_event *ev, trx_count *c)
{
	tidm_gtid g;
	bool has = false;

	if (tidm_repl_trx_feed(t, ev, &g, &has)) {
		c->ends++;
		if (has) {
			c->with_gtid++;
			assert_int_equal(tidm_gtid_set_add(&c->set, &g), 0);
			tidm_buf_clear(&c->last);
			tidm_gtid_format(&g, &c->last);
		}
	}
}

/* Feed every event of a fixture (payload contents included) through one tracker. */
static void run_file(const char *rel, trx_count *c, bool *in_trx_at_end)
{
	tidm_binlog_file *f;
	tidm_binlog_event ev, inner;
	tidm_repl_trx t = {0};
	int rc;

	memset(c, 0, sizeof(*c));
	tidm_gtid_set_init(&c->set, TIDM_GTID_AUTO);
	tidm_buf_init(&c->last);
	assert_int_equal(tidm_binlog_file_open(&f, fixture(rel)), 0);
	while ((rc = tidm_binlog_file_next(f, &ev)) == 1) {
		feed(&t, &ev, c);
		if (ev.hdr.type == TIDM_BINLOG_TRANSACTION_PAYLOAD) {
			tidm_binlog_decoder *d = tidm_binlog_file_decoder(f);
			assert_int_equal(tidm_binlog_decoder_payload_begin(d, &ev), 0);
			while (tidm_binlog_decoder_payload_next(d, &inner) == 1)
				feed(&t, &inner, c);
		}
	}
	assert_int_equal(rc, 0);
	tidm_binlog_file_close(f);
	*in_trx_at_end = t.in_trx;
}

static void dispose(trx_count *c)
{
	tidm_gtid_set_dispose(&c->set);
	tidm_buf_dispose(&c->last);
}

static void test_repl_stream__boundaries_in_fixtures(void **state)
{
	static const struct {
		const char *file;
		unsigned ends, with_gtid;
		const char *last_gtid; /* NULL: not checked */
	} cases[] = {
		/* 60 x (ANONYMOUS_GTID, BEGIN, TABLE_MAP, rows, XID) */
		{"mysql-binlog-connector-java/mysql-bin.checksum-crc32", 60, 0, NULL},
		/* 40 transactions: 36 with XID, 4 DDL after their ANONYMOUS_GTID */
		{"mysql-binlog-connector-java/mysql-bin.checksum-none", 40, 0, NULL},
		/* one transaction inside a TRANSACTION_PAYLOAD (QUERY BEGIN, TABLE_MAP, rows, XID) */
		{"rust_mysql_common/transaction_compression.000001", 1, 0, NULL},
		/* MySQL 5.7.40 GTID mode: 10 GTIDs, 5 DDL + 5 DML with XID */
		{"mysql-binlog-connector-rust/mysql-bin.000080", 10, 10, NULL},
		/* MySQL 8.0.31 compressed: 3 GTIDs: the CREATE TABLE and 2 payloads */
		{"mysql-binlog-connector-rust/mysql-bin.000057", 3, 3, NULL},
		/* MySQL 5.6 GTIDs: one boundary per GTID */
		{"rust_mysql_common/binlog_56_gtid_reserved_word.000001", 6, 6, NULL},
		/* MySQL 9.6 tagged GTID (SOURCES.md: tag mytag, gno 3) */
		{"rust_mysql_common/binlog_transaction_with_GTID_TAG.000001", 1, 1,
		 "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3"},
		/* MariaDB 10.5: 2 MARIA_GTID + XID */
		{"rust_mysql_common/mariadb-bin.000001", 2, 2, NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		trx_count c;
		bool open_at_end;
		run_file(cases[i].file, &c, &open_at_end);
		if (c.ends != cases[i].ends || c.with_gtid != cases[i].with_gtid)
			fail_msg("%s: %u boundaries (%u with GTID), expected %u (%u)", cases[i].file, c.ends,
				 c.with_gtid, cases[i].ends, cases[i].with_gtid);
		assert_false(open_at_end);
		if (cases[i].last_gtid)
			assert_string_equal(c.last.data, cases[i].last_gtid);
		dispose(&c);
	}
}

/* The GTIDs of a GTID-mode file, in order: consecutive GNOs of one server, no repeats. */
static void test_repl_stream__gtids_of_ended_transactions(void **state)
{
	trx_count c;
	bool open_at_end;
	tidm_buf txt = TIDM_BUF_INIT;
	(void)state;

	run_file("mysql-binlog-connector-rust/mysql-bin.000080", &c, &open_at_end);
	tidm_gtid_set_format(&c.set, &txt);
	/* 10 transactions of one server: one interval of 10 GNOs */
	const char *colon = strchr(txt.data, ':');
	assert_non_null(colon);
	assert_null(strchr(txt.data, ','));
	unsigned long a = 0, b = 0;
	assert_int_equal(sscanf(colon + 1, "%lu-%lu", &a, &b), 2);
	assert_int_equal(b - a + 1, 10);
	tidm_buf_dispose(&txt);
	dispose(&c);

	run_file("rust_mysql_common/mariadb-bin.000001", &c, &open_at_end);
	tidm_gtid_set_format(&c.set, &txt);
	/* MariaDB: the set is the last position per domain, = the last ended transaction */
	assert_string_equal(txt.data, c.last.data);
	assert_int_equal(c.set.flavor, TIDM_GTID_MARIADB);
	tidm_buf_dispose(&txt);
	dispose(&c);
}

static tidm_binlog_event query(const char *sql)
{
	tidm_binlog_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = TIDM_BINLOG_QUERY;
	ev.u.query.sql = sql;
	ev.u.query.sql_len = strlen(sql);
	return ev;
}

static tidm_binlog_event simple(uint8_t type)
{
	tidm_binlog_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = type;
	return ev;
}

static void test_repl_stream__statements(void **state)
{
	tidm_repl_trx t = {0};
	tidm_binlog_event ev;
	tidm_gtid g;
	bool has;
	(void)state;

	/* BEGIN ... SAVEPOINT ... ROLLBACK TO ... COMMIT: one end, at COMMIT */
	ev = query("BEGIN");
	assert_false(tidm_repl_trx_feed(&t, &ev, &g, &has));
	assert_true(t.in_trx);
	ev = query("SAVEPOINT `a`");
	assert_false(tidm_repl_trx_feed(&t, &ev, &g, &has));
	ev = query("ROLLBACK TO `a`");
	assert_false(tidm_repl_trx_feed(&t, &ev, &g, &has));
	ev = simple(TIDM_BINLOG_TABLE_MAP);
	assert_false(tidm_repl_trx_feed(&t, &ev, &g, &has));
	ev = query(" commit ;");
	assert_true(tidm_repl_trx_feed(&t, &ev, &g, &has));
	assert_false(has);
	assert_false(t.in_trx);

	/* MariaDB GTID then DDL (no BEGIN): ends at the DDL with the GTID */
	ev = simple(TIDM_BINLOG_MARIA_GTID);
	ev.u.maria_gtid.domain_id = 0;
	ev.u.maria_gtid.server_id = 1;
	ev.u.maria_gtid.seq_no = 42;
	assert_false(tidm_repl_trx_feed(&t, &ev, &g, &has));
	ev = query("CREATE TABLE t (a INT)");
	assert_true(tidm_repl_trx_feed(&t, &ev, &g, &has));
	assert_true(has);
	assert_int_equal(g.flavor, TIDM_GTID_MARIADB);
	assert_int_equal(g.seq, 42);

	/* MySQL GTID, BEGIN, rows, XID */
	ev = simple(TIDM_BINLOG_GTID);
	memset(ev.u.gtid.sid, 0xab, 16);
	ev.u.gtid.gno = 7;
	assert_false(tidm_repl_trx_feed(&t, &ev, &g, &has));
	ev = query("BEGIN");
	assert_false(tidm_repl_trx_feed(&t, &ev, &g, &has));
	ev = query("INSERT INTO t VALUES (1)"); /* statement format inside the transaction */
	assert_false(tidm_repl_trx_feed(&t, &ev, &g, &has));
	ev = simple(TIDM_BINLOG_XID);
	assert_true(tidm_repl_trx_feed(&t, &ev, &g, &has));
	assert_true(has);
	assert_int_equal(g.gno, 7);
	assert_int_equal(g.uuid[15], 0xab);

	/* XA: XA START ... XA END, XA_PREPARE ends it; XA COMMIT is its own transaction */
	ev = query("XA START X'01',X'',1");
	assert_false(tidm_repl_trx_feed(&t, &ev, &g, &has));
	ev = query("XA END X'01',X'',1");
	assert_false(tidm_repl_trx_feed(&t, &ev, &g, &has));
	ev = simple(TIDM_BINLOG_XA_PREPARE);
	assert_true(tidm_repl_trx_feed(&t, &ev, &g, &has));
	ev = query("XA COMMIT X'01',X'',1");
	assert_true(tidm_repl_trx_feed(&t, &ev, &g, &has));

	/* events that are no part of a transaction never end one */
	ev = simple(TIDM_BINLOG_ROTATE);
	assert_false(tidm_repl_trx_feed(&t, &ev, &g, &has));
	ev = simple(TIDM_BINLOG_HEARTBEAT);
	assert_false(tidm_repl_trx_feed(&t, &ev, &g, &has));
	assert_false(t.in_trx);
}

static void test_repl_stream__file_order(void **state)
{
	(void)state;
	assert_true(tidm_repl_file_cmp("mysql-bin.000009", "mysql-bin.000010") < 0);
	assert_true(tidm_repl_file_cmp("mysql-bin.999999", "mysql-bin.1000000") < 0);
	assert_true(tidm_repl_file_cmp("mysql-bin.1000000", "mysql-bin.999999") > 0);
	assert_int_equal(tidm_repl_file_cmp("binlog.000043", "binlog.000043"), 0);
	assert_true(tidm_repl_file_cmp("a-bin.000002", "b-bin.000001") < 0);
}

static void test_repl_stream__server_id(void **state)
{
	(void)state;
	const char *names[] = {"", "a", "shop-to-tidb", "shop-to-tidc", "x_123456789012345678901234567890"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint32_t id = tidm_replica_server_id(names[i]);
		assert_true(id >= 1000000000u && id < 2000000000u);
		assert_int_equal(id, tidm_replica_server_id(names[i]));
	}
	assert_int_not_equal(tidm_replica_server_id("shop-to-tidb"), tidm_replica_server_id("shop-to-tidc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repl_stream__boundaries_in_fixtures),
		cmocka_unit_test(test_repl_stream__gtids_of_ended_transactions),
		cmocka_unit_test(test_repl_stream__statements),
		cmocka_unit_test(test_repl_stream__file_order),
		cmocka_unit_test(test_repl_stream__server_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
