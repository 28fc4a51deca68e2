#!/bin/bash
test_description='kiln maintenance answers 503 with a page; webhooks are notified; hooks gate a deploy'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"

HOOKPORT=$(free_port)

test_expect_success 'setup: a webhook receiver and an app notifying it' '
	cat >hook.py <<-PY &&
	import http.server, sys
	class H(http.server.BaseHTTPRequestHandler):
	    def do_POST(self):
	        body = self.rfile.read(int(self.headers["Content-Length"]))
	        with open("hooks.jsonl", "ab") as f:
	            f.write(body + b"\n")
	        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
	    def log_message(self, *a): pass
	http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
	PY
	(timeout 120 python3 hook.py $HOOKPORT & echo $! >hook.pid) &&
	echo $(cat hook.pid) >>load.pids &&
	write_app web <<-EOF &&
	health: {http: {path: /health}, interval: 100ms}
	strategy: {blueGreen: {scaleDownDelay: 1s}}
	notifications: {webhooks: ["http://127.0.0.1:$HOOKPORT/hook", "http://127.0.0.1:1/unreachable"]}
	hooks: {pre: "test ! -e $TRASH/block-pre", post: "test ! -e $TRASH/block-post"}
	progressDeadline: $([ "$DEPLOY_KIND" = container ] && echo "$DEADLINE" || echo 10s)
	EOF
	make_release v1 && make_release v2 && make_release v3 &&
	wait_for 20 curl -sf -X POST -d "{\"probe\":1}" "http://127.0.0.1:$HOOKPORT/" &&
	start_deployd &&
	kiln deploy web v1 --wait &&
	curl -sf "$URL" | grep "web v1"
'

test_expect_success 'maintenance on: HAProxy answers 503 with the maintenance page' '
	kiln maintenance web on &&
	code=$(curl -s -o page -w "%{http_code}" "$URL") &&
	test "$code" = 503 &&
	test_grep "web is down for maintenance" page &&
	kiln status web >st && test_grep "MAINTENANCE" st
'

test_expect_success 'maintenance off: the app answers again' '
	kiln maintenance web off &&
	curl -sf "$URL" | grep "web v1"
'

test_expect_success 'webhooks got start, success and maintenance events as JSON with text' '
	wait_for 10 sh -c "test \$(grep -c . hooks.jsonl 2>/dev/null || echo 0) -ge 5" &&
	cat hooks.jsonl &&
	python3 -c "
import json
ev = [json.loads(l) for l in open(\"hooks.jsonl\")][1:]
kinds = [e[\"event\"] for e in ev]
assert \"started\" in kinds and \"succeeded\" in kinds and \"maintenance\" in kinds, kinds
assert all(e[\"app\"] == \"web\" and e[\"text\"].startswith(\"[kiln] web:\") for e in ev)
"
'

test_expect_success 'a failing pre hook aborts before any traffic moves (exit 1)' '
	touch block-pre &&
	test_expect_code 1 kiln deploy web v2 --wait >out 2>&1 &&
	cat out &&
	test_grep "hook .test ! -e .*block-pre. failed with status 1; no traffic moved" out &&
	test_path_is_missing state/logs/web/s1-v2.log &&
	test_path_is_missing state/logs/web/s2-v2.log &&
	curl -sf "$URL" | grep "web v1" &&
	rm block-pre
'

test_expect_success 'a failing post hook rolls the switch back' '
	touch block-post &&
	test_expect_code 1 kiln deploy web v3 --wait >out 2>&1 &&
	cat out &&
	test_grep "switched 100% of traffic to v3" out &&
	test_grep "rolled-back.*hook .test ! -e .*block-post. failed" out &&
	curl -sf "$URL" | grep "web v1" &&
	rm block-post
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean &&
	test_grep "1 of 2 webhook(s) could not be notified" deployd.log
'

test_done
