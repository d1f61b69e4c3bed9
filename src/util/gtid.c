/*
 * gtid.c - GTIDs and GTID sets of MySQL and MariaDB: text parse/format, set algebra, and
 * MySQL's binary sid/interval encoding. See gtid.h for the semantics of each flavor.
 *
 * Design: a MySQL set is an array of (uuid, tag) entries kept sorted by uuid bytes then
 * tag ("" first), each with an array of inclusive intervals kept sorted, disjoint and
 * non-adjacent (always merged). Every operation preserves that invariant, so format is a
 * plain walk, equality is a plain compare and containment is a per-interval lookup. An
 * entry whose last interval is removed is dropped. A MariaDB set is an array of GTIDs, one
 * per domain, sorted by domain. Sets are small (a handful of uuids/domains), so lookups
 * are linear/binary searches over arrays and inserts shift; no hashing.
 *
 * Wire input (tidm_gtid_set_decode_mysql) is bounded before anything is allocated: counts
 * are checked against the bytes left (each entry needs >= 24 bytes, each interval 16).
 */
#include "util/gtid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* ---- memory ---- */

static void *xrealloc(void *p, size_t n, size_t size)
{
	void *q;

	if (size && n > SIZE_MAX / size)
		abort();
	q = realloc(p, n * size > 0 ? n * size : 1);
	if (!q) {
		fputs("tidm: out of memory\n", stderr);
		abort();
	}
	return q;
}

/* ---- UUID text ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse exactly `len` chars of s as a UUID (36 with hyphens, or 32 hex digits). */
static int uuid_parse(uint8_t out[16], const char *s, size_t len)
{
	size_t i, o = 0;

	if (len != 36 && len != 32)
		return -1;
	for (i = 0; i < len;) {
		int hi, lo;
		if (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i] != '-')
				return -1;
			i++;
			continue;
		}
		hi = hexval((unsigned char)s[i]);
		lo = i + 1 < len ? hexval((unsigned char)s[i + 1]) : -1;
		if (hi < 0 || lo < 0 || o >= 16)
			return -1;
		out[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return o == 16 ? 0 : -1;
}

static void uuid_format(const uint8_t u[16], tidm_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	char s[37];
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			s[o++] = '-';
		s[o++] = hex[u[i] >> 4];
		s[o++] = hex[u[i] & 15];
	}
	s[o] = '\0';
	tidm_buf_put(out, s, 36);
}

/* A tag: [a-z_][a-z0-9_]{0,31}, any case in text (stored lowercase). */
static int tag_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > TIDM_GTID_TAG_MAX)
		return 0;
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

static void tag_copy(char dst[TIDM_GTID_TAG_MAX + 1], const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[len] = '\0';
}

/* ---- set internals ---- */

static int sid_cmp(const uint8_t *ua, const char *ta, const uint8_t *ub, const char *tb)
{
	int c = memcmp(ua, ub, 16);

	return c ? c : strcmp(ta, tb);
}

