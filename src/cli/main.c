/*
 * main.c - entry point: dispatches to a subcommand (cli/cmd.h). The only place that
 * decides the process exit code.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

#ifndef TIDM_VERSION
#define TIDM_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
	fputs("usage: tidm <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  migrate JOB.yaml [--until-caught-up] [--replace-conflicts] [--ignore-warnings] [--restart]\n"
	      "                         run one migration job in the foreground\n"
	      "  precheck JOB.yaml [--format table|json]\n"
	      "                         check source and target before a job starts\n"
	      "  verify JOB.yaml        compare source and target table by table\n"
	      "  binlog decode FILE... [--format text|json] [--count] [--no-output]\n"
	      "                         print the events of binlog files\n"
	      "  binlog stream --source HOST:PORT --user U --password-env VAR [--start-file F\n"
	      "                --start-pos P | --start-gtid SET] [--until-now] [--format text|json]\n"
	      "                         read a live source's binlog as a replica\n"
	      "  server --data-dir DIR [--listen ADDR] [--token-file F] [--tls-cert F --tls-key F]\n"
	      "         [--max-jobs N]  the job service: runs many jobs, operated through its HTTP API\n"
	      "  job create JOB.yaml [--start] | list | show NAME | start NAME | pause NAME |\n"
	      "      resume NAME | restart NAME [--replace-conflicts] | delete NAME |\n"
	      "      scale NAME --apply-workers N [--dump-threads N] [--load-threads N] [--batch N] |\n"
	      "      events NAME [--follow]   [--server URL] [--token-file F] [--format table|json]\n"
	      "                         operate the jobs of a `tidm server`\n"
	      "  version                print the version\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{"migrate", tidm_cmd_migrate},
		{"precheck", tidm_cmd_precheck},
		{"verify", tidm_cmd_verify},
		{"binlog", tidm_cmd_binlog},
		{"server", tidm_cmd_server},
		{"job", tidm_cmd_job},
	};
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return TIDM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return TIDM_EXIT_OK;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("tidm %s\n", TIDM_VERSION);
		return TIDM_EXIT_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "tidm: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return TIDM_EXIT_USAGE;
}
