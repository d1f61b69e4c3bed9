/*
 * triggers.c - refuse (or warn about) triggers on the target's selected tables (see
 * triggers.h).
 *
 * DESIGN: one query of information_schema.TRIGGERS on the target, filtered here with the
 * job's object selection (the same matcher the copy and the applier use, so the check
 * covers exactly the tables tidm will write). It runs before anything is written to a
 * selected table, on every start (a trigger may have been created since the last run).
 * The message lists at most MAX_LISTED triggers and says how many more there are.
 */
#include "sync/triggers.h"

#include <stdio.h>
#include <string.h>

#include "db/quote.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/filter.h"
#include "util/log.h"

#define MAX_LISTED 20

int tidm_target_triggers_check(tidm_conn *tgt, const tidm_job_config *cfg)
{
	tidm_res *res = NULL;
	tidm_buf list = TIDM_BUF_INIT;
	size_t n = 0;
	int rc;

	rc = tidm_conn_query(tgt, &res,
			     "SELECT EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, "
			     "EVENT_MANIPULATION FROM information_schema.TRIGGERS "
			     "ORDER BY EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, TRIGGER_NAME");
	if (rc < 0) {
		tidm_err_prefix("cannot list the target's triggers: ");
		return rc;
	}
	while (tidm_res_next(res) == 1) {
		const char *db = tidm_res_get(res, 0), *t = tidm_res_get(res, 1), *name = tidm_res_get(res, 2);

		if (!db || !t || !name || !tidm_filter_match_table(&cfg->objects, db, t))
			continue;
		if (++n > MAX_LISTED)
			continue;
		if (list.len)
			tidm_buf_puts(&list, ", ");
		tidm_quote_qualified(&list, db, t);
		tidm_buf_puts(&list, " (trigger ");
		tidm_quote_ident(&list, name);
		tidm_buf_printf(&list, " %s %s)", tidm_res_get(res, 3) ? tidm_res_get(res, 3) : "?",
				tidm_res_get(res, 4) ? tidm_res_get(res, 4) : "?");
	}
	tidm_res_free(res);
	if (n > MAX_LISTED)
		tidm_buf_printf(&list, " and %zu more", n - MAX_LISTED);
	if (n == 0) {
		rc = 0;
	} else if (cfg->target.allow_triggers) {
		tidm_warn("the target has %zu trigger%s on selected tables: %s; with triggers: allow they run for every "
			  "row tidm writes there (the copy and each replicated change), and what they do comes on top "
			  "of the source's rows",
			  n, n == 1 ? "" : "s", list.data);
		rc = 0;
	} else {
		rc = tidm_err_set(TIDM_EUNSUPPORTED,
				  "the target has %zu trigger%s on selected tables: %s; they would run for every row tidm "
				  "writes there (the copy and each replicated change) and may change or add rows beyond the "
				  "source's (whose own triggers' effects already come as rows); drop them on the target "
				  "(DROP TRIGGER) and create them again after the migration, or set `triggers: allow` under "
				  "target in the job file to let them run",
				  n, n == 1 ? "" : "s", list.data);
	}
	tidm_buf_dispose(&list);
	return rc;
}
