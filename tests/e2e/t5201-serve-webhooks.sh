#!/bin/bash
test_description='kiln serve: repositories, webhooks of GitHub, Gitea and GitLab, signatures, duplicates, limits'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'kiln repo add mirrors the repository and prints the secret once' '
	test_create_repo src &&
	kiln repo add acme/app "$TRASH/src" >secret 2>err &&
	test $(wc -c <secret) = 65 &&
	grep -q "^[0-9a-f]\{64\}$" secret &&
	test_grep "repository acme/app added: 1 refs, default branch main" err &&
	git --git-dir="$DATA/mirrors/acme%2Fapp.git" rev-parse refs/heads/main >mirror_head &&
	git -C src rev-parse HEAD >src_head &&
	test_cmp src_head mirror_head &&
	kiln repo list >list &&
	test_grep "^acme/app  *-  *main  *$TRASH/src" list
'

test_expect_success 'the secret is not stored in clear' '
	db_sql "SELECT * FROM repos" >rows &&
	test_grep "acme/app" rows &&
	! grep -q "$(cat secret)" rows &&
	{ test -n "${KILN_DB:-}" || ! grep -q "$(cat secret)" "$DATA/kiln.db"; }
'

test_expect_success 'bad names, URLs and duplicates are refused and leave nothing' '
	test_expect_code 2 kiln repo add "../x" "$TRASH/src" 2>err &&
	test_grep "invalid repository name" err &&
	test_expect_code 2 kiln repo add other "ssh://host/x" 2>err &&
	test_grep "unsupported repository URL" err &&
	test_expect_code 2 kiln repo add acme/app "$TRASH/src" 2>err &&
	test_grep "exists already" err &&
	test_expect_code 2 kiln repo add nothere "$TRASH/nothere" 2>err &&
	test_expect_code 2 kiln repo add notgit "$TRASH/home" 2>err &&
	! test -e "$DATA/mirrors/notgit.git" &&
	kiln repo list >list && test $(wc -l <list) = 2
'

start_serve --request-timeout 2
SECRET=$(cat secret)
SHA=$(git -C src rev-parse HEAD)

test_expect_success 'GET /healthz' '
	curl -sS "$(serve_url)/healthz" >h &&
	python3 -c "import json; d=json.load(open(\"h\")); assert d[\"status\"]==\"ok\", d"
'

push_body() { # REF BEFORE AFTER
	printf "{\"ref\":\"%s\",\"before\":\"%s\",\"after\":\"%s\",\"repository\":{\"full_name\":\"acme/app\",\"clone_url\":\"https://forge.example/acme/app.git\"},\"sender\":{\"login\":\"alice\"}}" "$1" "$2" "$3"
}

test_expect_success 'GitHub push: accepted once, a repeated delivery creates nothing' '
	hook github push "$(push_body refs/heads/main $ZERO $SHA)" gh-1 >out &&
	head -n1 out | grep -qx 202 &&
	test_grep "\"status\":\"accepted\"" out &&
	test_grep "\"run\":true" out &&
	hook github push "$(push_body refs/heads/main $ZERO $SHA)" gh-1 >out &&
	head -n1 out | grep -qx 200 &&
	test_grep "\"status\":\"duplicate\"" out &&
	test "$(events "source = '\''github'\''")" = 1
'

test_expect_success 'GitHub: wrong and missing signatures are 401 and create nothing' '
	hook github push "$(push_body refs/heads/main $ZERO $SHA)" gh-2 wrongsecret >out &&
	head -n1 out | grep -qx 401 && test_grep bad_signature out &&
	hook github push "$(push_body refs/heads/main $ZERO $SHA)" gh-3 - >out &&
	head -n1 out | grep -qx 401 && test_grep missing_signature out &&
	test "$(events)" = 1
'

test_expect_success 'a body changed after signing is 401' '
	body=$(push_body refs/heads/main $ZERO $SHA) &&
	sig=$(sign github "$SECRET" "$body") &&
	curl -sS -o out -w "%{http_code}" -X POST "$(serve_url)/hooks/github" \
		-H "X-GitHub-Event: push" -H "X-Hub-Signature-256: $sig" \
		--data-binary "${body%\}}, \"x\":1}" >code &&
	test "$(cat code)" = 401 &&
	test "$(events)" = 1
