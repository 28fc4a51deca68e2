#!/bin/bash
test_description='kiln rerun --job ID / POST /api/v1/jobs/ID/rerun (GitHub "Re-run this job"): a new attempt runs that job and the jobs needing it; every other job keeps its result (a failure too) and its outputs; roles, unknown jobs, running runs and usage errors are refused'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

ZERO=0000000000000000000000000000000000000000
FLAG="$TRASH/fixed"

test_expect_success 'setup: b fails until a flag file exists, e always fails, c needs b, d needs a' '
	serve_app_repo CI <<-EOF
	  a:
	    runs-on: ubuntu-latest
	    outputs:
	      x: \${{ steps.s.outputs.x }}
	    steps:
	      - id: s
	        run: echo "A RAN attempt \$GITHUB_RUN_ATTEMPT" && echo "x=from-attempt-\$GITHUB_RUN_ATTEMPT" >>"\$GITHUB_OUTPUT"
	  b:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "B RAN attempt \$GITHUB_RUN_ATTEMPT" && test -f $FLAG
	  e:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "E RAN attempt \$GITHUB_RUN_ATTEMPT" && false
	  c:
	    needs: [a, b]
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "C RAN with \${{ needs.a.outputs.x }}"
	  d:
	    needs: a
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "D RAN attempt \$GITHUB_RUN_ATTEMPT"
	EOF
'

serve_app --jobs 1

# the id of job $2 of run $1
job_id () { api "/api/v1/runs/$1/jobs" | python3 -c "import json,sys; print([j[\"id\"] for j in json.load(sys.stdin)[\"jobs\"] if j[\"name\"]==\"$2\"][0])"; }

test_expect_success 'the first attempt: b and e fail, c is skipped' '
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" r1 >out &&
	wait_status 1 failure 60 &&
	run_of 1 >run1 &&
	jobs_of $(cat run1) >jobs1 && cat jobs1 &&
	for j in a=success b=failure e=failure c=skipped d=success; do
		grep -q "$j" jobs1 || { echo "missing $j" >&2; return 1; }
	done
'

test_expect_success 'kiln rerun --job B: b and c run; a, d and e keep their results; e still fails the run' '
	touch "$FLAG" &&
	job_id $(cat run1) b >jb &&
	k runs "$(cat run1)" >view && cat view &&
	test_grep "^$(cat jb) *completed *failure .* b$" view &&
	k rerun --job "$(cat jb)" >out &&
	test_grep "^job $(cat jb) (b): attempt 2 queued as event 2$" out &&
	wait_status 2 failure 60 &&
	log="$DATA/events/2.log" &&
	test_grep -v "A RAN" "$log" && test_grep -v "D RAN" "$log" && test_grep -v "E RAN" "$log" &&
	test_grep "\[a\] kiln: success in the previous attempt: not run again" "$log" &&
	test_grep "\[e\] kiln: failure in the previous attempt: not run again" "$log" &&
	test_grep "B RAN attempt 2" "$log" &&
	test_grep "C RAN with from-attempt-1" "$log" &&
	run_of 2 >run2 &&
	jobs_of $(cat run2) >jobs2 && cat jobs2 &&
	for j in a=success b=success e=failure c=success d=success; do
		grep -q "$j" jobs2 || { echo "missing $j" >&2; return 1; }
	done &&
	api /api/v1/events/2 | python3 -c "import json,sys; e=json.load(sys.stdin); assert e[\"attempt\"]==2 and e[\"rerun_of\"]==1 and e[\"reuse_run\"]==$(cat run1) and e[\"rerun_job\"]==\"b\", e" &&
	api "/api/v1/audit?action=run.rerun" >audit &&
	test_grep "attempt 2, job b" audit
'

test_expect_success 'the API: 201 with the job; a viewer is refused (403); an unknown job is 404' '
	job_id $(cat run2) d >jd &&
	curl -sS -o out -w "%{http_code}\n" -X POST -H "Authorization: Bearer $TOKEN" \
		"$(serve_url)/api/v1/jobs/$(cat jd)/rerun" >code &&
	grep -qx 201 code &&
	python3 -c "import json,sys; o=json.load(open(\"out\")); assert o[\"job\"]==\"d\" and o[\"attempt\"]==3 and o[\"failed_only\"] is False, o" &&
	wait_status 3 failure 60 &&
	test_grep "D RAN attempt 3" "$DATA/events/3.log" &&
	test_grep -v "A RAN" "$DATA/events/3.log" &&
	curl -sS -o /dev/null -w "%{http_code}\n" -X POST -H "Authorization: Bearer $TOKEN" \
		--data-binary "{\"name\":\"vic\",\"role\":\"viewer\",\"password\":\"vic-pass-123\"}" \
		"$(serve_url)/api/v1/users" | grep -qx 201 &&
	vt=$(curl -sS --data-binary "{\"user\":\"vic\",\"password\":\"vic-pass-123\"}" \
		"$(serve_url)/api/v1/login" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"token\"])") &&
	curl -sS -o out -w "%{http_code}\n" -X POST -H "Authorization: Bearer $vt" \
		"$(serve_url)/api/v1/jobs/$(cat jd)/rerun" >code &&
	grep -qx 403 code &&
	curl -sS -o out -w "%{http_code}\n" -X POST -H "Authorization: Bearer $TOKEN" \
		"$(serve_url)/api/v1/jobs/999999/rerun" >code &&
	grep -qx 404 code && test_grep "no job 999999" out &&
	test "$(api "/api/v1/events?limit=100" | grep -o "\"attempt\":" | wc -l)" = 3
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 k rerun --job 1 --failed 2>err &&
	test_grep "not with --failed" err &&
	test_expect_code 2 k rerun --job -3 2>err &&
	test_expect_code 2 kiln runs 3 2>err &&
	test_grep "RUN shows a run of a server" err &&
	test_expect_code 2 k runs abc 2>err &&
	test_grep "RUN is the run.s id" err &&
	test_expect_code 2 kiln run --rerun-job b 2>err &&
	test_grep "needs --reuse-run" err
'

test_done
