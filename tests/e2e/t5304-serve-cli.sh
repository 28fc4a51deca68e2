#!/bin/bash
test_description='kiln user, token, env, approve, reject, dora: through --server and on the local store'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

NOW=$(date +%s%3N)

test_expect_success 'setup: a repository and the server' '
	test_create_repo src &&
	kiln repo add acme/app "$TRASH/src" >/dev/null 2>&1 &&
	start_serve &&
	cp "$DATA/initial-admin-token" admin.tok
'

# as USER: run kiln against the server with USER's token
as () {
	local who=$1
	shift
	KILN_SERVER=$(serve_url) KILN_TOKEN=$(cat "$TRASH/$who.tok") kiln "$@"
}

test_expect_success 'kiln user add / list / set through the server' '
	echo "bob-password-1" | as admin user add bob --role deployer --password-stdin >out &&
	as admin user add carol --role developer >out &&
	test_grep "^user .carol. added (developer)$" out &&
	as admin user list >out &&
	test_grep "^bob  *deployer  *yes  *active" out &&
	test_grep "^carol  *developer  *no  *active" out &&
	as admin user set carol --role viewer >out &&
	test_grep "^user .carol. updated$" out &&
	as admin user group-add ops carol >out &&
	test_grep "^user .carol. added to group .ops.$" out &&
	as admin user group-rm ops carol >out &&
	test_grep "^user .carol. removed from group .ops.$" out &&
	as admin user add erin --role viewer --json >out &&
	test_grep -v "added" out &&
	as admin user list --json >out.json &&
	python3 -c "import json; u={x[\"name\"]: x for x in json.load(open(\"out.json\"))}; assert u[\"carol\"][\"role\"]==\"viewer\", u" &&
	test_expect_code 2 as admin user add dave --role root 2>err &&
	test_grep "unknown role .root." err
'

test_expect_success 'kiln token create for another user, list, revoke' '
	as admin token create --user bob --name laptop --expires 30 >bob.tok &&
	grep -q "^kiln_[0-9A-Za-z]\{43\}$" bob.tok &&
	as admin token create --user carol >carol.tok &&
	as bob token list >out &&
	test_grep "laptop" out &&
	! grep -q "$(cat bob.tok)" out &&
	as bob token create --name spare >spare.tok &&
	id=$(as bob token list --json | python3 -c "import json,sys; print([t[\"id\"] for t in json.load(sys.stdin) if t[\"name\"]==\"spare\"][0])") &&
	as bob token revoke "$id" >out &&
	test_grep "token $id revoked" out &&
	test_expect_code 1 as spare token list 2>err &&
	test_grep "unknown, revoked or expired (HTTP 401 bad_token)" err
'

test_expect_success 'kiln env set / show / secret / var through the server' '
	as admin env set acme/app production --reviewer user:bob --reviewer group:ops \
		--prevent-self-review --branch main --tag "v*" >out &&
	test_grep "reviewers  *bob, group:ops" out &&
	test_grep "prevent self-review  *yes" out &&
	test_grep "deploys from  *branch main, tag v\*" out &&
	printf "top-secret-value-17\n" | as admin env secret set acme/app DEPLOY_KEY --env production >out &&
	test_grep "secret .DEPLOY_KEY. set" out &&
	as admin env var set acme/app REGION eu-west-1 --env production >/dev/null &&
	test_expect_code 1 as admin env var rm acme/app NOPE --env production 2>err &&
	test_grep "no variable .NOPE. in production" err &&
	test_expect_code 1 as admin env secret rm acme/app nope 2>err &&
	test_grep "no secret .NOPE." err &&
	as carol env show acme/app production >out &&
	test_grep "secrets  *DEPLOY_KEY" out &&
	test_grep "variables  *REGION=eu-west-1" out &&
	! grep -r -q top-secret-value-17 out serve.log &&
	test_expect_code 1 as carol env var set acme/app X y 2>err &&
	test_grep "this needs the admin role (you are viewer)" err
'

