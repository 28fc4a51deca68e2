#!/bin/bash
test_description='kiln serve behind HAProxy terminating TLS (docs/internals/server.md): the API, a signed webhook and its run, the UI sign-in (its cookie Secure) over https; plain http to the TLS port refused'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"
. "$TEST_ROOT/e2e/lib-haproxy.sh"

command -v openssl >/dev/null || test_skip_all "openssl is not installed"

ZERO=0000000000000000000000000000000000000000

cleanup_tls() {
	haproxy_kill
	serve_cleanup
}
trap cleanup_tls EXIT

test_expect_success 'setup: a repository, a self-signed certificate for 127.0.0.1' '
	serve_app_repo <<-\EOF &&
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "built over tls"
	EOF
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
		-addext "subjectAltName=IP:127.0.0.1" -keyout tls.key -out tls.crt 2>/dev/null &&
	cat tls.crt tls.key >tls.pem
'

serve_app

test_expect_success 'HAProxy terminates TLS in front of kiln serve' '
	port=$(free_port) && echo $port >lb.port &&
	haproxy_start $port "ssl crt $TRASH/tls.pem" "127.0.0.1:$(cat "$TRASH/serve.port")" &&
	haproxy_wait "https://127.0.0.1:$port/healthz" --cacert tls.crt &&
	curl -sS --cacert tls.crt -o h.json -w "%{http_code}\n" "https://127.0.0.1:$port/healthz" >code &&
	test "$(cat code)" = 200 &&
	! curl -s -m 5 -o /dev/null "http://127.0.0.1:$port/healthz"
'

U() { echo "https://127.0.0.1:$(cat "$TRASH/lb.port")"; }

test_expect_success 'over https: the API with a token, a signed webhook and the run it starts' '
	curl -sS --cacert tls.crt -H "Authorization: Bearer $TOKEN" -o who -w "%{http_code}\n" "$(U)/api/v1/user" >code &&
	test "$(cat code)" = 200 && test_grep "\"role\": *\"admin\"" who &&
	body="{\"ref\":\"refs/heads/main\",\"before\":\"$ZERO\",\"after\":\"$(git -C src rev-parse HEAD)\",\"repository\":{\"full_name\":\"acme/app\"},\"sender\":{\"login\":\"alice\"}}" &&
	sig=$(python3 -c "import hmac,hashlib,sys; print(\"sha256=\" + hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())" "$SECRET" "$body") &&
	curl -sS --cacert tls.crt -o hook.out -w "%{http_code}\n" -X POST "$(U)/hooks/github" \
		-H "X-GitHub-Event: push" -H "X-GitHub-Delivery: t1" -H "X-Hub-Signature-256: $sig" \
		-H "Content-Type: application/json" --data-binary "$body" >code &&
	test "$(cat code)" = 202 &&
	wait_status 1 success 60 &&
	test_grep "built over tls" "$DATA/events/1.log" &&
	curl -sS --cacert tls.crt -o hook.out -w "%{http_code}\n" -X POST "$(U)/hooks/github" \
		-H "X-GitHub-Event: push" -H "X-GitHub-Delivery: t2" -H "X-Hub-Signature-256: sha256=00" \
		-H "Content-Type: application/json" --data-binary "$body" >code &&
	test "$(cat code)" = 401
'

test_expect_success 'the UI over https: the session cookie is Secure (X-Forwarded-Proto from HAProxy)' '
	ui_user vic viewer vic-pass-123 &&
	curl -sS --cacert tls.crt -c j -b j "$(U)/login" >f &&
	csrf=$(sed -n "s/.*name=\"csrf\" value=\"\([0-9a-f]*\)\".*/\1/p" f) && test -n "$csrf" &&
	curl -sS --cacert tls.crt -D h -o /dev/null -c j -b j "$(U)/login" \
		--data "csrf=$csrf&user=vic&password=vic-pass-123&next=%2Fruns" &&
	hdr h "^HTTP/1.1 303" &&
	hdr h "^set-cookie: kiln_session=kiln_[0-9A-Za-z]*; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure" &&
	curl -sS --cacert tls.crt -b j -o runs.html -w "%{http_code}\n" "$(U)/runs" >code &&
	test "$(cat code)" = 200 && test_grep "acme/app" runs.html
'

test_done
