/*
 * ui: the web UI of `kiln serve` — HTML pages rendered by the server from
 * the same store functions the JSON API uses, usable without JavaScript
 * (web/kiln.js only adds live logs and timers). ui.c owns the frame of
 * every page: the session (session.h), the role check, CSRF on forms,
 * security headers, the layout, sign-in/out and the embedded static
 * files; each page family is its own file (ui_*.c) registered by
 * ui_register.
 *
 * UI routes are registered with ROLE_NONE: the router's Bearer check is
 * for API clients; pages authenticate the session cookie themselves
 * (ui_open) and send the browser to /login when it has none.
 */
#ifndef KILN_UI_UI_H
#define KILN_UI_UI_H

#include <stdint.h>

#include "base/buf.h"
#include "base/strvec.h"
#include "server/auth.h"
#include "server/http.h"
#include "ui/html.h"
#include "ui/session.h"

struct srv;

/* one page request */
struct ui {
	struct srv *s;
	struct http_req *q;
	struct principal who;        /* ROLE_NONE when not signed in */
	char session[AUTH_TOKEN_LEN + 8]; /* the cookie's token, "" when none */
	char csrf[UI_CSRF_LEN + 1];  /* for this session's forms */
	struct strvec form;          /* a POST's fields (ui_form) */
	int secure;                  /* the browser reached us over TLS */
};

/* register every UI route (serve.c) */
void ui_register(struct srv *s);

/*
 * Start a page: authenticate the session cookie. 0 when the caller is
 * signed in with at least min_role; otherwise the answer is given (303 to
 * /login, or 403 page) and -1 returned. Always ui_close afterwards.
 */
int ui_open(struct srv *s, struct http_req *q, struct ui *u, enum role min_role);
void ui_close(struct ui *u);
/* a POST: parse the form and check its CSRF token; 0, or -1 after
 * answering 400/403 */
int ui_form(struct ui *u);
/* a field of the form, NULL when absent */
const char *ui_field(const struct ui *u, const char *name);

/* answer with the layout around body (markup) */
void ui_page(struct ui *u, int status, const char *title, const char *section,
	     const struct buf *body);
/* answer an error page */
void ui_error(struct ui *u, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 303 to a local path */
void ui_redirect(struct http_req *q, const char *location);
/* the hidden CSRF input of this session's forms */
void ui_csrf_input(const struct ui *u, struct buf *out);
/* the security headers every UI answer carries */
void ui_security_headers(struct http_req *q);

/* fmt.c: a status as a dot and its word (conclusion if set, else status) */
void ui_status(struct buf *out, const char *status, const char *conclusion);
/* a UTC time (<time datetime>), "—" for 0 */
void ui_time(struct buf *out, int64_t ms);
/* to - from for people; a live counter when to is 0 */
void ui_duration(struct buf *out, int64_t from_ms, int64_t to_ms);
/* refs/heads/main -> main (escaped) */
void ui_short_ref(struct buf *out, const char *ref);
/* a size for people: 512 B, 1.5 KB, 12.3 MB (powers of 1024, as GitHub) */
void ui_bytes(struct buf *out, int64_t n);

/* page families */
void ui_repos_register(struct srv *s);
void ui_settings_register(struct srv *s);
void ui_runs_register(struct srv *s);
void ui_approvals_register(struct srv *s);
void ui_dora_register(struct srv *s);
void ui_deploys_register(struct srv *s);
void ui_live_register(struct srv *s);
void ui_badge_register(struct srv *s);
void ui_envs_register(struct srv *s);
void ui_rollout_register(struct srv *s);
void ui_artifacts_register(struct srv *s);
void ui_apps_register(struct srv *s);
struct logview_info;
/* ui_artifacts.c: a run's artifacts (job_id 0: every job's) as a table with
 * download links; nothing when there are none */
void ui_artifacts_section(struct ui *u, int64_t run_id, int64_t job_id, struct buf *body);
/* a run's annotations from the store (job_id 0: every job's), each linked
 * to its log line: found in info (the job page's rendered log, line links
 * line_href + "N#LN"), else through /runs/R/jobs/J/annotations/ID; nothing
 * when there are none */
void ui_annotations_section(struct ui *u, int64_t run_id, int64_t job_id,
			    const struct logview_info *info, const char *line_href, struct buf *body);
/* a job's stored annotations at their log lines, for logview_opts.marks
 * (n 0 when the store has none: a run recorded before they were kept) */
struct annotation_row;
struct logview_mark;
struct ui_marks {
	struct annotation_row *rows; /* owned: the marks' titles point here */
	size_t nrows;
	struct logview_mark *marks;  /* ascending lines */
	size_t n;
};
void ui_marks_load(struct ui *u, int64_t run_id, int64_t job_id, const char *log, size_t len,
		   struct ui_marks *m);
void ui_marks_release(struct ui_marks *m);
/* the deploy controller's state directory (ui_rollout.c) */
const char *ui_deploy_state(struct srv *s);
/* its store: the server's own when they share a directory, else its
 * kiln.db opened read-only into *own (db_close it after; NULL when not
 * opened) */
struct db;
struct db *ui_deploy_db(struct srv *s, struct db **own);
/* ui_envs.c: the repositories and environments part of /settings */
void ui_settings_envs(struct ui *u, struct buf *body);

#endif
