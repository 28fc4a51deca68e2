/*
 * docker/metadata-action, natively: Docker tags and OCI labels from the
 * event, following the action's own rules (its src/tag.ts and src/meta.ts):
 *
 * - `tags`: one rule a line, `type=...,attr=value,...`; by default
 *   schedule, ref/branch, ref/tag, ref/pr. Rules are sorted by priority
 *   (schedule 1000, semver and pep440 900, match 800, edge 700, ref 600,
 *   raw 200, sha 100); the first value is the version, the others its
 *   partial tags; `enable=` (`true`, `false`, `{{is_default_branch}}`),
 *   `prefix=`, `suffix=`, `priority=`. semver: `pattern=` with {{version}}
 *   {{major}} {{minor}} {{patch}} {{raw}} on a tag (or `value=`); a
 *   prerelease gives {{version}} only and no `latest`. pep440: the same
 *   with PEP 440 versions (normalised: v1.0beta2 -> 1.0b2); pre, post and
 *   dev releases give the normalised version only. match: `pattern=` (a
 *   JavaScript-style regular expression, `/re/flags` too, run with PCRE2)
 *   and `group=` on the tag (or `value=`). ref: event=branch|tag|pr
 *   (pr-N). sha: `sha-` + 7 characters (format=long: 40). raw: `value=`.
 *   edge: `edge` on the default branch (or `branch=`). schedule:
 *   `pattern=` (nightly) on schedule events.
 * - `{{date 'FORMAT' tz='Zone'}}` (moment.js formats, docker_meta_date.c)
 *   in schedule patterns and every attribute's templates, one instant for
 *   the whole step; `{{commit_date …}}` the same with the commit's time.
 * - `flavor`: latest=auto|true|false (auto: only a semver, pep440, match
 *   or ref/tag rule that came first gives `latest`), prefix=, suffix=.
 * - `labels`: the eight org.opencontainers.image.* labels, then the
 *   input's, sorted by key.
 * Outputs: version, tags, labels (`sep-tags`/`sep-labels`, default a
 * newline), json ({tags, labels, annotations}).
 */
#include "base/kiln.h"
#include "actions/actions.h"
#include "git/repo.h"

#include <ctype.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

struct rule {
	char type[16];
	struct strvec attrs; /* key=value */
	int prio;
};

static const char *attr(const struct rule *r, const char *k)
{
	size_t n = strlen(k);
	for (size_t i = 0; i < r->attrs.nr; i++)
		if (!strncmp(r->attrs.v[i], k, n) && r->attrs.v[i][n] == '=')
			return r->attrs.v[i] + n + 1;
	return NULL;
}

struct meta {
	struct builtin_call *c;
	const char *ref, *sha, *event, *default_branch;
	char *main;            /* the version (owned) */
	struct strvec partial;
	int latest;            /* -1 undecided */
	const char *flv_latest, *flv_prefix, *flv_suffix;
	int64_t now_ms;        /* {{date}}: one instant for the whole step */
	int64_t commit_ms;     /* {{commit_date}}: the commit's time */
};

