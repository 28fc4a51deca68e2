/*
 * kiln_gitops: the built-in action `uses: kiln/gitops` -- bump a release
 * in a config repository (seed 003's CI step). Registered in
 * engine/builtin.c.
 */
#ifndef KILN_ACTIONS_KILN_GITOPS_H
#define KILN_ACTIONS_KILN_GITOPS_H

#include "engine/builtin.h"

int kiln_gitops_start(struct builtin_call *c, struct buf *err);

#endif
