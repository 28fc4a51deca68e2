#!/bin/bash
test_description='web UI: a run'"'"'s artifacts (name, size, download through the session, expired) and annotations from the store on the run and job pages, each linked to its log line; in Chromium'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"

command -v zstd >/dev/null || test_skip_all "zstd is not installed"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'a workflow that uploads artifacts and annotates; a server, a viewer' '
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
	      - uses: actions/upload-artifact@v4
	        with:
	          name: report
	          path: out/sub/x.txt
	      - run: |
	          echo "::warning file=README.md,line=1::stale badge"
	          echo "error: src/main.c:12: a line that only looks like an annotation"
	          echo "::error file=src/main.c,line=12,col=5,title=Bad <call>::undefined <script>foo</script>"
	          echo "::notice::token is ${{ secrets.API_TOKEN }}"
	  test:
	    needs: build
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "::error::tests failed" && exit 1
	EOF
	kiln repo add acme/app "$TRASH/src" >secret &&
	echo s3cr3t-value-42 | kiln env secret set acme/app API_TOKEN &&
	start_serve --jobs 1 &&
	ui_user vic viewer vic-pass-123 &&
	ui_login vic vic-pass-123 v &&
	sha=$(git -C src rev-parse HEAD) &&
	SECRET=$(cat secret) push_hook refs/heads/main $ZERO $sha a1 >out && head -n1 out | grep -qx 202 &&
	wait_status 1 failure
'

job_id() { sed -n "s|.*href=\"/runs/1/jobs/\([0-9]*\)\">$1</a></td>.*|\1|p" "$TRASH/run.page" | head -1; }

test_expect_success 'the run page: both artifacts with size, files, job and a download link' '
	ui_get /runs/1 v >run.page &&
	test "$(head -1 run.page)" = 200 &&
	test_grep "<h2 id=\"artifacts\">Artifacts</h2>" run.page &&
	test_grep "<a href=\"/runs/1/artifacts/app-bin\" download>app-bin</a></td><td>[0-9.]* [KB]*B\?</td><td>2</td><td><a href=\"/runs/1/jobs/[0-9]*\">build</a>" run.page &&
	test_grep "<a href=\"/runs/1/artifacts/report\" download>report</a>" run.page
'

test_expect_success 'the download link: the same blob as the API, through the session; unknown 404; no session 303' '
	curl -sS -D h -b v -o ui.tar.zst "$(serve_url)/runs/1/artifacts/app-bin" &&
	hdr h "^HTTP/1.1 200" &&
	hdr h "^content-type: application/zstd" &&
	hdr h "^content-disposition: attachment; filename=\"app-bin.tar.zst\"" &&
	hdr h "^content-security-policy: default-src .none." &&
	curl -sS -H "Authorization: Bearer $(ui_admin_token)" -o api.tar.zst "$(serve_url)/api/v1/runs/1/artifacts/app-bin" &&
	cmp ui.tar.zst api.tar.zst &&
	mkdir unpacked && zstd -dc ui.tar.zst | tar -x -C unpacked &&
	echo "binary v1" >expect && test_cmp expect unpacked/app &&
	ui_get /runs/1/artifacts/nope v >out && test "$(head -1 out)" = 404 &&
	test_grep "has no artifact" out &&
	curl -s -o /dev/null -w "%{http_code}\n" "$(serve_url)/runs/1/artifacts/app-bin" >code &&
	test "$(cat code)" = 303
'

