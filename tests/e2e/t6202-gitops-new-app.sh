#!/bin/bash
test_description='kiln deployd --config-repo: an app added to the repository is served without a restart (a seamless HAProxy reload); another app under load loses no request'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"
. "$TEST_ROOT/e2e/lib-gitops.sh"

API_PORT=$(free_port)
SYNC_MAX=30
[ "$DEPLOY_KIND" = container ] && SYNC_MAX=60

test_expect_success 'setup: config repository with web, synced' '
	cfg_init &&
	cfg_demo web "" v1 {} "instances: 2" &&
	make_release v1 && make_release v2 &&
	cfg_push "web" >c1 &&
	start_gitopsd --interval 1s &&
	wait_for $SYNC_MAX app_is web Synced Healthy v1 &&
	cat state/haproxy.pid >hap1
'

test_expect_success 'a new app in git gets traffic without a restart; web under load: 0 failed requests' '
	pid=$(deployd_pid) &&
	load_start 120 load1 &&
	sleep 1 &&
	cfg_demo api $API_PORT v2 {} &&
	cfg_push "api: new" >c2 &&
	t0=$(date +%s%N) &&
	wait_for $SYNC_MAX sh -c "curl -sf http://127.0.0.1:$API_PORT/ | grep -q \"api v2\"" &&
	t1=$(date +%s%N) &&
	sleep 1 &&
	load_stop load1 && cat load1 &&
	echo "push to the new app serving: $(( (t1 - t0) / 1000000 ))ms" &&
	assert_no_failures load1 &&
	test $(count load1 200 v1) -gt 0 &&
	test "$(deployd_pid)" = "$pid" && kill -0 "$pid" &&
	grep "reloaded haproxy" deployd.log &&
	! grep "gitops: cannot serve" deployd.log &&
	wait_for $SYNC_MAX app_is api Synced Healthy v2 &&
	kiln status >st && cat st &&
	test_grep "^api  *Synced  *Healthy" st &&
	test_grep "^web  *Synced  *Healthy" st
'

test_expect_success 'the replaced HAProxy exits; the new one keeps the runtime state' '
	old=$(cat hap1) && new=$(cat state/haproxy.pid) &&
	test "$old" != "$new" &&
	wait_for 40 sh -c "! kill -0 $old 2>/dev/null" &&
	curl -sf "$URL" | grep "web v1" &&
	kiln status web >st && cat st &&
	test $(grep -c " v1 .* active .*healthy" st) = 2
'

test_expect_success 'a traffic change after the reload still goes through the runtime API (no reload)' '
	n=$(grep -c "reloaded haproxy" deployd.log) &&
	load_start 120 load2 &&
	sed -i "s/^version: v1/version: v2/" cfg/apps/web.yml &&
	cfg_push "web: v2" >c3 &&
	wait_for $SYNC_MAX app_is web Synced Healthy v2 &&
	load_stop load2 && cat load2 &&
	assert_no_failures load2 &&
	test $(count load2 200 v2) -gt 0 &&
	test "$(grep -c "reloaded haproxy" deployd.log)" = "$n"
'

test_expect_success 'a new app whose port is taken: not served, the reason shown, nothing else changes' '
	python3 -c "import socket,time; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(300)" >busy &
	echo $! >>load.pids &&
	wait_for 10 test -s busy &&
	cfg_app bad $(cat busy) <<-EOF &&
	version: v1
	EOF
	cfg_push "bad: port in use" &&
	wait_for $SYNC_MAX sh -c "kiln status | grep -q \"^bad .*HAProxy could not be reloaded\"" &&
	kiln status >st && cat st &&
	test_grep "gitops: cannot serve the new app(s): .*fe_bad: cannot bind socket (Address already in use)" deployd.log &&
	test_grep "^web  *Synced  *Healthy" st &&
	curl -sf "$URL" | grep "web v2" &&
	curl -sf "http://127.0.0.1:$API_PORT/" | grep "api v2"
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
