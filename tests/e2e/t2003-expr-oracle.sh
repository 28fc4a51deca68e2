#!/bin/bash
# Differential test against GitHub's own evaluator, the npm package
# @actions/expressions, installed at test time: hand-written edge cases and
# seeded random expressions must agree on error-vs-value, kind and value.
test_description='expressions: differential test against @actions/expressions'
. "$(dirname "$0")/../lib.sh"

oracle="$SRC_ROOT/tests/oracle"
command -v node >/dev/null || test_skip_all "node is not installed (make deps installs it)"
"$oracle/install.sh" 2>install.err ||
	test_skip_all "cannot install @actions/expressions from npm (offline?): $(tail -1 install.err)"

# diff.mjs prints its own TAP (edge cases, random, documented differences)
exec node "$oracle/diff.mjs" "$KILN"
