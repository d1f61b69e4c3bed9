/*
 * config.h - reading a migration job: the job file of SPEC §7.1 (YAML, or JSON from the
 * HTTP API) parsed and validated into the job definition of jobdef/jobdef.h.
 */
#ifndef TIDM_JOB_CONFIG_H
#define TIDM_JOB_CONFIG_H

#include <stddef.h>

#include "jobdef/jobdef.h"

/*
 * Defaults and ranges (checked by the parser; the message names the range):
 *   port 1..65535 (default 3306 on both sides; a TiDB target usually says 4000),
 *   connect-timeout 1..3600 s, dump-threads/load-threads/apply-workers 1..64,
 *   batch 1..100000, chunk-rows 1000..100000000, statement-bytes 4096..67108864,
 *   max-txn-bytes 0..1099511627776.
 * Relative paths (password-file, tls ca/cert/key) are relative to the job file's
 * directory and are stored absolute; TLS files are only opened at connect time.
 * `start` is accepted only with type incremental.
 *
 * Load and validate a job file. On error returns TIDM_EINVAL (or TIDM_ENOTFOUND when the
 * file cannot be read) with a message "PATH:LINE:COL: what is wrong and what is expected".
 * Passwords come from `password`, `password-env` or `password-file`; the message never
 * contains a password.
 */
int tidm_job_config_load(tidm_job_config **out, const char *path);
/* Same from a YAML/JSON text held in memory; `origin` names it in messages (and becomes
 * cfg->path). Relative paths are taken relative to the current working directory.
 * `text` need not be NUL-terminated. */
int tidm_job_config_parse(tidm_job_config **out, const char *text, size_t len, const char *origin);
/* Same as tidm_job_config_parse with relative paths taken relative to `base_dir`
 * (NULL: the current working directory). */
int tidm_job_config_parse_in(tidm_job_config **out, const char *text, size_t len,
			     const char *origin, const char *base_dir);
/* Frees cfg (NULL is a no-op); passwords are wiped from memory first. */
void tidm_job_config_free(tidm_job_config *cfg);

#endif
