/*
 * txn_split.c - piece size of a split source transaction and positions inside one (see
 * txn_split.h).
 *
 * DESIGN
 *  The applier (apply.c) keeps the moving parts: it numbers the rows of the current
 *  transaction, adds up per worker the statement bytes sent since that worker's last
 *  commit and, past the piece size, queues the worker a mark that commits with the
 *  checkpoint (transaction start, row ordinal). This file holds the decisions that need
 *  no applier state, so they can be tested alone: what the piece size is on a target, and
 *  whether a checkpoint covers a row.
 */
#include "sync/txn_split.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sync/apply.h"
#include "util/err.h"
#include "util/log.h"

uint64_t tidm_txn_split_default(enum tidm_flavor flavor, uint64_t limit)
{
	uint64_t piece;

	if (flavor != TIDM_FLAVOR_TIDB)
		return 0;
	if (!limit)
		limit = TIDM_TIDB_TXN_LIMIT_DEFAULT;
	piece = limit / 2;
	return piece < (1u << 20) ? (1u << 20) : piece;
}

int tidm_txn_limit_parse(const char *value, uint64_t *out)
{
	char *end = NULL;
	double d;
	size_t i, n;

	if (!value)
		return -1;
	while (*value == ' ')
		value++;
	n = strlen(value);
	while (n && value[n - 1] == ' ')
		n--;
	if (!n)
		return -1;
	for (i = 0; i < n && value[i] >= '0' && value[i] <= '9'; i++)
		;
	if (i == n) {
		uint64_t v = 0;
		for (i = 0; i < n; i++) {
			unsigned dg = (unsigned)(value[i] - '0');
			if (v > (UINT64_MAX - dg) / 10)
				return -1;
			v = v * 10 + dg;
		}
		*out = v;
		return 0;
	}
	if (value[0] == '-')
		return -1;
	d = strtod(value, &end);
	if (end != value + n || !isfinite(d) || d < 0 || d >= 18446744073709551616.0)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

bool tidm_txn_pos_applied(const char *txn_file, uint64_t txn_pos, uint64_t row, const char *cp_file, uint64_t cp_pos,
			  uint64_t cp_row)
{
	int c;

	if (!cp_file || !cp_file[0])
		return false;
	c = tidm_sync_pos_cmp(txn_file, txn_pos, cp_file, cp_pos);
	return c < 0 || (c == 0 && row < cp_row);
}

void tidm_txn_split_resolve(tidm_conn *c, const tidm_job_config *cfg, uint64_t *out)
{
	const tidm_server_info *si = tidm_conn_info(c);
	tidm_res *res = NULL;
	uint64_t limit = 0;

	if (cfg->max_txn_bytes_set) {
		*out = cfg->max_txn_bytes;
		return;
	}
	*out = 0;
	if (si->flavor != TIDM_FLAVOR_TIDB)
		return;
	/* SHOW CONFIG: TiDB 4.0 and later; one row per TiDB instance */
	if (tidm_conn_query(c, &res,
			    "SHOW CONFIG WHERE type = 'tidb' AND name = 'performance.txn-total-size-limit'") == 0) {
		while (tidm_res_next(res) == 1) {
			uint64_t v;
			if (tidm_txn_limit_parse(tidm_res_get(res, 3), &v) == 0 && v && (!limit || v < limit))
				limit = v;
		}
	}
	tidm_res_free(res);
	tidm_err_clear();
	*out = tidm_txn_split_default(si->flavor, limit);
	if (!limit)
		tidm_info("cannot read the target's txn-total-size-limit (SHOW CONFIG): taking TiDB's default %" PRIu64
			  " bytes; larger source transactions are applied in pieces of %" PRIu64 " bytes",
			  (uint64_t)TIDM_TIDB_TXN_LIMIT_DEFAULT, *out);
	else
		tidm_info("target txn-total-size-limit %" PRIu64 " bytes: larger source transactions are applied in "
			  "pieces of %" PRIu64 " bytes (spec.max-txn-bytes)",
			  limit, *out);
}
