#!/bin/bash
test_description='kiln rerun RUN --failed / POST /api/v1/runs/ID/rerun {"failed_only":true}: a new attempt re-runs the failed and cancelled jobs and their dependents, reusing the successful jobs and their outputs'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

ZERO=0000000000000000000000000000000000000000
FLAG="$TRASH/fixed"

test_expect_success 'setup: jobs that fail until a flag file exists' '
	serve_app_repo CI <<-EOF
	  a:
	    runs-on: ubuntu-latest
	    outputs:
	      x: \${{ steps.s.outputs.x }}
	    steps:
	      - id: s
	        run: echo "A RAN attempt \$GITHUB_RUN_ATTEMPT" && echo "x=from-attempt-\$GITHUB_RUN_ATTEMPT" >>"\$GITHUB_OUTPUT"
	  m:
	    runs-on: ubuntu-latest
	    strategy:
	      fail-fast: false
	      matrix:
	        k: [1, 2]
	    steps:
	      - run: echo "M\${{ matrix.k }} RAN" && { test \${{ matrix.k }} = 1 || test -f $FLAG; }
	  b:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "B RAN attempt \$GITHUB_RUN_ATTEMPT" && test -f $FLAG
	  c:
	    needs: [a, b]
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "C RAN with \${{ needs.a.outputs.x }}"
	  d:
	    needs: a
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "D RAN with \${{ needs.a.outputs.x }}"
	EOF
'

serve_app --jobs 1

test_expect_success 'the first attempt fails in b and m (2); c is skipped' '
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" r1 >out &&
	wait_status 1 failure &&
	run_of 1 >run1 &&
	jobs_of $(cat run1) >jobs1 && cat jobs1 &&
	for j in a=success "m (1)=success" "m (2)=failure" b=failure c=skipped d=success; do
		grep -q "$j" jobs1 || { echo "missing $j" >&2; return 1; }
	done
'

test_expect_success 'kiln rerun --failed: only the failed jobs and their dependents run, with the reused outputs' '
	touch "$FLAG" &&
	k rerun "$(cat run1)" --failed >out &&
	test_grep "^run $(cat run1): attempt 2 queued as event 2 (failed jobs only)" out &&
	wait_status 2 success &&
	log="$DATA/events/2.log" &&
	test_grep -v "A RAN" "$log" && test_grep -v "M1 RAN" "$log" && test_grep -v "D RAN" "$log" &&
	test_grep "\[a\] kiln: success in the previous attempt: not run again" "$log" &&
	test_grep "M2 RAN" "$log" &&
	test_grep "B RAN attempt 2" "$log" &&
	test_grep "C RAN with from-attempt-1" "$log" &&
	run_of 2 >run2 &&
	api "/api/v1/runs/$(cat run2)" | python3 -c "import json,sys; r=json.load(sys.stdin); assert r[\"attempt\"]==2 and r[\"conclusion\"]==\"success\", r" &&
	jobs_of $(cat run2) >jobs2 &&
	for j in a=success "m (1)=success" "m (2)=success" b=success c=success d=success; do
		grep -q "$j" jobs2 || { echo "missing $j" >&2; return 1; }
	done &&
	api /api/v1/events/2 | python3 -c "import json,sys; e=json.load(sys.stdin); assert e[\"attempt\"]==2 and e[\"rerun_of\"]==1 and e[\"reuse_run\"]==$(cat run1), e"
'

test_expect_success 'a successful run has no failed jobs to re-run (409, exit 1); a full re-run runs every job' '
	test_expect_code 1 k rerun "$(cat run2)" --failed 2>err &&
	test_grep "no failed jobs to re-run (HTTP 409 not_rerunnable)" err &&
	k rerun "$(cat run2)" >out &&
	test_grep "attempt 3 queued as event 3$" out &&
	wait_status 3 success &&
	test_grep "A RAN attempt 3" "$DATA/events/3.log" &&
	test_grep "D RAN with from-attempt-3" "$DATA/events/3.log"
'

test_expect_success 'a bad body is 400; kiln rerun without a run is a usage error' '
	curl -sS -o out -w "%{http_code}\n" -X POST -H "Authorization: Bearer $TOKEN" \
		-d "{\"failed_only\":\"yes\"}" "$(serve_url)/api/v1/runs/$(cat run1)/rerun" >code &&
	grep -qx 400 code &&
	test_expect_code 2 k rerun 2>err && test_grep "usage: kiln rerun RUN" err
'

test_done
