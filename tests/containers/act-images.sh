#!/bin/sh
# Stand-ins for the docker.io images nektos/act's runner test cases name
# (tests/e2e/t3600-act-runner.sh), built offline on the test images of
# images.sh (run it first) and tagged with the names the cases use, so a
# short name such as node:16-buster-slim resolves in local storage and
# nothing is pulled:
#
#   node:16-buster-slim, node:12-buster-slim
#                                      Debian + this machine's node + the node
#                                      image's docker-entrypoint.sh
#   ubuntu:18.04, ubuntu:latest        Debian, bash as the command
#   alpine:latest                      Debian without bash (sh by default)
#   catthehacker/ubuntu:runner-latest  Debian, user runner
#   postgres:12                        kiln-test/postgres
#
# Each carries the label io.kiln.act-standin=KEY (the hash of this
# script); a name whose image lacks the label (a real image pulled on this
# machine) is left alone and used as it is. Usage: act-images.sh BUILD_DIR
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
cache="$(cd "$build" && pwd)/test-images"
key=$(sha256sum "$here/act-images.sh" | cut -c1-16)
: "${CONTAINERS_CONF:=$cache/containers.conf}"
export CONTAINERS_CONF

label() { podman image inspect --format '{{index .Labels "io.kiln.act-standin"}}' "$1" 2>/dev/null; }
# todo NAME: the stand-in must be (re)built: absent, or an older stand-in
todo() {
	podman image exists "$1" || return 0
	l=$(label "$1")
	[ -n "$l" ] && [ "$l" != "$key" ]
}

names="docker.io/library/node:16-buster-slim docker.io/library/node:12-buster-slim
docker.io/library/ubuntu:18.04
docker.io/library/ubuntu:latest docker.io/library/alpine:latest
docker.io/catthehacker/ubuntu:runner-latest docker.io/library/postgres:12"
need=
for n in $names; do todo "$n" && need=1; done
[ -z "$need" ] && exit 0

exec 9>"$cache/act.lock"
flock 9
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
# standin NAME: build $ctx/Containerfile (plus the label) as NAME
standin() {
	todo "$1" || return 0
	printf 'LABEL io.kiln.act-standin=%s\n' "$key" >>"$ctx/Containerfile"
	podman build -q -t "$1" "$ctx" >/dev/null
}

# the node image: its entrypoint runs node when the first argument is an
# option or not a command (docker-library/node's docker-entrypoint.sh)
cp "$(command -v node)" "$ctx/node"
cat >"$ctx/docker-entrypoint.sh" <<'EOT'
#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
	set -- node "$@"
fi
exec "$@"
EOT
chmod +x "$ctx/docker-entrypoint.sh"
cat >"$ctx/Containerfile" <<'EOT'
FROM kiln-test/debian
COPY node /usr/local/bin/node
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
EOT
standin docker.io/library/node:16-buster-slim
standin docker.io/library/node:12-buster-slim
rm -f "$ctx/node" "$ctx/docker-entrypoint.sh"
for n in docker.io/library/ubuntu:18.04 docker.io/library/ubuntu:latest; do
	printf 'FROM kiln-test/debian\nCMD ["/bin/bash"]\n' >"$ctx/Containerfile"
	standin "$n"
done
printf 'FROM kiln-test/debian\nRUN rm -f /bin/bash /usr/bin/bash\n' >"$ctx/Containerfile"
standin docker.io/library/alpine:latest
printf 'FROM kiln-test/debian\nRUN useradd -m -u 1001 runner\nUSER runner\n' >"$ctx/Containerfile"
standin docker.io/catthehacker/ubuntu:runner-latest
echo "FROM kiln-test/postgres" >"$ctx/Containerfile"
standin docker.io/library/postgres:12
