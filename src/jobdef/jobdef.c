/*
 * jobdef.c - the small functions of the job definition (jobdef.h).
 *
 * DESIGN
 *  Only what every reader of a job needs and what needs no parser: the SPEC §2 name rule,
 *  the names of types and modes as a job file writes them, and an endpoint's connection
 *  options. Parsing and freeing stay with the parser (job/config.c), which allocates.
 */
#include "jobdef/jobdef.h"

#include <string.h>

static bool is_letter(char ch) { return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'); }

static bool is_name_char(char ch)
{
	return is_letter(ch) || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

const char *tidm_job_name_check(const char *name)
{
	size_t n;

	if (!name || !*name)
		return "it is empty";
	if (!is_letter(name[0]))
		return "it must start with a letter";
	for (n = 0; name[n]; n++)
		if (!is_name_char(name[n]))
			return "it may only contain A-Z a-z 0-9 _ -";
	if (n >= 60)
		return "it must be shorter than 60 characters";
	return NULL;
}

const char *tidm_job_type_name(enum tidm_job_type t)
{
	switch (t) {
	case TIDM_JOB_FULL: return "full";
	case TIDM_JOB_INCREMENTAL: return "incremental";
	case TIDM_JOB_ALL: return "all";
	default: return "unknown";
	}
}

const char *tidm_job_mode_name(enum tidm_job_mode m)
{
	switch (m) {
	case TIDM_MODE_LOGICAL: return "logical";
	case TIDM_MODE_PHYSICAL: return "physical";
	default: return "unknown";
	}
}

/* ---- connections --------------------------------------------------------------------- */

void tidm_endpoint_conn_opts(tidm_conn_opts *out, const tidm_endpoint *e, enum tidm_role role)
{
	memset(out, 0, sizeof(*out));
	out->role = role;
	out->host = e->host;
	out->port = e->port;
	out->user = e->user;
	out->password = e->password;
	out->tls_ca = e->tls_ca;
	out->tls_cert = e->tls_cert;
	out->tls_key = e->tls_key;
	out->tls_no_host_check = e->tls_no_host_check;
	out->connect_timeout = e->connect_timeout;
	out->stall_timeout = e->stall_timeout;
}