/* Index of (uuid, tag), or the insertion point with *found = false. */
static size_t sid_find(const tidm_gtid_set *set, const uint8_t *uuid, const char *tag, bool *found)
{
	size_t lo = 0, hi = set->n_sids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = sid_cmp(set->sids[mid].uuid, set->sids[mid].tag, uuid, tag);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static tidm_gtid_sid *sid_get(tidm_gtid_set *set, const uint8_t *uuid, const char *tag)
{
	bool found;
	size_t i = sid_find(set, uuid, tag, &found);
	tidm_gtid_sid *s;

	if (found)
		return &set->sids[i];
	if (set->n_sids == set->cap_sids) {
		set->cap_sids = set->cap_sids ? set->cap_sids * 2 : 4;
		set->sids = xrealloc(set->sids, set->cap_sids, sizeof(*set->sids));
	}
	memmove(&set->sids[i + 1], &set->sids[i], (set->n_sids - i) * sizeof(*set->sids));
	set->n_sids++;
	s = &set->sids[i];
	memset(s, 0, sizeof(*s));
	memcpy(s->uuid, uuid, 16);
	snprintf(s->tag, sizeof(s->tag), "%s", tag);
	return s;
}

static void sid_drop(tidm_gtid_set *set, size_t i)
{
	free(set->sids[i].iv);
	memmove(&set->sids[i], &set->sids[i + 1], (set->n_sids - i - 1) * sizeof(*set->sids));
	set->n_sids--;
}

/* Add [first, last] (1 <= first <= last <= GNO_MAX), merging overlapping/adjacent ones. */
static void iv_add(tidm_gtid_sid *s, uint64_t first, uint64_t last)
{
	size_t i = 0, j;

	/* first interval that overlaps or touches [first, last] from the right */
	while (i < s->n_iv && s->iv[i].last + 1 < first)
		i++;
	j = i;
	while (j < s->n_iv && s->iv[j].first <= last + 1) {
		if (s->iv[j].first < first)
			first = s->iv[j].first;
		if (s->iv[j].last > last)
			last = s->iv[j].last;
		j++;
	}
	if (j == i) { /* no merge: insert at i */
		if (s->n_iv == s->cap_iv) {
			s->cap_iv = s->cap_iv ? s->cap_iv * 2 : 4;
			s->iv = xrealloc(s->iv, s->cap_iv, sizeof(*s->iv));
		}
		memmove(&s->iv[i + 1], &s->iv[i], (s->n_iv - i) * sizeof(*s->iv));
		s->n_iv++;
	} else if (j > i + 1) { /* merged several: keep slot i, close the gap */
		memmove(&s->iv[i + 1], &s->iv[j], (s->n_iv - j) * sizeof(*s->iv));
		s->n_iv -= j - i - 1;
	}
	s->iv[i].first = first;
	s->iv[i].last = last;
}

/* Remove [first, last] from s. */
static void iv_remove(tidm_gtid_sid *s, uint64_t first, uint64_t last)
{
	size_t i = 0;

	while (i < s->n_iv) {
		tidm_gtid_interval *v = &s->iv[i];
		if (v->last < first) {
			i++;
			continue;
		}
		if (v->first > last)
			break;
		if (v->first < first && v->last > last) { /* split in two */
			tidm_gtid_interval right = {last + 1, v->last};
			v->last = first - 1;
			if (s->n_iv == s->cap_iv) {
				s->cap_iv = s->cap_iv * 2;
				s->iv = xrealloc(s->iv, s->cap_iv, sizeof(*s->iv));
			}
			memmove(&s->iv[i + 2], &s->iv[i + 1], (s->n_iv - i - 1) * sizeof(*s->iv));
			s->iv[i + 1] = right;
			s->n_iv++;
			return;
		}
		if (v->first < first) { /* cut the tail */
			v->last = first - 1;
			i++;
		} else if (v->last > last) { /* cut the head */
			v->first = last + 1;
			return;
		} else { /* covered: delete */
			memmove(&s->iv[i], &s->iv[i + 1], (s->n_iv - i - 1) * sizeof(*s->iv));
			s->n_iv--;
		}
	}
}

/* [first, last] entirely inside one interval of s. */
static bool iv_contains(const tidm_gtid_sid *s, uint64_t first, uint64_t last)
{
	size_t lo = 0, hi = s->n_iv;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->iv[mid].last < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n_iv && s->iv[lo].first <= first && last <= s->iv[lo].last;
}

/* MariaDB: index of domain, or the insertion point. */
static size_t dom_find(const tidm_gtid_set *set, uint32_t domain, bool *found)
{
	size_t i;

	for (i = 0; i < set->n_doms; i++) {
		if (set->doms[i].domain == domain) {
			*found = true;
			return i;
		}
		if (set->doms[i].domain > domain)
			break;
	}
	*found = false;
	return i;
}

static void dom_insert(tidm_gtid_set *set, size_t i, const tidm_gtid *g)
{
	if (set->n_doms == set->cap_doms) {
		set->cap_doms = set->cap_doms ? set->cap_doms * 2 : 4;
		set->doms = xrealloc(set->doms, set->cap_doms, sizeof(*set->doms));
	}
	memmove(&set->doms[i + 1], &set->doms[i], (set->n_doms - i) * sizeof(*set->doms));
	set->n_doms++;
	set->doms[i] = *g;
	set->doms[i].flavor = TIDM_GTID_MARIADB;
}

/* ---- lifecycle ---- */

void tidm_gtid_set_init(tidm_gtid_set *set, tidm_gtid_flavor flavor)
{
	memset(set, 0, sizeof(*set));
	set->flavor = flavor;
}

void tidm_gtid_set_clear(tidm_gtid_set *set)
{
	size_t i;

	for (i = 0; i < set->n_sids; i++)
		free(set->sids[i].iv);
	set->n_sids = 0;
	set->n_doms = 0;
}

void tidm_gtid_set_dispose(tidm_gtid_set *set)
{
	tidm_gtid_set_clear(set);
	free(set->sids);
	free(set->doms);
	memset(set, 0, sizeof(*set));
}

void tidm_gtid_set_copy(tidm_gtid_set *out, const tidm_gtid_set *src)
{
	size_t i;

	if (out == src)
		return;
	tidm_gtid_set_clear(out);
	out->flavor = src->flavor;
	if (src->n_sids > out->cap_sids) {
		out->cap_sids = src->n_sids;
		out->sids = xrealloc(out->sids, out->cap_sids, sizeof(*out->sids));
	}
	for (i = 0; i < src->n_sids; i++) {
		tidm_gtid_sid *d = &out->sids[i];
		*d = src->sids[i];
		d->cap_iv = d->n_iv;
		d->iv = xrealloc(NULL, d->n_iv, sizeof(*d->iv));
		memcpy(d->iv, src->sids[i].iv, d->n_iv * sizeof(*d->iv));
	}
	out->n_sids = src->n_sids;
	if (src->n_doms > out->cap_doms) {
		out->cap_doms = src->n_doms;
		out->doms = xrealloc(out->doms, out->cap_doms, sizeof(*out->doms));
	}
	if (src->n_doms)
		memcpy(out->doms, src->doms, src->n_doms * sizeof(*out->doms));
	out->n_doms = src->n_doms;
}

bool tidm_gtid_set_is_empty(const tidm_gtid_set *set)
{
	return set->n_sids == 0 && set->n_doms == 0;
}

bool tidm_gtid_set_equal(const tidm_gtid_set *a, const tidm_gtid_set *b)
{
	size_t i;

	if (tidm_gtid_set_is_empty(a) || tidm_gtid_set_is_empty(b))
		return tidm_gtid_set_is_empty(a) && tidm_gtid_set_is_empty(b);
	if (a->flavor != b->flavor || a->n_sids != b->n_sids || a->n_doms != b->n_doms)
		return false;
	for (i = 0; i < a->n_sids; i++) {
		const tidm_gtid_sid *x = &a->sids[i], *y = &b->sids[i];
		if (sid_cmp(x->uuid, x->tag, y->uuid, y->tag) != 0 || x->n_iv != y->n_iv ||
		    memcmp(x->iv, y->iv, x->n_iv * sizeof(*x->iv)) != 0)
			return false;
	}
	for (i = 0; i < a->n_doms; i++)
		if (a->doms[i].domain != b->doms[i].domain || a->doms[i].server != b->doms[i].server ||
		    a->doms[i].seq != b->doms[i].seq)
			return false;
	return true;
}

/* ---- text ---- */

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

/* Parse an unsigned decimal of at most `max`; returns the end or NULL. */
static const char *parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *st = s;

	while (*s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return NULL;
		v = v * 10 + d;
		s++;
	}
	if (s == st)
		return NULL;
	*out = v;
	return s;
}

