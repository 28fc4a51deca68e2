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

test_expect_success 'without podman on PATH the plan says why' '
	mkdir nopodman &&
	for p in git sh bash env; do ln -s "$(command -v $p)" nopodman/; done &&
	test_expect_code 1 env -C repo PATH="$TRASH/nopodman" "$KILN" run >out 2>err &&
	test_grep "job containers (.container:.) need podman, which is not installed" out
'

test_done
