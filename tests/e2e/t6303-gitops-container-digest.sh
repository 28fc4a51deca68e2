#!/bin/bash
test_description='kiln deployd --config-repo: image digests as the desired release (image: REF@sha256:..., version: sha256:...); a wrong digest is Degraded with the reason, traffic stays; rollback by git writes the digest back'
DEPLOY_KIND=container
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"
. "$TEST_ROOT/e2e/lib-gitops.sh"

# one interval (1s) plus a rolling update of containers on a loaded machine
SYNC_MAX=60
WAIT=$((SYNC_MAX + 20))
WRONG=sha256:$(printf '%064d' 0)
# short VERSION: the digest as tables show it (sha256: and 12 hex digits)
short() { cut -c1-19 "ctx/$1.digest"; }
# set_image REF: the image: line of apps/web.yml
set_image() { sed -i "s|^image: .*|image: $1|" cfg/apps/web.yml; }

test_expect_success 'setup: web names its release by digest' '
	cfg_init &&
	cfg_app web <<-EOF &&
	instances: 2
	health: {http: {path: /health}, interval: 100ms, timeout: 1s}
	strategy: {rolling: {maxSurge: 1, maxUnavailable: 0}}
	progressDeadline: $DEADLINE
	automated: {}
	EOF
	make_release v1 && make_release v2 &&
	grep -q "^sha256:[0-9a-f]\{64\}$" ctx/v1.digest && grep -q "^sha256:[0-9a-f]\{64\}$" ctx/v2.digest &&
	set_image "$DEMO_IMAGE@$(cat ctx/v1.digest)  # pinned by CI" &&
	cfg_push "web: v1 by digest" >c1 &&
	start_gitopsd --interval 1s &&
	wait_for $WAIT app_is web Synced Healthy "$(short v1)" &&
	curl -sf "$URL" | grep "web v1" &&
	kiln status web >st && cat st &&
	test_grep "stable $(cat ctx/v1.digest) (release 1)" st &&
	test_grep "wants $(cat ctx/v1.digest)" st &&
	test $(grep -c "^s[0-9] *$(short v1) *active .*healthy" st) = 2 &&
	kiln releases web >rel && cat rel &&
	test_grep "^1 *$(short v1) .* $(cut -c1-8 c1) *gitops *rolling *succeeded" rel &&
	kiln releases web --json | grep "\"version\":\"$(cat ctx/v1.digest)\"" &&
	podman ps --filter "label=io.kiln.deploy=$KILN_DEPLOY_STATE" --format "{{.Image}}" >images &&
	cat images && test_grep "$DEMO_IMAGE@$(cat ctx/v1.digest)" images
'

test_expect_success 'a pushed digest is synced under load, 0 failed requests' '
	load_start 120 load1 &&
	sleep 0.5 &&
	set_image "$DEMO_IMAGE@$(cat ctx/v2.digest)" &&
	cfg_push "web: v2 by digest" >c2 &&
	wait_for $SYNC_MAX app_is web Synced Healthy "$(short v2)" &&
	load_stop load1 && cat load1 &&
	assert_no_failures load1 &&
	test $(count load1 200 v1) -gt 0 && test $(count load1 200 v2) -gt 0 &&
	kiln releases web >rel && cat rel &&
	test_grep "^2 *$(short v2) .* $(cut -c1-8 c2) *gitops *rolling *succeeded" rel
'

test_expect_success 'a wrong digest: Degraded with the reason, traffic stays on v2, no retry loop' '
	load_start 120 load2 &&
	set_image "$DEMO_IMAGE@$WRONG" &&
	cfg_push "web: a digest that is not in the registry" >c3 &&
	wait_for $WAIT sh -c "kiln releases web | grep -q \"^3 .*failed\"" &&
	wait_for $WAIT app_is web OutOfSync Degraded "$(short v2)" &&
	sleep 3 &&
	load_stop load2 && cat load2 &&
	assert_no_failures load2 &&
	test $(count load2 200 v2) -gt 0 && test $(count load2 200 v1) = 0 &&
	test $(kiln releases web | grep -c "^[0-9]* *sha256:000000000000 ") = 1 &&
	kiln releases web >rel && cat rel &&
	test_grep "^3 *sha256:000000000000 .* $(cut -c1-8 c3) *gitops *rolling *failed .*image $DEMO_IMAGE@$WRONG not found in the registry (wrong digest?)" rel &&
	kiln status web >st && cat st &&
	test_grep "last sync: failed at $(cut -c1-8 c3): .*wrong digest?" st
'

test_expect_success 'a malformed digest: OutOfSync with file:line:col, nothing changes' '
	set_image "$DEMO_IMAGE@sha256:abc" &&
	cfg_push "web: a truncated digest" >c4 &&
	wait_for $WAIT sh -c "kiln status | grep -q \"^web .*apps/web.yml:1:8: error: the image.s @digest must be an image digest\"" &&
	app_is web OutOfSync Healthy "$(short v2)" &&
	curl -sf "$URL" | grep "web v2"
'

test_expect_success 'kiln rollback writes the previous digest back into image:' '
	set_image "$DEMO_IMAGE@$(cat ctx/v2.digest)" &&
	cfg_push "web: back on v2" >c5 &&
	wait_for $WAIT app_is web Synced Healthy "$(short v2)" &&
	git -C config.git show main:apps/web.yml >before &&
	kiln rollback web >out 2>&1 && cat out &&
	test_grep "web back to $(cat ctx/v1.digest)" out &&
	git -C config.git show main:apps/web.yml >after &&
	sed "s|^image: .*|image: $DEMO_IMAGE@$(cat ctx/v1.digest)|" before >want && test_cmp want after &&
	wait_for $WAIT app_is web Synced Healthy "$(short v1)" &&
	curl -sf "$URL" | grep "web v1"
'

test_expect_success 'version: sha256:... is the same release; a malformed digest on the command line is refused' '
	git -C cfg pull -q origin main &&
	set_image "$DEMO_IMAGE" &&
	echo "version: $(cat ctx/v2.digest)" >>cfg/apps/web.yml &&
	cfg_push "web: v2 as version:" &&
	wait_for $WAIT app_is web Synced Healthy "$(short v2)" &&
	test_expect_code 2 kiln deploy web sha256:123 2>err && cat err &&
	test_grep "not a valid version .*or an image digest" err
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
