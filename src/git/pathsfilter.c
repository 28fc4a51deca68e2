/*
 * pathsfilter: dorny/paths-filter's filter.ts and exportResults in C.
 * Rules follow the action's current semantics: in the default `some` mode
 * the plain patterns of a list are grouped gitignore-style (a file matches
 * when one positive pattern matches and no `!pattern` does); a single
 * `!pattern` string matches every file the pattern does not.
 */
#include "base/kiln.h"
#include "git/glob.h"
#include "git/pathsfilter.h"
#include "yaml/ynode.h"

#include <ctype.h>

/* brace expansions allowed per pattern */
#define PF_MAX_EXPANSIONS 256

/* a set of picomatch globs (brace-expanded): matches when any matches */
struct pf_globs {
	struct glob *v;
	size_t nr, alloc;
};

struct pf_rule {
	unsigned status;      /* PF_* bits, 0 = any status */
	struct pf_globs pos;  /* at least one must match */
	struct pf_globs neg;  /* none may match */
	int invert;           /* single "!pattern": matches when pos does not */
};

static const char *const status_names[] = { "added", "copied", "deleted", "modified", "renamed",
					    "unmerged" };

const char *pf_status_name(enum pf_status s)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_names); i++)
		if (s == (1u << i))
			return status_names[i];
	return "unknown";
}

static void globs_add(struct pf_globs *g, const char *pattern)
{
	struct strvec alts = STRVEC_INIT;
	glob_expand_braces(pattern, &alts, PF_MAX_EXPANSIONS);
	for (size_t i = 0; i < alts.nr; i++) {
		ALLOC_GROW(g->v, g->nr + 1, g->alloc);
		glob_compile_syntax(&g->v[g->nr++], alts.v[i], GLOB_PICOMATCH, NULL);
	}
	strvec_clear(&alts);
}

static int globs_match(const struct pf_globs *g, const char *s)
{
	for (size_t i = 0; i < g->nr; i++)
		if (glob_match(&g->v[i], s))
			return 1;
	return 0;
}

static void globs_release(struct pf_globs *g)
{
	for (size_t i = 0; i < g->nr; i++)
		glob_release(&g->v[i]);
	free(g->v);
}

static int rule_matches(const struct pf_rule *r, const struct pf_file *f)
{
	if (r->status && !(r->status & f->status))
		return 0;
	if (r->invert)
		return !globs_match(&r->pos, f->path);
	return globs_match(&r->pos, f->path) && !globs_match(&r->neg, f->path);
}

/* gitignore-style negation: '!' followed by anything but '(' (extglob) */
static int is_negation(const char *p)
{
	return p[0] == '!' && p[1] && p[1] != '(';
}

/* parser state */
struct pf_ld {
	const struct ynode *root;
	struct paths_filter *pf;
	struct buf *err;
};

static int invalid(struct pf_ld *ld, const struct ynode *at, const char *fmt, const char *arg)
{
	if (ld->err) {
		buf_addstr(ld->err, "invalid filter YAML format: ");
		buf_addf(ld->err, fmt, arg);
		if (at)
			buf_addf(ld->err, " (line %d, column %d)", at->line, at->col);
	}
	return KILN_EINVAL;
}

