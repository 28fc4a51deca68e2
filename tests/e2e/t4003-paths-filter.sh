#!/bin/bash
test_description='paths-filter logic on a monorepo with five services (real git history)'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup a monorepo with five services' '
	test_create_repo mono &&
	cd mono &&
	for s in api web worker billing auth; do
		mkdir -p services/$s && echo "package $s" >services/$s/main.go &&
		echo "# $s" >services/$s/README.md
	done &&
	mkdir -p libs/common && echo common >libs/common/util.go &&
	git add . && git commit -q -m "five services" && git tag base &&
	cat >../filters.yml <<-\EOT
	common: &common
	  - libs/common/**
	api:
	  - *common
	  - services/api/**
	  - "!**/*.md"
	web: services/web/**
	worker: services/worker/**
	billing:
	  - services/billing/**
	auth:
	  - added|modified: services/auth/**
	EOT
	:
'

test_expect_success 'only the changed services are reported' '
	cd mono &&
	echo change >>services/api/main.go &&
	echo change >>services/billing/main.go &&
	git commit -q -am "api and billing" &&
	kiln debug paths-filter ../filters.yml base >out &&
	test_grep "^api=true$" out &&
	test_grep "^billing=true$" out &&
	test_grep "^web=false$" out &&
	test_grep "^worker=false$" out &&
	test_grep "^auth=false$" out &&
	test_grep "^changes=\[\"api\",\"billing\"\]$" out &&
	test_grep "^any_changed=true$" out &&
	test_grep "^all_changed=false$" out
'

test_expect_success 'a README-only change does not count for api (negation)' '
	cd mono &&
	git tag before-docs &&
	echo more >>services/api/README.md &&
	git commit -q -am "docs" &&
	kiln debug paths-filter ../filters.yml before-docs >out &&
	test_grep "^api=false$" out &&
	test_grep "^changes=\[\]$" out
'

test_expect_success 'a shared library change (anchor) triggers api' '
	cd mono &&
	git tag before-lib &&
	echo v2 >libs/common/util.go &&
	git commit -q -am "lib" &&
	kiln debug paths-filter ../filters.yml before-lib --list-files json >out &&
	test_grep "^common=true$" out &&
	test_grep "^api=true$" out &&
	test_grep "^api_files=\[\"libs/common/util.go\"\]$" out &&
	test_grep "^web_files=\[\]$" out
'

test_expect_success 'deleting in auth does not match added|modified' '
	cd mono &&
	git tag before-rm &&
	git rm -q services/auth/README.md &&
	git commit -q -m "rm" &&
	kiln debug paths-filter ../filters.yml before-rm --list-files csv >out &&
	test_grep "^auth=false$" out &&
	echo new >services/auth/new.go && git add . && git commit -q -m add &&
	kiln debug paths-filter ../filters.yml HEAD~1 --list-files shell >out &&
	test_grep "^auth=true$" out &&
	test_grep "^auth_files=services/auth/new.go$" out &&
	test_grep "^auth_count=1$" out
'

test_expect_success 'bad filters and formats are clear errors' '
	cd mono &&
	printf "x:\n  - \"!only/negative\"\n" >../bad.yml &&
	test_expect_code 2 kiln debug paths-filter ../bad.yml base 2>err &&
	test_grep "at least one positive pattern" err &&
	test_expect_code 2 kiln debug paths-filter ../filters.yml base --list-files xml 2>err &&
	test_grep "invalid value .xml." err
'

test_done
