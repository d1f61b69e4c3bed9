/*
 * cmd_verify.c - `tidm verify`. Not implemented yet.
 */
#include <stdio.h>

#include "cli/cmd.h"

int tidm_cmd_verify(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("tidm: 'verify' is not implemented yet\n", stderr);
	return TIDM_EXIT_FAILED;
}
