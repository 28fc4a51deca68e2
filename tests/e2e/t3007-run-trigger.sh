#!/bin/bash
test_description='kiln run: which workflows an event starts (filters, dispatch inputs)'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'branch filters: a push to main does not run a release-only workflow' '
	write_workflow repo rel <<-\EOF &&
	on:
	  push:
	    branches: [release]
	jobs:
	  ship:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo shipping ${{ github.ref_name }}
	EOF
	(cd repo && kiln run -v) >out 2>err &&
	test_grep "no workflow is triggered by .push." err &&
	test_grep "rel.yml: " err &&
	git -C repo branch release &&
	(cd repo && kiln run --ref release) >out 2>err &&
	test_grep "^\[ship\] shipping release$" out
'

test_expect_success 'paths filters look at the files the push changed' '
	write_workflow repo rel <<-\EOF &&
	on:
	  push:
	    paths: ["src/**"]
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo building
	EOF
	echo doc >repo/doc.md && git -C repo add doc.md && git -C repo commit -q -m doc &&
	(cd repo && kiln run) >out 2>err &&
	test_grep "no workflow is triggered" err &&
	mkdir -p repo/src && echo code >repo/src/a.c &&
	git -C repo add src && git -C repo commit -q -m code &&
	(cd repo && kiln run) >out 2>err &&
	test_grep "^\[build\] building$" out
'

test_expect_success 'workflow_dispatch inputs: typed inputs context and github.event.inputs' '
	write_workflow repo rel <<-\EOF &&
	on:
	  workflow_dispatch:
	    inputs:
	      target:
	        type: choice
	        options: [staging, production]
	        default: staging
	      dry:
	        type: boolean
	        default: false
	jobs:
	  deploy:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "to=${{ inputs.target }} dry=${{ inputs.dry }} ev=${{ github.event.inputs.target }} t=${{ inputs.dry == true }}"
	EOF
	(cd repo && kiln run workflow_dispatch --input target=production --input dry=true) >out 2>err &&
	test_grep "^\[deploy\] to=production dry=true ev=production t=true$" out &&
	(cd repo && kiln run workflow_dispatch) >out 2>err &&
	test_grep "^\[deploy\] to=staging dry=false ev=staging t=false$" out
'

test_expect_success 'a bad dispatch input is an input error (exit 2)' '
	test_expect_code 2 env -C repo kiln run workflow_dispatch --input target=moon >out 2>err &&
	test_grep "moon" err
'

test_done
