# tests/e2e/lib-containers.sh: for tests that run containers (podman).
# Sourced after tests/lib.sh. Skips the whole file when podman or
# mmdebstrap is missing; builds the test images from Debian's packages
# once (tests/containers/images.sh, cached under the checkout's build/
# directory for every build flavour, SAN included).

if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null; then
	test_skip_all "podman and mmdebstrap are needed (make deps installs them)"
fi
# the tests' own podman calls use the test images' configuration (runc,
# no default ulimits), never the system's defaults
export CONTAINERS_CONF="$SRC_ROOT/build/test-images/containers.conf"
if ! "$SRC_ROOT/tests/containers/images.sh" "$SRC_ROOT/build" >"$TRASH/images.log" 2>&1; then
	cat "$TRASH/images.log" >&2
	echo "Bail out! cannot build the test images (tests/containers/images.sh)"
	exit 1
fi

# kiln_objects TAG: containers, networks and volumes labelled by the kiln
# process with owner tag TAG ("PID.START"), one name a line
kiln_objects() {
	podman ps -a --filter "label=io.kiln.owner=$1" --format '{{.Names}}' &&
	podman network ls --filter "label=io.kiln.owner=$1" --format '{{.Name}}' &&
	podman volume ls --filter "label=io.kiln.owner=$1" --format '{{.Name}}'
}

# owner_tag PID: kiln's owner tag of a live process (pid and start time)
owner_tag() {
	echo "$1.$(cut -d' ' -f22 "/proc/$1/stat")"
}
