/*
 * cmd.h - the subcommands of the tidm program. Each takes the arguments after its own
 * name (argv[0] is the subcommand name) and returns the process exit code:
 * 0 done, 1 failed (message on stderr), 2 bad usage or job file, 3 precheck failed.
 */
#ifndef TIDM_CLI_CMD_H
#define TIDM_CLI_CMD_H

#include <stdbool.h>

enum { TIDM_EXIT_OK = 0, TIDM_EXIT_FAILED = 1, TIDM_EXIT_USAGE = 2, TIDM_EXIT_PRECHECK = 3 };

int tidm_cmd_migrate(int argc, char **argv);
int tidm_cmd_precheck(int argc, char **argv);
int tidm_cmd_binlog(int argc, char **argv);
/* `tidm binlog stream ...` (argv[0] == "stream"), dispatched from tidm_cmd_binlog. */
int tidm_cmd_binlog_stream(int argc, char **argv);
int tidm_cmd_verify(int argc, char **argv);
/* `tidm server ...`: the job service (HTTP API). */
int tidm_cmd_server(int argc, char **argv);
/* `tidm job ...`: the client of the job service. */
int tidm_cmd_job(int argc, char **argv);

/* The precheck `tidm migrate` runs before a job: prints what warns or fails to stderr;
 * returns TIDM_EXIT_OK to go on, TIDM_EXIT_PRECHECK when a fail (or, on a job's first
 * start, a warning not ignored) stops it, TIDM_EXIT_FAILED when it could not run or a
 * server cannot be reached. `restart`: the run starts the job over (migrate --restart).
 * `runway` (may be NULL) receives the binlog runway the precheck measured. */
struct tidm_job_config;
struct tidm_runway;
int tidm_cli_precheck_before_run(const struct tidm_job_config *cfg, bool ignore_warnings, bool restart,
				 struct tidm_runway *runway);

#endif
