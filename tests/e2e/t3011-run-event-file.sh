#!/bin/bash
# -e FILE drives the event as act does: a push payload's ref/before/after,
# tag pushes, a pull_request's number and branches, a release's tag, a
# workflow_dispatch payload's inputs; flags given explicitly win; trigger
# filters (branches, tags, paths) see the payload's values.
test_description='kiln run -e: event payloads drive refs, shas, filters and inputs'
. "$(dirname "$0")/../lib.sh"

ACT="$SHARED_DIR/peers/act-runner-testdata"

show='      - run: |
          echo "ref=${{ github.ref }} name=${{ github.ref_name }} type=${{ github.ref_type }}"
          echo "sha=${{ github.sha }} env_sha=$GITHUB_SHA env_ref=$GITHUB_REF"
          echo "head=${{ github.head_ref }} base=${{ github.base_ref }} hd=$GITHUB_HEAD_REF bs=$GITHUB_BASE_REF"
          echo "files=$(ls | tr "\n" " ")"'

test_expect_success 'setup: a repository with three commits (the workflow in each: a run reads it from the commit it runs)' '
	test_create_repo repo &&
	write_workflow repo show <<-EOF &&
	on:
	  push:
	    branches: [main, "release/**"]
	    tags: ["v*"]
	  pull_request:
	  release:
	  create:
	jobs:
	  show:
	    runs-on: ubuntu-latest
	    steps:
	$show
	EOF
	echo one >repo/a.txt && git -C repo add a.txt && git -C repo commit -q -m one &&
	c1=$(git -C repo rev-parse HEAD) &&
	mkdir repo/docs && echo two >repo/docs/b.md && git -C repo add docs && git -C repo commit -q -m two &&
	c2=$(git -C repo rev-parse HEAD) &&
	echo three >repo/c.txt && git -C repo add c.txt && git -C repo commit -q -m three &&
	echo "$c1" >c1 && echo "$c2" >c2 &&
	git -C repo rev-parse HEAD >c3
'

test_expect_success 'push payload: ref, after (github.sha and the checkout) and before' '
	c1=$(cat c1) c2=$(cat c2) &&
	printf "{\"ref\": \"refs/heads/release/1.x\", \"before\": \"%s\", \"after\": \"%s\"}\n" "$c1" "$c2" >push.json &&
	(cd repo && kiln run --no-history -e ../push.json) >out 2>err &&
	test_grep "ref=refs/heads/release/1.x name=release/1.x type=branch" out &&
	test_grep "sha=$c2 env_sha=$c2 env_ref=refs/heads/release/1.x" out &&
	test_grep "files=README.md a.txt docs $" out &&
	test_must_be_empty err
'

test_expect_success 'branch filters see the payload ref' '
	printf "{\"ref\": \"refs/heads/feature\"}\n" >feature.json &&
	(cd repo && kiln run -v --no-history -e ../feature.json) >out 2>err &&
	test_grep "no workflow is triggered" err &&
	test_grep "refs/heads/feature\|feature" err
'

test_expect_success 'paths filters use the payload before..after' '
	c1=$(cat c1) c2=$(cat c2) &&
	write_workflow repo docs <<-EOF &&
	on:
	  push:
	    paths: ["docs/**"]
	jobs:
	  docs:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo docs changed
	EOF
	printf "{\"ref\": \"refs/heads/main\", \"before\": \"%s\", \"after\": \"%s\"}\n" "$c1" "$c2" >docs.json &&
	(cd repo && kiln run --no-history -W .github/workflows/docs.yml -e ../docs.json) >out 2>err &&
	test_grep "^\[docs\] docs changed$" out &&
	c3=$(cat c3) &&
	printf "{\"ref\": \"refs/heads/main\", \"before\": \"%s\", \"after\": \"%s\"}\n" "$c2" "$c3" >nodocs.json &&
	(cd repo && kiln run --no-history -W .github/workflows/docs.yml -e ../nodocs.json) >out 2>err &&
	test_grep "no workflow is triggered" err &&
	git -C repo rm -q .github/workflows/docs.yml && git -C repo commit -q -m "no docs"
