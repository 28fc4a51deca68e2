/* version: `kiln version`. */
#include "base/kiln.h"
#include "cli/cmds.h"

#ifndef KILN_VERSION
#define KILN_VERSION "0.0.0-dev"
#endif

int cmd_version(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	printf("kiln %s\n", KILN_VERSION);
	return EXIT_OK;
}
