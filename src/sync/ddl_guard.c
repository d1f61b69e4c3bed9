/*
 * ddl_guard.c - was a replicated DDL statement applied before a crash? (see ddl_guard.h)
 *
 * DESIGN
 * One row per job in tidm_meta.ddl_guard(job, file, pos, stmt_no, snap): the event and the
 * statement in progress, and `snap`, the target's view of the statement's objects just
 * before it ran. The snapshot is text made of one entry per object the statement names
 * (tidm_ddl_parse() of the statement as it is run: a table, both names of a rename, the
 * database of CREATE/ALTER/DROP DATABASE): SHOW CREATE TABLE / DATABASE as the target
 * prints it, AUTO_INCREMENT= removed (replayed rows may move it), plus the table's storage
 * identity (InnoDB's TABLE_ID survives a rename, TiDB's TIDB_TABLE_ID too), or "absent".
 * It is stored as bytes (hex literal into a LONGBLOB), so the session's character set,
 * which the applier sets to the event's for the DDL, cannot change it.
 *
 * The record also names the target connection that runs the statement: the target goes on
 * with a statement whose client died, so a replay first waits until that connection is
 * gone (a TiDB DDL job outlives its connection: not waited for here).
 *
 * The record of the previous run is read once, at start; a replay meets that event again
 * first (the checkpoint before a DDL is the barrier before it), so the comparison costs
 * nothing afterwards. Each statement costs one SHOW CREATE per object, one identity query
 * per table and one REPLACE: DDL is rare.
 */
#include "sync/ddl_guard.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/meta.h"
#include "db/quote.h"
#include "db/showcreate.h"
#include "sync/ddl.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#define GUARD "`" TIDM_META_DB "`.`ddl_guard`"

struct tidm_ddl_guard {
	tidm_conn *conn;
	char *job;
	bool ids;          /* the target shows table identities to this user (until a query fails) */
	bool have;         /* a record of a previous run (or of this event) is loaded */
	char file[256];
	uint64_t pos;
	unsigned no;
	tidm_buf snap;     /* the loaded record's snapshot */
	uint64_t conn_id;  /* the loaded record's target connection (0: unknown) */
	unsigned ran;      /* statements run by this process (test hook) */
	unsigned crash_at; /* TIDM_TEST_CRASH_AFTER_DDL (0: off) */
};