/* Length of the token starting at s (up to a separator), for error messages. */
static int token_len(const char *s, const char *stops)
{
	size_t n = strcspn(s, stops);

	return n > 80 ? 80 : (int)n;
}

static int parse_mysql(tidm_gtid_set *set, const char *text)
{
	const char *s = skip_ws(text);

	while (*s) {
		uint8_t uuid[16];
		char tag[TIDM_GTID_TAG_MAX + 1] = "";
		size_t ulen = strcspn(s, ":, \t\r\n");

		if (*s == ',') { /* empty item (",," or a trailing comma) */
			s = skip_ws(s + 1);
			continue;
		}
		if (uuid_parse(uuid, s, ulen) < 0)
			return tidm_err_set(TIDM_EINVAL, "bad GTID set: bad UUID \"%.*s\"",
					    token_len(s, ":,"), s);
		s = skip_ws(s + ulen);
		while (*s == ':') {
			s = skip_ws(s + 1);
			if (*s >= '0' && *s <= '9') {
				uint64_t a, b;
				const char *e = parse_u64(s, TIDM_GTID_GNO_MAX, &a);
				if (e) {
					e = skip_ws(e);
					b = a;
					if (*e == '-') {
						e = parse_u64(skip_ws(e + 1), TIDM_GTID_GNO_MAX, &b);
						if (e)
							e = skip_ws(e);
					}
				}
				if (!e || a == 0 || b < a || (*e && *e != ':' && *e != ','))
					return tidm_err_set(TIDM_EINVAL,
							    "bad GTID set: bad GTID interval \"%.*s\"",
							    token_len(s, ":,"), s);
				iv_add(sid_get(set, uuid, tag), a, b);
				s = e;
			} else {
				size_t tlen = strcspn(s, ":, \t\r\n");
				if (!tag_valid(s, tlen))
					return tidm_err_set(TIDM_EINVAL, "bad GTID set: bad GTID tag \"%.*s\"",
							    token_len(s, ":,"), s);
				tag_copy(tag, s, tlen);
				s = skip_ws(s + tlen);
				if (*s != ':')
					return tidm_err_set(TIDM_EINVAL,
							    "bad GTID set: tag \"%s\" without an interval",
							    tag);
			}
		}
		if (*s == ',')
			s = skip_ws(s + 1);
		else if (*s)
			return tidm_err_set(TIDM_EINVAL, "bad GTID set: unexpected \"%.*s\"",
					    token_len(s, ","), s);
	}
	return 0;
}

