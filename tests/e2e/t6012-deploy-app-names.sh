#!/bin/bash
test_description='kiln deploy: apps named like the backends kiln derives (web_maint, web_preview) do not clash; an adopted HAProxy whose config is not the controller'"'"'s is reloaded'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"

PREVIEW=$(free_port)
PURL="http://127.0.0.1:$PREVIEW/"
P2=$(free_port)
P3=$(free_port)
URL2="http://127.0.0.1:$P2/"
URL3="http://127.0.0.1:$P3/"

check_web() {
	curl -sf "$URL" | grep "web v1" &&
	curl -sf "$PURL" | grep "web v1"
}
# every app of the test answers with its own name
check_all() {
	check_web &&
	curl -sf "$URL2" | grep "web_maint v1" &&
	curl -sf "$URL3" | grep "web_preview v1"
}
# restart the controller, leaving HAProxy and the instances running; wait
# until it is ready (its socket answers before it has adopted HAProxy)
requit() {
	local n
	n=$(grep -c "deployd: ready: " deployd.log) &&
	kill -QUIT $(deployd_pid) && wait_pid $(deployd_pid) 20 &&
	start_deployd &&
	wait_for 20 eval "test \$(grep -c \"deployd: ready: \" deployd.log) -gt $n"
}

test_expect_success 'setup: web with a preview port' '
	write_app web <<-EOF &&
	health: {http: {path: /health}, interval: 100ms}
	strategy: {blueGreen: {previewPort: $PREVIEW}}
	progressDeadline: 30s
	EOF
	make_release v1 &&
	start_deployd &&
	kiln deploy web v1 --wait &&
	check_web &&
	test_grep "backend web:maint" state/haproxy.cfg &&
	test_grep "frontend fe_web:preview" state/haproxy.cfg
'

test_expect_success 'an adopted HAProxy that runs the older names (web_maint) is reloaded' '
	kill -QUIT $(deployd_pid) && wait_pid $(deployd_pid) 20 &&
	check_web &&
	hp=$(cat state/haproxy.pid) && kill -9 $hp && wait_pid $hp 10 &&
	rm -f state/haproxy.sock &&
	# what an older kiln wrote and ran
	sed -i -e "s/:maint/_maint/g" -e "s/:preview/_preview/g" state/haproxy.cfg &&
	test_grep "backend web_maint" state/haproxy.cfg &&
	(setsid haproxy -db -f state/haproxy.cfg >>old-haproxy.log 2>&1 & echo $! >state/haproxy.pid) &&
	wait_for 10 test -S state/haproxy.sock &&
	start_deployd &&
	test_grep "adopted running haproxy" deployd.log &&
	wait_for 20 grep -q "reloaded haproxy (pid [0-9]*, was [0-9]*) with 1 app(s)" deployd.log &&
	wait_for 10 check_web &&
	kiln maintenance web on &&
	code=$(curl -s -o page -w "%{http_code}" "$URL") && test "$code" = 503 &&
	test_grep "web is down for maintenance" page &&
	kiln maintenance web off &&
	check_web
'

test_expect_success 'apps web_maint and web_preview added: the adopted HAProxy is reloaded with them' '
	PORT=$P2 write_app web_maint <<-EOF &&
	health: {http: {path: /health}, interval: 100ms}
	progressDeadline: 30s
	EOF
	PORT=$P3 write_app web_preview <<-EOF &&
	health: {http: {path: /health}, interval: 100ms}
	strategy: {blueGreen: {}}
	progressDeadline: 30s
	EOF
	kiln deploy --dry-run web_maint v1 &&
	requit &&
	wait_for 20 grep -q "reloaded haproxy (pid [0-9]*, was [0-9]*) with 3 app(s)" deployd.log &&
	kiln deploy web_maint v1 --wait &&
	kiln deploy web_preview v1 --wait &&
	check_all &&
	test_grep "backend web_maint:maint" state/haproxy.cfg &&
	test_grep "backend web_preview:maint" state/haproxy.cfg
'

test_expect_success 'maintenance of web leaves web_maint serving, and the other way round' '
	kiln maintenance web on &&
	code=$(curl -s -o page -w "%{http_code}" "$URL") && test "$code" = 503 &&
	curl -sf "$URL2" | grep "web_maint v1" &&
	curl -sf "$URL3" | grep "web_preview v1" &&
	kiln maintenance web off &&
	kiln maintenance web_maint on &&
	code=$(curl -s -o page -w "%{http_code}" "$URL2") && test "$code" = 503 &&
	test_grep "web_maint is down for maintenance" page &&
	curl -sf "$URL" | grep "web v1" &&
	curl -sf "$URL3" | grep "web_preview v1" &&
	kiln maintenance web_maint off &&
	check_all
'

test_expect_success 'a controller adopting an HAProxy with its own config does not reload it' '
	n=$(grep -c "reloaded haproxy" deployd.log) &&
	requit &&
	wait_for 10 check_all &&
	test $(grep -c "reloaded haproxy" deployd.log) = $n
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
