/*
 * dorny/paths-filter (v3) natively: which files changed, decided as the
 * original does for events without a token (git only), then the filters
 * of git/pathsfilter.
 *
 * Inputs: filters (YAML, or the path of a YAML file when the text has no
 * ':' and no newline), base, ref, list-files (none|csv|json|shell|escape),
 * predicate-quantifier (some|every), working-directory (where a filters
 * file is looked up); token and initial-fetch-depth are accepted and
 * ignored (everything is local).
 * Changed files: pull requests compare the merge base of the base and head
 * commits with the head; otherwise head = `ref` or github.ref, base =
 * `base` or the default branch; a base that is a commit, or the pushed
 * branch itself, compares with that commit (github.event.before), all-zero
 * meaning a first push (against the default branch, or every file added);
 * any other base compares from the merge base.
 * Outputs: <filter>, <filter>_count, <filter>_files (list-files), changes.
 */
#include "base/kiln.h"
#include "base/fs.h"

#include <errno.h>
#include "actions/actions.h"
#include "git/diff.h"
#include "git/pathsfilter.h"
#include "git/repo.h"

#include <strings.h>

static const char *short_name(const char *ref)
{
	static const char *const pre[] = { "refs/heads/", "refs/tags/", "refs/remotes/origin/" };
	for (size_t i = 0; i < ARRAY_SIZE(pre); i++)
		if (str_starts_with(ref, pre[i]))
			return ref + strlen(pre[i]);
	return ref;
}

static int is_sha(const char *s)
{
	size_t n = strlen(s);
	return n == 40 && strspn(s, "0123456789abcdef") == n;
}

/* diff from the merge base of base and head */
static int since_merge_base(struct builtin_call *c, struct repo *r, const char *base,
			    const char *head, struct changes *ch, struct buf *err)
{
	char mb[REPO_OID_HEX];
	if (repo_merge_base(r, base, head, mb, err) < 0)
		return KILN_ENOENT;
	act_logf(c, LOG_INFO, "Changes will be detected between %s and %s (merge base %s)", base,
		 head, mb);
	return repo_diff(r, mb, head, ch, err);
}

static int last_commit(struct builtin_call *c, struct repo *r, const char *head,
		       struct changes *ch, struct buf *err)
{
	struct repo_commit cm = REPO_COMMIT_INIT;
	int rc = repo_commit_get(r, head, &cm, err);
	if (!rc)
		rc = repo_diff(r, cm.parents.nr ? cm.parents.v[0] : NULL, cm.sha, ch, err);
	repo_commit_release(&cm);
	(void)c;
	return rc;
}

static int changed_files(struct builtin_call *c, struct repo *r, struct changes *ch,
			 struct buf *err)
{
	const char *event = act_github(c, "event_name");
	const char *sha = act_github(c, "sha");
	if (!strncmp(event, "pull_request", 12)) {
		const char *b = act_event_str(c, "pull_request.base.sha");
		const char *h = act_event_str(c, "pull_request.head.sha");
		if (*act_input(c, "base"))
			c->log(c, LOG_WARNING, "'base' input parameter is ignored when action is "
					       "triggered by pull request event");
		return since_merge_base(c, r, *b ? b : act_event_str(c, "pull_request.base.ref"),
					*h ? h : *sha ? sha : "HEAD", ch, err);
	}
	const char *def = act_event_str(c, "repository.default_branch");
	const char *ref_in = act_input(c, "ref");
	const char *head = short_name(*ref_in ? ref_in : act_github(c, "ref"));
	const char *base = short_name(*act_input(c, "base") ? act_input(c, "base") : def);
	/* the commit to diff to: the event's when head is the event's ref */
	const char *head_rev = !*ref_in && *sha ? sha : head;
	if (!*head)
		head = head_rev = "HEAD";
	if (!*base) {
		buf_addstr(err, "This action requires 'base' input to be configured or "
				"'repository.default_branch' to be set in the event payload");
		return KILN_EINVAL;
	}
	if (is_sha(base) || !strcmp(base, head)) {
		const char *before = !strcmp(event, "push") ? act_event_str(c, "before") : "";
		const char *base_sha = is_sha(base) ? base : before;
		if (!*base_sha) {
			c->log(c, LOG_WARNING, "'before' field is missing in event payload - changes "
					       "will be detected from last commit");
			return last_commit(c, r, head_rev, ch, err);
		}
		if (repo_oid_is_zero(base_sha)) {
			if (*def && strcmp(base, def)) {
				act_logf(c, LOG_INFO, "First push of a branch detected - changes will be "
						      "detected against the default branch %s", def);
				return since_merge_base(c, r, def, head_rev, ch, err);
			}
			c->log(c, LOG_INFO, "Initial push detected - all files will be listed as added");
			return repo_diff(r, NULL, head_rev, ch, err);
		}
		act_logf(c, LOG_INFO, "Changes will be detected between %s and %s", base_sha, head);
		return repo_diff(r, base_sha, head_rev, ch, err);
	}
	return since_merge_base(c, r, base, head_rev, ch, err);
}

