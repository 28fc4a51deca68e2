/*
 * dispatch: a workflow_dispatch request checked before it is accepted, as
 * GitHub does: the workflow file at the commit of the ref, its
 * `workflow_dispatch` trigger, and the inputs against the typed
 * declarations (unknown input, missing required one, wrong type, choice
 * not in the options) — the same checks `kiln run --input` makes
 * (workflow/trigger.h), so a dispatch the API accepted is one kiln run
 * will start.
 */
#ifndef KILN_SERVER_DISPATCH_H
#define KILN_SERVER_DISPATCH_H

#include <jansson.h>

#include "base/buf.h"

/*
 * Check a dispatch of `file` (a name in .github/workflows) at commit sha
 * of the bare mirror, with `inputs` (a JSON object of strings, numbers and
 * booleans, or NULL). Returns 0; KILN_ENOENT when there is no such
 * workflow file at that commit; KILN_EINVAL with the reasons in msg (each
 * naming its input; "; " between them) and *code set to "workflow_error"
 * (the workflow cannot be loaded), "no_dispatch_trigger" or
 * "invalid_inputs".
 */
int dispatch_check(const char *mirror, const char *sha, const char *file, const json_t *inputs,
		   const char **code, struct buf *msg);
/* an input value as github.event.inputs has it (strings; true/false;
 * numbers as written by %g) into out */
void dispatch_input_text(const json_t *v, struct buf *out);

#endif
