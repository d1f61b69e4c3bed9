/*
 * narrow.c - from a differing chunk to the keys that may differ.
 *
 * DESIGN
 *  A range with more than leaf_rows rows (chunk_rows / 8) on its larger side is halved at
 *  the middle key of that side (ORDER BY key LIMIT 1 OFFSET n/2: an index walk on the
 *  server); each half's
 *  digest is taken on both sides and only a half that differs is halved again. A range of
 *  at most leaf_rows rows is read as row digests (key + CRC32 of the row: some 20 bytes a
 *  row) from both sides; keys whose digest differs or that one side lacks become
 *  candidates. A range split on the source's collation may put a row near a bound in the
 *  other half on a target whose collation orders it otherwise: such a row looks missing in
 *  one half and extra in the other, and the lookups by key (online.c) that every candidate
 *  goes through find it equal. A table with JSON compared in the client (render.c) is read
 *  as row digests chunk by chunk, whatever the chunk digests say. Reads of the source are taken in a snapshot and those of the
 *  target after the applier passed its position, as everywhere (online.c).
 */
#include "verify/verify_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/err.h"

#define MAX_DEPTH 48

int vrows_read(vrun *r, vside *s, const char *sql, const vtable *t, vrow **out, size_t *n)
{
	const char *const *vals;
	const unsigned long *lens;
	tidm_buf key = TIDM_BUF_INIT, canon = TIDM_BUF_INIT;
	size_t cap = *n;
	int got, rc;

	(void)r;
	if ((rc = tidm_conn_stream_begin(s->c, sql)) < 0)
		return rc;
	while ((got = tidm_conn_stream_next(s->c, &vals, &lens)) == 1) {
		size_t i;
		tidm_buf_clear(&key);
		for (i = 0; i < t->nkey; i++) {
			if (i)
				tidm_buf_putc(&key, ',');
			tidm_conn_put_literal(&key, tidm_conn_stream_kind(s->c, (unsigned)i), vals[i], lens[i]);
		}
		if (*n == cap) {
			vrow *grown;
			cap = cap ? cap * 2 : 256;
			grown = realloc(*out, cap * sizeof(**out));
			if (!grown)
				abort();
			*out = grown;
		}
		(*out)[*n].key = vstrdup(key.data ? key.data : "");
		(*out)[*n].h = vals[t->nkey] ? (uint32_t)strtoul(vals[t->nkey], NULL, 10) : 0;
		for (i = 0; i < t->njson_client; i++) {
			/* JSON compared in the client: its canonical text folded into the hash */
			const char *v = vals[t->nkey + 1 + i];
			if (!v)
				continue;
			tidm_buf_clear(&canon);
			vjson_canon(&canon, v, lens[t->nkey + 1 + i]);
			(*out)[*n].h = (uint32_t)crc32((*out)[*n].h, (const Bytef *)(canon.data ? canon.data : ""),
						       (uInt)canon.len);
		}
		(*n)++;
	}
	tidm_conn_stream_end(s->c);
	tidm_buf_dispose(&key);
	tidm_buf_dispose(&canon);
	return got < 0 ? got : 0;
}

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const vrow *)a)->key, ((const vrow *)b)->key);
}

static void add_cand(vcand **c, size_t *n, const char *key)
{
	vcand *grown = realloc(*c, (*n + 1) * sizeof(**c));
	if (!grown)
		abort();
	*c = grown;
	memset(&(*c)[*n], 0, sizeof(**c));
	(*c)[*n].key = vstrdup(key);
	(*n)++;
}

static void free_rows(vrow *rows, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		free(rows[i].key);
	free(rows);
}

/* Row digests of (lo, hi] on both sides; differing keys become candidates. */
static int leaf(vrun *r, vside *src, vside *tgt, const vtable *t, const char *lo, const char *hi, vcand **cands,
		size_t *ncands)
{
	tidm_buf q = TIDM_BUF_INIT;
	vrow *a = NULL, *b = NULL;
	size_t na = 0, nb = 0, i = 0, j = 0;
	vpos at;
	bool passed;
	int rc;

	vthrottle(r, r->leaf_rows);
	vrender_rows_sql(&q, t, &src->d, lo, hi);
	if ((rc = vread_begin(r, src, &at)) < 0)
		goto out;
	rc = vrows_read(r, src, q.data, t, &a, &na);
	vread_end(r, src);
	if (rc < 0 || (rc = vwait_applied(r, tgt->c, &at, 10.0, &passed)) < 0)
		goto out;
	tidm_buf_clear(&q);
	vrender_rows_sql(&q, t, &tgt->d, lo, hi);
	if ((rc = vrows_read(r, tgt, q.data, t, &b, &nb)) < 0)
		goto out;
	if (na)
		qsort(a, na, sizeof(*a), row_cmp);
	if (nb)
		qsort(b, nb, sizeof(*b), row_cmp);
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i].key, b[j].key);
		if (c < 0) {
			add_cand(cands, ncands, a[i++].key);
		} else if (c > 0) {
			add_cand(cands, ncands, b[j++].key);
		} else {
			if (a[i].h != b[j].h)
				add_cand(cands, ncands, a[i].key);
			i++;
			j++;
		}
	}
