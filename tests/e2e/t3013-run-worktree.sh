#!/bin/bash
test_description='kiln run: jobs see the work tree as the user has it, snapshotted once per run; --head runs a commit'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup: a repository with uncommitted changes' '
	test_create_repo repo &&
	mkdir -p repo/src repo/bin &&
	echo committed >repo/src/file.txt &&
	echo doomed >repo/gone.txt &&
	printf "#!/bin/sh\necho tool ran\n" >repo/bin/tool && chmod +x repo/bin/tool &&
	printf "build/\n*.log\n" >repo/.gitignore &&
	git -C repo add -A && git -C repo commit -q -m files &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  show:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "file=$(cat src/file.txt)"
	          echo "new=$(cat new.txt)"
	          test -e gone.txt || echo "gone absent"
	          test -e debug.log || echo "log absent"
	          test -e build || echo "build absent"
	          echo "link=$(readlink link)"
	          bin/tool
	          echo "sha=${{ github.sha }}"
	EOF
	echo edited >repo/src/file.txt &&
	echo untracked >repo/new.txt &&
	rm repo/gone.txt &&
	echo ignored >repo/debug.log &&
	mkdir repo/build && echo out >repo/build/a.o &&
	ln -s src/file.txt repo/link &&
	git -C repo status --porcelain >status.before &&
	find repo/.git/objects -type f | sort >objects.before
'

test_expect_success 'edited, untracked, ignored and deleted files as in the work tree' '
	(cd repo && kiln run) >out 2>err &&
	test_grep "^\[show\] file=edited$" out &&
	test_grep "^\[show\] new=untracked$" out &&
	test_grep "^\[show\] gone absent$" out &&
	test_grep "^\[show\] log absent$" out &&
	test_grep "^\[show\] build absent$" out &&
	test_grep "^\[show\] link=src/file.txt$" out &&
	test_grep "^\[show\] tool ran$" out &&
	test_grep "^\[show\] sha=$(git -C repo rev-parse HEAD)$" out
'

test_expect_success 'the repository is left as it was: index, objects, files' '
	git -C repo status --porcelain >status.after &&
	test_cmp status.before status.after &&
	find repo/.git/objects -type f | sort >objects.after &&
	test_cmp objects.before objects.after &&
	echo edited >expect && test_cmp expect repo/src/file.txt
'

test_expect_success '--head HEAD runs the committed tree' '
	(cd repo && kiln run --head HEAD) >out 2>err &&
	test_grep "^\[show\] file=committed$" out &&
	test_grep "^\[show\] new=$" out &&
	test_grep -v "gone absent" out &&
	test_grep "^\[show\] sha=$(git -C repo rev-parse HEAD)$" out
'

test_expect_success '--ref REF runs the committed tree of HEAD, github.ref as given' '
	(cd repo && kiln run --ref refs/heads/elsewhere) >out 2>err &&
	test_grep "^\[show\] file=committed$" out &&
	test_grep "^\[show\] new=$" out &&
	test_grep -v "gone absent" out &&
	test_grep "^\[show\] sha=$(git -C repo rev-parse HEAD)$" out
'

test_expect_success 'an uncommitted workflow runs; --head runs the committed one' '
	cat >repo/.github/workflows/ci.yml <<-\EOF &&
	on: push
	jobs:
	  show:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "uncommitted workflow file=$(cat src/file.txt)"
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "^\[show\] uncommitted workflow file=edited$" out &&
	(cd repo && kiln run --head HEAD) >out 2>err &&
	test_grep "^\[show\] file=committed$" out &&
	test_grep -v "uncommitted workflow" out &&
	git -C repo checkout -q .github/workflows/ci.yml
'

test_expect_success 'a workflow file .gitignore excludes is not one of the run'"'"'s' '
	echo ".github/workflows/mine.yml" >repo/.git/info/exclude &&
	printf "on: push\njobs:\n  mine:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo mine ran\n" \
		>repo/.github/workflows/mine.yml &&
	(cd repo && kiln run) >out 2>err &&
	test_grep -v "mine ran" out &&
	test_grep "^\[show\] file=edited$" out &&
	rm repo/.github/workflows/mine.yml && : >repo/.git/info/exclude
'