/* the filters YAML: the input itself, or the file it names */
static int filters_yaml(struct builtin_call *c, struct buf *out, struct buf *err)
{
	const char *f = act_input(c, "filters");
	if (!*f) {
		buf_addstr(err, "Input required and not supplied: filters");
		return KILN_EINVAL;
	}
	if (strchr(f, '\n') || strchr(f, ':')) {
		buf_addstr(out, f);
		return 0;
	}
	struct buf wd = BUF_INIT, p = BUF_INIT;
	int r = act_path(c->workspace, act_input(c, "working-directory"), 0, &wd, err);
	if (!r)
		r = act_path(wd.buf, f, 0, &p, err);
	struct buf why = BUF_INIT;
	if (!r && fs_read_input(p.buf, FS_INPUT_MAX, out, &why) == -ENOENT) {
		buf_addf(err, "Configuration file '%s' not found", f);
		r = KILN_ENOENT;
	} else if (!r && why.len) {
		buf_addf(err, "cannot read configuration file '%s': %s", f, why.buf);
		r = KILN_EINVAL;
	}
	buf_release(&why);
	buf_release(&wd);
	buf_release(&p);
	return r;
}

int act_paths_filter_start(struct builtin_call *c, struct buf *err)
{
	const char *list = *act_input(c, "list-files") ? act_input(c, "list-files") : "none";
	const char *q = act_input(c, "predicate-quantifier");
	if (*q && strcmp(q, "some") && strcmp(q, "every")) {
		buf_addf(err, "Input parameter 'predicate-quantifier' is set to invalid value '%s'. "
			      "Valid values: some, every", q);
		return KILN_EINVAL;
	}
	struct buf yaml = BUF_INIT;
	struct paths_filter pf = PATHS_FILTER_INIT;
	struct repo *r = NULL;
	struct changes ch = CHANGES_INIT;
	struct pf_files files = PF_FILES_INIT;
	struct strvec out = STRVEC_INIT;
	int rc = filters_yaml(c, &yaml, err);
	if (!rc)
		rc = pf_parse(&pf, yaml.buf, yaml.len, !strcmp(q, "every"), err);
	if (!rc)
		rc = repo_open(c->repo_dir, &r, err);
	if (!rc)
		rc = changed_files(c, r, &ch, err);
	if (!rc) {
		pf_files_from_changes(&ch, &files);
		act_logf(c, LOG_INFO, "Detected %zu changed files", files.nr);
		rc = pf_outputs(&pf, &files, list, &out, err);
	}
	if (!rc) {
		for (size_t i = 0; i < pf.nr; i++) {
			size_t n = 0;
			for (size_t j = 0; j < files.nr; j++)
				n += pf_filter_matches(&pf, i, &files.v[j]) != 0;
			act_logf(c, LOG_INFO, "Filter %s = %s (%zu files)", pf.v[i].name,
				 n ? "true" : "false", n);
		}
		c->complete(c, RESULT_SUCCESS, act_outputs_from(&out));
	}
	strvec_clear(&out);
	pf_files_release(&files);
	changes_release(&ch);
	if (r)
		repo_close(r);
	pf_release(&pf);
	buf_release(&yaml);
	return rc < 0 ? rc : 0;
}