static int starts(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* a handlebars string literal ('…' or "…") at *s; NULL when none */
static char *literal(const char **s)
{
	char q = **s;
	if (q != '\'' && q != '"')
		return NULL;
	const char *e = strchr(*s + 1, q);
	if (!e)
		return NULL;
	char *v = xstrndup(*s + 1, (size_t)(e - *s - 1));
	*s = e + 1;
	return v;
}

/* the arguments of {{date 'FORMAT' tz='Zone'}} after "date" (or
 * commit_date: the commit's time instead of now) */
static int date_helper(const struct meta *m, int64_t ms, const char *a, struct buf *out,
		       struct buf *err)
{
	char *fmt = NULL, *tz = NULL;
	int r = -1;
	for (;;) {
		while (*a == ' ')
			a++;
		if (!*a)
			break;
		if (*a == '\'' || *a == '"') {
			free(fmt);
			if (!(fmt = literal(&a)))
				goto bad;
		} else if (!strncmp(a, "tz=", 3)) {
			a += 3;
			free(tz);
			if (!(tz = literal(&a)))
				goto bad;
		} else {
			size_t n = strcspn(a, "= ");
			buf_addf(err, "Unknown %.*s attribute", (int)n, a);
			goto out;
		}
	}
	(void)m;
	r = act_meta_date(ms, fmt, tz, out, err);
	goto out;
bad:
	buf_addstr(err, "invalid {{date}} template: quote the format and tz='Zone'");
out:
	free(fmt);
	free(tz);
	return r;
}

/* {{branch}} {{tag}} {{sha}} {{base_ref}} {{is_default_branch}} {{date …}} */
static int global_exp(const struct meta *m, const char *in, struct buf *out, struct buf *err)
{
	while (*in) {
		const char *o = strstr(in, "{{");
		if (!o) {
			buf_addstr(out, in);
			break;
		}
		buf_add(out, in, (size_t)(o - in));
		const char *e = strstr(o, "}}");
		if (!e) {
			buf_addstr(out, o);
			break;
		}
		char *name = xstrndup(o + 2, (size_t)(e - o - 2));
		char *t = name;
		while (*t == ' ')
			t++;
		size_t tl = strlen(t);
		while (tl && t[tl - 1] == ' ')
			t[--tl] = 0;
		const char *ref = m->ref;
		if ((!strncmp(t, "date", 4) && (!t[4] || t[4] == ' ')) ||
		    (!strncmp(t, "commit_date", 11) && (!t[11] || t[11] == ' '))) {
			int commit = t[0] == 'c';
			if (date_helper(m, commit ? m->commit_ms : m->now_ms, t + (commit ? 11 : 4),
					out, err) < 0) {
				free(name);
				return -1;
			}
		} else if (!strcmp(t, "branch")) {
			if (starts(ref, "refs/heads/"))
				buf_addstr(out, ref + 11);
		} else if (!strcmp(t, "tag")) {
			if (starts(ref, "refs/tags/"))
				buf_addstr(out, ref + 10);
		} else if (!strcmp(t, "sha")) {
			buf_add(out, m->sha, strlen(m->sha) < 7 ? strlen(m->sha) : 7);
		} else if (!strcmp(t, "base_ref")) {
			const char *b = act_event_str(m->c, "pull_request.base.ref");
			if (starts(ref, "refs/pull/"))
				buf_addstr(out, b);
		} else if (!strcmp(t, "is_default_branch")) {
			const char *br = starts(ref, "refs/heads/") ? ref + 11 : ref;
			int yes = *br && !strcmp(br, m->default_branch);
			if (strstr(m->event, "create") || strstr(m->event, "discussion") ||
			    strstr(m->event, "issues") || strstr(m->event, "schedule"))
				yes = *br != 0;
			buf_addstr(out, yes ? "true" : "false");
		} else {
			buf_addf(err, "template '{{%s}}' is not supported by kiln's metadata-action",
				 t);
			free(name);
			return -1;
		}
		free(name);
		in = e + 2;
	}
	return 0;
}

static void sanitize(struct buf *b)
{
	struct buf o = BUF_INIT;
	int run = 0;
	for (size_t i = 0; i < b->len; i++) {
		unsigned char ch = (unsigned char)b->buf[i];
		if (isalnum(ch) || ch == '.' || ch == '_' || ch == '-') {
			buf_addch(&o, ch);
			run = 0;
		} else if (!run) {
			buf_addch(&o, '-');
			run = 1;
		}
	}
	buf_reset(b);
	buf_add(b, o.buf, o.len);
	buf_release(&o);
}

static int set_value(struct meta *m, const struct rule *r, const char *val, struct buf *out,
		     struct buf *err)
{
	const char *p = attr(r, "prefix"), *s = attr(r, "suffix");
	if (global_exp(m, p ? p : m->flv_prefix, out, err) < 0)
		return -1;
	buf_addstr(out, val);
	return global_exp(m, s ? s : m->flv_suffix, out, err);
}

static void set_version(struct meta *m, struct buf *val, int latest)
{
	if (!val->len)
		return;
	sanitize(val);
	if (!m->main)
		m->main = xstrdup(val->buf);
	else if (strcmp(val->buf, m->main) && strvec_find(&m->partial, val->buf) < 0)
		strvec_push(&m->partial, val->buf);
	if (m->latest < 0)
		m->latest = latest;
}

static int flavor_latest(const struct meta *m, int auto_value)
{
	if (!strcmp(m->flv_latest, "auto"))
		return auto_value;
	return !strcmp(m->flv_latest, "true");
}

/* semver 2.0 (semver.valid: an optional leading v or =) */
struct sver { char raw[128], version[128], major[24], minor[24], patch[24]; int pre; };

static int num(const char **s, char *out)
{
	const char *p = *s;
	if (!isdigit((unsigned char)*p) || (*p == '0' && isdigit((unsigned char)p[1])))
		return -1;
	size_t n = 0;
	while (isdigit((unsigned char)*p) && n < 20)
		out[n++] = *p++;
	out[n] = 0;
	if (isdigit((unsigned char)*p))
		return -1;
	*s = p;
	return 0;
}

static int semver_parse(const char *v, struct sver *sv)
{
	if (strlen(v) >= sizeof(sv->raw))
		return -1;
	snprintf(sv->raw, sizeof(sv->raw), "%s", v);
	const char *p = v;
	while (*p == 'v' || *p == '=' || *p == ' ')
		p++;
	if (num(&p, sv->major) < 0 || *p++ != '.' || num(&p, sv->minor) < 0 || *p++ != '.' ||
	    num(&p, sv->patch) < 0)
		return -1;
	const char *pre = NULL;
	sv->pre = 0;
	if (*p == '-') {
		pre = ++p;
		sv->pre = 1;
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '.')
			p++;
		if (p == pre || p[-1] == '.')
			return -1;
	}
	size_t vlen = (size_t)(p - v);
	if (*p == '+') {
		const char *b = ++p;
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '.')
			p++;
		if (p == b)
			return -1;
	}
	if (*p)
		return -1;
	/* version: major.minor.patch[-pre] without the v and the build */
	const char *start = v;
	while (*start == 'v' || *start == '=' || *start == ' ')
		start++;
	snprintf(sv->version, sizeof(sv->version), "%.*s", (int)(vlen - (size_t)(start - v)),
		 start);
	return 0;
}

