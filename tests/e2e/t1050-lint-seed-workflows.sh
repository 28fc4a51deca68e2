#!/bin/bash
test_description='realistic workflows (the shapes in the seed pipeline documents) lint clean and load as expected'
. "$(dirname "$0")/../lib.sh"

WF="$SRC_ROOT/tests/data/workflows"

test_expect_success 'the seed-shaped workflows lint clean from the repository root' '
	test_create_repo repo &&
	mkdir -p repo/.github/workflows &&
	cp "$WF"/*.yml repo/.github/workflows/ &&
	(cd repo && kiln lint >../out 2>&1) &&
	# remote actions (docker/*, trivy) are fetched at run time: no warning
	test_must_be_empty out
'

test_expect_success 'monorepo: paths-filter outputs feed a dynamic matrix' '
	kiln debug workflow "$WF/monorepo-ci.yml" >out &&
	test_grep "^job lint needs=changes matrix=-1$" out &&
	test_grep "^job test needs=changes,lint matrix=5$" out &&
	test_grep "^job build needs=test,security matrix=5$" out &&
	test_grep "^  step filter uses$" out
'

test_expect_success 'release: tag trigger, 2x2 image matrix, staged jobs' '
	kiln debug workflow "$WF/release.yml" >out &&
	test_grep "^on push$" out && test_grep "^on workflow_dispatch$" out &&
	test_grep "^job images needs=version matrix=4$" out &&
	test_grep "^job publish needs=version,scan$" out
'

test_expect_success 'deploy: environments, approvals and rollback steps' '
	kiln debug workflow "$WF/deploy.yml" >out &&
	test_grep "^job production needs=staging$" out &&
	test_grep "^job notify needs=staging,production$" out &&
	test_grep "^expr .* jobs.<job_id>.steps.if: failure() && steps.switch.outcome" out
'

test_expect_success 'matrix: include/exclude count as GitHub does; reusable workflow call' '
	kiln debug workflow "$WF/matrix.yml" >out &&
	test_grep "^job test matrix=6$" out &&
	test_grep "^job docs uses=./.github/workflows/docs.yml$" out
'

test_expect_success 'containers: container jobs and service containers load' '
	kiln debug workflow "$WF/containers.yml" >out &&
	test_grep "^job rollout needs=image$" out &&
	kiln debug workflow --json "$WF/containers.yml" >json &&
	python3 -c "
import json, sys
d = json.load(open(\"json\"))
jobs = {j[\"id\"]: j for j in d[\"jobs\"]}
assert jobs[\"integration\"][\"container\"] == \"node:20-alpine\", jobs[\"integration\"]
svc = jobs[\"integration\"][\"services\"][\"map\"][0]
assert svc[\"Key\"] == \"db\", svc
assert jobs[\"rollout\"][\"runs-on\"][\"seq\"] == [\"self-hosted\", \"linux\", \"production\"]
"
'

test_expect_success 'one typo in a seed workflow is caught with its position' '
	sed "s/needs: \[test, security\]/needs: [test, securty]/" "$WF/monorepo-ci.yml" >typo.yml &&
	test_expect_code 2 kiln lint typo.yml >out &&
	test_grep "^typo.yml:[0-9]*:[0-9]*: error: job .build. needs unknown job .securty. (did you mean .security.?)" out &&
	test $(wc -l <out) = 1
'

test_done
