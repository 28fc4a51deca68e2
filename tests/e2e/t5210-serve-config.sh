#!/bin/bash
test_description='kiln serve --config FILE: YAML settings, flags win, errors at file:line:col'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

test_expect_success 'errors: unknown keys (with a hint), wrong types, bad YAML, missing file' '
	printf "listen: 127.0.0.1:0\nlimts:\n  max_body_kb: 1\n" >bad1.yml &&
	test_expect_code 2 kiln serve --config bad1.yml 2>err &&
	test_grep "bad1.yml:2:1: error: unknown key .limts. (did you mean .limits.?)" err &&
	printf "jobs: many\n" >bad2.yml &&
	test_expect_code 2 kiln serve --config bad2.yml 2>err &&
	test_grep "bad2.yml:1:7: error: .jobs. must be a number from 1 to 1024" err &&
	printf "limits: [1]\n" >bad3.yml &&
	test_expect_code 2 kiln serve --config bad3.yml 2>err &&
	test_grep "bad3.yml:1:9: error: .limits. must be a mapping" err &&
	printf "listen: [\n" >bad4.yml &&
	test_expect_code 2 kiln serve --config bad4.yml 2>err &&
	test_grep "bad4.yml:" err &&
	test_expect_code 2 kiln serve --config nothere.yml 2>err &&
	test_grep "nothere.yml: error: cannot read the configuration" err
'

test_expect_success 'gitops: errors (unknown key, no repo, bad interval, unreadable secret)' '
	printf "gitops:\n  repo: x.git\n  intervall: 3m\n" >g1.yml &&
	test_expect_code 2 kiln serve --config g1.yml 2>err &&
	test_grep "g1.yml:3:3: error: unknown key .intervall. (did you mean .interval.?)" err &&
	printf "gitops:\n  path: apps\n" >g2.yml &&
	test_expect_code 2 kiln serve --config g2.yml 2>err &&
	test_grep "g2.yml:2:3: error: .gitops. needs .repo." err &&
	printf "gitops:\n  repo: x.git\n  interval: soon\n" >g3.yml &&
	test_expect_code 2 kiln serve --config g3.yml 2>err &&
	test_grep "g3.yml:3:13: error: .interval. must be a duration" err &&
	printf "gitops:\n  repo: x.git\n  webhook_secret_file: %s/nope\n" "$TRASH" >g4.yml &&
	test_expect_code 3 kiln serve --listen 127.0.0.1:0 --data "$DATA" --config g4.yml 2>err &&
	test_grep "cannot read gitops.webhook_secret_file .*nope" err
'

test_expect_success 'the limits of the file apply; a flag wins over the file' '
	printf "listen: 127.0.0.1:1\ndata: %s\njobs: 1\nlimits:\n  max_body_kb: 1\n  request_timeout: 2\n" "$DATA" >serve.yml &&
	start_serve --config serve.yml &&
	head -c 2000 /dev/zero | tr "\0" a >body &&
	curl -sS -o out -w "%{http_code}" -X POST "$(serve_url)/hooks/github" \
		-H "X-GitHub-Event: push" --data-binary @body >code &&
	test "$(cat code)" = 413 &&
	if [ -z "${KILN_DB:-}" ]; then test -f "$DATA/kiln.db"; else test -f "$DATA/initial-admin-token"; fi &&
	stop_serve
'

test_done