static void pattern(const char *pat, const struct sver *sv, struct buf *out)
{
	while (*pat) {
		const char *o = strstr(pat, "{{");
		const char *e = o ? strstr(o, "}}") : NULL;
		if (!o || !e) {
			buf_addstr(out, pat);
			return;
		}
		buf_add(out, pat, (size_t)(o - pat));
		char *n = xstrndup(o + 2, (size_t)(e - o - 2));
		const char *val = !strcmp(n, "version") ? sv->version : !strcmp(n, "major") ? sv->major
				: !strcmp(n, "minor") ? sv->minor : !strcmp(n, "patch") ? sv->patch
				: !strcmp(n, "raw") ? sv->raw : "";
		buf_addstr(out, val);
		free(n);
		pat = e + 2;
	}
}

/* PEP 440 (packaging's VERSION_PATTERN): the parts of a version */
struct pep440 {
	char norm[120];     /* pep440.clean(): 1!1.2.3rc1.post2.dev3+local */
	char major[24], minor[24], patch[24];
	int pre, post, dev; /* is_prerelease covers pre and dev */
};

static const char pep440_re[] =
	"^\\s*v?(?:(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\\.[0-9]+)*)"
	"(?<pre>[-_\\.]?(?<pre_l>alpha|beta|preview|pre|a|b|c|rc)[-_\\.]?(?<pre_n>[0-9]+)?)?"
	"(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_\\.]?(?<post_l>post|rev|r)[-_\\.]?(?<post_n2>[0-9]+)?))?"
	"(?<dev>[-_\\.]?(?<dev_l>dev)[-_\\.]?(?<dev_n>[0-9]+)?)?)"
	"(?:\\+(?<local>[a-z0-9]+(?:[-_\\.][a-z0-9]+)*))?\\s*$";

/* named group of a match into out ("" when unset) */
static void group_by_name(pcre2_match_data *md, pcre2_code *re, const char *name, char *out,
			  size_t n)
{
	PCRE2_SIZE len = n;
	out[0] = 0;
	if (pcre2_substring_copy_byname(md, (PCRE2_SPTR)name, (PCRE2_UCHAR *)out, &len) < 0)
		out[0] = 0;
	(void)re;
}

/* a number without leading zeros ("007" -> "7") */
static void trim_num(char *s)
{
	size_t z = strspn(s, "0");
	if (z && !s[z])
		z--;
	memmove(s, s + z, strlen(s + z) + 1);
}

static int pep440_parse(const char *v, struct pep440 *pv)
{
	int ec;
	PCRE2_SIZE eo;
	memset(pv, 0, sizeof(*pv));
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pep440_re, PCRE2_ZERO_TERMINATED,
				       PCRE2_CASELESS, &ec, &eo, NULL);
	if (!re) /* a constant pattern: cannot happen */
		return -1;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int ok = strlen(v) < 120 &&
		 pcre2_match(re, (PCRE2_SPTR)v, strlen(v), 0, 0, md, NULL) > 0;
	if (ok) {
		char epoch[24], rel[128], pre_l[16], pre_n[24], post[40], post_n1[24], post_n2[24],
			dev[40], dev_n[24], local[64];
		group_by_name(md, re, "epoch", epoch, sizeof(epoch));
		group_by_name(md, re, "release", rel, sizeof(rel));
		group_by_name(md, re, "pre_l", pre_l, sizeof(pre_l));
		group_by_name(md, re, "pre_n", pre_n, sizeof(pre_n));
		group_by_name(md, re, "post", post, sizeof(post));
		group_by_name(md, re, "post_n1", post_n1, sizeof(post_n1));
		group_by_name(md, re, "post_n2", post_n2, sizeof(post_n2));
		group_by_name(md, re, "dev", dev, sizeof(dev));
		group_by_name(md, re, "dev_n", dev_n, sizeof(dev_n));
		group_by_name(md, re, "local", local, sizeof(local));
		struct buf n = BUF_INIT;
		trim_num(epoch);
		if (*epoch && strcmp(epoch, "0"))
			buf_addf(&n, "%s!", epoch);
		/* release: each part without leading zeros */
		size_t k = 0;
		for (char *p = rel; *p; k++) {
			size_t l = strcspn(p, ".");
			char part[24];
			snprintf(part, sizeof(part), "%.*s", (int)(l < 23 ? l : 23), p);
			trim_num(part);
			buf_addf(&n, "%s%s", k ? "." : "", part);
			snprintf(k == 0 ? pv->major : k == 1 ? pv->minor : k == 2 ? pv->patch : part,
				 24, "%s", part);
			p += l + (p[l] == '.');
		}
		if (!*pv->minor)
			snprintf(pv->minor, sizeof(pv->minor), "0");
		if (!*pv->patch)
			snprintf(pv->patch, sizeof(pv->patch), "0");
		if (*pre_l) {
			for (char *c = pre_l; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			const char *l = !strcmp(pre_l, "alpha") ? "a" : !strcmp(pre_l, "beta") ? "b"
				      : !strcmp(pre_l, "c") || !strcmp(pre_l, "pre") ||
						!strcmp(pre_l, "preview") ? "rc" : pre_l;
			trim_num(pre_n);
			buf_addf(&n, "%s%s", l, *pre_n ? pre_n : "0");
			pv->pre = 1;
		}
		if (*post) {
			char *pn = *post_n1 ? post_n1 : post_n2;
			trim_num(pn);
			buf_addf(&n, ".post%s", *pn ? pn : "0");
			pv->post = 1;
		}
		if (*dev) {
			trim_num(dev_n);
			buf_addf(&n, ".dev%s", *dev_n ? dev_n : "0");
			pv->dev = 1;
		}
		if (*local) {
			buf_addch(&n, '+');
			for (char *c = local; *c; c++)
				buf_addch(&n, *c == '-' || *c == '_' ? '.'
								   : (char)tolower((unsigned char)*c));
		}
		snprintf(pv->norm, sizeof(pv->norm), "%s", n.buf);
		buf_release(&n);
	}
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return ok ? 0 : -1;
}

