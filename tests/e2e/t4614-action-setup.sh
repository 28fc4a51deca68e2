#!/bin/bash
test_description='actions/setup-node|python|go|java: the host toolchain, or a clear warning'
. "$(dirname "$0")/../lib.sh"

export KILN_HOME="$TRASH/kh"

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success NODE 'setup-node with the host node: matching major, node-version output, PATH' '
	major=$(node --version | sed "s/^v\([0-9]*\).*/\1/") &&
	full=$(node --version | sed "s/^v//") &&
	cat >repo/.nvmrc <<-EOF &&
	$major
	EOF
	git -C repo add .nvmrc && git -C repo commit -q -m nvmrc &&
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: n
	        uses: actions/setup-node@v4
	        with:
	          node-version: $major.x
	      - run: |
	          echo "out=\${{ steps.n.outputs.node-version }}"
	          node -e "console.log(\"node says \" + process.version)"
	      - id: f
	        uses: actions/setup-node@v4
	        with:
	          node-version-file: .nvmrc
	      - run: echo "file=\${{ steps.f.outputs.node-version }}"
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "Found node $full in the host" out &&
	test_grep "out=$full" out &&
	test_grep "node says v$full" out &&
	test_grep "file=$full" out &&
	test_grep -v "warning:" out
'

test_expect_success NODE 'setup-node with a version the host lacks: a warning, not a failure' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/setup-node@v4
	        with:
	          node-version: 4.2
	      - run: echo still-running
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "warning: actions/setup-node: the host.s .*node is version .*, which does not satisfy .4.2.; kiln does not download toolchains" out &&
	test_grep "still-running" out
'

test_expect_success 'a toolchain missing from PATH: a clear warning' '
	mkdir -p emptybin &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    env:
	      PATH: /nonexistent
	    steps:
	      - uses: actions/setup-go@v5
	        with:
	          go-version: "1.21"
	      - uses: actions/setup-java@v4
	        with:
	          java-version: "17"
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "warning: actions/setup-go: no go on this host.s PATH; kiln does not download toolchains" out &&
	test_grep "error: Input required and not supplied: distribution" out
'

test_expect_success PYTHON 'setup-python finds python3 and sets python-version and python-path' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: p
	        uses: actions/setup-python@v5
	        with:
	          python-version: ">=3.0 <4"
	      - run: echo "py=${{ steps.p.outputs.python-version }} path=${{ steps.p.outputs.python-path }} loc=$pythonLocation"
	EOF
	(cd repo && kiln run) >out 2>err &&
	ver=$(python3 --version | sed "s/Python //") &&
	test_grep "py=$ver path=/.*python3 loc=/" out
'

test_done
