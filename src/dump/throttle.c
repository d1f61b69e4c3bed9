/*
 * throttle.c - spec.export for the full phase: the dump workers' reads from the source
 * go through one shared throttle (db/probe.h: caps in rows and bytes per second, and the
 * adaptive mode that backs off when the source's latency rises). Its gauges are in the
 * run's progress (tidm_full_progress.throttle) for the progress line and the metrics.
 */
#include "db/probe.h"
#include "dump/full_int.h"

/* Before the first copy round: in adaptive mode this measures the source's idle latency. */
void full_export_begin(run *r, unsigned ndump)
{
	tidm_probe_opts o = {0};
	tidm_buf probe = TIDM_BUF_INIT;

	if (r->exp)
		return;
	o.max_rows = (double)r->cfg->export_max_rows;
	o.max_bytes = (double)r->cfg->export_max_bytes;
	o.adaptive = r->cfg->export_adaptive;
	o.readers = ndump;
	o.what = "the export";
	o.summary = true;
	if (o.adaptive) {
		/* the probe: the first key of the largest table with a key, a point read through
		 * the storage engine as the applications' queries are. (bench/throttle.sh on a
		 * shared 2-core machine: neither it nor SELECT 1 nor a 1,000-key range, 2 ms a
		 * probe, rose clearly above its idle latency while sysbench lost 25-35 % to an
		 * unthrottled export there; see bench/README.md) */
		table *big = NULL;
		size_t k;
		for (k = 0; k < r->ntables; k++)
			if (!r->tables[k].is_view && r->tables[k].nkey && (!big || r->tables[k].est_rows > big->est_rows))
				big = &r->tables[k];
		if (big) {
			tidm_buf_puts(&probe, "SELECT ");
			for (k = 0; k < big->nkey; k++) {
				if (k)
					tidm_buf_putc(&probe, ',');
				tidm_quote_ident(&probe, big->key[k]);
			}
			tidm_buf_puts(&probe, " FROM ");
			tidm_quote_qualified(&probe, big->db, big->name);
			tidm_buf_puts(&probe, " ORDER BY ");
			for (k = 0; k < big->nkey; k++) {
				if (k)
					tidm_buf_putc(&probe, ',');
				tidm_quote_ident(&probe, big->key[k]);
			}
			tidm_buf_puts(&probe, " LIMIT 1");
			o.probe_sql = probe.data;
		}
	}
	tidm_probe_start(&r->exp, &r->src_opts, &o, &r->prog->throttle);
	tidm_buf_dispose(&probe);
	if (r->exp && (o.max_rows > 0 || o.max_bytes > 0)) {
		char rows[48] = "", bytes[48] = "";
		if (o.max_rows > 0)
			snprintf(rows, sizeof(rows), "%.0f rows/s", o.max_rows);
		if (o.max_bytes > 0)
			snprintf(bytes, sizeof(bytes), "%.0f bytes/s", o.max_bytes);
		tidm_info("the export throttle: at most %s%s%s read from the source, all dump workers together", rows,
			  *rows && *bytes ? " and " : "", bytes);
	}
}

static bool stopping(void *payload)
{
	return full_stopping(payload);
}

int full_export_take(run *r, uint64_t *rows, uint64_t *bytes)
{
	int rc = tidm_throttle_take(tidm_probe_throttle(r->exp), *rows, *bytes, stopping, r);

	*rows = *bytes = 0;
	return rc;
}

void full_export_end(run *r)
{
	tidm_probe_stop(r->exp);
	r->exp = NULL;
}