/* {{raw}} {{version}} {{major}} {{minor}} {{patch}} of a PEP 440 version */
static void pep440_pattern(const char *pat, const char *raw, const struct pep440 *pv,
			   struct buf *out)
{
	struct sver sv;
	memset(&sv, 0, sizeof(sv));
	snprintf(sv.raw, sizeof(sv.raw), "%s", raw);
	snprintf(sv.version, sizeof(sv.version), "%s", pv->norm);
	snprintf(sv.major, sizeof(sv.major), "%s", pv->major);
	snprintf(sv.minor, sizeof(sv.minor), "%s", pv->minor);
	snprintf(sv.patch, sizeof(sv.patch), "%s", pv->patch);
	pattern(pat, &sv, out);
}

/*
 * type=match: group `group` of the JavaScript-style regular expression
 * `pat` ("/re/flags" or a bare pattern, as String.match takes it) in s.
 * 1 and out, 0 no match (a warning said why), -1 error.
 */
static int match_group(struct meta *m, const char *pat, const char *group, const char *s,
		       struct buf *out, struct buf *err)
{
	uint32_t opts = PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF;
	struct buf re = BUF_INIT;
	size_t pl = strlen(pat);
	int global = 0;
	const char *last = pl > 2 && pat[0] == '/' ? strrchr(pat, '/') : NULL;
	if (last && last > pat + 1) {
		buf_add(&re, pat + 1, (size_t)(last - pat - 1));
		for (const char *f = last + 1; *f; f++) {
			opts |= *f == 'i' ? PCRE2_CASELESS : *f == 'm' ? PCRE2_MULTILINE
				: *f == 's' ? PCRE2_DOTALL : *f == 'u' ? PCRE2_UTF : 0;
			global |= *f == 'g';
		}
	} else {
		buf_addstr(&re, pat);
	}
	char *end;
	long g = strtol(group, &end, 10);
	if (!*group || *end || g < 0)
		g = 0;
	int ec, r = 0;
	PCRE2_SIZE eo;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)re.buf, re.len, opts, &ec, &eo, NULL);
	if (!code) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		buf_addf(err, "Invalid regular expression: /%s/: %s", re.buf, (char *)msg);
		buf_release(&re);
		return -1;
	}
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
	size_t sl = strlen(s);
	int n = pcre2_match(code, (PCRE2_SPTR)s, sl, 0, 0, md, NULL);
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	if (global && n > 0) {
		/* String.match with /g: every whole match; `group` indexes them */
		struct strvec all = STRVEC_INIT;
		while (n > 0 && all.nr < 1024) {
			strvec_pushf(&all, "%.*s", (int)(ov[1] - ov[0]), s + ov[0]);
			size_t at = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
			n = at <= sl ? pcre2_match(code, (PCRE2_SPTR)s, sl, at, 0, md, NULL) : -1;
		}
		if ((size_t)g < all.nr) {
			buf_addstr(out, all.v[g]);
			r = 1;
		} else {
			act_logf(m->c, LOG_WARNING, "Group %s does not exist for %s pattern.", group,
				 pat);
		}
		strvec_clear(&all);
	} else if (n <= 0) {
		act_logf(m->c, LOG_WARNING, "%s does not match %s.", pat, s);
	} else if (g >= (long)pcre2_get_ovector_count(md) || ov[2 * g] == PCRE2_UNSET) {
		act_logf(m->c, LOG_WARNING, "Group %s does not exist for %s pattern.", group, pat);
	} else {
		buf_add(out, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
		r = 1;
	}
	pcre2_match_data_free(md);
	pcre2_code_free(code);
	buf_release(&re);
	return r;
}

/* the value a semver/pep440/match rule reads: value= or the tag; 0 none */
static int tag_value(struct meta *m, const struct rule *r, int dashes, struct buf *raw,
		     struct buf *err)
{
	const char *value = attr(r, "value");
	if (value && *value)
		return global_exp(m, value, raw, err) < 0 ? -1 : 1;
	if (!starts(m->ref, "refs/tags/"))
		return 0;
	buf_addstr(raw, m->ref + 10);
	for (size_t i = 0; dashes && i < raw->len; i++)
		if (raw->buf[i] == '/')
			raw->buf[i] = '-';
	return 1;
}

