#!/bin/bash
test_description='kiln serve with gitops: the apps API refuses names that are not app names (400, never sent to the controller); a replayed config webhook delivery does nothing; a rotated webhook secret file is read again without a restart; kiln sync --wait --server follows the sync'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"
. "$TEST_ROOT/e2e/lib-gitops.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"
trap serve_deploy_cleanup EXIT

WEB_PORT=$PORT # start_serve sets PORT to the server's
SECRET=config-hook-key
WAIT=90
# a loaded machine starts python slowly
DEADLINE=30s

# adm METHOD PATH: status code, then the body in adm.out
adm() {
	curl -s -o adm.out -w "%{http_code}" -X "$1" -H "Authorization: Bearer $(ui_admin_token)" "$(serve_url)$2"
}

test_expect_success 'setup: web (manual sync); kiln serve with gitops:' '
	cfg_init &&
	cfg_app web $WEB_PORT <<-EOF &&
	health: {http: {path: /health}, interval: 100ms, timeout: 1s}
	progressDeadline: $DEADLINE
	version: v1
	EOF
	make_release v1 && make_release v2 &&
	cfg_push "web" >c1 &&
	printf "%s\n" "$SECRET" >hook.secret &&
	cat >serve.yml <<-EOF &&
	gitops:
	  repo: $TRASH/config.git
	  path: apps
	  interval: 1h
	  webhook_secret_file: $TRASH/hook.secret
	  state: $KILN_DEPLOY_STATE
	EOF
	start_serve --config serve.yml &&
	wait_for $WAIT api_app_is web OutOfSync Missing ""
'

test_expect_success 'sync and get of a name that is not an app name (not UTF-8, too long, a dot first): 400, nothing reaches the controller' '
	for name in %ff web%ff%fe .web $(printf "a%.0s" $(seq 1 65)); do
		code=$(adm POST /api/v1/apps/$name/sync) && cat adm.out && echo &&
		test "$code" = 400 &&
		python3 -c "import json; e = json.load(open(\"adm.out\"))[\"error\"]; assert e[\"code\"] == \"invalid_app_name\", e" &&
		test_grep "not an app name" adm.out &&
		code=$(adm GET /api/v1/apps/$name) && test "$code" = 400 &&
		test_grep invalid_app_name adm.out || return 1
	done &&
	! grep -F "(null)" $KILN_DEPLOY_STATE/deployd.log &&
	code=$(adm GET "/api/v1/audit?action=app.sync") && test "$code" = 200 &&
	! grep -q "\"target\"" adm.out &&
	code=$(adm POST /api/v1/apps/nope/sync) && test "$code" = 404 &&
	test_grep unknown_app adm.out &&
	code=$(adm POST /api/v1/apps/web/sync) && test "$code" = 202 &&
	wait_for $WAIT api_app_is web Synced Healthy v1
'

# cfg_hook FORGE DELIVERY: a signed push of main to /hooks/config/FORGE
# with that delivery id ("" = none); status, then the body
cfg_hook() {
	local event=push
	[ "$1" = gitlab ] && event="Push Hook"
	HOOK_PATH=hooks/config hook "$1" "$event" \
		"{\"ref\":\"refs/heads/main\",\"before\":\"$(printf %040d 0)\",\"after\":\"$(printf %040d 1)\",\"repository\":{\"full_name\":\"acme/config\"},\"sender\":{\"login\":\"ci\"}}" \
		"$2" "$SECRET"
}
fetches() { api_app web config.fetches; }

test_expect_success 'config webhook: a delivery fetches; its replay (same X-GitHub-Delivery) is 200 duplicate and fetches nothing' '
	sed -i "s/^version: v1/version: v2/" cfg/apps/web.yml && cfg_push v2 >c2 &&
	n=$(fetches) &&
	cfg_hook github d-1 >out && cat out && test_grep "^202" out && test_grep accepted out &&
	wait_for $WAIT api_app_has web commit "$(cat c2)" &&
	wait_for $WAIT eval "test \$(fetches) -gt $n" &&
	sed -i "s/^version: v2/version: v1/" cfg/apps/web.yml && cfg_push "back to v1" >c3 &&
	n=$(fetches) &&
	cfg_hook github d-1 >out && cat out && test_grep "^200" out && test_grep duplicate out &&
	sleep 1 && test "$(fetches)" = $n && api_app_has web commit "$(cat c2)" &&
	cfg_hook github d-2 >out && test_grep "^202" out &&
	wait_for $WAIT api_app_has web commit "$(cat c3)"
'

