/* opt: data-driven option parsing and usage. */
#include "base/kiln.h"
#include "cli/opt.h"

#include <errno.h>
#include <limits.h>

void opt_usage(FILE *out, const struct opt *opts, const char *const *usage)
{
	for (size_t i = 0; usage && usage[i]; i++)
		fprintf(out, "%s%s\n", i ? "   or: " : "usage: ", usage[i]);
	fputc('\n', out);
	for (const struct opt *o = opts; o->type != OPT_END; o++) {
		struct buf b = BUF_INIT;
		buf_addstr(&b, "    ");
		if (o->short_name)
			buf_addf(&b, "-%c", o->short_name);
		if (o->short_name && o->long_name)
			buf_addstr(&b, ", ");
		if (o->long_name)
			buf_addf(&b, "--%s", o->long_name);
		if (o->argh)
			buf_addf(&b, " %s", o->argh);
		fprintf(out, "%-28s %s\n", b.buf, o->help ? o->help : "");
		buf_release(&b);
	}
}

static int set_value(const struct opt *o, const char *arg, const char *name)
{
	switch (o->type) {
	case OPT_BOOL: *(int *)o->value = 1; return 0;
	case OPT_COUNT: (*(int *)o->value)++; return 0;
	case OPT_STRING: *(const char **)o->value = arg; return 0;
	case OPT_LIST: strvec_push(o->value, arg); return 0;
	case OPT_INT: {
		char *end;
		errno = 0;
		long v = strtol(arg, &end, 10);
		if (errno || end == arg || *end || v < 0 || v > INT_MAX) {
			fprintf(stderr, "kiln: error: option '%s' expects a non-negative number, got '%s'\n",
				name, arg);
			return -1;
		}
		*(int *)o->value = (int)v;
		return 0;
	}
	case OPT_END: break;
	}
	return -1;
}

static int takes_arg(const struct opt *o)
{
	return o->type == OPT_STRING || o->type == OPT_INT || o->type == OPT_LIST;
}

int opt_parse(int argc, char **argv, const struct opt *opts, const char *const *usage)
{
	int npos = 0;
	int only_pos = 0;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (only_pos || a[0] != '-' || !a[1]) {
			argv[1 + npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			opt_usage(stdout, opts, usage);
			return -2;
		}
		const struct opt *o = NULL;
		const char *inline_arg = NULL;
		if (a[1] == '-') {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t n = eq ? (size_t)(eq - name) : strlen(name);
			for (const struct opt *p = opts; p->type != OPT_END; p++)
				if (p->long_name && strlen(p->long_name) == n && !strncmp(p->long_name, name, n))
					o = p;
			if (eq)
				inline_arg = eq + 1;
		} else {
			for (const struct opt *p = opts; p->type != OPT_END; p++)
				if (p->short_name == a[1])
					o = p;
			if (o && a[2]) {
				if (!takes_arg(o)) {
					fprintf(stderr, "kiln: error: option '-%c' takes no value\n", a[1]);
					goto bad;
				}
				inline_arg = a + 2;
			}
		}
		if (!o) {
			fprintf(stderr, "kiln: error: unknown option '%s'\n", a);
			goto bad;
		}
		if (takes_arg(o) && !inline_arg) {
			if (i + 1 >= argc) {
				fprintf(stderr, "kiln: error: option '%s' requires a value\n", a);
				goto bad;
			}
			inline_arg = argv[++i];
		} else if (!takes_arg(o) && inline_arg) {
			fprintf(stderr, "kiln: error: option '%s' takes no value\n", a);
			goto bad;
		}
		if (set_value(o, inline_arg, a) < 0)
			goto bad;
	}
	argv[1 + npos] = NULL;
	return npos;
bad:
	opt_usage(stderr, opts, usage);
	return -1;
}
