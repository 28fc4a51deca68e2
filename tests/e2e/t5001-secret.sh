#!/bin/bash
test_description='kiln secret set|list|rm: encrypted at rest, key 0600'
. "$(dirname "$0")/../lib.sh"

export KILN_HOME="$TRASH/kh"

test_expect_success 'set reads the value from stdin and list shows only names' '
	echo "super-secret-value-1" | kiln secret set API_TOKEN 2>err &&
	test_grep "secret API_TOKEN set" err &&
	printf "prod-only-value" | kiln secret set db_pass --env prod &&
	kiln secret list >out &&
	test_grep "^-  *API_TOKEN " out &&
	test_grep "^prod  *DB_PASS " out &&
	test_grep -v "super-secret" out &&
	kiln secret list --env prod >out &&
	test_grep -v API_TOKEN out
'

test_expect_success 'the key file is 0600 and values are not stored in clear' '
	test "$(stat -c %a "$KILN_HOME/secret.key")" = 600 &&
	test "$(stat -c %s "$KILN_HOME/secret.key")" = 32 &&
	! grep -r -a -e super-secret-value-1 -e prod-only-value "$KILN_HOME"
'

test_expect_success 'rm removes; removing twice is a usage error' '
	kiln secret rm DB_PASS --env prod &&
	kiln secret list >out &&
	test_grep -v DB_PASS out &&
	test_expect_code 2 kiln secret rm DB_PASS --env prod 2>err &&
	test_grep "no secret .DB_PASS. in environment .prod." err
'

test_expect_success 'bad input is a usage error with a clear message' '
	test_expect_code 2 kiln secret set 9BAD </dev/null 2>err &&
	test_grep "invalid secret name" err &&
	test_expect_code 2 kiln secret set GITHUB_SHA </dev/null 2>err &&
	test_grep "must not start with GITHUB_" err &&
	test_expect_code 2 kiln secret set EMPTY </dev/null 2>err &&
	test_grep "value is empty" err &&
	test_expect_code 2 kiln secret set X --env "bad env" </dev/null 2>err &&
	test_expect_code 2 kiln secret frob 2>err &&
	test_grep "usage: kiln secret" err &&
	head -c 60000 /dev/zero | tr "\0" a >big &&
	test_expect_code 2 kiln secret set BIG <big 2>err &&
	test_grep "larger than" err
'

test_expect_success 'an insecure key file is refused' '
	echo v2-value | kiln secret set OTHER &&
	chmod 644 "$KILN_HOME/secret.key" &&
	test_expect_code 3 kiln secret set THIRD <<<"x" 2>err &&
	test_grep "chmod 600" err &&
	chmod 600 "$KILN_HOME/secret.key"
'

test_expect_success 'the data directory follows XDG_DATA_HOME and HOME' '
	(unset KILN_HOME; XDG_DATA_HOME="$TRASH/xdg" kiln secret set XA <<<"xdg-value") &&
	test -f "$TRASH/xdg/kiln/secret.key" &&
	(unset KILN_HOME XDG_DATA_HOME; kiln secret set HA <<<"home-value") &&
	test -f "$HOME/.local/share/kiln/secret.key" &&
	test "$(stat -c %a "$HOME/.local/share/kiln")" = 700
'

test_done
