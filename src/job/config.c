/*
 * config.c - the job file of SPEC §7.1: YAML (or JSON, a subset) parsed with libfyaml
 * into a validated tidm_job_config. See config.h for the contract.
 *
 * Design.
 *  - libfyaml builds a document tree (exactly one document: a second one after `---` is
 *    an error, not silently ignored); we walk it once, top to bottom. Each mapping has
 *    a fixed table of allowed keys: a key not in the table is an error listing the
 *    table, so a typo never silently becomes a default. Values are checked as they are
 *    met (document order); cross-field rules (required keys, one password form, cert
 *    with key, start only with type incremental) once their mapping is done.
 *  - Every message is "ORIGIN:LINE:COLUMN: what is wrong; expected ...", 1-based as an
 *    editor shows it. Scalars take their position from their token; mappings and
 *    sequences have no public position accessor in libfyaml 0.7/0.8, so we ask libfyaml
 *    to report on the node into a private diagnostic object in "collect" mode and read
 *    the position back from the collected error (error path only).
 *  - libfyaml's own diagnostics go to a diagnostic object whose output callback discards
 *    text and which collects errors: nothing is printed on stderr, and a syntax error
 *    becomes "ORIGIN:LINE:COLUMN: invalid YAML: <libfyaml's message>".
 *  - Passwords never reach a message. No message echoes the value of a password key;
 *    libfyaml's messages lose any quoted excerpt longer than two bytes; and as a last
 *    line of defence every message is scrubbed of every known secret: the resolved
 *    passwords plus whatever a raw text scan finds after a `password:` key (this scan
 *    also covers a file too broken to parse). Resolved passwords are wiped on free.
 *  - Anchors/aliases are refused rather than resolved (no alias expansion bombs, and a
 *    job file has no use for them).
 */
#include "job/config.h"
#include "job/config_text.h"
#include "precheck/precheck.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/gtid.h"
#include "util/size.h"

#define JOB_FILE_MAX (1u << 20)     /* a job file is a few hundred bytes */
#define PASSWORD_FILE_MAX 65536u
#define ECHO_MAX 64                 /* longest user value quoted in a message */
#define SECRET_MIN 3                /* shorter strings are not scrubbed from messages */

/* Defaults (config.h documents them). */
#define DEFAULT_PORT 3306u
#define DEFAULT_CONNECT_TIMEOUT 10u
#define DEFAULT_STALL_TIMEOUT 30u
#define DEFAULT_DUMP_THREADS 4u
#define DEFAULT_LOAD_THREADS 4u
#define DEFAULT_APPLY_WORKERS 8u
#define DEFAULT_BATCH 100u
#define DEFAULT_CHUNK_ROWS 100000u
#define DEFAULT_STATEMENT_BYTES (1u << 20)
#define DEFAULT_SAFE_MODE_SECONDS 60u

/* Parse state of one job text. */
struct ctx {
	const char *origin;  /* name used in messages (borrowed from cfg->path) */
	const char *base_dir; /* absolute directory for relative paths */
	tidm_job_config *cfg;
	char **secrets;      /* strings scrubbed from every message (owned copies) */
	size_t n_secrets;
	struct fy_node *start_key; /* key of a `start:` position mapping, for the type rule */
};

static const char *const job_keys[] = {"name", "type", "mode", "source", "target", "objects",
				       "start", "spec", "safe-mode", "precheck", "alerts", NULL};
static const char *const endpoint_keys[] = {"host", "port", "user", "password", "password-env",
					    "password-file", "tls", "connect-timeout", "binlog", "triggers",
					    "stall-timeout", NULL};
static const char *const tls_keys[] = {"ca", "cert", "key", "verify-hostname", NULL};
static const char *const objects_keys[] = {"databases", "tables", "exclude", NULL};
static const char *const precheck_keys[] = {"ignore", "copy-rate", "timeout", NULL};
static const char *const alerts_keys[] = {"no-progress-minutes", "no-progress-seconds", "lag-seconds", NULL};
static const char *const start_keys[] = {"gtid", "binlog-file", "binlog-pos", NULL};
static const char *const spec_keys[] = {"dump-threads", "load-threads", "apply-workers", "batch",
					"chunk-rows", "statement-bytes", "safe-mode-seconds", "load-method",
					"keyless-nonempty", "max-txn-bytes", "verify", "verify-rows-per-second", "verify-chunk-rows",
					"stage", "physical", "export", NULL};
static const char *const physical_keys[] = {"disable-redo-log", "one-transaction", NULL};
static const char *const export_keys[] = {"max-rows-per-second", "max-bytes-per-second", "adaptive", NULL};
static const char *const verify_names[] = {"off", "after-full", "continuous", NULL};
static const char *const load_method_names[] = {"auto", "load-data", "insert", NULL};
static const char *const triggers_names[] = {"refuse", "allow", NULL};
static const char *const keyless_nonempty_names[] = {"refuse", "append", NULL};
static const char *const type_names[] = {"full", "incremental", "all", NULL};
static const char *const mode_names[] = {"logical", "physical", NULL};

static const char name_expected[] =
	"a name that starts with a letter, is shorter than 60 characters and uses only "
	"A-Z a-z 0-9 _ -";

/* ---- secrets and messages ------------------------------------------------------------ */

/* Remember a secret (a copy) so that no message can contain it. */
static void add_secret(struct ctx *c, const char *s, size_t len)
{
	char **grown;

	if (len < SECRET_MIN)
		return;
	grown = realloc(c->secrets, (c->n_secrets + 1) * sizeof(*grown));
	if (!grown)
		return; /* the other defences still hold */
	c->secrets = grown;
	c->secrets[c->n_secrets] = strndup(s, len);
	if (c->secrets[c->n_secrets])
		c->n_secrets++;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/*
 * Raw scan of the job text for `password: VALUE` (YAML or JSON, quoted or not). It runs
 * before parsing, so even a file libfyaml rejects has its password values known.
 */
static void scan_secrets(struct ctx *c, const char *text, size_t len)
{
	const char *end = text + len;

	for (const char *p = text; p + 8 <= end; p++) {
		const char *q = p + 8, *v, *ve;

		if (memcmp(p, "password", 8) != 0)
			continue;
		if (q < end && (*q == '"' || *q == '\''))
			q++;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || *q != ':')
			continue;
		q++;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q < end && (*q == '"' || *q == '\'')) {
			char quote = *q++;
			v = q;
			while (q < end && *q != quote && *q != '\n')
				q++;
			ve = q;
		} else {
			v = q;
			while (q < end && *q != '\n' && *q != ',' && *q != '}' &&
			       !(*q == '#' && q > v && (q[-1] == ' ' || q[-1] == '\t')))
				q++;
			ve = q;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
				ve--;
		}
		add_secret(c, v, (size_t)(ve - v));
	}
}

