#!/bin/bash
test_description='kiln deployd --config-repo with a token in the URL: kiln status (text, --json), a fetch error and the logs name the repository without it'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"
. "$TEST_ROOT/e2e/lib-gitops.sh"

TOKEN=s3cret-config-token-42
SYNC_MAX=30
fetch_failed() { kiln status | grep -q "fetch failed"; }

test_expect_success 'setup: the config repository over HTTP with basic auth, synced' '
	cfg_init &&
	cfg_demo web "" v1 {} "instances: 1" &&
	make_release v1 &&
	cfg_push "web" >c1 &&
	python3 "$TEST_ROOT/e2e/git-http-server.py" "$TRASH" "$TRASH/http.port" "$TOKEN" >>"$TRASH/http.log" 2>&1 &
	wait_for 10 test -s http.port &&
	CFG_URL="http://ci:$TOKEN@127.0.0.1:$(cat http.port)/config.git" start_gitopsd --interval 1h &&
	wait_for $SYNC_MAX app_is web Synced Healthy v1
'

test_expect_success 'kiln status names the repository without the token' '
	kiln status >st && cat st &&
	test_grep "^config http://\*\*\*@127.0.0.1:$(cat http.port)/config.git main at" st &&
	kiln status --json >st.json &&
	test_grep "\"url\":\"http://\*\*\*@127.0.0.1:" st.json &&
	! grep -F "$TOKEN" st st.json
'

test_expect_success 'a failed fetch names it without the token too' '
	# the repository goes away: the fetch fails (404) and says so
	mv "$TRASH/config.git" "$TRASH/config.git.gone" &&
	kiln sync --refresh &&
	wait_for $SYNC_MAX fetch_failed &&
	kiln status >st && kiln status --json >st.json && cat st &&
	test_grep "fetch failed: cannot fetch .http://\*\*\*@127.0.0.1" st &&
	! grep -F "$TOKEN" st st.json &&
	! grep -rF "$TOKEN" deployd.log "$KILN_DEPLOY_STATE"/*.log
'

test_done
