/*
 * items_server.c - precheck items about the two servers themselves: connecting,
 * versions, the users' privileges and connection limits.
 *
 * DESIGN
 * Privileges are read from SHOW GRANTS (the statement every flavour and every user may
 * run for itself), parsed into global, database-pattern and table grants, with the grants
 * of roles granted to the user (one level) merged in. A needed privilege is present when
 * a global grant has it, or a database grant whose pattern (MySQL's `_` and `%`) matches
 * every selected database has it, or, for SELECT, table grants cover every selected table.
 * ALL [PRIVILEGES] has them all. Names follow both vocabularies (MariaDB's BINLOG MONITOR
 * is REPLICATION CLIENT; REPLICATION REPLICA is REPLICATION SLAVE).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/quote.h"
#include "precheck/pc_int.h"
#include "util/err.h"

/* --- connections and versions ------------------------------------------------------------ */

static void conn_item(pc_ctx *c, pc_result *r, bool source)
{
	const tidm_endpoint *e = source ? &c->cfg->source : &c->cfg->target;
	const tidm_server_info *info = source ? &c->src_info : &c->tgt_info;
	const char *side = source ? "source" : "target";
	const char *tls = e->tls_ca && e->tls_cert ? "mutual TLS (CA + client certificate)"
			  : e->tls_ca		  ? "TLS, server certificate verified against the CA"
			  : e->tls_cert		  ? "TLS with a client certificate, server certificate NOT verified"
						  : "no TLS configured";

	if ((source ? c->src_rc : c->tgt_rc) < 0) {
		pc_fail(r, "%s", source ? c->src_err : c->tgt_err);
		pc_fix(r, "Check the %s's host, port, user and password in the job file, that the server runs and can "
			  "be reached from this machine (firewall, security group, authorized networks), that the user "
			  "may connect from this host, and the TLS files (%s).",
		       side, tls);
		return;
	}
	if (e->tls_cert && !e->tls_ca) {
		pc_warn(r,
			"connected to the %s %s:%u as %s (%s %s), with a client certificate but without a CA: the server's "
			"certificate is not verified, so a machine in the middle could pose as the server",
			side, e->host, e->port, e->user, info->flavor == TIDM_FLAVOR_MARIADB ? "MariaDB"
							 : info->flavor == TIDM_FLAVOR_TIDB    ? "TiDB"
											       : "MySQL",
			info->version_str);
		pc_fix(r, "Add the CA that signed the server's certificate (tls: {ca: ...}) to verify the server.");
		return;
	}
	pc_pass(r, "connected to the %s %s:%u as %s (%s)", side, e->host, e->port, e->user, tls);
}

PC_ITEM(pc_item_source_connection)
{
	(void)k;
	conn_item(c, r, true);
}

PC_ITEM(pc_item_target_connection)
{
	(void)k;
	conn_item(c, r, false);
}

static const char *flavor_name(enum tidm_flavor f)
{
	return f == TIDM_FLAVOR_MARIADB ? "MariaDB" : f == TIDM_FLAVOR_TIDB ? "TiDB" : "MySQL";
}

