/*
 * kiln_deploy: the built-in action `uses: kiln/deploy` (deploy through the
 * running kiln deployd; the step fails when the deploy fails or rolls
 * back). Registered in engine/builtin.c.
 */
#ifndef KILN_ACTIONS_KILN_DEPLOY_H
#define KILN_ACTIONS_KILN_DEPLOY_H

#include "engine/builtin.h"

int kiln_deploy_start(struct builtin_call *c, struct buf *err);
void kiln_deploy_cancel(struct builtin_call *c);

#endif
