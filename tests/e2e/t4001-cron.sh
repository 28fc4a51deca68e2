#!/bin/bash
test_description='kiln cron next: schedule cron expressions'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'cron next prints the next times in ISO-8601 UTC' '
	kiln cron next "*/15 9-17 * * MON-FRI" --after 2026-11-20T16:50Z -n 4 >out &&
	cat >expect <<-\EOT &&
	2026-11-20T17:00:00Z
	2026-11-20T17:15:00Z
	2026-11-20T17:30:00Z
	2026-11-20T17:45:00Z
	EOT
	test_cmp expect out
'

test_expect_success 'cron next skips the weekend' '
	kiln cron next "0 9 * * 1-5" --after 2026-11-20T10:00:00Z -n 2 >out &&
	printf "2026-11-23T09:00:00Z\n2026-11-24T09:00:00Z\n" >expect &&
	test_cmp expect out
'

test_expect_success 'day-of-month and day-of-week both set: either matches' '
	kiln cron next "0 0 13 * FRI" --after 2026-01-01T00:00Z -n 3 >out &&
	printf "2026-01-02T00:00:00Z\n2026-01-09T00:00:00Z\n2026-01-13T00:00:00Z\n" >expect &&
	test_cmp expect out
'

test_expect_success 'default count is 5 and default start is now' '
	kiln cron next "* * * * *" >out &&
	test $(wc -l <out) = 5 &&
	test_grep "^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:00Z$" out
'

test_expect_success 'a bad expression is a usage error naming the field' '
	test_expect_code 2 kiln cron next "61 * * * *" 2>err &&
	test_grep "invalid cron expression .61 \* \* \* \*.: minute .61. is out of range 0-59" err
'

test_expect_success 'wrong number of fields is explained' '
	test_expect_code 2 kiln cron next "* * *" 2>err &&
	test_grep "expected 5 fields" err
'

test_expect_success 'an expression that never fires is an error' '
	test_expect_code 2 kiln cron next "0 0 30 2 *" 2>err &&
	test_grep "never fires" err
'

test_expect_success 'bad -n, bad --after and missing expression are usage errors' '
	test_expect_code 2 kiln cron next "* * * * *" -n 0 2>err &&
	test_grep "between 1 and" err &&
	test_expect_code 2 kiln cron next "* * * * *" --after yesterday 2>err &&
	test_grep "invalid time" err &&
	test_expect_code 2 kiln cron next 2>err &&
	test_grep "usage: kiln cron next" err
'

test_done
