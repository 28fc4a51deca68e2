#!/bin/bash
test_description='container: the job container on podman — steps exec inside, services by host name, file commands, sh without bash'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-containers.sh"

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'steps run in the job container and reach PostgreSQL and Redis by service id' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  api:
	    runs-on: ubuntu-latest
	    container:
	      image: kiln-test/postgres
	      env:
	        IN_BOX: "yes"
	    services:
	      postgres:
	        image: kiln-test/postgres
	        env:
	          POSTGRES_PASSWORD: s3cret
	          POSTGRES_DB: app
	        options: --health-cmd pg_isready --health-interval 1s --health-retries 30
	      redis:
	        image: kiln-test/redis
	        options: --health-cmd "redis-cli ping" --health-interval 1s --health-retries 30
	    env:
	      PGPASSWORD: s3cret
	    steps:
	      - id: db
	        run: |
	          echo "in box: $IN_BOX on Debian $(cat /etc/debian_version)"
	          test -f /run/.containerenv
	          psql -h postgres -U postgres -d app -v ON_ERROR_STOP=1 \
	            -c "CREATE TABLE answers (q int, a int)" -c "INSERT INTO answers VALUES (1, 42)"
	          echo "answer=$(psql -h postgres -U postgres -d app -At -c "SELECT a FROM answers")" >>"$GITHUB_OUTPUT"
	          redis-cli -h redis set greeting hello
	          echo "GREETING=$(redis-cli -h redis get greeting)" >>"$GITHUB_ENV"
	          echo made >made.txt
	      - run: |
	          echo "answer ${{ steps.db.outputs.answer }} greeting $GREETING"
	          test "$(cat made.txt)" = made
	          test "$PWD" = "$GITHUB_WORKSPACE"
	          echo "host var: ${KILN_HOST_ONLY:-unset}"
	          echo "container ${{ job.container.id }} network ${{ job.container.network }}"
	EOF
	! test -e /run/.containerenv &&
	KILN_HOST_ONLY=leaked env -C repo kiln run >out 2>err &&
	test_grep "in box: yes on Debian 12" out &&
	test_grep "answer 42 greeting hello" out &&
	test_grep "host var: unset" out &&
	test_grep "container [0-9a-f]\{64\} network kiln-" out &&
	test_grep "^api  *success" out
'

test_expect_success 'a failing step in the container fails the job with its exit code' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  box:
	    runs-on: ubuntu-latest
	    container: kiln-test/debian
	    steps:
	      - run: exit 3
	      - if: failure()
	        run: echo cleanup ran
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "Process completed with exit code 3" out &&
	test_grep "cleanup ran" out &&
	test_grep "^box  *failure" out
'

test_expect_success 'sh is the default shell when the image has no bash' '
	printf "FROM kiln-test/debian\nRUN rm -f /bin/bash /usr/bin/bash\n" >Containerfile &&
	podman build -q -t kiln-test/nobash -f Containerfile . >/dev/null &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  box:
	    runs-on: ubuntu-latest
	    container: kiln-test/nobash
	    steps:
	      - run: echo "shell is $(readlink /proc/$$/exe)"
	EOF
	env -C repo kiln run >out 2>err &&
	podman rmi kiln-test/nobash >/dev/null &&
	test_grep "shell is /usr/bin/dash" out
'

# JavaScript actions (written outside test bodies: they need quotes)
mkdir -p jsact
cat >jsact/action.yml <<'END'
inputs:
  who:
    default: nobody
runs:
  using: node20
  pre: pre.js
  main: main.js
  post: post.js
END
cat >jsact/pre.js <<'END'
const fs = require('fs');
console.log(`pre in container: ${fs.existsSync('/run/.containerenv')}`);
fs.appendFileSync(process.env.GITHUB_STATE, 'frompre=yes\n');
END
cat >jsact/main.js <<'END'
const fs = require('fs');
const e = process.env;
console.log(`main ${e.INPUT_WHO} node ${process.version} in container: ${fs.existsSync('/run/.containerenv')} debian ${fs.readFileSync('/etc/debian_version', 'utf8').trim()} frompre=${e.STATE_frompre}`);
console.log(`action path readable: ${fs.existsSync(e.GITHUB_ACTION_PATH + '/action.yml')} cwd=${process.cwd() === e.GITHUB_WORKSPACE}`);
fs.appendFileSync(e.GITHUB_OUTPUT, `greeting=hello ${e.INPUT_WHO}\n`);
fs.appendFileSync(e.GITHUB_ENV, `FROM_JS=set\n`);
fs.writeFileSync('made-by-js.txt', 'js\n');
END
cat >jsact/post.js <<'END'
const fs = require('fs');
console.log(`post in container: ${fs.existsSync('/run/.containerenv')}`);
END
cp -r jsact repo/jsact

test_expect_success 'JavaScript actions run in the job container with the host'"'"'s node mounted (local action: main and post)' '
	git -C repo add jsact && git -C repo commit -q -m jsact &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  js:
	    runs-on: ubuntu-latest
	    container: kiln-test/debian
	    steps:
	      - run: "! command -v node && echo no node in the image"
	      - id: a
	        uses: ./jsact
	        with:
	          who: kiln
	      - run: echo "out=${{ steps.a.outputs.greeting }} env=$FROM_JS file=$(cat made-by-js.txt)"
	EOF
	env -C repo kiln run >out 2>err &&
	test_grep "^\[js\] no node in the image" out &&
	test_grep "^\[js\] main kiln node v[0-9.]* in container: true debian 12\.[0-9]* frompre=undefined" out &&
	test_grep "^\[js\] action path readable: true cwd=true" out &&
	test_grep "^\[js\] out=hello kiln env=set file=js" out &&
	test_grep "^\[js\] post in container: true" out &&
	test_grep "^js  *success" out
'

cat >jsact.yml <<'END'
on: push
jobs:
  r:
    runs-on: x
    container: kiln-test/debian
    steps:
      - uses: o/js@v1
        with: { who: fetched }
END

test_expect_success 'a fetched JavaScript action in the job container: pre, main and post inside (copied into the job directory)' '
	(cd repo && kiln debug job ../jsact.yml r --action "o/js@v1=$TRASH/jsact" >../jout 2>&1) &&
	test_grep "^| pre in container: true" jout &&
	test_grep "^| main fetched node v[0-9.]* in container: true debian 12\.[0-9]* frompre=yes" jout &&
	test_grep "^| action path readable: true" jout &&
	test_grep "^| post in container: true" jout
'

test_expect_success 'without node on the host a JavaScript action in a container fails saying so' '
	mkdir nonode &&
	for p in /usr/bin/*; do case "$p" in */node|*/nodejs) ;; *) ln -s "$p" nonode/ ;; esac; done &&
	(cd repo && test_expect_code 1 env PATH="$TRASH/nonode:/usr/sbin:/sbin" "$KILN" debug job ../jsact.yml r --action "o/js@v1=$TRASH/jsact" >../nout 2>&1) &&
	test_grep "node is not installed on the host" nout
'

test_expect_success 'without podman on PATH the plan says why' '
	mkdir nopodman &&
	for p in git sh bash env; do ln -s "$(command -v $p)" nopodman/; done &&
	test_expect_code 1 env -C repo PATH="$TRASH/nopodman" "$KILN" run >out 2>err &&
	test_grep "job containers (.container:.) need podman, which is not installed" out
'

test_done