PC_ITEM(pc_item_source_version)
{
	const tidm_server_info *i = &c->src_info;
	(void)k;

	if (c->src_rc < 0) {
		pc_warn(r, "not checked: the source connection failed");
		return;
	}
	if (i->aurora_reader && pc_replicates(c)) {
		pc_fail(r,
			"the source is an Aurora reader instance (%s, innodb_read_only = ON): a reader has no binary log, so "
			"a type %s job cannot replicate from it; Aurora readers serve existing-data migrations only",
			i->version_str, tidm_job_type_name(c->cfg->type));
		pc_fix(r, "Point the job's source at the cluster (writer) endpoint, or use type: full.");
		return;
	}
	if (i->flavor == TIDM_FLAVOR_TIDB) {
		if (pc_replicates(c)) {
			pc_fail(r, "the source is TiDB (%s): TiDB has no MySQL binary log to replicate from", i->version_str);
			pc_fix(r, "Use TiCDC to replicate from TiDB, or use type: full.");
		} else {
			pc_pass(r, "TiDB %s (existing data only)", i->version_str);
		}
		return;
	}
	if (i->flavor == TIDM_FLAVOR_MYSQL && i->version < 50600) {
		pc_fail(r, "MySQL %s is older than the oldest supported source, MySQL 5.6", i->version_str);
		pc_fix(r, "Upgrade the source to MySQL 5.6 or later (5.7, 8.0 or 8.4 LTS recommended).");
		return;
	}
	if (i->flavor == TIDM_FLAVOR_MARIADB && i->version < 100400) {
		pc_warn(r, "MariaDB %s is older than MariaDB 10.4, the oldest source tidm is tested with", i->version_str);
		pc_fix(r, "Upgrade the source to MariaDB 10.4 or later, or ignore this warning at your own risk.");
		return;
	}
	pc_pass(r, "%s %s%s (%s)", flavor_name(i->flavor), i->version_str, i->aurora ? " (Aurora writer)" : "",
		pc_hosting_name(c->hosting));
}

PC_ITEM(pc_item_target_version)
{
	const tidm_server_info *i = &c->tgt_info;
	(void)k;

	if (c->tgt_rc < 0) {
		pc_warn(r, "not checked: the target connection failed");
		return;
	}
	if (i->aurora_reader) {
		pc_fail(r, "the target is an Aurora reader instance (%s): it cannot be written", i->version_str);
		pc_fix(r, "Point the job's target at the cluster (writer) endpoint.");
		return;
	}
	if ((i->flavor == TIDM_FLAVOR_MYSQL && i->version < 50700) ||
	    (i->flavor == TIDM_FLAVOR_MARIADB && i->version < 100400)) {
		pc_warn(r, "the target %s %s is older than the oldest tested target (MySQL 5.7, MariaDB 10.4)",
			flavor_name(i->flavor), i->version_str);
		pc_fix(r, "Upgrade the target, or ignore this warning at your own risk.");
		return;
	}
	pc_pass(r, "%s %s", flavor_name(i->flavor), i->version_str);
}

/* --- grants ------------------------------------------------------------------------------ */

enum {
	P_SELECT = 1 << 0,
	P_INSERT = 1 << 1,
	P_UPDATE = 1 << 2,
	P_DELETE = 1 << 3,
	P_CREATE = 1 << 4,
	P_DROP = 1 << 5,
	P_ALTER = 1 << 6,
	P_INDEX = 1 << 7,
	P_RELOAD = 1 << 8,
	P_LOCK = 1 << 9,
	P_REPL_SLAVE = 1 << 10,
	P_REPL_CLIENT = 1 << 11,
	P_SUPER = 1 << 12,
	P_ALL = 0x7fffffff,
};

static const struct {
	const char *name;
	unsigned bit;
} priv_names[] = {
	{"SELECT", P_SELECT},
	{"INSERT", P_INSERT},
	{"UPDATE", P_UPDATE},
	{"DELETE", P_DELETE},
	{"CREATE", P_CREATE},
	{"DROP", P_DROP},
	{"ALTER", P_ALTER},
	{"INDEX", P_INDEX},
	{"RELOAD", P_RELOAD},
	{"LOCK TABLES", P_LOCK},
	{"REPLICATION SLAVE", P_REPL_SLAVE},
	{"REPLICATION REPLICA", P_REPL_SLAVE},
	{"REPLICATION CLIENT", P_REPL_CLIENT},
	{"BINLOG MONITOR", P_REPL_CLIENT},
	{"SUPER", P_SUPER},
	{"ALL", P_ALL},
	{"ALL PRIVILEGES", P_ALL},
};

