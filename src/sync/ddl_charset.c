/*
 * ddl_charset.c - the session character set and collations of a replicated statement
 * (see ddl_charset.h).
 *
 * DESIGN
 * The target's information_schema.COLLATIONS (id, name, character set) is read once, at the
 * first statement that needs a name. The object remembers which ids the session was last
 * set to, so a stream of DDL written under one setting costs one SET for the first
 * statement and none after; 0 means "not set by us" (tidm's own SET NAMES utf8mb4, or
 * collation_database after a USE). Values are written as quoted strings.
 */
#include "sync/ddl_charset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/dialect.h"
#include "db/quote.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

struct coll {
	unsigned id;
	char *name;
};

struct tidm_ddl_charset {
	tidm_conn *conn;
	enum tidm_flavor source;
	bool loaded;
	struct coll *tab;
	size_t n;
	unsigned client, connection, server, database; /* ids the session has (0: not ours) */
	bool not_utf8mb4; /* client or connection character set is not utf8mb4 now */
	unsigned warned;  /* last id warned about */
};

/* MySQL 8's ids that MariaDB does not know (MySQL's collations.xml / SHOW COLLATION). */
static const struct {
	unsigned id;
	const char *name;
} mysql80[] = {
	{255, "utf8mb4_0900_ai_ci"},
	{278, "utf8mb4_0900_as_cs"},
	{305, "utf8mb4_0900_as_ci"},
	{309, "utf8mb4_0900_bin"},
	{76, "utf8mb3_tolower_ci"},
};

tidm_ddl_charset *tidm_ddl_charset_new(tidm_conn *c, enum tidm_flavor source)
{
	tidm_ddl_charset *cs = calloc(1, sizeof(*cs));
	if (!cs)
		abort();
	cs->conn = c;
	cs->source = source;
	return cs;
}

void tidm_ddl_charset_free(tidm_ddl_charset *cs)
{
	size_t i;

	if (!cs)
		return;
	for (i = 0; i < cs->n; i++)
		free(cs->tab[i].name);
	free(cs->tab);
	free(cs);
}

static int load(tidm_ddl_charset *cs)
{
	tidm_res *res = NULL;
	int rc;

	if (cs->loaded)
		return 0;
	rc = tidm_conn_query(cs->conn, &res, "SELECT ID, COLLATION_NAME FROM information_schema.COLLATIONS");
	if (rc < 0) {
		tidm_err_prefix("cannot read the target's collations (information_schema.COLLATIONS): ");
		return rc;
	}
	cs->tab = calloc(tidm_res_rows(res) + 1, sizeof(*cs->tab));
	if (!cs->tab)
		abort();
	while (tidm_res_next(res) == 1) {
		if (!tidm_res_get(res, 0) || !tidm_res_get(res, 1))
			continue;
		cs->tab[cs->n].id = (unsigned)strtoul(tidm_res_get(res, 0), NULL, 10);
		if (!(cs->tab[cs->n].name = strdup(tidm_res_get(res, 1))))
			abort();
		cs->n++;
	}
	tidm_res_free(res);
	cs->loaded = true;
	return 0;
}

/* The source's collation `id` by name, NULL when unknown. Ids below 247 mean the same on
 * every flavour; above, the target's numbering is the source's only within one family. */
static const char *source_name(const tidm_ddl_charset *cs, unsigned id)
{
	enum tidm_flavor t = tidm_conn_info(cs->conn)->flavor;
	bool same = (cs->source == TIDM_FLAVOR_MARIADB) == (t == TIDM_FLAVOR_MARIADB);
	size_t i;

	if (id < 247 || same)
		for (i = 0; i < cs->n; i++)
			if (cs->tab[i].id == id)
				return cs->tab[i].name;
	if (cs->source != TIDM_FLAVOR_MARIADB)
		for (i = 0; i < sizeof(mysql80) / sizeof(mysql80[0]); i++)
			if (mysql80[i].id == id)
				return mysql80[i].name;
	return NULL;
}

