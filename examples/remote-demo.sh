#!/usr/bin/env bash
# remote-demo: a repository whose CI uses remote actions (a composite and a
# JavaScript action with a post step) and a `$/` action, run end to end from
# a local mirror — cold (fetched with libgit2), warm (no I/O to the mirror)
# and --offline with the mirror gone. No internet: the mirror is built here
# from examples/remote/actions, as `git clone --bare` of real action
# repositories would be (see README, "Running a real repository").
set -euo pipefail
KILN=${1:-build/kiln}
KILN=$(cd "$(dirname "$KILN")" && pwd)/$(basename "$KILN")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-remote-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export KILN_HOME="$tmp/kiln-home" GIT_CONFIG_NOSYSTEM=1
git() { command git -c user.name=demo -c user.email=demo@example.com -c init.defaultBranch=main "$@"; }

# the mirror: <mirror>/<owner>/<repo> bare repositories with tags
publish() { # DIR OWNER/REPO TAG
	cp -r "$1" "$tmp/src-${2//\//-}"
	(cd "$tmp/src-${2//\//-}" && git init -q && git add -A && git commit -q -m "$2" &&
		git tag -a -m "$3" "$3")
	git clone -q --bare "$tmp/src-${2//\//-}" "$tmp/mirror/$2"
}
publish "$here/remote/actions/acme/greet" acme/greet v1
publish "$here/remote/actions/acme/report" acme/report v2

cp -r "$here/remote/repo" "$tmp/repo"
cd "$tmp/repo"
git init -q && git add -A && git commit -q -m "ci with remote actions"

echo "== the workflow"
cat .github/workflows/ci.yml
echo
echo "== kiln run --github-instance $tmp/mirror (cold: fetched into the cache)"
"$KILN" run --github-instance "$tmp/mirror"
echo
echo "== the cache (keyed by base URL, owner/repo, commit)"
(cd "$KILN_HOME/actions" && find . -maxdepth 5 -path '*/commits/*' | sort)
echo
echo "== the mirror is gone: kiln run --offline uses the cache only"
mv "$tmp/mirror" "$tmp/mirror.gone"
"$KILN" run --offline --github-instance "$tmp/mirror" | tail -4
