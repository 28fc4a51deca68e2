#!/bin/bash
test_description='kiln serve: a repository'"'"'s isolate setting (kiln repo add --isolate, kiln repo set, the server'"'"'s isolate: default) runs its jobs in the bubblewrap sandbox'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

command -v bwrap >/dev/null || test_skip_all "bubblewrap (bwrap) is needed (make deps installs it)"

ZERO=0000000000000000000000000000000000000000

# push N: a commit on main and its push webhook; prints the event id
push() {
	git -C src commit -q --allow-empty -m "push $1" &&
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" "d$1" >"$TRASH/hook.out" &&
	head -n1 "$TRASH/hook.out" | grep -qx 202 &&
	python3 -c "import json; print(json.load(open(\"$TRASH/hook.body\"))[\"event\"])"
}

test_expect_success 'setup: a workflow that writes outside its workspace' '
	mkdir outside &&
	test_create_repo src &&
	write_workflow src ci <<-EOF &&
	on: push
	jobs:
	  w:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo ok >inside.txt && echo written >"$TRASH/outside/\$GITHUB_RUN_ID"
	EOF
	test "$(git -C src log --oneline -- .github | wc -l)" = 1
'

test_expect_success 'repo add --isolate is stored and listed; two modes at once are a usage error' '
	kiln repo add acme/app "$TRASH/src" --isolate >secret 2>err &&
	kiln repo list >list &&
	test_grep "acme/app .* isolate=on$" list &&
	test_expect_code 2 kiln repo set acme/app --isolate --no-isolate 2>err &&
	test_expect_code 2 kiln repo set acme/app 2>err &&
	test_expect_code 2 kiln repo set nosuch/repo --isolate 2>err &&
	test_grep "no repository .nosuch/repo." err
'

start_serve --jobs 1
SECRET=$(cat secret)

test_expect_success 'an isolated repository: the write outside the workspace fails the run' '
	id=$(push 1) &&
	wait_status $id failure 60 &&
	test_grep "outside/[0-9]*: \\(Read-only file system\\|No such file or directory\\)" "$DATA/events/$id.log" &&
	test -z "$(ls outside)"
'

test_expect_success 'kiln repo set --no-isolate (server running): the next run writes outside' '
	kiln repo set acme/app --no-isolate 2>err &&
	test_grep "isolate off" err &&
	id=$(push 2) &&
	wait_status $id success 60 &&
	test -n "$(ls outside)" &&
	rm -f outside/*
'

test_expect_success 'SIGTERM stops it' '
	stop_serve
'

test_expect_success 'the server config isolate: on applies to repositories that follow the default' '
	kiln repo set acme/app --isolate-default 2>err &&
	test_grep "as the server.s default" err &&
	printf "isolate: on\n" >serve.yml &&
	start_serve --jobs 1 --config "$TRASH/serve.yml" &&
	id=$(push 3) &&
	wait_status $id failure 60 &&
	test_grep "outside/[0-9]*: \\(Read-only file system\\|No such file or directory\\)" "$DATA/events/$id.log" &&
	test -z "$(ls outside)" &&
	stop_serve
'

test_expect_success 'a bad isolate value in the server config is an error at its position' '
	printf "jobs: 1\nisolate: maybe\n" >bad.yml &&
	test_expect_code 2 kiln serve --listen 127.0.0.1:0 --data "$DATA" --config bad.yml 2>err &&
	test_grep "bad.yml:2:10: error: .isolate. must be on, off or no-network" err
'

test_done
