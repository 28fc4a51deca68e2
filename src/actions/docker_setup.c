/*
 * docker/setup-buildx-action and docker/setup-qemu-action: kiln builds
 * and runs images with podman, which needs no builder instance, so these
 * succeed at once and say what they did not do (a note), with the outputs
 * later steps read. (docker/login-action: docker_login.c.)
 */
#include "base/kiln.h"
#include "actions/actions.h"

#include <sys/utsname.h>

/* "amd64" / "arm64" ... as Docker names this machine's architecture */
static const char *docker_arch(void)
{
	struct utsname u;
	if (uname(&u) != 0)
		return "amd64";
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	return "amd64";
}

static void note(struct builtin_call *c, const char *text)
{
	c->log(c, LOG_NOTICE, text);
}

int act_setup_buildx_start(struct builtin_call *c, struct buf *err)
{
	(void)err;
	note(c, "kiln builds images with podman: no buildx builder is needed or created");
	struct ev *o = ev_object();
	char platform[32];
	snprintf(platform, sizeof(platform), "linux/%s", docker_arch());
	ev_object_set(o, "name", ev_cstr("kiln-podman"));
	ev_object_set(o, "driver", ev_cstr("podman"));
	ev_object_set(o, "platforms", ev_cstr(platform));
	ev_object_set(o, "status", ev_cstr("running"));
	c->complete(c, RESULT_SUCCESS, o);
	return 0;
}

int act_setup_qemu_start(struct builtin_call *c, struct buf *err)
{
	(void)err;
	note(c, "kiln does not set up QEMU emulation: images are built for this machine's "
		"platform");
	char platform[32];
	snprintf(platform, sizeof(platform), "linux/%s", docker_arch());
	struct ev *o = ev_object();
	ev_object_set(o, "platforms", ev_cstr(platform));
	c->complete(c, RESULT_SUCCESS, o);
	return 0;
}
