#!/bin/bash
test_description='kiln serve: on.schedule crons of the default branch queue schedule events once a minute'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

test_expect_success 'setup: every-minute and never crons on main, one only on another branch' '
	test_create_repo src &&
	write_workflow src nightly <<-\EOF &&
	on:
	  schedule:
	    - cron: "0 0 30 2 *"
	    - cron: "* * * * *"
	jobs:
	  tick:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "event=$GITHUB_EVENT_NAME ref=$GITHUB_REF schedule=${{ github.event.schedule }}"
	EOF
	write_workflow src never <<-\EOF &&
	on:
	  schedule:
	    - cron: "0 0 30 2 *"
	jobs:
	  x:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo never
	EOF
	git -C src checkout -q -b other &&
	write_workflow src branchonly <<-\EOF &&
	on:
	  schedule:
	    - cron: "* * * * *"
	jobs:
	  x:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo branch-only
	EOF
	git -C src checkout -q main &&
	kiln repo add acme/app "$TRASH/src" >secret
'

start_serve

test_expect_success 'within a minute: a schedule event for nightly.yml only, which runs' '
	for i in $(seq 1 700); do
		[ "$(events "kind = '\''schedule'\''")" -ge 1 ] && break
		sleep 0.1
	done &&
	test "$(events "kind = '\''schedule'\'' AND (payload NOT LIKE '\''%nightly.yml%'\'' OR ref <> '\''refs/heads/main'\'')")" = 0 &&
	id=$(db_sql "SELECT min(id) FROM events WHERE kind = '\''schedule'\''") &&
	wait_status $id success &&
	test_grep "event=schedule ref=refs/heads/main schedule=\* \* \* \* \*" "$DATA/events/$id.log" &&
	! grep -q "never\|branch-only" "$DATA/events/$id.log"
'

test_expect_success 'a restart in the same minute does not fire again' '
	stop_serve &&
	start_serve &&
	sleep 1.5 &&
	n=$(events "kind = '\''schedule'\''") &&
	test "$n" -le 2 &&
	db_sql "SELECT delivery FROM events WHERE kind = '\''schedule'\''" >ds &&
	python3 -c "
ds = open(\"ds\").read().splitlines()
assert len(ds) == len(set(ds)), ds
assert all(d.startswith(\"acme/app:nightly.yml:* * * * *:\") for d in ds), ds
"
'

test_expect_success 'stop' '
	stop_serve
'

test_done
