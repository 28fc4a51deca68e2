/*
 * session: the browser's side of authentication, built on server/auth.c.
 * Signing in (auth_login) makes a 12 h API token named "login"; the
 * session cookie carries that token (HttpOnly, SameSite=Strict, Secure
 * behind TLS), so a session is authenticated, expired and revoked exactly
 * like a token and there is no second session store. Signing out revokes
 * it.
 *
 * CSRF: every form carries a token derived from the session token with a
 * keyed BLAKE2b (libsodium crypto_generichash, key = the session token):
 * only someone who can read the HttpOnly cookie can compute it. Before
 * sign-in the login form is protected the same way by a random
 * pre-session cookie (double submit).
 */
#ifndef KILN_UI_SESSION_H
#define KILN_UI_SESSION_H

#include <stddef.h>

#include "base/buf.h"

#define UI_SESSION_COOKIE "kiln_session"
#define UI_PRELOGIN_COOKIE "kiln_prelogin"
#define UI_CSRF_LEN 64 /* hex characters */

/*
 * The value of cookie `name` in a Cookie header ("a=1; b=2") into out (at
 * most n - 1 bytes); 1 when found (and it fit), 0 when not.
 */
int ui_cookie_get(const char *header, const char *name, char *out, size_t n);
/* the CSRF token of a session (or pre-session) secret: UI_CSRF_LEN hex + NUL */
void ui_csrf_token(const char *secret, char out[UI_CSRF_LEN + 1]);
/* 1 when given is the CSRF token of secret (constant time), else 0 */
int ui_csrf_check(const char *secret, const char *given);
/* 32 random bytes as 64 hex characters + NUL (the pre-session secret) */
void ui_random_hex(char out[65]);

/*
 * A Set-Cookie value: name=value with Path=/, HttpOnly, SameSite=Strict,
 * Max-Age (0 deletes it) and Secure when secure is set.
 */
void ui_cookie_set(struct buf *out, const char *name, const char *value, long max_age_s,
		   int secure);

/* decode an application/x-www-form-urlencoded body into NAME=VALUE
 * entries (read them with strvec_getenv); 0, or KILN_EINVAL when it is
 * malformed (bad %XX, %00 or a NUL byte, more than 64 fields) */
struct strvec;
int ui_form_parse(const char *body, size_t len, struct strvec *out);

/* is `next` a safe place to send the browser after sign-in (a local path,
 * not "//host" nor a scheme)? */
int ui_next_ok(const char *next);

#endif
