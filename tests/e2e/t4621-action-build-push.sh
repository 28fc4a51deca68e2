#!/bin/bash
test_description='docker/build-push-action on podman: build with file, build-args, target, labels, tags; push to a local registry (Debian docker-registry on loopback) and pull back by digest'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-containers.sh"

command -v docker-registry >/dev/null || test_skip_all "docker-registry is needed (make deps installs it)"

test_expect_success 'setup: a registry on loopback and a repository with a Dockerfile' '
	port=$(python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	echo $port >port &&
	mkdir reg &&
	cat >reg/config.yml <<-EOF &&
	version: 0.1
	storage:
	  filesystem:
	    rootdirectory: $TRASH/reg/data
	http:
	  addr: 127.0.0.1:$port
	EOF
	test_create_repo repo &&
	cat >repo/Containerfile <<-\EOF &&
	FROM kiln-test/debian AS base
	ARG GREETING=none
	RUN echo "$GREETING" >/greeting
	FROM base AS final
	RUN echo final >/stage
	EOF
	git -C repo add Containerfile && git -C repo commit -q -m image
'

test_expect_success 'build and push to the local registry; pull back by digest' '
	port=$(cat port) &&
	(docker-registry serve reg/config.yml >reg/log 2>&1 & echo $! >reg/pid) &&
	for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done &&
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  image:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/setup-buildx-action@v3
	      - id: build
	        uses: docker/build-push-action@v6
	        with:
	          context: .
	          file: Containerfile
	          target: base
	          build-args: |
	            GREETING=hello from kiln
	          labels: |
	            org.opencontainers.image.title=kiln-test
	          tags: localhost:$port/kiln/app:1.2.3,localhost:$port/kiln/app:latest
	          push: true
	      - run: echo "digest \${{ steps.build.outputs.digest }} id \${{ steps.build.outputs.imageid }}"
	EOF
	env -C repo kiln run >out 2>err &&
	test_grep "^image  *success" out &&
	digest=$(sed -n "s/.*digest \(sha256:[0-9a-f]\{64\}\) id sha256:[0-9a-f]\{64\}$/\1/p" out) &&
	test -n "$digest" &&
	podman rmi -f "localhost:$port/kiln/app:1.2.3" "localhost:$port/kiln/app:latest" >/dev/null &&
	podman pull -q --tls-verify=false "localhost:$port/kiln/app@$digest" >/dev/null &&
	podman run --rm "localhost:$port/kiln/app@$digest" cat /greeting >greeting &&
	echo "hello from kiln" >expect &&
	test_cmp expect greeting &&
	! podman run --rm "localhost:$port/kiln/app@$digest" test -e /stage &&
	podman image inspect --format "{{index .Labels \"org.opencontainers.image.title\"}}" \
		"localhost:$port/kiln/app@$digest" >title &&
	echo kiln-test >expect && test_cmp expect title &&
	podman rmi -f "localhost:$port/kiln/app@$digest" >/dev/null
'

test_expect_success 'a Dockerfile that fails to build fails the step' '
	printf "FROM kiln-test/debian\nRUN exit 3\n" >repo/Broken &&
	git -C repo add Broken && git -C repo commit -q -m broken &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  image:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/build-push-action@v6
	        with:
	          file: Broken
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "podman build failed" out
'

test_expect_success 'stop the registry' '
	kill "$(cat reg/pid)"
'

test_done
