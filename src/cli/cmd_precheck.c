/*
 * cmd_precheck.c - `tidm precheck`. Not implemented yet.
 */
#include <stdio.h>

#include "cli/cmd.h"

int tidm_cmd_precheck(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("tidm: 'precheck' is not implemented yet\n", stderr);
	return TIDM_EXIT_FAILED;
}
