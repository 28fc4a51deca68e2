/*
 * docker/metadata-action, natively: Docker tags and OCI labels from the
 * event, following the action's own rules (its src/tag.ts and src/meta.ts):
 *
 * - `tags`: one rule a line, `type=...,attr=value,...`; by default
 *   schedule, ref/branch, ref/tag, ref/pr. Rules are sorted by priority
 *   (schedule 1000, semver 900, edge 700, ref 600, raw 200, sha 100); the
 *   first value is the version, the others its partial tags; `enable=`
 *   (`true`, `false`, `{{is_default_branch}}`), `prefix=`, `suffix=`,
 *   `priority=`. semver: `pattern=` with {{version}} {{major}} {{minor}}
 *   {{patch}} {{raw}} on a tag (or `value=`); a prerelease gives
 *   {{version}} only and no `latest`. ref: event=branch|tag|pr (pr-N).
 *   sha: `sha-` + 7 characters (format=long: 40). raw: `value=`. edge:
 *   `edge` on the default branch (or `branch=`).
 * - `flavor`: latest=auto|true|false (auto: only a semver or ref/tag
 *   rule that came first gives `latest`), prefix=, suffix=.
 * - `labels`: the eight org.opencontainers.image.* labels, then the
 *   input's, sorted by key.
 * Outputs: version, tags, labels (`sep-tags`/`sep-labels`, default a
 * newline), json ({tags, labels, annotations}). pep440, match and the
 * {{date}} templates are not supported (the step fails saying so).
 */
#include "base/kiln.h"
#include "actions/actions.h"

#include <ctype.h>
#include <time.h>

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
};

static int starts(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* {{branch}} {{tag}} {{sha}} {{base_ref}} {{is_default_branch}} */
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
		if (!strcmp(t, "branch")) {
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
			const char *pat = attr(r, "pattern");
			if (strstr(pat, "{{")) {
				buf_addf(err, "type=schedule patterns with templates are not "
					      "supported by kiln's metadata-action");
				rc = -1;
			} else {
				rc = set_value(m, r, pat, &v, err);
				if (!rc)
					set_version(m, &v, flavor_latest(m, 0));
			}
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
	static const char *const types[] = { "schedule", "semver", "edge", "ref", "raw", "sha" };
	static const int prios[] = { 1000, 900, 700, 600, 200, 100 };
	int known = -1;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(r->type, types[i]))
			known = (int)i;
	if (known < 0) {
		buf_addf(err, !strcmp(r->type, "pep440") || !strcmp(r->type, "match")
				      ? "tag type '%s' is not supported by kiln's metadata-action"
				      : "Unknown tag type attribute: %s",
			 r->type);
		return -1;
	}
	if (!strcmp(r->type, "schedule") && !attr(r, "pattern"))
		strvec_push(&r->attrs, "pattern=nightly");
	if (!strcmp(r->type, "semver") && !attr(r, "pattern")) {
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