test_expect_success 'kiln env notify add / list / rm (the URL never shown)' '
	as admin env notify add acme/app --kind slack --url "http://127.0.0.1:1/services/T0/B0/sekrit" \
		--env production --events deploy.success,deploy.rollback >out &&
	test_grep "^webhook [0-9]* added" out &&
	id=$(sed -n "s/^webhook \([0-9]*\) added/\1/p" out) &&
	as admin env notify list acme/app >out &&
	test_grep "^$id  *slack  *127.0.0.1:1  *production  *deploy.success,deploy.rollback" out &&
	kiln env notify list acme/app >local.out &&
	test_cmp out local.out &&
	! grep -q sekrit out &&
	test_expect_code 2 as admin env notify add acme/app --kind teams --url http://x/ 2>err &&
	test_grep "unknown webhook kind" err &&
	as admin env notify rm acme/app "$id" >out &&
	test_grep "webhook $id removed" out &&
	as admin env notify list acme/app >out &&
	test "$(wc -l <out)" = 1
'

test_expect_success 'kiln approve and kiln reject: reviewers, self-review, non-reviewers' '
	kiln debug record-deploy --repo acme/app --env production --run 41 --commit $NOW --end $NOW \
		--actor carol >gate &&
	test_grep "^wait " gate &&
	test_expect_code 1 as carol approve 41 2>err &&
	test_grep "needs the deployer role" err &&
	as bob approve 41 --comment "looks good" >out &&
	test_grep "run 41: 1 deployment approved" out &&
	kiln debug record-deploy --repo acme/app --env production --run 41 --commit $NOW --end $NOW >gate &&
	test_grep "^proceed " gate &&
	kiln debug record-deploy --repo acme/app --env production --run 42 --commit $NOW --end $NOW \
		--actor bob >gate &&
	test_expect_code 1 as bob approve 42 2>err &&
	test_grep "prevents self-review (HTTP 403 not_a_reviewer)" err &&
	test_expect_code 1 as bob reject 43 2>err &&
	test_grep "no deployment waiting for review" err &&
	kiln debug record-deploy --repo acme/app --env production --run 44 --commit $NOW --end $NOW >gate &&
	as bob reject 44 -c "tests are red" >out &&
	test_grep "run 44: 1 deployment rejected" out &&
	kiln debug record-deploy --repo acme/app --env production --run 44 --commit $NOW --end $NOW >gate &&
	test_grep "rejected by bob: tests are red" gate &&
	test_expect_code 2 kiln approve 41 2>err &&
	test_grep "a review goes through the server" err
'

test_expect_success 'kiln dora through the server equals the local figures' '
	kiln debug record-deploy --repo acme/app --env staging --run 50 --commit $((NOW - 3600000)) \
		--end $NOW --result success >/dev/null &&
	as carol dora --env staging >remote.out &&
	kiln dora --env staging >local.out &&
	test_cmp local.out remote.out &&
	test_grep "lead time for changes *median 1h 00m" remote.out
'

test_expect_success 'the same commands on the local store (the server host)' '
	kiln user list >out &&
	test_grep "^bob " out &&
	kiln token create --user carol --name local >local.tok &&
	as local token list >out &&
	test_grep "local" out &&
	kiln env show acme/app production >out &&
	test_grep "reviewers  *bob, group:ops" out &&
	test_expect_code 2 kiln token create 2>err &&
	test_grep "say for whom: --user USER" err
'

test_expect_success 'no server, no token' '
	test_expect_code 3 kiln user list --server http://127.0.0.1:1 --token x 2>err &&
	test_grep "cannot reach http://127.0.0.1:1" err &&
	KILN_SERVER=$(serve_url) test_expect_code 1 kiln user list 2>err &&
	test_grep "hint: pass --token or set KILN_TOKEN" err
'

test_expect_success 'every change is in the audit log, no secret in it' '
	as admin token list --all >/dev/null &&
	curl -s -H "Authorization: Bearer $(cat admin.tok)" "$(serve_url)/api/v1/audit?limit=200" >audit.json &&
	python3 - <<-\PY
	import json
	acts = [(a["actor"], a["action"]) for a in json.load(open("audit.json"))]
	for want in [("admin", "user.add"), ("admin", "user.role"), ("admin", "token.create"),
	             ("bob", "token.revoke"), ("admin", "env.update"), ("admin", "secret.set"),
	             ("admin", "var.set"), ("bob", "deploy.approve"), ("bob", "deploy.reject")]:
	    assert want in acts, (want, acts)
	assert any(a.startswith("local:") for a, _ in acts), acts
	assert "top-secret-value-17" not in open("audit.json").read()
	PY
'

test_expect_success 'the server stops cleanly' '
	stop_serve
'

test_done
