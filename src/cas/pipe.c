/*
 * pipe: a bounded queue of 1 MiB chunks between two threads of one cache
 * save or restore, so that building the tar stream and compressing it (or
 * decompressing and writing files) run side by side, as `tar | zstd` and
 * `zstd -d | tar -x` do in two processes.
 */
#include "base/kiln.h"
#include "cas/cas-int.h"

void cas__pipe_init(struct cas_pipe *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (int i = 0; i < CAS_PIPE_SLOTS; i++)
		p->buf[i] = xmalloc(CAS_PIPE_CHUNK);
}

void cas__pipe_free(struct cas_pipe *p)
{
	for (int i = 0; i < CAS_PIPE_SLOTS; i++)
		free(p->buf[i]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
}

char *cas__pipe_begin_put(struct cas_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	while (!p->aborted && p->put - p->got >= CAS_PIPE_SLOTS)
		pthread_cond_wait(&p->cv, &p->mu);
	char *b = p->aborted ? NULL : p->buf[p->put % CAS_PIPE_SLOTS];
	pthread_mutex_unlock(&p->mu);
	return b;
}

void cas__pipe_end_put(struct cas_pipe *p, size_t len)
{
	pthread_mutex_lock(&p->mu);
	p->len[p->put % CAS_PIPE_SLOTS] = len;
	p->put++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void cas__pipe_close(struct cas_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->closed = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void cas__pipe_abort(struct cas_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->aborted = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

const char *cas__pipe_get(struct cas_pipe *p, size_t *len)
{
	pthread_mutex_lock(&p->mu);
	if (p->holding) { /* the chunk returned last time is free again */
		p->holding = 0;
		p->got++;
		pthread_cond_broadcast(&p->cv);
	}
	while (!p->aborted && !p->closed && p->got == p->put)
		pthread_cond_wait(&p->cv, &p->mu);
	const char *b = NULL;
	*len = 0;
	if (!p->aborted && p->got < p->put) {
		b = p->buf[p->got % CAS_PIPE_SLOTS];
		*len = p->len[p->got % CAS_PIPE_SLOTS];
		p->holding = 1;
	}
	pthread_mutex_unlock(&p->mu);
	return b;
}