static const char *priv_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(priv_names) / sizeof(priv_names[0]); i++)
		if (priv_names[i].bit == bit)
			return priv_names[i].name;
	return "?";
}

typedef struct grant {
	char *db;    /* NULL: global (*.*) */
	char *table; /* NULL: whole database */
	unsigned privs;
} grant;

typedef struct grants {
	grant *g;
	size_t n, cap;
	char **roles;
	size_t n_roles;
} grants;

static void grants_dispose(grants *gs)
{
	for (size_t i = 0; i < gs->n; i++) {
		free(gs->g[i].db);
		free(gs->g[i].table);
	}
	free(gs->g);
	for (size_t i = 0; i < gs->n_roles; i++)
		free(gs->roles[i]);
	free(gs->roles);
	memset(gs, 0, sizeof(*gs));
}

/* An identifier at *p: `quoted` (doubled backquotes), 'quoted' or bare; malloc'd. */
static char *read_ident(const char **pp)
{
	const char *p = *pp;
	tidm_buf b = TIDM_BUF_INIT;
	char q = *p;

	if (q == '`' || q == '\'' || q == '"') {
		p++;
		while (*p) {
			if (*p == q) {
				if (p[1] == q) {
					tidm_buf_putc(&b, q);
					p += 2;
					continue;
				}
				p++;
				break;
			}
			tidm_buf_putc(&b, *p++);
		}
	} else {
		while (*p && *p != '.' && *p != ' ' && *p != '@')
			tidm_buf_putc(&b, *p++);
	}
	*pp = p;
	if (!b.data)
		return strdup("");
	return tidm_buf_detach(&b);
}

/* One SHOW GRANTS line. */
static void parse_grant(grants *gs, const char *line)
{
	const char *p = line, *on;
	unsigned privs = 0;
	grant g = {0};

	if (strncasecmp(p, "GRANT ", 6) != 0)
		return;
	p += 6;
	on = NULL;
	/* the privilege list ends at " ON " outside parentheses */
	{
		int depth = 0;
		for (const char *s = p; *s; s++) {
			if (*s == '(')
				depth++;
			else if (*s == ')')
				depth--;
			else if (!depth && !strncasecmp(s, " ON ", 4)) {
				on = s;
				break;
			} else if (!depth && !strncasecmp(s, " TO ", 4))
				break;
		}
	}
	if (!on) {
		/* a role grant: GRANT `r`@`%` TO ... / GRANT `r` TO ... */
		const char *s = p;
		char *role;
		if (*s != '`' && *s != '\'')
			return;
		role = read_ident(&s);
		if (!role || !*role) {
			free(role);
			return;
		}
		{
			/* the role as an account literal: 'role'@'host' (MySQL) or 'role' (MariaDB),
			 * each part escaped: a role's name is data */
			tidm_buf b = TIDM_BUF_INIT;
			tidm_quote_string(&b, role, strlen(role));
			if (*s == '@') {
				char *host;
				s++;
				host = read_ident(&s);
				tidm_buf_putc(&b, '@');
				tidm_quote_string(&b, host ? host : "%", strlen(host ? host : "%"));
				free(host);
			}
			free(role);
			role = tidm_buf_detach(&b);
		}
		{
			char **nr = realloc(gs->roles, (gs->n_roles + 1) * sizeof(char *));
			if (!nr) {
				free(role);
				return;
			}
			gs->roles = nr;
			gs->roles[gs->n_roles++] = role;
		}
		return;
	}
	/* privileges */
	{
		const char *s = p;
		while (s < on) {
			const char *e;
			int depth = 0;
			char name[64];
			size_t len;
			while (s < on && (*s == ' ' || *s == ','))
				s++;
			for (e = s; e < on; e++) {
				if (*e == '(')
					depth++;
				else if (*e == ')')
					depth--;
				else if (*e == ',' && !depth)
					break;
			}
			/* column privileges "SELECT (`a`)" do not count for whole tables */
			len = (size_t)(e - s);
			if (len && !memchr(s, '(', len) && len < sizeof(name)) {
				memcpy(name, s, len);
				name[len] = 0;
				while (len && name[len - 1] == ' ')
					name[--len] = 0;
				for (size_t i = 0; i < sizeof(priv_names) / sizeof(priv_names[0]); i++)
					if (!strcasecmp(name, priv_names[i].name))
						privs |= priv_names[i].bit;
			}
			s = e;
		}
	}
	p = on + 4;
	if (!strncasecmp(p, "FUNCTION ", 9) || !strncasecmp(p, "PROCEDURE ", 10) || !strncasecmp(p, "PACKAGE", 7))
		return;
	if (!strncasecmp(p, "TABLE ", 6))
		p += 6;
	if (*p == '*') {
		p++;
	} else {
		g.db = read_ident(&p);
	}
	if (*p == '.')
		p++;
	if (*p == '*') {
		p++;
	} else if (*p) {
		g.table = read_ident(&p);
	}
	if (!g.db && g.table) { /* "*.t" is not valid; ignore */
		free(g.table);
		return;
	}
	g.privs = privs;
	if (gs->n == gs->cap) {
		size_t cap = gs->cap ? gs->cap * 2 : 16;
		grant *ng = realloc(gs->g, cap * sizeof(*ng));
		if (!ng) {
			free(g.db);
			free(g.table);
			return;
		}
		gs->g = ng;
		gs->cap = cap;
	}
	gs->g[gs->n++] = g;
}

