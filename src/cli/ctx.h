/*
 * kiln_ctx: what every subcommand shares (no hidden globals): the program's
 * immutable settings. Modules that need the loop or store get them passed.
 */
#ifndef KILN_CTX_H
#define KILN_CTX_H

struct kiln_ctx {
	const char *argv0;   /* how kiln was invoked */
	const char *exe;     /* absolute path of the running binary, for re-exec */
	int color;           /* 1 when stdout is a terminal and NO_COLOR unset */
};

#endif
