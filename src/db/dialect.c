/*
 * dialect.c - target dialect adaptation of source schema text. See dialect.h.
 *
 * Design:
 * - Collation and charset maps are small decision functions per target flavour, driven
 *   by the name's parts (charset prefix, "_0900_", "uca1400", "nopad", "_520_", suffix
 *   _bin/_ci/_cs). They prefer a collation with the same pad attribute: MySQL's *_0900_*
 *   are NO PAD, and mapping them to a PAD SPACE collation could make 'a' and 'a ' collide
 *   in a unique key on the target; MariaDB therefore gets utf8mb4_uca1400_nopad_ai_ci
 *   (10.10+) or utf8mb4_unicode_520_nopad_ci. TiDB follows reference/tidb-target.md §10
 *   rows 2-13 (TiDB has no NO PAD choice before 7.4: the reason says so).
 * - The rewriter tokenizes the statement once (words, `identifiers`, 'strings',
 *   "strings", comments, executable version comments, punctuation, whitespace) so that
 *   nothing inside a string, comment or backquoted identifier is ever rewritten. A
 *   pre-pass per item of the table body (a column or an index) marks tokens to drop or
 *   replace; one generic pass then emits the tokens, mapping CHARSET/COLLATE values and
 *   dropping table options. Whitespace before a dropped token is dropped with it.
 * - Items of the table body are rendered into their own buffers so that a dropped item
 *   (FULLTEXT index on TiDB) takes its separating comma with it.
 */
#include "db/dialect.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/quote.h"
#include "util/err.h"

/* ---- collations and charsets -------------------------------------------------------- */

static const char why_alias[] = "same collation, spelled as the target spells it";
static const char why_lacks[] = "target lacks it";
static const char why_locale[] = "target lacks it; language-specific ordering is lost";
static const char why_tidb_pre74[] = "TiDB before 7.4 lacks it; trailing spaces now compare as PAD SPACE";
static const char why_tidb_latin1[] = "TiDB has only latin1_bin: comparison becomes case-sensitive";
static const char why_tidb_ascii[] = "TiDB has only ascii_bin: comparison becomes case-sensitive";
static const char why_charset[] = "target lacks the character set; values are stored as utf8mb4";
static const char why_pad[] = "target lacks it; trailing spaces now compare as PAD SPACE";

/* Names built by the maps live here: 4 per thread, reused round-robin. */
static _Thread_local char ring[4][128];
static _Thread_local unsigned ring_next;

static const char *ring_cat(const char *a, const char *b)
{
	char *r = ring[ring_next++ % 4];

	snprintf(r, sizeof(ring[0]), "%.63s%.63s", a, b);
	return r;
}

static void lower_copy(char *dst, size_t cap, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < cap; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[i] = '\0';
}

