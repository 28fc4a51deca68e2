# tests/e2e/lib-serve.sh: helpers for `kiln serve` tests, sourced after
# lib.sh. The server a test starts is killed at exit, even when it fails.
#
#   start_serve [ARGS]        start kiln serve on a free port (data in $DATA), wait for it
#   stop_serve                SIGTERM, wait for the exit (status in $TRASH/serve.rc)
#   kill9_serve               kill -9 the server
#   hook FORGE EVENT BODY [DELIVERY] [SECRET]   POST a signed delivery; prints the
#                             HTTP status then the body; SECRET "-" sends no signature;
#                             to $HOOK_PATH/FORGE (default hooks/FORGE)
#   sign FORGE SECRET BODY    the signature header value a forge would send
#   db_sql SQL                run SQL on the test's store, rows as "a|b" (NULL as "")
#   serve_app_repo [NAME] <JOBS  src: a repository whose push workflow ci.yml (named
#                             NAME) has the jobs on stdin (as under `jobs:`), added as
#                             acme/app (its webhook secret in $TRASH/secret)
#   serve_app [ARGS]          start_serve, then SECRET (acme/app's) and TOKEN (the admin's)
#   api PATH [CURL ARGS]      curl the server's PATH as the admin
#   k ARGS                    kiln ARGS against the server as the admin
#   run_of EVENT              the run id of event EVENT
#   jobs_of RUN               "name=conclusion ..." of run RUN's jobs
#   other_store NAME          a KILN_DB value for a second, separate store: "" (the data
#                             directory's own kiln.db) or a new PostgreSQL database NAME
#
# KILN_TEST_DB=pg runs the same test on PostgreSQL: a server of its own
# (tests/lib-pg.sh) for this test file, KILN_DB naming it for every kiln
# command, stopped at exit.

test_have_prereq PYTHON || test_skip_all "python3 is not installed"
command -v curl >/dev/null || test_skip_all "curl is not installed"

DATA="$TRASH/data"
export KILN_HOME="$DATA"
serve_pid() { cat "$TRASH/serve.pid" 2>/dev/null; }

if [ "${KILN_TEST_DB:-sqlite}" = pg ]; then
	. "$TEST_ROOT/lib-pg.sh"
	pg_start >"$TRASH/pg.out" 2>&1 || test_skip_all "no PostgreSQL: $(tail -n 1 "$TRASH/pg.out")"
	export KILN_DB="$PG_URL"
fi

serve_cleanup() {
	local p
	p=$(serve_pid)
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		kill -9 "$p" 2>/dev/null
	fi
	[ -n "${KILN_DB:-}" ] && pg_stop
	_cleanup
}
trap serve_cleanup EXIT

other_store() {
	if [ -n "${KILN_DB:-}" ]; then
		pg_psql "CREATE DATABASE $1" >/dev/null && echo "${PG_URL%/*}/$1"
	fi
}

db_sql() {
	if [ -n "${KILN_DB:-}" ]; then
		pg_psql "$1"
	else
		python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
for r in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in r))
db.commit()' "$DATA/kiln.db" "$1"
	fi
}

start_serve() {
	: >"$TRASH/serve.out"
	kiln serve --listen 127.0.0.1:0 --data "$DATA" "$@" >"$TRASH/serve.out" 2>>"$TRASH/serve.log" &
	echo $! >"$TRASH/serve.pid"
	local i
	for i in $(seq 1 100); do
		PORT=$(sed -n 's/^listening //p' "$TRASH/serve.out")
		if [ -n "$PORT" ]; then
			echo "$PORT" >"$TRASH/serve.port"
			URL="http://127.0.0.1:$PORT"
			return 0
		fi
		kill -0 "$(serve_pid)" 2>/dev/null || break
		sleep 0.05
	done
	echo "kiln serve did not start:" >&2
	cat "$TRASH/serve.log" >&2
	return 1
}

# in test bodies (subshells) the port comes from the file
serve_url() { echo "http://127.0.0.1:$(cat "$TRASH/serve.port")"; }

stop_serve() {
	local p i
	p=$(serve_pid)
	kill -TERM "$p" || return 1
	for i in $(seq 1 100); do
		kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || :; return 0; }
		sleep 0.05
	done
	echo "kiln serve did not stop after SIGTERM" >&2
	return 1
}

kill9_serve() {
	local p
	p=$(serve_pid)
	kill -9 "$p" && while kill -0 "$p" 2>/dev/null; do sleep 0.02; done
}

sign() {
	python3 - "$1" "$2" "$3" <<'PY'
import hmac, hashlib, sys
forge, secret, body = sys.argv[1], sys.argv[2], sys.argv[3]
if forge == "gitlab":
    print(secret)
else:
    h = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    print(("sha256=" if forge == "github" else "") + h)
PY
}