static int load_grants_of(tidm_conn *conn, const char *sql, grants *gs)
{
	tidm_res *res = NULL;
	int rc = tidm_conn_query(conn, &res, sql);
	if (rc < 0)
		return rc;
	while (tidm_res_next(res) == 1) {
		const char *line = tidm_res_get(res, 0);
		if (line)
			parse_grant(gs, line);
	}
	tidm_res_free(res);
	return 0;
}

static int load_grants(tidm_conn *conn, grants *gs)
{
	int rc = load_grants_of(conn, "SHOW GRANTS", gs);
	size_t n_roles;
	if (rc < 0)
		return rc;
	n_roles = gs->n_roles;
	for (size_t i = 0; i < n_roles; i++) {
		tidm_buf q = TIDM_BUF_INIT;
		tidm_buf_printf(&q, "SHOW GRANTS FOR %s", gs->roles[i]);
		if (load_grants_of(conn, q.data, gs) < 0)
			tidm_err_clear(); /* a role we may not inspect: its grants stay unknown */
		tidm_buf_dispose(&q);
	}
	return 0;
}

static bool has_global(const grants *gs, unsigned bit)
{
	for (size_t i = 0; i < gs->n; i++)
		if (!gs->g[i].db && (gs->g[i].privs & bit) == bit)
			return true;
	return false;
}

static bool has_db(const grants *gs, unsigned bit, const char *db)
{
	if (has_global(gs, bit))
		return true;
	for (size_t i = 0; i < gs->n; i++)
		if (gs->g[i].db && !gs->g[i].table && (gs->g[i].privs & bit) == bit && pc_grant_match(gs->g[i].db, db))
			return true;
	return false;
}

static bool has_table(const grants *gs, unsigned bit, const char *db, const char *t)
{
	if (has_db(gs, bit, db))
		return true;
	for (size_t i = 0; i < gs->n; i++)
		if (gs->g[i].db && gs->g[i].table && (gs->g[i].privs & bit) == bit && !strcmp(gs->g[i].db, db) &&
		    !strcmp(gs->g[i].table, t))
			return true;
	return false;
}

/* Some table-level grant with `bit` in database db. */
static bool has_table_grant(const grants *gs, unsigned bit, const char *db)
{
	for (size_t i = 0; i < gs->n; i++)
		if (gs->g[i].db && gs->g[i].table && (gs->g[i].privs & bit) == bit && !strcmp(gs->g[i].db, db))
			return true;
	return false;
}

