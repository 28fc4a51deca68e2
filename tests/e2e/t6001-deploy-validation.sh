#!/bin/bash
test_description='kiln deploy: app definitions and CLI input are validated, bad input changes nothing'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"

test_expect_success 'dry run prints the plan of a valid app' '
	write_app web <<-EOF &&
	instances: 2
	health: {http: {path: /health}, interval: 200ms}
	strategy:
	  canary:
	    steps: [{setWeight: 20}, {pause: {duration: 2s}}, {analysis: {}}, {setWeight: 50}, {pause: {}}]
	EOF
	kiln deploy web v1 --dry-run >out &&
	test_grep "deploy v1 with canary, 2 instance" out &&
	test_grep "setWeight 20: canary 20%, stable 80%" out &&
	test_grep "pause until .kiln promote web." out &&
	test_grep "GET /health expect 200" out &&
	kiln deploy web v1 --dry-run --strategy rolling >out &&
	test_grep "maxSurge 1, maxUnavailable 0" out
'

test_expect_success 'unknown key is reported with its position and a hint' '
	write_app bad <<-EOF &&
	instances: 2
	helth: {tcp: {}}
	EOF
	test_expect_code 2 kiln deploy bad v1 --dry-run 2>err &&
	test_grep "bad.yml:6:1: error: unknown key .helth. in the app definition (did you mean .health.?)" err
'

test_expect_success 'image apps: the plan names the image; a tag in image, dir, and container keys without image are errors' '
	cat >repo/.kiln/apps/img.yml <<-EOF &&
	image: registry.example.com/team/web
	port: 9000
	volumes: [./data:/data:ro, cache:/cache]
	resources: {memory: 256m, cpus: 0.5, pids: 64}
	listen: 127.0.0.1:$PORT
	EOF
	kiln deploy img 1.2.3 --dry-run >out &&
	test_grep "podman containers of registry.example.com/team/web:1.2.3, container port 9000" out &&
	cat >repo/.kiln/apps/bad.yml <<-EOF &&
	image: registry.example.com/team/web:latest
	dir: releases/x
	resources: {memory: lots, cpus: -1}
	listen: 127.0.0.1:$PORT
	EOF
	test_expect_code 2 kiln deploy bad v1 --dry-run 2>err &&
	cat err &&
	test_grep "bad.yml:1:8: error: image .registry.example.com/team/web:latest. must not carry a tag or digest" err &&
	test_grep "bad.yml:2:6: error: .dir. applies to process apps only" err &&
	test_grep "bad.yml:3:21: error: resources.memory must be a size like 256m" err &&
	test_grep "bad.yml:3:33: error: resources.cpus must be a number" err &&
	cat >repo/.kiln/apps/bad.yml <<-EOF &&
	command: [sleep, 1]
	port: 80
	volumes: [/x:/y]
	image: {repository: Registry/UPPER}
	listen: 127.0.0.1:$PORT
	EOF
	test_expect_code 2 kiln deploy bad v1 --dry-run 2>err &&
	cat err &&
	test_grep "bad.yml:4:21: error: image .Registry/UPPER. has .U." err &&
	cat >repo/.kiln/apps/bad.yml <<-EOF &&
	command: [sleep, 1]
	port: 80
	listen: 127.0.0.1:$PORT
	EOF
	test_expect_code 2 kiln deploy bad v1 --dry-run 2>err &&
	test_grep "bad.yml:2:7: error: .port. applies to container apps only" err &&
	rm repo/.kiln/apps/img.yml
'

