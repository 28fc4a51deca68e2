/*
 * debug: hidden `kiln debug <what>` subcommands exposing internals to shell
 * tests (git's test-tool): `kiln debug yaml FILE` dumps the node tree.
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "yaml/ynode.h"

static int debug_yaml(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: kiln debug yaml FILE\n");
		return EXIT_USAGE;
	}
	struct buf b = BUF_INIT;
	int r = buf_read_file(&b, argv[1]);
	if (r < 0) {
		fprintf(stderr, "kiln: error: cannot read '%s': %s\n", argv[1], strerror(-r));
		return EXIT_USAGE;
	}
	struct diags d = DIAGS_INIT;
	struct ynode *root;
	int ret = EXIT_OK;
	if (yaml_load(argv[1], b.buf, b.len, &root, &d) < 0) {
		diags_print(&d, stderr);
		ret = EXIT_USAGE;
	} else {
		ynode_dump(root, 0, stdout);
		ynode_free(root);
	}
	diags_release(&d);
	buf_release(&b);
	return ret;
}

int cmd_debug(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	if (argc >= 2 && !strcmp(argv[1], "yaml"))
		return debug_yaml(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "event") || !strcmp(argv[1], "changes") ||
			  !strcmp(argv[1], "paths-filter")))
		return debug_git(argc - 1, argv + 1);
	fprintf(stderr, "usage: kiln debug yaml FILE\n");
	return EXIT_USAGE;
}