int tidm_ddl_guard_new(tidm_ddl_guard **out, tidm_conn *c, const char *job)
{
	tidm_ddl_guard *g = calloc(1, sizeof(*g));
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	const char *env = getenv("TIDM_TEST_CRASH_AFTER_DDL"); /* test-only, see ddl_guard.h */
	int rc;

	if (!g || !(g->job = strdup(job)))
		abort();
	g->conn = c;
	g->ids = true;
	if (env && *env)
		g->crash_at = (unsigned)strtoul(env, NULL, 10);
	tidm_buf_puts(&q, "SELECT `file`, `pos`, `stmt_no`, `snap`, `conn_id` FROM " GUARD " WHERE `job` = ");
	tidm_quote_string(&q, job, strlen(job));
	rc = tidm_conn_query(c, &res, q.data);
	if (rc == 0 && tidm_res_next(res) == 1) {
		g->have = true;
		snprintf(g->file, sizeof(g->file), "%s", tidm_res_get(res, 0) ? tidm_res_get(res, 0) : "");
		g->pos = strtoull(tidm_res_get(res, 1) ? tidm_res_get(res, 1) : "0", NULL, 10);
		g->no = (unsigned)strtoul(tidm_res_get(res, 2) ? tidm_res_get(res, 2) : "0", NULL, 10);
		if (tidm_res_get(res, 3))
			tidm_buf_put(&g->snap, tidm_res_get(res, 3), tidm_res_len(res, 3));
		g->conn_id = strtoull(tidm_res_get(res, 4) ? tidm_res_get(res, 4) : "0", NULL, 10);
	}
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	if (rc < 0) {
		tidm_err_prefix("cannot read the DDL in progress from " GUARD ": ");
		tidm_ddl_guard_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

void tidm_ddl_guard_free(tidm_ddl_guard *g)
{
	if (!g)
		return;
	tidm_buf_dispose(&g->snap);
	free(g->job);
	free(g);
}

/* A missing table or database (1146 no such table, 1049 unknown database). */
static bool absent_err(void)
{
	unsigned e = tidm_err_dberr();
	return e == 1146 || e == 1049;
}

/* InnoDB's name of a table ("db/t", file-name encoding); false when a name is outside
 * ASCII (then the identity is not looked up). */
static bool innodb_name(tidm_buf *out, const char *db, const char *name)
{
	const char *parts[2] = {db, name};
	int k;

	for (k = 0; k < 2; k++) {
		const unsigned char *p;
		if (k)
			tidm_buf_putc(out, '/');
		for (p = (const unsigned char *)parts[k]; *p; p++) {
			if (*p >= 0x80)
				return false;
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')
				tidm_buf_putc(out, (char)*p);
			else
				tidm_buf_printf(out, "@%04x", *p);
		}
	}
	return true;
}

/* Append the table's storage identity ("" when the target does not show it). */
static int put_identity(tidm_ddl_guard *g, tidm_buf *s, const char *db, const char *name)
{
	const tidm_server_info *si = tidm_conn_info(g->conn);
	tidm_buf q = TIDM_BUF_INIT, n = TIDM_BUF_INIT;
	char *id = NULL;
	int rc;

	if (!g->ids)
		return 0;
	if (si->flavor == TIDM_FLAVOR_TIDB) {
		tidm_buf_puts(&q, "SELECT TIDB_TABLE_ID FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
		tidm_quote_string(&q, db, strlen(db));
		tidm_buf_puts(&q, " AND TABLE_NAME = ");
		tidm_quote_string(&q, name, strlen(name));
	} else {
		if (!innodb_name(&n, db, name)) {
			tidm_buf_dispose(&n);
			return 0;
		}
		tidm_buf_printf(&q, "SELECT TABLE_ID FROM information_schema.%s WHERE NAME = ",
				si->flavor == TIDM_FLAVOR_MYSQL && si->version >= 80000 ? "INNODB_TABLES"
											: "INNODB_SYS_TABLES");
		tidm_quote_string(&q, n.data, n.len);
	}
	rc = tidm_conn_query_value(g->conn, &id, q.data);
	if (rc < 0) {
		/* no PROCESS privilege, or a server without the view: definitions only */
		tidm_warn("cannot read table identities on the target (%s): a crash right after a RENAME that "
			  "swaps tables of the same definition may replay it",
			  tidm_err_msg());
		tidm_err_clear();
		g->ids = false;
		rc = 0;
	} else if (id) {
		tidm_buf_printf(s, "\nid %s", id);
	}
	free(id);
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&n);
	return rc;
}

/* One object's entry of the snapshot: `name` NULL for a database. */
static int put_object(tidm_ddl_guard *g, tidm_buf *s, const char *db, const char *name)
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc;

	if (!db)
		return 0;
	if (name) {
		tidm_buf_puts(&q, "SHOW CREATE TABLE ");
		tidm_quote_qualified(&q, db, name);
	} else {
		tidm_buf_puts(&q, "SHOW CREATE DATABASE ");
		tidm_quote_ident(&q, db);
	}
	tidm_buf_put(s, q.data + 12, q.len - 12); /* "TABLE `db`.`t`" / "DATABASE `db`" */
	tidm_buf_putc(s, '\n');
	rc = tidm_conn_query(g->conn, &res, q.data);
	if (rc < 0 && absent_err()) {
		tidm_err_clear();
		tidm_buf_puts(s, "absent\n");
		rc = 0;
	} else if (rc < 0 && tidm_err_dberr() && tidm_err_dberr() < 2000) {
		/* the server cannot show it (a view whose table is gone, 1356, ...): that state is
		 * the entry; only a lost connection (client errors 2000+) stops the DDL */
		tidm_buf_printf(s, "error %u\n", tidm_err_dberr());
		tidm_err_clear();
		rc = 0;
	} else if (rc == 0) {
		if (tidm_res_next(res) == 1 && tidm_res_get(res, 1))
			tidm_showcreate_sans_counters(s, tidm_res_get(res, 1), tidm_res_len(res, 1));
		if (name)
			rc = put_identity(g, s, db, name);
		tidm_buf_putc(s, '\n');
	}
	tidm_res_free(res);
	tidm_buf_dispose(&q);
	return rc;
}

/* The snapshot of every object `stmt` names; *ambiguous: a rename among tables (only an
 * identity tells a swap of equal definitions apart). */
static int snapshot(tidm_ddl_guard *g, tidm_buf *s, const char *stmt, size_t len, const char *default_db,
		    bool *ambiguous)
{
	tidm_ddl d = TIDM_DDL_INIT;
	size_t i;
	int rc = 0;

	*ambiguous = false;
	if (tidm_ddl_parse(&d, stmt, len, default_db && *default_db ? default_db : NULL) < 0) {
		tidm_err_clear(); /* the statement still runs: the target says what is wrong with it */
		tidm_ddl_dispose(&d);
		return 0;
	}
	for (i = 0; i < d.n_objs && rc == 0; i++) {
		const tidm_ddl_obj *o = &d.objs[i];
		if (o->role == TIDM_DDL_OBJ_TABLE) {
			rc = put_object(g, s, o->db, o->name);
			if (rc == 0 && o->new_name) {
				rc = put_object(g, s, o->new_db, o->new_name);
				*ambiguous = true;
			}
		} else if (o->role == TIDM_DDL_OBJ_DATABASE) {
			rc = put_object(g, s, o->db, NULL);
		}
	}
	tidm_ddl_dispose(&d);
	return rc;
}

/*
 * The target goes on running a statement whose client died (kill -9, a lost connection):
 * a long ALTER started by the previous run may still be running. Its objects only show
 * the change when it ends, so wait until the connection that ran it is gone before
 * looking at them.
 */
static int wait_previous(tidm_ddl_guard *g)
{
	unsigned waited = 0;
	int rc;

	for (;;) {
		char *n = NULL;
		char q[160];
		snprintf(q, sizeof(q), "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %" PRIu64,
			 g->conn_id);
		if ((rc = tidm_conn_query_value(g->conn, &n, q)) < 0)
			return rc;
		bool running = n && strcmp(n, "0") != 0;
		free(n);
		if (!running)
			break;
		if (waited % 60 == 0)
			tidm_info("waiting for the target to finish the DDL statement the previous run started "
				  "(connection %" PRIu64 ", %u s so far)",
				  g->conn_id, waited / 2);
		usleep(500 * 1000);
		waited++;
	}
	g->conn_id = 0;
	return 0;
}

int tidm_ddl_guard_begin(tidm_ddl_guard *g, const char *file, uint64_t pos, unsigned no, const char *stmt, size_t len,
			 const char *default_db)
{
	tidm_buf s = TIDM_BUF_INIT, q = TIDM_BUF_INIT;
	bool ambiguous = false;
	int rc;

	if (g->have && g->conn_id && g->pos == pos && !strcmp(g->file, file) && no <= g->no &&
	    (rc = wait_previous(g)) < 0)
		return rc;
	if ((rc = snapshot(g, &s, stmt, len, default_db, &ambiguous)) < 0)
		goto out;
	if (g->have && g->pos == pos && !strcmp(g->file, file) && no <= g->no) {
		/* the event a previous run was applying when it stopped */
		if (no < g->no || s.len != g->snap.len || memcmp(s.data, g->snap.data, s.len) != 0) {
			tidm_info("DDL statement already applied before the restart (%s:%" PRIu64 " #%u): %.*s", file, pos,
				  no + 1, (int)(len > 200 ? 200 : len), stmt);
			rc = 1;
			goto out;
		}
		if (ambiguous && !g->ids)
			tidm_warn("cannot tell whether a RENAME was applied before the restart (no table identity on the "
				  "target); running it again: %.*s",
				  (int)(len > 200 ? 200 : len), stmt);
		rc = 0; /* it did not happen: the record stands as it is */
		goto out;
	}
	tidm_buf_puts(&q, "REPLACE INTO " GUARD " (`job`, `file`, `pos`, `stmt_no`, `snap`, `conn_id`) VALUES (");
	tidm_quote_string(&q, g->job, strlen(g->job));
	tidm_buf_putc(&q, ',');
	tidm_quote_string(&q, file, strlen(file));
	tidm_buf_printf(&q, ",%" PRIu64 ",%u,", pos, no);
	tidm_quote_hex(&q, s.data, s.len);
	tidm_buf_puts(&q, ", CONNECTION_ID())");
	if ((rc = tidm_conn_exec(g->conn, q.data, q.len)) < 0) {
		tidm_err_prefix("cannot record the DDL in progress in " GUARD ": ");
		goto out;
	}
	g->have = true;
	snprintf(g->file, sizeof(g->file), "%s", file);
	g->pos = pos;
	g->no = no;
	tidm_buf_clear(&g->snap);
	tidm_buf_put(&g->snap, s.data, s.len);
out:
	tidm_buf_dispose(&s);
	tidm_buf_dispose(&q);
	return rc;
}

void tidm_ddl_guard_ran(tidm_ddl_guard *g)
{
	g->ran++;
	if (g->crash_at && g->ran == g->crash_at) {
		/* TEST ONLY (TIDM_TEST_CRASH_AFTER_DDL): die like kill -9 between a DDL and its checkpoint */
		fprintf(stderr, "tidm: TIDM_TEST_CRASH_AFTER_DDL=%u: exiting after DDL statement %u\n", g->crash_at,
			g->ran);
		_exit(137);
	}
}

int tidm_ddl_guard_clear(tidm_ddl_guard *g)
{
	tidm_buf q = TIDM_BUF_INIT;
	int rc;

	tidm_buf_puts(&q, "DELETE FROM " GUARD " WHERE `job` = ");
	tidm_quote_string(&q, g->job, strlen(g->job));
	rc = tidm_conn_exec(g->conn, q.data, q.len);
	tidm_buf_dispose(&q);
	if (rc == 0)
		g->have = false;
	return rc;
}
