#!/bin/bash
test_description='web UI: sign-in with a session cookie, CSRF on every form, security headers, roles, escaping, sign-out'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"

test_expect_success 'start the server with an admin and a viewer' '
	start_serve &&
	ui_user alice admin "alice-pass-1" &&
	ui_user vic viewer "vic-pass-12"
'

test_expect_success 'pages send an anonymous browser to the sign-in form' '
	curl -s -o /dev/null -w "%{http_code} %{redirect_url}\n" "$(serve_url)/settings" >out &&
	test_grep "^303 .*/login?next=%2Fsettings" out
'

test_expect_success 'the sign-in form sets a pre-session cookie and carries its CSRF token' '
	curl -s -D h -c jar "$(serve_url)/login" >page &&
	hdr h "^set-cookie: kiln_prelogin=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict" &&
	test_grep "name=\"csrf\" value=\"[0-9a-f]\{64\}\"" page
'

test_expect_success 'security headers: CSP without inline scripts, nosniff, no framing' '
	curl -s -D h -o /dev/null "$(serve_url)/login" &&
	hdr h "^content-security-policy: .*script-src .self.;" &&
	! grep -i "^content-security-policy:" h | grep -q unsafe-inline &&
	hdr h "^content-security-policy: .*frame-ancestors .none." &&
	hdr h "^x-content-type-options: nosniff" &&
	hdr h "^x-frame-options: DENY"
'

test_expect_success 'a sign-in without the CSRF token is refused and makes no session' '
	curl -s -o page -w "%{http_code}\n" -c jar2 "$(serve_url)/login" \
		--data "user=alice&password=alice-pass-1" >code &&
	test "$(cat code)" = 403 &&
	! grep -q kiln_session jar2
'

test_expect_success 'a wrong password: 401 and the form again, no session' '
	curl -s -c jar3 -b jar3 "$(serve_url)/login" >f &&
	csrf=$(sed -n "s/.*name=\"csrf\" value=\"\([0-9a-f]*\)\".*/\1/p" f) &&
	curl -s -o page -w "%{http_code}\n" -c jar3 -b jar3 "$(serve_url)/login" \
		--data "csrf=$csrf&user=alice&password=nope-nope" >code &&
	test "$(cat code)" = 401 &&
	test_grep "wrong user name or password" page &&
	! grep -q kiln_session jar3
'

test_expect_success 'sign-in: an HttpOnly SameSite=Strict session cookie, back to next' '
	curl -s -c j -b j "$(serve_url)/login" >f &&
	csrf=$(sed -n "s/.*name=\"csrf\" value=\"\([0-9a-f]*\)\".*/\1/p" f) &&
	curl -s -D h -o /dev/null -c j -b j "$(serve_url)/login" \
		--data "csrf=$csrf&user=alice&password=alice-pass-1&next=%2Fsettings" &&
	hdr h "^set-cookie: kiln_session=kiln_[0-9A-Za-z]\{43\}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200" &&
	hdr h "^location: /settings" &&
	! grep -qi "^set-cookie: kiln_session.*Secure" h &&
	ui_get /settings j >out &&
	test "$(head -1 out)" = 200 &&
	test_grep "<h1>Settings</h1>" out &&
	test_grep "alice <span class=\"role\">admin</span>" out
'

test_expect_success 'sign-ins are hashed on the thread pool: four at once all succeed; one whose browser left mid-hash changes nothing' '
	for n in 1 2 3 4 5; do
		curl -s -c p$n -b p$n "$(serve_url)/login" >f$n || return 1
	done &&
	csrf=$(sed -n "s/.*name=\"csrf\" value=\"\([0-9a-f]*\)\".*/\1/p" f5) &&
	{ curl -s -m 0.02 -o /dev/null -c p5 -b p5 "$(serve_url)/login" \
		--data "csrf=$csrf&user=alice&password=alice-pass-1" || :; } &&
	for n in 1 2 3 4; do
		csrf=$(sed -n "s/.*name=\"csrf\" value=\"\([0-9a-f]*\)\".*/\1/p" f$n) &&
		{ curl -s -o /dev/null -w "%{http_code}\n" -c p$n -b p$n "$(serve_url)/login" \
			--data "csrf=$csrf&user=alice&password=alice-pass-1" >code$n & } || return 1
	done &&
	wait &&
	for n in 1 2 3 4; do
		test "$(cat code$n)" = 303 && grep -q kiln_session p$n || return 1
	done &&
	curl -s -o /dev/null -w "%{http_code}\n" "$(serve_url)/healthz" >code &&
	test "$(cat code)" = 200 &&
	kill -0 "$(serve_pid)"
'

test_expect_success 'behind TLS (X-Forwarded-Proto: https) the cookie is Secure' '
	curl -s -c j5 -b j5 -H "X-Forwarded-Proto: https" "$(serve_url)/login" -D h >f &&
	hdr h "^set-cookie: kiln_prelogin=.*; Secure"
'

