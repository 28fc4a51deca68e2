#!/bin/bash
test_description='kiln lint: unknown, misplaced, duplicate and missing keys, wrong value types'
. "$(dirname "$0")/../lib.sh"

# lint_is FILE: kiln lint FILE exits 2 and prints exactly ./expect
lint_is() {
	test_expect_code 2 kiln lint "$1" >out && test_cmp expect out
}

test_expect_success 'unknown keys get a did-you-mean hint' '
	cat >a.yml <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs_on: ubuntu-latest
	    runs-on: ubuntu-latest
	    steps:
	      - nme: checkout
	        uses: actions/checkout@v4
	EOF
	cat >expect <<-\EOF &&
	a.yml:4:5: error: unknown key '"'"'runs_on'"'"' in job '"'"'build'"'"' (did you mean '"'"'runs-on'"'"'?)
	a.yml:7:9: error: unknown key '"'"'nme'"'"' in a step (did you mean '"'"'name'"'"'?)
	EOF
	lint_is a.yml
'

test_expect_success 'misplaced keys say where they belong' '
	cat >b.yml <<-\EOF &&
	on: push
	runs-on: ubuntu-latest
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    run: make
	    steps:
	      - run: make
	        matrix: {}
	EOF
	cat >expect <<-\EOF &&
	b.yml:2:1: error: key '"'"'runs-on'"'"' is not allowed in the workflow (it belongs in a job)
	b.yml:6:5: error: key '"'"'run'"'"' is not allowed in job '"'"'build'"'"' (it belongs in a step)
	b.yml:9:9: error: key '"'"'matrix'"'"' is not allowed in a step (it belongs in strategy)
	EOF
	lint_is b.yml
'

test_expect_success 'a key defined twice' '
	cat >c.yml <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    runs-on: other
	    steps:
	      - run: make
	EOF
	echo "c.yml:5:5: error: key '"'"'runs-on'"'"' is defined twice in job '"'"'build'"'"'" >expect &&
	lint_is c.yml
'

test_expect_success 'missing on and jobs' '
	echo "name: nothing" >d.yml &&
	cat >expect <<-\EOF &&
	d.yml:1:1: error: the workflow is missing '"'"'on'"'"'
	d.yml:1:1: error: the workflow is missing '"'"'jobs'"'"'
	EOF
	lint_is d.yml
'

test_expect_success 'a job without runs-on, an empty jobs mapping' '
	printf "on: push\njobs:\n  a:\n    steps:\n      - run: x\n" >e.yml &&
	echo "e.yml:4:5: error: job '"'"'a'"'"' is missing '"'"'runs-on'"'"'" >expect &&
	lint_is e.yml &&
	printf "on: push\njobs: {}\n" >f.yml &&
	echo "f.yml:2:7: error: the workflow must have at least one job" >expect &&
	lint_is f.yml
'

test_expect_success 'wrong value types: mapping, sequence, number, boolean' '
	cat >g.yml <<-\EOF &&
	on: push
	jobs:
	  a: hello
	  build:
	    runs-on: ubuntu-latest
	    timeout-minutes: soon
	    continue-on-error: maybe
	    env: [A, B]
	    strategy:
	      fail-fast: 3
	    steps: {run: x}
	EOF
	cat >expect <<-\EOF &&
	g.yml:3:6: error: job '"'"'a'"'"' must be a mapping, not a string
	g.yml:6:22: error: '"'"'timeout-minutes'"'"' must be a number or an expression, not '"'"'soon'"'"'
	g.yml:7:24: error: '"'"'continue-on-error'"'"' must be a boolean or an expression, not '"'"'maybe'"'"'
	g.yml:8:10: error: '"'"'env'"'"' must be a mapping or an expression, not a sequence
	g.yml:10:18: error: '"'"'fail-fast'"'"' must be a boolean or an expression, not '"'"'3'"'"'
	g.yml:11:12: error: '"'"'steps'"'"' must be a sequence, not a mapping
	EOF
	lint_is g.yml
'

test_expect_success 'expressions stand in for typed values' '
	cat >h.yml <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ${{ matrix.os }}
	    timeout-minutes: ${{ fromJSON(vars.TIMEOUT) }}
	    continue-on-error: ${{ matrix.experimental }}
	    strategy:
	      fail-fast: ${{ github.ref == '"'"'refs/heads/main'"'"' }}
	      max-parallel: 2
	      matrix:
	        os: [ubuntu-latest]
	        experimental: [false]
	    steps:
	      - run: make
	        timeout-minutes: 5
	EOF
	kiln lint h.yml >out &&
	test_must_be_empty out
'

test_expect_success 'events: unknown event and unknown filter keys' '
	cat >i.yml <<-\EOF &&
	on:
	  push:
	    branch: [main]
	  pull_requst:
	  schedule: "0 * * * *"
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - run: x
	EOF
	cat >expect <<-\EOF &&
	i.yml:3:5: error: unknown key '"'"'branch'"'"' in event '"'"'push'"'"' (did you mean '"'"'branches'"'"'?)
	i.yml:4:3: error: unknown event '"'"'pull_requst'"'"' (did you mean '"'"'pull_request'"'"'?)
	i.yml:5:13: error: '"'"'schedule'"'"' must be a sequence of '"'"'- cron: ...'"'"' entries, not a string
	EOF
	lint_is i.yml