/* "d-s-n" at s; returns the end or NULL. */
static const char *parse_maria_gtid(const char *s, tidm_gtid *g)
{
	uint64_t d, sv, n;

	s = parse_u64(s, UINT32_MAX, &d);
	if (!s || *s != '-')
		return NULL;
	s = parse_u64(s + 1, UINT32_MAX, &sv);
	if (!s || *s != '-')
		return NULL;
	s = parse_u64(s + 1, UINT64_MAX, &n);
	if (!s)
		return NULL;
	memset(g, 0, sizeof(*g));
	g->flavor = TIDM_GTID_MARIADB;
	g->domain = (uint32_t)d;
	g->server = (uint32_t)sv;
	g->seq = n;
	return s;
}

static int parse_mariadb(tidm_gtid_set *set, const char *text)
{
	const char *s = skip_ws(text);

	while (*s) {
		tidm_gtid g;
		const char *e;
		bool found;
		size_t i;

		if (*s == ',') {
			s = skip_ws(s + 1);
			continue;
		}
		e = parse_maria_gtid(s, &g);
		if (e)
			e = skip_ws(e);
		if (!e || (*e && *e != ','))
			return tidm_err_set(TIDM_EINVAL, "bad GTID set: bad MariaDB GTID \"%.*s\"",
					    token_len(s, ","), s);
		i = dom_find(set, g.domain, &found);
		if (found)
			return tidm_err_set(TIDM_EINVAL,
					    "bad GTID set: two GTIDs for domain %u (\"%.*s\")", g.domain,
					    token_len(s, ","), s);
		dom_insert(set, i, &g);
		s = *e ? skip_ws(e + 1) : e;
	}
	return 0;
}

