/*
 * isolate: the bubblewrap command line for a sandboxed step (isolate.h).
 */
#include "base/kiln.h"
#include "engine/exec.h"
#include "engine/isolate.h"

#include <sys/stat.h>

int isolate_available(void)
{
	char *p = exec__which("bwrap", getenv("PATH"));
	free(p);
	return p != NULL;
}

static int is_dir(const char *p)
{
	struct stat st;
	return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

void isolate_wrap(const struct isolate_cfg *cfg, struct strvec *argv)
{
	struct strvec a = STRVEC_INIT;
	char *bwrap = exec__which("bwrap", getenv("PATH"));
	strvec_push(&a, bwrap ? bwrap : "bwrap");
	free(bwrap);
	/* order matters: later mounts go on top of earlier ones */
	static const char *const base[] = {
		"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
		"--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/dev/shm",
		"--unshare-pid", "--die-with-parent",
	};
	for (size_t i = 0; i < ARRAY_SIZE(base); i++)
		strvec_push(&a, base[i]);
	if (is_dir(cfg->run_dir)) {
		strvec_push(&a, "--ro-bind");
		strvec_push(&a, cfg->run_dir);
		strvec_push(&a, cfg->run_dir);
	}
	if (is_dir(cfg->tool_dir)) {
		strvec_push(&a, "--bind");
		strvec_push(&a, cfg->tool_dir);
		strvec_push(&a, cfg->tool_dir);
	}
	strvec_push(&a, "--bind");
	strvec_push(&a, cfg->job_dir);
	strvec_push(&a, cfg->job_dir);
	if (cfg->no_network)
		strvec_push(&a, "--unshare-net");
	strvec_push(&a, "--");
	for (size_t i = 0; i < argv->nr; i++)
		strvec_push(&a, argv->v[i]);
	strvec_clear(argv);
	*argv = a;
}