'

test_expect_success 'on: as a string, a list and a mapping all load' '
	for on in "push" "[push, pull_request]" "{push: {branches: [main]}, workflow_dispatch: }"; do
		printf "on: %s\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: x\n" "$on" >j.yml &&
		kiln lint j.yml >out && test_must_be_empty out || return 1
	done &&
	kiln debug workflow j.yml >out &&
	test_grep "^on push" out && test_grep "^on workflow_dispatch" out
'

test_expect_success 'workflow_dispatch and workflow_call inputs are checked' '
	cat >k.yml <<-\EOF &&
	on:
	  workflow_dispatch:
	    inputs:
	      level:
	        type: choise
	        options: [a, b]
	  workflow_call:
	    inputs:
	      name:
	        description: who
	    outputs:
	      out:
	        description: nothing
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - run: x
	EOF
	cat >expect <<-\EOF &&
	k.yml:5:15: error: workflow_dispatch input '"'"'level'"'"' has unknown type '"'"'choise'"'"'
	k.yml:10:9: error: workflow_call input '"'"'name'"'"' is missing '"'"'type'"'"'
	k.yml:13:9: error: workflow_call output '"'"'out'"'"' is missing '"'"'value'"'"'
	EOF
	lint_is k.yml
'

test_expect_success 'permissions, concurrency and environment are checked' '
	cat >l.yml <<-\EOF &&
	on: push
	permissions:
	  contents: admin
	  pull-request: write
	concurrency:
	  cancel-in-progress: true
	jobs:
	  a:
	    runs-on: x
	    environment:
	      url: https://example.com
	    steps:
	      - run: x
	EOF
	cat >expect <<-\EOF &&
	l.yml:3:13: error: permission '"'"'contents'"'"' must be '"'"'read'"'"', '"'"'write'"'"' or '"'"'none'"'"', not '"'"'admin'"'"'
	l.yml:4:3: error: unknown key '"'"'pull-request'"'"' in permissions (did you mean '"'"'pull-requests'"'"'?)
	l.yml:6:3: error: concurrency is missing '"'"'group'"'"'
	l.yml:11:7: error: environment is missing '"'"'name'"'"'
	EOF
	lint_is l.yml
'

test_expect_success 'a job cannot both run steps and call a reusable workflow' '
	cat >m.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	    uses: ./.github/workflows/other.yml
	  b:
	    uses: org/repo/.github/workflows/deploy.yml@v1
	    with:
	      env: prod
	    secrets: inherit
	  c:
	    uses: just-a-name
	EOF
	cat >expect <<-\EOF &&
	m.yml:5:5: error: job '"'"'a'"'"' cannot have both '"'"'uses'"'"' (a reusable workflow) and '"'"'runs-on'"'"'
	m.yml:12:11: error: reusable workflow '"'"'just-a-name'"'"' must be '"'"'{owner}/{repo}/{path}/{file}@{ref}'"'"' or '"'"'./{path}/{file}'"'"'
	EOF
	lint_is m.yml
'

test_expect_success 'activity types are checked per event' '
	cat >n.yml <<-\EOF &&
	on:
	  pull_request:
	    types: [opened, synchronise]
	  release:
	    types: published
	  repository_dispatch:
	    types: [anything-goes]
	  issues:
	    types: closd
	jobs:
	  a:
	    runs-on: x
	EOF
	cat >expect <<-\EOF &&
	n.yml:3:21: error: '"'"'synchronise'"'"' is not an activity type of '"'"'pull_request'"'"' (did you mean '"'"'synchronize'"'"'?)
	n.yml:9:12: error: '"'"'closd'"'"' is not an activity type of '"'"'issues'"'"' (did you mean '"'"'closed'"'"'?)
	EOF
	lint_is n.yml
'

test_expect_success 'runner groups: a name or an organization/enterprise prefix' '
	cat >o.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: {group: org/builders, labels: [linux]}
	  b:
	    runs-on:
	      group: team/builders
	  c:
	    runs-on:
	      group: ent/
	EOF
	cat >expect <<-\EOF &&
	o.yml:7:14: error: invalid runner group '"'"'team/builders'"'"': use a name, or '"'"'organization/NAME'"'"' or '"'"'enterprise/NAME'"'"' for one group
	o.yml:10:14: error: invalid runner group '"'"'ent/'"'"': use a name, or '"'"'organization/NAME'"'"' or '"'"'enterprise/NAME'"'"' for one group
	EOF
	lint_is o.yml
'

test_expect_success 'env, with and outputs values are strings' '
	cat >p.yml <<-\EOF &&
	on: push
	env:
	  A: [1]
	jobs:
	  a:
	    runs-on: x
	    outputs:
	      o: {x: 1}
	    steps:
	      - uses: a/b@v1
	        with:
	          x: {y: 1}
	          n: 12
	        env:
	          OK: true
	EOF
	cat >expect <<-\EOF &&
	p.yml:3:6: error: '"'"'env.A'"'"' must be a string, not a sequence
	p.yml:8:10: error: '"'"'outputs.o'"'"' must be a string, not a mapping
	p.yml:12:14: error: '"'"'with.x'"'"' must be a string, not a mapping
	EOF
	lint_is p.yml
'

test_done