static tidm_gtid_flavor detect(const char *text)
{
	const char *s = skip_ws(text);

	if (*s == '\0')
		return TIDM_GTID_AUTO;
	return strchr(text, ':') ? TIDM_GTID_MYSQL : TIDM_GTID_MARIADB;
}

int tidm_gtid_set_parse(tidm_gtid_set *set, tidm_gtid_flavor flavor, const char *text)
{
	int rc;

	tidm_gtid_set_clear(set);
	if (!text)
		text = "";
	if (flavor == TIDM_GTID_AUTO)
		flavor = detect(text);
	set->flavor = flavor;
	if (flavor == TIDM_GTID_AUTO)
		return 0;
	rc = flavor == TIDM_GTID_MYSQL ? parse_mysql(set, text) : parse_mariadb(set, text);
	if (rc < 0)
		tidm_gtid_set_clear(set);
	return rc;
}

void tidm_gtid_set_format(const tidm_gtid_set *set, tidm_buf *out)
{
	size_t i, k;

	for (i = 0; i < set->n_sids; i++) {
		const tidm_gtid_sid *s = &set->sids[i];
		if (i == 0 || memcmp(set->sids[i - 1].uuid, s->uuid, 16) != 0) {
			if (i > 0)
				tidm_buf_putc(out, ',');
			uuid_format(s->uuid, out);
		}
		if (s->tag[0]) {
			tidm_buf_putc(out, ':');
			tidm_buf_puts(out, s->tag);
		}
		for (k = 0; k < s->n_iv; k++) {
			tidm_buf_putc(out, ':');
			tidm_buf_put_u64(out, s->iv[k].first);
			if (s->iv[k].last != s->iv[k].first) {
				tidm_buf_putc(out, '-');
				tidm_buf_put_u64(out, s->iv[k].last);
			}
		}
	}
	for (i = 0; i < set->n_doms; i++) {
		if (i > 0)
			tidm_buf_putc(out, ',');
		tidm_gtid_format(&set->doms[i], out);
	}
	tidm_buf_put(out, "", 0); /* data is a C string even for the empty set */
}

int tidm_gtid_parse(tidm_gtid *out, tidm_gtid_flavor flavor, const char *text)
{
	const char *s = skip_ws(text ? text : "");
	const char *e;

	if (flavor == TIDM_GTID_AUTO)
		flavor = strchr(s, ':') ? TIDM_GTID_MYSQL : TIDM_GTID_MARIADB;
	memset(out, 0, sizeof(*out));
	if (flavor == TIDM_GTID_MARIADB) {
		e = parse_maria_gtid(s, out);
		if (!e || *skip_ws(e))
			return tidm_err_set(TIDM_EINVAL, "bad MariaDB GTID \"%.*s\"", token_len(s, ""), s);
		return 0;
	}
	out->flavor = TIDM_GTID_MYSQL;
	{
		size_t ulen = strcspn(s, ":");
		size_t tlen;
		if (uuid_parse(out->uuid, s, ulen) < 0 || s[ulen] != ':')
			return tidm_err_set(TIDM_EINVAL, "bad GTID \"%.*s\": bad UUID", token_len(s, ""), s);
		e = s + ulen + 1;
		tlen = strcspn(e, ":");
		if (e[tlen] == ':') {
			if (!tag_valid(e, tlen))
				return tidm_err_set(TIDM_EINVAL, "bad GTID \"%.*s\": bad tag",
						    token_len(s, ""), s);
			tag_copy(out->tag, e, tlen);
			e += tlen + 1;
		}
		e = parse_u64(e, TIDM_GTID_GNO_MAX, &out->gno);
		if (!e || out->gno == 0 || *skip_ws(e))
			return tidm_err_set(TIDM_EINVAL, "bad GTID \"%.*s\": bad number", token_len(s, ""), s);
	}
	return 0;
}