static int proc_rule(struct meta *m, const struct rule *r, struct buf *err)
{
	struct buf en = BUF_INIT, v = BUF_INIT;
	const char *ref = m->ref;
	int rc = 0;
	if (global_exp(m, attr(r, "enable") ? attr(r, "enable") : "true", &en, err) < 0) {
		rc = -1;
		goto out;
	}
	if (strcasecmp(en.buf, "true") && strcasecmp(en.buf, "false")) {
		buf_addf(err, "Invalid value for enable attribute: %s", en.buf);
		rc = -1;
		goto out;
	}
	if (!strcasecmp(en.buf, "false"))
		goto out;
	const char *t = r->type;
	if (!strcmp(t, "semver")) {
		const char *value = attr(r, "value");
		if (!starts(ref, "refs/tags/") && (!value || !*value))
			goto out;
		struct buf raw = BUF_INIT;
		if (value && *value) {
			if (global_exp(m, value, &raw, err) < 0) {
				buf_release(&raw);
				rc = -1;
				goto out;
			}
		} else {
			buf_addstr(&raw, ref + 10);
			for (size_t i = 0; i < raw.len; i++)
				if (raw.buf[i] == '/')
					raw.buf[i] = '-';
		}
		struct sver sv;
		if (semver_parse(raw.buf, &sv) < 0) {
			act_logf(m->c, LOG_WARNING, "%s is not a valid semver. More info: "
				 "https://semver.org/", raw.buf);
			buf_release(&raw);
			goto out;
		}
		buf_release(&raw);
		struct buf pv = BUF_INIT;
		const char *pat = attr(r, "pattern");
		pattern(sv.pre && strcmp(pat, "{{raw}}") ? "{{version}}" : pat, &sv, &pv);
		rc = set_value(m, r, pv.buf, &v, err);
		buf_release(&pv);
		if (!rc)
			set_version(m, &v, flavor_latest(m, !sv.pre));
	} else if (!strcmp(t, "pep440") || !strcmp(t, "match")) {
		struct buf raw = BUF_INIT, pv = BUF_INIT;
		int have = tag_value(m, r, !strcmp(t, "pep440"), &raw, err);
		if (have < 0)
			rc = -1;
		if (have > 0 && !strcmp(t, "pep440")) {
			struct pep440 p;
			if (pep440_parse(raw.buf, &p) < 0) {
				act_logf(m->c, LOG_WARNING, "%s does not conform to PEP 440. More info: "
					 "https://www.python.org/dev/peps/pep-0440", raw.buf);
			} else {
				int pre = p.pre || p.post || p.dev;
				const char *pat = attr(r, "pattern");
				if (pre)
					buf_addstr(&pv, strcmp(pat, "{{raw}}") ? p.norm : raw.buf);
				else
					pep440_pattern(pat, raw.buf, &p, &pv);
				rc = set_value(m, r, pv.buf, &v, err);
				if (!rc)
					set_version(m, &v, flavor_latest(m, !pre));
			}
		} else if (have > 0) {
			int g = match_group(m, attr(r, "pattern"), attr(r, "group"), raw.buf, &pv, err);
			if (g < 0)
				rc = -1;
			else if (g > 0 && !(rc = set_value(m, r, pv.buf, &v, err)))
				set_version(m, &v, flavor_latest(m, 1));
		}
		buf_release(&raw);
		buf_release(&pv);
	} else if (!strcmp(t, "ref")) {
		const char *ev = attr(r, "event");
		const char *val = NULL;
		int auto_latest = 0;
		struct buf pr = BUF_INIT;
		if (!strcmp(ev, "branch") && starts(ref, "refs/heads/")) {
			val = ref + 11;
		} else if (!strcmp(ev, "tag") && starts(ref, "refs/tags/")) {
			val = ref + 10;
			auto_latest = 1;
		} else if (!strcmp(ev, "pr") && starts(ref, "refs/pull/")) {
			buf_addstr(&pr, ref + 10);
			if (pr.len > 6 && !strcmp(pr.buf + pr.len - 6, "/merge"))
				buf_setlen(&pr, pr.len - 6);
			val = pr.buf;
		}
		if (val) {
			rc = set_value(m, r, val, &v, err);
			if (!rc)
				set_version(m, &v, flavor_latest(m, auto_latest));
		}
		buf_release(&pr);
	} else if (!strcmp(t, "edge")) {
		const char *br = attr(r, "branch");
		if (starts(ref, "refs/heads/") &&
		    !strcmp(ref + 11, br && *br ? br : m->default_branch)) {
			rc = set_value(m, r, "edge", &v, err);
			if (!rc)
				set_version(m, &v, flavor_latest(m, 0));
		}
	} else if (!strcmp(t, "raw")) {
		struct buf val = BUF_INIT;
		rc = global_exp(m, attr(r, "value"), &val, err);
		if (!rc)
			rc = set_value(m, r, val.buf, &v, err);
		if (!rc)
			set_version(m, &v, flavor_latest(m, 0));
		buf_release(&val);
	} else if (!strcmp(t, "sha")) {
		if (*m->sha) {
			char s[48];
			snprintf(s, sizeof(s), "%.*s", strcmp(attr(r, "format"), "long") ? 7 : 40,
				 m->sha);
			rc = set_value(m, r, s, &v, err);
			if (!rc)
				set_version(m, &v, flavor_latest(m, 0));
		}
	} else if (!strcmp(t, "schedule")) {
		if (strstr(m->event, "schedule")) {
			struct buf pat = BUF_INIT;
			rc = global_exp(m, attr(r, "pattern"), &pat, err);
			if (!rc)
				rc = set_value(m, r, pat.buf, &v, err);
			if (!rc)
				set_version(m, &v, flavor_latest(m, 0));
			buf_release(&pat);
		}
	}
out:
	buf_release(&en);
	buf_release(&v);
	return rc;
}

