#!/bin/bash
test_description='kiln deploy: canary p95 latency from the instances'"'"' Prometheus histograms rolls back a 3x slower release'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"

export DEMO_DELAY=10
# HAProxy's average-latency check is off (latencyRatio: 0): only the p95
# from /metrics can judge latency here.
test_expect_success 'setup: canary app with analysis.latency, stable v1' '
	write_app web <<-EOF &&
	instances: 2
	health: {http: {path: /health}, interval: 100ms, timeout: 1s}
	strategy:
	  canary:
	    steps: [{setWeight: 30}, {analysis: {intervals: 3}}]
	analysis:
	  interval: 1s
	  errorRate: 5%
	  latencyRatio: 0
	  minLatencyDelta: 5ms
	  failureLimit: 1
	  minRequests: 10
	  latency: {source: prometheus, path: /metrics, metric: http_request_duration_seconds, quantile: 0.95, maxRatio: 2}
	progressDeadline: 30s
	EOF
	make_release v1 && make_release v2 slow && make_release v3 &&
	start_deployd &&
	kiln deploy web v1 --wait >out &&
	curl -sf "$URL" | grep "web v1" &&
	kiln deploy web v2 --dry-run >plan && cat plan &&
	test_grep "p95 of http_request_duration_seconds (from /metrics) > 2.0x stable" plan
'

test_expect_success 'the scrape reads the demo app histogram' '
	port=$(sed -n "s/.*started v1 (pid [0-9]*, port \([0-9]*\)).*/\1/p" deployd.log | head -n1) &&
	test -n "$port" &&
	curl -sf "http://127.0.0.1:$port/metrics" >m &&
	test_grep "^http_request_duration_seconds_bucket{release=\"v1\",le=\"+Inf\"} [0-9]" m
'

test_expect_success 'a 3x slower canary is rolled back on p95, with the figures in kiln releases' '
	load_start 60 slow &&
	test_expect_code 1 kiln deploy web v2 --wait >out 2>&1 &&
	load_stop slow &&
	cat out &&
	test_grep "analysis [0-9]*: inconclusive: .*p95 inconclusive: baseline scrape" out &&
	test_grep "analysis [0-9]*: FAILED: p95 [0-9.]*ms > 2.0x stable.s p95 [0-9.]*ms ([0-9]* canary / [0-9]* stable observations)" out &&
	! grep "FAILED: latency" out &&
	kiln releases web >rel && cat rel &&
	test_grep "^2 *v2 .*canary *rolled-back .*analysis failed at canary weight 30%: p95 [0-9.]*ms > 2.0x stable" rel &&
	test $(count slow 200 v1) -gt 0 &&
	load_start 1 after && load_wait after &&
	assert_no_failures after &&
	test $(count after 200 v2) = 0
'

test_expect_success 'the p95 figures are about 3x apart (the demo app sleeps 10ms vs 30ms)' '
	line=$(grep -o "FAILED: p95 [0-9.]*ms > 2.0x stable.s p95 [0-9.]*ms" out | head -n1) &&
	c=$(echo "$line" | awk "{ print \$3 }" | tr -d ms) &&
	s=$(echo "$line" | awk "{ print \$8 }" | tr -d ms) &&
	echo "canary $c stable $s" &&
	awk -v c="$c" -v s="$s" "BEGIN { exit !(c >= 30 && s >= 10 && s < 25) }"
'

test_expect_success 'a canary as fast as stable passes the p95 analysis' '
	load_start 60 good &&
	kiln deploy web v3 --wait >out 2>&1 &&
	load_stop good &&
	cat out &&
	test_grep "analysis [0-9]*: ok: .*p95 [0-9.]*ms vs 2.0x stable.s p95 [0-9.]*ms" out &&
	test_grep "release 3 (v3) succeeded" out &&
	assert_no_failures good
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
