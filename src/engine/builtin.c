/*
 * builtin: the table of native actions (see builtin.h). Entries match the
 * `uses:` reference by owner/name prefix, followed by '@' or the end.
 */
#include "base/kiln.h"
#include "actions/kiln_deploy.h"
#include "engine/builtin.h"

/*
 * actions/checkout: kiln already gives every job a fresh checkout of HEAD
 * in GITHUB_WORKSPACE, so the common `uses: actions/checkout@v4` only
 * notes that. Inputs that ask for something else (another repository, a
 * ref, a path) are not supported yet and fail clearly.
 */
static int checkout_start(struct builtin_call *c, struct buf *err)
{
	static const char *const unsupported[] = { "repository", "ref", "path" };
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++) {
		const struct ev *v = c->with ? ev_object_get(c->with, unsupported[i]) : NULL;
		size_t len = 0;
		if (v && ev_kind(v) == EV_STRING && ev_get_str(v, &len) && len) {
			buf_addf(err, "actions/checkout: input '%s' is not supported yet "
				      "(kiln checks out HEAD of the local repository into the workspace)",
				 unsupported[i]);
			return KILN_EINVAL;
		}
	}
	c->log(c, LOG_INFO, "the workspace already holds HEAD of the local repository");
	c->complete(c, RESULT_SUCCESS, NULL);
	return 0;
}

static const struct builtin_action builtins[] = {
	{ "actions/checkout", checkout_start, NULL },
	{ "kiln/deploy", kiln_deploy_start, kiln_deploy_cancel },
};

const struct builtin_action *builtin_find(const char *uses)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtins); i++) {
		size_t n = strlen(builtins[i].prefix);
		if (!strncmp(uses, builtins[i].prefix, n) && (uses[n] == '@' || !uses[n]))
			return &builtins[i];
	}
	return NULL;
}
