/*
 * trigger-int: what trigger.c and trigger-inputs.c share and nobody else
 * uses.
 */
#ifndef KILN_TRIGGER_INT_H
#define KILN_TRIGGER_INT_H

#include "workflow/trigger.h"

/* the `on:` entry for `event`, or NULL */
const struct wf_trigger *trig__find(const struct workflow *wf, const char *event);
/* value of `key` in the trigger's configuration mapping, or NULL */
const struct ynode *trig__cfg(const struct wf_trigger *t, const char *key);
/* validate the workflow_dispatch input declarations (errors into d) */
void trig__check_inputs(const struct workflow *wf, const struct wf_trigger *t, struct diags *d);

#endif
