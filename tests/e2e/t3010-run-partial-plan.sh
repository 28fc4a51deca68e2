#!/bin/bash
# Partial plans: a job kiln cannot run yet (job or service containers, Docker
# actions, a runs-on of another operating system) stays in the plan with its
# reason; -l and -n list everything, -j runs the rest, and a run fails with
# the reason only when such a job would really start.
test_description='kiln run: partial plans (jobs kiln cannot run are listed with the reason)'
. "$(dirname "$0")/../lib.sh"

# jobs with containers are the examples of jobs kiln cannot run: on a
# machine without podman (t3700 and t3701 run them where podman is)
mkdir nopodman
for d in $(echo "$PATH" | tr : " "); do
	for f in "$d"/*; do
		n=${f##*/}
		[ "$n" = podman ] || [ -e "nopodman/$n" ] || ln -s "$f" "nopodman/$n"
	done
done
export PATH="$TRASH/nopodman"

test_expect_success 'setup' '
	test_create_repo repo &&
	mkdir -p repo/.github/actions/dock &&
	printf "name: d\nruns:\n  using: docker\n  image: Dockerfile\n" >repo/.github/actions/dock/action.yml &&
	write_workflow repo ci <<-\EOF
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo built
	  box:
	    runs-on: ubuntu-latest
	    container: node:20
	    steps:
	      - run: echo in a box
	  db:
	    runs-on: ubuntu-latest
	    services:
	      redis:
	        image: localhost:1/kiln-none
	    steps:
	      - run: echo with redis
	  img:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker://alpine:3.19
	  win:
	    runs-on: [windows-latest]
	    steps:
	      - run: echo windows
	  release:
	    if: github.event_name == '\''release'\''
	    runs-on: ubuntu-latest
	    steps:
	      - uses: ./.github/actions/dock
	  test:
	    needs: build
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo tested
	  ship:
	    needs: [test, box]
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo shipped
	EOF
'

test_expect_success '-l lists every job, with the reason beside those kiln cannot run' '
	(cd repo && kiln run -l) >out 2>err &&
	test_grep "^0  *build  *build  *ci.yml  *-$" out &&
	test_grep "^0  *box .*(cannot run: job containers (.container:.) need podman, which is not installed (not found on PATH))$" out &&
	test_grep "^0  *db .*(cannot run: service containers (.services:.) need podman, which is not installed (not found on PATH))$" out &&
	test_grep "^0  *img .*(cannot run: step 1 uses the Docker image .alpine:3.19.; Docker actions need podman, which is not installed (not found on PATH))$" out &&
	test_grep "^0  *win .*(cannot run: runs-on .windows-latest. needs a Windows runner; kiln runs jobs on this Linux machine)$" out &&
	test_grep "^0  *release .*(cannot run: step 1 uses ..\/.github\/actions\/dock., a Docker action; Docker actions need podman, which is not installed (not found on PATH))$" out &&
	test_grep "^1  *test  *test  *ci.yml  *build$" out &&
	test_grep "^2  *ship  *ship  *ci.yml  *test,box$" out &&
	test $(wc -l <out) = 9 &&
	test_grep "^kiln: .github/workflows/ci.yml:9:16: job .box. cannot run here: job containers" err &&
	test_grep "^kiln: .github/workflows/ci.yml:15:7: job .db. cannot run here: service containers" err &&
	test_grep "^kiln: .github/workflows/ci.yml:22:15: job .img. cannot run here" err &&
	test_grep "^kiln: .github/workflows/ci.yml:24:15: job .win. cannot run here" err &&
	test_grep "^kiln: .github/workflows/ci.yml:31:15: job .release. cannot run here" err &&
	test_grep "select them with -j JOB" err
'

