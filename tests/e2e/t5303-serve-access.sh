#!/bin/bash
test_description='kiln serve: first admin, users, login back-off, tokens, environments, secrets, approvals, the role matrix'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

# api METHOD PATH [TOKEN|-] [JSON]: prints "STATUS" on the first line, then the body
api () {
	local method=$1 path=$2 tok=${3:--} body=${4:-}
	local args=(-s -o "$TRASH/api.body" -w "%{http_code}" -X "$method")
	[ "$tok" != - ] && args+=(-H "Authorization: Bearer $tok")
	[ -n "$body" ] && args+=(-H "Content-Type: application/json" --data-binary "$body")
	curl "${args[@]}" "$(serve_url)$path"
	echo
	cat "$TRASH/api.body"
}
tok () { cat "$TRASH/tok.$1"; }
SQ="'"
jq_ () { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

test_expect_success 'kiln serve --init creates the admin and prints its token once' '
	d2=$(other_store d2) &&
	KILN_DB=$d2 kiln serve --init --data "$TRASH/d2" >out &&
	test_grep "created user .admin. (role admin)" out &&
	grep -q "^kiln_[0-9A-Za-z]\{43\}$" out &&
	KILN_DB=$d2 test_expect_code 1 kiln serve --init --data "$TRASH/d2" >out2 2>err &&
	test_grep "already initialized" err &&
	! grep -q kiln_ out2
'

test_expect_success 'the first start creates the admin; its token only in a 0600 file' '
	test_create_repo src &&
	kiln repo add acme/app "$TRASH/src" >/dev/null 2>&1 &&
	kiln repo add shop "$TRASH/src" >/dev/null 2>&1 &&
	start_serve &&
	test -f "$DATA/initial-admin-token" &&
	test "$(stat -c %a "$DATA/initial-admin-token")" = 600 &&
	cp "$DATA/initial-admin-token" tok.admin &&
	grep -q "^kiln_[0-9A-Za-z]\{43\}$" tok.admin &&
	test_grep "its API token is in $DATA/initial-admin-token" serve.log &&
	! grep -q "$(tok admin)" serve.log &&
	api GET /api/v1/user "$(tok admin)" >out &&
	test "$(head -1 out)" = 200 &&
	tail -n +2 out | jq_ "d[\"name\"], d[\"role\"]" >who &&
	test "$(cat who)" = "(${SQ}admin${SQ}, ${SQ}admin${SQ})"
'

test_expect_success 'no token, a bad token: 401 with a JSON error' '
	api GET /api/v1/user >out &&
	test "$(head -1 out)" = 401 &&
	tail -n +2 out | jq_ "d[\"error\"][\"code\"]" | grep -q unauthenticated &&
	api GET /api/v1/user kiln_000000000000000000000000000000000000000000x >out &&
	test "$(head -1 out)" = 401 &&
	tail -n +2 out | jq_ "d[\"error\"][\"code\"]" | grep -q bad_token
'

test_expect_success 'the admin adds users of every role; they log in' '
	for r in viewer developer deployer; do
		api POST /api/v1/users "$(tok admin)" "{\"name\":\"$r-user\",\"role\":\"$r\",\"password\":\"pw-$r-123\"}" >out &&
		test "$(head -1 out)" = 201 || return 1
		api POST /api/v1/login - "{\"user\":\"$r-user\",\"password\":\"pw-$r-123\"}" >out &&
		test "$(head -1 out)" = 200 &&
		tail -n +2 out | jq_ "d[\"token\"]" >tok.$r || return 1
	done &&
	api POST /api/v1/users "$(tok admin)" "{\"name\":\"bob\",\"role\":\"deployer\",\"password\":\"bob-secret-1\"}" >out &&
	test "$(head -1 out)" = 201 &&
	api POST /api/v1/login - "{\"user\":\"bob\",\"password\":\"bob-secret-1\"}" >out &&
	tail -n +2 out | jq_ "d[\"token\"]" >tok.bob &&
	api GET /api/v1/user "$(tok developer)" >out &&
	tail -n +2 out | jq_ "d[\"role\"]" | grep -q developer &&
	api POST /api/v1/users "$(tok admin)" "{\"name\":\"x\",\"role\":\"root\"}" >out &&
	test "$(head -1 out)" = 400 &&
	api POST /api/v1/users "$(tok admin)" "{\"name\":\"viewer-user\",\"role\":\"viewer\"}" >out &&
	test "$(head -1 out)" = 400 &&
	api POST /api/v1/users "$(tok admin)" "{\"name\":" >out &&
	test "$(head -1 out)" = 400 &&
	tail -n +2 out | jq_ "d[\"error\"][\"code\"]" | grep -q bad_json
'

test_expect_success 'failed logins back off: 401 four times, then 429 with Retry-After' '
	for i in 1 2 3 4 5; do
		api POST /api/v1/login - "{\"user\":\"bob\",\"password\":\"wrong\"}" >out &&
		test "$(head -1 out)" = 401 || return 1
	done &&
	curl -s -D hdr -o body -X POST -d "{\"user\":\"bob\",\"password\":\"bob-secret-1\"}" "$(serve_url)/api/v1/login" &&
	head -1 hdr | grep -q " 429" &&
	grep -qi "^retry-after: [12]" hdr &&
	sleep 1.1 &&
	api POST /api/v1/login - "{\"user\":\"bob\",\"password\":\"bob-secret-1\"}" >out &&
	test "$(head -1 out)" = 200
'

test_expect_success 'tokens: created once, listed without the secret, revoked' '
	api POST /api/v1/tokens "$(tok developer)" "{\"name\":\"laptop\",\"expires_in_days\":30}" >out &&
	test "$(head -1 out)" = 201 &&
	tail -n +2 out >t.json &&
	jq_ "d[\"token\"]" <t.json >tok.laptop &&
	jq_ "d[\"id\"]" <t.json >laptop.id &&
	api GET /api/v1/user "$(tok laptop)" >out && test "$(head -1 out)" = 200 &&
	api GET /api/v1/tokens "$(tok developer)" >out &&
	! grep -q "$(tok laptop)" out &&
	tail -n +2 out | jq_ "[t[\"name\"] for t in d]" | grep -q laptop &&
	api GET "/api/v1/tokens?all=1" "$(tok developer)" >out && test "$(head -1 out)" = 403 &&
	api DELETE "/api/v1/tokens/$(cat laptop.id)" "$(tok viewer)" >out && test "$(head -1 out)" = 404 &&
	api DELETE "/api/v1/tokens/$(cat laptop.id)" "$(tok developer)" >out && test "$(head -1 out)" = 200 &&
	api GET /api/v1/user "$(tok laptop)" >out && test "$(head -1 out)" = 401
'

test_expect_success 'environment rules, write-only secrets, variables' '
	api PUT /api/v1/repos/acme/app/environments/production "$(tok admin)" \
		"{\"prevent_self_review\":true,\"reviewers\":[{\"type\":\"user\",\"name\":\"bob\"},{\"type\":\"user\",\"name\":\"deployer-user\"}],\"deployment_branch_policy\":{\"patterns\":[{\"type\":\"branch\",\"name\":\"main\"}]}}" >out &&
	test "$(head -1 out)" = 200 &&
	api PUT /api/v1/repos/acme/app/environments/production/secrets/DEPLOY_KEY "$(tok admin)" \
		"{\"value\":\"s3cr3t-deploy-key-0042\"}" >out &&
	test "$(head -1 out)" = 200 &&
	api PUT /api/v1/repos/acme/app/environments/production/variables/REGION "$(tok admin)" \
		"{\"value\":\"eu-west-1\"}" >out &&
	test "$(head -1 out)" = 200 &&
	api GET /api/v1/repos/acme/app/environments/production "$(tok viewer)" >out &&
	test "$(head -1 out)" = 200 &&
	tail -n +2 out | jq_ "[s[\"name\"] for s in d[\"secrets\"]], d[\"variables\"][\"REGION\"], d[\"prevent_self_review\"]" >got &&
	test "$(cat got)" = "([${SQ}DEPLOY_KEY${SQ}], ${SQ}eu-west-1${SQ}, True)" &&
	api GET /api/v1/repos/acme/app/environments "$(tok viewer)" >out &&
	api GET /api/v1/audit "$(tok admin)" >>out &&
	! grep -q s3cr3t-deploy-key out &&
	{ if [ -n "${KILN_DB:-}" ]; then db_sql "SELECT * FROM env_secrets" >all.db; \
	  else cat "$DATA"/kiln.db* >all.db; fi; } && ! grep -aq s3cr3t-deploy-key all.db &&
	! grep -q s3cr3t-deploy-key serve.log &&
	api PUT /api/v1/repos/nope/environments/production "$(tok admin)" "{}" >out &&
	test "$(head -1 out)" = 404 &&
	api PUT /api/v1/repos/acme/app/environments/production "$(tok admin)" "{\"wait_timer\":-1}" >out &&
	test "$(head -1 out)" = 400
'

NOW=$(date +%s%3N)
test_expect_success 'approvals: non-reviewer 403, self-review 403, a reviewer approves' '
	kiln debug record-deploy --repo acme/app --env production --run 7 --commit $NOW --end $NOW \
		--actor bob >gate &&
	test_grep "^wait .* waiting for approval to deploy to .production. by bob, deployer-user" gate &&
	api POST /api/v1/runs/7/approve "$(tok developer)" "{}" >out &&
	test "$(head -1 out)" = 403 &&
	api POST /api/v1/runs/7/approve "$(tok admin)" "{}" >out &&
	test "$(head -1 out)" = 403 &&
	tail -n +2 out | jq_ "d[\"error\"][\"code\"]" | grep -q not_a_reviewer &&
	api POST /api/v1/runs/7/approve "$(tok bob)" "{\"comment\":\"mine\"}" >out &&
	test "$(head -1 out)" = 403 &&
	tail -n +2 out | grep -q "prevents self-review" &&
	api POST /api/v1/runs/7/approve "$(tok deployer)" "{\"comment\":\"ship it\"}" >out &&
	test "$(head -1 out)" = 200 &&
	api POST /api/v1/runs/7/approve "$(tok deployer)" "{}" >out &&
	test "$(head -1 out)" = 409 &&
	kiln debug record-deploy --repo acme/app --env production --run 7 --commit $NOW --end $NOW >gate &&
	test_grep "^proceed " gate &&
	api GET "/api/v1/deployments?run=7" "$(tok viewer)" >out &&
	tail -n +2 out | jq_ "d[0][\"state\"], d[0][\"approved_by\"]" >got &&
	test "$(cat got)" = "(${SQ}in_progress${SQ}, ${SQ}deployer-user${SQ})"
'

test_expect_success 'a rejection fails the deployment with the comment' '
	kiln debug record-deploy --repo acme/app --env production --run 8 --commit $NOW --end $NOW >gate &&
	test_grep "^wait " gate &&
	api POST /api/v1/runs/8/reject "$(tok bob)" "{\"comment\":\"not today\"}" >out &&
	test "$(head -1 out)" = 200 &&
	kiln debug record-deploy --repo acme/app --env production --run 8 --commit $NOW --end $NOW >gate &&
	test_grep "^reject .* rejected by bob: not today" gate &&
	api GET "/api/v1/audit?action=deploy." "$(tok admin)" >out &&
	tail -n +2 out | jq_ "[(a[\"action\"], a[\"actor\"]) for a in d]" >got &&
	grep -q "(${SQ}deploy.reject${SQ}, ${SQ}bob${SQ})" got &&
	grep -q "(${SQ}deploy.approve${SQ}, ${SQ}deployer-user${SQ})" got
'

test_expect_success 'DORA over the API' '
	api GET "/api/v1/dora?days=7" "$(tok viewer)" >out &&
	test "$(head -1 out)" = 200 &&
	api GET "/api/v1/dora?days=0" "$(tok viewer)" >out &&
	test "$(head -1 out)" = 400
'

# the role matrix: every endpoint of this file, with the lowest role that may use it
cat >matrix <<EOF
GET /api/v1/user viewer
GET /api/v1/users admin
POST /api/v1/users admin
PATCH /api/v1/users/viewer-user admin
GET /api/v1/tokens viewer
POST /api/v1/tokens viewer
DELETE /api/v1/tokens/999 viewer
POST /api/v1/groups/ops/members admin
DELETE /api/v1/groups/ops/members/bob admin
GET /api/v1/audit admin
GET /api/v1/repos/shop/environments viewer
GET /api/v1/repos/acme/app/environments/production viewer
PUT /api/v1/repos/shop/environments/staging admin
DELETE /api/v1/repos/shop/environments/nope admin
PUT /api/v1/repos/shop/environments/staging/secrets/K admin
DELETE /api/v1/repos/shop/environments/staging/secrets/K admin
PUT /api/v1/repos/shop/environments/staging/variables/V admin
DELETE /api/v1/repos/shop/environments/staging/variables/V admin
GET /api/v1/repos/shop/secrets viewer
PUT /api/v1/repos/shop/secrets/K admin
DELETE /api/v1/repos/shop/secrets/K admin
PUT /api/v1/repos/shop/variables/V admin
DELETE /api/v1/repos/shop/variables/V admin
GET /api/v1/repos/shop/notifications admin
POST /api/v1/repos/shop/notifications admin
DELETE /api/v1/repos/shop/notifications/999 admin
POST /api/v1/runs/999/approve deployer
POST /api/v1/runs/999/reject deployer
GET /api/v1/deployments viewer
GET /api/v1/dora viewer
GET /api/v1/runs viewer
GET /api/v1/runs/999 viewer
GET /api/v1/runs/999/jobs viewer
GET /api/v1/runs/999/logs viewer
GET /api/v1/runs/999/artifacts viewer
GET /api/v1/runs/999/artifacts/x viewer
GET /api/v1/runs/999/annotations viewer
POST /api/v1/runs/999/cancel developer
POST /api/v1/runs/999/rerun developer
POST /api/v1/events/999/rerun developer
GET /api/v1/events viewer
GET /api/v1/events/999 viewer
GET /api/v1/events/999/log viewer
POST /api/v1/events/999/cancel developer
POST /api/v1/repos/acme/app/workflows/ci.yml/dispatches developer
GET /api/v1/jobs/999/logs/stream viewer
GET /api/v1/jobs/999/summary viewer
POST /api/v1/jobs/999/rerun developer
GET /metrics viewer
GET /api/v1/apps viewer
GET /api/v1/apps/web viewer
POST /api/v1/apps/web/sync deployer
EOF

test_expect_success 'the role matrix: 401 without a token, 403 below the role, allowed at it and above' '
	rank () { case $1 in viewer) echo 1;; developer) echo 2;; deployer) echo 3;; admin) echo 4;; esac; }
	while read -r method path min; do
		code=$(curl -s --max-time 5 -o /dev/null -w "%{http_code}" -X "$method" -d "{}" "$(serve_url)$path")
		[ "$code" = 401 ] || { echo "$method $path without a token: $code"; return 1; }
		for r in viewer developer deployer admin; do
			code=$(curl -s --max-time 5 -o body -w "%{http_code}" -X "$method" -H "Authorization: Bearer $(tok $r)" \
				-H "Content-Type: application/json" \
				-d "{\"value\":\"v\",\"name\":\"t\",\"user\":\"bob\",\"kind\":\"json\",\"url\":\"http://127.0.0.1:1/\"}" \
				"$(serve_url)$path")
			if [ $(rank $r) -lt $(rank $min) ]; then
				# refused by the router for the role, before the handler
				[ "$code" = 403 ] && grep -q "this needs the $min role (you are $r)" body ||
					{ echo "$method $path as $r: $code $(cat body), want 403"; return 1; }
			else
				case $code in 401|405|500) echo "$method $path as $r: $code"; return 1;; esac
				! grep -q "this needs the" body ||
					{ echo "$method $path as $r refused: $(cat body)"; return 1; }
			fi
		done
	done <matrix
'

test_expect_success 'webhooks and /healthz need no token' '
	curl -s -o /dev/null -w "%{http_code}" "$(serve_url)/healthz" >code &&
	test "$(cat code)" = 200 &&
	for f in github gitea gitlab; do
		curl -s -o body -X POST -H "X-GitHub-Event: push" -d "{}" "$(serve_url)/hooks/$f" &&
		# refused by the forge check (signature, payload), never by the router for a token
		! grep -q "\"unauthenticated\"\|\"bad_token\"\|needs the" body &&
		grep -q "\"error\"" body || return 1
	done
'

test_expect_success 'the server stops cleanly' '
	stop_serve &&
	! grep -q "ERROR: AddressSanitizer\|runtime error" serve.log
'

test_done
