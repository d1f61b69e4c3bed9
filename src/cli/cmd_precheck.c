/*
 * cmd_precheck.c - `tidm precheck JOB.yaml [--format table|json] [--ignore-warnings]
 * [--verbose]`, and the precheck `tidm migrate` runs before it starts a job.
 *
 * Exit codes (SPEC §7.2): 0 every item passes (or warns and is ignored), 3 an item fails
 * or warns without being ignored, 2 bad usage or job file. The table goes to stdout in
 * colour when stdout is a terminal; --format json prints the JSON of SPEC §7.2.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "job/config.h"
#include "precheck/precheck.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

static int usage(void)
{
	fputs("usage: tidm precheck JOB.yaml [--format table|json] [--ignore-warnings] [--verbose]\n", stderr);
	return TIDM_EXIT_USAGE;
}

static void opts_for(const tidm_job_config *cfg, bool ignore_warnings, tidm_precheck_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ignore_warnings = ignore_warnings;
	o->timeout_s = cfg->precheck_timeout;
}

int tidm_cli_precheck_before_run(const tidm_job_config *cfg, bool ignore_warnings, bool restart, tidm_runway *runway)
{
	tidm_precheck_report rep;
	tidm_precheck_opts o;
	tidm_buf out = TIDM_BUF_INIT;
	unsigned p, w, f, ig;
	bool blocks;

	opts_for(cfg, ignore_warnings, &o);
	o.restart = restart;
	tidm_info("job %s: precheck ...", cfg->name);
	if (runway)
		memset(runway, 0, sizeof(*runway));
	if (tidm_precheck_run(cfg, &o, &rep) < 0) {
		tidm_say(TIDM_LOG_ERROR, "precheck could not run: %s", tidm_err_msg());
		return TIDM_EXIT_FAILED;
	}
	if (runway)
		*runway = rep.runway;
	/* a server that cannot be reached fails the job as a run would (exit 1, SPEC §6
	 * message), not as a precheck finding */
	for (size_t i = 0; i < rep.n; i++) {
		const tidm_check_result *it = &rep.items[i];
		if (it->state == TIDM_CHECK_FAIL &&
		    (!strcmp(it->id, "source-connection") || !strcmp(it->id, "target-connection"))) {
			tidm_say(TIDM_LOG_ERROR, "job %s failed: %s", cfg->name, it->message);
			tidm_precheck_report_dispose(&rep);
			return TIDM_EXIT_FAILED;
		}
	}
	/* a finished type full job is only reported by the run, which writes nothing */
	if (cfg->type == TIDM_JOB_FULL && !restart && !strcmp(rep.job_state, "finished")) {
		tidm_precheck_report_dispose(&rep);
		return TIDM_EXIT_OK;
	}
	tidm_precheck_counts(&rep, &p, &w, &f, &ig);
	/* a job that has run before was started past its warnings: only a fail stops it now */
	blocks = f || (w && !rep.resuming);
	if (blocks || w || ig) {
		tidm_buf_clear(&out);
		tidm_precheck_format_table(&rep, &out, isatty(2) && !tidm_log_is_json(), false);
		if (tidm_log_is_json())
			tidm_log(f ? TIDM_LOG_ERROR : TIDM_LOG_WARN, "precheck:\n%s", out.data);
		else
			fputs(out.data, stderr);
	} else {
		tidm_info("job %s: precheck passed (%u items, %.1f s)", cfg->name, p, rep.seconds);
	}
	if (blocks)
		tidm_say(TIDM_LOG_ERROR, "job %s not started: the precheck %s; fix %s and run the command again%s",
			cfg->name, f ? "failed" : "has warnings that are not ignored", f ? "what failed" : "them",
			f ? "" : ", or accept them with --ignore-warnings or precheck: {ignore: [id, ...]} in the job file");
	else if (w && rep.resuming)
		tidm_warn("job %s: the precheck warns (above); the job resumes, as it was started past its warnings "
			  "before",
			  cfg->name);
	tidm_buf_dispose(&out);
	tidm_precheck_report_dispose(&rep);
	return blocks ? TIDM_EXIT_PRECHECK : TIDM_EXIT_OK;
}

int tidm_cmd_precheck(int argc, char **argv)
{
	const char *path = NULL, *format = "table";
	bool ignore = false, verbose = false, blocks;
	tidm_job_config *cfg = NULL;
	tidm_precheck_report rep;
	tidm_precheck_opts o;
	tidm_buf out = TIDM_BUF_INIT;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (!strncmp(argv[i], "--format=", 9))
			format = argv[i] + 9;
		else if (!strcmp(argv[i], "--ignore-warnings"))
			ignore = true;
		else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
			verbose = true;
		else if (argv[i][0] == '-' || path)
			return usage();
		else
			path = argv[i];
	}
	if (!path)
		return usage();
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
		fprintf(stderr, "tidm: unknown --format %s; expected table or json\n", format);
		return TIDM_EXIT_USAGE;
	}
	if (tidm_job_config_load(&cfg, path) < 0) {
		fprintf(stderr, "tidm: %s\n", tidm_err_msg());
		return TIDM_EXIT_USAGE;
	}
	opts_for(cfg, ignore, &o);
	if (tidm_precheck_run(cfg, &o, &rep) < 0) {
		fprintf(stderr, "tidm: precheck could not run: %s\n", tidm_err_msg());
		tidm_job_config_free(cfg);
		return TIDM_EXIT_FAILED;
	}
	if (!strcmp(format, "json"))
		tidm_precheck_format_json(&rep, &out);
	else
		tidm_precheck_format_table(&rep, &out, isatty(1), verbose);
	fputs(out.data ? out.data : "", stdout);
	fflush(stdout);
	blocks = tidm_precheck_blocks(&rep);
	tidm_buf_dispose(&out);
	tidm_precheck_report_dispose(&rep);
	tidm_job_config_free(cfg);
	return blocks ? TIDM_EXIT_PRECHECK : TIDM_EXIT_OK;
}
