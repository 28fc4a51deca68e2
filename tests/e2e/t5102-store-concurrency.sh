#!/bin/bash
test_description='store: any number of kiln processes may open a fresh store at once'
. "$(dirname "$0")/../lib.sh"

# 8 commands started together on a fresh data directory, 20 times: one
# applies the migrations, the others wait for the writer lock and see them
test_expect_success 'setup' '
	test_create_repo repo &&
	write_workflow repo ci <<-\EOF
	name: CI
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo built
	EOF
'

test_expect_success '8 concurrent first starts (runs, secret set, runs list), 20 times' '
	for trial in $(seq 1 20); do
		export KILN_HOME="$TRASH/kh$trial"
		pids=
		for i in 1 2 3 4 5; do
			(cd repo && exec kiln run >"$TRASH/out.$trial.$i" 2>&1) &
			pids="$pids $!"
		done
		(printf "v%s" $trial | kiln secret set TOKEN >"$TRASH/out.$trial.6" 2>&1) &
		pids="$pids $!"
		(cd repo && exec kiln runs >"$TRASH/out.$trial.7" 2>&1) &
		pids="$pids $!"
		(cd repo && exec kiln run >"$TRASH/out.$trial.8" 2>&1) &
		pids="$pids $!"
		for p in $pids; do
			wait $p || { echo "trial $trial: pid $p failed"; cat "$TRASH"/out.$trial.*; exit 1; }
		done
		! grep -E "locked|malformed|already exists|migration|warning" "$TRASH"/out.$trial.* &&
		(cd repo && kiln runs >"$TRASH/runs.$trial") &&
		test $(grep -c "^[0-9].* CI .*success" "$TRASH/runs.$trial") = 6 &&
		(cd repo && kiln runs --json) >"$TRASH/runs.json" &&
		python3 -c "import json; d=json.load(open(\"$TRASH/runs.json\")); assert sorted(r[\"number\"] for r in d)==[1,2,3,4,5,6], d" &&
		kiln secret list >"$TRASH/secrets" &&
		test_grep "^-  *TOKEN " "$TRASH/secrets" || exit 1
	done
'

test_done
