#!/bin/bash
test_description='kiln dora: the four keys from recorded deployments, hand-computed'
. "$(dirname "$0")/../lib.sh"

export KILN_HOME="$TRASH/kh"

M=60000; H=$((60 * M)); D=$((24 * H))
NOW=$(date +%s%3N)
B=$((NOW - 10 * D))   # the scenario starts 10 days ago

# deploy RUN COMMIT END RESULT [more options]
deploy () {
	run=$1 commit=$2 end=$3 result=$4
	shift 4
	kiln debug record-deploy --repo shop --env production --run "$run" --commit "$commit" \
		--end "$end" --result "$result" "$@" >/dev/null
}

test_expect_success 'no deployments yet' '
	kiln dora >out &&
	test_grep "no deployments in the last 30 days" out &&
	kiln dora --json >out.json &&
	test "$(cat out.json)" = "[]"
'

test_expect_success 'record deploys, a rollback, a second failure, two recoveries' '
	deploy 1 $((NOW - 40 * D - H)) $((NOW - 40 * D)) success &&
	deploy 2 $((B - 2 * H)) $B success &&
	deploy 3 $((B + D - H)) $((B + D)) success &&
	deploy 4 $((B + 2 * D - 3 * H)) $((B + 2 * D)) success \
		--release-message "release 7 (v3) rolled-back after 2.10s: error rate 12% > 5%" &&
	deploy 5 $((B + 2 * D)) $((B + 2 * D + 30 * M)) failure --reason "exit 1" &&
	deploy 6 $((B + 2 * D + 40 * M)) $((B + 2 * D + H)) success &&
	deploy 7 $((B + 5 * D - 5 * H)) $((B + 5 * D)) success &&
	deploy 8 $((B + 4 * D)) $((B + 6 * D)) success &&
	deploy 9 $((B + 8 * D - H)) $((B + 8 * D)) failure &&
	deploy 10 $((B + 8 * D - 30 * M)) $((B + 8 * D + 30 * M)) success &&
	deploy 11 $B $((B + 9 * D)) cancelled &&
	kiln debug record-deploy --repo shop --env staging --run 12 --commit $B \
		--end $((B + H)) --result success >/dev/null
'

# 30 days: successes 2, 3, 6, 7, 8, 10 = 6 -> 0.20/day (high);
# failures 4 (rolled back), 5, 9 -> 3 of 9 = 33.3% (low);
# leads 2h 1h 20m 5h 2d 1h -> median (1h+2h)/2 = 1h 30m, p90 2d (elite);
# recoveries 1h (4 -> 6) and 30m (9 -> 10) -> median 45m (elite)
test_expect_success 'the four keys and their bands' '
	kiln dora --env production >out &&
	cat out &&
	test_grep "^shop / production — last 30 days" out &&
	test_grep "deployment frequency *0.20/day (6 successful) *high$" out &&
	test_grep "lead time for changes *median 1h 30m, p90 2d 00h (6) *elite$" out &&
	test_grep "change failure rate *33.3% (3 of 9) *low$" out &&
	test_grep "recovery time *median 45m (2 recovered, 0 still failing) *elite$" out
'

test_expect_success 'JSON as the API gives it' '
	kiln dora --json --repo shop --env production >out.json &&
	python3 - <<-\PY
	import json
	[r] = json.load(open("out.json"))
	assert r["repo"] == "shop" and r["environment"] == "production", r
	df, lt, cfr, rt = r["deployment_frequency"], r["lead_time"], r["change_failure_rate"], r["recovery_time"]
	assert (df["deployments"], df["failed_deployments"], df["band"]) == (6, 3, "high"), df
	assert abs(df["per_day"] - 0.2) < 1e-9, df
	assert (lt["changes"], lt["median_ms"], lt["p90_ms"], lt["band"]) == (6, 5400000, 172800000, "elite"), lt
	assert abs(cfr["rate"] - 1 / 3) < 1e-9 and cfr["band"] == "low", cfr
	assert (rt["recoveries"], rt["unrecovered"], rt["median_ms"], rt["band"]) == (2, 0, 2700000, "elite"), rt
	PY
'

test_expect_success 'every environment, and a shorter window' '
	kiln dora >out &&
	test_grep "^shop / staging" out &&
	kiln dora --days 7 --env production >out &&
	test_grep "deployment frequency *0.43/day (3 successful) *high$" out &&
	test_grep "change failure rate *25.0% (1 of 4) *low$" out &&
	test_grep "median 30m (1 recovered" out
'

test_expect_success 'the rollback is recorded with its reason and release' '
	python3 -c "import sqlite3, sys; print(\"|\".join(map(str, sqlite3.connect(sys.argv[1]).execute(\"SELECT state, release_id, reason FROM deployments WHERE run_id = 4\").fetchone())))" "$KILN_HOME/kiln.db" >row &&
	test "$(cat row)" = "failure|7|error rate 12% > 5%"
'

test_expect_success 'bad input' '
	test_expect_code 2 kiln dora --days 0 2>err &&
	test_grep "bad window" err &&
	test_expect_code 2 kiln dora extra 2>err &&
	test_grep "usage: kiln dora" err
'

test_done