test_expect_success 'the job page: its own artifacts; annotations from the store linked to their lines' '
	id=$(job_id build) && test -n "$id" &&
	ui_get "/runs/1/jobs/$id" v >job.page &&
	test_grep "download>app-bin</a>" job.page &&
	tid=$(job_id test) &&
	ui_get "/runs/1/jobs/$tid" v >test.page &&
	! grep -q "id=\"artifacts\"" test.page &&
	test_grep "<strong>Bad &lt;call&gt;</strong>" job.page &&
	test_grep "build: src/main.c:12:5</a>" job.page &&
	test_grep "<div class=\"ann-msg\">undefined &lt;script&gt;foo&lt;/script&gt;</div>" job.page &&
	! grep -q "<script>foo" job.page &&
	test_grep "token is \*\*\*" job.page &&
	! grep -q s3cr3t-value-42 job.page &&
	line=$(sed -n "s|.*<strong>Bad &lt;call&gt;</strong> <a href=\"/runs/1/jobs/$id?line=\([0-9]*\)#L[0-9]*\">.*|\1|p" job.page) &&
	test -n "$line" &&
	sed -n "s|.*\(<div class=\"l ann ann-error\" id=\"L$line\">.*\)|\1|p" job.page | grep -q "undefined &lt;script&gt;foo" &&
	python3 - "$line" <<-\PY
	import re, sys
	page = open("job.page").read()
	lines = {n: (c, t) for c, n, t in re.findall(r"<div class=\"(l[^\"]*)\" id=\"L(\d+)\">(.*?)</div>", page)}
	look = [n for n, (c, t) in lines.items() if "looks like an annotation" in t]
	# the annotation links to its own line, not to the look-alike before
	# it, which is plain output (only stored annotations are marked)
	assert look and look[0] != sys.argv[1], (look, sys.argv[1])
	assert lines[look[0]][0] == "l", lines[look[0]]
	c, t = lines[sys.argv[1]]
	assert c == "l ann ann-error" and "undefined &lt;script&gt;foo" in t, (c, t)
	# its title inline, escaped
	assert "<strong>error:</strong> <em class=\"ann-title\">Bad &lt;call&gt;</em> " in t, t
	PY
'

test_expect_success 'the run page lists every annotation; its link leads to the line (303 to ?line=N#LN)' '
	test "$(grep -o "<li class=\"ann-" run.page | wc -l)" = 5 &&
	test_grep "<div class=\"ann-msg\">Process completed with exit code 1.</div>" run.page &&
	test_grep "<li class=\"ann-error\"><span class=\"st st-failure\">error</span> <a href=\"/runs/1/jobs/[0-9]*/annotations/[0-9]*\">test</a>" run.page &&
	href=$(sed -n "s|.*<strong>Bad &lt;call&gt;</strong> <a href=\"\(/runs/1/jobs/[0-9]*/annotations/[0-9]*\)\">.*|\1|p" run.page) &&
	test -n "$href" &&
	curl -s -D h -o /dev/null -b v "$(serve_url)$href" &&
	hdr h "^HTTP/1.1 303" &&
	id=$(job_id build) &&
	line=$(sed -n "s|.*<strong>Bad &lt;call&gt;</strong> <a href=\"/runs/1/jobs/$id?line=\([0-9]*\)#L[0-9]*\">.*|\1|p" job.page) &&
	hdr h "^location: /runs/1/jobs/$id?line=$line#L$line" &&
	ui_get "${href%/*}/99999" v >out && test "$(head -1 out)" = 404
'

test_expect_success 'an expired artifact: listed as expired, no link, 410' '
	stop_serve &&
	db_sql "UPDATE artifacts SET expires_at = 1 WHERE name = '\''app-bin'\''" &&
	start_serve --jobs 1 &&
	ui_get /runs/1 v >out &&
	test_grep "<td>app-bin <span class=\"muted\">(expired)</span></td>" out &&
	! grep -q "href=\"/runs/1/artifacts/app-bin\"" out &&
	ui_get /runs/1/artifacts/app-bin v >out && test "$(head -1 out)" = 410
'

test_expect_success 'in Chromium: the run page (axe), an annotation link to its marked line, a download' '
	ui_browser_prereq_ok || { echo "# chromium unusable: skipped"; exit 0; }
	ui_browser t5511.mjs "$(serve_url)" "$UI_SHOTS/t5511"
'

test_done
