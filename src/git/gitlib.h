/*
 * gitlib: libgit2's process-wide initialisation, with its TLS trust store
 * loaded when a connection first needs it instead of at git_libgit2_init.
 *
 * libgit2 (Debian's 1.5, built on mbedTLS) parses the whole CA bundle
 * (/etc/ssl/certs/ca-certificates.crt, ~140 certificates in base64) inside
 * git_libgit2_init: ~2.5 ms of CPU, a fifth of a one-step `kiln run`, which
 * only reads a local repository. The link wraps libgit2's call to
 * mbedtls_x509_crt_parse_file (-Wl,--wrap, see the Makefile): until
 * gitlib_tls_ready() kiln's wrapper records the
 * path and parses nothing; gitlib_tls_ready() then hands the recorded file
 * to libgit2 (GIT_OPT_SET_SSL_CERT_LOCATIONS), which parses it through the
 * real function. A connection made without gitlib_tls_ready() has an empty
 * trust store and fails certificate verification (closed, not open).
 * The TLS random generator's seeding (mbedTLS entropy init: HAVEGE's
 * timing loop) is deferred the same way: a TLS connection made without
 * gitlib_tls_ready() fails its handshake.
 */
#ifndef KILN_GIT_GITLIB_H
#define KILN_GIT_GITLIB_H

#include <stddef.h>

/* git_libgit2_init once for the life of the process (thread-safe) */
void gitlib_init(void);

/* load the deferred trust store into libgit2 (once; thread-safe); every
 * caller that creates a remote calls it first */
void gitlib_tls_ready(void);

/*
 * For `kiln debug git-tls`: the CA file whose parse was deferred (NULL:
 * none), and the number of certificates the real parse loaded (0 before
 * gitlib_tls_ready, or when it failed).
 */
const char *gitlib_tls_deferred(void);
size_t gitlib_tls_loaded(void);

#endif
