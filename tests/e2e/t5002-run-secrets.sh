#!/bin/bash
test_description='kiln run: stored, -s and --secret-file secrets reach the secrets context and never any output or log'
. "$(dirname "$0")/../lib.sh"

export KILN_HOME="$TRASH/kh"

test_expect_success 'setup: stored secrets and a workflow printing them every way' '
	test_create_repo repo &&
	printf "stored-S3cret-value" | kiln secret set STORED_TOKEN &&
	printf "line-one-Zq\nline-two-Zq" | kiln secret set MULTI &&
	printf "FILE_SECRET=\"from-file-Xy9 value\"\n# c\n" >secrets.env &&
	write_workflow repo ci <<-\EOF
	name: CI
	on: push
	jobs:
	  leak:
	    runs-on: ubuntu-latest
	    steps:
	      - name: print secrets
	        env:
	          A: ${{ secrets.STORED_TOKEN }}
	          B: ${{ secrets.CLI_SECRET }}
	          C: ${{ secrets.FILE_SECRET }}
	          M: ${{ secrets.MULTI }}
	        run: |
	          echo "stored=$A cli=$B file=$C"
	          echo "$M"
	          printf "%s" "$A" | base64
	          printf "{\"k\":\"%s\"}\n" "$C"
	          printf "%s" "$A" | head -c 7; printf "%s\n" "$A" | tail -c +8
	          echo "::error::failed with $A"
	          test -n "$A" && test -n "$B" && test -n "$C"
	EOF
'

check_clean() {
	for f in "$@"; do
		if grep -a -e S3cret -e cli-Pw0rd -e from-file-Xy9 -e line-one-Zq -e line-two-Zq \
			-e c3RvcmVkLVMzY3JldC12YWx1 "$f"; then
			echo "leak in $f"; return 1
		fi
	done
}

test_expect_success 'terminal output is masked' '
	(cd repo && kiln run -s CLI_SECRET=cli-Pw0rd --secret-file ../secrets.env) >out 2>err &&
	test_grep "stored=\*\*\* cli=\*\*\* file=\*\*\*" out &&
	check_clean out err
'

test_expect_success '--json output is masked' '
	(cd repo && kiln run --json -s CLI_SECRET=cli-Pw0rd --secret-file ../secrets.env) >out.json 2>err &&
	test_grep "stored=\*\*\*" out.json &&
	check_clean out.json err
'

test_expect_success 'runs are recorded and stored logs are masked' '
	kiln runs >runs &&
	test_grep "^2  *CI  *2  *push  *main  *success" runs &&
	test_grep "^1  *CI  *1  *push  *main  *success" runs &&
	kiln logs CI#2 leak >log &&
	test_grep "^stored=\*\*\* cli=\*\*\* file=\*\*\*$" log &&
	test_grep "^> print secrets" log &&
	test_grep "^< print secrets: success" log &&
	test_grep "^error: failed with \*\*\*" log &&
	check_clean log &&
	! grep -r -a -l -e S3cret -e cli-Pw0rd -e from-file-Xy9 -e line-one-Zq "$KILN_HOME"
'

test_expect_success 'jobs with environment: see that environment'"'"'s secrets' '
	printf "prod-deploy-K3y" | kiln secret set DEPLOY_KEY --env prod &&
	printf "prod-token-override" | kiln secret set STORED_TOKEN --env prod &&
	mkdir -p envrepo && test_create_repo envrepo &&
	write_workflow envrepo env <<-\EOF &&
	name: Env
	on: push
	jobs:
	  plain:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "deploy-len=${#D} token-sha=$(printf %s "$T" | sha256sum | cut -c1-16)"
	          echo "leak $D $T"
	        env: { D: "${{ secrets.DEPLOY_KEY }}", T: "${{ secrets.STORED_TOKEN }}" }
	  prod:
	    runs-on: ubuntu-latest
	    environment: prod
	    steps:
	      - run: |
	          echo "deploy-sha=$(printf %s "$D" | sha256sum | cut -c1-16) token-sha=$(printf %s "$T" | sha256sum | cut -c1-16)"
	          echo "leak $D $T"
	        env: { D: "${{ secrets.DEPLOY_KEY }}", T: "${{ secrets.STORED_TOKEN }}" }
	  prod-map:
	    runs-on: ubuntu-latest
	    environment: { name: prod, url: "https://example.com" }
	    steps:
	      - run: echo "deploy-sha=$(printf %s "$D" | sha256sum | cut -c1-16) leak $D"
	        env: { D: "${{ secrets.DEPLOY_KEY }}" }
	EOF
	(cd envrepo && kiln run) >out 2>err &&
	repo_tok=$(printf %s stored-S3cret-value | sha256sum | cut -c1-16) &&
	prod_tok=$(printf %s prod-token-override | sha256sum | cut -c1-16) &&
	dep=$(printf %s prod-deploy-K3y | sha256sum | cut -c1-16) &&
	test_grep "^\[plain\] deploy-len=0 token-sha=$repo_tok" out &&
	test_grep "^\[prod\] deploy-sha=$dep token-sha=$prod_tok" out &&
	test_grep "^\[prod-map\] deploy-sha=$dep leak \*\*\*" out &&
	test_grep "^\[prod\] leak \*\*\* \*\*\*" out &&
	! grep -e prod-deploy-K3y -e prod-token-override -e S3cret out err
'

test_expect_success 'a missing secret key is a clear error (exit 3)' '
	mv "$KILN_HOME/secret.key" key.bak &&
	test_expect_code 3 env -C repo kiln run 2>err &&
	test_grep "secret key file .* is missing" err &&
	mv key.bak "$KILN_HOME/secret.key"
'

test_expect_success 'bad -s and --secret-file are usage errors' '
	test_expect_code 2 env -C repo kiln run -s "9x=1" 2>err &&
	test_grep "invalid secret name" err &&
	printf "A=\"open\n" >bad.env &&
	test_expect_code 2 env -C repo kiln run --secret-file ../bad.env 2>err &&
	test_grep "bad.env:1:3: error: unterminated double-quoted value" err
'

test_done
