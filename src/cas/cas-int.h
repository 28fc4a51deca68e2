/* cas-int: helpers shared inside src/cas. */
#ifndef KILN_CAS_INT_H
#define KILN_CAS_INT_H

#include "base/buf.h"
#include "base/strvec.h"

/* the on-disk path of an archive member name (relative names under cwd) */
void cas__disk_path(const char *cwd, const char *name, struct buf *out);
/* expand a path list to the sorted, unique archive names it covers */
int cas__expand(const struct strvec *paths, const char *cwd, struct strvec *out, struct buf *err);

/*
 * A bounded queue of chunks from one producer thread to one consumer
 * (pipe.c). The producer fills the buffer begin_put returns (NULL once
 * aborted) with up to CAS_PIPE_CHUNK bytes and hands it over with
 * end_put, then close at its end. The consumer's get returns the next
 * chunk (valid until its next get), or NULL at the end or once aborted.
 * Either side may abort (after an error) to wake the other.
 */
#include <pthread.h>

#define CAS_PIPE_SLOTS 4
#define CAS_PIPE_CHUNK (1 << 20)

struct cas_pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *buf[CAS_PIPE_SLOTS];
	size_t len[CAS_PIPE_SLOTS];
	unsigned long put, got; /* chunks handed over, chunks done with */
	int holding;            /* the consumer holds chunk `got` */
	int closed, aborted;
};

void cas__pipe_init(struct cas_pipe *p);
void cas__pipe_free(struct cas_pipe *p);
char *cas__pipe_begin_put(struct cas_pipe *p);
void cas__pipe_end_put(struct cas_pipe *p, size_t len);
void cas__pipe_close(struct cas_pipe *p);
void cas__pipe_abort(struct cas_pipe *p);
const char *cas__pipe_get(struct cas_pipe *p, size_t *len);

#endif