test_expect_success 'an uncommitted broken workflow: the message names the user'"'"'s file' '
	printf "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps: 3\n" \
		>repo/.github/workflows/bad.yml &&
	test_expect_code 2 env -C repo kiln run >out 2>err &&
	test_grep "\.github/workflows/bad.yml:5:" err &&
	test_grep -v "\.snapshot" err &&
	rm repo/.github/workflows/bad.yml
'

test_expect_success 'edits made during the run are not seen by a later job' '
	cat >repo/.github/workflows/during.yml <<-\EOF &&
	on: push
	jobs:
	  first:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "changed by the user" >"$USER_REPO/src/file.txt"
	          echo "late" >"$USER_REPO/late.txt"
	          echo "changed by first" >src/file.txt
	          echo mine >first-only.txt
	  second:
	    needs: first
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "second file=$(cat src/file.txt)"
	          test -e late.txt || echo "late absent"
	          test -e first-only.txt || echo "first-only absent"
	EOF
	(cd repo && USER_REPO="$TRASH/repo" kiln run -W .github/workflows/during.yml) >out 2>err &&
	test_grep "^\[second\] second file=edited$" out &&
	test_grep "^\[second\] late absent$" out &&
	test_grep "^\[second\] first-only absent$" out &&
	echo "changed by the user" >expect && test_cmp expect repo/src/file.txt &&
	test -f repo/late.txt
'

test_expect_success 'a job reusing a finished job'"'"'s directory sees the snapshot, not its writes' '
	cat >repo/.github/workflows/reuse.yml <<-\EOF &&
	on: push
	jobs:
	  dirty:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "changed by the usEr" >src/file.txt
	          touch -r bin/tool src/file.txt # an old mtime: only its ctime says it changed
	          rm new.txt && mkdir new.txt && echo x >new.txt/inner
	          rm -r src/sub && echo flat >src/sub
	          chmod -x bin/tool && chmod 0555 bin
	          ln -sf /etc/passwd link
	          mkdir -p extra/deep && echo y >extra/deep/z
	          echo t >"$RUNNER_TEMP/leftover"
	          echo o >"$RUNNER_TEMP/../stray"
	  clean:
	    needs: dirty
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "file=$(cat src/file.txt)"
	          echo "new=$(cat new.txt)"
	          echo "sub=$(cat src/sub/s.txt)"
	          test -x bin/tool && echo "tool executable"
	          echo "link=$(readlink link)"
	          test -e extra || echo "extra absent"
	          test -e "$RUNNER_TEMP/leftover" || echo "leftover absent"
	          test -e "$RUNNER_TEMP/../stray" || echo "stray absent"
	EOF
	mkdir -p repo/src/sub && echo s >repo/src/sub/s.txt &&
	(cd repo && kiln run -p 1 -W .github/workflows/reuse.yml) >out 2>err &&
	test_grep "^\[clean\] file=changed by the user$" out &&
	test_grep "^\[clean\] new=untracked$" out &&
	test_grep "^\[clean\] sub=s$" out &&
	test_grep "^\[clean\] tool executable$" out &&
	test_grep "^\[clean\] link=src/file.txt$" out &&
	test_grep "^\[clean\] extra absent$" out &&
	test_grep "^\[clean\] leftover absent$" out &&
	test_grep "^\[clean\] stray absent$" out &&
	rm -r repo/src/sub
'

test_expect_success 'parallel jobs do not see each other'"'"'s writes' '
	cat >repo/.github/workflows/par.yml <<-\EOF &&
	on: push
	jobs:
	  w:
	    strategy:
	      matrix:
	        n: [1, 2, 3, 4]
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          test "$(cat src/file.txt)" = "changed by the user"
	          echo "${{ matrix.n }}" >>src/file.txt
	          test "$(wc -l <src/file.txt)" = 2 && echo "alone ${{ matrix.n }}"
	EOF
	(cd repo && kiln run -p 4 -W .github/workflows/par.yml) >out 2>err &&
	test $(grep -c "alone [1-4]$" out) = 4
'

test_expect_success 'a bare repository (a server'"'"'s mirror) runs its HEAD commit, workflows included' '
	git clone -q --bare repo bare.git &&
	(cd bare.git && kiln run) >out 2>err &&
	test_grep "^\[show\] file=committed$" out &&
	test_grep "^\[show\] sha=$(git -C repo rev-parse HEAD)$" out
'

test_done
