#!/bin/bash
test_description='kiln debug mask: streaming masking through the binary'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'a secret split across every read size is masked' '
	printf "start hunter2-secret-value end\n" >in &&
	for n in 1 2 3 5 7 11 64; do
		kiln debug mask -s hunter2-secret-value --chunk $n <in >out.$n &&
		echo "start *** end" >want &&
		test_cmp want out.$n || return 1
	done
'

test_expect_success 'multi-line secret: each line masked' '
	printf "a first-line-x b\nsecond-line-y\n" >in &&
	kiln debug mask -s "first-line-x\\nsecond-line-y" --chunk 3 <in >out &&
	printf "a *** b\n***\n" >want &&
	test_cmp want out
'

test_expect_success 'base64 and JSON forms are masked' '
	v=hunter2-secret &&
	{ printf "%s" "$v" | base64; printf "{\"k\":\"%s\"}\n" "$v"; } >in &&
	kiln debug mask -s "$v" --chunk 4 <in >out &&
	test_grep -v hunter2 out &&
	test_grep -v aHVudGVyMi1zZWNyZX out &&
	test_grep "\\*\\*\\*" out
'

test_expect_success 'URL-encoded and hex forms are masked at every read size' '
	v="p@ss w/rd&1!" &&
	{
		echo "curl https://h/?t=p%40ss%20w%2Frd%261%21&x=1" &&
		echo "curl https://h/?t=p%40ss%20w%2frd%261%21&x=1" &&
		echo "data=p%40ss+w%2Frd%261%21" &&
		printf "%s" "$v" | od -An -tx1 | tr -d " \n" && echo &&
		printf "%s" "$v" | od -An -tx1 | tr -d " \n" | tr a-f A-F && echo
	} >in &&
	printf "curl https://h/?t=***&x=1\ncurl https://h/?t=***&x=1\ndata=***\n***\n***\n" >want &&
	for n in 1 2 3 7 64; do
		kiln debug mask -s "$v" --chunk $n <in >out.$n &&
		test_cmp want out.$n || return 1
	done
'

test_expect_success 'binary input passes through unchanged without secrets' '
	head -c 100000 /dev/urandom >bin &&
	kiln debug mask -s not-in-there-xyz --chunk 999 <bin >out &&
	cmp bin out
'

test_expect_success 'secrets file with 100 values, 1 MB of text, no leaks' '
	for i in $(seq 1 100); do echo "sec-$i-$(echo $i | sha256sum | cut -c1-20)"; done >secrets &&
	for r in $(seq 1 2000); do echo "log line $r $(sed -n "$(( r % 100 + 1 ))p" secrets) more"; done >in &&
	kiln debug mask --secrets-file secrets --chunk 4093 <in >out &&
	test $(wc -l <out) = 2000 &&
	! grep -F -f secrets out
'

test_expect_success 'bad options are usage errors' '
	test_expect_code 2 kiln debug mask --chunk 0 </dev/null &&
	test_expect_code 2 kiln debug mask --secrets-file missing </dev/null 2>err &&
	test_grep "cannot read" err
'

test_done
