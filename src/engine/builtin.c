/*
 * builtin: the table of native actions (see builtin.h; the actions are in
 * src/actions). Entries match the `uses:` reference by owner/name prefix,
 * followed by '@' or the end; the longest prefix wins
 * (actions/cache/save before actions/cache).
 */
#include "base/kiln.h"
#include "actions/kiln_deploy.h"
#include "actions/kiln_gitops.h"
#include "engine/builtin.h"
#include "actions/actions.h"

#include <strings.h>

static const struct builtin_action builtins[] = {
	{ "actions/checkout", act_checkout_start, NULL },
	{ "actions/cache", act_cache_start, NULL },
	{ "actions/cache/restore", act_cache_restore_start, NULL },
	{ "actions/cache/save", act_cache_save_start, NULL },
	{ "actions/upload-artifact", act_upload_artifact_start, NULL },
	{ "actions/download-artifact", act_download_artifact_start, NULL },
	{ "dorny/paths-filter", act_paths_filter_start, NULL },
	{ "actions/setup-node", act_setup_node_start, NULL },
	{ "actions/setup-python", act_setup_python_start, NULL },
	{ "actions/setup-go", act_setup_go_start, NULL },
	{ "actions/setup-java", act_setup_java_start, NULL },
	{ "docker/setup-buildx-action", act_setup_buildx_start, NULL },
	{ "docker/setup-qemu-action", act_setup_qemu_start, NULL },
	{ "docker/login-action", act_docker_login_start, act_docker_login_cancel },
	{ "docker/metadata-action", act_docker_meta_start, NULL },
	{ "docker/build-push-action", act_build_push_start, act_build_push_cancel },
	{ "kiln/deploy", kiln_deploy_start, kiln_deploy_cancel },
	{ "kiln/gitops", kiln_gitops_start, NULL },
};

const struct builtin_action *builtin_find(const char *uses)
{
	const struct builtin_action *best = NULL;
	size_t best_n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(builtins); i++) {
		size_t n = strlen(builtins[i].prefix);
		/* GitHub owner and repository names are case-insensitive */
		if (!strncasecmp(uses, builtins[i].prefix, n) && (uses[n] == '@' || !uses[n]) &&
		    n > best_n)
			best = &builtins[i], best_n = n;
	}
	return best;
}