out:
	free_rows(a, na);
	free_rows(b, nb);
	tidm_buf_dispose(&q);
	return rc;
}

/* COUNT/SUM of (lo, hi] on one side (source: in a snapshot; target: after it). */
static int half_digest(vrun *r, vside *s, const vtable *t, const char *lo, const char *hi, vpos *at, char out[2][32])
{
	tidm_buf q = TIDM_BUF_INIT;
	tidm_res *res = NULL;
	int rc, i;

	if (s->source) {
		vthrottle(r, r->leaf_rows);
		if ((rc = vread_begin(r, s, at)) < 0)
			return rc;
	} else {
		bool passed;
		if ((rc = vwait_applied(r, s->c, at, 10.0, &passed)) < 0)
			return rc;
	}
	vrender_chunk_sql(&q, t, &s->d, lo, hi);
	rc = tidm_conn_query(s->c, &res, q.data);
	if (rc == 0 && tidm_res_next(res) == 1)
		for (i = 0; i < 2; i++)
			snprintf(out[i], 32, "%s", tidm_res_get(res, (unsigned)i) ? tidm_res_get(res, (unsigned)i) : "0");
	tidm_res_free(res);
	if (s->source)
		vread_end(r, s);
	tidm_buf_dispose(&q);
	return rc;
}

/* The middle key of (lo, hi] on side s, or *mid = NULL. */
static int middle(vside *s, const vtable *t, const char *lo, const char *hi, uint64_t rows, char **mid)
{
	tidm_buf q = TIDM_BUF_INIT, k = TIDM_BUF_INIT;
	const char *const *vals;
	const unsigned long *lens;
	int got, rc;

	*mid = NULL;
	vrender_mid_sql(&q, t, lo, hi, rows / 2);
	if ((rc = tidm_conn_stream_begin(s->c, q.data)) < 0)
		goto out;
	got = tidm_conn_stream_next(s->c, &vals, &lens);
	if (got == 1) {
		unsigned i;
		for (i = 0; i < tidm_conn_stream_cols(s->c); i++) {
			if (i)
				tidm_buf_putc(&k, ',');
			tidm_conn_put_literal(&k, tidm_conn_stream_kind(s->c, i), vals[i], lens[i]);
		}
		*mid = vstrdup(k.data);
	}
	while (got == 1)
		got = tidm_conn_stream_next(s->c, &vals, &lens);
	tidm_conn_stream_end(s->c);
	rc = got < 0 ? got : 0;
out:
	tidm_buf_dispose(&q);
	tidm_buf_dispose(&k);
	return rc;
}

static int bisect(vrun *r, vside *src, vside *tgt, const vtable *t, const char *lo, const char *hi, uint64_t srows,
		  uint64_t trows, unsigned depth, vcand **cands, size_t *ncands)
{
	uint64_t rows = srows > trows ? srows : trows;
	char *mid = NULL;
	int rc, h;

	if (vcancelled(r))
		return tidm_err_set(TIDM_ECANCELED, "verify interrupted");
	if (rows <= r->leaf_rows || depth >= MAX_DEPTH || t->njson_client)
		return leaf(r, src, tgt, t, lo, hi, cands, ncands);
	if ((rc = middle(srows >= trows ? src : tgt, t, lo, hi, rows, &mid)) < 0)
		return rc;
	if (!mid)
		return leaf(r, src, tgt, t, lo, hi, cands, ncands);
	for (h = 0; h < 2 && rc == 0; h++) {
		const char *l = h ? mid : lo, *u = h ? hi : mid;
		char s[2][32] = {{0}}, d[2][32] = {{0}};
		vpos at;
		memset(&at, 0, sizeof(at));
		if ((rc = half_digest(r, src, t, l, u, &at, s)) < 0 || (rc = half_digest(r, tgt, t, l, u, &at, d)) < 0)
			break;
		if (!strcmp(s[0], d[0]) && !strcmp(s[1], d[1]))
			continue;
		rc = bisect(r, src, tgt, t, l, u, strtoull(s[0], NULL, 10), strtoull(d[0], NULL, 10), depth + 1, cands,
			    ncands);
	}
	free(mid);
	return rc;
}

int vnarrow(vrun *r, vside *src, vside *tgt, const vtable *t, const char *lo, const char *hi, uint64_t srows,
	    uint64_t trows, vcand **cands, size_t *ncands)
{
	return bisect(r, src, tgt, t, lo, hi, srows, trows, 0, cands, ncands);
}
