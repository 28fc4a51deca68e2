/*
 * webhook: one JSON POST over libcurl, loaded with dlopen on first use.
 * libcurl pulls ~25 shared libraries (TLS, Kerberos, LDAP, ...) that cost
 * about 5 ms of dynamic linking at every kiln start; only the deploy
 * controller's notifications need it, so only they pay for it.
 */
#ifndef KILN_WEBHOOK_H
#define KILN_WEBHOOK_H

/* load libcurl and initialise it (call once, from the loop thread, before
 * any webhook_post); 0, or -1 with a message in err when unavailable */
int webhook_init(char *err, unsigned long errlen);
/* POST body (JSON) to url; 0 on a 2xx answer, -1 otherwise. Thread-safe
 * after webhook_init succeeded. */
int webhook_post(const char *url, const char *body);

#endif