/* Replace every known secret in b by "***". */
static void scrub(const struct ctx *c, tidm_buf *b)
{
	for (size_t i = 0; i < c->n_secrets; i++) {
		const char *s = c->secrets[i];
		size_t sl = strlen(s);
		char *hit;

		while ((hit = strstr(b->data, s)) != NULL) {
			tidm_buf out = TIDM_BUF_INIT;
			size_t at = (size_t)(hit - b->data);
			tidm_buf_put(&out, b->data, at);
			tidm_buf_puts(&out, "***");
			tidm_buf_puts(&out, hit + sl);
			tidm_buf_dispose(b);
			*b = out;
		}
	}
}

/* Quote a user value into b: at most ECHO_MAX bytes, control bytes as \xNN. */
static void echo(tidm_buf *b, const char *s, size_t len)
{
	tidm_buf_putc(b, '"');
	for (size_t i = 0; i < len && i < ECHO_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f)
			tidm_buf_printf(b, "\\x%02x", ch);
		else if (ch == '"' || ch == '\\')
			tidm_buf_printf(b, "\\%c", ch);
		else
			tidm_buf_putc(b, (char)ch);
	}
	if (len > ECHO_MAX)
		tidm_buf_puts(b, "...");
	tidm_buf_putc(b, '"');
}

