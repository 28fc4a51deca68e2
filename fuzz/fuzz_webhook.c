/*
 * fuzz_webhook: libFuzzer target for webhook deliveries (src/server/hook).
 * The first byte picks the forge and the event header, the rest is the
 * body; every delivery is parsed, its normalized payload re-encoded, and
 * its signature checked with a fixed secret (and the right signature must
 * verify).
 */
#include "base/kiln.h"
#include "server/hook.h"

static const struct {
	enum forge forge;
	const char *event;
} kinds[] = {
	{ FORGE_GITHUB, "push" }, { FORGE_GITHUB, "pull_request" }, { FORGE_GITHUB, "ping" },
	{ FORGE_GITHUB, "issues" }, { FORGE_GITEA, "push" }, { FORGE_GITEA, "pull_request" },
	{ FORGE_GITLAB, "Push Hook" }, { FORGE_GITLAB, "Tag Push Hook" },
	{ FORGE_GITLAB, "Merge Request Hook" }, { FORGE_GITLAB, "Note Hook" },
};

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (!size)
		return 0;
	size_t k = data[0] % ARRAY_SIZE(kinds);
	struct hook_in in = { .forge = kinds[k].forge, .event = kinds[k].event,
			      .body = (const char *)data + 1, .len = size - 1 };
	struct hook_event ev;
	struct buf err = BUF_INIT, sig = BUF_INIT;
	if (!hook_parse(&in, &ev, &err)) {
		if (ev.payload) {
			char *s = json_dumps(ev.payload, JSON_COMPACT);
			free(s);
		}
		hook_event_release(&ev);
	}
	in.signature = "sha256=00";
	if (hook_verify(&in, "secret", 6))
		abort();
	hook_sign(in.forge, "secret", in.body, in.len, &sig);
	in.signature = sig.buf;
	if (!hook_verify(&in, "secret", 6))
		abort();
	buf_release(&sig);
	buf_release(&err);
	return 0;
}