static struct pf_rule *new_rule(struct pf_filter *f)
{
	ALLOC_GROW(f->rules, f->nr + 1, f->alloc);
	struct pf_rule *r = &f->rules[f->nr++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* flatten nested lists (anchors) into plain patterns and status maps */
static int collect(struct pf_ld *ld, const struct ynode *n, struct strvec *pats,
		   const struct ynode ***maps, size_t *nmaps, size_t *amaps, int depth)
{
	if (!n || depth > 32)
		return invalid(ld, n, "%s", "unresolved alias or nesting too deep");
	if (n->kind == YNODE_SCALAR) {
		strvec_push(pats, n->str);
		return 0;
	}
	if (n->kind == YNODE_MAP) {
		ALLOC_GROW(*maps, *nmaps + 1, *amaps);
		(*maps)[(*nmaps)++] = n;
		return 0;
	}
	for (size_t i = 0; i < n->nr; i++)
		if (collect(ld, n->items[i], pats, maps, nmaps, amaps, depth + 1) < 0)
			return KILN_EINVAL;
	return 0;
}

static int parse_status(struct pf_ld *ld, const struct ynode *key, unsigned *out)
{
	*out = 0;
	const char *s = key->str;
	while (*s) {
		size_t n = strcspn(s, "|");
		size_t a = 0, b = n;
		while (a < b && isspace((unsigned char)s[a]))
			a++;
		while (b > a && isspace((unsigned char)s[b - 1]))
			b--;
		if (b > a) {
			size_t k;
			for (k = 0; k < ARRAY_SIZE(status_names); k++)
				if (b - a == strlen(status_names[k]) &&
				    !strncasecmp(s + a, status_names[k], b - a))
					break;
			if (k == ARRAY_SIZE(status_names))
				return invalid(ld, key, "unknown change status in '%s' (expected added, "
						"copied, deleted, modified, renamed or unmerged)", key->str);
			*out |= 1u << k;
		}
		s += n + (s[n] ? 1 : 0);
	}
	return 0;
}

/* plain patterns of one list, grouped (some) */
static int grouped_rule(struct pf_ld *ld, struct pf_filter *f, const struct strvec *pats,
			unsigned status, const struct ynode *at)
{
	struct pf_rule *r = new_rule(f);
	r->status = status;
	for (size_t i = 0; i < pats->nr; i++) {
		if (is_negation(pats->v[i]))
			globs_add(&r->neg, pats->v[i] + 1);
		else
			globs_add(&r->pos, pats->v[i]);
	}
	if (!r->pos.nr)
		return invalid(ld, at, "%s", "a filter rule needs at least one positive pattern, "
					  "not only negations");
	return 0;
}

static void single_rule(struct pf_filter *f, const char *pattern, unsigned status)
{
	struct pf_rule *r = new_rule(f);
	r->status = status;
	r->invert = is_negation(pattern);
	globs_add(&r->pos, pattern + (r->invert ? 1 : 0));
}

static int parse_item(struct pf_ld *ld, struct pf_filter *f, const struct ynode *n);

static int parse_status_map(struct pf_ld *ld, struct pf_filter *f, const struct ynode *m)
{
	for (size_t i = 0; i < ynode_map_size(m); i++) {
		const struct ynode *k = ynode_map_key(m, i), *v = ynode_map_val(m, i);
		unsigned st;
		if (k->kind != YNODE_SCALAR || parse_status(ld, k, &st) < 0)
			return KILN_EINVAL;
		if (v && v->kind == YNODE_SCALAR) {
			single_rule(f, v->str, st);
			continue;
		}
		if (!v || v->kind != YNODE_SEQ)
			return invalid(ld, k, "expected a pattern or a list of patterns for '%s'", k->str);
		struct strvec pats = STRVEC_INIT;
		const struct ynode **maps = NULL;
		size_t nmaps = 0, amaps = 0;
		int rc = collect(ld, v, &pats, &maps, &nmaps, &amaps, 0);
		if (rc == 0 && nmaps)
			rc = invalid(ld, k, "patterns under '%s' must be strings", k->str);
		if (rc == 0)
			rc = grouped_rule(ld, f, &pats, st, k);
		strvec_clear(&pats);
		free(maps);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_list(struct pf_ld *ld, struct pf_filter *f, const struct ynode *n)
{
	if (ld->pf->every) {
		/* each item its own rule, all must hold */
		for (size_t i = 0; i < n->nr; i++)
			if (parse_item(ld, f, n->items[i]) < 0)
				return KILN_EINVAL;
		return 0;
	}
	struct strvec pats = STRVEC_INIT;
	const struct ynode **maps = NULL;
	size_t nmaps = 0, amaps = 0;
	int rc = collect(ld, n, &pats, &maps, &nmaps, &amaps, 0);
	if (rc == 0 && (pats.nr || !nmaps))
		rc = grouped_rule(ld, f, &pats, 0, n);
	for (size_t i = 0; rc == 0 && i < nmaps; i++)
		rc = parse_status_map(ld, f, maps[i]);
	strvec_clear(&pats);
	free(maps);
	return rc;
}

static int parse_item(struct pf_ld *ld, struct pf_filter *f, const struct ynode *n)
{
	if (!n)
		return invalid(ld, NULL, "%s", "unresolved alias");
	if (n->kind == YNODE_SCALAR) {
		single_rule(f, n->str, 0);
		return 0;
	}
	if (n->kind == YNODE_SEQ)
		return parse_list(ld, f, n);
	return parse_status_map(ld, f, n);
}

int pf_parse(struct paths_filter *pf, const char *yaml, size_t len, int every, struct buf *err)
{
	struct diags d = DIAGS_INIT;
	struct ynode *root = NULL;
	pf->every = every;
	if (yaml_load("filters", yaml, len, &root, &d) < 0) {
		if (err && d.nr)
			buf_addf(err, "invalid filter YAML: %d:%d: %s", d.v[0].line, d.v[0].col,
				 d.v[0].msg);
		diags_release(&d);
		return KILN_EINVAL;
	}
	diags_release(&d);
	struct pf_ld ld = { root, pf, err };
	int rc = 0;
	if (!root || root->kind != YNODE_MAP)
		rc = invalid(&ld, root, "%s", "root element is not an object");
	for (size_t i = 0; rc == 0 && i < ynode_map_size(root); i++) {
		const struct ynode *k = ynode_map_key(root, i);
		if (k->kind != YNODE_SCALAR) {
			rc = invalid(&ld, k, "%s", "filter names must be strings");
			break;
		}
		ALLOC_GROW(pf->v, pf->nr + 1, pf->alloc);
		struct pf_filter *f = &pf->v[pf->nr++];
		memset(f, 0, sizeof(*f));
		f->name = xstrdup(k->str);
		rc = parse_item(&ld, f, ynode_map_val(root, i));
	}
	ynode_free(root);
	if (rc < 0)
		pf_release(pf);
	return rc;
}

void pf_release(struct paths_filter *pf)
{
	for (size_t i = 0; i < pf->nr; i++) {
		for (size_t j = 0; j < pf->v[i].nr; j++) {
			globs_release(&pf->v[i].rules[j].pos);
			globs_release(&pf->v[i].rules[j].neg);
		}
		free(pf->v[i].rules);
		free(pf->v[i].name);
	}
	free(pf->v);
	struct paths_filter z = PATHS_FILTER_INIT;
	*pf = z;
}

int pf_filter_matches(const struct paths_filter *pf, size_t i, const struct pf_file *f)
{
	const struct pf_filter *flt = &pf->v[i];
	if (!flt->nr)
		return 0;
	for (size_t j = 0; j < flt->nr; j++) {
		int m = rule_matches(&flt->rules[j], f);
		if (pf->every && !m)
			return 0;
		if (!pf->every && m)
			return 1;
	}
	return pf->every;
}

static void add_file(struct pf_files *out, const char *path, enum pf_status st)
{
	ALLOC_GROW(out->v, out->nr + 1, out->alloc);
	out->v[out->nr].path = xstrdup(path);
	out->v[out->nr++].status = st;
}

void pf_files_from_changes(const struct changes *ch, struct pf_files *out)
{
	for (size_t i = 0; i < ch->nr; i++) {
		const struct change *c = &ch->v[i];
		switch (c->status) {
		case CHANGE_ADDED:
		case CHANGE_COPIED:
			add_file(out, c->path, PF_ADDED);
			break;
		case CHANGE_DELETED:
			add_file(out, c->path, PF_DELETED);
			break;
		case CHANGE_RENAMED:
			add_file(out, c->path, PF_ADDED);
			add_file(out, c->old_path, PF_DELETED);
			break;
		default:
			add_file(out, c->path, PF_MODIFIED);
			break;
		}
	}
}

void pf_files_release(struct pf_files *f)
{
	for (size_t i = 0; i < f->nr; i++)
		free(f->v[i].path);
	free(f->v);
	struct pf_files z = PF_FILES_INIT;
	*f = z;
}

static int plain_char(unsigned char c)
{
	return isalnum(c) || strchr(",._+:@%/-", c);
}

/* one file name in a list-files format */
static void add_escaped(struct buf *b, const char *s, const char *fmt)
{
	if (!strcmp(fmt, "json")) {
		buf_add_json_str(b, s, strlen(s));
	} else if (!strcmp(fmt, "csv")) {
		if (strpbrk(s, "\",\n")) {
			buf_addch(b, '"');
			for (; *s; s++)
				buf_add(b, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
			buf_addch(b, '"');
		} else {
			buf_addstr(b, s);
		}
	} else if (!strcmp(fmt, "escape")) {
		for (; *s; s++) {
			if (!plain_char((unsigned char)*s))
				buf_addch(b, '\\');
			buf_addch(b, *s);
		}
	} else { /* shell */
		const char *p = s;
		while (*p && plain_char((unsigned char)*p))
			p++;
		if (!*p) {
			buf_addstr(b, s);
			return;
		}
		buf_addch(b, '\'');
		for (; *s; s++)
			buf_addstr(b, *s == '\'' ? "'\"'\"'" : (char[2]){ *s, 0 });
		buf_addch(b, '\'');
	}
}

int pf_outputs(const struct paths_filter *pf, const struct pf_files *files, const char *list_files,
	       struct strvec *out, struct buf *err)
{
	static const char *const formats[] = { "none", "csv", "json", "shell", "escape" };
	const char *fmt = list_files && *list_files ? list_files : "none";
	size_t k;
	for (k = 0; k < ARRAY_SIZE(formats) && strcasecmp(fmt, formats[k]); k++)
		;
	if (k == ARRAY_SIZE(formats)) {
		buf_addf(err, "input parameter 'list-files' is set to invalid value '%s'", fmt);
		return KILN_EINVAL;
	}
	fmt = formats[k];
	struct buf changes = BUF_INIT, list = BUF_INIT;
	int any = 0, unchanged = 0, has_changes_filter = 0;
	buf_addch(&changes, '[');
	for (size_t i = 0; i < pf->nr; i++) {
		size_t count = 0;
		buf_reset(&list);
		for (size_t j = 0; j < files->nr; j++) {
			if (!pf_filter_matches(pf, i, &files->v[j]))
				continue;
			const char *sep = !strcmp(fmt, "csv") ? "," : !strcmp(fmt, "json") ? "," : " ";
			if (count++)
				buf_addstr(&list, sep);
			add_escaped(&list, files->v[j].path, fmt);
		}
		const char *name = pf->v[i].name;
		has_changes_filter |= !strcmp(name, "changes");
		if (count) {
			if (any)
				buf_addch(&changes, ',');
			buf_add_json_str(&changes, name, strlen(name));
			any = 1;
		} else {
			unchanged = 1;
		}
		strvec_pushf(out, "%s=%s", name, count ? "true" : "false");
		strvec_pushf(out, "%s_count=%zu", name, count);
		if (strcmp(fmt, "none"))
			strvec_pushf(out, !strcmp(fmt, "json") ? "%s_files=[%s]" : "%s_files=%s", name,
				     list.buf);
	}
	buf_addch(&changes, ']');
	strvec_pushf(out, "all_changed=%s", any ? (unchanged ? "false" : "true") : "true");
	strvec_pushf(out, "any_changed=%s", any ? "true" : "false");
	if (!has_changes_filter)
		strvec_pushf(out, "changes=%s", changes.buf);
	buf_release(&changes);
	buf_release(&list);
	return 0;
}