void tidm_gtid_format(const tidm_gtid *gtid, tidm_buf *out)
{
	if (gtid->flavor == TIDM_GTID_MARIADB) {
		tidm_buf_printf(out, "%u-%u-", gtid->domain, gtid->server);
		tidm_buf_put_u64(out, gtid->seq);
		return;
	}
	uuid_format(gtid->uuid, out);
	if (gtid->tag[0]) {
		tidm_buf_putc(out, ':');
		tidm_buf_puts(out, gtid->tag);
	}
	tidm_buf_putc(out, ':');
	tidm_buf_put_u64(out, gtid->gno);
}

/* ---- algebra ---- */

/* Make set's flavor compatible with `flavor`; an empty AUTO set adopts it. */
static int adopt(tidm_gtid_set *set, tidm_gtid_flavor flavor, const char *op)
{
	if (flavor == TIDM_GTID_AUTO || set->flavor == flavor)
		return 0;
	if (set->flavor == TIDM_GTID_AUTO || tidm_gtid_set_is_empty(set)) {
		set->flavor = flavor;
		return 0;
	}
	return tidm_err_set(TIDM_EINVAL, "GTID %s: cannot mix MySQL and MariaDB GTIDs", op);
}

int tidm_gtid_set_add(tidm_gtid_set *set, const tidm_gtid *gtid)
{
	int rc = adopt(set, gtid->flavor, "add");

	if (rc < 0)
		return rc;
	if (gtid->flavor == TIDM_GTID_MYSQL) {
		if (gtid->gno == 0 || gtid->gno > TIDM_GTID_GNO_MAX)
			return tidm_err_set(TIDM_EINVAL, "GTID add: GNO %llu out of range",
					    (unsigned long long)gtid->gno);
		if (gtid->tag[0] && !tag_valid(gtid->tag, strlen(gtid->tag)))
			return tidm_err_set(TIDM_EINVAL, "GTID add: bad tag");
		iv_add(sid_get(set, gtid->uuid, gtid->tag), gtid->gno, gtid->gno);
		return 0;
	}
	if (gtid->flavor == TIDM_GTID_MARIADB) {
		bool found;
		size_t i = dom_find(set, gtid->domain, &found);
		if (!found)
			dom_insert(set, i, gtid);
		else if (gtid->seq > set->doms[i].seq) {
			set->doms[i] = *gtid;
		}
		return 0;
	}
	return tidm_err_set(TIDM_EINVAL, "GTID add: GTID without a flavor");
}

int tidm_gtid_set_union(tidm_gtid_set *set, const tidm_gtid_set *other)
{
	size_t i, k;
	int rc;

	if (set == other || tidm_gtid_set_is_empty(other))
		return 0;
	rc = adopt(set, other->flavor, "union");
	if (rc < 0)
		return rc;
	for (i = 0; i < other->n_sids; i++) {
		const tidm_gtid_sid *o = &other->sids[i];
		tidm_gtid_sid *s = sid_get(set, o->uuid, o->tag);
		for (k = 0; k < o->n_iv; k++)
			iv_add(s, o->iv[k].first, o->iv[k].last);
	}
	for (i = 0; i < other->n_doms; i++)
		tidm_gtid_set_add(set, &other->doms[i]);
	return 0;
}