test_expect_success 'bad values are all reported, each with file:line:col' '
	write_app bad <<-EOF &&
	instances: lots
	health:
	  http: {path: health, status: 999}
	  interval: soon
	strategy:
	  canary:
	    steps: [{setWeight: 120}, {pause: {duraton: 1s}}]
	analysis: {errorRate: ten}
	EOF
	test_expect_code 2 kiln deploy bad v1 --dry-run 2>err &&
	test_grep "bad.yml:5:12: error: instances must be an integer from 1 to 32" err &&
	test_grep "bad.yml:7:16: error: health.http.path must start with" err &&
	test_grep "bad.yml:7:32: error: health.http.status must be an integer from 100 to 599" err &&
	test_grep "bad.yml:8:13: error: health.interval must be a duration" err &&
	test_grep "bad.yml:11:25: error: setWeight must be an integer from 0 to 100" err &&
	test_grep "bad.yml:11:40: error: unknown key .duraton. in pause (did you mean .duration.?)" err &&
	test_grep "bad.yml:12:23: error: analysis.errorRate must be a percentage" err
'

test_expect_success 'two strategies, no command, yaml syntax errors' '
	cat >repo/.kiln/apps/two.yml <<-EOF &&
	listen: 127.0.0.1:1
	strategy: {rolling: {}, canary: {}}
	EOF
	test_expect_code 2 kiln deploy two v1 -n 2>err &&
	test_grep "two.yml:1:1: error: app .two. has no command" err &&
	test_grep "two.yml:2:11: error: strategy: choose exactly one" err &&
	printf "command: [a\n" >repo/.kiln/apps/syn.yml &&
	test_expect_code 2 kiln deploy syn v1 -n 2>err &&
	test_grep "^.*syn.yml:[0-9]*:[0-9]*: error: " err
'

test_expect_success 'bad CLI input: usage errors exit 2' '
	test_expect_code 2 kiln deploy web 2>err &&
	test_grep "wrong number of arguments" err &&
	test_expect_code 2 kiln deploy web "../../etc" 2>err &&
	test_grep "is not a valid version" err &&
	test_expect_code 2 kiln deploy web v1 --strategy canry 2>err &&
	test_grep "unknown strategy .canry. (did you mean .canary.?)" err &&
	test_expect_code 2 kiln deploy nope v1 -n 2>err &&
	test_grep "no such app .nope." err &&
	test_expect_code 2 kiln maintenance web maybe 2>err &&
	test_expect_code 2 kiln deploy web v1 --bogus 2>err &&
	test_grep "unknown option" err
'

test_expect_success 'without a controller: clear error, exit 3' '
	test_expect_code 3 kiln status web 2>err &&
	test_grep "cannot reach kiln deployd" err
'

test_expect_success 'deployd refuses to start with an invalid app (exit 2), starts nothing' '
	test_expect_code 2 kiln deployd 2>err &&
	test_grep "bad.yml:5:12: error" err &&
	test_path_is_missing() { ! test -e "$1"; } &&
	test_path_is_missing state/haproxy.pid
'

test_expect_success 'a bad app file at deploy time is refused and changes nothing' '
	rm repo/.kiln/apps/bad.yml repo/.kiln/apps/two.yml repo/.kiln/apps/syn.yml &&
	write_app web <<-EOF &&
	health: {http: {path: /health}, interval: 100ms}
	strategy: {blueGreen: {scaleDownDelay: 1s}}
	EOF
	make_release v1 &&
	start_deployd &&
	kiln deploy web v1 --wait >out &&
	curl -sf "$URL" >body && test_grep "web v1" body &&
	write_app web <<-EOF &&
	health: {http: {path: /health}, interval: 100ms}
	strategy: {blueGreen: {scaleDownDelay: nope}}
	EOF
	make_release v2 &&
	test_expect_code 2 kiln deploy web v2 --wait 2>err &&
	test_grep "web.yml:6:40: error: scaleDownDelay must be a duration" err &&
	test_expect_code 2 kiln deploy web v3 --wait 2>err &&
	curl -sf "$URL" >body && test_grep "web v1" body &&
	kiln releases web >rel &&
	test_grep -v "v2" rel &&
	test $(grep -c "succeeded" rel) = 1
'

test_expect_success 'a missing release directory is refused (exit 2)' '
	write_app web <<-EOF &&
	health: {http: {path: /health}, interval: 100ms}
	EOF
	test_expect_code 2 kiln deploy web v9 2>err &&
	test_grep "release directory .*releases/v9. does not exist" err
'

test_done
