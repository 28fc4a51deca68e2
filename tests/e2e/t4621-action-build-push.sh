#!/bin/bash
test_description='docker/build-push-action on podman: build with file, build-args, target, labels, tags; push to a local registry (Debian docker-registry on loopback) and pull back by digest'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-containers.sh"

command -v docker-registry >/dev/null || test_skip_all "docker-registry is needed (make deps installs it)"

test_expect_success 'setup: a registry on loopback and a repository with a Dockerfile' '
	port=$(free_port) &&
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

test_expect_success 'load: true: a later step'"'"'s podman runs the image; platforms: this machine'"'"'s builds' '
	tag=localhost/kiln-test-load:$$ &&
	host=linux/$(uname -m | sed "s/x86_64/amd64/;s/aarch64/arm64/") &&
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  image:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/build-push-action@v6
	        with:
	          file: Containerfile
	          target: base
	          build-args: GREETING=loaded
	          platforms: $host
	          tags: $tag
	          load: true
	      - run: podman run --rm $tag cat /greeting
	EOF
	env -C repo kiln run >out 2>err &&
	test_grep "^\[image\] loaded$" out &&
	test_grep "load: the image is in podman.s local storage" out &&
	podman rmi -f $tag >/dev/null
'

test_expect_success 'platforms: another platform without QEMU emulation fails naming what is missing' '
	test -e /proc/sys/fs/binfmt_misc/qemu-s390x || {
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  image:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/build-push-action@v6
	        with:
	          file: Containerfile
	          platforms: linux/s390x
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "linux/s390x. is not this machine.s platform (linux/.*) and needs QEMU emulation, which is not set up: install qemu-user-static (binfmt_misc has no /proc/sys/fs/binfmt_misc/qemu-s390x)" out
	}
'

# built_ids TAG: the images of TAG's build (its history), never the base
# image kiln-test/debian, which every container test shares: `podman rmi -f`
# of it would untag it under the tests running in parallel
built_ids() {
	base=$(podman image inspect --format "{{.ID}}" kiln-test/debian) &&
	podman history -q --no-trunc "$1" | grep -v -e missing -e "$base"
}

test_expect_success 'cache-to / cache-from type=local: a later build with the image gone uses the cache' '
	cat >repo/Cachefile <<-EOF &&
	FROM kiln-test/debian
	RUN echo "cached layer $$ $(date +%s%N)" >/layer && sleep 1
	RUN echo second >/second
	EOF
	git -C repo add Cachefile && git -C repo commit -q -m cachefile &&
	tag=localhost/kiln-test-cache:$$ &&
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  image:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/build-push-action@v6
	        with:
	          file: Cachefile
	          tags: $tag
	          cache-from: type=local,src=$TRASH/buildcache
	          cache-to: type=local,dest=$TRASH/buildcache
	EOF
	env -C repo kiln run >out 2>err &&
	test_grep "cache-from: no cache in .*buildcache yet" out &&
	test -s buildcache/kiln-podman-cache.tar &&
	! test_grep "Using cache" out &&
	built_ids $tag >ids &&
	test -s ids &&
	podman rmi -f $(cat ids) >/dev/null 2>&1;
	! podman image exists $tag &&
	env -C repo kiln run >out 2>err &&
	test_grep "Using cache" out &&
	podman run --rm $tag cat /second >second && echo second >expect && test_cmp expect second &&
	podman rmi -f $(built_ids $tag) >/dev/null 2>&1;
	true
'

test_expect_success 'cache type=gha and unknown outputs fail with a message naming them' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  image:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/build-push-action@v6
	        with:
	          cache-from: type=gha
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "cache-from: type=gha (GitHub.s cache service) is not supported by kiln" out &&
	sed -i "s/cache-from: type=gha/outputs: type=cacheonly/" repo/.github/workflows/ci.yml &&
	git -C repo commit -q -am outputs &&
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "outputs: .type=cacheonly. is not supported" out
'

test_expect_success 'outputs: type=local (the files), type=oci (an OCI archive), metadata output' '
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  image:
	    runs-on: ubuntu-latest
	    steps:
	      - id: b
	        uses: docker/build-push-action@v6
	        with:
	          file: Containerfile
	          target: base
	          build-args: GREETING=exported
	          tags: localhost/kiln-test-out:$$
	          outputs: |
	            type=local,dest=$TRASH/rootfs
	            type=oci,dest=$TRASH/image.tar
	      - run: echo "meta \${{ fromJSON(steps.b.outputs.metadata)['"'"'image.name'"'"'] }}"
	EOF
	env -C repo kiln run >out 2>err &&
	echo exported >expect && test_cmp expect rootfs/greeting &&
	tar -tf image.tar >list && test_grep "^index.json$" list &&
	test_grep "meta localhost/kiln-test-out:$$" out &&
	podman rmi -f localhost/kiln-test-out:$$ >/dev/null 2>&1; true
'

test_expect_success 'secrets and secret-files reach RUN --mount=type=secret, never a layer; the value is masked' '
	cat >repo/Secretfile <<-\EOF &&
	FROM kiln-test/debian
	RUN --mount=type=secret,id=token sh -c "sha256sum </run/secrets/token >/tokhash"
	RUN --mount=type=secret,id=file sh -c "cat /run/secrets/file >/dev/null && echo ok >/fileok"
	EOF
	echo "file secret" >repo/secret.txt &&
	git -C repo add Secretfile secret.txt && git -C repo commit -q -m secrets &&
	tag=localhost/kiln-test-secret:$$ &&
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  image:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/build-push-action@v6
	        with:
	          file: Secretfile
	          tags: $tag
	          no-cache: true
	          secrets: |
	            token=s3cr3t-build-value
	          secret-files: |
	            file=secret.txt
	      - run: echo "the token is s3cr3t-build-value"; ls "\$RUNNER_TEMP"
	EOF
	env -C repo kiln run >out 2>err &&
	test_grep "the token is \*\*\*" out &&
	! grep -q "s3cr3t-build-value" out err &&
	! grep -q "build-secret" out &&
	printf "s3cr3t-build-value" | sha256sum >expect &&
	podman run --rm $tag cat /tokhash >actual && test_cmp expect actual &&
	podman run --rm $tag cat /fileok >actual && echo ok >expect && test_cmp expect actual &&
	! podman run --rm $tag test -e /run/secrets/token &&
	podman rmi -f $tag >/dev/null
'

test_expect_success 'stop the registry' '
	kill "$(cat reg/pid)"
'

test_done