static void diag_sink(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

/* A diagnostic object that prints nothing and collects errors. */
static struct fy_diag *quiet_diag(void)
{
	struct fy_diag_cfg dc;
	struct fy_diag *d;

	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = diag_sink;
	dc.user = NULL;
	dc.colorize = false;
	dc.level = FYET_ERROR;
	d = fy_diag_create(&dc);
	if (d)
		fy_diag_set_collect_errors(d, true);
	return d;
}

/* 1-based line and column of a node (1:1 when unknown). */
static void node_pos(struct fy_node *n, int *line, int *col)
{
	*line = 1;
	*col = 1;
	if (!n)
		return;
	if (fy_node_is_scalar(n) && !fy_node_is_alias(n)) {
		struct fy_token *t = fy_node_get_scalar_token(n);
		const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
		if (m) {
			enum fy_node_style st = fy_node_get_style(n);
			*line = m->line + 1;
			*col = m->column + 1;
			/* the token starts after an opening quote; point at the quote */
			if ((st == FYNS_SINGLE_QUOTED || st == FYNS_DOUBLE_QUOTED) && *col > 1)
				(*col)--;
			return;
		}
	}
	/* Collections: let libfyaml locate the node in a report we collect and read back. */
	struct fy_diag *d = quiet_diag();
	if (!d)
		return;
	fy_diag_node_report(d, n, FYET_ERROR, "%s", "here");
	void *it = NULL;
	struct fy_diag_error *e = fy_diag_errors_iterate(d, &it);
	if (e && e->line > 0 && e->column > 0) {
		*line = e->line;
		*col = e->column;
		/* an alias is located after its '*'; point at the '*' */
		if (fy_node_is_alias(n) && *col > 1)
			(*col)--;
	}
	fy_diag_destroy(d);
}

/* Set the error "ORIGIN:LINE:COL: message" (scrubbed) at an explicit position. */
static int fail_pos(struct ctx *c, int line, int col, const char *fmt, va_list ap)
{
	tidm_buf b = TIDM_BUF_INIT;

	tidm_buf_printf(&b, "%s:%d:%d: ", c->origin, line, col);
	tidm_buf_vprintf(&b, fmt, ap);
	scrub(c, &b);
	tidm_err_set(TIDM_EINVAL, "%s", b.data);
	explicit_bzero(b.data, b.len);
	tidm_buf_dispose(&b);
	return TIDM_EINVAL;
}

/* Set the error at node `at` (NULL: 1:1); returns TIDM_EINVAL. */
static int fail(struct ctx *c, struct fy_node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, struct fy_node *at, const char *fmt, ...)
{
	va_list ap;
	int line, col, rc;

	node_pos(at, &line, &col);
	va_start(ap, fmt);
	rc = fail_pos(c, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

/* "a, b, c" from a NULL-terminated list, into a static-size buffer. */
static const char *join(const char *const *list, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; list[i] && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? ", " : "", list[i]);
	return buf;
}

/* "port in source", or "type" at the top level (where == NULL). */
static const char *field(char *buf, size_t size, const char *key, const char *where)
{
	if (where)
		snprintf(buf, size, "%s in %s", key, where);
	else
		snprintf(buf, size, "%s", key);
	return buf;
}

/* ---- scalar values --------------------------------------------------------------- */

/* A plain scalar that YAML reads as null ("key:" with nothing, ~, null). */
static bool is_null(struct fy_node *v)
{
	size_t len;
	const char *s;

	if (!v)
		return true;
	if (!fy_node_is_scalar(v) || fy_node_is_alias(v) || fy_node_get_style(v) != FYNS_PLAIN)
		return false;
	s = fy_node_get_scalar(v, &len);
	return !s || len == 0 || (len == 1 && s[0] == '~') ||
	       (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

/* What a value is, for "X is <kind>; expected ..." messages. */
static const char *kind(struct fy_node *v)
{
	if (is_null(v))
		return "empty";
	if (fy_node_is_alias(v))
		return "an alias (anchors and aliases are not supported)";
	if (fy_node_is_mapping(v))
		return "a mapping";
	if (fy_node_is_sequence(v))
		return "a list";
	return "a value";
}

/*
 * The text of scalar `v` for field `what`. Empty/null is an error unless allow_empty
 * (then it is ""); NUL characters are refused. The value is never echoed.
 */
static int scalar(struct ctx *c, struct fy_node *at, struct fy_node *v, const char *what,
		  const char *expected, bool allow_empty, const char **s, size_t *len)
{
	if (is_null(v)) {
		if (allow_empty) {
			*s = "";
			*len = 0;
			return 0;
		}
		return fail(c, at, "%s is empty; expected %s", what, expected);
	}
	if (!fy_node_is_scalar(v) || fy_node_is_alias(v))
		return fail(c, v, "%s is %s; expected %s", what, kind(v), expected);
	*s = fy_node_get_scalar(v, len);
	if (!*s) {
		*s = "";
		*len = 0;
	}
	if (memchr(*s, '\0', *len))
		return fail(c, v, "%s contains a NUL character; expected %s", what, expected);
	if (*len == 0 && !allow_empty)
		return fail(c, v, "%s is empty; expected %s", what, expected);
	return 0;
}

/* A malloc'd copy of a string value (replacing *out). */
static int get_string(struct ctx *c, struct fy_node *at, struct fy_node *v, const char *what,
		      const char *expected, bool allow_empty, char **out)
{
	const char *s = NULL;
	size_t len = 0;
	int rc = scalar(c, at, v, what, expected, allow_empty, &s, &len);

	if (rc < 0)
		return rc;
	free(*out);
	*out = strndup(s, len);
	if (!*out)
		return tidm_err_set(TIDM_ENOMEM, "out of memory reading the job");
	return 0;
}

/* An unsigned decimal in [min, max] (quoted or not). */
static int get_uint(struct ctx *c, struct fy_node *at, struct fy_node *v, const char *what,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	char expected[96];
	const char *s;
	size_t len;
	uint64_t n = 0;
	bool ok;
	int rc;

	snprintf(expected, sizeof(expected), "a whole number from %llu to %llu",
		 (unsigned long long)min, (unsigned long long)max);
	rc = scalar(c, at, v, what, expected, false, &s, &len);
	if (rc < 0)
		return rc;
	ok = len > 0;
	for (size_t i = 0; ok && i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (s[i] < '0' || s[i] > '9' || n > (UINT64_MAX - d) / 10)
			ok = false;
		else
			n = n * 10 + d;
	}
	if (!ok || n < min || n > max) {
		tidm_buf b = TIDM_BUF_INIT;
		echo(&b, s, len);
		rc = fail(c, v, "%s is %s; expected %s", what, b.data, expected);
		tidm_buf_dispose(&b);
		return rc;
	}
	*out = n;
	return 0;
}

static int get_unsigned(struct ctx *c, struct fy_node *at, struct fy_node *v, const char *what,
			unsigned min, unsigned max, unsigned *out)
{
	uint64_t n;
	int rc = get_uint(c, at, v, what, min, max, &n);

	if (rc == 0)
		*out = (unsigned)n;
	return rc;
}

static int get_bool(struct ctx *c, struct fy_node *at, struct fy_node *v, const char *what, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False", "FALSE"};
	const char *s;
	size_t len;
	int rc = scalar(c, at, v, what, "true or false", false, &s, &len);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < 3; i++) {
		if (len == strlen(yes[i]) && !memcmp(s, yes[i], len)) {
			*out = true;
			return 0;
		}
		if (len == strlen(no[i]) && !memcmp(s, no[i], len)) {
			*out = false;
			return 0;
		}
	}
	tidm_buf b = TIDM_BUF_INIT;
	echo(&b, s, len);
	rc = fail(c, v, "%s is %s; expected true or false", what, b.data);
	tidm_buf_dispose(&b);
	return rc;
}

/* One of `names` (NULL-terminated); *out is its index. */
static int get_enum(struct ctx *c, struct fy_node *at, struct fy_node *v, const char *what,
		    const char *const *names, int *out)
{
	char list[128], expected[160];
	const char *s;
	size_t len;
	int rc;

	snprintf(expected, sizeof(expected), "one of %s", join(names, list, sizeof(list)));
	rc = scalar(c, at, v, what, expected, false, &s, &len);
	if (rc < 0)
		return rc;
	for (int i = 0; names[i]; i++) {
		if (strlen(names[i]) == len && !memcmp(names[i], s, len)) {
			*out = i;
			return 0;
		}
	}
	tidm_buf b = TIDM_BUF_INIT;
	echo(&b, s, len);
	rc = fail(c, v, "%s is %s; expected %s", what, b.data, expected);
	tidm_buf_dispose(&b);
	return rc;
}

/* ---- mappings -------------------------------------------------------------------- */

/*
 * Check that v is a mapping for `what` (expected: what it should hold). Returns 0,
 * TIDM_EINVAL (message set).
 */
static int want_mapping(struct ctx *c, struct fy_node *at, struct fy_node *v, const char *what,
			const char *expected)
{
	if (v && fy_node_is_mapping(v))
		return 0;
	if (is_null(v))
		return fail(c, at, "%s is empty; expected %s", what, expected);
	return fail(c, v, "%s is %s; expected %s", what, kind(v), expected);
}

/* Index in `keys` of the key of pair p; an unknown or non-scalar key is an error. */
static int key_index(struct ctx *c, struct fy_node_pair *p, const char *const *keys,
		     const char *where, int *out)
{
	struct fy_node *k = fy_node_pair_key(p);
	char list[256];
	const char *s = NULL;
	size_t len = 0;
	int rc;

	join(keys, list, sizeof(list));
	if (!k || !fy_node_is_scalar(k) || fy_node_is_alias(k) || !(s = fy_node_get_scalar(k, &len)))
		return fail(c, k, "a key in %s is %s; expected one of %s", where, k ? kind(k) : "empty", list);
	for (int i = 0; keys[i]; i++) {
		if (strlen(keys[i]) == len && !memcmp(keys[i], s, len)) {
			*out = i;
			return 0;
		}
	}
	tidm_buf b = TIDM_BUF_INIT;
	echo(&b, s, len);
	rc = fail(c, k, "unknown key %s in %s; expected one of %s", b.data, where, list);
	tidm_buf_dispose(&b);
	return rc;
}

/* An absolute malloc'd path: `p` itself, or base_dir/p. */
static char *absolute(const struct ctx *c, const char *p)
{
	tidm_buf b = TIDM_BUF_INIT;

	if (p[0] == '/')
		return strdup(p);
	tidm_buf_puts(&b, c->base_dir);
	if (b.len == 0 || b.data[b.len - 1] != '/')
		tidm_buf_putc(&b, '/');
	tidm_buf_puts(&b, p);
	return tidm_buf_detach(&b);
}

/* A path value, made absolute. */
static int get_path(struct ctx *c, struct fy_node *at, struct fy_node *v, const char *what,
		    const char *expected, char **out)
{
	char *raw = NULL;
	int rc = get_string(c, at, v, what, expected, false, &raw);

	if (rc < 0)
		return rc;
	free(*out);
	*out = absolute(c, raw);
	free(raw);
	return 0;
}

static int parse_tls(struct ctx *c, struct fy_node *key, struct fy_node *v, const char *side,
		     tidm_endpoint *ep)
{
	char where[32], what[64];
	static const char expected[] = "ca alone, cert and key, or ca, cert and key";
	void *it = NULL;
	struct fy_node_pair *p;
	int rc, idx;

	snprintf(where, sizeof(where), "%s.tls", side);
	rc = want_mapping(c, key, v, field(what, sizeof(what), "tls", side),
			  "a mapping with ca alone, cert and key, or ca, cert and key");
	if (rc < 0)
		return rc;
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p), *val = fy_node_pair_value(p);
		if ((rc = key_index(c, p, tls_keys, where, &idx)) < 0)
			return rc;
		field(what, sizeof(what), tls_keys[idx], where);
		switch (idx) {
		case 0: rc = get_path(c, k, val, what, "the path of the CA certificate (PEM)", &ep->tls_ca); break;
		case 1: rc = get_path(c, k, val, what, "the path of the client certificate (PEM)", &ep->tls_cert); break;
		case 2: rc = get_path(c, k, val, what, "the path of the client key (PEM)", &ep->tls_key); break;
		default: {
			bool verify = true;
			rc = get_bool(c, k, val, what, &verify);
			ep->tls_no_host_check = !verify;
			break;
		}
		}
		if (rc < 0)
			return rc;
	}
	if (!ep->tls_ca && !ep->tls_cert && !ep->tls_key)
		return fail(c, v, "tls in %s is empty; expected %s", side, expected);
	if (ep->tls_cert && !ep->tls_key)
		return fail(c, v, "tls in %s has cert but no key; expected %s", side, expected);
	if (ep->tls_key && !ep->tls_cert)
		return fail(c, v, "tls in %s has key but no cert; expected %s", side, expected);
	if (ep->tls_no_host_check && !ep->tls_ca)
		return fail(c, v, "tls in %s has verify-hostname: false but no ca; without a CA nothing is verified", side);
	return 0;
}

/* Read a password file: whole content, trailing newlines removed. */
static int read_password_file(struct ctx *c, struct fy_node *at, const char *side, const char *path,
			      char **out)
{
	char buf[PASSWORD_FILE_MAX + 1];
	size_t n;
	FILE *f = fopen(path, "rb");
	int rc = 0;

	if (!f)
		return fail(c, at, "cannot read password-file \"%s\" of %s: %s; expected a readable file holding the password",
			    path, side, strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f))
		rc = fail(c, at, "cannot read password-file \"%s\" of %s: %s; expected a readable file holding the password",
			  path, side, strerror(errno));
	else if (n > PASSWORD_FILE_MAX)
		rc = fail(c, at, "password-file \"%s\" of %s is larger than %u bytes; expected a file holding only the password",
			  path, side, PASSWORD_FILE_MAX);
	else {
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			n--;
		if (memchr(buf, '\0', n))
			rc = fail(c, at, "password-file \"%s\" of %s contains a NUL byte; expected a text file holding the password",
				  path, side);
		else if (!(*out = strndup(buf, n)))
			rc = tidm_err_set(TIDM_ENOMEM, "out of memory reading the job");
	}
	fclose(f);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

static int parse_endpoint(struct ctx *c, struct fy_node *key, struct fy_node *v, const char *side,
			  tidm_endpoint *ep)
{
	char what[64], expected[96], list[256];
	struct fy_node *pw_key = NULL, *pw_val = NULL, *host = NULL, *user = NULL;
	int pw_form = -1; /* index in endpoint_keys of the password form used */
	void *it = NULL;
	struct fy_node_pair *p;
	int rc, idx;

	snprintf(expected, sizeof(expected), "a mapping with host, port, user and a password");
	rc = want_mapping(c, key, v, side, expected);
	if (rc < 0)
		return rc;
	join(endpoint_keys, list, sizeof(list));
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p), *val = fy_node_pair_value(p);
		if ((rc = key_index(c, p, endpoint_keys, side, &idx)) < 0)
			return rc;
		field(what, sizeof(what), endpoint_keys[idx], side);
		switch (idx) {
		case 0:
			host = k;
			rc = get_string(c, k, val, what, "the host name or IP address of the server", false, &ep->host);
			break;
		case 1:
			rc = get_unsigned(c, k, val, what, 1, 65535, &ep->port);
			break;
		case 2:
			user = k;
			rc = get_string(c, k, val, what, "the user name to connect as", false, &ep->user);
			break;
		case 3: case 4: case 5:
			if (pw_key)
				return fail(c, k, "%s has both %s and %s; expected exactly one of password, password-env, password-file",
					    side, endpoint_keys[pw_form], endpoint_keys[idx]);
			pw_key = k;
			pw_val = val;
			pw_form = idx;
			if (idx == 3) {
				rc = get_string(c, k, val, what, "a string (the password)", true, &ep->password);
				if (rc == 0)
					add_secret(c, ep->password, strlen(ep->password));
			}
			break;
		case 6:
			rc = parse_tls(c, k, val, side, ep);
			break;
		case 7:
			rc = get_unsigned(c, k, val, what, 1, 3600, &ep->connect_timeout);
			break;
		case 8:
			if (strcmp(side, "target") != 0)
				return fail(c, k, "\"binlog\" is a target setting; expected it under target");
			rc = get_bool(c, k, val, what, &ep->write_binlog);
			break;
		case 10:
			rc = get_unsigned(c, k, val, what, 1, 3600, &ep->stall_timeout);
			break;
		default: {
			int ival = 0;
			if (strcmp(side, "target") != 0)
				return fail(c, k, "\"triggers\" is a target setting; expected it under target");
			rc = get_enum(c, k, val, what, triggers_names, &ival);
			ep->allow_triggers = ival == 1;
			break;
		}
		}
		if (rc < 0)
			return rc;
	}
	if (!host)
		return fail(c, v, "missing key \"host\" in %s; expected the host name or IP address of the %s server", side, side);
	if (!user)
		return fail(c, v, "missing key \"user\" in %s; expected the user name to connect as", side);
	if (pw_form == 4) {
		char *var = NULL;
		const char *val;
		field(what, sizeof(what), "password-env", side);
		rc = get_string(c, pw_key, pw_val, what, "the name of an environment variable holding the password",
				false, &var);
		if (rc < 0)
			return rc;
		val = getenv(var);
		if (!val) {
			tidm_buf b = TIDM_BUF_INIT;
			echo(&b, var, strlen(var));
			rc = fail(c, pw_val, "environment variable %s (password-env of %s) is not set; expected it to hold the %s password",
				  b.data, side, side);
			tidm_buf_dispose(&b);
			free(var);
			return rc;
		}
		free(var);
		ep->password = strdup(val);
		if (!ep->password)
			return tidm_err_set(TIDM_ENOMEM, "out of memory reading the job");
		add_secret(c, ep->password, strlen(ep->password));
	} else if (pw_form == 5) {
		char *path = NULL;
		field(what, sizeof(what), "password-file", side);
		rc = get_path(c, pw_key, pw_val, what, "the path of a file holding the password", &path);
		if (rc == 0)
			rc = read_password_file(c, pw_val, side, path, &ep->password);
		free(path);
		if (rc < 0)
			return rc;
		add_secret(c, ep->password, strlen(ep->password));
	} else if (!ep->password) {
		ep->password = strdup("");
		if (!ep->password)
			return tidm_err_set(TIDM_ENOMEM, "out of memory reading the job");
	}
	return 0;
}