static bool ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* "utf8mb4_general_ci" → "utf8mb4" into cs; "binary" → "binary". */
static void coll_charset(const char *coll, char *cs, size_t cap)
{
	size_t n = strcspn(coll, "_");

	if (n >= cap)
		n = cap - 1;
	memcpy(cs, coll, n);
	cs[n] = '\0';
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static bool tidb_has_charset(const char *cs, unsigned v)
{
	static const char *const base[] = {"utf8mb4", "utf8", "ascii", "binary", "latin1", NULL};

	return in_list(cs, base) || (strcmp(cs, "gbk") == 0 && v >= 50400) || (strcmp(cs, "gb18030") == 0 && v >= 90000);
}

static bool tidb_has_collation(const char *c, unsigned v)
{
	static const char *const base[] = {"binary",	      "ascii_bin",	    "latin1_bin",	  "utf8_bin",
					   "utf8mb4_bin",     "utf8_general_ci",    "utf8mb4_general_ci", "utf8_unicode_ci",
					   "utf8mb4_unicode_ci", NULL};
	static const char *const v74[] = {"utf8mb4_0900_ai_ci", "utf8mb4_0900_bin", NULL};
	static const char *const gbk[] = {"gbk_bin", "gbk_chinese_ci", NULL};
	static const char *const gb18030[] = {"gb18030_bin", "gb18030_chinese_ci", NULL};

	return in_list(c, base) || (v >= 70400 && in_list(c, v74)) || (v >= 50400 && in_list(c, gbk)) ||
	       (v >= 90000 && in_list(c, gb18030));
}

/* A collation of a charset the target lacks: the utf8mb4 one with the same strictness. */
static const char *to_utf8mb4(const char *c, const char **why)
{
	*why = why_charset;
	return ends_with(c, "_bin") || ends_with(c, "_cs") ? "utf8mb4_bin" : "utf8mb4_general_ci";
}

static const char *tidb_collation(const char *c, unsigned v, const char **why)
{
	char cs[32];
	bool v74 = v >= 70400, mb4;

	coll_charset(c, cs, sizeof(cs));
	if (!tidb_has_charset(cs, v) && strcmp(cs, "utf8mb3") != 0)
		return to_utf8mb4(c, why);
	if (strcmp(cs, "latin1") == 0) {
		*why = why_tidb_latin1;
		return "latin1_bin";
	}
	if (strcmp(cs, "ascii") == 0) {
		*why = why_tidb_ascii;
		return "ascii_bin";
	}
	if (strcmp(cs, "gbk") == 0 || strcmp(cs, "gb18030") == 0) {
		*why = why_lacks;
		return ring_cat(cs, ends_with(c, "_bin") ? "_bin" : "_chinese_ci");
	}
	mb4 = strcmp(cs, "utf8mb4") == 0;
	if (!mb4) { /* utf8 / utf8mb3 */
		const char *rest = c + strlen(cs);

		if (tidb_has_collation(ring_cat("utf8", rest), v)) {
			*why = why_alias;
			return ring[(ring_next - 1) % 4];
		}
		strcpy(cs, "utf8");
	}
	if (strstr(c, "_0900_")) {
		bool strict = ends_with(c, "_as_cs") || ends_with(c, "_0900_bin") || strstr(c, "_as_cs_");
		bool plain = strcmp(c, "utf8mb4_0900_ai_ci") == 0 || strcmp(c, "utf8mb4_0900_bin") == 0;

		*why = !v74 ? why_tidb_pre74 : plain ? why_lacks : why_locale;
		if (strict)
			return v74 ? "utf8mb4_0900_bin" : "utf8mb4_bin";
		return v74 ? "utf8mb4_0900_ai_ci" : "utf8mb4_general_ci";
	}
	if (strstr(c, "uca1400")) {
		bool strict = strstr(c, "_as_cs") != NULL;

		*why = strstr(c, "uca1400_ai") || strstr(c, "uca1400_nopad_ai") || strstr(c, "uca1400_as") ||
			       strstr(c, "uca1400_nopad_as")
			       ? (v74 ? why_lacks : why_tidb_pre74)
			       : why_locale;
		if (mb4 && v74)
			return strict ? "utf8mb4_0900_bin" : "utf8mb4_0900_ai_ci";
		return ring_cat(cs, strict ? "_bin" : "_general_ci");
	}
	if (strstr(c, "nopad")) {
		if (ends_with(c, "_bin")) {
			*why = mb4 && v74 ? why_lacks : why_pad;
			return mb4 && v74 ? "utf8mb4_0900_bin" : ring_cat(cs, "_bin");
		}
		if (strstr(c, "_general_") && mb4 && v74) {
			*why = why_lacks;
			return "utf8mb4_0900_ai_ci";
		}
		*why = why_pad;
		return ring_cat(cs, strstr(c, "unicode") ? "_unicode_ci" : "_general_ci");
	}
	*why = strstr(c, "unicode_520") ? why_lacks : why_locale;
	if (ends_with(c, "_bin"))
		return ring_cat(cs, "_bin");
	return ring_cat(cs, strstr(c, "general") ? "_general_ci" : "_unicode_ci");
}

static const char *mariadb_collation(const char *c, unsigned v, const char **why)
{
	char cs[32];

	coll_charset(c, cs, sizeof(cs));
	if (strcmp(cs, "gb18030") == 0)
		return to_utf8mb4(c, why);
	if (strcmp(cs, "utf8mb3") == 0 && v < 100600) {
		*why = why_alias;
		return ring_cat("utf8", c + 7);
	}
	/* MariaDB 11.4.5 accepts MySQL's utf8mb4_0900_* names (MDEV-20912) */
	if (strstr(c, "_0900_") && v < 110405) {
		bool plain = strcmp(c, "utf8mb4_0900_ai_ci") == 0 || strcmp(c, "utf8mb4_0900_bin") == 0 ||
			     strcmp(c, "utf8mb4_0900_as_ci") == 0 || strcmp(c, "utf8mb4_0900_as_cs") == 0;

		*why = plain ? why_lacks : why_locale;
		if (ends_with(c, "_0900_bin"))
			return "utf8mb4_nopad_bin";
		if (v >= 101000) {
			if (ends_with(c, "_as_cs") || strstr(c, "_as_cs_"))
				return "utf8mb4_uca1400_nopad_as_cs";
			if (ends_with(c, "_as_ci"))
				return "utf8mb4_uca1400_nopad_as_ci";
			return "utf8mb4_uca1400_nopad_ai_ci";
		}
		if (ends_with(c, "_as_cs") || strstr(c, "_as_cs_"))
			return "utf8mb4_nopad_bin";
		return "utf8mb4_unicode_520_nopad_ci";
	}
	if (strstr(c, "uca1400") && v < 101000) {
		const char *ucs = strcmp(cs, "utf8mb3") == 0 && v < 100600 ? "utf8" : cs;
		bool nopad = strstr(c, "nopad") != NULL;

		*why = strstr(c, "uca1400_ai") || strstr(c, "uca1400_nopad_ai") || strstr(c, "uca1400_as") ||
			       strstr(c, "uca1400_nopad_as")
			       ? why_lacks
			       : why_locale;
		if (strstr(c, "_as_cs"))
			return ring_cat(ucs, nopad ? "_nopad_bin" : "_bin");
		return ring_cat(ucs, nopad ? "_unicode_520_nopad_ci" : "_unicode_520_ci");
	}
	return NULL;
}

static const char *mysql_collation(const char *c, unsigned v, const char **why)
{
	char cs[32], buf[64];
	bool v8 = v >= 80000, mb4;
	const char *ucs;

	coll_charset(c, cs, sizeof(cs));
	mb4 = strcmp(cs, "utf8mb4") == 0;
	ucs = strcmp(cs, "utf8mb3") == 0 && v < 80030 ? "utf8" : cs;
	if (strstr(c, "uca1400")) {
		bool strict = strstr(c, "_as_cs") || strstr(c, "_ai_cs");

		*why = strstr(c, "uca1400_ai") || strstr(c, "uca1400_nopad_ai") || strstr(c, "uca1400_as") ||
			       strstr(c, "uca1400_nopad_as")
			       ? why_lacks
			       : why_locale;
		if (mb4 && v8)
			return strict ? "utf8mb4_0900_as_cs" : strstr(c, "_as_ci") ? "utf8mb4_0900_as_ci" : "utf8mb4_0900_ai_ci";
		return ring_cat(ucs, strict ? "_bin" : "_unicode_520_ci");
	}
	if (strstr(c, "nopad")) {
		char *p;

		*why = why_lacks;
		if (mb4 && v8)
			return ends_with(c, "_bin") ? "utf8mb4_0900_bin" : "utf8mb4_0900_ai_ci";
		/* latin1_swedish_nopad_ci → latin1_swedish_ci; utf8mb4_nopad_bin → utf8mb4_bin */
		snprintf(buf, sizeof(buf), "%s", c + strlen(cs));
		if ((p = strstr(buf, "_nopad")) != NULL)
			memmove(p, p + 6, strlen(p + 6) + 1);
		*why = why_pad;
		return ring_cat(ucs, buf);
	}
	if (strstr(c, "_0900_") && !v8) {
		*why = strcmp(c, "utf8mb4_0900_ai_ci") == 0 || strcmp(c, "utf8mb4_0900_bin") == 0 ? why_pad : why_locale;
		if (ends_with(c, "_0900_bin") || ends_with(c, "_as_cs") || strstr(c, "_as_cs_"))
			return "utf8mb4_bin";
		return "utf8mb4_unicode_520_ci";
	}
	if (ucs != cs) {
		*why = why_alias;
		return ring_cat("utf8", c + 7);
	}
	return NULL;
}

const char *tidm_dialect_map_collation(enum tidm_flavor target, unsigned target_version, const char *collation,
				       const char **why)
{
	char c[64];
	const char *dummy, *r;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!collation || strlen(collation) >= sizeof(c))
		return collation;
	lower_copy(c, sizeof(c), collation);
	/* each map returns NULL when the target has the collation */
	switch (target) {
	case TIDM_FLAVOR_TIDB:
		r = tidb_has_collation(c, target_version) ? NULL : tidb_collation(c, target_version, why);
		break;
	case TIDM_FLAVOR_MARIADB: r = mariadb_collation(c, target_version, why); break;
	case TIDM_FLAVOR_MYSQL: r = mysql_collation(c, target_version, why); break;
	default: r = NULL; break;
	}
	if (!r || strcmp(r, c) == 0) {
		*why = NULL;
		return collation;
	}
	return r;
}

const char *tidm_dialect_map_charset(enum tidm_flavor target, unsigned target_version, const char *charset,
				     const char **why)
{
	char c[32];
	const char *dummy;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!charset || strlen(charset) >= sizeof(c))
		return charset;
	lower_copy(c, sizeof(c), charset);
	switch (target) {
	case TIDM_FLAVOR_TIDB:
		if (strcmp(c, "utf8mb3") == 0) {
			*why = why_alias;
			return "utf8";
		}
		if (!tidb_has_charset(c, target_version)) {
			*why = why_charset;
			return "utf8mb4";
		}
		return charset;
	case TIDM_FLAVOR_MARIADB:
		if (strcmp(c, "utf8mb3") == 0 && target_version < 100600) {
			*why = why_alias;
			return "utf8";
		}
		if (strcmp(c, "gb18030") == 0) {
			*why = why_charset;
			return "utf8mb4";
		}
		return charset;
	case TIDM_FLAVOR_MYSQL:
		if (strcmp(c, "utf8mb3") == 0 && target_version < 80030) {
			*why = why_alias;
			return "utf8";
		}
		return charset;
	default:
		return charset;
	}
}