'

test_expect_success 'branch deletion is recorded and starts nothing' '
	hook github push "$(push_body refs/heads/old $SHA $ZERO)" gh-del >out &&
	head -n1 out | grep -qx 202 &&
	test_grep "\"run\":false" out &&
	test "$(events "deleted = 1 AND status = '\''ignored'\''")" = 1
'

test_expect_success 'GitHub pull_request opened from a fork, ping, and events kiln ignores' '
	pr="{\"action\":\"opened\",\"number\":7,\"pull_request\":{\"head\":{\"ref\":\"feat\",\"sha\":\"$SHA\",\"repo\":{\"full_name\":\"mallory/app\"}},\"base\":{\"ref\":\"main\",\"repo\":{\"full_name\":\"acme/app\"}}},\"repository\":{\"full_name\":\"acme/app\"},\"sender\":{\"login\":\"mallory\"}}" &&
	hook github pull_request "$pr" gh-pr >out &&
	head -n1 out | grep -qx 202 &&
	test "$(events "kind = '\''pull_request'\'' AND fork = 1 AND ref = '\''refs/pull/7/merge'\'' AND action = '\''opened'\''")" = 1 &&
	hook github ping "{\"zen\":\"hi\",\"repository\":{\"full_name\":\"acme/app\"}}" gh-ping >out &&
	head -n1 out | grep -qx 202 &&
	test "$(events "kind = '\''ping'\'' AND status = '\''ignored'\''")" = 1 &&
	hook github issues "{\"action\":\"opened\",\"repository\":{\"full_name\":\"acme/app\"}}" gh-iss >out &&
	head -n1 out | grep -qx 202 && test_grep "\"status\":\"ignored\"" out &&
	test "$(events "kind = '\''issues'\''")" = 0
'

test_expect_success 'Gitea push and pull_request (synchronized), matched by clone URL' '
	body="{\"ref\":\"refs/tags/v1\",\"before\":\"$ZERO\",\"after\":\"$SHA\",\"repository\":{\"full_name\":\"someone/else\",\"clone_url\":\"$TRASH/src\"},\"pusher\":{\"login\":\"bob\"}}" &&
	hook gitea push "$body" gt-1 >out &&
	head -n1 out | grep -qx 202 &&
	test "$(events "source = '\''gitea'\'' AND ref = '\''refs/tags/v1'\''")" = 1 &&
	pr="{\"action\":\"synchronized\",\"number\":3,\"pull_request\":{\"head\":{\"ref\":\"f\",\"sha\":\"$SHA\",\"repo\":{\"full_name\":\"acme/app\"}},\"base\":{\"ref\":\"main\",\"repo\":{\"full_name\":\"acme/app\"}}},\"repository\":{\"full_name\":\"acme/app\"},\"sender\":{\"login\":\"bob\"}}" &&
	hook gitea pull_request "$pr" gt-2 >out &&
	head -n1 out | grep -qx 202 &&
	test "$(events "source = '\''gitea'\'' AND action = '\''synchronize'\'' AND fork = 0")" = 1 &&
	hook gitea push "$body" gt-3 badsecret >out &&
	head -n1 out | grep -qx 401
'

test_expect_success 'GitLab push, tag push, merge request merged; token checked' '
	body="{\"object_kind\":\"push\",\"ref\":\"refs/heads/main\",\"before\":\"$ZERO\",\"after\":\"$SHA\",\"user_username\":\"carol\",\"project\":{\"path_with_namespace\":\"acme/app\",\"git_http_url\":\"https://gitlab.example/acme/app.git\"}}" &&
	hook gitlab "Push Hook" "$body" gl-1 >out &&
	head -n1 out | grep -qx 202 &&
	test "$(events "source = '\''gitlab'\'' AND actor = '\''carol'\''")" = 1 &&
	mr="{\"object_kind\":\"merge_request\",\"user\":{\"username\":\"carol\"},\"project\":{\"path_with_namespace\":\"acme/app\"},\"object_attributes\":{\"iid\":9,\"action\":\"merge\",\"source_branch\":\"f\",\"target_branch\":\"main\",\"source_project_id\":1,\"target_project_id\":1,\"last_commit\":{\"id\":\"$SHA\"}}}" &&
	hook gitlab "Merge Request Hook" "$mr" gl-2 >out &&
	head -n1 out | grep -qx 202 &&
	db_sql "SELECT action FROM events WHERE delivery = '\''gl-2'\''" >action &&
	test "$(cat action)" = closed &&
	db_sql "SELECT payload FROM events WHERE delivery = '\''gl-2'\''" >payload &&
	python3 -c "
