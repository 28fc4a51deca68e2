#!/bin/bash
test_description='services: credentials for a private registry (Debian docker-registry with htpasswd on loopback), never on a command line'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-containers.sh"

command -v docker-registry >/dev/null || test_skip_all "docker-registry is needed (make deps installs it)"

test_expect_success 'setup: a private registry holding the Redis image' '
	port=$(free_port) &&
	echo $port >port &&
	mkdir reg &&
	python3 -W ignore -c "import crypt; print(\"ci:\" + crypt.crypt(\"s3cret\", crypt.mksalt(crypt.METHOD_BLOWFISH)))" >reg/htpasswd &&
	cat >reg/config.yml <<-EOF &&
	version: 0.1
	storage:
	  filesystem:
	    rootdirectory: $TRASH/reg/data
	http:
	  addr: 127.0.0.1:$port
	auth:
	  htpasswd:
	    realm: kiln-test
	    path: $TRASH/reg/htpasswd
	EOF
	(docker-registry serve reg/config.yml >reg/log 2>&1 & echo $! >reg/pid) &&
	for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done &&
	podman tag kiln-test/redis "localhost:$port/private/redis:1" &&
	podman push -q --tls-verify=false --creds ci:s3cret "localhost:$port/private/redis:1" &&
	podman rmi "localhost:$port/private/redis:1" >/dev/null &&
	test_create_repo repo
'

write_ci() { # password expression
	write_workflow repo ci <<-EOF
	on: push
	jobs:
	  private:
	    runs-on: ubuntu-latest
	    services:
	      cache:
	        image: localhost:$(cat port)/private/redis:1
	        credentials:
	          username: ci
	          password: $1
	        options: --health-cmd "redis-cli ping" --health-interval 1s --health-retries 30
	    steps:
	      - run: echo service up
	EOF
}

test_expect_success 'the service image is pulled with the credentials' '
	write_ci "\${{ secrets.REG_PASSWORD }}" &&
	env -C repo kiln run -v -s REG_PASSWORD=s3cret >out 2>err &&
	test_grep "service up" out &&
	grep -q -e "--authfile .*auth-.*json" out &&
	! grep -q "s3cret" out err &&
	podman rmi -f "localhost:$(cat port)/private/redis:1" >/dev/null
'

test_expect_success 'a wrong password fails the job before its steps' '
	write_ci wrong &&
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "cannot start a container from image" out &&
	! test_grep "service up" out
'

test_expect_success 'stop the registry' '
	kill "$(cat reg/pid)"
'

test_done
