#!/usr/bin/env bash
# demo: runs the example pipeline with kiln (filled in as kiln run lands)
set -euo pipefail
KILN=${1:-build/kiln}
"$KILN" version
