#!/bin/bash
test_description='kiln deployd --config-repo: sync on poll and on a signed webhook, waves, Degraded without a retry loop, selfHeal, prune, config errors'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"
. "$TEST_ROOT/e2e/lib-gitops.sh"

DB_PORT=$(free_port)
CACHE_PORT=$(free_port)
HOOK_PORT=$(free_port)
# one interval (2s) plus the rolling update: starting containers under a
# sanitizer build on a shared machine takes longer than processes
SYNC_MAX=10
[ "$DEPLOY_KIND" = container ] && SYNC_MAX=40
# any other wait for a rollout: generous (it returns as soon as it holds)
WAIT=$((SYNC_MAX + 20))

test_expect_success 'setup: config repository with web (wave 1), db (wave 0, prune) and cache (no prune)' '
	cfg_init &&
	cfg_app web <<-EOF &&
	instances: 2
	health: {http: {path: /health}, interval: 100ms, timeout: 1s}
	strategy: {rolling: {maxSurge: 1, maxUnavailable: 0}}
	progressDeadline: $DEADLINE
	hooks: {pre: ["echo PreSync \$KILN_RELEASE >>$TRASH/hooks.log"], post: ["echo PostSync \$KILN_RELEASE >>$TRASH/hooks.log"]}
	# bumped by CI
	version: v1
	automated: {selfHeal: true}
	wave: 1
	EOF
	cfg_app db $DB_PORT <<-EOF &&
	health: {http: {path: /health}, interval: 100ms, timeout: 1s}
	version: v1
	automated: {prune: true}
	wave: 0
	EOF
	cfg_app cache $CACHE_PORT <<-EOF &&
	health: {http: {path: /health}, interval: 100ms, timeout: 1s}
	version: v1
	automated: {}
	EOF
	make_release v1 && make_release v2 && make_release v3 unhealthy &&
	cfg_push "three apps" >c1 &&
	printf "s3cr3t-hook-key\n" >secret
'

test_expect_success 'start: every app syncs, wave 0 healthy before wave 1 starts' '
	start_gitopsd --interval 2s &&
	wait_for $WAIT app_is web Synced Healthy v1 &&
	wait_for $WAIT app_is db Synced Healthy v1 &&
	wait_for $WAIT app_is cache Synced Healthy v1 &&
	kiln status >st && cat st &&
	test_grep "^config .*config.git main at $(cut -c1-8 c1)" st &&
	db_done=$(grep -n "db: release [0-9]* (v1) succeeded" deployd.log | cut -d: -f1) &&
	web_start=$(grep -n "web: gitops: syncing" deployd.log | head -n1 | cut -d: -f1) &&
	test -n "$db_done" && test -n "$web_start" && test "$db_done" -lt "$web_start" &&
	kiln releases web >rel && cat rel &&
	test_grep "^[0-9]* *v1 .* $(cut -c1-8 c1) *gitops *rolling *succeeded" rel
'

test_expect_success 'a pushed tag change is synced within one interval under load, 0 failed requests' '
	load_start 120 load1 &&
	sleep 0.5 &&
	sed -i "s/^version: v1/version: v2/" cfg/apps/web.yml &&
	cfg_push "web: v2" >c2 &&
	t0=$(date +%s%N) &&
	wait_for $SYNC_MAX app_is web Synced Healthy v2 &&
	t1=$(date +%s%N) &&
	load_stop load1 && cat load1 &&
	assert_no_failures load1 &&
	test $(count load1 200 v1) -gt 0 && test $(count load1 200 v2) -gt 0 &&
	echo "push to Synced: $(( (t1 - t0) / 1000000 ))ms" &&
	test $(( (t1 - t0) / 1000000 )) -lt $((SYNC_MAX * 1000)) &&
	kiln releases web >rel && cat rel &&
	test_grep "^[0-9]* *v2 .* $(cut -c1-8 c2) *gitops *rolling *succeeded" rel &&
	kiln status web >st && cat st &&
	test_grep "gitops: Synced, Healthy; apps/web.yml at $(cut -c1-8 c2) wants v2; automated (prune off, selfHeal on), wave 1" st &&
	test_grep "last sync: succeeded at $(cut -c1-8 c2)" st &&
	cat hooks.log &&
	tail -n2 hooks.log >last2 && printf "PreSync v2\nPostSync v2\n" >want && test_cmp want last2
'