test_expect_success 'next must be a local path (no open redirect)' '
	curl -s -c j4 -b j4 "$(serve_url)/login" >f &&
	csrf=$(sed -n "s/.*name=\"csrf\" value=\"\([0-9a-f]*\)\".*/\1/p" f) &&
	curl -s -D h -o /dev/null -c j4 -b j4 "$(serve_url)/login" \
		--data "csrf=$csrf&user=alice&password=alice-pass-1&next=%2F%2Fevil.example" &&
	hdr h "^location: /$"
'

test_expect_success 'a POST without (or with a wrong) CSRF token is refused and changes nothing' '
	ui_login alice alice-pass-1 a &&
	curl -s -o page -w "%{http_code}\n" -b a "$(serve_url)/settings/users" \
		--data "name=mallory&role=admin&password=mallory-pass-1" >code &&
	test "$(cat code)" = 403 &&
	test_grep "CSRF" page &&
	curl -s -o page -w "%{http_code}\n" -b a "$(serve_url)/settings/users" \
		--data "csrf=$(printf %064d 0)&name=mallory&role=admin&password=mallory-pass-1" >code &&
	test "$(cat code)" = 403 &&
	ui_get /settings a >out &&
	! grep -q mallory out
'

test_expect_success 'with its CSRF token the admin adds a user (audited like the API)' '
	csrf=$(ui_csrf a /settings) &&
	curl -s -o /dev/null -w "%{http_code}\n" -b a "$(serve_url)/settings/users" \
		--data "csrf=$csrf&name=dora&role=deployer&password=dora-pass-12" >code &&
	test "$(cat code)" = 303 &&
	ui_get /settings a >out &&
	test_grep "<td>dora</td><td>deployer</td>" out &&
	curl -s -H "Authorization: Bearer $(ui_admin_token)" "$(serve_url)/api/v1/audit" >audit &&
	test_grep "\"actor\":\"alice\"" audit
'

test_expect_success 'a token name with <script> stays text; the new token is shown once' '
	csrf=$(ui_csrf a /settings) &&
	curl -s -o page -b a "$(serve_url)/settings/tokens" \
		--data-urlencode "csrf=$csrf" --data-urlencode "name=<script>alert(1)</script>" \
		--data "days=1" &&
	test_grep "class=\"secret-once\">kiln_[0-9A-Za-z]\{43\}<" page &&
	test_grep "&lt;script&gt;alert(1)&lt;/script&gt;" page &&
	! grep -q "<script>alert" page &&
	ui_get /settings a >out &&
	! grep -q "secret-once" out &&
	! grep -q "<script>alert" out
'

test_expect_success 'the viewer sees pages but not the settings, and no form acts for it' '
	ui_login vic vic-pass-12 v &&
	ui_get / v >out &&
	test "$(head -1 out)" = 200 &&
	! grep -q "href=\"/settings\"" out &&
	ui_get /settings v >out &&
	test "$(head -1 out)" = 403 &&
	csrf=$(ui_csrf v /) &&
	test -n "$csrf" &&
	curl -s -o /dev/null -w "%{http_code}\n" -b v "$(serve_url)/settings/users" \
		--data "csrf=$csrf&name=eve&role=admin&password=eve-pass-123" >code &&
	test "$(cat code)" = 403 &&
	ui_get /settings a >out &&
	! grep -q "<td>eve</td>" out
'

test_expect_success 'a CSRF token of one session is refused in another' '
	csrf=$(ui_csrf v /) &&
	curl -s -o /dev/null -w "%{http_code}\n" -b a "$(serve_url)/settings/users" \
		--data "csrf=$csrf&name=eve&role=admin&password=eve-pass-123" >code &&
	test "$(cat code)" = 403
'

test_expect_success 'static files: embedded, typed, cacheable by hash, 404 otherwise' '
	curl -s -D h -o css "$(serve_url)/static/kiln.css" &&
	hdr h "^content-type: text/css" &&
	hdr h "^cache-control: no-cache" &&
	test_cmp "$TEST_ROOT/../web/kiln.css" css &&
	v=$(sed -n "s/.*kiln.css?v=\([0-9a-f]*\).*/\1/p" out | head -1) &&
	test -n "$v" &&
	curl -s -D h -o /dev/null "$(serve_url)/static/kiln.css?v=$v" &&
	hdr h "^cache-control: public, max-age=31536000, immutable" &&
	curl -s -o /dev/null -w "%{http_code}\n" "$(serve_url)/static/layout.html" >code &&
	test "$(cat code)" = 404
'

test_expect_success 'sign-out revokes the session: the cookie no longer opens pages' '
	cp a a.old &&
	csrf=$(ui_csrf a /) &&
	curl -s -D h -o /dev/null -b a -c a "$(serve_url)/logout" --data "csrf=$csrf" &&
	hdr h "^location: /login" &&
	hdr h "^set-cookie: kiln_session=; .*Max-Age=0" &&
	curl -s -o /dev/null -w "%{http_code}\n" -b a.old "$(serve_url)/" >code &&
	test "$(cat code)" = 303
'

test_done