/* Does a selected table the user sees belong to db (then the loop over tables named it)? */
static bool db_listed(const pc_ctx *c, const char *db)
{
	for (size_t i = 0; i < c->n_tables; i++)
		if (!strcmp(c->tables[i].db, db))
			return true;
	return false;
}

static const char *admin_hint(const pc_ctx *c)
{
	switch (c->hosting) {
	case PC_RDS:
	case PC_AURORA: return "as the instance's master user";
	case PC_AZURE: return "as the server's admin user";
	case PC_CLOUDSQL: return "as a user with the cloudsqlsuperuser role";
	default: return "as an administrator";
	}
}

PC_ITEM(pc_item_source_privileges)
{
	tidm_conn *src = pc_src(k);
	grants gs = {0};
	const char *err;
	tidm_buf missing = TIDM_BUF_INIT, dbs = TIDM_BUF_INIT;
	unsigned need_global = 0;
	size_t nmiss = 0, ndb = 0, n_named = 0;
	const char *named[64];

	n_named = pc_named_dbs(c, named, 64);

	if (!src) {
		pc_cannot(r, "the source user's privileges");
		return;
	}
	if (load_grants(src, &gs) < 0) {
		pc_cannot(r, "the source user's privileges (SHOW GRANTS)");
		goto out;
	}
	if (pc_replicates(c)) {
		if (!has_global(&gs, P_REPL_SLAVE))
			need_global |= P_REPL_SLAVE;
		if (!has_global(&gs, P_REPL_CLIENT) && !(c->src_info.flavor != TIDM_FLAVOR_MARIADB && has_global(&gs, P_SUPER)))
			need_global |= P_REPL_CLIENT;
	}
	for (unsigned b = P_REPL_SLAVE; b <= P_REPL_CLIENT; b <<= 1)
		if (need_global & b) {
			tidm_buf_printf(&missing, "%s%s (global)", nmiss++ ? ", " : "", priv_name(b));
		}
	if (pc_copies(c) || pc_replicates(c)) {
		if (pc_need_tables(c, k, &err) < 0) {
			tidm_err_set(TIDM_ERROR, "%s", err);
			pc_cannot(r, "the selected tables");
			goto out;
		}
		/* SELECT on every selected table the user sees, and on every database the job
		 * names (a user without SELECT there does not even see its tables) */
		for (size_t i = 0; i < c->n_tables; i++) {
			pc_table *t = &c->tables[i];
			if (!has_table(&gs, P_SELECT, t->db, t->name)) {
				if (!ndb)
					tidm_buf_printf(&missing, "%sSELECT on ", nmiss++ ? ", " : "");
				pc_list_add(&missing, &ndb, 5, t->db, t->name);
			}
		}
		for (size_t i = 0; i < n_named; i++) {
			if (has_db(&gs, P_SELECT, named[i]) || has_table_grant(&gs, P_SELECT, named[i]))
				continue;
			if (!ndb)
				tidm_buf_printf(&missing, "%sSELECT on ", nmiss++ ? ", " : "");
			pc_list_add(&missing, &ndb, 5, named[i], NULL);
		}
		pc_list_end(&missing, ndb, 5);
		if (pc_copies(c) && !has_global(&gs, P_RELOAD)) {
			/* LOCK TABLES on every database of a selected table instead */
			size_t nlock = 0;
			for (size_t i = 0; i < c->n_tables; i++) {
				if (i && !strcmp(c->tables[i].db, c->tables[i - 1].db))
					continue;
				if (!has_db(&gs, P_LOCK, c->tables[i].db))
					pc_list_add(&dbs, &nlock, 5, c->tables[i].db, NULL);
			}
			for (size_t i = 0; i < n_named; i++)
				if (!has_db(&gs, P_LOCK, named[i]) && !db_listed(c, named[i]))
					pc_list_add(&dbs, &nlock, 5, named[i], NULL);
			pc_list_end(&dbs, nlock, 5);
			if (nlock)
				tidm_buf_printf(&missing, "%sRELOAD (global) or LOCK TABLES on %s", nmiss++ ? ", " : "",
						dbs.data);
		}
	}
	if (nmiss) {
		pc_fail(r,
			"the source user %s lacks %s: tidm reads the tables with SELECT, takes its consistent snapshot with "
			"FLUSH TABLES WITH READ LOCK (RELOAD) or LOCK TABLES, and reads the binary log as a replica "
			"(REPLICATION SLAVE, and REPLICATION CLIENT%s for its position)",
			c->cfg->source.user, missing.data,
			c->src_info.flavor == TIDM_FLAVOR_MARIADB ? " / BINLOG MONITOR" : "");
		pc_fix(r, "%s on the source: GRANT SELECT, RELOAD, LOCK TABLES, REPLICATION SLAVE, %s ON *.* TO <the job's "
			  "source user>; (or SELECT and LOCK TABLES on the selected databases only, and the replication "
			  "privileges on *.*).",
		       admin_hint(c), c->src_info.flavor == TIDM_FLAVOR_MARIADB ? "BINLOG MONITOR" : "REPLICATION CLIENT");
	} else {
		pc_pass(r, "the source user %s has what the job needs (SELECT%s%s)", c->cfg->source.user,
			pc_copies(c) ? (has_global(&gs, P_RELOAD) ? ", RELOAD" : ", LOCK TABLES") : "",
			pc_replicates(c) ? ", REPLICATION SLAVE, REPLICATION CLIENT" : "");
	}
out:
	grants_dispose(&gs);
	tidm_buf_dispose(&missing);
	tidm_buf_dispose(&dbs);
}

