/*
 * nodemount: the host's node inside a job container, as GitHub mounts
 * its own node at /__e/node20/bin/node. The binary is bind-mounted
 * read-only; a dynamically linked node also gets its ELF interpreter and
 * every shared library it needs (DT_NEEDED, followed recursively, found
 * through DT_RUNPATH/DT_RPATH and the system's library directories)
 * mounted under /__e/node20/lib and runs through that interpreter with
 * --library-path, so it works in any image (glibc, musl or none) without
 * touching the image's own libraries.
 */
#ifndef KILN_NODEMOUNT_H
#define KILN_NODEMOUNT_H

#include "base/buf.h"
#include "base/strvec.h"

#define NODEMOUNT_DIR "/__e/node20"

struct nodemount {
	struct strvec volumes; /* "HOST:CONTAINER:ro" for `podman run -v` */
	struct strvec argv;    /* how to run node inside: [interp --library-path dir] node */
};

#define NODEMOUNT_INIT { STRVEC_INIT, STRVEC_INIT }

/*
 * Plan the mounts for the node found in `path` (a PATH value). Returns 0
 * and nm filled, 1 when node is not installed (nm empty), -1 with err
 * when its libraries cannot be found.
 */
int nodemount_plan(const char *path, struct nodemount *nm, struct buf *err);
void nodemount_release(struct nodemount *nm);

#endif
