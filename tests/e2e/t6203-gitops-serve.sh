#!/bin/bash
test_description='kiln serve runs the GitOps controller (gitops: in --config): apps API (sync, health, releases, last sync), a signed push webhook fetches at once, manual sync by role (audited), a config error with file:line:col, SIGTERM stops the controller'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"
. "$TEST_ROOT/e2e/lib-gitops.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"
trap serve_deploy_cleanup EXIT

API_PORT=$(free_port)
WEB_PORT=$PORT # start_serve sets PORT to the server's
SECRET=config-hook-key
# the interval is an hour: only the start and a webhook fetch
WAIT=60

test_expect_success 'setup: web (automated, selfHeal) and api (manual sync); kiln serve with gitops:' '
	cfg_init &&
	cfg_demo web "" v1 "{selfHeal: true}" "instances: 2" &&
	cfg_demo api $API_PORT v1 - &&
	make_release v1 && make_release v2 &&
	cfg_push "web and api" >c1 &&
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
	ui_user dep deployer dep-pass-123 &&
	ui_user vic viewer vic-pass-123
'

test_expect_success 'the server started the controller: web synced and healthy, api OutOfSync/Missing (manual)' '
	wait_for $WAIT api_app_is web Synced Healthy v1 &&
	test "$(api_app web commit)" = "$(cat c1)" &&
	test "$(api_app web last_sync.commit)" = "$(cat c1)" &&
	test "$(api_app web last_sync.outcome)" = succeeded &&
	test "$(api_app web want)" = v1 &&
	test "$(api_app web config.branch)" = main &&
	test "$(api_app web health_reason)" = "" &&
	api_app_is api OutOfSync Missing "" &&
	test "$(api_app api want)" = v1 &&
	test "$(api_app api health_reason)" = "never synced: nothing runs" &&
	curl -s -H "Authorization: Bearer $(ui_admin_token)" "$(serve_url)/api/v1/apps" >apps.json &&
	python3 -c "import json,sys; d=json.load(open(\"apps.json\")); c=d[\"controller\"]; assert c[\"supervised\"] and c[\"state\"] == \"running\" and c[\"pid\"] > 0, c; assert sorted(a[\"app\"] for a in d[\"apps\"]) == [\"api\", \"web\"]" &&
	test_grep "started kiln deployd (pid [0-9]*) for $TRASH/config.git" serve.log &&
	curl -fs "http://127.0.0.1:$PORT/" >body && test_grep v1 body
'

