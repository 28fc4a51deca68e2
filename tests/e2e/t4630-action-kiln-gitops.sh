#!/bin/bash
test_description='uses: kiln/gitops bumps a release in a config repository: comments and key order kept, set: paths, retry on a non-fast-forward push, clear failures'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup: a config repository and a CI repository' '
	git init -q --bare -b main config.git &&
	git clone -q config.git cfg 2>/dev/null &&
	git -C cfg checkout -q -b main &&
	mkdir -p cfg/apps/api &&
	cat >cfg/apps/web.yml <<-\EOF &&
	# web: the storefront
	command: [python3, app.py]   # no shell
	listen: 127.0.0.1:8080

	version: v1   # bumped by CI
	automated: {prune: true, selfHeal: true}
	EOF
	cat >cfg/apps/api/values.yaml <<-\EOF &&
	image:
	  repository: registry.example.com/team/api  # where CI pushes
	  tag: "0a1b2c3d"    # the release
	listen: 8081
	EOF
	git -C cfg add -A && git -C cfg -c user.name=ops -c user.email=ops@example.com commit -q -m init &&
	git -C cfg push -q origin main 2>/dev/null &&
	test_create_repo ci
'

# bump_workflow WITH...: a workflow of one kiln/gitops step with these inputs
bump_workflow() {
	{
		echo "on: push"
		echo "jobs:"
		echo "  bump:"
		echo "    runs-on: ubuntu-latest"
		echo "    steps:"
		echo "      - id: g"
		echo "        uses: kiln/gitops@v1"
		echo "        with:"
		for kv in "$@"; do echo "          $kv"; done
		echo "      - run: echo \"changed=\${{ steps.g.outputs.changed }} commit=\${{ steps.g.outputs.commit }}\""
	} >ci/.github/workflows/bump.yml
}

test_expect_success 'app + version: one line changes, comments and key order stay; the commit is pushed' '
	mkdir -p ci/.github/workflows &&
	bump_workflow "repo: $TRASH/config.git" "path: apps" "app: web" "version: v2" &&
	(cd ci && kiln run) >out 2>&1 &&
	cat out &&
	git -C config.git show main:apps/web.yml >web.yml &&
	sed "s/^version: v1   # bumped by CI/version: v2   # bumped by CI/" cfg/apps/web.yml >want &&
	test_cmp want web.yml &&
	test_grep "changed=true commit=$(git -C config.git rev-parse main)" out &&
	test "$(git -C config.git log -1 --format=%s main)" = "web: version v2" &&
	test "$(git -C config.git log -1 --format=%an main)" != "" &&
	test $(git -C config.git rev-list --count main) = 2
'

test_expect_success 'set: .image.tag in a values.yaml keeps its quotes and comments; the same value again changes nothing' '
	bump_workflow "repo: $TRASH/config.git" "file: apps/api/values.yaml" "set: .image.tag=9f8e7d6c" "message: \"api: release 9f8e7d6c\"" &&
	(cd ci && kiln run) >out 2>&1 &&
	cat out &&
	git -C config.git show main:apps/api/values.yaml >values.yaml &&
	sed "s/tag: \"0a1b2c3d\"    # the release/tag: \"9f8e7d6c\"    # the release/" cfg/apps/api/values.yaml >want &&
	test_cmp want values.yaml &&
	test "$(git -C config.git log -1 --format=%s main)" = "api: release 9f8e7d6c" &&
	(cd ci && kiln run) >out 2>&1 &&
	test_grep "already set: nothing to commit" out &&
	test_grep "changed=false" out &&
	test $(git -C config.git rev-list --count main) = 3
'

test_expect_success 'a push that loses a race (non-fast-forward) is retried on the new head' '
	# the first clone of the config repository lets another commit land
	# right after it (the server runs this for every fetch), so the
	# first push is rejected as non-fast-forward
	cat >race.sh <<-EOF &&
	#!/bin/sh
	if [ ! -e "$TRASH/raced" ]; then
		touch "$TRASH/raced"
		unset \$(git rev-parse --local-env-vars)
		git clone -q "$TRASH/config.git" "$TRASH/other" 2>/dev/null &&
		echo "# another change" >>"$TRASH/other/apps/api/values.yaml" &&
		git -C "$TRASH/other" -c user.name=x -c user.email=x@x commit -q -am other &&
		git -C "$TRASH/other" push -q origin main 2>/dev/null
	fi
	exec "\$@"
	EOF
	chmod +x race.sh &&
	printf "[uploadpack]\n\tpackObjectsHook = $TRASH/race.sh\n" >gitconfig &&
	# file:// so that git talks to upload-pack (a plain path clones locally)
	bump_workflow "repo: file://$TRASH/config.git" "path: apps" "app: web" "version: v3" &&
	(cd ci && GIT_CONFIG_GLOBAL=$TRASH/gitconfig kiln run) >out 2>&1 &&
	cat out &&
	test -e raced &&
	test_grep "push rejected as non-fast-forward: fetching and trying again (2 of 5)" out &&
	git -C config.git log --format=%s -3 main >log &&
	printf "web: version v3\nother\napi: release 9f8e7d6c\n" >want && test_cmp want log &&
	git -C config.git show main:apps/web.yml | grep "^version: v3   # bumped by CI$" &&
	git -C config.git show main:apps/api/values.yaml | grep "^# another change$"
'

test_expect_success 'failures: a missing key, an unknown app, a bad set, a missing repo fail the step with the reason' '
	bump_workflow "repo: $TRASH/config.git" "path: apps" "app: web" "set: .image.tag=x" &&
	test_expect_code 1 env -C ci kiln run >out 2>&1 &&
	test_grep "apps/web.yml: no key ..image. (of .image.tag)" out &&
	bump_workflow "repo: $TRASH/config.git" "path: apps" "app: nope" "version: v1" &&
	test_expect_code 1 env -C ci kiln run >out 2>&1 &&
	test_grep "no file for app .nope. in apps" out &&
	bump_workflow "repo: $TRASH/config.git" "app: web" "set: image.tag" &&
	test_expect_code 1 env -C ci kiln run >out 2>&1 &&
	test_grep "set .image.tag. is not PATH=VALUE" out &&
	bump_workflow "repo: $TRASH/nope.git" "app: web" "version: v1" &&
	test_expect_code 1 env -C ci kiln run >out 2>&1 &&
	test_grep "cannot clone branch .main. of $TRASH/nope.git" out &&
	test $(git -C config.git rev-list --count main) = 5
'

test_done
