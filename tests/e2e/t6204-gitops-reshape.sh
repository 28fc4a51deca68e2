#!/bin/bash
test_description='kiln deployd --config-repo: a new listen port or instance count and a pruned frontend are applied by a seamless HAProxy reload, without a restart; another app under load loses no request'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"
. "$TEST_ROOT/e2e/lib-gitops.sh"

API_PORT=$(free_port)
API_PORT2=$(free_port)
GONE_PORT=$(free_port)
SYNC_MAX=30
[ "$DEPLOY_KIND" = container ] && SYNC_MAX=60

# healthy_slots APP VERSION: its active healthy instances of VERSION
healthy_slots() { kiln status "$1" | grep -c "^s[0-9]* *$2 *active .*healthy"; }
# refused PORT: nothing listens there (curl cannot connect)
refused() { curl -s -o /dev/null "http://127.0.0.1:$1/"; test $? = 7; }

test_expect_success 'setup: web, api (1 instance) and gone (prune), synced' '
	cfg_init &&
	cfg_demo web "" v1 {} "instances: 2" &&
	cfg_demo api $API_PORT v1 {} "instances: 1" \
		"strategy: {rolling: {maxSurge: 1, maxUnavailable: 0}}" &&
	cfg_demo gone $GONE_PORT v1 "{prune: true}" &&
	make_release v1 && make_release v2 &&
	cfg_push "three apps" >c1 &&
	start_gitopsd --interval 1s &&
	wait_for $SYNC_MAX app_is web Synced Healthy v1 &&
	wait_for $SYNC_MAX app_is api Synced Healthy v1 &&
	wait_for $SYNC_MAX app_is gone Synced Healthy v1 &&
	curl -sf "http://127.0.0.1:$GONE_PORT/" | grep "gone v1" &&
	deployd_pid >pid0
'

test_expect_success 'api moves to another port with 3 instances, gone is pruned and its port freed; web under load: 0 failed requests' '
	load_start 120 load1 &&
	sleep 1 &&
	sed -i -e "s/^listen: .*/listen: 127.0.0.1:$API_PORT2/" -e "s/^instances: 1/instances: 3/" \
		-e "s/^version: v1/version: v2/" cfg/apps/api.yml &&
	git -C cfg rm -q apps/gone.yml &&
	cfg_push "api: new port, 3 instances, v2; gone: removed" >c2 &&
	wait_for $SYNC_MAX app_is api Synced Healthy v2 &&
	curl -sf "http://127.0.0.1:$API_PORT2/" | grep "api v2" &&
	test "$(healthy_slots api v2)" = 3 &&
	wait_for $SYNC_MAX refused $API_PORT &&
	wait_for $SYNC_MAX refused $GONE_PORT &&
	wait_for $SYNC_MAX app_is gone Synced Missing - &&
	sleep 1 &&
	load_stop load1 && cat load1 &&
	assert_no_failures load1 &&
	test $(count load1 200 v1) -gt 0 &&
	test "$(deployd_pid)" = "$(cat pid0)" && kill -0 "$(cat pid0)" &&
	test_grep "api: haproxy: now 127.0.0.1:$API_PORT2 with 6 server slot(s)" deployd.log &&
	test_grep "gone: gitops: pruned: its frontend 127.0.0.1:$GONE_PORT is removed from HAProxy" deployd.log &&
	! grep -q "fe_gone" state/haproxy.cfg &&
	grep -q "bind 127.0.0.1:$API_PORT2" state/haproxy.cfg &&
	kiln releases api >rel && cat rel &&
	test_grep "^[0-9]* *v2 .* $(cut -c1-8 c2) *gitops *rolling *succeeded" rel
'

test_expect_success 'the pruned app comes back: served again on its port' '
	git -C cfg checkout -q $(cat c1) -- apps/gone.yml &&
	cfg_push "gone: back" >c3 &&
	wait_for $SYNC_MAX app_is gone Synced Healthy v1 &&
	curl -sf "http://127.0.0.1:$GONE_PORT/" | grep "gone v1" &&
	curl -sf "$URL" | grep "web v1"
'

test_expect_success 'fewer instances: no reload, the extra ones are stopped' '
	n=$(grep -c "reloaded haproxy" deployd.log) &&
	sed -i -e "s/^instances: 3/instances: 1/" -e "s/^version: v2/version: v1/" cfg/apps/api.yml &&
	cfg_push "api: 1 instance, v1" &&
	wait_for $SYNC_MAX app_is api Synced Healthy v1 &&
	wait_for $SYNC_MAX sh -c "test \"\$(kiln status api | grep -c \" v[12] .*active\")\" = 1" &&
	test "$(grep -c "reloaded haproxy" deployd.log)" = "$n"
'

test_expect_success 'a port that is taken: the sync fails with the reason, api keeps serving where it is' '
	python3 -c "import socket,time; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(300)" >busy &
	echo $! >>load.pids &&
	wait_for 10 test -s busy &&
	sed -i "s/^listen: .*/listen: 127.0.0.1:$(cat busy)/" cfg/apps/api.yml &&
	cfg_push "api: a port in use" >c5 &&
	wait_for $SYNC_MAX app_is api OutOfSync Degraded v1 &&
	kiln status api >st && cat st &&
	test_grep "last sync: failed at $(cut -c1-8 c5): .*HAProxy could not be reloaded with its new listen/instances: .*cannot bind socket (Address already in use)" st &&
	curl -sf "http://127.0.0.1:$API_PORT2/" | grep "api v1" &&
	curl -sf "$URL" | grep "web v1" &&
	test "$(deployd_pid)" = "$(cat pid0)"
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
