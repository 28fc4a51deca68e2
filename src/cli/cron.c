/*
 * cron: `kiln cron next 'EXPR' [-n N] [--after TIME]` prints the next times
 * a `schedule:` cron expression fires, one ISO-8601 UTC time per line.
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "workflow/cron.h"

#include <time.h>

static const char *const usage[] = {
	"kiln cron next 'MIN HOUR DOM MON DOW' [-n N] [--after TIME]",
	NULL,
};

/* more than this many times is refused (the output is for people) */
#define CRON_MAX_TIMES 10000

int cmd_cron(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	int count = 5;
	const char *after = NULL;
	const struct opt opts[] = {
		{ OPT_INT, 'n', "count", &count, "N", "how many times to print (default 5)" },
		{ OPT_STRING, 0, "after", &after, "TIME",
		  "start after TIME (2026-11-23T10:41[:00][Z], UTC; default now)" },
		OPT_END_MARK,
	};
	int npos = opt_parse(argc, argv, opts, usage);
	if (npos == -2)
		return EXIT_OK;
	if (npos < 0)
		return EXIT_USAGE;
	if (npos != 2 || strcmp(argv[1], "next")) {
		opt_usage(stderr, opts, usage);
		return EXIT_USAGE;
	}
	if (count < 1 || count > CRON_MAX_TIMES) {
		fprintf(stderr, "kiln: error: -n must be between 1 and %d\n", CRON_MAX_TIMES);
		return EXIT_USAGE;
	}
	int64_t t = (int64_t)time(NULL);
	if (after && cron_parse_time(after, &t) < 0) {
		fprintf(stderr, "kiln: error: invalid time '%s' (expected 2026-11-23T10:41:00Z)\n",
			after);
		return EXIT_USAGE;
	}
	struct cron c;
	struct buf err = BUF_INIT;
	if (cron_parse(argv[2], &c, &err) < 0) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		buf_release(&err);
		return EXIT_USAGE;
	}
	buf_release(&err);
	for (int i = 0; i < count; i++) {
		t = cron_next(&c, t);
		if (t < 0) {
			if (i == 0) {
				fprintf(stderr, "kiln: error: cron expression '%s' never fires\n", argv[2]);
				return EXIT_USAGE;
			}
			break;
		}
		char when[32];
		cron_format_time(t, when, sizeof(when));
		printf("%s\n", when);
	}
	return EXIT_OK;
}
