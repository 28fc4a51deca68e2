/* cas-int: helpers shared inside src/cas. */
#ifndef KILN_CAS_INT_H
#define KILN_CAS_INT_H

#include "base/buf.h"
#include "base/strvec.h"

/* the on-disk path of an archive member name (relative names under cwd) */
void cas__disk_path(const char *cwd, const char *name, struct buf *out);
/* expand a path list to the sorted, unique archive names it covers */
int cas__expand(const struct strvec *paths, const char *cwd, struct strvec *out, struct buf *err);

#endif
