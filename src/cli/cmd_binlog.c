/*
 * cmd_binlog.c - `tidm binlog`. Not implemented yet.
 */
#include <stdio.h>

#include "cli/cmd.h"

int tidm_cmd_binlog(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("tidm: 'binlog' is not implemented yet\n", stderr);
	return TIDM_EXIT_FAILED;
}
