#!/bin/bash
test_description='services: PostgreSQL and Redis containers on podman (seed 001 shape), health checks, cleanup after cancel and kill -9'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-containers.sh"

# wait_for FILE: up to 60 s
wait_for() {
	for _ in $(seq 1 600); do
		test -e "$1" && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	return 1
}

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'PostgreSQL (health-cmd pg_isready) and Redis services, used from host steps' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  seed001:
	    runs-on: ubuntu-latest
	    services:
	      postgres:
	        image: kiln-test/postgres
	        env:
	          POSTGRES_PASSWORD: s3cret
	          POSTGRES_DB: app
	        ports: ["5432"]
	        options: >-
	          --health-cmd pg_isready
	          --health-interval 1s
	          --health-timeout 5s
	          --health-retries 30
	      redis:
	        image: kiln-test/redis
	        ports:
	          - 6379
	        options: --health-cmd "redis-cli ping" --health-interval 1s --health-retries 30
	    env:
	      PGPASSWORD: s3cret
	    steps:
	      - run: echo "PGPORT=${{ job.services.postgres.ports[5432] }}" >>"$GITHUB_ENV"
	      - run: |
	          test -n "$PGPORT"
	          psql -h 127.0.0.1 -U postgres -d app -v ON_ERROR_STOP=1 \
	            -c "CREATE TABLE answers (q int, a int)" \
	            -c "INSERT INTO answers VALUES (1, 42)"
	      - run: psql -h 127.0.0.1 -U postgres -d app -At -c "SELECT a FROM answers WHERE q = 1"
	      - run: |
	          redis-cli -p ${{ job.services.redis.ports['"'"'6379'"'"'] }} set greeting hello
	          redis-cli -p ${{ job.services.redis.ports['"'"'6379'"'"'] }} get greeting
	      - run: echo "network ${{ job.services.redis.network }} id ${{ job.services.redis.id }}"
	EOF
	env -C repo kiln run -v --json >out.json 2>err &&
	grep -q "\"42\"" out.json &&
	# env values reach podman through its environment, not its command line
	grep -q -- "-e POSTGRES_PASSWORD -e POSTGRES_DB" out.json &&
	! grep -q "POSTGRES_PASSWORD=s3cret" out.json &&
	grep -q "\"hello\"" out.json &&
	grep -q "network kiln-" out.json &&
	grep -q "Stop containers" out.json
'

test_expect_success 'a run leaves no container, network or volume behind' '
	env -C repo kiln run >out 2>err &&
	test_grep "^seed001  *success" out &&
	podman ps -a --format "{{.Names}}" >names &&
	! grep -q "kiln-.*-seed001-postgres" names &&
	! grep -q "kiln-.*-seed001-redis" names
'

test_expect_success 'a service that never becomes healthy fails the job with its logs' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  sick:
	    runs-on: ubuntu-latest
	    services:
	      db:
	        image: kiln-test/debian
	        command: sh -c "echo service says hello; echo on stderr >&2; exec sleep 600"
	        options: --health-cmd "false" --health-interval 500ms --health-retries 2
	    steps:
	      - run: echo steps ran
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "service .db. (kiln-test/debian) failed to become healthy" out &&
	test_grep "service says hello" out &&
	test_grep "on stderr" out &&
	! test_grep "steps ran" out &&
	test_grep "^sick  *failure" out &&
	! podman ps -a --format "{{.Names}}" | grep -q -- "-sick-db"
'

test_expect_success 'a service whose image does not exist fails the job, naming it' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  bad:
	    runs-on: ubuntu-latest
	    services:
	      db:
	        image: localhost/kiln-test/does-not-exist
	    steps:
	      - run: echo steps ran
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "service .db.: cannot start a container from image .localhost/kiln-test/does-not-exist." out &&
	! test_grep "steps ran" out
'

test_expect_success 'without podman on PATH the plan says why, naming the key' '
	mkdir nopodman &&
	for p in git sh bash env; do ln -s "$(command -v $p)" nopodman/; done &&
	test_expect_code 1 env -C repo PATH="$TRASH/nopodman" "$KILN" run >out 2>err &&
	test_grep "need podman, which is not installed" out
'

service_job() {
	write_workflow repo ci <<-\EOF
	on: push
	jobs:
	  hold:
	    runs-on: ubuntu-latest
	    services:
	      cache:
	        image: kiln-test/redis
	        volumes: ["/data"]
	    steps:
	      - run: |
	          echo $PPID >"$PROBE/kilnpid"
	          touch "$PROBE/started"
	          sleep 120
	EOF
}

test_expect_success 'kill -9 in the middle of a service job: the next run removes what it left' '
	export PROBE="$TRASH/k9" && mkdir k9 &&
	service_job &&
	(env -C repo kiln run >k9/out 2>&1 &) &&
	wait_for k9/started &&
	pid=$(cat k9/kilnpid) &&
	tag=$(owner_tag $pid) &&
	kiln_objects $tag >left &&
	test $(wc -l <left) -ge 2 &&
	kill -9 $pid &&
	while kill -0 $pid 2>/dev/null; do sleep 0.1; done &&
	# (no check that they are all still there: a container job of a test
	# running in parallel may already have removed them, as it should)
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  next:
	    runs-on: ubuntu-latest
	    services:
	      other:
	        image: kiln-test/redis
	    steps:
	      - run: echo next run
	EOF
	env -C repo kiln run >out 2>err &&
	test_grep "next run" out &&
	kiln_objects $tag >after &&
	test_must_be_empty after
'

test_expect_success 'SIGINT in the middle of a service job removes its containers at once' '
	export PROBE="$TRASH/ci" && mkdir ci &&
	service_job &&
	{ env -C repo kiln run >ci/out 2>&1 & } &&
	job=$! &&
	wait_for ci/started &&
	pid=$(cat ci/kilnpid) &&
	tag=$(owner_tag $pid) &&
	kill -INT $pid &&
	rc=0 && wait $job || rc=$? &&
	test "$rc" = 1 &&
	test_grep "^hold  *cancelled" ci/out &&
	kiln_objects $tag >after &&
	test_must_be_empty after
'

test_done
