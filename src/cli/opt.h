/*
 * opt: command-line options declared as data; one parser that also prints
 * usage (git's parse-options, in miniature).
 */
#ifndef KILN_OPT_H
#define KILN_OPT_H

#include "base/strvec.h"

enum opt_type {
	OPT_END,
	OPT_BOOL,    /* int *: set to 1 */
	OPT_COUNT,   /* int *: incremented (-v -v) */
	OPT_STRING,  /* const char **: points into argv */
	OPT_INT,     /* int *: decimal, range-checked >= 0 */
	OPT_LIST,    /* struct strvec *: each use appends */
};

struct opt {
	enum opt_type type;
	char short_name;       /* 0 for none */
	const char *long_name; /* NULL for none */
	void *value;
	const char *argh;      /* argument name in usage, e.g. "N" */
	const char *help;
};

#define OPT_END_MARK { OPT_END, 0, NULL, NULL, NULL, NULL }

/*
 * Parse argv[1..argc-1]. Positional arguments are compacted to the front of
 * argv (argv[0] kept) and their count returned. On a bad option prints the
 * error and usage to stderr and returns -1. `--help`/`-h` prints usage to
 * stdout and returns -2 (callers exit 0).
 */
int opt_parse(int argc, char **argv, const struct opt *opts, const char *const *usage);
void opt_usage(FILE *out, const struct opt *opts, const char *const *usage);

#endif
