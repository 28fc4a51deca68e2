/*
 * gitbump: change one value of one YAML file of a git repository and push
 * it, as CI does in seed 003 (`yq -i '.image.tag = ...'; git commit; git
 * push`): clone the branch, edit the scalar in place (yaml/yedit: comments
 * and key order kept), commit, push; a push refused as non-fast-forward
 * (someone pushed meanwhile) is retried on the new head. Blocking (git
 * subprocesses): callers run it on the libuv thread pool.
 */
#ifndef KILN_DEPLOY_GITBUMP_H
#define KILN_DEPLOY_GITBUMP_H

#include "base/kiln.h"

struct gitbump {
	const char *url;          /* the repository (path, file://, http(s)://) */
	const char *branch;       /* "main" */
	const char *file;         /* the file in it; NULL: found from dir + app */
	const char *dir, *app;    /* <dir>/<app>.yml|.yaml or <dir>/<app>/values.yaml */
	const char *key;          /* yq path (".image.tag"); NULL: version, else image.tag */
	const char *value;
	const char *message;      /* commit message; NULL: "<app>: <key> <value>" */
	const char *author;       /* "Name <email>"; NULL: kiln <kiln@localhost> */
	const char *workdir;      /* scratch directory to clone into (must not exist) */
	int tries;                /* push attempts (default 5) */
};

/*
 * 0 and the new commit in sha (41 bytes), 1 when the value was already
 * set (nothing pushed; sha is the head), -1 with err. Every git command
 * and its output are appended to log.
 */
int gitbump_run(const struct gitbump *b, char sha[41], struct buf *log, struct buf *err);

#endif
