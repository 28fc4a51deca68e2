#!/bin/bash
test_description='actions/upload-artifact and download-artifact v4 between the jobs of one run'
. "$(dirname "$0")/../lib.sh"

export KILN_HOME="$TRASH/kh"

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'an artifact built in one job is tested in another' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          mkdir -p dist/sub
	          echo "#!/bin/sh" >dist/app && echo "echo app-ran" >>dist/app && chmod +x dist/app
	          echo lib >dist/sub/lib.txt
	          echo debug >dist/app.debug
	      - id: up
	        uses: actions/upload-artifact@v4
	        with:
	          name: app
	          path: |
	            dist/
	            !dist/*.debug
	          retention-days: 1
	      - run: echo "id=${{ steps.up.outputs.artifact-id }} url=${{ steps.up.outputs.artifact-url }}"
	  test:
	    needs: build
	    runs-on: ubuntu-latest
	    steps:
	      - id: dl
	        uses: actions/download-artifact@v4
	        with:
	          name: app
	          path: bin
	      - run: |
	          ./bin/app
	          cat bin/sub/lib.txt
	          test ! -e bin/app.debug && echo no-debug
	          echo "path=${{ steps.dl.outputs.download-path }}"
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "^\[build\] id=1 url=.*/actions/runs/.*/artifacts/1" out &&
	test_grep "^\[test\] app-ran" out &&
	test_grep "^\[test\] lib" out &&
	test_grep "^\[test\] no-debug" out &&
	test_grep "^\[test\] path=.*/test/workspace/bin$" out
'

test_expect_success 'download all (one directory each), by pattern, merge-multiple' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    strategy:
	      matrix:
	        os: [linux, mac]
	    runs-on: ubuntu-latest
	    steps:
	      - run: mkdir out && echo "${{ matrix.os }}" >out/${{ matrix.os }}.txt
	      - uses: actions/upload-artifact@v4
	        with:
	          name: bin-${{ matrix.os }}
	          path: out/${{ matrix.os }}.txt
	  docs:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo readme >notes.md
	      - uses: actions/upload-artifact@v4
	        with:
	          name: docs
	          path: "*.md"
	  use:
	    needs: [build, docs]
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/download-artifact@v4
	        with:
	          path: all
	      - run: find all -type f | sort
	      - uses: actions/download-artifact@v4
	        with:
	          pattern: bin-*
	          path: merged
	          merge-multiple: true
	      - run: ls merged | tr "\n" " "; echo
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "^\[use\] all/bin-linux/linux.txt" out &&
	test_grep "^\[use\] all/bin-mac/mac.txt" out &&
	test_grep "^\[use\] all/docs/notes.md" out &&
	test_grep "^\[use\] linux.txt mac.txt $" out
'

test_expect_success 'hidden files are left out unless include-hidden-files' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: mkdir -p d/.cfg d/sub && echo s >d/.env && echo c >d/.cfg/x && echo v >d/sub/v && echo h >d/sub/.h
	      - uses: actions/upload-artifact@v4
	        with:
	          name: plain
	          path: d
	      - uses: actions/upload-artifact@v4
	        with:
	          name: all
	          path: d
	          include-hidden-files: true
	      - uses: actions/download-artifact@v4
	        with:
	          path: got
	      - run: (cd got && find . -type f | sort | tr "\n" " "); echo
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "^\[build\] ./all/.cfg/x ./all/.env ./all/sub/.h ./all/sub/v ./plain/sub/v $" out
'

test_expect_success 'if-no-files-found: warn (default), ignore, error' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/upload-artifact@v4
	        with:
	          name: a
	          path: nothing/
	      - uses: actions/upload-artifact@v4
	        with:
	          name: b
	          path: nothing/
	          if-no-files-found: ignore
	      - uses: actions/upload-artifact@v4
	        with:
	          name: c
	          path: nothing/
	          if-no-files-found: error
	      - run: echo not-reached
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "^\[build\] warning: No files were found with the provided path: nothing/" out &&
	test_grep "^\[build\] error: No files were found with the provided path: nothing/" out &&
	test_grep -v "^\[build\] not-reached" out
'

test_expect_success 'a name is uploaded once per run unless overwrite; unknown names fail' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo 1 >f
	      - uses: actions/upload-artifact@v4
	        with:
	          path: f
	      - run: echo 2 >f
	      - uses: actions/upload-artifact@v4
	        with:
	          path: f
	          overwrite: true
	      - uses: actions/download-artifact@v4
	        with:
	          name: artifact
	          path: got
	      - run: echo "got=$(cat got/f)"
	      - uses: actions/upload-artifact@v4
	        with:
	          path: f
	      - run: echo not-reached
	  other:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/download-artifact@v4
	        with:
	          name: nope
	  bad:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/upload-artifact@v4
	        with:
	          name: bad/name
	          path: x
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "got=2" out &&
	test_grep "an artifact with the name .artifact. already exists" out &&
	test_grep -v "^\[build\] not-reached" out &&
	test_grep "Artifact not found for name: nope" out &&
	test_grep "The artifact name is not valid: bad/name" out
'

test_done