/* one `type=...,k=v` line; default attributes as the action's Parse */
static int parse_rule(const char *s, struct rule *r, struct buf *err)
{
	memset(r, 0, sizeof(*r));
	r->attrs = (struct strvec)STRVEC_INIT;
	struct strvec f = STRVEC_INIT;
	struct buf w = BUF_INIT;
	int q = 0;
	for (const char *p = s;; p++) {
		if (*p == '"') {
			q = !q;
			continue;
		}
		if (!*p || (*p == ',' && !q)) {
			buf_rtrim(&w);
			const char *t = w.buf;
			while (*t == ' ')
				t++;
			strvec_push(&f, t);
			buf_reset(&w);
			if (!*p)
				break;
			continue;
		}
		buf_addch(&w, *p);
	}
	buf_release(&w);
	snprintf(r->type, sizeof(r->type), "raw");
	for (size_t i = 0; i < f.nr; i++) {
		const char *eq = strchr(f.v[i], '=');
		if (!eq) {
			strvec_pushf(&r->attrs, "value=%s", f.v[i]);
			continue;
		}
		char *k = xstrndup(f.v[i], (size_t)(eq - f.v[i]));
		for (char *c = k; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		while (*k && k[strlen(k) - 1] == ' ')
			k[strlen(k) - 1] = 0;
		const char *val = eq + 1;
		while (*val == ' ')
			val++;
		if (!strcmp(k, "type"))
			snprintf(r->type, sizeof(r->type), "%s", val);
		else
			strvec_pushf(&r->attrs, "%s=%s", k, val);
		free(k);
	}
	strvec_clear(&f);
	static const char *const types[] = { "schedule", "semver", "pep440", "match",
					     "edge",     "ref",    "raw",    "sha" };
	static const int prios[] = { 1000, 900, 900, 800, 700, 600, 200, 100 };
	int known = -1;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(r->type, types[i]))
			known = (int)i;
	if (known < 0) {
		buf_addf(err, "Unknown tag type attribute: %s", r->type);
		return -1;
	}
	if (!strcmp(r->type, "schedule") && !attr(r, "pattern"))
		strvec_push(&r->attrs, "pattern=nightly");
	if ((!strcmp(r->type, "semver") || !strcmp(r->type, "pep440") ||
	     !strcmp(r->type, "match")) && !attr(r, "pattern")) {
		buf_addf(err, "Missing pattern attribute for %s", s);
		return -1;
	}
	if (!strcmp(r->type, "ref")) {
		const char *ev = attr(r, "event");
		if (!ev) {
			buf_addf(err, "Missing event attribute for %s", s);
			return -1;
		}
		if (strcmp(ev, "branch") && strcmp(ev, "tag") && strcmp(ev, "pr")) {
			buf_addf(err, "Invalid event for %s", s);
			return -1;
		}
		if (!strcmp(ev, "pr") && !attr(r, "prefix"))
			strvec_push(&r->attrs, "prefix=pr-");
	}
	if (!strcmp(r->type, "match")) {
		const char *g = attr(r, "group");
		char *end = NULL;
		if (!g || !*g || (strtol(g, &end, 10), *end))
			strvec_push(&r->attrs, "group=0");
	}
	if (!strcmp(r->type, "raw") && !attr(r, "value")) {
		buf_addf(err, "Missing value attribute for %s", s);
		return -1;
	}
	if (!strcmp(r->type, "sha")) {
		if (!attr(r, "prefix"))
			strvec_push(&r->attrs, "prefix=sha-");
		if (!attr(r, "format"))
			strvec_push(&r->attrs, "format=short");
		if (strcmp(attr(r, "format"), "short") && strcmp(attr(r, "format"), "long")) {
			buf_addf(err, "Invalid format for %s", s);
			return -1;
		}
	}
	const char *pr = attr(r, "priority");
	r->prio = pr ? (int)strtol(pr, NULL, 10) : prios[known];
	return 0;
}

