/*
 * cmd_migrate.c - `tidm migrate`. Not implemented yet.
 */
#include <stdio.h>

#include "cli/cmd.h"

int tidm_cmd_migrate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("tidm: 'migrate' is not implemented yet\n", stderr);
	return TIDM_EXIT_FAILED;
}
