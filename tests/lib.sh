# tests/lib.sh: git-style end-to-end test library producing TAP.
#
#   test_description='what this file tests'
#   . "$(dirname "$0")/../lib.sh"
#   test_expect_success 'title' '
#       commands chained with && (run with set -e in a subshell)
#   '
#   test_done
#
# Each test file runs in its own fresh directory ($TRASH), removed at the
# end unless KILN_TEST_KEEP=1. `kiln` on PATH is the binary under test
# ($KILN_BUILD/kiln, or build/kiln of this checkout).

set -u
TEST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_ROOT=$(cd "$TEST_ROOT/.." && pwd)
SHARED_DIR=${KILN_SHARED_DIR:-$(cd "$SRC_ROOT/.." && pwd)/shared}
CONFORMANCE_DIR="$SHARED_DIR/conformance/actions-languageservices"
: "${KILN_BUILD:=$SRC_ROOT/build}"
export PATH="$KILN_BUILD:$PATH"
KILN="$KILN_BUILD/kiln"
. "$TEST_ROOT/lib-port.sh"
[ -x "$KILN" ] || { echo "Bail out! kiln binary not found at $KILN (run make first)"; exit 1; }

# sanitizer reports must fail a test even under test_must_fail
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
export NO_COLOR=1 LC_ALL=C.UTF-8 TZ=UTC
export GIT_AUTHOR_NAME='A U Thor' GIT_AUTHOR_EMAIL=author@example.com
export GIT_COMMITTER_NAME='C O Mitter' GIT_COMMITTER_EMAIL=committer@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/kiln-test.XXXXXX")
HOME="$TRASH/home"
mkdir -p "$HOME"
# remote actions never come from the internet in tests: an empty mirror
# unless a test serves its own (tests/e2e/lib-remote.sh)
export KILN_GITHUB_URL="$TRASH/no-github"
git config --global init.defaultBranch main
git config --global advice.detachedHead false
cd "$TRASH" || exit 1

test_count=0
test_failed=0
test_skipped_all=

_cleanup() {
	if [ "${KILN_TEST_KEEP:-}" = 1 ] || [ "$test_failed" != 0 ]; then
		echo "# trash directory kept: $TRASH" >&2
	else
		rm -rf "$TRASH"
	fi
}
trap _cleanup EXIT

say() { echo "# $*"; }

test_skip_all() {
	echo "1..0 # SKIP $*"
	test_skipped_all=1
	exit 0
}

# test_expect_success [PREREQ] TITLE BODY
test_expect_success() {
	if [ $# = 3 ]; then
		if ! test_have_prereq "$1"; then
			test_count=$((test_count + 1))
			echo "ok $test_count # skip $2 (missing $1)"
			return 0
		fi
		shift
	fi
	test_count=$((test_count + 1))
	local out="$TRASH/.test-$test_count.out"
	(set -e; cd "$TRASH"; eval "$2") >"$out" 2>&1 </dev/null
	local rc=$?
	if [ $rc = 0 ]; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		sed 's/^/#   /' <<<"$2"
		echo "#   --- output (exit $rc) ---"
		tail -n 60 "$out" | sed 's/^/#   /'
	fi
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" = 0 ]
	exit $?
}

# prerequisites: a name that is satisfied when a command exists
test_have_prereq() {
	case "$1" in
	NODE) command -v node >/dev/null ;;
	PYTHON) command -v python3 >/dev/null ;;
	HAPROXY) command -v haproxy >/dev/null ;;
	NOTSAN) [ "${KILN_SAN:-}" != 1 ] ;;
	ROOT) [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 ;; # can chown to another user
	NOTROOT) [ "$(id -u)" != 0 ] ;; # file permissions apply
	SQLITESTORE) [ -z "${KILN_DB:-}" ] ;; # the store is the SQLite file (not KILN_TEST_DB=pg)
	*) command -v "$(echo "$1" | tr 'A-Z' 'a-z')" >/dev/null ;;
	esac
}

# expect a clean failure (exit 1..125), not a crash or signal
test_must_fail() {
	"$@"
	local rc=$?
	if [ $rc = 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif [ $rc -gt 125 ]; then
		echo "test_must_fail: died with exit $rc (signal or crash): $*" >&2
		return 1
	fi
	return 0
}

# test_expect_code CODE cmd...
test_expect_code() {
	local want=$1
	shift
	"$@"
	local rc=$?
	if [ "$rc" != "$want" ]; then
		echo "test_expect_code: expected exit $want, got $rc: $*" >&2
		return 1
	fi
	return 0
}

test_cmp() {
	diff -u "$1" "$2"
}

# grep that shows the file on failure: test_grep [-v] PATTERN FILE
test_grep() {
	local neg=
	if [ "$1" = -v ]; then neg=1; shift; fi
	if [ -n "$neg" ]; then
		if grep -q -e "$1" "$2"; then
			echo "test_grep: '$1' unexpectedly found in $2:" >&2; cat "$2" >&2; return 1
		fi
	elif ! grep -q -e "$1" "$2"; then
		echo "test_grep: '$1' not found in $2:" >&2; cat "$2" >&2; return 1
	fi
	return 0
}

# test_create_repo DIR: a git repository with one commit
test_create_repo() {
	mkdir -p "$1" &&
	git -C "$1" init -q &&
	echo "# $1" >"$1/README.md" &&
	git -C "$1" add README.md &&
	git -C "$1" commit -q -m initial
}

# write_workflow REPO NAME <<EOF ... EOF: adds .github/workflows/NAME.yml and commits
write_workflow() {
	mkdir -p "$1/.github/workflows" &&
	cat >"$1/.github/workflows/$2.yml" &&
	git -C "$1" add .github &&
	git -C "$1" commit -q -m "workflow $2"
}

# test_must_be_empty FILE: fails (showing the file) unless FILE is empty
test_must_be_empty() {
	if [ -s "$1" ]; then
		echo "test_must_be_empty: '$1' is not empty:" >&2; cat "$1" >&2; return 1
	fi
}
