#!/bin/bash
test_description='docker/setup-buildx-action, setup-qemu-action: built in, no-ops with a note (podman needs no builder; login-action: t4623)'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'the two actions succeed offline with a note and their outputs' '
	test_create_repo repo &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  img:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: docker/setup-qemu-action@v3
	        id: qemu
	      - uses: docker/setup-buildx-action@v3
	        id: buildx
	      - run: echo "builder ${{ steps.buildx.outputs.name }} driver ${{ steps.buildx.outputs.driver }} platforms ${{ steps.qemu.outputs.platforms }}"
	EOF
	env -C repo kiln run >out 2>err &&
	test_grep "no buildx builder is needed" out &&
	test_grep "does not set up QEMU emulation" out &&
	test_grep "builder kiln-podman driver podman platforms linux/" out &&
	test_grep "^img  *success" out
'

test_done