int tidm_gtid_set_subtract(tidm_gtid_set *set, const tidm_gtid_set *other)
{
	size_t i, k;

	if (tidm_gtid_set_is_empty(other) || tidm_gtid_set_is_empty(set))
		return 0;
	if (set == other) {
		tidm_gtid_set_clear(set);
		return 0;
	}
	if (set->flavor != other->flavor)
		return tidm_err_set(TIDM_EINVAL, "GTID subtract: cannot mix MySQL and MariaDB GTIDs");
	for (i = 0; i < other->n_sids; i++) {
		const tidm_gtid_sid *o = &other->sids[i];
		bool found;
		size_t j = sid_find(set, o->uuid, o->tag, &found);
		if (!found)
			continue;
		for (k = 0; k < o->n_iv && set->sids[j].n_iv > 0; k++)
			iv_remove(&set->sids[j], o->iv[k].first, o->iv[k].last);
		if (set->sids[j].n_iv == 0)
			sid_drop(set, j);
	}
	for (i = 0; i < other->n_doms; i++) {
		bool found;
		size_t j = dom_find(set, other->doms[i].domain, &found);
		if (found && other->doms[i].seq >= set->doms[j].seq) {
			memmove(&set->doms[j], &set->doms[j + 1], (set->n_doms - j - 1) * sizeof(*set->doms));
			set->n_doms--;
		}
	}
	return 0;
}

bool tidm_gtid_set_contains(const tidm_gtid_set *set, const tidm_gtid_set *sub)
{
	size_t i, k;

	if (tidm_gtid_set_is_empty(sub))
		return true;
	if (set->flavor != sub->flavor)
		return false;
	for (i = 0; i < sub->n_sids; i++) {
		const tidm_gtid_sid *o = &sub->sids[i];
		bool found;
		size_t j = sid_find(set, o->uuid, o->tag, &found);
		if (!found)
			return false;
		for (k = 0; k < o->n_iv; k++)
			if (!iv_contains(&set->sids[j], o->iv[k].first, o->iv[k].last))
				return false;
	}
	for (i = 0; i < sub->n_doms; i++) {
		bool found;
		size_t j = dom_find(set, sub->doms[i].domain, &found);
		if (!found || set->doms[j].seq < sub->doms[i].seq)
			return false;
	}
	return true;
}

bool tidm_gtid_set_contains_gtid(const tidm_gtid_set *set, const tidm_gtid *gtid)
{
	bool found;
	size_t j;

	if (set->flavor != gtid->flavor)
		return false;
	if (gtid->flavor == TIDM_GTID_MYSQL) {
		j = sid_find(set, gtid->uuid, gtid->tag, &found);
		return found && iv_contains(&set->sids[j], gtid->gno, gtid->gno);
	}
	j = dom_find(set, gtid->domain, &found);
	return found && set->doms[j].seq >= gtid->seq;
}

/* ---- MySQL binary form ---- */

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put64(tidm_buf *out, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	tidm_buf_put(out, b, 8);
}

/* MySQL serialization-library unsigned varlen (binlog-protocol.md 3.9). */
static size_t read_varlen(const uint8_t *p, size_t n, uint64_t *out)
{
	size_t len = 1, i;
	uint64_t v = 0;

	if (n < 1)
		return 0;
	while (len <= 8 && (p[0] >> (len - 1) & 1))
		len++;
	if (len == 9) {
		if (n < 9)
			return 0;
		*out = rd64(p + 1);
		return 9;
	}
	if (n < len)
		return 0;
	for (i = len; i > 0; i--)
		v = v << 8 | p[i - 1];
	*out = v >> len;
	return len;
}

