/*
 * wfcmd: parsing of GitHub Actions workflow commands printed by steps,
 * `::name key=value,key=value::message`, with GitHub's escaping
 * (data: %25 %0D %0A; property values also %3A %2C). Parsing only: which
 * names are commands, and what they do, is the executor's business
 * (engine/exec_cmds.c). Mirrors actions/runner ActionCommand.TryParseV2.
 */
#ifndef KILN_WFCMD_H
#define KILN_WFCMD_H

#include <stddef.h>

#include "base/buf.h"

struct wfcmd_prop {
	char *key;   /* as written (lookups ignore case) */
	char *value; /* unescaped */
};

struct wfcmd {
	char *name;               /* command name as written, e.g. "error" */
	struct wfcmd_prop *props; /* in written order */
	size_t nprops, alloc;
	char *data;               /* unescaped message (may hold \n) */
	size_t data_len;
};

#define WFCMD_INIT { NULL, NULL, 0, 0, NULL, 0 }

/*
 * Parse one output line. Returns 1 and fills `out` when the line has the
 * command form (leading whitespace allowed, `::` then a name, then `::`),
 * 0 when it is ordinary output (`out` untouched). Release with
 * wfcmd_release() after a 1.
 */
int wfcmd_parse(const char *line, size_t len, struct wfcmd *out);
void wfcmd_release(struct wfcmd *c);
/* value of a property (case-insensitive key), or NULL */
const char *wfcmd_prop(const struct wfcmd *c, const char *key);

/* GitHub's escaping, appended to out: for messages (data) and for
 * property values */
void wfcmd_unescape_data(const char *s, size_t len, struct buf *out);
void wfcmd_unescape_prop(const char *s, size_t len, struct buf *out);
void wfcmd_escape_data(const char *s, size_t len, struct buf *out);
void wfcmd_escape_prop(const char *s, size_t len, struct buf *out);

#endif