/* The source's collation for a charset written without one (compiled-in defaults). */
static const char *source_default_collation(enum tidm_flavor src, const char *cs)
{
	static const struct {
		const char *cs, *coll;
	} defaults[] = {
		{"utf8mb4", "utf8mb4_general_ci"}, {"utf8", "utf8_general_ci"},	    {"utf8mb3", "utf8mb3_general_ci"},
		{"latin1", "latin1_swedish_ci"},   {"ascii", "ascii_general_ci"},   {"binary", "binary"},
		{"gbk", "gbk_chinese_ci"},	   {"gb18030", "gb18030_chinese_ci"}, {"latin2", "latin2_general_ci"},
		{"ucs2", "ucs2_general_ci"},	   {"utf16", "utf16_general_ci"},   {"utf32", "utf32_general_ci"},
		{"big5", "big5_chinese_ci"},	   {"sjis", "sjis_japanese_ci"},    {"cp1251", "cp1251_general_ci"},
		{"cp1250", "cp1250_general_ci"},   {"euckr", "euckr_korean_ci"},    {"gb2312", "gb2312_chinese_ci"},
		{"cp932", "cp932_japanese_ci"},	   {"ujis", "ujis_japanese_ci"},    {"greek", "greek_general_ci"},
		{"hebrew", "hebrew_general_ci"},   {"latin5", "latin5_turkish_ci"}, {"latin7", "latin7_general_ci"},
		{"koi8r", "koi8r_general_ci"},	   {"koi8u", "koi8u_general_ci"},   {"tis620", "tis620_thai_ci"},
	};
	/* MySQL 8 always prints COLLATE next to utf8mb4, so an implicit one is 5.x semantics */
	(void)src;
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (strcasecmp(defaults[i].cs, cs) == 0)
			return defaults[i].coll;
	return NULL;
}

/* ---- tokenizer -------------------------------------------------------------------- */

enum tok_type { T_WS, T_WORD, T_BQ, T_STR, T_COMMENT, T_VOPEN, T_VCLOSE, T_PUNCT };

struct tok {
	enum tok_type type;
	const char *p;
	size_t n;
	bool skip;       /* dropped, with the whitespace before it */
	bool has_repl;   /* emit repl instead of the text */
	char repl[64];
	char extra[96];  /* emitted right after the token */
};

struct toks {
	struct tok *v;
	size_t n, cap;
};

static void push(struct toks *t, enum tok_type type, const char *p, size_t n)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
		if (!t->v)
			abort();
	}
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	t->v[t->n].type = type;
	t->v[t->n].p = p;
	t->v[t->n].n = n;
	t->n++;
}

static bool is_word_byte(unsigned char c) { return isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

static int tokenize(struct toks *t, const char *s)
{
	const char *p = s;
	bool in_vc = false;

	while (*p) {
		const char *q = p;
		unsigned char c = (unsigned char)*p;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
				q++;
			push(t, T_WS, p, (size_t)(q - p));
		} else if (p[0] == '/' && p[1] == '*' && (p[2] == '!' || (p[2] == 'M' && p[3] == '!'))) {
			q = p + (p[2] == '!' ? 3 : 4);
			while (isdigit((unsigned char)*q))
				q++;
			if (in_vc)
				return tidm_err_set(TIDM_ECORRUPT, "nested version comment at offset %zu", (size_t)(p - s));
			in_vc = true;
			push(t, T_VOPEN, p, (size_t)(q - p));
		} else if (p[0] == '*' && p[1] == '/' && in_vc) {
			in_vc = false;
			q = p + 2;
			push(t, T_VCLOSE, p, 2);
		} else if (p[0] == '/' && p[1] == '*') {
			q = strstr(p + 2, "*/");
			if (!q)
				return tidm_err_set(TIDM_ECORRUPT, "unterminated comment at offset %zu", (size_t)(p - s));
			q += 2;
			push(t, T_COMMENT, p, (size_t)(q - p));
		} else if (c == '#' || (p[0] == '-' && p[1] == '-' && (p[2] == ' ' || p[2] == '\t' || p[2] == '\n'))) {
			while (*q && *q != '\n')
				q++;
			push(t, T_COMMENT, p, (size_t)(q - p));
		} else if (c == '`') {
			for (q = p + 1;; q++) {
				if (!*q)
					return tidm_err_set(TIDM_ECORRUPT, "unterminated identifier at offset %zu",
							    (size_t)(p - s));
				if (*q == '`') {
					if (q[1] == '`') {
						q++;
						continue;
					}
					break;
				}
			}
			q++;
			push(t, T_BQ, p, (size_t)(q - p));
		} else if (c == '\'' || c == '"') {
			for (q = p + 1;; q++) {
				if (!*q)
					return tidm_err_set(TIDM_ECORRUPT, "unterminated string at offset %zu", (size_t)(p - s));
				if (*q == '\\' && q[1]) {
					q++;
					continue;
				}
				if (*q == (char)c) {
					if (q[1] == (char)c) {
						q++;
						continue;
					}
					break;
				}
			}
			q++;
			push(t, T_STR, p, (size_t)(q - p));
		} else if (is_word_byte(c)) {
			while (*q && is_word_byte((unsigned char)*q))
				q++;
			push(t, T_WORD, p, (size_t)(q - p));
		} else {
			q = p + 1;
			push(t, T_PUNCT, p, 1);
		}
		p = q;
	}
	if (in_vc)
		return tidm_err_set(TIDM_ECORRUPT, "unterminated version comment");
	return 0;
}

static bool word_is(const struct tok *t, const char *w)
{
	return t->type == T_WORD && strlen(w) == t->n && strncasecmp(t->p, w, t->n) == 0;
}

static bool punct_is(const struct tok *t, char c) { return t->type == T_PUNCT && t->p[0] == c; }

/* ---- rewriter --------------------------------------------------------------------- */

struct rw {
	struct toks t;
	enum tidm_flavor src, tgt;
	unsigned v;
	tidm_buf *report;
	const char *db;
	char table[200];   /* as written, with backquotes */
	bool is_db_stmt;
	char column[200];  /* current column (backquoted) or "" */
	tidm_buf pending;  /* whitespace not yet emitted */
	bool unsupported;
	char unsupported_why[1024];
};

/* Next token index after i that is not whitespace or a plain comment (t.n when none). */
static size_t next_sig(const struct rw *r, size_t i, size_t end)
{
	for (i++; i < end; i++)
		if (r->t.v[i].type != T_WS && r->t.v[i].type != T_COMMENT)
			return i;
	return end;
}

static void copy_tok_text(char *dst, size_t cap, const struct tok *t)
{
	size_t n = t->n < cap ? t->n : cap - 1;

	memcpy(dst, t->p, n);
	dst[n] = '\0';
}