static int parse_objects(struct ctx *c, struct fy_node *key, struct fy_node *v)
{
	static const char list_expected[] = "a list of patterns, e.g. [shop, crm] or [\"shop.tmp_*\"]";
	char what[64];
	void *it = NULL;
	struct fy_node_pair *p;
	int rc, idx;

	if (is_null(v))
		return 0; /* "objects:" with nothing: everything */
	rc = want_mapping(c, key, v, "objects", "a mapping with databases, tables and/or exclude");
	if (rc < 0)
		return rc;
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p), *seq = fy_node_pair_value(p), *item;
		void *it2 = NULL;
		if ((rc = key_index(c, p, objects_keys, "objects", &idx)) < 0)
			return rc;
		field(what, sizeof(what), objects_keys[idx], "objects");
		if (!seq || !fy_node_is_sequence(seq))
			return is_null(seq) ? fail(c, k, "%s is empty; expected %s", what, list_expected)
					    : fail(c, seq, "%s is %s; expected %s", what, kind(seq), list_expected);
		while ((item = fy_node_sequence_iterate(seq, &it2)) != NULL) {
			char *text = NULL;
			char item_what[96];
			snprintf(item_what, sizeof(item_what), "an item of %s", what);
			rc = get_string(c, item, item, item_what, "a pattern such as shop or shop.orders", false, &text);
			if (rc < 0)
				return rc;
			if (idx == 0)
				rc = tidm_filter_add_database(&c->cfg->objects, text);
			else if (idx == 1)
				rc = tidm_filter_add_table(&c->cfg->objects, text);
			else
				rc = tidm_filter_add_exclude(&c->cfg->objects, text);
			free(text);
			if (rc == TIDM_EINVAL)
				return fail(c, item, "%s", tidm_err_msg());
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static const char gtid_expected[] =
	"a GTID set such as 3E11FA47-71CA-11E1-9E33-C80AA9429562:1-23 (MySQL) or 0-1-100 (MariaDB)";

/* The start GTID set must parse (util/gtid), so that a typo fails now, not at start. */
static int check_gtid(struct ctx *c, struct fy_node *at, const char *text)
{
	tidm_gtid_set set;
	int rc;

	tidm_gtid_set_init(&set, TIDM_GTID_AUTO);
	rc = tidm_gtid_set_parse(&set, TIDM_GTID_AUTO, text);
	tidm_gtid_set_dispose(&set);
	if (rc == TIDM_EINVAL)
		return fail(c, at, "gtid in start is not valid (%s); expected %s", tidm_err_msg(), gtid_expected);
	return rc;
}

static int parse_start(struct ctx *c, struct fy_node *key, struct fy_node *v)
{
	static const char expected[] = "gtid, or binlog-file with binlog-pos";
	tidm_job_config *cfg = c->cfg;
	struct fy_node *gtid = NULL, *file = NULL, *pos = NULL;
	char what[64];
	void *it = NULL;
	struct fy_node_pair *p;
	int rc, idx;

	if (is_null(v))
		return 0; /* "start:" with nothing: now */
	if (fy_node_is_scalar(v) && !fy_node_is_alias(v)) {
		/* The HTTP API's `"start": true` (start the job at once), not a position. */
		size_t len;
		const char *s = fy_node_get_scalar(v, &len);
		if (s && len == 4 && !memcmp(s, "true", 4)) {
			cfg->start_requested = true;
			return 0;
		}
		if (s && len == 5 && !memcmp(s, "false", 5))
			return 0;
		tidm_buf b = TIDM_BUF_INIT;
		echo(&b, s ? s : "", s ? len : 0);
		rc = fail(c, v, "start is %s; expected a mapping with %s", b.data, expected);
		tidm_buf_dispose(&b);
		return rc;
	}
	rc = want_mapping(c, key, v, "start", "a mapping with gtid, or binlog-file with binlog-pos");
	if (rc < 0)
		return rc;
	c->start_key = key;
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p), *val = fy_node_pair_value(p);
		if ((rc = key_index(c, p, start_keys, "start", &idx)) < 0)
			return rc;
		field(what, sizeof(what), start_keys[idx], "start");
		switch (idx) {
		case 0:
			gtid = k;
			rc = get_string(c, k, val, what, gtid_expected, false, &cfg->start_gtid);
			if (rc == 0)
				rc = check_gtid(c, val, cfg->start_gtid);
			break;
		case 1:
			file = k;
			rc = get_string(c, k, val, what, "a binlog file name such as mysql-bin.000016", false,
					&cfg->start_binlog_file);
			break;
		default:
			pos = k;
			rc = get_uint(c, k, val, what, 4, UINT64_MAX, &cfg->start_binlog_pos);
			break;
		}
		if (rc < 0)
			return rc;
	}
	if (gtid && (file || pos))
		return fail(c, file ? file : pos, "start has both gtid and %s; expected %s", file ? "binlog-file" : "binlog-pos",
			    expected);
	if (file && !pos)
		return fail(c, file, "start has binlog-file but no binlog-pos; expected both binlog-file and binlog-pos");
	if (pos && !file)
		return fail(c, pos, "start has binlog-pos but no binlog-file; expected both binlog-file and binlog-pos");
	return 0;
}

