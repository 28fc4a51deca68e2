/*
 * gitlib: libgit2's process-wide initialisation and its lazily loaded TLS
 * trust store (see gitlib.h for why and how).
 */
#include "base/kiln.h"
#include "git/gitlib.h"

#include <git2.h>
#include <mbedtls/x509_crt.h>
#include <pthread.h>
#include <stdatomic.h>

/*
 * Process-wide by nature (libgit2's own TLS configuration is): written
 * once under pthread_once / libgit2's init lock, read after.
 */
static atomic_int tls_armed;      /* parse for real from now on */
static char *tls_path;            /* the CA file libgit2's init asked for */
static atomic_size_t tls_count;   /* certificates the real parse loaded */

/*
 * libgit2's call (the link wraps it: -Wl,--wrap=mbedtls_x509_crt_parse_file,
 * see the Makefile): deferred (nothing parsed, success) until armed; then
 * the real mbedTLS function.
 */
int __real_mbedtls_x509_crt_parse_file(mbedtls_x509_crt *chain, const char *path);
int __wrap_mbedtls_x509_crt_parse_file(mbedtls_x509_crt *chain, const char *path);
int __wrap_mbedtls_x509_crt_parse_file(mbedtls_x509_crt *chain, const char *path)
{
	if (!atomic_load(&tls_armed)) {
		if (!tls_path && path)
			tls_path = xstrdup(path);
		return 0;
	}
	int r = __real_mbedtls_x509_crt_parse_file(chain, path);
	size_t n = 0;
	for (const mbedtls_x509_crt *c = chain; r >= 0 && c && c->raw.len; c = c->next)
		n++;
	atomic_store(&tls_count, n);
	return r;
}

static void init_once(void)
{
	git_libgit2_init();
}

void gitlib_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, init_once);
}

static void tls_once(void)
{
	atomic_store(&tls_armed, 1);
	/* a failed load is what libgit2's own init ignores too: the
	 * connection then fails its certificate check */
	if (tls_path)
		(void)git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, tls_path, NULL);
}

void gitlib_tls_ready(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	gitlib_init();
	pthread_once(&once, tls_once);
}

const char *gitlib_tls_deferred(void)
{
	return tls_path;
}

size_t gitlib_tls_loaded(void)
{
	return atomic_load(&tls_count);
}
