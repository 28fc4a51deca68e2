#!/bin/bash
test_description='dorny/paths-filter: a monorepo of five services where only changed services run'
. "$(dirname "$0")/../lib.sh"

export KILN_HOME="$TRASH/kh"

test_expect_success 'setup: five services' '
	test_create_repo repo &&
	git -C repo branch -M main &&
	for s in auth billing cart docs email; do
		mkdir -p repo/services/$s && echo "$s v1" >repo/services/$s/main.txt || return 1
	done &&
	mkdir -p repo/.github &&
	cat >repo/.github/filters.yml <<-\EOF &&
	auth: services/auth/**
	billing: services/billing/**
	cart: services/cart/**
	docs: services/docs/**
	email: services/email/**
	EOF
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  changes:
	    runs-on: ubuntu-latest
	    outputs:
	      services: ${{ steps.f.outputs.changes }}
	      auth: ${{ steps.f.outputs.auth }}
	      billing: ${{ steps.f.outputs.billing }}
	      cart: ${{ steps.f.outputs.cart }}
	      docs: ${{ steps.f.outputs.docs }}
	      email: ${{ steps.f.outputs.email }}
	    steps:
	      - uses: actions/checkout@v4
	      - id: f
	        uses: dorny/paths-filter@v3
	        with:
	          filters: .github/filters.yml
	          list-files: csv
	      - run: |
	          echo "changes=${{ steps.f.outputs.changes }}"
	          echo "billing_count=${{ steps.f.outputs.billing_count }} files=${{ steps.f.outputs.billing_files }}"
	  auth:
	    needs: changes
	    if: needs.changes.outputs.auth == '\''true'\''
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo deploy-auth
	  billing:
	    needs: changes
	    if: needs.changes.outputs.billing == '\''true'\''
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo deploy-billing
	  cart:
	    needs: changes
	    if: needs.changes.outputs.cart == '\''true'\''
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo deploy-cart
	  docs:
	    needs: changes
	    if: needs.changes.outputs.docs == '\''true'\''
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo deploy-docs
	  email:
	    needs: changes
	    if: needs.changes.outputs.email == '\''true'\''
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo deploy-email
	  each:
	    needs: changes
	    if: needs.changes.outputs.services != '\''[]'\''
	    strategy:
	      matrix:
	        service: ${{ fromJSON(needs.changes.outputs.services) }}
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "test-${{ matrix.service }}"
	EOF
	git -C repo add -A && git -C repo commit -q -m services
'

test_expect_success 'a push changing billing and email runs only their jobs' '
	echo "billing v2" >repo/services/billing/main.txt &&
	echo "new" >repo/services/billing/extra.txt &&
	echo "email v2" >repo/services/email/main.txt &&
	git -C repo add -A && git -C repo commit -q -m "billing, email" &&
	(cd repo && kiln run) >out 2>err &&
	test_grep "changes=\[billing,email\]" out &&
	test_grep "billing_count=2 files=services/billing/extra.txt,services/billing/main.txt" out &&
	test_grep "^\[billing\] deploy-billing" out &&
	test_grep "^\[email\] deploy-email" out &&
	test_grep "^auth  *skipped" out &&
	test_grep "^cart  *skipped" out &&
	test_grep "^docs  *skipped" out &&
	test_grep -v "deploy-auth\|deploy-cart\|deploy-docs" out &&
	test_grep "test-billing" out &&
	test_grep "test-email" out &&
	test_grep -v "test-auth\|test-cart\|test-docs" out
'

test_expect_success 'a feature branch compared with base: main (merge base) sees all its commits' '
	git -C repo checkout -q -b feature &&
	echo "auth v2" >repo/services/auth/main.txt && git -C repo commit -q -am auth &&
	echo "docs v2" >repo/services/docs/main.txt && git -C repo commit -q -am docs &&
	sed -i "s|filters: .github/filters.yml|filters: .github/filters.yml\n          base: main|" \
		repo/.github/workflows/ci.yml &&
	git -C repo commit -q -am "base main" &&
	(cd repo && kiln run) >out 2>err &&
	test_grep "changes=\[auth,docs\]" out &&
	test_grep "^\[auth\] deploy-auth" out &&
	test_grep "^\[docs\] deploy-docs" out &&
	test_grep "^billing  *skipped" out &&
	test_grep "^email  *skipped" out
'

test_expect_success 'inline YAML filters with negation, list-files json and a bad filter' '
	write_workflow repo pf <<-\EOF &&
	on: push
	jobs:
	  f:
	    runs-on: ubuntu-latest
	    steps:
	      - id: f
	        uses: dorny/paths-filter@v3
	        with:
	          base: main
	          list-files: json
	          filters: |
	            code:
	              - services/**
	              - "!services/docs/**"
	            none: nothing/**
	      - run: |
	          echo "code=${{ steps.f.outputs.code }} none=${{ steps.f.outputs.none }}"
	          echo "files=${{ steps.f.outputs.code_files }}"
	      - uses: dorny/paths-filter@v3
	        with:
	          filters: "this: [is: not"
	EOF
	test_expect_code 1 env -C repo kiln run -W .github/workflows/pf.yml >out 2>err &&
	test_grep "code=true none=false" out &&
	test_grep "files=\[services/auth/main.txt\]" out &&
	test_grep "error: .*invalid filter YAML format\|error: .*YAML" out
'

test_expect_success 'pull_request: the files of the pull request (merge base of base and head)' '
	write_workflow repo pr <<-\EOF &&
	on: pull_request
	jobs:
	  f:
	    runs-on: ubuntu-latest
	    steps:
	      - id: f
	        uses: dorny/paths-filter@v3
	        with:
	          filters: .github/filters.yml
	      - run: echo "pr-changes=${{ steps.f.outputs.changes }}"
	EOF
	git -C repo checkout -q main &&
	echo "cart v2" >repo/services/cart/main.txt && git -C repo commit -q -am "cart on main" &&
	git -C repo checkout -q feature &&
	(cd repo && kiln run pull_request --base main -W .github/workflows/pr.yml) >out 2>err &&
	test_grep "pr-changes=\[auth,docs\]" out
'

test_done
