#!/bin/bash
# GitHub's published expression test data must pass in full.
test_description='expressions: actions/languageservices conformance data'
. "$(dirname "$0")/../lib.sh"

data="$CONFORMANCE_DIR/expressions/testdata"
[ -d "$data" ] || test_skip_all "conformance data not found at $data (expected ../shared next to the checkout)"
command -v python3 >/dev/null || test_skip_all "python3 is needed to drive the conformance data"

# the runner prints its own TAP plan and one line per data file
exec python3 "$SRC_ROOT/tests/oracle/conformance.py" "$KILN" "$data"