'

test_expect_success 'tag push payload: ref_type tag, tag filters match' '
	printf "{\"ref\": \"refs/tags/v2.0.0\"}\n" >tag.json &&
	(cd repo && kiln run --no-history -e ../tag.json) >out 2>err &&
	test_grep "ref=refs/tags/v2.0.0 name=v2.0.0 type=tag" out &&
	printf "{\"ref\": \"refs/tags/nightly\"}\n" >nightly.json &&
	(cd repo && kiln run --no-history -e ../nightly.json) >out 2>err &&
	test_grep "no workflow is triggered" err
'

test_expect_success 'explicit flags win over the payload' '
	(cd repo && kiln run --no-history -e ../push.json --ref main --head HEAD) >out 2>err &&
	test_grep "ref=refs/heads/main name=main type=branch" out &&
	test_grep "sha=$(git -C repo rev-parse HEAD) " out
'

test_expect_success 'an after that is not in the repository: a warning, HEAD runs' '
	printf "{\"ref\": \"refs/heads/main\", \"after\": \"%s\"}\n" 1234567890123456789012345678901234567890 >gone.json &&
	(cd repo && kiln run --no-history -e ../gone.json) >out 2>err &&
	test_grep "warning: event file: after .1234567890123456789012345678901234567890. is not a commit of this repository; using HEAD" err &&
	test_grep "sha=$(git -C repo rev-parse HEAD) " out
'

test_expect_success 'pull_request payload: number, head and base branches (absent here)' '
	cat >pr.json <<-\EOF &&
	{"action": "synchronize", "number": 42,
	 "pull_request": {"number": 42, "head": {"ref": "feat/x"}, "base": {"ref": "main"}}}
	EOF
	(cd repo && kiln run pull_request --no-history -e ../pr.json) >out 2>err &&
	test_grep "ref=refs/pull/42/merge name=42/merge" out &&
	test_grep "head=feat/x base=main hd=feat/x bs=main" out &&
	test_grep "warning: event file: pull_request.head .feat/x. is not a commit" err &&
	git -C repo branch topic &&
	(cd repo && kiln run pull_request --no-history -e ../pr.json --head topic) >out 2>err &&
	test_grep "ref=refs/pull/42/merge" out &&
	test_grep "head=topic base=main hd=topic bs=main" out &&
	test_must_be_empty err
'

test_expect_success 'pull_request_target: the base branch ref and commit, head and base names from the payload' '
	write_workflow repo prt <<-EOF &&
	on: pull_request_target
	jobs:
	  show:
	    runs-on: ubuntu-latest
	    steps:
	$show
	EOF
	git -C repo branch -f basebr HEAD~3 &&
	cat >prt.json <<-\EOF &&
	{"action": "opened", "number": 9, "pull_request": {"head": {"ref": "topic"}, "base": {"ref": "basebr"}}}
	EOF
	(cd repo && kiln run pull_request_target --no-history -W .github/workflows/prt.yml -e ../prt.json) >out 2>err &&
	test_grep "ref=refs/heads/basebr name=basebr type=branch" out &&
	test_grep "sha=$(git -C repo rev-parse basebr) " out &&
	test_grep "head=topic base=basebr" out &&
	git -C repo rm -q .github/workflows/prt.yml && git -C repo commit -q -m "no prt"
'

test_expect_success 'pull_request branch filters and activity types see the payload' '
	write_workflow repo types <<-EOF &&
	on:
	  pull_request:
	    types: [closed]
	    branches: [stable]
	jobs:
	  t:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo closed on stable
	EOF
	(cd repo && kiln run pull_request --no-history -W .github/workflows/types.yml -e ../pr.json) >out 2>err &&
	test_grep "no workflow is triggered" err &&
	git -C repo branch stable &&
	cat >closed.json <<-\EOF &&
	{"action": "closed", "number": 5,
	 "pull_request": {"head": {"ref": "feat/y"}, "base": {"ref": "stable"}}}
	EOF
	(cd repo && kiln run pull_request --no-history -W .github/workflows/types.yml -e ../closed.json) >out 2>err &&
	test_grep "^\[t\] closed on stable$" out &&
	(cd repo && kiln run pull_request --no-history -W .github/workflows/types.yml -e ../closed.json --action opened) >out 2>err &&
	test_grep "no workflow is triggered" err
