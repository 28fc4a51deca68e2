/*
 * gitlib: libgit2's process-wide initialisation and its lazily loaded TLS
 * trust store (see gitlib.h for why and how).
 */
#include "base/kiln.h"
#include "git/gitlib.h"

#include <git2.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
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

/*
 * libgit2's init also seeds its TLS random generator: mbedtls_entropy_init
 * runs HAVEGE's timing loop (havege_fill, ~2 % of a one-step run's CPU)
 * and mbedtls_ctr_drbg_seed draws from it. Both wrapped like the CA file:
 * recorded until armed, then done for real by tls_once, before any
 * connection can use the generator. The entropy context is not freed if
 * it was never initialised.
 */
void __real_mbedtls_entropy_init(mbedtls_entropy_context *ctx);
void __real_mbedtls_entropy_free(mbedtls_entropy_context *ctx);
int __real_mbedtls_ctr_drbg_seed(mbedtls_ctr_drbg_context *ctx,
				 int (*f_entropy)(void *, unsigned char *, size_t), void *p_entropy,
				 const unsigned char *custom, size_t len);
void __wrap_mbedtls_entropy_init(mbedtls_entropy_context *ctx);
void __wrap_mbedtls_entropy_free(mbedtls_entropy_context *ctx);
int __wrap_mbedtls_ctr_drbg_seed(mbedtls_ctr_drbg_context *ctx,
				 int (*f_entropy)(void *, unsigned char *, size_t), void *p_entropy,
				 const unsigned char *custom, size_t len);

static struct {
	mbedtls_entropy_context *entropy; /* initialised only when armed */
	mbedtls_ctr_drbg_context *drbg;
	int (*f_entropy)(void *, unsigned char *, size_t);
	void *p_entropy;
	const unsigned char *custom;
	size_t len;
} rng; /* written under libgit2's init (once), read by tls_once */

void __wrap_mbedtls_entropy_init(mbedtls_entropy_context *ctx)
{
	if (atomic_load(&tls_armed) || rng.entropy) {
		__real_mbedtls_entropy_init(ctx);
		return;
	}
	rng.entropy = ctx;
}

void __wrap_mbedtls_entropy_free(mbedtls_entropy_context *ctx)
{
	if (ctx == rng.entropy && !atomic_load(&tls_armed))
		return;
	__real_mbedtls_entropy_free(ctx);
}

int __wrap_mbedtls_ctr_drbg_seed(mbedtls_ctr_drbg_context *ctx,
				 int (*f_entropy)(void *, unsigned char *, size_t), void *p_entropy,
				 const unsigned char *custom, size_t len)
{
	if (atomic_load(&tls_armed) || rng.drbg)
		return __real_mbedtls_ctr_drbg_seed(ctx, f_entropy, p_entropy, custom, len);
	rng.drbg = ctx;
	rng.f_entropy = f_entropy;
	rng.p_entropy = p_entropy;
	rng.custom = custom;
	rng.len = len;
	return 0;
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
	if (rng.entropy)
		__real_mbedtls_entropy_init(rng.entropy);
	/* a failed seed leaves the generator unseeded: its use then fails,
	 * and so does the TLS handshake (closed, not open) */
	if (rng.drbg)
		(void)__real_mbedtls_ctr_drbg_seed(rng.drbg, rng.f_entropy, rng.p_entropy,
						   rng.custom, rng.len);
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