PC_ITEM(pc_item_target_privileges)
{
	static const unsigned needed[] = {P_CREATE, P_SELECT, P_INSERT, P_UPDATE, P_DELETE, P_ALTER, P_DROP, P_INDEX};
	tidm_conn *tgt = pc_tgt(k);
	grants gs = {0};
	const char *err;
	tidm_buf missing = TIDM_BUF_INIT;
	size_t nmiss = 0;

	if (!tgt) {
		pc_cannot(r, "the target user's privileges");
		return;
	}
	if (load_grants(tgt, &gs) < 0) {
		pc_cannot(r, "the target user's privileges (SHOW GRANTS)");
		goto out;
	}
	if (pc_need_tables(c, k, &err) < 0) {
		tidm_err_set(TIDM_ERROR, "%s", err);
		pc_cannot(r, "the selected databases");
		goto out;
	}
	for (size_t p = 0; p < sizeof(needed) / sizeof(needed[0]); p++) {
		tidm_buf on = TIDM_BUF_INIT;
		size_t n = 0;
		const char *prev = NULL;
		/* the databases the job writes: those of selected tables, and tidm_meta */
		for (size_t i = 0; i < c->n_tables; i++) {
			if (prev && !strcmp(prev, c->tables[i].db))
				continue;
			prev = c->tables[i].db;
			if (!has_db(&gs, needed[p], prev))
				pc_list_add(&on, &n, 3, prev, NULL);
		}
		if (!has_db(&gs, needed[p], "tidm_meta"))
			pc_list_add(&on, &n, 3, "tidm_meta", NULL);
		pc_list_end(&on, n, 3);
		if (n)
			tidm_buf_printf(&missing, "%s%s on %s", nmiss++ ? "; " : "", priv_name(needed[p]), on.data);
		tidm_buf_dispose(&on);
	}
	if (nmiss) {
		pc_fail(r,
			"the target user %s lacks %s: tidm creates the databases and tables, writes the rows, builds "
			"indexes after the copy, applies replicated DDL, and keeps its checkpoints in tidm_meta",
			c->cfg->target.user, missing.data);
		pc_fix(r, "As an administrator on the target: GRANT CREATE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP, "
			  "INDEX ON *.* TO <the job's target user>; (or ON each selected database and ON `tidm_meta`.*).");
	} else {
		pc_pass(r, "the target user %s has CREATE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP and INDEX",
			c->cfg->target.user);
	}
out:
	grants_dispose(&gs);
	tidm_buf_dispose(&missing);
}