test_expect_success 'the repository URL (it may hold a token) is in the controller'"'"'s environment, not its command line; its instances do not inherit it' '
	dpid=$(api_app web controller.pid) && test "$dpid" -gt 0 &&
	tr "\0" "\n" </proc/$dpid/cmdline >cmdline &&
	! grep -F "config.git" cmdline &&
	tr "\0" "\n" </proc/$dpid/environ >environ &&
	grep -qx "KILN_CONFIG_REPO=$TRASH/config.git" environ &&
	n=0 &&
	for f in $(grep -lsF "KILN_DEPLOY_STATE=$KILN_DEPLOY_STATE" /proc/[0-9]*/environ); do
		p=${f#/proc/} && p=${p%/environ} &&
		{ [ "$p" != "$dpid" ] || continue; } &&
		grep -q app.py /proc/$p/cmdline 2>/dev/null || continue
		n=$((n + 1)) &&
		! tr "\0" "\n" <$f | grep -q "^KILN_CONFIG_REPO=" || { echo "instance $p inherited it" >&2; false; }
	done &&
	test $n -gt 0
'

test_expect_success 'a signed push webhook for the config repository fetches at once: web Synced with the new commit' '
	sed -i "s/^version: v1/version: v2/" cfg/apps/web.yml cfg/apps/api.yml &&
	cfg_push "web and api: v2" >c2 &&
	config_hook github - >unsigned && test_grep "^401" unsigned && test_grep missing_signature unsigned &&
	config_hook github wrong-key >bad && test_grep "^401" bad && test_grep bad_signature bad &&
	config_hook github "$SECRET" refs/heads/other >other && test_grep "^202" other &&
	test_grep "a push of another branch" other &&
	test "$(api_app web commit)" = "$(cat c1)" &&
	t0=$(date +%s%N) &&
	config_hook github "$SECRET" >ok && cat ok && test_grep "^202" ok && test_grep accepted ok &&
	wait_for $WAIT api_app_is web Synced Healthy v2 &&
	echo "# webhook to Synced/Healthy on v2 (API, polled every ~0.1 s): $(( ($(date +%s%N) - t0) / 1000000 )) ms" &&
	test "$(api_app web commit)" = "$(cat c2)" &&
	test "$(api_app web last_sync.commit)" = "$(cat c2)" &&
	curl -fs "http://127.0.0.1:$PORT/" >body && test_grep v2 body
'

test_expect_success 'api (manual sync) is OutOfSync with v2 and keeps running nothing' '
	test "$(api_app api sync)" = OutOfSync &&
	test "$(api_app api want)" = v2 &&
	test "$(api_app api commit)" = "$(cat c2)"
'

test_expect_success 'manual sync: a viewer is refused, a deployer syncs (audited)' '
	curl -s -X POST -d "{\"user\":\"vic\",\"password\":\"vic-pass-123\"}" "$(serve_url)/api/v1/login" |
		sed -n "s/.*\"token\": *\"\([^\"]*\)\".*/\1/p" >vic.tok &&
	curl -s -o vic.out -w "%{http_code}\n" -X POST -H "Authorization: Bearer $(cat vic.tok)" \
		"$(serve_url)/api/v1/apps/api/sync" >vic.code && test "$(cat vic.code)" = 403 &&
	tok=$(curl -s -X POST -d "{\"user\":\"dep\",\"password\":\"dep-pass-123\"}" "$(serve_url)/api/v1/login" | sed -n "s/.*\"token\": *\"\([^\"]*\)\".*/\1/p") &&
	test -n "$tok" &&
	curl -s -o dep.out -w "%{http_code}\n" -X POST -H "Authorization: Bearer $tok" \
		"$(serve_url)/api/v1/apps/api/sync" >dep.code && cat dep.out && test "$(cat dep.code)" = 202 &&
	wait_for $WAIT api_app_is api Synced Healthy v2 &&
	test "$(api_app api last_sync.commit)" = "$(cat c2)" &&
	curl -fs "http://127.0.0.1:$API_PORT/" >body && test_grep v2 body &&
	curl -s -o nope.out -w "%{http_code}\n" -X POST -H "Authorization: Bearer $tok" \
		"$(serve_url)/api/v1/apps/nope/sync" >nope.code && test "$(cat nope.code)" = 404 &&
	curl -s -H "Authorization: Bearer $(ui_admin_token)" "$(serve_url)/api/v1/audit?action=app.sync" >audit &&
	cat audit && test_grep "\"actor\": *\"dep\"" audit && test_grep "\"target\": *\"api\"" audit &&
	! grep -q "\"actor\": *\"vic\"" audit
'

test_expect_success 'the Apps page: a viewer sees the columns and no Sync button; a deployer has one' '
	ui_login vic vic-pass-123 v &&
	ui_get /apps v >page && test "$(head -1 page)" = 200 &&
	test_grep "<tr data-app=\"web\"><th scope=\"row\">web</th><td><span class=\"st st-success\">Synced</span> <code>$(cut -c1-8 c2)</code>" page &&
	test_grep "<tr data-app=\"api\">" page &&
	! grep -q "action=\"/apps/api/sync\"" page &&
	csrf=$(ui_csrf v /runs) &&
	curl -s -o /dev/null -w "%{http_code}\n" -b v --data-urlencode "csrf=$csrf" "$(serve_url)/apps/api/sync" >code &&
	test "$(cat code)" = 403 &&
	ui_login dep dep-pass-123 d &&
	ui_get /apps d >page && test_grep "action=\"/apps/api/sync\"" page &&
	curl -s -o /dev/null -w "%{http_code}\n" -b d --data-urlencode "csrf=0000" "$(serve_url)/apps/api/sync" >code &&
	test "$(cat code)" = 403
'

test_expect_success 'in Chromium: the Apps page by role; a deployer syncs api with its button' '
	ui_browser_prereq_ok || { echo "# chromium unusable: skipped"; exit 0; }
	sed -i "s/^version: v2/version: v1/" cfg/apps/api.yml &&
	cfg_push "api: back to v1" >c_api &&
	config_hook gitlab "$SECRET" >ok && test_grep "^202" ok && test_grep accepted ok &&
	wait_for $WAIT api_app_has api want v1 &&
	test "$(api_app api sync)" = OutOfSync &&
	ui_browser t6203.mjs "$(serve_url)" "$UI_SHOTS/t6203" &&
	api_app_is api Synced Healthy v1 &&
	curl -s -H "Authorization: Bearer $(ui_admin_token)" "$(serve_url)/api/v1/audit?action=app.sync" >audit &&
	test $(grep -o "\"actor\": *\"dep\"" audit | wc -l) -ge 2
'

test_expect_success 'the controller is killed: the server restarts it, it adopts what runs; kiln status sees it' '
	dpid=$(api_app web controller.pid) && test "$dpid" -gt 0 &&
	kill -9 "$dpid" &&
	curl -fs "http://127.0.0.1:$PORT/" >body && test_grep v2 body &&
	wait_for $WAIT api_app_has web controller.restarts 1 &&
	wait_for $WAIT api_app_has web controller.state running &&
	test "$(api_app web controller.last_exit)" = "killed by signal 9" &&
	test "$(api_app web controller.pid)" != "$dpid" &&
	wait_for $WAIT api_app_is web Synced Healthy v2 &&
	test_grep "deployd killed by signal 9; restarting in 1 s" serve.log &&
	kiln status >st && cat st &&
	test_grep "^web  *Synced  *Healthy  *v2  *v2 " st &&
	kiln status --server "$(serve_url)" --token "$(ui_admin_token)" >rst && cat rst &&
	test_grep "^config $TRASH/config.git main at " rst &&
	test_grep "^web  *Synced  *Healthy  *v2  *v2 " rst &&
	kiln status web --server "$(serve_url)" --token "$(ui_admin_token)" >rst1 && cat rst1 &&
	test_grep "^app web: Synced, Healthy; apps/web.yml at [0-9a-f]\{8\} wants v2, live v2" rst1 &&
	test_expect_code 1 kiln sync api --server "$(serve_url)" --token "$(cat vic.tok)" 2>err &&
	test_grep "kiln sync: error: .*deployer" err &&
	test_grep "web: s[0-9]: v2 pid [0-9]* port [0-9]* is alive: adopted" "$KILN_DEPLOY_STATE/deployd.log" &&
	curl -fs "http://127.0.0.1:$PORT/" >body && test_grep v2 body
'

test_expect_success 'a config error: OutOfSync with file:line:col, nothing running changes, sync refused' '
	printf "replicas: 3\n" >>cfg/apps/web.yml &&
	cfg_push "web: a typo" >c3 &&
	config_hook gitea "$SECRET" >ok && test_grep "^202" ok && test_grep accepted ok &&
	wait_for $WAIT api_app_has web commit "$(cat c3)" &&
	test "$(api_app web sync)" = OutOfSync &&
	test "$(api_app web live)" = v2 &&
	api_app web message >msg && cat msg &&
	test_grep "^apps/web.yml:[0-9]*:[0-9]*: error: unknown key .replicas." msg &&
	curl -s -o refused.out -w "%{http_code}\n" -X POST -H "Authorization: Bearer $(ui_admin_token)" \
		"$(serve_url)/api/v1/apps/web/sync" >refused.code && cat refused.out &&
	test "$(cat refused.code)" = 409 && test_grep "sync_refused" refused.out &&
	test_grep "apps/web.yml:[0-9]*:[0-9]*: error" refused.out &&
	test_expect_code 1 kiln sync web --server "$(serve_url)" --token "$(ui_admin_token)" 2>err && cat err &&
	test_grep "apps/web.yml:[0-9]*:[0-9]*: error: unknown key" err &&
	curl -fs "http://127.0.0.1:$PORT/" >body && test_grep v2 body
'

test_expect_success 'a restart while the file does not load: the app keeps running from its last good file, the error shown' '
	dpid=$(api_app web controller.pid) &&
	kill -9 "$dpid" &&
	wait_for $WAIT api_app_has web controller.restarts 2 &&
	wait_for $WAIT api_app_is web OutOfSync Healthy v2 &&
	api_app web message >msg && test_grep "^apps/web.yml:[0-9]*:[0-9]*: error: unknown key .replicas." msg &&
	test "$(api_app web commit)" = "$(cat c3)" &&
	test_grep "web: gitops: apps/web.yml does not load at $(cut -c1-8 c3); nothing changes" "$KILN_DEPLOY_STATE/deployd.log" &&
	curl -fs "http://127.0.0.1:$PORT/" >body && test_grep v2 body &&
	sed -i "/^replicas: 3$/d" cfg/apps/web.yml &&
	cfg_push "web: the typo fixed" >c4 &&
	config_hook github "$SECRET" >ok && test_grep accepted ok &&
	wait_for $WAIT api_app_has web commit "$(cat c4)" &&
	wait_for $WAIT api_app_is web Synced Healthy v2
'

test_expect_success 'a second server on the same controller state refuses to start' '
	test_expect_code 3 kiln serve --listen 127.0.0.1:0 --data "$TRASH/data2" --config serve.yml 2>err2 &&
	test_grep "a kiln deployd already runs on .$KILN_DEPLOY_STATE." err2 &&
	api_app_has web controller.restarts 2
'

test_expect_success 'SIGTERM: the server stops its controller, the apps keep serving (a server restart is no outage)' '
	dpid=$(api_app web controller.pid) &&
	kill -0 "$dpid" &&
	stop_serve &&
	! kill -0 "$dpid" 2>/dev/null &&
	curl -fs "http://127.0.0.1:$WEB_PORT/" >body && test_grep v2 body &&
	test_grep "exiting, the apps keep running for the next controller" "$KILN_DEPLOY_STATE/deployd.log"
'

test_expect_success 'kill -9 of the server: its controller dies with it, traffic goes on; the next server adopts' '
	start_serve --config serve.yml &&
	wait_for $WAIT api_app_is web Synced Healthy v2 &&
	dpid=$(api_app web controller.pid) && test "$dpid" -gt 0 &&
	kill9_serve &&
	wait_for 30 sh -c "! kill -0 $dpid 2>/dev/null" &&
	curl -fs "http://127.0.0.1:$WEB_PORT/" >body && test_grep v2 body &&
	start_serve --config serve.yml &&
	wait_for $WAIT api_app_is web Synced Healthy v2 &&
	test_grep "web: s[0-9]: v2 pid [0-9]* port [0-9]* is alive: adopted" "$KILN_DEPLOY_STATE/deployd.log"
'

test_done
