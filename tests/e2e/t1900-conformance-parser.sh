#!/bin/bash
test_description='conformance with GitHub workflow-parser test data (actions/languageservices reader cases)'
. "$(dirname "$0")/../lib.sh"

READER="$CONFORMANCE_DIR/workflow-parser/testdata/reader"
[ -d "$READER" ] || test_skip_all "conformance data not found at $READER"
test_have_prereq PYTHON || test_skip_all "python3 is needed to compare JSON"

# one TAP line per case; the summary line names the counts
mkdir conf
python3 "$SRC_ROOT/tests/conformance/parser.py" "$KILN" "$READER" conf