test_expect_success 'config webhook: Gitea and GitLab delivery ids (X-Gitea-Delivery, X-Gitlab-Event-UUID, Idempotency-Key) too; no id is never a duplicate' '
	n=$(fetches) &&
	cfg_hook gitea d-1 >out && cat out && test_grep "^202" out &&
	cfg_hook gitea d-1 >out && test_grep "^200" out && test_grep duplicate out &&
	cfg_hook gitlab u-1 >out && cat out && test_grep "^202" out &&
	cfg_hook gitlab u-1 >out && test_grep "^200" out && test_grep duplicate out &&
	body="{\"ref\":\"refs/heads/main\",\"before\":\"$(printf %040d 0)\",\"after\":\"$(printf %040d 1)\",\"repository\":{\"full_name\":\"acme/config\"}}" &&
	for i in 1 2; do
		curl -s -o out -w "%{http_code}\n" -X POST -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: $SECRET" \
			-H "Idempotency-Key: k-1" -H "Content-Type: application/json" --data-binary "$body" \
			"$(serve_url)/hooks/config/gitlab" >code.$i || return 1
	done &&
	test "$(cat code.1)" = 202 && test "$(cat code.2)" = 200 && test_grep duplicate out &&
	cfg_hook github "" >out && test_grep "^202" out &&
	cfg_hook github "" >out && test_grep "^202" out &&
	wait_for $WAIT eval "test \$(fetches) -gt $n" &&
	db_sql "SELECT source, delivery FROM config_deliveries ORDER BY source, delivery" >rows && cat rows &&
	test "$(cat rows | tr "\n" " ")" = "gitea|d-1 github|d-1 github|d-2 gitlab|k-1 gitlab|u-1 "
'

test_expect_success 'the webhook secret rotated (file rewritten, or replaced by a rename): the new one signs, the old one is 401, no restart' '
	spid=$(serve_pid) &&
	printf "%s\n" rotated-key-2 >hook.secret &&
	SECRET=config-hook-key cfg_hook github r-1 >out && cat out && test_grep "^401" out && test_grep bad_signature out &&
	SECRET=rotated-key-2 cfg_hook github r-2 >out && test_grep "^202" out &&
	test_grep "config webhook: read the secret again from $TRASH/hook.secret" serve.log &&
	printf "%s\n" rotated-key-3 >hook.secret.new && mv hook.secret.new hook.secret &&
	SECRET=rotated-key-2 cfg_hook github r-3 >out && test_grep "^401" out &&
	SECRET=rotated-key-3 cfg_hook github r-4 >out && test_grep "^202" out &&
	test "$(serve_pid)" = "$spid"
'

test_expect_success 'a rotated secret file that cannot be read (empty, removed): 503, never the old secret; back when it is there' '
	: >hook.secret &&
	SECRET=rotated-key-3 cfg_hook github r-5 >out && cat out && test_grep "^503" out &&
	test_grep config_secret_unreadable out && ! grep -F "$TRASH" out &&
	test_grep "gitops.webhook_secret_file .$TRASH/hook.secret. is empty" serve.log &&
	rm hook.secret &&
	SECRET=rotated-key-3 cfg_hook github r-6 >out && test_grep "^503" out &&
	printf "%s\n" rotated-key-4 >hook.secret &&
	SECRET=rotated-key-4 cfg_hook github r-7 >out && test_grep "^202" out
'

# ksync ARGS: kiln sync ARGS through the server's API, as the admin
ksync() { kiln sync "$@" --server "$(serve_url)" --token "$(ui_admin_token)"; }

# set_web VERSION [KEY: VALUE]: web.yml wants VERSION; pushed, fetched
set_web() {
	sed -i -e "s/^version: .*/version: $1/" -e "s/^progressDeadline: .*/progressDeadline: ${2:-$DEADLINE}/" cfg/apps/web.yml &&
	cfg_push "web $1" >c.$1 &&
	SECRET=rotated-key-4 cfg_hook github "push-$1" >out && test_grep "^202" out &&
	wait_for $WAIT api_app_has web want $1
}

test_expect_success 'kiln sync --wait --server follows the rollout: Synced and Healthy, exit 0' '
	set_web v2 &&
	{ ksync web --wait >out 2>&1 || { cat out; false; }; } && cat out &&
	test_grep "^web: OutOfSync, Progressing" out &&
	test_grep "^app web: Synced, Healthy; apps/web.yml at .* wants v2, live v2" out &&
	test_grep "^last sync: succeeded" out &&
	curl -fs "http://127.0.0.1:$WEB_PORT/" | grep "web v2"
'

test_expect_success 'kiln sync --wait --server: a failed sync is exit 1 with its reason; v2 keeps serving' '
	make_release v3 unhealthy &&
	set_web v3 3s &&
	{ test_expect_code 1 ksync web --wait >out 2>&1 || { cat out; false; }; } && cat out &&
	test_grep "kiln sync: error: the sync of web failed: .*0 of 1 new instance(s) healthy after progressDeadline 3s" out &&
	test_grep "Degraded" out &&
	curl -fs "http://127.0.0.1:$WEB_PORT/" | grep "web v2"
'

test_expect_success 'kiln sync --wait --server --timeout: exit 1 when it is still progressing; --timeout alone is a usage error' '
	make_release v4 unhealthy &&
	set_web v4 60s &&
	{ test_expect_code 1 ksync web --wait --timeout 1s >out 2>&1 || { cat out; false; }; } && cat out &&
	test_grep "web is still OutOfSync, Progressing after 1s; .kiln status web --server. follows it" out &&
	test_expect_code 2 ksync web --timeout 1s 2>err && test_grep "goes with --wait --server" err &&
	test_expect_code 2 ksync web --wait --timeout soon 2>err && test_grep "takes a duration" err
'

# (the controller, left running a rollout by SIGQUIT, is not checked: it
# leaks that rollout and its children at exit, a known gap)
test_expect_success 'the server stops on SIGTERM; its log has no sanitizer report' '
	stop_serve &&
	wait_for 30 sh -c "! kiln status >/dev/null 2>&1" &&
	! grep -E "AddressSanitizer|LeakSanitizer|runtime error:" serve.log
'

test_done