/* The name to set on the target for source collation `id`, into out; false when unknown. */
static bool target_name(tidm_ddl_charset *cs, unsigned id, char *out, size_t cap)
{
	const tidm_server_info *si = tidm_conn_info(cs->conn);
	const char *name = source_name(cs, id), *mapped, *why = NULL;

	if (!name) {
		if (cs->warned != id)
			tidm_warn("collation id %u of a replicated statement's session is unknown to the target; the "
				  "statement runs with the target session's value instead",
				  id);
		cs->warned = id;
		return false;
	}
	mapped = tidm_dialect_map_collation(si->flavor, si->version, name, &why);
	if (why)
		tidm_info("session collation %s of a replicated statement runs as %s on the target (%s)", name, mapped,
			  why);
	snprintf(out, cap, "%s", mapped);
	return true;
}

/* The character set of a collation name ("utf8mb4_general_ci" → "utf8mb4"). */
static void charset_of(const char *coll, char *out, size_t cap)
{
	size_t n = strcspn(coll, "_");
	snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), coll);
}

static void put_set(tidm_buf *b, const char *var, const char *value)
{
	tidm_buf_puts(b, b->len ? ", " : "SET SESSION ");
	tidm_buf_puts(b, var);
	tidm_buf_puts(b, " = ");
	tidm_quote_string(b, value, strlen(value));
}

int tidm_ddl_charset_enter(tidm_ddl_charset *cs, const tidm_binlog_query *q, bool after_use)
{
	tidm_buf b = TIDM_BUF_INIT;
	char name[128], set[64];
	unsigned client = cs->client, connection = cs->connection, server = cs->server, database = cs->database;
	bool not_utf8mb4 = cs->not_utf8mb4;
	int rc = 0;

	if (after_use)
		database = 0;
	if (!q->has_charset && !q->has_charset_db)
		return 0;
	if ((rc = load(cs)) < 0)
		return rc;
	if (q->has_charset && q->charset_client != client && target_name(cs, q->charset_client, name, sizeof(name))) {
		charset_of(name, set, sizeof(set));
		/* ucs2, utf16 and utf32 cannot be a client character set (a server refuses them too) */
		if (strncmp(set, "ucs2", 4) && strncmp(set, "utf16", 5) && strncmp(set, "utf32", 5)) {
			put_set(&b, "character_set_client", set);
			client = q->charset_client;
			not_utf8mb4 = not_utf8mb4 || strcmp(set, "utf8mb4") != 0;
		}
	}
	if (q->has_charset && q->collation_connection != connection &&
	    target_name(cs, q->collation_connection, name, sizeof(name))) {
		put_set(&b, "collation_connection", name);
		connection = q->collation_connection;
		charset_of(name, set, sizeof(set));
		not_utf8mb4 = not_utf8mb4 || strcmp(set, "utf8mb4") != 0;
	}
	if (q->has_charset && q->collation_server != server && target_name(cs, q->collation_server, name, sizeof(name))) {
		put_set(&b, "collation_server", name);
		server = q->collation_server;
	}
	if (q->has_charset_db && q->collation_database != database &&
	    target_name(cs, q->collation_database, name, sizeof(name))) {
		put_set(&b, "collation_database", name);
		database = q->collation_database;
	}
	if (b.len && (rc = tidm_conn_exec(cs->conn, b.data, b.len)) < 0) {
		tidm_err_prefix("cannot set the session character set of a replicated statement (%s): ", b.data);
	} else {
		cs->client = client;
		cs->connection = connection;
		cs->server = server;
		cs->database = database;
		cs->not_utf8mb4 = not_utf8mb4;
	}
	tidm_buf_dispose(&b);
	return rc;
}

int tidm_ddl_charset_leave(tidm_ddl_charset *cs)
{
	int rc;

	if (!cs->not_utf8mb4)
		return 0;
	if ((rc = tidm_conn_exec(cs->conn, "SET NAMES utf8mb4", strlen("SET NAMES utf8mb4"))) < 0)
		return rc;
	cs->client = cs->connection = 0;
	cs->not_utf8mb4 = false;
	return 0;
}
