/*
 * err.c - thread-local last error. See err.h.
 */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local struct {
	int code;
	unsigned dberr;
	char where[96];
	char msg[2048];
} last;

int tidm_err_set_at(const char *file, int line, int code, unsigned dberr, const char *fmt, ...)
{
	va_list ap;
	const char *base = strrchr(file, '/');

	last.code = code;
	last.dberr = dberr;
	snprintf(last.where, sizeof(last.where), "%s:%d", base ? base + 1 : file, line);
	va_start(ap, fmt);
	vsnprintf(last.msg, sizeof(last.msg), fmt, ap);
	va_end(ap);
	return code;
}

void tidm_err_prefix(const char *fmt, ...)
{
	char pre[512], old[sizeof(last.msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	size_t np = strlen(pre), no;

	memcpy(old, last.msg, sizeof(old));
	no = strnlen(old, sizeof(old) - 1);
	if (np > sizeof(last.msg) - 1)
		np = sizeof(last.msg) - 1;
	if (no > sizeof(last.msg) - 1 - np)
		no = sizeof(last.msg) - 1 - np;
	memcpy(last.msg, pre, np);
	memcpy(last.msg + np, old, no);
	last.msg[np + no] = '\0';
}

const char *tidm_err_msg(void) { return last.msg; }
int tidm_err_code(void) { return last.code; }
unsigned tidm_err_dberr(void) { return last.dberr; }
const char *tidm_err_where(void) { return last.where; }

void tidm_err_clear(void)
{
	last.code = 0;
	last.dberr = 0;
	last.where[0] = '\0';
	last.msg[0] = '\0';
}

const char *tidm_err_name(int code)
{
	switch (code) {
	case TIDM_OK: return "OK";
	case TIDM_ERROR: return "ERROR";
	case TIDM_EAGAIN: return "EAGAIN";
	case TIDM_ECORRUPT: return "ECORRUPT";
	case TIDM_ENOTFOUND: return "ENOTFOUND";
	case TIDM_EDUPKEY: return "EDUPKEY";
	case TIDM_ECONN: return "ECONN";
	case TIDM_ECANCELED: return "ECANCELED";
	case TIDM_EINVAL: return "EINVAL";
	case TIDM_EAUTH: return "EAUTH";
	case TIDM_ENOMEM: return "ENOMEM";
	case TIDM_EUNSUPPORTED: return "EUNSUPPORTED";
	case TIDM_ECONFLICT: return "ECONFLICT";
	default: return "UNKNOWN";
	}
}