/* --- connection limits ------------------------------------------------------------------- */

static void limit_item(pc_ctx *c, pc_result *r, bool source)
{
	const pc_vars *v = source ? &c->svars : &c->tvars, *st = source ? &c->sstatus : &c->tstatus;
	const tidm_job_config *cfg = c->cfg;
	const char *mc = pc_var(v, "max_connections"), *tc = pc_var(st, "Threads_connected");
	unsigned need, in_use = tc ? (unsigned)strtoul(tc, NULL, 10) : 0, max;
	const char *side = source ? "source" : "target";
	char what[160];

	if ((source ? c->src_rc : c->tgt_rc) < 0) {
		pc_warn(r, "not checked: the %s connection failed", side);
		return;
	}
	if (!mc) {
		pc_warn(r, "could not check: the %s's max_connections could not be read", side);
		pc_fix(r, "Check it by hand, or ignore this item.");
		return;
	}
	max = (unsigned)strtoul(mc, NULL, 10);
	if (source) {
		/* the full phase: dump threads + the snapshot coordinator + one for schema and
		 * position; replication: the binlog reader + one */
		unsigned full = pc_copies(c) ? cfg->dump_threads + 2 : 0, sync = pc_replicates(c) ? 2 : 0;
		need = full > sync ? full : sync;
		snprintf(what, sizeof(what), "%u dump thread%s + 2", cfg->dump_threads, cfg->dump_threads == 1 ? "" : "s");
		if (!pc_copies(c))
			snprintf(what, sizeof(what), "the binlog reader + 1");
	} else {
		unsigned full = pc_copies(c) ? cfg->load_threads + 2 : 0,
			 sync = pc_replicates(c) ? cfg->apply_workers + 2 : 0;
		need = full > sync ? full : sync;
		if (full >= sync)
			snprintf(what, sizeof(what), "%u load thread%s + 2", cfg->load_threads,
				 cfg->load_threads == 1 ? "" : "s");
		else
			snprintf(what, sizeof(what), "%u apply worker%s + 2", cfg->apply_workers,
				 cfg->apply_workers == 1 ? "" : "s");
	}
	if (max < need) {
		pc_fail(r, "the %s's max_connections is %u, but the job opens up to %u connections to it (%s)", side, max,
			need, what);
		{
			char sug[32];
			snprintf(sug, sizeof(sug), "%u", need + in_use + 20);
			if (source)
				pc_fix_setting(r, c, "max_connections", sug, true);
			else
				pc_fix(r, "Raise max_connections on the target (SET GLOBAL max_connections = %s, and in its "
					  "configuration).",
				       sug);
		}
		pc_fix(r, "Or lower the job's spec (dump-threads, load-threads, apply-workers).");
		return;
	}
	if (tc && max - (in_use < max ? in_use : max) < need) {
		pc_warn(r,
			"the %s's max_connections is %u and %u are in use now, leaving %u; the job opens up to %u (%s), so "
			"it or the applications may be refused (\"Too many connections\")",
			side, max, in_use, max - (in_use < max ? in_use : max), need, what);
		pc_fix(r, "Raise max_connections on the %s, or lower the job's spec.", side);
		return;
	}
	pc_pass(r, "max_connections %u, %u in use; the job opens up to %u (%s)", max, in_use, need, what);
}

PC_ITEM(pc_item_source_connections)
{
	(void)k;
	limit_item(c, r, true);
}

PC_ITEM(pc_item_target_connections)
{
	(void)k;
	limit_item(c, r, false);
}
