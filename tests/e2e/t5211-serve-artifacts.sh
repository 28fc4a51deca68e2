#!/bin/bash
test_description='kiln serve: a run'"'"'s artifacts (listed, downloaded, expired) and annotations over the API'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

command -v zstd >/dev/null || test_skip_all "zstd is not installed"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'setup: a workflow that uploads artifacts and annotates' '
	test_create_repo src &&
	write_workflow src ci <<-\EOF &&
	name: CI
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: mkdir -p out/sub && echo "binary v1" >out/app && echo deep >out/sub/x.txt
	      - uses: actions/upload-artifact@v4
	        with:
	          name: app-bin
	          path: out/
	          retention-days: 3
	      - uses: actions/upload-artifact@v4
	        with:
	          name: report
	          path: out/sub/x.txt
	      - run: |
	          echo "::error file=src/main.c,line=12,col=5,title=Bad call::undefined function foo"
	          echo "::warning file=README.md,line=1::stale badge"
	          echo "::notice::token is ${{ secrets.API_TOKEN }}"
	  test:
	    needs: build
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "::error::tests failed" && exit 1
	EOF
	kiln repo add acme/app "$TRASH/src" >secret &&
	echo s3cr3t-value-42 | kiln env secret set acme/app API_TOKEN
'

start_serve --jobs 1
SECRET=$(cat secret)
TOKEN=$(cat "$DATA/initial-admin-token")

api () {
	curl -sS -H "Authorization: Bearer $TOKEN" -w "\n%{http_code}\n" "$(serve_url)$1"
}

test_expect_success 'a push runs the workflow; its run lists two artifacts' '
	sha=$(git -C src rev-parse HEAD) &&
	push_hook refs/heads/main $ZERO $sha a1 >out && head -n1 out | grep -qx 202 &&
	wait_status 1 failure &&
	api "/api/v1/runs?repo=acme/app" >runs.json &&
	python3 -c "import json; print(json.loads(open(\"runs.json\").read().rsplit(\"\n\",2)[0])[\"runs\"][0][\"id\"])" >run.id &&
	api "/api/v1/runs/$(cat run.id)/artifacts" >list &&
	tail -n1 list | grep -qx 200 &&
	python3 - "$(cat run.id)" <<-\PY
	import json, sys, time
	body = open("list").read().rsplit("\n", 2)[0]
	o = json.loads(body)
	assert o["total_count"] == 2, o
	a = {x["name"]: x for x in o["artifacts"]}
	assert sorted(a) == ["app-bin", "report"], a
	b = a["app-bin"]
	assert b["files"] == 2 and b["size"] > 0 and len(b["digest"]) == 64, b
	assert b["job"] == "build" and b["expired"] is False, b
	assert b["download_url"] == "/api/v1/runs/%s/artifacts/app-bin" % sys.argv[1], b
	days = (b["expires_at"] - b["created_at"]) / 86400000.0
	assert 2.99 < days < 3.01, days
	r = a["report"]
	assert 89.99 < (r["expires_at"] - r["created_at"]) / 86400000.0 < 90.01, r
	PY
'

test_expect_success 'an artifact downloads as tar + zstd with its files' '
	curl -sS -f -D headers -H "Authorization: Bearer $TOKEN" -o app.tar.zst \
		"$(serve_url)/api/v1/runs/$(cat run.id)/artifacts/app-bin" &&
	grep -qi "content-type: application/zstd" headers &&
	grep -qi "content-disposition: attachment; filename=\"app-bin.tar.zst\"" headers &&
	mkdir unpacked && zstd -dc app.tar.zst | tar -x -C unpacked &&
	echo "binary v1" >expect && test_cmp expect unpacked/app &&
	echo deep >expect && test_cmp expect unpacked/sub/x.txt
'

test_expect_success 'unknown artifacts and runs are 404' '
	api "/api/v1/runs/$(cat run.id)/artifacts/nope" >out &&
	tail -n1 out | grep -qx 404 && test_grep "has no artifact .nope." out &&
	api "/api/v1/runs/999/artifacts" >out && tail -n1 out | grep -qx 404 &&
	curl -s -o /dev/null -w "%{http_code}\n" "$(serve_url)/api/v1/runs/$(cat run.id)/artifacts" >code &&
	grep -qx 401 code
'

test_expect_success 'annotations: level, file, line, col, title, job and step; secrets masked' '
	api "/api/v1/runs/$(cat run.id)/annotations" >ann &&
	tail -n1 ann | grep -qx 200 &&
	test_grep -v s3cr3t-value-42 ann &&
	python3 - <<-\PY
	import json
	o = json.loads(open("ann").read().rsplit("\n", 2)[0])
	v = o["annotations"]
	e = [x for x in v if x["message"] == "undefined function foo"][0]
	assert e["level"] == "error" and e["file"] == "src/main.c" and e["line"] == 12, e
	assert e["col"] == 5 and e["title"] == "Bad call" and e["job"] == "build", e
	assert e["step"], e
	w = [x for x in v if x["level"] == "warning" and x["message"] == "stale badge"][0]
	assert w["file"] == "README.md" and w["line"] == 1 and w["col"] is None, w
	n = [x for x in v if x["level"] == "notice" and x["message"].startswith("token is")][0]
	assert n["message"] == "token is ***", n
	t = [x for x in v if x["job"] == "test" and x["message"] == "tests failed"]
	assert t and t[0]["level"] == "error", v
	PY
	job=$(python3 -c "import json; v=json.loads(open(\"ann\").read().rsplit(\"\n\",2)[0])[\"annotations\"]; print([x for x in v if x[\"job\"]==\"test\"][0][\"job_id\"])") &&
	api "/api/v1/runs/$(cat run.id)/annotations?job_id=$job" >ann2 &&
	python3 -c "import json; v=json.loads(open(\"ann2\").read().rsplit(\"\n\",2)[0])[\"annotations\"]; assert v and all(x[\"job\"]==\"test\" for x in v), v"
'

test_expect_success 'retention: an expired artifact is 410 and its blob is removed at the next sweep' '
	digest=$(python3 -c "import json; v=json.loads(open(\"list\").read().rsplit(\"\n\",2)[0])[\"artifacts\"]; print([x for x in v if x[\"name\"]==\"app-bin\"][0][\"digest\"])") &&
	test -f "$DATA/artifacts/$digest.tzst" &&
	stop_serve &&
	db_sql "UPDATE artifacts SET expires_at = 1 WHERE name = '\''app-bin'\''" &&
	start_serve --jobs 1 &&
	for i in $(seq 1 50); do test -f "$DATA/artifacts/$digest.tzst" || break; sleep 0.1; done &&
	test ! -f "$DATA/artifacts/$digest.tzst" &&
	api "/api/v1/runs/$(cat run.id)/artifacts/app-bin" >out &&
	tail -n1 out | grep -qx 410 && test_grep artifact_expired out &&
	api "/api/v1/runs/$(cat run.id)/artifacts" >list2 &&
	python3 -c "import json; v={x[\"name\"]:x for x in json.loads(open(\"list2\").read().rsplit(\"\n\",2)[0])[\"artifacts\"]}; assert v[\"app-bin\"][\"expired\"] is True and v[\"app-bin\"][\"download_url\"] is None and v[\"report\"][\"expired\"] is False, v" &&
	curl -sS -f -H "Authorization: Bearer $TOKEN" -o r.tar.zst "$(serve_url)/api/v1/runs/$(cat run.id)/artifacts/report"
'

test_done