test_expect_success '-n shows the reason under the job, with where it comes from' '
	(cd repo && kiln run -n) >out 2>err &&
	test_grep "^  job box$" out &&
	test_grep "^    cannot run: job containers (.container:.) need podman, which is not installed (not found on PATH) (.github/workflows/ci.yml:9:16)$" out &&
	test_grep "^  job release if: github.event_name == .release.$" out &&
	test_grep "^    - Run echo shipped$" out
'

test_expect_success '-j runs a job whose needs kiln can run' '
	(cd repo && kiln run --no-history -j test) >out 2>err &&
	test_grep "^\[test\] tested$" out &&
	test_grep "^\[build\] built$" out &&
	! grep -q "cannot run" out err &&
	(cd repo && kiln run --no-history -j test -l) >out 2>err &&
	test $(wc -l <out) = 3 && test_must_be_empty err
'

test_expect_success 'a run fails with the reason only for jobs that would start' '
	test_expect_code 1 env -C repo kiln run --no-history >out 2>err &&
	test_grep "^\[build\] built$" out &&
	test_grep "^\[test\] tested$" out &&
	test_grep "^box  *failure" out &&
	test_grep "^db  *failure" out &&
	test_grep "^img  *failure" out &&
	test_grep "^win  *failure" out &&
	test_grep "^release  *skipped .*if: was false" out &&
	test_grep "^ship  *skipped" out &&
	test_grep "error: .*ci.yml:9:16: job .box. cannot run: job containers (.container:.) need podman, which is not installed (not found on PATH) \[box\]" out &&
	! grep -q "in a box\|with redis\|^\[win\] windows" out
'

test_expect_success 'a job that cannot run fails a -j run that needs it (exit 1)' '
	test_expect_code 1 env -C repo kiln run --no-history -j ship >out 2>err &&
	test_grep "^ship  *skipped" out &&
	test_grep "^box  *failure" out
'

test_expect_success 'runs-on from the matrix: only the instances of another OS cannot run' '
	test_create_repo mrepo &&
	write_workflow mrepo m <<-\EOF &&
	on: push
	jobs:
	  t:
	    strategy:
	      fail-fast: false
	      matrix:
	        os: [ubuntu-latest, windows-2022, macos-14]
	    runs-on: ${{ matrix.os }}
	    steps:
	      - run: echo on ${{ matrix.os }}
	EOF
	(cd mrepo && kiln run -l) >out &&
	test_grep "^0  *t  *t (ubuntu-latest)  *m.yml  *-$" out &&
	test_grep "t (windows-2022) .*(cannot run: runs-on .windows-2022. needs a Windows runner" out &&
	test_grep "t (macos-14) .*(cannot run: runs-on .macos-14. needs a macOS runner" out &&
	test_expect_code 1 env -C mrepo kiln run --no-history >out 2>err &&
	test_grep "^\[t (ubuntu-latest)\] on ubuntu-latest$" out &&
	test_grep "^t (ubuntu-latest)  *success" out &&
	test_grep "^t (windows-2022)  *failure" out &&
	test_grep "m.yml:8:14: job .t. cannot run: runs-on .macos-14. needs a macOS runner" out
'

test_expect_success 'a called workflow job that cannot run fails when it would start' '
	test_create_repo crepo &&
	write_workflow crepo callee <<-\EOF &&
	on: workflow_call
	jobs:
	  inbox:
	    runs-on: ubuntu-latest
	    container: alpine:3.19
	    steps:
	      - run: echo in callee box
	EOF
	write_workflow crepo main <<-\EOF &&
	on: push
	jobs:
	  call:
	    uses: ./.github/workflows/callee.yml
	  plain:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo plain ran
	EOF
	(cd crepo && kiln run -l -W .github/workflows/main.yml) >out 2>err &&
	test_grep "^0  *call  *call  *main.yml  *-  (cannot run: called job .inbox.: job containers (.container:.) need podman, which is not installed (not found on PATH))$" out &&
	test_grep "^kiln: .github/workflows/callee.yml:5:16: job .inbox. (called by .call.) cannot run here" err &&
	(cd crepo && kiln run -n -W .github/workflows/main.yml) >out 2>err &&
	test_grep "^    cannot run: called job .inbox.: job containers (.container:.) need podman, which is not installed (not found on PATH) (.github/workflows/callee.yml:5:16)$" out &&
	test_expect_code 1 env -C crepo kiln run --no-history -W .github/workflows/main.yml >out 2>err &&
	test_grep "callee.yml:5:16: job .inbox. cannot run: job containers (.container:.) need podman, which is not installed (not found on PATH)" out &&
	test_grep "^\[plain\] plain ran$" out &&
	! grep -q "in callee box" out &&
	(cd crepo && kiln run --no-history -W .github/workflows/main.yml -j plain) >out 2>err &&
	test_grep "^\[plain\] plain ran$" out