test_expect_success 'a bad release: Degraded on v2, traffic stays, no retry loop, the failure recorded with its commit' '
	load_start 120 load2 &&
	sed -i "s/^version: v2/version: v3/" cfg/apps/web.yml &&
	cfg_push "web: v3" >c3 &&
	wait_for $((SYNC_MAX + 40)) sh -c "kiln releases web | grep -q \"^[0-9]* *v3 .*failed\"" &&
	wait_for $WAIT app_is web OutOfSync Degraded v2 &&
	n=$(kiln releases web | grep -c " v3 ") &&
	sleep 5 &&
	load_stop load2 && cat load2 &&
	assert_no_failures load2 &&
	test $(count load2 200 v3) = 0 && test $(count load2 200 v2) -gt 0 &&
	test $(kiln releases web | grep -c " v3 ") = "$n" && test "$n" = 1 &&
	app_is web OutOfSync Degraded v2 &&
	kiln releases web >rel && cat rel &&
	test_grep "^[0-9]* *v3 .* $(cut -c1-8 c3) *gitops *rolling *failed .* 0 of 2 new instance(s) healthy" rel &&
	kiln status web >st && cat st &&
	test_grep "last sync: failed at $(cut -c1-8 c3): 0 of 2 new instance(s) healthy" st &&
	test_grep "not retried until apps/web.yml changes" deployd.log
'

test_expect_success 'fixing git syncs again' '
	sed -i "s/^version: v3/version: v2/" cfg/apps/web.yml &&
	cfg_push "web: back to v2" >c4 &&
	wait_for $WAIT app_is web Synced Healthy v2
'

test_expect_success 'selfHeal: a release deployed by hand is reverted to git within one interval' '
	kiln deploy web v1 --wait >out &&
	test_grep "release [0-9]* (v1) succeeded" out &&
	wait_for $WAIT app_is web Synced Healthy v2 &&
	kiln releases web >rel && cat rel &&
	head -n2 rel | tail -n1 | grep "v2 .* $(cut -c1-8 c4) *gitops *rolling *succeeded"
'

test_expect_success 'without selfHeal: a hand-deployed release stays, shown OutOfSync' '
	kiln deploy cache v2 --wait >out &&
	wait_for 5 app_is cache OutOfSync Healthy v2 &&
	sleep 4.5 &&
	app_is cache OutOfSync Healthy v2 &&
	kiln status --json >st.json &&
	python3 -c "