'

test_expect_success 'release payload: refs/tags/<tag_name>' '
	printf "{\"action\": \"published\", \"release\": {\"tag_name\": \"v3.1\"}}\n" >rel.json &&
	(cd repo && kiln run release --no-history -W .github/workflows/show.yml -e ../rel.json) >out 2>err &&
	test_grep "ref=refs/tags/v3.1 name=v3.1 type=tag" out
'

test_expect_success 'create payload: a short ref and its ref_type' '
	printf "{\"ref\": \"v4\", \"ref_type\": \"tag\"}\n" >create.json &&
	(cd repo && kiln run create --no-history -W .github/workflows/show.yml -e ../create.json) >out 2>err &&
	test_grep "ref=refs/tags/v4 name=v4 type=tag" out
'

test_expect_success 'workflow_dispatch payload inputs: typed inputs, strings in github.event.inputs; --input wins' '
	write_workflow repo wd <<-\EOF &&
	on:
	  workflow_dispatch:
	    inputs:
	      target: {required: true}
	      dry: {type: boolean}
	      count: {type: number, default: 1}
	jobs:
	  d:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "target=${{ inputs.target }} dry=${{ toJSON(inputs.dry) }} count=${{ toJSON(inputs.count) }}"
	          echo '\''event=${{ toJSON(github.event.inputs.dry) }} ${{ toJSON(github.event.inputs.count) }}'\''
	          echo "ref=${{ github.ref }}"
	EOF
	cat >wd.json <<-\EOF &&
	{"ref": "refs/heads/main", "inputs": {"target": "prod", "dry": true, "count": "3", "other": "x"}}
	EOF
	(cd repo && kiln run workflow_dispatch --no-history -e ../wd.json) >out 2>err &&
	test_grep "target=prod dry=true count=3$" out &&
	test_grep "event=\"true\" \"3\"" out &&
	test_grep "ref=refs/heads/main" out &&
	(cd repo && kiln run workflow_dispatch --no-history -e ../wd.json --input target=stage --input dry=false) >out 2>err &&
	test_grep "target=stage dry=false count=3$" out &&
	echo "{}" >empty.json &&
	test_expect_code 2 env -C repo kiln run workflow_dispatch --no-history -e ../empty.json 2>err &&
	test_grep "input .target. is required" err
'

test_expect_success "act's workflow_dispatch case passes with its event.json" '
	test -d "$ACT/workflow_dispatch" || { say "skipped: $ACT not found"; return 0; }
	test_create_repo actwd &&
	mkdir -p actwd/.github/workflows &&
	cp "$ACT/workflow_dispatch/workflow_dispatch.yml" actwd/.github/workflows/ &&
	git -C actwd add .github && git -C actwd commit -q -m wd &&
	(cd actwd && kiln run workflow_dispatch --no-history -e "$ACT/workflow_dispatch/event.json") >out 2>err &&
	test_grep "input.required=required input" out &&
	test_grep "input.with_default=default" out &&
	test_grep "^test  *success" out
'

test_expect_success "act's pull-request case passes with its event.json" '
	test -d "$ACT/pull-request" || { say "skipped: $ACT not found"; return 0; }
	test_create_repo actpr &&
	mkdir -p actpr/.github/workflows &&
	cp "$ACT/pull-request/main.yaml" actpr/.github/workflows/ &&
	git -C actpr add .github && git -C actpr commit -q -m pr &&
	(cd actpr && kiln run pull_request --no-history -e "$ACT/pull-request/event.json") >out 2>err &&
	test_grep "sample-head-ref" out &&
	test_grep "^build  *success" out
'

test_done