/* spec.stage: where mode physical stages files for a TiDB target's IMPORT INTO: a
 * directory URL file:///abs/dir that the TiDB servers also read, or s3://bucket/prefix. */
static int parse_stage(struct ctx *c, struct fy_node *k, struct fy_node *v, const char *what)
{
	static const char expected[] = "a URL such as file:///shared/dir or s3://bucket/prefix";
	int rc = get_string(c, k, v, what, expected, false, &c->cfg->stage);

	if (rc < 0)
		return rc;
	if (!strncmp(c->cfg->stage, "file:///", 8) || (!strncmp(c->cfg->stage, "s3://", 5) && c->cfg->stage[5]))
		return 0;
	return fail(c, v, "%s is not a URL tidm can stage files at; expected %s", what, expected);
}

/* spec.physical: {disable-redo-log: bool, one-transaction: bool} */
static int parse_physical(struct ctx *c, struct fy_node *key, struct fy_node *v)
{
	void *it = NULL;
	struct fy_node_pair *p;
	int rc, idx;

	if (is_null(v))
		return 0;
	if ((rc = want_mapping(c, key, v, "physical in spec", "a mapping with disable-redo-log and/or one-transaction")) < 0)
		return rc;
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL) {
		if ((rc = key_index(c, p, physical_keys, "physical in spec", &idx)) < 0)
			return rc;
		if (idx == 0)
			rc = get_bool(c, fy_node_pair_key(p), fy_node_pair_value(p), "disable-redo-log in physical in spec",
				      &c->cfg->physical_disable_redo);
		else
			rc = get_bool(c, fy_node_pair_key(p), fy_node_pair_value(p), "one-transaction in physical in spec",
				      &c->cfg->physical_one_txn);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* spec.export: {max-rows-per-second: N, max-bytes-per-second: N|10MB|64MiB, adaptive: BOOL} */
static int parse_export(struct ctx *c, struct fy_node *key, struct fy_node *v)
{
	static const char bytes_expected[] = "a number of bytes from 1024 to 1099511627776, optionally with a suffix "
					     "such as 10MB or 64MiB";
	void *it = NULL;
	struct fy_node_pair *p;
	int rc, idx;

	if (is_null(v))
		return 0;
	if ((rc = want_mapping(c, key, v, "export in spec",
			       "a mapping with max-rows-per-second, max-bytes-per-second and/or adaptive")) < 0)
		return rc;
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p), *val = fy_node_pair_value(p);
		const char *s;
		size_t len;
		if ((rc = key_index(c, p, export_keys, "spec.export", &idx)) < 0)
			return rc;
		if (idx == 0) {
			rc = get_uint(c, k, val, "max-rows-per-second in spec.export", 1, 1000000000, &c->cfg->export_max_rows);
		} else if (idx == 1) {
			if ((rc = scalar(c, k, val, "max-bytes-per-second in spec.export", bytes_expected, false, &s, &len)) < 0)
				return rc;
			if (tidm_size_parse(s, len, &c->cfg->export_max_bytes) < 0 || c->cfg->export_max_bytes < 1024 ||
			    c->cfg->export_max_bytes > 1099511627776ull) {
				tidm_buf b = TIDM_BUF_INIT;
				echo(&b, s, len);
				rc = fail(c, val, "max-bytes-per-second in spec.export is %s; expected %s", b.data, bytes_expected);
				tidm_buf_dispose(&b);
			}
		} else {
			rc = get_bool(c, k, val, "adaptive in spec.export", &c->cfg->export_adaptive);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_spec(struct ctx *c, struct fy_node *key, struct fy_node *v)
{
	tidm_job_config *cfg = c->cfg;
	char what[64];
	void *it = NULL;
	struct fy_node_pair *p;
	int rc, idx, ival;

	if (is_null(v))
		return 0;
	rc = want_mapping(c, key, v, "spec", "a mapping with dump-threads, load-threads, apply-workers, batch, ...");
	if (rc < 0)
		return rc;
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p), *val = fy_node_pair_value(p);
		if ((rc = key_index(c, p, spec_keys, "spec", &idx)) < 0)
			return rc;
		field(what, sizeof(what), spec_keys[idx], "spec");
		switch (idx) {
		case 0: rc = get_unsigned(c, k, val, what, 1, 64, &cfg->dump_threads); break;
		case 1: rc = get_unsigned(c, k, val, what, 1, 64, &cfg->load_threads); break;
		case 2: rc = get_unsigned(c, k, val, what, 1, 64, &cfg->apply_workers); break;
		case 3: rc = get_unsigned(c, k, val, what, 1, 100000, &cfg->batch); break;
		case 4: rc = get_uint(c, k, val, what, 1000, 100000000, &cfg->chunk_rows); break;
		case 5: rc = get_uint(c, k, val, what, 4096, 67108864, &cfg->statement_bytes); break;
		case 6: rc = get_unsigned(c, k, val, what, 0, 86400, &cfg->safe_mode_seconds); break;
		case 9:
			rc = get_uint(c, k, val, what, 0, 1099511627776ull, &cfg->max_txn_bytes);
			cfg->max_txn_bytes_set = rc == 0;
			break;
		case 10:
			rc = get_enum(c, k, val, what, verify_names, &ival);
			cfg->verify = (enum tidm_verify_mode)ival;
			break;
		case 11: rc = get_uint(c, k, val, what, 1, 1000000000, &cfg->verify_rows_per_second); break;
		case 12: rc = get_uint(c, k, val, what, 100, 1000000, &cfg->verify_chunk_rows); break;
		case 15: rc = parse_export(c, k, val); break;
		case 7:
			rc = get_enum(c, k, val, what, load_method_names, &ival);
			cfg->load_method = (enum tidm_load_method)ival;
			break;
		case 13: rc = parse_stage(c, k, val, what); break;
		case 14: rc = parse_physical(c, k, val); break;
		default:
			rc = get_enum(c, k, val, what, keyless_nonempty_names, &ival);
			cfg->keyless_nonempty = (enum tidm_keyless_nonempty)ival;
			break;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* precheck: {ignore: [id, ...], copy-rate: N, timeout: N}; an id no item has is an error. */
static int parse_precheck(struct ctx *c, struct fy_node *key, struct fy_node *v)
{
	tidm_job_config *cfg = c->cfg;
	void *it = NULL;
	struct fy_node_pair *p;
	int rc, idx;

	if (is_null(v))
		return 0;
	rc = want_mapping(c, key, v, "precheck", "a mapping with ignore, copy-rate and/or timeout");
	if (rc < 0)
		return rc;
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p), *val = fy_node_pair_value(p), *item;
		void *it2 = NULL;
		if ((rc = key_index(c, p, precheck_keys, "precheck", &idx)) < 0)
			return rc;
		if (idx == 1) {
			rc = get_uint(c, k, val, "copy-rate in precheck", 1, 1099511627776ull, &cfg->precheck_copy_rate);
		} else if (idx == 2) {
			rc = get_unsigned(c, k, val, "timeout in precheck", 1, 3600, &cfg->precheck_timeout);
		} else {
			if (is_null(val))
				continue;
			if (!fy_node_is_sequence(val))
				return fail(c, val, "ignore in precheck is %s; expected a list of precheck item ids, e.g. "
						    "[keyless-tables]",
					    kind(val));
			while ((item = fy_node_sequence_iterate(val, &it2)) != NULL) {
				char *id = NULL, **grown;
				rc = get_string(c, item, item, "an item of ignore in precheck", "a precheck item id", false,
						&id);
				if (rc < 0)
					return rc;
				if (!tidm_precheck_item_known(id)) {
					tidm_buf ids = TIDM_BUF_INIT, shown = TIDM_BUF_INIT;
					for (size_t i = 0; i < tidm_precheck_item_count(); i++)
						tidm_buf_printf(&ids, "%s%s", i ? ", " : "", tidm_precheck_item_id(i));
					echo(&shown, id, strlen(id));
					rc = fail(c, item, "unknown precheck item %s in precheck.ignore; expected one of %s",
						  shown.data, ids.data);
					tidm_buf_dispose(&ids);
					tidm_buf_dispose(&shown);
					free(id);
					return rc;
				}
				grown = realloc(cfg->precheck_ignore, (cfg->n_precheck_ignore + 1) * sizeof(char *));
				if (!grown) {
					free(id);
					return tidm_err_set(TIDM_ENOMEM, "out of memory");
				}
				cfg->precheck_ignore = grown;
				cfg->precheck_ignore[cfg->n_precheck_ignore++] = id;
			}
			rc = 0;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* alerts: {no-progress-minutes: N | no-progress-seconds: N, lag-seconds: N} (the daemon's
 * own alerts, service/alerts.h); no-progress-seconds is the finer form of the first. */
static int parse_alerts(struct ctx *c, struct fy_node *key, struct fy_node *v)
{
	tidm_job_config *cfg = c->cfg;
	struct fy_node *np_key = NULL;
	void *it = NULL;
	struct fy_node_pair *p;
	int rc, idx;
	unsigned n = 0;

	if (is_null(v))
		return 0;
	rc = want_mapping(c, key, v, "alerts", "a mapping with no-progress-minutes (or no-progress-seconds) and/or lag-seconds");
	if (rc < 0)
		return rc;
	while ((p = fy_node_mapping_iterate(v, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p), *val = fy_node_pair_value(p);
		if ((rc = key_index(c, p, alerts_keys, "alerts", &idx)) < 0)
			return rc;
		if (idx == 0 || idx == 1) {
			if (np_key)
				return fail(c, k, "alerts has both no-progress-minutes and no-progress-seconds; expected one of them");
			np_key = k;
		}
		if (idx == 0) {
			rc = get_unsigned(c, k, val, "no-progress-minutes in alerts", 1, 10080, &n);
			cfg->alert_no_progress_s = n * 60;
		} else if (idx == 1) {
			rc = get_unsigned(c, k, val, "no-progress-seconds in alerts", 1, 604800, &cfg->alert_no_progress_s);
		} else {
			rc = get_unsigned(c, k, val, "lag-seconds in alerts", 1, 604800, &cfg->alert_lag_s);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_name(struct ctx *c, struct fy_node *key, struct fy_node *v)
{
	const char *why;
	int rc = get_string(c, key, v, "name", name_expected, false, &c->cfg->name);

	if (rc < 0)
		return rc;
	why = tidm_job_name_check(c->cfg->name);
	if (why) {
		tidm_buf b = TIDM_BUF_INIT;
		echo(&b, c->cfg->name, strlen(c->cfg->name));
		rc = fail(c, v, "invalid job name %s: %s; expected %s", b.data, why, name_expected);
		tidm_buf_dispose(&b);
	}
	return rc;
}

static int parse_job(struct ctx *c, struct fy_node *root)
{
	tidm_job_config *cfg = c->cfg;
	struct fy_node *seen[11] = {NULL};
	char list[256];
	void *it = NULL;
	struct fy_node_pair *p;
	int rc, idx, ival;

	join(job_keys, list, sizeof(list));
	if (!root || is_null(root))
		return fail(c, NULL, "the job file is empty; expected a mapping with name, type, source and target");
	if (!fy_node_is_mapping(root))
		return fail(c, root, "the job is %s; expected a mapping with keys %s", kind(root), list);
	while ((p = fy_node_mapping_iterate(root, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
		if ((rc = key_index(c, p, job_keys, "the job", &idx)) < 0)
			return rc;
		seen[idx] = k;
		switch (idx) {
		case 0: rc = parse_name(c, k, v); break;
		case 1:
			rc = get_enum(c, k, v, "type", type_names, &ival);
			cfg->type = (enum tidm_job_type)ival;
			break;
		case 2:
			rc = get_enum(c, k, v, "mode", mode_names, &ival);
			cfg->mode = (enum tidm_job_mode)ival;
			break;
		case 3: rc = parse_endpoint(c, k, v, "source", &cfg->source); break;
		case 4: rc = parse_endpoint(c, k, v, "target", &cfg->target); break;
		case 5: rc = parse_objects(c, k, v); break;
		case 6: rc = parse_start(c, k, v); break;
		case 7: rc = parse_spec(c, k, v); break;
		case 9: rc = parse_precheck(c, k, v); break;
		case 10: rc = parse_alerts(c, k, v); break;
		default: rc = get_bool(c, k, v, "safe-mode", &cfg->safe_mode); break;
		}
		if (rc < 0)
			return rc;
	}
	if (!seen[0])
		return fail(c, root, "missing key \"name\" in the job; expected %s", name_expected);
	if (!seen[1])
		return fail(c, root, "missing key \"type\" in the job; expected one of full, incremental, all");
	if (!seen[3])
		return fail(c, root, "missing key \"source\" in the job; expected a mapping with host, port, user and a password");
	if (!seen[4])
		return fail(c, root, "missing key \"target\" in the job; expected a mapping with host, port, user and a password");
	if (c->start_key && cfg->type != TIDM_JOB_INCREMENTAL)
		return fail(c, c->start_key,
			    "start is only allowed with type incremental (type %s %s); expected no start, or type: incremental",
			    tidm_job_type_name(cfg->type),
			    cfg->type == TIDM_JOB_FULL ? "copies existing data only and reads no binlog"
						       : "starts the binlog exactly at the snapshot of its full copy");
	return 0;
}

/* ---- YAML syntax errors ---------------------------------------------------------- */

/* The error of a text libfyaml could not turn into a document. */
static int yaml_error(struct ctx *c, struct fy_diag *diag, const char *text, size_t len)
{
	void *it = NULL;
	struct fy_diag_error *e, *first = NULL;
	int rc;

	while ((e = fy_diag_errors_iterate(diag, &it)) != NULL) {
		if (e->type >= FYET_ERROR) {
			first = e;
			break;
		}
	}
	if (!first && !tidm_config_has_content(text, len)) /* libfyaml builds no document from it */
		return fail(c, NULL, "the job file is empty; expected a mapping with name, type, source and target");
	if (!first)
		return fail(c, NULL, "invalid YAML: the text cannot be parsed; expected a UTF-8 YAML or JSON text");
	tidm_buf msg = TIDM_BUF_INIT, b = TIDM_BUF_INIT;
	tidm_buf_reserve(&msg, 0);
	tidm_config_clean_yaml_message(&msg, first->msg ? first->msg : "syntax error");
	tidm_buf_printf(&b, "%s:%d:%d: invalid YAML: %s", c->origin, first->line > 0 ? first->line : 1,
			first->column > 0 ? first->column : 1, msg.data);
	scrub(c, &b);
	rc = tidm_err_set(TIDM_EINVAL, "%s", b.data);
	tidm_buf_dispose(&b);
	tidm_buf_dispose(&msg);
	return rc;
}

/* ---- entry points ---------------------------------------------------------------- */

void tidm_job_config_free(tidm_job_config *cfg)
{
	tidm_endpoint *eps[2];

	if (!cfg)
		return;
	eps[0] = &cfg->source;
	eps[1] = &cfg->target;
	for (int i = 0; i < 2; i++) {
		free(eps[i]->host);
		free(eps[i]->user);
		wipe_free(eps[i]->password);
		free(eps[i]->tls_ca);
		free(eps[i]->tls_cert);
		free(eps[i]->tls_key);
	}
	free(cfg->path);
	free(cfg->name);
	tidm_filter_dispose(&cfg->objects);
	free(cfg->start_gtid);
	free(cfg->stage);
	free(cfg->start_binlog_file);
	for (size_t i = 0; i < cfg->n_precheck_ignore; i++)
		free(cfg->precheck_ignore[i]);
	free(cfg->precheck_ignore);
	free(cfg);
}

static void endpoint_defaults(tidm_endpoint *ep)
{
	ep->port = DEFAULT_PORT;
	ep->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	ep->stall_timeout = DEFAULT_STALL_TIMEOUT;
}

int tidm_job_config_parse_in(tidm_job_config **out, const char *text, size_t len,
			     const char *origin, const char *base_dir)
{
	struct ctx c = {0};
	struct fy_parse_cfg pc = {0};
	struct fy_diag *diag = NULL;
	struct fy_parser *fyp = NULL;
	struct fy_document *doc = NULL;
	char *cwd = NULL;
	tidm_job_config *cfg;
	int rc;

	*out = NULL;
	{
		/* a NUL byte would end the text early for the YAML parser: refuse it, located */
		const char *nul = len ? memchr(text, '\0', len) : NULL;
		if (nul) {
			unsigned line = 1, col = 1;
			for (const char *q = text; q < nul; q++) {
				if (*q == '\n') {
					line++;
					col = 1;
				} else {
					col++;
				}
			}
			return tidm_err_set(TIDM_EINVAL, "%s:%u:%u: a NUL byte; expected a job file (YAML text)",
					    origin && *origin ? origin : "job", line, col);
		}
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return tidm_err_set(TIDM_ENOMEM, "out of memory reading the job");
	cfg->path = strdup(origin && *origin ? origin : "job");
	if (!cfg->path) {
		free(cfg);
		return tidm_err_set(TIDM_ENOMEM, "out of memory reading the job");
	}
	cfg->type = TIDM_JOB_FULL;
	cfg->mode = TIDM_MODE_LOGICAL;
	endpoint_defaults(&cfg->source);
	endpoint_defaults(&cfg->target);
	cfg->dump_threads = DEFAULT_DUMP_THREADS;
	cfg->load_threads = DEFAULT_LOAD_THREADS;
	cfg->apply_workers = DEFAULT_APPLY_WORKERS;
	cfg->batch = DEFAULT_BATCH;
	cfg->chunk_rows = DEFAULT_CHUNK_ROWS;
	cfg->statement_bytes = DEFAULT_STATEMENT_BYTES;
	cfg->safe_mode_seconds = DEFAULT_SAFE_MODE_SECONDS;
	cfg->alert_no_progress_s = 1200;

	c.cfg = cfg;
	c.origin = cfg->path;
	if (!base_dir) {
		cwd = getcwd(NULL, 0);
		if (!cwd) {
			rc = tidm_err_set(TIDM_ERROR, "%s: cannot determine the current directory: %s", cfg->path,
					  strerror(errno));
			goto cleanup;
		}
		base_dir = cwd;
	}
	c.base_dir = base_dir;
	if (!text)
		len = 0;
	scan_secrets(&c, text ? text : "", len);

	diag = quiet_diag();
	if (!diag) {
		rc = tidm_err_set(TIDM_ENOMEM, "%s: cannot create the YAML diagnostics", cfg->path);
		goto cleanup;
	}
	pc.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2;
	pc.diag = diag;
	fyp = fy_parser_create(&pc);
	if (!fyp || (len > 0 && fy_parser_set_string(fyp, text, len) != 0)) {
		rc = tidm_err_set(TIDM_ENOMEM, "%s: cannot create the YAML parser", cfg->path);
		goto cleanup;
	}
	if (len > 0)
		doc = fy_parse_load_document(fyp);
	if (!doc) {
		rc = yaml_error(&c, diag, text, len);
		goto cleanup;
	}
	/* One job per file: a second document would otherwise be ignored silently. */
	struct fy_document *more = fy_parse_load_document(fyp);
	if (more && is_null(fy_document_root(more))) { /* a trailing "---" and nothing else */
		fy_parse_document_destroy(fyp, more);
		more = NULL;
	}
	if (more) {
		rc = fail(&c, fy_document_root(more),
			  "a second YAML document (after ---); expected one job per file");
		fy_parse_document_destroy(fyp, more);
		goto cleanup;
	}
	if (fy_diag_got_error(diag)) {
		rc = yaml_error(&c, diag, text, len);
		goto cleanup;
	}
	rc = parse_job(&c, fy_document_root(doc));

cleanup:
	if (doc)
		fy_parse_document_destroy(fyp, doc);
	if (fyp)
		fy_parser_destroy(fyp);
	if (diag)
		fy_diag_destroy(diag);
	for (size_t i = 0; i < c.n_secrets; i++)
		wipe_free(c.secrets[i]);
	free(c.secrets);
	free(cwd);
	if (rc < 0) {
		tidm_job_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int tidm_job_config_parse(tidm_job_config **out, const char *text, size_t len, const char *origin)
{
	return tidm_job_config_parse_in(out, text, len, origin, NULL);
}

/* The absolute directory holding `path` (malloc'd), or NULL with the error set. */
static char *directory_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	tidm_buf b = TIDM_BUF_INIT;
	char *cwd;

	if (slash == path)
		return strdup("/");
	if (path[0] != '/') {
		cwd = getcwd(NULL, 0);
		if (!cwd) {
			tidm_err_set(TIDM_ERROR, "%s: cannot determine the current directory: %s", path, strerror(errno));
			return NULL;
		}
		tidm_buf_puts(&b, cwd);
		free(cwd);
		if (slash)
			tidm_buf_putc(&b, '/');
	}
	if (slash)
		tidm_buf_put(&b, path, (size_t)(slash - path));
	return tidm_buf_detach(&b);
}

int tidm_job_config_load(tidm_job_config **out, const char *path)
{
	tidm_buf text = TIDM_BUF_INIT;
	char chunk[8192], *dir;
	FILE *f;
	size_t n;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return tidm_err_set(TIDM_EINVAL, "no job file given; expected the path of a job file (YAML)");
	f = fopen(path, "rb");
	if (!f)
		return tidm_err_set(errno == ENOENT ? TIDM_ENOTFOUND : TIDM_EINVAL,
				    "%s: cannot read the job file: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		tidm_buf_put(&text, chunk, n);
		if (text.len > JOB_FILE_MAX)
			break;
	}
	rc = ferror(f) ? errno : 0;
	fclose(f);
	explicit_bzero(chunk, sizeof(chunk));
	if (rc) {
		rc = tidm_err_set(TIDM_EINVAL, "%s: cannot read the job file: %s", path, strerror(rc));
		goto done;
	}
	if (text.len > JOB_FILE_MAX) {
		rc = tidm_err_set(TIDM_EINVAL, "%s: the job file is larger than %u bytes; expected a job file (YAML)",
				  path, JOB_FILE_MAX);
		goto done;
	}
	dir = directory_of(path);
	if (!dir) {
		rc = tidm_err_code();
		goto done;
	}
	rc = tidm_job_config_parse_in(out, text.data ? text.data : "", text.len, path, dir);
	free(dir);
done:
	if (text.data)
		explicit_bzero(text.data, text.len);
	tidm_buf_dispose(&text);
	return rc;
}
