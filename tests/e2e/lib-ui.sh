# tests/e2e/lib-ui.sh: helpers for web UI tests, sourced after lib-serve.sh.
#
#   ui_user NAME ROLE PASSWORD     create a user through the API (admin token)
#   ui_login NAME PASSWORD JAR     sign in with a browser's steps (GET the form,
#                                  POST it with its CSRF token); cookies in JAR
#   ui_get PATH JAR                GET a page: status on line 1, then the body
#   ui_csrf JAR PAGE               the CSRF token of the forms of PAGE (a path)

ui_admin_token() { cat "$DATA/initial-admin-token"; }

ui_user() {
	curl -s -o /dev/null -w "%{http_code}" -X POST -H "Authorization: Bearer $(ui_admin_token)" \
		-H "Content-Type: application/json" \
		--data-binary "{\"name\":\"$1\",\"role\":\"$2\",\"password\":\"$3\"}" \
		"$(serve_url)/api/v1/users" | grep -q 201
}

ui_login() {
	local csrf
	rm -f "$3"
	curl -s -c "$3" -b "$3" "$(serve_url)/login" >"$TRASH/login.html" &&
	csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$TRASH/login.html") &&
	test -n "$csrf" &&
	curl -s -o /dev/null -w "%{http_code}" -c "$3" -b "$3" "$(serve_url)/login" \
		--data-urlencode "csrf=$csrf" --data-urlencode "user=$1" \
		--data-urlencode "password=$2" --data-urlencode "next=/" | grep -q 303 &&
	grep -q kiln_session "$3"
}

ui_get() {
	curl -s -b "$2" -o "$TRASH/ui.body" -w "%{http_code}\n" "$(serve_url)$1" &&
	cat "$TRASH/ui.body"
}

ui_csrf() {
	curl -s -b "$1" "$(serve_url)$2" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1
}

# hdr FILE PATTERN: a response header (curl -D FILE) matches PATTERN (grep, any case)
hdr() {
	tr -d '\r' <"$1" | grep -qi -- "$2" || { echo "no header matching '$2' in:"; cat "$1"; return 1; }
}

# browser tests: puppeteer-core + axe-core from npm (tests/e2e/browser/install.sh)
# driving Debian's chromium; screenshots under $UI_SHOTS (in the build dir)
UI_SHOTS="${KILN_BUILD:-$TEST_ROOT/../build}/ui-screenshots"
ui_browser_prereq() {
	test -x "${CHROMIUM:-/usr/bin/chromium}" || test_skip_all "chromium is not installed (make deps)"
	"$TEST_ROOT/e2e/browser/install.sh" || test_skip_all "puppeteer-core/axe-core could not be installed from npm"
	timeout 60 node "$TEST_ROOT/e2e/browser/probe.mjs" 2>"$TRASH/probe.err" ||
		test_skip_all "chromium cannot start: $(tail -1 "$TRASH/probe.err")"
}
# ui_browser SCRIPT ARGS...: run a scenario (node, bounded in time)
ui_browser() {
	timeout 300 node "$TEST_ROOT/e2e/browser/$1" "${@:2}"
}
# the same checks as ui_browser_prereq, as a status (for one test of a file)
ui_browser_prereq_ok() {
	test -x "${CHROMIUM:-/usr/bin/chromium}" && "$TEST_ROOT/e2e/browser/install.sh" &&
	timeout 60 node "$TEST_ROOT/e2e/browser/probe.mjs" 2>/dev/null
}
