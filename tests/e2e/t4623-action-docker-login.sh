#!/bin/bash
test_description='docker/login-action: podman login to a registry with htpasswd auth (Debian docker-registry on loopback), a per-job auth file, the password masked, logout at job end'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-containers.sh"

command -v docker-registry >/dev/null || test_skip_all "docker-registry is needed (make deps installs it)"
# the registry takes bcrypt htpasswd entries only
python3 -W ignore -c "import crypt; assert crypt.crypt('x', crypt.mksalt(crypt.METHOD_BLOWFISH))" 2>/dev/null ||
	test_skip_all "python3's crypt module with bcrypt is needed to make the htpasswd file"

test_expect_success 'setup: a registry with a user on loopback, a repository with a Containerfile' '
	port=$(free_port) &&
	echo $port >port &&
	mkdir reg &&
	python3 -W ignore -c "import crypt; print(\"ci:\" + crypt.crypt(\"pa55-word-x\", crypt.mksalt(crypt.METHOD_BLOWFISH)))" >reg/htpasswd &&
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
	for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port/v2/")" = 401 &&
	test_create_repo repo &&
	printf "FROM kiln-test/debian\nRUN echo private >/private\n" >repo/Containerfile &&
	git -C repo add Containerfile && git -C repo commit -q -m image
'

test_expect_success 'login, then build-push to the registry; the password is masked; logout at job end' '
	port=$(cat port) &&
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  image:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/login-action@v3
	        with:
	          registry: localhost:$port
	          username: ci
	          password: pa55-word-x
	      - run: |
	          echo "auth file \$REGISTRY_AUTH_FILE"
	          case "\$REGISTRY_AUTH_FILE" in "\$RUNNER_TEMP"/*) echo "in the job temp";; esac
	          grep -c "localhost:$port" "\$REGISTRY_AUTH_FILE"
	          echo "the password is pa55-word-x"
	      - id: b
	        uses: docker/build-push-action@v6
	        with:
	          file: Containerfile
	          tags: localhost:$port/kiln/private:1
	          push: true
	      - run: echo "pushed \${{ steps.b.outputs.digest }}"
	EOF
	env -C repo kiln run >out 2>err &&
	test_grep "Login Succeeded" out &&
	test_grep "in the job temp" out &&
	test_grep "the password is \*\*\*" out &&
	! grep -q "pa55-word-x" out err &&
	test_grep "pushed sha256:" out &&
	test_grep "Post .*login-action.*Logging out of localhost:$port\|Logging out of localhost:$port" out &&
	! grep -q "localhost:$port" /run/containers/0/auth.json 2>/dev/null &&
	curl -sf -u ci:pa55-word-x "http://127.0.0.1:$port/v2/kiln/private/tags/list" >tags &&
	test_grep "\"1\"" tags
'

test_expect_success 'a job without the login cannot push (jobs do not share logins)' '
	port=$(cat port) &&
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  image:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/build-push-action@v6
	        with:
	          file: Containerfile
	          tags: localhost:$port/kiln/private:2
	          push: true
	EOF
	test_expect_code 1 env -C repo kiln run >nologin.out 2>err &&
	test_grep "podman push failed" nologin.out &&
	grep -qi "authentication required\|unauthorized" nologin.out
'

test_expect_success 'a wrong password fails the step; missing inputs fail with the action'"'"'s message' '
	port=$(cat port) &&
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  image:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/login-action@v3
	        with:
	          registry: localhost:$port
	          username: ci
	          password: not-the-password
	      - run: echo never
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "podman login failed" out &&
	! grep -q "^\[image\] never$" out &&
	! grep -q "not-the-password" out &&
	sed -i "/password:/d" repo/.github/workflows/ci.yml &&
	git -C repo commit -q -am "no password" &&
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "Username and password required" out
'

test_expect_success 'logout: false keeps the login for the job'"'"'s later steps only' '
	port=$(cat port) &&
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  image:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/login-action@v3
	        with:
	          registry: localhost:$port
	          username: ci
	          password: pa55-word-x
	          logout: false
	      - run: podman push --tls-verify=false localhost:$port/kiln/private:1 localhost:$port/kiln/private:3 2>&1 | tail -1
	EOF
	env -C repo kiln run >out 2>err &&
	! test_grep "Logging out" out &&
	curl -sf -u ci:pa55-word-x "http://127.0.0.1:$port/v2/kiln/private/tags/list" >tags &&
	test_grep "\"3\"" tags
'

test_expect_success 'stop the registry' '
	kill "$(cat reg/pid)" &&
	podman rmi -f "localhost:$(cat port)/kiln/private:1" >/dev/null 2>&1; true
'

test_done
