#!/bin/bash
test_description='notifications: Slack and JSON webhooks, masked, retried with back-off, per environment'
. "$(dirname "$0")/../lib.sh"

test_have_prereq PYTHON || test_skip_all "python3 is not installed"

export KILN_HOME="$TRASH/kh"

PORT=$(free_port)
HOOK="http://127.0.0.1:$PORT"

# a recording receiver: each POST is appended to got.jsonl as {"path", "body"};
# the first N requests to /flaky answer 500, /down always 503
cat >recv.py <<'PY'
import http.server, json, sys
fails = {"n": int(sys.argv[2])}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open("got.jsonl", "a") as f:
            f.write(json.dumps({"path": self.path, "ctype": self.headers["Content-Type"],
                                "body": body.decode()}) + "\n")
        code = 200
        path = self.path.split("?")[0]
        if path == "/down":
            code = 503
        elif path == "/flaky" and fails["n"] > 0:
            fails["n"] -= 1
            code = 500
        self.send_response(code); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
timeout 300 python3 recv.py "$PORT" 2 &
RECV=$!
trap 'kill $RECV 2>/dev/null; _cleanup' EXIT
for i in $(seq 50); do curl -s -o /dev/null "$HOOK/" -X POST -d '{}' && break; sleep 0.1; done
rm -f got.jsonl

# count POSTs to a path
posts () {
	python3 -c "import json,sys; print(sum(1 for l in open('got.jsonl') if json.loads(l)['path'] == sys.argv[1]))" "$1"
}

test_expect_success 'a Slack and a JSON webhook get a rollback, masked' '
	kiln debug notify --repo shop --hook "slack,$HOOK/slack" --hook "json,$HOOK/json,production" \
		--event deploy.rollback --env production --run 12 --workflow Deploy \
		--ref refs/heads/main --sha 0123456789abcdef --actor alice \
		--reason "error rate 12% > 5% with token hunter2-s3cret <b>" \
		--link "https://ci.example/runs/12" --mask hunter2-s3cret >out &&
	test_grep "started 2 delivered 2 failed 0" out &&
	python3 - <<-\PY
	import json
	got = {g["path"]: g for g in map(json.loads, open("got.jsonl"))}
	assert "hunter2-s3cret" not in open("got.jsonl").read()
	s = got["/slack"]
	assert s["ctype"] == "application/json", s
	slack = json.loads(s["body"])
	assert slack["text"] == "[kiln] shop: deployment rolled back in production (run 12, Deploy, main, 0123456, by alice): error rate 12% > 5% with token *** <b>", slack["text"]
	sec = slack["blocks"][0]
	assert sec["type"] == "section" and sec["text"]["type"] == "mrkdwn", sec
	assert "with token *** &lt;b&gt;" in sec["text"]["text"], sec
	assert slack["blocks"][1]["elements"][0]["text"] == "<https://ci.example/runs/12|open the run>"
	j = json.loads(got["/json"]["body"])
	assert j["event"] == "deploy.rollback" and j["repo"] == "shop" and j["environment"] == "production", j
	assert j["run_id"] == 12 and j["sha"] == "0123456789abcdef" and j["actor"] == "alice", j
	assert j["reason"] == "error rate 12% > 5% with token *** <b>", j
	PY
'

test_expect_success 'an environment hook does not get another environment nor plain runs' '
	rm -f got.jsonl &&
	kiln debug notify --repo shop --event run.failure --run 13 --reason "step 2 failed" >out &&
	test_grep "started 1 delivered 1" out &&
	test "$(posts /slack)" = 1 && test "$(posts /json)" = 0 &&
	kiln debug notify --repo shop --event deploy.success --env staging >out &&
	test_grep "started 1 delivered 1" out &&
	kiln debug notify --repo other --event run.failure >out &&
	test_grep "started 0 delivered 0" out
'

test_expect_success 'event filters' '
	rm -f got.jsonl &&
	kiln debug notify --repo web --hook "json,$HOOK/only-approvals,,approval.waiting,deploy.rollback" \
		--event run.success >out &&
	test_grep "started 0" out &&
	kiln debug notify --repo web --event approval.waiting --env production \
		--reason "waiting for approval by bob" >out &&
	test_grep "started 1 delivered 1" out &&
	test "$(posts /only-approvals)" = 1
'

test_expect_success 'a failing receiver is retried with back-off until it answers' '
	rm -f got.jsonl &&
	start=$(date +%s%3N) &&
	kiln debug notify --repo flaky --hook "json,$HOOK/flaky" --event run.success \
		--attempts 4 --backoff-ms 200 >out &&
	end=$(date +%s%3N) &&
	test_grep "started 1 delivered 1 failed 0" out &&
	test "$(posts /flaky)" = 3 &&
	# two failures: waits of 200 ms then 400 ms before the third attempt
	test $((end - start)) -ge 600
'

test_expect_success 'a receiver that never answers 2xx is given up, without its URL in the log' '
	rm -f got.jsonl &&
	test_expect_code 1 kiln debug notify --repo down \
		--hook "slack,$HOOK/down?token=sekrit-path" --event run.failure \
		--attempts 3 --backoff-ms 50 >out 2>err &&
	test_grep "started 1 delivered 0 failed 1" out &&
	test "$(posts "/down?token=sekrit-path")" = 3 &&
	test_grep "failed after 3 attempts: HTTP 503" err &&
	test_grep "127.0.0.1:$PORT" err &&
	! grep sekrit err &&
	! grep BUG err
'

test_expect_success 'an unreachable receiver is given up too' '
	test_expect_code 1 kiln debug notify --repo gone --hook "json,http://127.0.0.1:1/x" \
		--event run.failure --attempts 2 --backoff-ms 10 >out 2>err &&
	test_grep "delivered 0 failed 1" out &&
	test_grep "failed after 2 attempts" err &&
	! grep BUG err
'

test_expect_success 'the URL is sealed in the store, only its host in clear' '
	cat "$KILN_HOME"/kiln.db* >all.db &&
	! grep -a sekrit-path all.db && ! grep -a "$PORT/slack" all.db &&
	python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT host FROM notify_hooks WHERE repo=\x27down\x27\").fetchone()[0])" "$KILN_HOME/kiln.db" >host &&
	test "$(cat host)" = "127.0.0.1:$PORT"
'

test_expect_success 'bad hooks are refused' '
	test_expect_code 2 kiln debug notify --repo x --hook "teams,$HOOK/x" --event run.success 2>err &&
	test_grep "unknown webhook kind .teams." err &&
	test_expect_code 2 kiln debug notify --repo x --hook "json,ftp://h/x" --event run.success 2>err &&
	test_grep "must start with http" err &&
	test_expect_code 2 kiln debug notify --repo x --hook "json,$HOOK/x,,run.sucess" --event run.success 2>err &&
	test_grep "unknown event .run.sucess." err
'

test_done