import json, sys
s = json.load(open(\"st.json\"))
a = {x[\"app\"]: x for x in s[\"apps\"]}
assert a[\"cache\"][\"sync\"] == \"OutOfSync\" and a[\"cache\"][\"want\"] == \"v1\" and a[\"cache\"][\"live\"] == \"v2\", a
assert a[\"web\"][\"sync\"] == \"Synced\" and a[\"web\"][\"health\"] == \"Healthy\", a
assert s[\"config\"][\"commit\"] == open(\"c4\").read().strip(), s
" &&
	kiln sync cache --wait >out && cat out &&
	test_grep "deploying v1 to cache" out &&
	app_is cache Synced Healthy v1
'

test_expect_success 'a config file with an error: OutOfSync with file:line:col, nothing running changes' '
	n=$(kiln releases web | wc -l) &&
	sed -i "s/^instances: 2/instances: 2\nreplicas: 3/" cfg/apps/web.yml &&
	cfg_push "web: typo" >c5 &&
	wait_for 10 sh -c "kiln status | grep -q \"^web .*OutOfSync\"" &&
	kiln status >st && cat st &&
	test_grep "^web  *OutOfSync  *Healthy  *-  *v2 .*apps/web.yml:[0-9]*:1: error: unknown key .replicas." st &&
	kiln status web >st && cat st &&
	test_grep "apps/web.yml:[0-9]*:1: error: unknown key .replicas. in the app definition" st &&
	test_expect_code 2 kiln sync web 2>err && test_grep "apps/web.yml:[0-9]*:1: error: unknown key" err &&
	test $(kiln releases web | wc -l) = "$n" &&
	curl -sf "$URL" | grep "web v2" &&
	sed -i "/^replicas: 3/d" cfg/apps/web.yml &&
	cfg_push "web: fix" >c6 &&
	wait_for $WAIT sh -c "kiln status | grep -q \"^web .*Synced  *Healthy\""
'

test_expect_success 'removed from git: pruned with prune, kept (OutOfSync) without' '
	git -C cfg rm -q apps/db.yml apps/cache.yml &&
	cfg_push "drop db and cache" >c7 &&
	wait_for $WAIT sh -c "kiln status | grep -q \"^db  *Synced  *Missing\"" &&
	wait_for $WAIT sh -c "! kiln status db | grep -q \" v1 \"" &&
	! curl -sf "http://127.0.0.1:$DB_PORT/" &&
	kiln status >st && cat st &&
	test_grep "^db  *Synced  *Missing .* pruned" st &&
	test_grep "^cache  *OutOfSync  *Healthy .* removed from git; prune is off" st &&
	curl -sf "http://127.0.0.1:$CACHE_PORT/" | grep "cache v1" &&
	kiln releases db --audit >audit && test_grep "pruned removed from the config repository at $(cut -c1-8 c7)" audit
'

test_expect_success 'restart with a webhook: a signed push syncs at once; unsigned or badly signed ones are refused' '
	kiln deployd --stop >/dev/null &&
	wait_pid $(deployd_pid) 20 &&
	start_gitopsd --interval 10m --webhook 127.0.0.1:$HOOK_PORT --webhook-secret-file secret &&
	wait_for $WAIT app_is web Synced Healthy v2 &&
	sed -i "s/^version: v2/version: v1/" cfg/apps/web.yml &&
	cfg_push "web: v1 again" >c8 &&
	test "$(hook_push -)" = 401 &&
	test "$(hook_push bad)" = 401 &&
	sleep 1 && app_is web Synced Healthy v2 &&
	test "$(hook_push s3cr3t-hook-key refs/heads/other)" = 202 &&
	sleep 1 && app_is web Synced Healthy v2 &&
	t0=$(date +%s%N) &&
	test "$(hook_push s3cr3t-hook-key)" = 202 &&
	wait_for $WAIT app_is web Synced Healthy v1 &&
	t1=$(date +%s%N) &&
	echo "webhook to Synced: $(( (t1 - t0) / 1000000 ))ms" &&
	kiln releases web | head -n2 | tail -n1 | grep "v1 .* $(cut -c1-8 c8) *gitops .*succeeded"
'

test_expect_success 'kiln rollback commits the revert to the config repository; the controller applies it' '
	git -C config.git show main:apps/web.yml >before &&
	kiln rollback web >out 2>&1 && cat out &&
	test_grep "committed [0-9a-f]\{8\} to $TRASH/config.git: web back to v2 (reverting $(cut -c1-8 c8))" out &&
	test "$(git -C config.git log -1 --format=%s main)" = "Revert \"web: v1\": back to v2" &&
	git -C config.git log -1 --format=%b main | grep "this reverts the release set by commit $(cat c8)" &&
	git -C config.git show main:apps/web.yml >after &&
	sed "s/^version: v1/version: v2/" before >want && test_cmp want after &&
	wait_for $WAIT app_is web Synced Healthy v2 &&
	kiln releases web | head -n2 | tail -n1 | grep "v2 .* $(git -C config.git rev-parse main | cut -c1-8) *gitops .*succeeded"
'

test_expect_success 'kiln rollback without push access says which commit to revert; nothing changes' '
	printf "#!/bin/sh\necho read-only >&2\nexit 1\n" >config.git/hooks/pre-receive &&
	chmod +x config.git/hooks/pre-receive &&
	head=$(git -C config.git rev-parse main) &&
	test_expect_code 1 kiln rollback web 2>err && cat err &&
	test_grep "cannot commit the rollback to $TRASH/config.git (push refused: .*); revert the commit that set the running release yourself: git revert $head (sets web back to v1 in apps/web.yml)" err &&
	test "$(git -C config.git rev-parse main)" = "$head" &&
	app_is web Synced Healthy v2 &&
	rm config.git/hooks/pre-receive
'

test_expect_success 'bad options are refused' '
	test_expect_code 2 kiln deployd --branch main 2>err &&
	test_grep "go with --config-repo" err &&
	test_expect_code 2 kiln deployd --config-repo config.git --interval soon 2>err &&
	test_grep "interval .soon. is not a duration" err &&
	test_expect_code 2 kiln deployd --state st2 --config-repo config.git --webhook 127.0.0.1:1 2>err &&
	test_grep "needs --webhook-secret-file" err &&
	test_expect_code 2 kiln deployd --state st3 --config-repo "$TRASH/nope.git" 2>err &&
	test_grep "config repository" err
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