/* the eight OCI labels and the input's, sorted by key, later keys win */
static void make_labels(struct meta *m, const struct strvec *extra, struct strvec *out,
			struct buf *err)
{
	struct builtin_call *c = m->c;
	const char *repo = act_github(c, "repository");
	const char *name = act_event_str(c, "repository.name");
	if (!*name && strchr(repo, '/'))
		name = strchr(repo, '/') + 1;
	const char *url = act_event_str(c, "repository.html_url");
	struct buf u = BUF_INIT;
	if (!*url && *repo) {
		const char *srv = act_github(c, "server_url");
		buf_addf(&u, "%s/%s", *srv ? srv : "https://github.com", repo);
		url = u.buf;
	}
	char created[96];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(created, sizeof(created), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ts.tv_nsec / 1000000));
	struct strvec all = STRVEC_INIT;
	strvec_pushf(&all, "org.opencontainers.image.title=%s", name);
	strvec_pushf(&all, "org.opencontainers.image.description=%s",
		     act_event_str(c, "repository.description"));
	strvec_pushf(&all, "org.opencontainers.image.url=%s", url);
	strvec_pushf(&all, "org.opencontainers.image.source=%s", url);
	strvec_pushf(&all, "org.opencontainers.image.version=%s", m->main ? m->main : "");
	strvec_pushf(&all, "org.opencontainers.image.created=%s", created);
	strvec_pushf(&all, "org.opencontainers.image.revision=%s", m->sha);
	strvec_pushf(&all, "org.opencontainers.image.licenses=%s",
		     act_event_str(c, "repository.license.spdx_id"));
	for (size_t i = 0; i < extra->nr; i++) {
		struct buf b = BUF_INIT;
		if (global_exp(m, extra->v[i], &b, err) == 0 && strchr(b.buf, '='))
			strvec_push(&all, b.buf);
		buf_release(&b);
	}
	/* dedupe by key (the last wins), then sort by key */
	for (size_t i = 0; i < all.nr; i++) {
		size_t kl = (size_t)(strchr(all.v[i], '=') - all.v[i]);
		int later = 0;
		for (size_t j = i + 1; j < all.nr && !later; j++)
			later = !strncmp(all.v[j], all.v[i], kl + 1);
		if (!later)
			strvec_push(out, all.v[i]);
	}
	for (size_t i = 1; i < out->nr; i++)
		for (size_t j = i; j > 0; j--) {
			const char *a = out->v[j - 1], *b = out->v[j];
			size_t al = strcspn(a, "="), bl = strcspn(b, "=");
			int cmp = strncmp(a, b, al < bl ? al : bl);
			if (cmp < 0 || (cmp == 0 && al <= bl))
				break;
			char *t = out->v[j - 1];
			out->v[j - 1] = out->v[j];
			out->v[j] = t;
		}
	strvec_clear(&all);
	buf_release(&u);
}

/*
 * {{commit_date}}'s instant (the action's context.commitDate): the push
 * payload's head_commit.timestamp when it is this commit, else the
 * commit's committer time in the repository, else now. Only looked up
 * when an input uses it.
 */
static int64_t commit_time(const struct meta *m)
{
	struct builtin_call *c = m->c;
	const char *in[] = { "tags", "flavor", "labels", "annotations" };
	int used = 0;
	for (size_t i = 0; i < ARRAY_SIZE(in); i++)
		used |= strstr(act_input(c, in[i]), "commit_date") != NULL;
	if (!used)
		return m->now_ms;
	int64_t ms;
	const char *ts = act_event_str(c, "head_commit.timestamp");
	if (*ts && !strcmp(act_event_str(c, "head_commit.id"), m->sha) &&
	    act_meta_parse_iso(ts, &ms) == 0)
		return ms;
	struct repo *r = NULL;
	struct repo_commit rc = REPO_COMMIT_INIT;
	struct buf err = BUF_INIT;
	ms = m->now_ms;
	if (c->repo_dir && *m->sha && repo_open(c->repo_dir, &r, &err) == 0 &&
	    repo_commit_get(r, m->sha, &rc, &err) == 0)
		ms = rc.time * 1000;
	repo_commit_release(&rc);
	if (r)
		repo_close(r);
	buf_release(&err);
	return ms;
}

static void join(const struct strvec *v, const char *sep, struct buf *out)
{
	for (size_t i = 0; i < v->nr; i++)
		buf_addf(out, "%s%s", i ? sep : "", v->v[i]);
}