'

test_expect_success '-j runs jobs beside a remote call that cannot be fetched (--offline)' '
	write_workflow crepo main <<-\EOF &&
	on: push
	jobs:
	  call:
	    uses: octo/missing/.github/workflows/x.yml@v1
	  plain:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo plain ran
	EOF
	(cd crepo && kiln run -l --offline -W .github/workflows/main.yml) >out 2>err &&
	test_grep "^0  *call " out && test_grep "^0  *plain " out &&
	(cd crepo && kiln run --no-history --offline -W .github/workflows/main.yml -j plain) >out 2>err &&
	test_grep "^\[plain\] plain ran$" out &&
	test_expect_code 2 env -C crepo kiln run --no-history --offline -W .github/workflows/main.yml >out 2>err &&
	test_grep "main.yml:4:11: error: job .call.: .* is not in the cache (--offline)" err
'

test_expect_success 'a local composite action with a Docker step cannot run either' '
	test_create_repo drepo &&
	mkdir -p drepo/comp drepo/inner &&
	printf "runs:\n  using: composite\n  steps:\n    - run: echo outer\n      shell: bash\n    - uses: ./inner\n" >drepo/comp/action.yml &&
	printf "runs:\n  using: composite\n  steps:\n    - uses: docker://alpine:3.19\n" >drepo/inner/action.yml &&
	git -C drepo add comp inner && git -C drepo commit -q -m actions &&
	write_workflow drepo ci <<-\EOF &&
	on: push
	jobs:
	  c:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: ./comp
	EOF
	(cd drepo && kiln run -l) >out 2>err &&
	test_grep "(cannot run: step 1 uses ..\/comp., whose steps use the Docker action .docker://alpine:3.19.; Docker actions need podman, which is not installed (not found on PATH))$" out
'

test_expect_success 'a workflow file with errors does not hide the others from -l / -n (exit 2)' '
	test_create_repo brepo &&
	write_workflow brepo good <<-\EOF &&
	on: push
	jobs:
	  fine:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo fine
	EOF
	write_workflow brepo broken <<-\EOF &&
	on: push
	jobs:
	  x:
	    runs-on: ubuntu-latest
	    stepz: []
	EOF
	test_expect_code 2 env -C brepo kiln run -l >out 2>err &&
	test_grep "broken.yml:5:5: error: unknown key .stepz." err &&
	test_grep "^0  *fine  *fine  *good.yml  *-$" out &&
	test_expect_code 2 env -C brepo kiln run -n >out 2>err &&
	test_grep "^  job fine$" out &&
	test_expect_code 2 env -C brepo kiln run --no-history >out 2>err &&
	test_grep "broken.yml:5:5: error" err &&
	! grep -q "fine" out
'

test_expect_success 'self-hosted and Linux labels map to this machine' '
	write_workflow mrepo m <<-\EOF &&
	on: push
	jobs:
	  t:
	    runs-on: [self-hosted, linux, x64, gpu]
	    steps:
	      - run: echo here
	EOF
	(cd mrepo && kiln run --no-history) >out 2>err &&
	test_grep "^\[t\] here$" out
'

test_done