hook() {
	local forge=$1 event=$2 body=$3 delivery=${4:-} secret=${5:-$SECRET} url
	url=$(serve_url)
	local -a h
	case $forge in
	github) h=(-H "X-GitHub-Event: $event")
		[ -n "$delivery" ] && h+=(-H "X-GitHub-Delivery: $delivery")
		[ "$secret" = - ] || h+=(-H "X-Hub-Signature-256: $(sign github "$secret" "$body")") ;;
	gitea) h=(-H "X-Gitea-Event: $event")
		[ -n "$delivery" ] && h+=(-H "X-Gitea-Delivery: $delivery")
		[ "$secret" = - ] || h+=(-H "X-Gitea-Signature: $(sign gitea "$secret" "$body")") ;;
	gitlab) h=(-H "X-Gitlab-Event: $event")
		[ -n "$delivery" ] && h+=(-H "X-Gitlab-Event-UUID: $delivery")
		[ "$secret" = - ] || h+=(-H "X-Gitlab-Token: $secret") ;;
	esac
	curl -sS -o "$TRASH/hook.body" -w '%{http_code}\n' -X POST "$url/${HOOK_PATH:-hooks}/$forge" \
		-H 'Content-Type: application/json' "${h[@]}" --data-binary "$body" &&
	cat "$TRASH/hook.body" && echo
}

# count events in the store: events [WHERE-clause]
events() {
	db_sql "SELECT count(*) FROM events WHERE ${1:-1 = 1}"
}

# status of event ID in the store
event_status() {
	local r
	r=$(db_sql "SELECT status || CASE WHEN reason <> '' THEN ' ' || reason ELSE '' END FROM events WHERE id = $(($1))")
	echo "${r:-none}"
}

# wait_status ID STATUS [SECONDS]: until the event has STATUS (a prefix of "status reason")
wait_status() {
	local i s
	for i in $(seq 1 $((${3:-20} * 10))); do
		s=$(event_status "$1")
		case "$s" in "$2"*) return 0 ;; esac
		sleep 0.1
	done
	echo "event $1: expected '$2', is '$s'" >&2
	cat "$DATA/events/$1.log" >&2 2>/dev/null
	return 1
}

# push_hook REF BEFORE AFTER DELIVERY: a signed GitHub push for acme/app
push_hook() {
	hook github push "{\"ref\":\"$1\",\"before\":\"$2\",\"after\":\"$3\",\"repository\":{\"full_name\":\"acme/app\"},\"sender\":{\"login\":\"alice\"}}" "$4"
}

serve_app_repo() {
	test_create_repo "$TRASH/src" &&
	{ [ -z "${1:-}" ] || echo "name: $1"; printf 'on: push\njobs:\n'; cat; } | write_workflow "$TRASH/src" ci &&
	kiln repo add acme/app "$TRASH/src" >"$TRASH/secret"
}

serve_app() {
	start_serve "$@" &&
	SECRET=$(cat "$TRASH/secret") &&
	TOKEN=$(cat "$DATA/initial-admin-token")
}

api() {
	local path=$1
	shift
	curl -sS -H "Authorization: Bearer ${TOKEN:-$(cat "$DATA/initial-admin-token")}" "$@" "$(serve_url)$path"
}

k() {
	KILN_SERVER=$(serve_url) KILN_TOKEN=${TOKEN:-$(cat "$DATA/initial-admin-token")} kiln "$@"
}

run_of() {
	api "/api/v1/runs?per_page=100" | python3 -c "import json,sys; print([r for r in json.load(sys.stdin)['runs'] if r['event_id']==$1][0]['id'])"
}

jobs_of() {
	api "/api/v1/runs/$1/jobs" | python3 -c "import json,sys; print(' '.join('%s=%s' % (j['name'], j['conclusion']) for j in json.load(sys.stdin)['jobs']))"
}

# a recording HTTP server: each request as a JSON line in requests.jsonl;
# it answers 500 while the file "fail" holds a positive count (decremented)
# (a commit-status API); sets REC (its pid) and API (its URL)
start_recorder() {
	cat >recorder.py <<-\PY
	import http.server, json, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n).decode()
        fails = int(open("fail").read() or 0) if os.path.exists("fail") else 0
        with open("requests.jsonl", "a") as f:
            f.write(json.dumps({"path": self.path, "auth": self.headers.get("Authorization"),
                                "body": json.loads(body), "answer": 500 if fails > 0 else 201}) + "\n")
        if fails > 0:
            open("fail", "w").write(str(fails - 1))
        self.send_response(500 if fails > 0 else 201)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open("recorder.port", "w").write(str(s.server_address[1]))
s.serve_forever()
	PY
	python3 recorder.py &
	REC=$!
	local i
	for i in $(seq 1 50); do test -s recorder.port && break; sleep 0.1; done
	test -s recorder.port || return 1
	API="http://127.0.0.1:$(cat recorder.port)"
}