/* Append "`db`.`t` column `c`: <fmt...> (why)" and a newline to the report. */
static void report_line(struct rw *r, const char *why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report_line(struct rw *r, const char *why, const char *fmt, ...)
{
	va_list ap;

	if (!r->report)
		return;
	if (r->db && *r->db) {
		tidm_buf_putc(r->report, '`');
		for (const char *p = r->db; *p; p++) {
			if (*p == '`')
				tidm_buf_putc(r->report, '`');
			tidm_buf_putc(r->report, *p);
		}
		tidm_buf_putc(r->report, '`');
		if (!r->is_db_stmt && r->table[0])
			tidm_buf_putc(r->report, '.');
	}
	if (!r->is_db_stmt || !(r->db && *r->db))
		tidm_buf_puts(r->report, r->table);
	if (r->column[0])
		tidm_buf_printf(r->report, " column %s", r->column);
	tidm_buf_puts(r->report, ": ");
	va_start(ap, fmt);
	tidm_buf_vprintf(r->report, fmt, ap);
	va_end(ap);
	if (why)
		tidm_buf_printf(r->report, " (%s)", why);
	tidm_buf_putc(r->report, '\n');
}

static void set_repl(struct tok *t, const char *s) { snprintf(t->repl, sizeof(t->repl), "%s", s), t->has_repl = true; }

/* Value token of "NAME [=] value" starting after index i; sets *eq when '=' was used. */
static size_t option_value(const struct rw *r, size_t i, size_t end, bool *eq)
{
	size_t j = next_sig(r, i, end);

	*eq = false;
	if (j < end && punct_is(&r->t.v[j], '=')) {
		*eq = true;
		j = next_sig(r, j, end);
	}
	return j;
}

/* CHARSET x / CHARACTER SET x / COLLATE x / _charset'introducer' at token i. */
static void map_names(struct rw *r, size_t i, size_t end)
{
	struct tok *t = &r->t.v[i];
	char name[64], def[64];
	const char *why, *m;
	size_t j, k;
	bool eq;

	if (t->type != T_WORD || t->skip)
		return;
	if (word_is(t, "CHARSET") || word_is(t, "CHARACTER")) {
		if (word_is(t, "CHARACTER")) {
			k = next_sig(r, i, end);
			if (k >= end || !word_is(&r->t.v[k], "SET"))
				return;
			i = k;
		}
		j = option_value(r, i, end, &eq);
		if (j >= end || r->t.v[j].type != T_WORD || r->t.v[j].skip)
			return;
		copy_tok_text(name, sizeof(name), &r->t.v[j]);
		m = tidm_dialect_map_charset(r->tgt, r->v, name, &why);
		if (m != name) {
			set_repl(&r->t.v[j], m);
			if (why != why_alias)
				report_line(r, why, "character set %s mapped to %s", name, m);
		}
		/* written without a collation: make the source's default explicit */
		k = next_sig(r, j, end);
		if (r->src != r->tgt && (k >= end || !word_is(&r->t.v[k], "COLLATE")) &&
		    (m = source_default_collation(r->src, name)) != NULL) {
			snprintf(def, sizeof(def), "%s", m);
			m = tidm_dialect_map_collation(r->tgt, r->v, def, &why);
			snprintf(r->t.v[j].extra, sizeof(r->t.v[j].extra), " COLLATE%s%s", eq ? "=" : " ", m);
			if (m != def && why != why_alias)
				report_line(r, why, "collation %s mapped to %s", def, m);
		}
		return;
	}
	if (word_is(t, "COLLATE")) {
		j = option_value(r, i, end, &eq);
		if (j >= end || r->t.v[j].skip || (r->t.v[j].type != T_WORD && r->t.v[j].type != T_STR))
			return;
		if (r->t.v[j].type == T_STR) { /* COLLATE 'name' */
			if (r->t.v[j].n < 3)
				return;
			snprintf(name, sizeof(name), "%.*s", (int)r->t.v[j].n - 2, r->t.v[j].p + 1);
		} else {
			copy_tok_text(name, sizeof(name), &r->t.v[j]);
		}
		m = tidm_dialect_map_collation(r->tgt, r->v, name, &why);
		if (m != name) {
			set_repl(&r->t.v[j], m);
			if (why != why_alias)
				report_line(r, why, "collation %s mapped to %s", name, m);
		}
		return;
	}
	/* _utf8mb3'abc' introducer */
	if (t->p[0] == '_' && t->n > 1 && t->n < sizeof(name) && i + 1 < end && r->t.v[i + 1].type == T_STR) {
		copy_tok_text(name, sizeof(name), t);
		if (!source_default_collation(r->src, name + 1))
			return;
		m = tidm_dialect_map_charset(r->tgt, r->v, name + 1, &why);
		if (m != name + 1) {
			char intro[64];

			snprintf(intro, sizeof(intro), "_%s", m);
			set_repl(t, intro);
		}
	}
}

/* TiDB: table options to drop (tidb-target.md §10 rows 40, 41); returns the last index. */
static size_t drop_table_option(struct rw *r, size_t i, size_t end)
{
	static const char *const opts[] = {
		"ENGINE",	    "ROW_FORMAT",	  "KEY_BLOCK_SIZE", "STATS_PERSISTENT", "STATS_AUTO_RECALC",
		"STATS_SAMPLE_PAGES", "COMPRESSION",	  "ENCRYPTION",	    "TABLESPACE",	"MAX_ROWS",
		"MIN_ROWS",	    "PACK_KEYS",	  "CHECKSUM",	    "DELAY_KEY_WRITE",	"INSERT_METHOD",
		"UNION",	    "PAGE_COMPRESSED",	  "PAGE_COMPRESSION_LEVEL", "TRANSACTIONAL", "ENCRYPTED",
		"ENCRYPTION_KEY_ID", "IETF_QUOTES",	  "PAGE_CHECKSUM",  "SEQUENCE",		NULL};
	struct tok *t = &r->t.v[i];
	size_t j, last;
	bool eq, known = false;

	if (t->type != T_WORD)
		return i;
	if (r->tgt != TIDM_FLAVOR_TIDB) {
		/* MySQL and MariaDB targets: only MariaDB's own options go */
		static const char *const mariadb_only[] = {"PAGE_COMPRESSED", "PAGE_COMPRESSION_LEVEL", "TRANSACTIONAL",
							   "ENCRYPTED", "ENCRYPTION_KEY_ID", "IETF_QUOTES",
							   "PAGE_CHECKSUM", "SEQUENCE", NULL};

		if (r->tgt == TIDM_FLAVOR_MARIADB)
			return i;
		for (const char *const *o = mariadb_only; *o; o++)
			if (word_is(t, *o))
				known = true;
		if (!known)
			return i;
	}
	if (word_is(t, "DEFAULT")) { /* DEFAULT ENCRYPTION='N' of CREATE DATABASE */
		j = next_sig(r, i, end);
		if (j < end && word_is(&r->t.v[j], "ENCRYPTION") && drop_table_option(r, j, end) != j) {
			t->skip = true;
			return j;
		}
		return i;
	}
	for (const char *const *o = opts; *o; o++)
		if (word_is(t, *o))
			known = true;
	last = i;
	if (!known && (word_is(t, "DATA") || word_is(t, "INDEX"))) {
		j = next_sig(r, i, end);
		if (j >= end || !word_is(&r->t.v[j], "DIRECTORY"))
			return i;
		last = j;
		known = true;
	}
	/* ENCRYPTION inside "DEFAULT ENCRYPTION='N'" of CREATE DATABASE: take DEFAULT too */
	if (!known)
		return i;
	j = option_value(r, last, end, &eq);
	if (j >= end)
		return i;
	if (punct_is(&r->t.v[j], '(')) { /* UNION=(`a`,`b`) */
		int depth = 0;

		for (; j < end; j++) {
			if (punct_is(&r->t.v[j], '('))
				depth++;
			else if (punct_is(&r->t.v[j], ')') && --depth == 0)
				break;
		}
		if (j >= end)
			return i;
	}
	if (word_is(t, "ENGINE")) {
		char eng[32];

		copy_tok_text(eng, sizeof(eng), &r->t.v[j]);
		if (strcasecmp(eng, "InnoDB") != 0 && !r->is_db_stmt)
			report_line(r, NULL,
				    "ENGINE=%s dropped (TiDB tables are transactional; this source table is not, "
				    "so its copy matches no single moment unless writes were stopped)",
				    eng);
	}
	if (word_is(t, "TABLESPACE")) { /* TABLESPACE `ts` [STORAGE DISK|MEMORY] */
		size_t k = next_sig(r, j, end);

		if (k < end && word_is(&r->t.v[k], "STORAGE")) {
			j = next_sig(r, k, end);
			if (j >= end)
				return i;
		}
	}
	for (size_t k = i; k <= j; k++)
		r->t.v[k].skip = true;
	return j;
}

static bool is_spatial_type(const char *ty)
{
	static const char *const types[] = {"geometry",	       "point",		"linestring",
					    "polygon",	       "multipoint",	"multilinestring",
					    "multipolygon",    "geometrycollection", "geomcollection", NULL};
	return in_list(ty, types);
}

/* Pre-pass over one column definition [s, e): type, MariaDB JSON, ZEROFILL, ... */
static void prepare_column(struct rw *r, size_t s, size_t e)
{
	size_t ty = next_sig(r, s, e), i;
	char type[32], colname[190];
	bool mariadb_json = false;

	copy_tok_text(colname, sizeof(colname), &r->t.v[s]);
	if (ty >= e || r->t.v[ty].type != T_WORD)
		return;
	copy_tok_text(type, sizeof(type), &r->t.v[ty]);
	lower_copy(type, sizeof(type), type);

	if (r->tgt != TIDM_FLAVOR_MARIADB) {
		/* MariaDB JSON: longtext ... CHECK (json_valid(`c`)) */
		for (i = s; i < e; i++) {
			size_t a, b, c, d, f;

			if (!word_is(&r->t.v[i], "CHECK"))
				continue;
			a = next_sig(r, i, e);
			b = next_sig(r, a, e);
			c = next_sig(r, b, e);
			d = next_sig(r, c, e);
			f = next_sig(r, d, e);
			if (f < e && punct_is(&r->t.v[a], '(') && word_is(&r->t.v[b], "json_valid") &&
			    punct_is(&r->t.v[c], '(') && r->t.v[d].type == T_BQ && r->t.v[d].n == r->t.v[s].n &&
			    memcmp(r->t.v[d].p, r->t.v[s].p, r->t.v[s].n) == 0 && punct_is(&r->t.v[f], ')')) {
				size_t g = next_sig(r, f, e);

				if (g < e && punct_is(&r->t.v[g], ')') && strcmp(type, "longtext") == 0) {
					for (size_t k = i; k <= g; k++)
						r->t.v[k].skip = true;
					mariadb_json = true;
				}
			}
		}
		if (mariadb_json) {
			set_repl(&r->t.v[ty], "json");
			/* JSON takes no charset or collation */
			for (i = ty + 1; i < e; i++) {
				struct tok *t = &r->t.v[i];
				size_t j;
				bool eq;

				if (word_is(t, "CHARACTER") || word_is(t, "CHARSET") || word_is(t, "COLLATE")) {
					size_t from = i;

					if (word_is(t, "CHARACTER"))
						i = next_sig(r, i, e);
					j = option_value(r, i, e, &eq);
					for (size_t k = from; k <= j && k < e; k++)
						r->t.v[k].skip = true;
					i = j;
				}
			}
			snprintf(r->column, sizeof(r->column), "%s", colname);
			report_line(r, NULL, "MariaDB JSON (longtext with json_valid) mapped to json");
			r->column[0] = '\0';
		}
		if (strcmp(type, "inet4") == 0 || strcmp(type, "inet6") == 0 || strcmp(type, "uuid") == 0) {
			const char *to = type[4] == '4' ? "varchar(15)" : type[4] == '6' ? "varchar(39)" : "char(36)";

			set_repl(&r->t.v[ty], to);
			snprintf(r->column, sizeof(r->column), "%s", colname);
			report_line(r, why_lacks, "type %s mapped to %s", type, to);
			r->column[0] = '\0';
		}
		/* WITHOUT SYSTEM VERSIONING on a column */
		for (i = ty; i < e; i++) {
			size_t a, b;

			if (!word_is(&r->t.v[i], "WITHOUT"))
				continue;
			a = next_sig(r, i, e);
			b = next_sig(r, a, e);
			if (b < e && word_is(&r->t.v[a], "SYSTEM") && word_is(&r->t.v[b], "VERSIONING"))
				for (size_t k = i; k <= b; k++)
					r->t.v[k].skip = true;
		}
	}
	if (r->tgt == TIDM_FLAVOR_TIDB) {
		snprintf(r->column, sizeof(r->column), "%s", colname);
		if (is_spatial_type(type)) {
			report_line(r, NULL, "type %s is not supported by TiDB; the table cannot be created", type);
			if (!r->unsupported)
				snprintf(r->unsupported_why, sizeof(r->unsupported_why),
					 "%s%s%s%s column %s: type %s is not supported by TiDB", r->db ? "`" : "",
					 r->db ? r->db : "", r->db ? "`." : "", r->table, colname, type);
			r->unsupported = true;
		}
		for (i = ty; i < e; i++)
			if (word_is(&r->t.v[i], "ZEROFILL")) {
				r->t.v[i].skip = true;
				report_line(r, NULL, "ZEROFILL dropped (TiDB does not pad numbers with zeros)");
			}
		r->column[0] = '\0';
	}
}

/* Pre-pass over one index/constraint item [s, e); returns true to drop the whole item. */
static bool prepare_index(struct rw *r, size_t s, size_t e)
{
	struct tok *first = &r->t.v[s];
	char name[190] = "";
	size_t i;

	if (r->tgt != TIDM_FLAVOR_TIDB)
		return false;
	for (i = s; i < e; i++)
		if (r->t.v[i].type == T_BQ) {
			copy_tok_text(name, sizeof(name), &r->t.v[i]);
			break;
		}
	if (word_is(first, "FULLTEXT") || word_is(first, "SPATIAL")) {
		char kind[16];

		copy_tok_text(kind, sizeof(kind), first);
		for (char *p = kind; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		report_line(r, NULL, "%s index %s dropped (TiDB does not support it)", kind, name);
		return true;
	}
	for (i = s; i < e; i++) {
		if (word_is(&r->t.v[i], "FOREIGN") && r->v < 60600) {
			report_line(r, NULL, "foreign key %s dropped (TiDB before 6.6 does not enforce foreign keys)", name);
			return true;
		}
		if (word_is(&r->t.v[i], "USING")) {
			size_t j = next_sig(r, i, e);

			if (j < e && (word_is(&r->t.v[j], "BTREE") || word_is(&r->t.v[j], "HASH") ||
				      word_is(&r->t.v[j], "RTREE"))) {
				r->t.v[i].skip = true;
				r->t.v[j].skip = true;
			}
		}
	}
	return false;
}

/* Emit token i into b (pending whitespace first; a skipped token drops it). */
static void emit(struct rw *r, tidm_buf *b, size_t i)
{
	struct tok *t = &r->t.v[i];

	if (t->type == T_WS) {
		tidm_buf_put(&r->pending, t->p, t->n);
		return;
	}
	if (t->skip) {
		tidm_buf_clear(&r->pending);
		return;
	}
	/* MariaDB's "/ * mariadb-5.3 * /" marks of old temporal formats mean nothing elsewhere */
	if (t->type == T_COMMENT && r->tgt != TIDM_FLAVOR_MARIADB && t->n > 10 && strncmp(t->p, "/* mariadb-", 11) == 0) {
		tidm_buf_clear(&r->pending);
		return;
	}
	tidm_buf_put(b, r->pending.data ? r->pending.data : "", r->pending.len);
	tidm_buf_clear(&r->pending);
	if (t->has_repl)
		tidm_buf_puts(b, t->repl);
	else
		tidm_buf_put(b, t->p, t->n);
	tidm_buf_puts(b, t->extra);
}

/* Generic pass over [s, e) into b; depth-0 table options are considered when `opts`. */
static void emit_range(struct rw *r, tidm_buf *b, size_t s, size_t e, bool opts)
{
	for (size_t i = s; i < e; i++) {
		if (!r->t.v[i].skip) {
			if (opts)
				drop_table_option(r, i, e);
			if (opts && r->tgt != TIDM_FLAVOR_MARIADB && word_is(&r->t.v[i], "WITH")) {
				size_t a = next_sig(r, i, e), c = next_sig(r, a, e);

				if (c < e && word_is(&r->t.v[a], "SYSTEM") && word_is(&r->t.v[c], "VERSIONING")) {
					for (size_t k = i; k <= c; k++)
						r->t.v[k].skip = true;
					report_line(r, NULL, "WITH SYSTEM VERSIONING dropped (the target keeps no row history)");
				}
			}
			map_names(r, i, e);
		}
		emit(r, b, i);
	}
}

int tidm_dialect_adapt_create_in(tidm_buf *out, const char *db, const char *create_sql, enum tidm_flavor src,
				 enum tidm_flavor target, unsigned target_version, tidm_buf *report)
{
	struct rw r = {.src = src, .tgt = target, .v = target_version, .report = report, .db = db};
	size_t i, open = 0, close = 0, n;
	int rc = 0, depth = 0;
	bool has_body = false, is_table = false;

	if ((rc = tokenize(&r.t, create_sql)) < 0)
		goto done;
	n = r.t.n;
	/* MySQL 8/9 executable comments (/ *!80016 DEFAULT ENCRYPTION='N' * /) would run on
	 * MariaDB, whose version numbers are larger, and fail there: drop them */
	if (target == TIDM_FLAVOR_MARIADB) {
		bool in = false;

		for (i = 0; i < n; i++) {
			struct tok *t = &r.t.v[i];

			if (t->type == T_VOPEN && t->n == 8 && t->p[2] == '!' && (t->p[3] == '8' || t->p[3] == '9'))
				in = true;
			if (in)
				t->skip = true;
			if (t->type == T_VCLOSE)
				in = false;
		}
	}
	/* statement kind and name: CREATE [TEMPORARY] TABLE [IF NOT EXISTS] `t` / CREATE DATABASE `d` */
	for (i = 0; i < n; i++) {
		struct tok *t = &r.t.v[i];

		if (word_is(t, "DATABASE") || word_is(t, "SCHEMA"))
			r.is_db_stmt = true;
		if (word_is(t, "TABLE"))
			is_table = true;
		if (t->type == T_BQ) {
			copy_tok_text(r.table, sizeof(r.table), t);
			break;
		}
		if (punct_is(t, '('))
			break;
	}
	if (r.is_db_stmt && db == NULL) {
		r.db = NULL; /* the name is the database itself: report as `d` */
	} else if (r.is_db_stmt) {
		r.table[0] = '\0';
	}
	/* the table body: the first top-level parenthesis after the name */
	for (i = 0; i < n; i++) {
		if (punct_is(&r.t.v[i], '(')) {
			if (depth++ == 0 && !has_body)
				open = i;
		} else if (punct_is(&r.t.v[i], ')')) {
			if (depth == 0) {
				rc = tidm_err_set(TIDM_ECORRUPT, "unbalanced ')' at offset %zu",
						  (size_t)(r.t.v[i].p - create_sql));
				goto done;
			}
			if (--depth == 0 && !has_body) {
				close = i;
				has_body = true;
			}
		}
	}
	if (depth != 0) {
		rc = tidm_err_set(TIDM_ECORRUPT, "unbalanced '(' in CREATE statement");
		goto done;
	}
	if (!has_body || !is_table) {
		emit_range(&r, out, 0, n, r.is_db_stmt || is_table);
		tidm_buf_put(out, r.pending.data ? r.pending.data : "", r.pending.len);
		goto done;
	}
	emit_range(&r, out, 0, open, false);
	emit(&r, out, open);
	{
		/* items of the body, each rendered on its own */
		size_t s = open + 1, nkept = 0;
		tidm_buf item = TIDM_BUF_INIT;

		while (s < close) {
			size_t e = s, first;
			int d = 0;
			bool drop = false;

			for (; e < close; e++) {
				if (punct_is(&r.t.v[e], '('))
					d++;
				else if (punct_is(&r.t.v[e], ')'))
					d--;
				else if (d == 0 && punct_is(&r.t.v[e], ','))
					break;
			}
			first = s;
			while (first < e && (r.t.v[first].type == T_WS || r.t.v[first].type == T_COMMENT))
				first++;
			if (first < e && r.t.v[first].type == T_BQ) {
				prepare_column(&r, first, e);
				copy_tok_text(r.column, sizeof(r.column), &r.t.v[first]);
			} else if (first < e) {
				drop = prepare_index(&r, first, e);
			}
			tidm_buf_clear(&item);
			tidm_buf_clear(&r.pending);
			if (!drop) {
				emit_range(&r, &item, s, e, false);
				if (e == close) /* whitespace before ')' belongs to the body */
					;
				else {
					tidm_buf_put(&item, r.pending.data ? r.pending.data : "", r.pending.len);
					tidm_buf_clear(&r.pending);
				}
				if (nkept++)
					tidm_buf_putc(out, ',');
				tidm_buf_put(out, item.data ? item.data : "", item.len);
			} else if (e == close) {
				/* keep the whitespace before ')' of a dropped last item */
				size_t k = e;

				while (k > s && r.t.v[k - 1].type == T_WS)
					k--;
				for (; k < e; k++)
					tidm_buf_put(&r.pending, r.t.v[k].p, r.t.v[k].n);
			}
			r.column[0] = '\0';
			s = e + 1;
		}
		tidm_buf_dispose(&item);
	}
	emit(&r, out, close);
	emit_range(&r, out, close + 1, n, true);
	tidm_buf_put(out, r.pending.data ? r.pending.data : "", r.pending.len);
	if (r.unsupported)
		rc = tidm_err_set(TIDM_EUNSUPPORTED, "%s", r.unsupported_why);
done:
	free(r.t.v);
	tidm_buf_dispose(&r.pending);
	return rc;
}

int tidm_dialect_adapt_create(tidm_buf *out, const char *create_sql, enum tidm_flavor src, enum tidm_flavor target,
			      unsigned target_version, tidm_buf *report)
{
	return tidm_dialect_adapt_create_in(out, NULL, create_sql, src, target, target_version, report);
}

/* ---- deferred secondary indexes ------------------------------------------------------------ */

/* The backquoted identifier at p ("`a``b`"), its length including the quotes; 0 if none. */
static size_t quoted_ident_len(const char *p, const char *end)
{
	const char *q;

	if (p >= end || *p != '`')
		return 0;
	for (q = p + 1; q < end; q++) {
		if (*q != '`')
			continue;
		if (q + 1 < end && q[1] == '`') {
			q++;
			continue;
		}
		return (size_t)(q + 1 - p);
	}
	return 0;
}

/* Does p[0..n) contain the text `needle`? */
static bool contains(const char *p, size_t n, const char *needle)
{
	size_t m = strlen(needle), i;

	for (i = 0; i + m <= n; i++)
		if (p[i] == needle[0] && !memcmp(p + i, needle, m))
			return true;
	return false;
}

size_t tidm_dialect_split_keys(const char *create_sql, tidm_buf *table_sql, tidm_buf *keys)
{
	const char *s = create_sql, *end = s + strlen(s);
	const char *lines[4096];
	size_t lens[4096], n = 0, close = 0, i, nkeys = 0, kept = 0;
	const char *autos[64];
	size_t auto_lens[64], nauto = 0;
	bool *defer;

	/* lines */
	while (s < end && n < 4096) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		lines[n] = s;
		lens[n] = nl ? (size_t)(nl - s) : (size_t)(end - s);
		n++;
		s = nl ? nl + 1 : end;
	}
	if (s < end || n < 3 || strncmp(lines[0], "CREATE TABLE ", 13) != 0 || lines[0][lens[0] - 1] != '(')
		goto whole;
	for (i = 1; i < n && !close; i++)
		if (lines[i][0] == ')')
			close = i;
	if (!close)
		goto whole;
	for (i = 1; i < close; i++) {
		size_t len = lens[i], q;
		if (len < 3 || lines[i][0] != ' ' || lines[i][1] != ' ')
			goto whole; /* not one definition per line */
		if (contains(lines[i], len, "FOREIGN KEY") || contains(lines[i], len, "REFERENCES"))
			goto whole; /* a foreign key needs its index from the start */
		/* columns with AUTO_INCREMENT: an index leading with one must stay */
		if (lines[i][2] == '`' && contains(lines[i], len, " AUTO_INCREMENT") &&
		    (q = quoted_ident_len(lines[i] + 2, lines[i] + len)) && nauto < 64) {
			autos[nauto] = lines[i] + 2;
			auto_lens[nauto++] = q;
		}
	}
	defer = calloc(close, sizeof(*defer));
	if (!defer)
		abort();
	for (i = 1; i < close; i++) {
		const char *l = lines[i], *e = l + lens[i], *p;
		size_t q, k;
		bool leads_auto = false;

		if (lens[i] < 7 || memcmp(l, "  KEY `", 7) != 0)
			continue;
		q = quoted_ident_len(l + 6, e); /* the index name */
		if (!q)
			continue;
		p = l + 6 + q;
		if (e - p < 3 || memcmp(p, " (`", 3) != 0)
			continue;
		q = quoted_ident_len(p + 2, e); /* its first column */
		for (k = 0; k < nauto; k++)
			if (q == auto_lens[k] && !memcmp(p + 2, autos[k], q))
				leads_auto = true;
		if (q && !leads_auto) {
			defer[i] = true;
			nkeys++;
		}
	}
	if (!nkeys || nkeys == close - 1) {
		free(defer);
		goto whole;
	}
	tidm_buf_put(table_sql, lines[0], lens[0]);
	for (i = 1; i < close; i++) {
		size_t len = lens[i];
		if (lines[i][len - 1] == ',')
			len--;
		if (defer[i]) {
			tidm_buf_puts(keys, "ADD ");
			tidm_buf_put(keys, lines[i] + 2, len - 2);
			tidm_buf_putc(keys, '\n');
			continue;
		}
		tidm_buf_puts(table_sql, kept++ ? ",\n" : "\n");
		tidm_buf_put(table_sql, lines[i], len);
	}
	for (i = close; i < n; i++) {
		tidm_buf_putc(table_sql, '\n');
		tidm_buf_put(table_sql, lines[i], lens[i]);
	}
	free(defer);
	return nkeys;
whole:
	tidm_buf_puts(table_sql, create_sql);
	return 0;
}

/* ---- MariaDB sequences -------------------------------------------------------------- */

/* Next significant token (not whitespace or comment) from i on; t->n when none. */
static size_t seq_sig(const struct toks *t, size_t i)
{
	while (i < t->n && (t->v[i].type == T_WS || t->v[i].type == T_COMMENT))
		i++;
	return i;
}

/* Copy an identifier token unquoted. */
static void seq_ident(char *dst, size_t cap, const struct tok *k)
{
	size_t i, o = 0;

	if (k->type != T_BQ) {
		copy_tok_text(dst, cap, k);
		return;
	}
	for (i = 1; i + 1 < k->n && o + 1 < cap; i++) {
		dst[o++] = k->p[i];
		if (k->p[i] == '`' && k->p[i + 1] == '`')
			i++;
	}
	dst[o] = '\0';
}

/* A name (ident or ident.ident) at i; returns the index after it, 0 when there is none. */
static size_t seq_name(const struct toks *t, size_t i, tidm_seq_info *info)
{
	size_t j, k;
	char a[256], b[256];

	i = seq_sig(t, i);
	if (i >= t->n || (t->v[i].type != T_WORD && t->v[i].type != T_BQ))
		return 0;
	seq_ident(a, sizeof(a), &t->v[i]);
	j = seq_sig(t, i + 1);
	b[0] = '\0';
	if (j < t->n && punct_is(&t->v[j], '.')) {
		k = seq_sig(t, j + 1);
		if (k >= t->n || (t->v[k].type != T_WORD && t->v[k].type != T_BQ))
			return 0;
		seq_ident(b, sizeof(b), &t->v[k]);
		i = k;
	}
	if (info->n_names < TIDM_SEQ_MAX_NAMES) {
		snprintf(info->names[info->n_names].db, sizeof(info->names[0].db), "%s", b[0] ? a : "");
		snprintf(info->names[info->n_names].name, sizeof(info->names[0].name), "%s", b[0] ? b : a);
		info->n_names++;
	}
	return i + 1;
}

/* `db`.`name` (or `name`) of the first sequence, for messages. */
static void seq_display(char *out, size_t cap, const tidm_seq_info *info)
{
	if (!info->n_names)
		snprintf(out, cap, "?");
	else if (info->names[0].db[0])
		snprintf(out, cap, "`%s`.`%s`", info->names[0].db, info->names[0].name);
	else
		snprintf(out, cap, "`%s`", info->names[0].name);
}

/*
 * Classify: CREATE [OR REPLACE] [TEMPORARY] SEQUENCE [IF NOT EXISTS] n / ALTER SEQUENCE
 * [IF EXISTS] n / DROP [TEMPORARY] SEQUENCE [IF EXISTS] n[, n]. *name_at receives the
 * index of the first name's first token, *or_replace whether OR REPLACE was there.
 */
static void seq_classify(const struct toks *t, tidm_seq_info *info, size_t *name_at, size_t *or_replace_at)
{
	size_t i = seq_sig(t, 0), j;
	enum tidm_seq_stmt kind;

	*or_replace_at = t->n;
	if (i >= t->n)
		return;
	if (word_is(&t->v[i], "CREATE"))
		kind = TIDM_SEQ_CREATE;
	else if (word_is(&t->v[i], "ALTER"))
		kind = TIDM_SEQ_ALTER;
	else if (word_is(&t->v[i], "DROP"))
		kind = TIDM_SEQ_DROP;
	else
		return;
	i = seq_sig(t, i + 1);
	if (kind == TIDM_SEQ_CREATE && i < t->n && word_is(&t->v[i], "OR")) {
		j = seq_sig(t, i + 1);
		if (j >= t->n || !word_is(&t->v[j], "REPLACE"))
			return;
		*or_replace_at = i;
		i = seq_sig(t, j + 1);
	}
	if (kind != TIDM_SEQ_ALTER && i < t->n && word_is(&t->v[i], "TEMPORARY")) {
		info->temporary = true;
		i = seq_sig(t, i + 1);
	}
	if (i >= t->n || !word_is(&t->v[i], "SEQUENCE"))
		return;
	i = seq_sig(t, i + 1);
	if (i < t->n && word_is(&t->v[i], "IF")) {
		i = seq_sig(t, i + 1);
		if (i < t->n && word_is(&t->v[i], "NOT"))
			i = seq_sig(t, i + 1);
		if (i >= t->n || !word_is(&t->v[i], "EXISTS"))
			return;
		i = seq_sig(t, i + 1);
	}
	*name_at = i;
	j = seq_name(t, i, info);
	if (!j)
		return;
	while (kind == TIDM_SEQ_DROP) {
		j = seq_sig(t, j);
		if (j >= t->n || !punct_is(&t->v[j], ','))
			break;
		if (!(j = seq_name(t, j + 1, info)))
			return;
	}
	info->kind = kind;
}

/* Emit tokens [0, n) for TiDB, dropping table options, AS type and OR REPLACE; CACHE 0 -> NOCACHE. */
static void seq_emit_tidb(tidm_buf *out, const struct toks *t, size_t or_replace_at)
{
	size_t i, j;
	bool pend_ws = false;

	for (i = 0; i < t->n; i++) {
		const struct tok *k = &t->v[i];
		if (k->type == T_WS) {
			pend_ws = true;
			continue;
		}
		if (i == or_replace_at) {
			i = seq_sig(t, i + 1); /* REPLACE */
			continue;
		}
		if (word_is(k, "ENGINE") || word_is(k, "AS")) {
			/* ENGINE [=] name, AS int_type [UNSIGNED] */
			bool as = word_is(k, "AS");
			j = seq_sig(t, i + 1);
			if (j < t->n && punct_is(&t->v[j], '='))
				j = seq_sig(t, j + 1);
			i = j;
			if (as) {
				j = seq_sig(t, i + 1);
				if (j < t->n && (word_is(&t->v[j], "UNSIGNED") || word_is(&t->v[j], "SIGNED")))
					i = j;
			}
			continue;
		}
		if (word_is(k, "CACHE")) {
			j = seq_sig(t, i + 1);
			if (j < t->n && punct_is(&t->v[j], '='))
				j = seq_sig(t, j + 1);
			if (j < t->n && t->v[j].n == 1 && t->v[j].p[0] == '0' && t->v[j].type == T_WORD) {
				if (pend_ws && out->len)
					tidm_buf_putc(out, ' ');
				pend_ws = false;
				tidm_buf_puts(out, "NOCACHE");
				i = j;
				continue;
			}
		}
		if (pend_ws && out->len)
			tidm_buf_putc(out, ' ');
		pend_ws = false;
		tidm_buf_put(out, k->p, k->n);
	}
}

int tidm_dialect_adapt_sequence(tidm_buf *out, tidm_seq_info *info, const char *sql, size_t len,
				enum tidm_flavor target, unsigned target_version, tidm_buf *report)
{
	struct toks t = {0};
	char *text = malloc(len + 1), what[600];
	size_t name_at = 0, or_replace_at = 0;
	int rc = 0;

	if (!text)
		abort();
	memcpy(text, sql, len);
	text[len] = '\0';
	memset(info, 0, sizeof(*info));
	if ((rc = tokenize(&t, text)) < 0)
		goto done;
	seq_classify(&t, info, &name_at, &or_replace_at);
	if (info->kind == TIDM_SEQ_NONE || info->temporary)
		goto done;
	seq_display(what, sizeof(what), info);
	if (target == TIDM_FLAVOR_MARIADB) {
		tidm_buf_put(out, sql, len);
	} else if (target == TIDM_FLAVOR_MYSQL || (target == TIDM_FLAVOR_TIDB && target_version < 40000) ||
		   (target == TIDM_FLAVOR_TIDB && info->kind == TIDM_SEQ_ALTER && target_version < 60400)) {
		const char *tgt = target == TIDM_FLAVOR_MYSQL ? "MySQL has no sequences"
				  : info->kind == TIDM_SEQ_ALTER && target_version >= 40000
					  ? "TiDB before 6.4 has no ALTER SEQUENCE"
					  : "TiDB before 4.0 has no sequences";
		const char *lost = info->kind == TIDM_SEQ_CREATE
					   ? "is not created on the target; the values NEXTVAL/SETVAL hand out on the "
					     "source are not carried over (columns filled from it get their values as rows), "
					     "and DEFAULT NEXTVAL(...) or NEXTVAL calls of applications need another source "
					     "of numbers there"
				   : info->kind == TIDM_SEQ_ALTER ? "is not altered on the target (its new options and "
								    "restart value are not carried over)"
								  : "is not dropped on the target";
		rc = tidm_err_set(TIDM_EUNSUPPORTED, "sequence %s%s %s: %s", what,
				  info->n_names > 1 ? " (and the others named)" : "", lost, tgt);
		if (report)
			tidm_buf_printf(report, "%s\n", tidm_err_msg());
	} else if (target == TIDM_FLAVOR_TIDB) {
		if (or_replace_at < t.n) {
			tidm_buf_puts(out, "DROP SEQUENCE IF EXISTS ");
			{
				size_t e = seq_name((const struct toks *)&t, name_at, &(tidm_seq_info){0});
				for (size_t i = name_at; i < e; i++)
					tidm_buf_put(out, t.v[i].p, t.v[i].n);
			}
			tidm_buf_puts(out, "; ");
		}
		seq_emit_tidb(out, &t, or_replace_at);
		if (report && info->kind == TIDM_SEQ_CREATE)
			tidm_buf_printf(report,
					"sequence %s: created on TiDB, which caches values per TiDB server: NEXTVAL on "
					"the target may leave gaps and hand out values in another order than MariaDB\n",
					what);
	}
done:
	free(t.v);
	free(text);
	return rc;
}

int tidm_dialect_sequence_state(tidm_buf *out, const char *db, const char *name, const tidm_seq_state *st,
				enum tidm_flavor target)
{
	if (target == TIDM_FLAVOR_MYSQL)
		return tidm_err_set(TIDM_EUNSUPPORTED,
				    "sequence `%s`.`%s`: MySQL has no sequences; its state (next value %lld) is not "
				    "carried over",
				    db, name, st->next_not_cached);
	if (target == TIDM_FLAVOR_TIDB) {
		if (st->next_not_cached == st->start && st->cycle_count == 0)
			return 0; /* never used */
		tidm_buf_puts(out, "SELECT SETVAL(");
		tidm_quote_qualified(out, db, name);
		tidm_buf_printf(out, ", %lld)", st->next_not_cached - st->increment);
		return 0;
	}
	tidm_buf_puts(out, "INSERT INTO ");
	tidm_quote_qualified(out, db, name);
	tidm_buf_printf(out, " VALUES (%lld, %lld, %lld, %lld, %lld, %llu, %d, %lld)", st->next_not_cached, st->min,
			st->max, st->start, st->increment, st->cache, st->cycle ? 1 : 0, st->cycle_count);
	return 0;
}