int act_docker_meta_start(struct builtin_call *c, struct buf *err)
{
	struct meta m = { .c = c, .latest = -1 };
	m.partial = (struct strvec)STRVEC_INIT;
	m.ref = act_github(c, "ref");
	m.sha = act_github(c, "sha");
	m.event = act_github(c, "event_name");
	m.default_branch = act_event_str(c, "repository.default_branch");
	m.flv_latest = "auto";
	m.flv_prefix = m.flv_suffix = "";
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	m.now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	m.commit_ms = commit_time(&m);
	struct strvec images = STRVEC_INIT, lines = STRVEC_INIT, flavor = STRVEC_INIT,
		      labels = STRVEC_INIT, tags = STRVEC_INIT, extra = STRVEC_INIT;
	struct rule *rules = NULL;
	size_t nrules = 0;
	int rc = KILN_EINVAL;

	/* images: one a line or comma separated; `name=x,enable=false` form too */
	act_input_lines(c, "images", &lines);
	for (size_t i = 0; i < lines.nr; i++) {
		struct rule ir;
		if (parse_rule(strchr(lines.v[i], '=') ? lines.v[i] : "", &ir, err) < 0 &&
		    strchr(lines.v[i], '=')) {
			buf_reset(err);
		}
		const char *nm = strchr(lines.v[i], '=') ? attr(&ir, "name") : NULL;
		const char *en = strchr(lines.v[i], '=') ? attr(&ir, "enable") : NULL;
		struct strvec parts = STRVEC_INIT;
		if (!nm) {
			const char *s = lines.v[i];
			while (*s) {
				size_t n = strcspn(s, ",");
				char *p = xstrndup(s, n);
				char *t = p;
				while (*t == ' ')
					t++;
				if (*t)
					strvec_push(&parts, t);
				free(p);
				s += n + (s[n] == ',');
			}
		} else if (!en || strcmp(en, "false")) {
			strvec_push(&parts, nm);
		}
		for (size_t k = 0; k < parts.nr; k++) {
			char *low = xstrdup(parts.v[k]);
			for (char *p = low; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			strvec_push_nodup(&images, low);
		}
		strvec_clear(&parts);
		strvec_clear(&ir.attrs);
	}
	strvec_clear(&lines);

	/* flavor */
	act_input_lines(c, "flavor", &flavor);
	for (size_t i = 0; i < flavor.nr; i++) {
		const char *f = flavor.v[i];
		if (starts(f, "latest="))
			m.flv_latest = f + 7;
		else if (starts(f, "prefix="))
			m.flv_prefix = f + 7; /* ",onlatest=" is not supported */
		else if (starts(f, "suffix="))
			m.flv_suffix = f + 7;
		else {
			buf_addf(err, "Unknown flavor entry: %s", f);
			goto out;
		}
	}
	if (strcmp(m.flv_latest, "auto") && strcmp(m.flv_latest, "true") &&
	    strcmp(m.flv_latest, "false")) {
		buf_addf(err, "Invalid latest flavor syntax: %s", m.flv_latest);
		goto out;
	}

	/* tag rules, sorted by priority (stable) */
	act_input_lines(c, "tags", &lines);
	if (!lines.nr) {
		strvec_push(&lines, "type=schedule");
		strvec_push(&lines, "type=ref,event=branch");
		strvec_push(&lines, "type=ref,event=tag");
		strvec_push(&lines, "type=ref,event=pr");
	}
	rules = xcalloc(lines.nr, sizeof(*rules));
	for (size_t i = 0; i < lines.nr; i++, nrules++)
		if (parse_rule(lines.v[i], &rules[i], err) < 0) {
			nrules++;
			goto out;
		}
	for (size_t i = 1; i < nrules; i++)
		for (size_t j = i; j > 0 && rules[j - 1].prio < rules[j].prio; j--) {
			struct rule t = rules[j - 1];
			rules[j - 1] = rules[j];
			rules[j] = t;
		}
	for (size_t i = 0; i < nrules; i++)
		if (proc_rule(&m, &rules[i], err) < 0)
			goto out;
	if (m.latest < 0)
		m.latest = 0;

	/* tags: each image with the version, the partials, latest */
	if (m.main) {
		size_t ni = images.nr ? images.nr : 1;
		for (size_t i = 0; i < ni; i++) {
			const char *img = images.nr ? images.v[i] : "";
			const char *colon = *img ? ":" : "";
			strvec_pushf(&tags, "%s%s%s", img, colon, m.main);
			for (size_t k = 0; k < m.partial.nr; k++)
				strvec_pushf(&tags, "%s%s%s", img, colon, m.partial.v[k]);
			if (m.latest)
				strvec_pushf(&tags, "%s%slatest", img, colon);
		}
	}
	act_input_lines(c, "labels", &extra);
	make_labels(&m, &extra, &labels, err);

	const char *st = act_input(c, "sep-tags"), *sl = act_input(c, "sep-labels");
	struct buf tb = BUF_INIT, lb = BUF_INIT, js = BUF_INIT;
	join(&tags, *st ? st : "\n", &tb);
	join(&labels, *sl ? sl : "\n", &lb);
	buf_addstr(&js, "{\"tags\":[");
	for (size_t i = 0; i < tags.nr; i++) {
		if (i)
			buf_addch(&js, ',');
		buf_add_json_str(&js, tags.v[i], strlen(tags.v[i]));
	}
	buf_addstr(&js, "],\"labels\":{");
	for (size_t i = 0; i < labels.nr; i++) {
		const char *eq = strchr(labels.v[i], '=');
		if (i)
			buf_addch(&js, ',');
		buf_add_json_str(&js, labels.v[i], (size_t)(eq - labels.v[i]));
		buf_addch(&js, ':');
		buf_add_json_str(&js, eq + 1, strlen(eq + 1));
	}
	buf_addstr(&js, "},\"annotations\":[");
	for (size_t i = 0; i < labels.nr; i++) {
		struct buf a = BUF_INIT;
		buf_addf(&a, "manifest:%s", labels.v[i]);
		if (i)
			buf_addch(&js, ',');
		buf_add_json_str(&js, a.buf, a.len);
		buf_release(&a);
	}
	buf_addstr(&js, "]}");
	struct ev *o = ev_object();
	ev_object_set(o, "version", ev_cstr(m.main ? m.main : ""));
	ev_object_set(o, "tags", ev_cstr(tb.buf));
	ev_object_set(o, "labels", ev_cstr(lb.buf));
	ev_object_set(o, "annotations", ev_cstr(lb.buf));
	ev_object_set(o, "json", ev_cstr(js.buf));
	buf_release(&tb);
	buf_release(&lb);
	buf_release(&js);
	act_logf(c, LOG_INFO, "version: %s", m.main ? m.main : "");
	for (size_t i = 0; i < tags.nr; i++)
		act_logf(c, LOG_INFO, "tag: %s", tags.v[i]);
	c->complete(c, RESULT_SUCCESS, o);
	rc = 0;
out:
	for (size_t i = 0; i < nrules; i++)
		strvec_clear(&rules[i].attrs);
	free(rules);
	free(m.main);
	strvec_clear(&m.partial);
	strvec_clear(&images);
	strvec_clear(&lines);
	strvec_clear(&flavor);
	strvec_clear(&labels);
	strvec_clear(&tags);
	strvec_clear(&extra);
	return rc;
}
