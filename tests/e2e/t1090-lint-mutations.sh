#!/bin/bash
test_description='kiln lint never crashes: mutated workflows (truncation, deleted lines, flipped bytes, stray indentation)'
. "$(dirname "$0")/../lib.sh"

test_have_prereq PYTHON || test_skip_all "python3 is needed to generate mutations"

test_expect_success 'generate mutated workflows (fixed seed)' '
	mkdir mut &&
	python3 "$SRC_ROOT/tests/conformance/mutate.py" mut "$SRC_ROOT/tests/data/workflows" \
		"$CONFORMANCE_DIR/workflow-parser/testdata/reader"
'

test_expect_success 'every mutation gives exit 0 or 2, never a crash' '
	ls mut/*.yml | xargs -n 40 sh -c "kiln lint \"\$@\" >/dev/null 2>&1; rc=\$?; [ \$rc = 0 ] || [ \$rc = 2 ] || { echo \"exit \$rc on one of: \$*\"; exit 255; }" sh
'

test_expect_success 'each mutation alone as well (catches per-file crashes hidden by batching)' '
	bad=0 &&
	for f in mut/m00*.yml mut/m01*.yml; do
		rc=0
		kiln debug workflow --json "$f" >/dev/null 2>&1 || rc=$?
		if [ $rc != 0 ] && [ $rc != 2 ]; then echo "exit $rc on $f"; bad=1; fi
	done &&
	test $bad = 0
'

test_done
