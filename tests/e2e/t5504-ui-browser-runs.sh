#!/bin/bash
test_description='web UI in headless Chromium: runs, run, job pages (screenshots, axe), <script> stays text, annotation at its line, time to first render of a 50,000-line log'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"

ui_browser_prereq

test_expect_success 'a run with a matrix, an annotation, <script> in a branch and a log, 50,000 lines' '
	test_create_repo app &&
	write_workflow app ci <<-\EOF &&
	name: CI
	on: push
	jobs:
	  build:
	    strategy:
	      matrix:
	        os: [linux, mac]
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "::group::Setup"
	          echo inside
	          echo "::endgroup::"
	          printf "\033[31mred\033[0m\n"
	          echo "<script>alert(1)</script>"
	  test:
	    needs: build
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "::error file=src/x.c,line=2::boom"; exit 1
	  big:
	    runs-on: ubuntu-latest
	    steps:
	      - run: seq 1 50000
	EOF
	git -C app checkout -q -b "x<script>alert(1)</script>" &&
	(cd app && KILN_HOME="$DATA" test_expect_code 1 kiln run push >../run.out 2>&1) &&
	start_serve &&
	ui_user alice admin "alice-pass-1"
'

test_expect_success 'the runs pages in the browser; the 50,000-line log renders its first page' '
	ui_browser t5504.mjs "$(serve_url)" "$UI_SHOTS/t5504" >res &&
	cat res &&
	grep -q "\"lines\":2000" res
'

test_done