int tidm_gtid_set_decode_mysql(tidm_gtid_set *set, const uint8_t *p, size_t n)
{
	uint64_t count, e;
	size_t pos = 8;
	bool tagged;

	tidm_gtid_set_clear(set);
	set->flavor = TIDM_GTID_MYSQL;
	if (n < 8 || p == NULL)
		return tidm_err_set(TIDM_ECORRUPT, "GTID set: %zu bytes, need 8 at offset 0", n);
	tagged = p[0] == 1 && p[7] == 1;
	count = tagged ? (rd64(p) >> 8) & 0xffffffffffffull : rd64(p);
	if (count > (n - 8) / 24) {
		tidm_gtid_set_clear(set);
		return tidm_err_set(TIDM_ECORRUPT, "GTID set: %llu entries cannot fit %zu bytes at offset 0",
				    (unsigned long long)count, n);
	}
	for (e = 0; e < count; e++) {
		uint8_t uuid[16];
		char tag[TIDM_GTID_TAG_MAX + 1] = "";
		uint64_t niv, k;
		tidm_gtid_sid *s = NULL;

		if (n - pos < 16)
			goto truncated;
		memcpy(uuid, p + pos, 16);
		pos += 16;
		if (tagged) {
			uint64_t tlen;
			size_t used = read_varlen(p + pos, n - pos, &tlen);
			if (used == 0)
				goto truncated;
			if (tlen > TIDM_GTID_TAG_MAX || tlen > n - pos - used ||
			    (tlen > 0 && !tag_valid((const char *)p + pos + used, (size_t)tlen))) {
				tidm_gtid_set_clear(set);
				return tidm_err_set(TIDM_ECORRUPT, "GTID set: bad tag at offset %zu", pos);
			}
			tag_copy(tag, (const char *)p + pos + used, (size_t)tlen);
			pos += used + (size_t)tlen;
		}
		if (n - pos < 8)
			goto truncated;
		niv = rd64(p + pos);
		pos += 8;
		if (niv > (n - pos) / 16) {
			tidm_gtid_set_clear(set);
			return tidm_err_set(TIDM_ECORRUPT,
					    "GTID set: %llu intervals cannot fit the bytes left at offset %zu",
					    (unsigned long long)niv, pos - 8);
		}
		for (k = 0; k < niv; k++) {
			uint64_t a = rd64(p + pos), b = rd64(p + pos + 8);
			if (a < 1 || b <= a || b > TIDM_GTID_GNO_MAX + 1) {
				tidm_gtid_set_clear(set);
				return tidm_err_set(TIDM_ECORRUPT,
						    "GTID set: bad interval [%llu, %llu) at offset %zu",
						    (unsigned long long)a, (unsigned long long)b, pos);
			}
			if (!s)
				s = sid_get(set, uuid, tag);
			iv_add(s, a, b - 1);
			pos += 16;
		}
	}
	if (pos != n) {
		tidm_gtid_set_clear(set);
		return tidm_err_set(TIDM_ECORRUPT, "GTID set: %zu trailing bytes at offset %zu", n - pos,
				    pos);
	}
	return 0;
truncated:
	tidm_gtid_set_clear(set);
	return tidm_err_set(TIDM_ECORRUPT, "GTID set: truncated at offset %zu", pos);
}

int tidm_gtid_set_encode_mysql(const tidm_gtid_set *set, tidm_buf *out)
{
	size_t i, k, n = 0;
	bool tagged = false;

	if (set->flavor == TIDM_GTID_MARIADB && !tidm_gtid_set_is_empty(set))
		return tidm_err_set(TIDM_EINVAL, "GTID set: a MariaDB set has no MySQL binary form");
	for (i = 0; i < set->n_sids; i++) {
		if (set->sids[i].n_iv == 0)
			continue;
		n++;
		if (set->sids[i].tag[0])
			tagged = true;
	}
	put64(out, tagged ? (1ull << 56) | ((uint64_t)n << 8) | 1 : (uint64_t)n);
	for (i = 0; i < set->n_sids; i++) {
		const tidm_gtid_sid *s = &set->sids[i];
		if (s->n_iv == 0)
			continue;
		tidm_buf_put(out, s->uuid, 16);
		if (tagged) {
			size_t tlen = strlen(s->tag);
			tidm_buf_putc(out, (char)(tlen << 1));
			tidm_buf_put(out, s->tag, tlen);
		}
		put64(out, s->n_iv);
		for (k = 0; k < s->n_iv; k++) {
			put64(out, s->iv[k].first);
			put64(out, s->iv[k].last + 1);
		}
	}
	return 0;
}