import json
p = json.load(open(\"payload\"))
assert p[\"pull_request\"][\"merged\"] is True and p[\"number\"] == 9, p
" &&
	hook gitlab "Push Hook" "$body" gl-3 wrongtoken >out &&
	head -n1 out | grep -qx 401 &&
	hook gitlab "Push Hook" "$body" gl-4 - >out &&
	head -n1 out | grep -qx 401 && test_grep missing_signature out
'

test_expect_success 'malformed JSON, wrong shapes and unknown repositories: clear errors, nothing stored' '
	before=$(events) &&
	hook github push "{not json" gh-bad >out &&
	head -n1 out | grep -qx 400 && test_grep "malformed JSON at line 1" out &&
	hook github push "[1,2]" gh-bad2 >out &&
	head -n1 out | grep -qx 400 && test_grep "not a JSON object" out &&
	hook github push "{\"ref\":5,\"repository\":{\"full_name\":\"acme/app\"}}" gh-bad3 >out &&
	head -n1 out | grep -qx 400 &&
	hook github push "{\"ref\":\"refs/heads/x\",\"after\":\"$SHA\",\"repository\":{\"full_name\":\"nobody/none\"}}" gh-bad4 >out &&
	head -n1 out | grep -qx 404 && test_grep unknown_repository out &&
	curl -sS -o out -w "%{http_code}" -X POST "$(serve_url)/hooks/github" -d "{}" >code &&
	test "$(cat code)" = 400 && test_grep X-GitHub-Event out &&
	test "$(events)" = "$before"
'

test_expect_success 'oversized bodies are refused (413) and oversized heads (431)' '
	before=$(events) &&
	head -c 1100000 /dev/zero | tr "\0" a >big &&
	curl -sS -o out -w "%{http_code}" -X POST "$(serve_url)/hooks/github" \
		-H "X-GitHub-Event: push" --data-binary @big >code &&
	test "$(cat code)" = 413 &&
	curl -sS -o out -w "%{http_code}" "$(serve_url)/healthz" \
		-H "X-Big: $(head -c 20000 /dev/zero | tr "\0" b)" >code &&
	test "$(cat code)" = 431 &&
	test "$(events)" = "$before"
'

test_expect_success 'a slow client is cut off after the request timeout; the server keeps serving' '
	python3 - "$(cat "$TRASH/serve.port")" <<-\PY
	import socket, sys, time
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	s.sendall(b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
	s.settimeout(15)
	t = time.time()
	data = s.recv(100)  # the server closes (or answers) once the timeout passes
	took = time.time() - t
	assert 1 < took < 6, took
	print("closed after %.1fs" % took)
	PY
	curl -sfS "$(serve_url)/healthz" >/dev/null
' 

test_expect_success 'unknown endpoints are JSON 404, wrong methods 405' '
	curl -sS -o out -w "%{http_code}" "$(serve_url)/nope" >code &&
	test "$(cat code)" = 404 && test_grep "\"code\":\"not_found\"" out &&
	curl -sS -o out -w "%{http_code}" -X DELETE "$(serve_url)/healthz" >code &&
	test "$(cat code)" = 405
'

test_expect_success 'SIGTERM stops the server cleanly' '
	stop_serve &&
	test_grep "SIGTERM: stopping" "$TRASH/serve.log"
'

test_expect_success 'kiln repo rm removes the row and the mirror' '
	kiln repo rm acme/app 2>err &&
	! test -e "$DATA/mirrors/acme%2Fapp.git" &&
	test_expect_code 2 kiln repo rm acme/app 2>err &&
	test_grep "no repository" err
'

test_done
