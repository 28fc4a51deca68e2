#!/bin/sh
# Build the images the container tests use, offline from any public
# registry: a Debian root file system made by mmdebstrap from Debian's
# mirror (with postgresql and redis-server), imported into podman, and two
# service images on top of it (kiln-test/postgres, kiln-test/redis) that
# only set their start command.
#
# The root file system tarball is cached under $KILN_BUILD/test-images and
# imported as kiln-test/rootfs:RKEY (RKEY: the hash of the recipe); the
# images are keyed by the hash of this script, so a changed recipe is
# rebuilt and an unchanged one costs a `podman image exists` (and a
# re-import when the images were removed). Usage: images.sh BUILD_DIR
#
# Several checkouts (git worktrees) share podman's images: each build
# directory claims its key in $claims/KEY (one build directory a line), and
# an image of another key is removed only when every build directory that
# claimed it has moved on (its test-images/key names another key, or it is
# gone) and no container uses it — never while another checkout's tests
# may still run on it.
set -eu
build=$1
mkdir -p "$build/test-images"
here=$(cd "$(dirname "$0")" && pwd)
# what goes into the root file system; its hash names the cached tarball
recipe="--variant=minbase --include=postgresql,redis-server,procps bookworm"
rkey=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
# the images also depend on the rest of this script
key=$(sha256sum "$here/images.sh" | cut -c1-16)
cache="$(cd "$build" && pwd)/test-images"
tar="$cache/rootfs-$rkey.tar"
tag="kiln-test/debian:$key"
: "${CONTAINERS_CONF:=$cache/containers.conf}"
export CONTAINERS_CONF

# one place for every checkout of this user (not $TMPDIR: it may differ)
claims=${KILN_TEST_IMAGE_CLAIMS:-/tmp/kiln-test-images.$(id -u)}
mkdir -p "$claims"
# claim: this build directory's images are those of $key (under the
# shared lock: another checkout may be cleaning up)
(
	flock 8
	printf '%s\n' "$key" >"$cache/key"
	grep -qxF "$cache" "$claims/$key" 2>/dev/null || printf '%s\n' "$cache" >>"$claims/$key"
) 8>"$claims/lock"

[ -f "$CONTAINERS_CONF" ] || printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\nevents_logger = "file"\n' >"$CONTAINERS_CONF"

if podman image exists "$tag" && podman image exists "kiln-test/postgres:$key" &&
   podman image exists "kiln-test/redis:$key"; then
	exit 0
fi
exec 9>"$cache/lock"
flock 9
# the root file system image of this recipe, kept as kiln-test/rootfs:RKEY
# for every checkout: a new key of this script reuses it (no mmdebstrap)
if podman image exists "kiln-test/rootfs:$rkey"; then
	podman image exists "$tag" || podman tag "kiln-test/rootfs:$rkey" "$tag"
else
	if [ ! -s "$tar" ]; then
		rm -f "$cache"/rootfs-*.tar
		# shellcheck disable=SC2086 # the recipe is words
		mmdebstrap --quiet $recipe "$tar.tmp.tar" >&2
		mv "$tar.tmp.tar" "$tar"
	fi
	podman image exists "$tag" || podman import -q "$tar" "$tag" >/dev/null
	podman tag "$tag" "kiln-test/rootfs:$rkey"
fi
podman tag "$tag" kiln-test/debian:latest
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cat >"$ctx/Containerfile" <<EOT
FROM $tag
ENV POSTGRES_USER=postgres
COPY pg-start /usr/local/bin/pg-start
CMD ["/usr/local/bin/pg-start"]
EOT
cat >"$ctx/pg-start" <<'EOT'
#!/bin/sh
# a tiny stand-in for the postgres image's entrypoint: POSTGRES_PASSWORD
# and POSTGRES_DB, listening on every address
set -e
d=/var/lib/postgresql/15/main
pw=${POSTGRES_PASSWORD:-postgres}
mkdir -p /var/run/postgresql
chown postgres /var/run/postgresql
printf '%s\n' "$pw" >/tmp/pgpw
chown postgres /tmp/pgpw
su postgres -c "/usr/lib/postgresql/15/bin/initdb -D /tmp/pg -A md5 --pwfile=/tmp/pgpw" >/dev/null
rm -f /tmp/pgpw
echo "host all all 0.0.0.0/0 md5" >>/tmp/pg/pg_hba.conf
chown -R postgres /tmp/pg
if [ -n "${POSTGRES_DB:-}" ]; then
	su postgres -c "/usr/lib/postgresql/15/bin/postgres --single -D /tmp/pg postgres" >/dev/null <<SQL
CREATE DATABASE "$POSTGRES_DB";
SQL
fi
exec su postgres -c "exec /usr/lib/postgresql/15/bin/postgres -D /tmp/pg -c listen_addresses='*' -k /var/run/postgresql"
EOT
chmod +x "$ctx/pg-start"
podman build -q -t "kiln-test/postgres:$key" "$ctx" >/dev/null
podman tag "kiln-test/postgres:$key" kiln-test/postgres:latest
printf 'FROM %s\nCMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no"]\n' "$tag" >"$ctx/Containerfile"
rm -f "$ctx/pg-start"
podman build -q -t "kiln-test/redis:$key" "$ctx" >/dev/null
podman tag "kiln-test/redis:$key" kiln-test/redis:latest
# images of older recipes are dropped once no checkout claims their key
# (a claim holds while its build directory's key file names that key);
# a key nobody ever claimed (an older images.sh's) is not ours to drop
unclaimed() {
	[ -f "$claims/$1" ] || return 1
	live=$(while read -r d; do
		[ "$(cat "$d/key" 2>/dev/null)" = "$1" ] && printf '%s\n' "$d"
	done <"$claims/$1"; true)
	[ -z "$live" ] || { printf '%s\n' "$live" >"$claims/$1"; return 1; }
}
(
	flock 8
	podman images --format '{{.Repository}}:{{.Tag}}' |
		sed -n 's,^localhost/\(kiln-test/\(debian\|postgres\|redis\)\):\([0-9a-f]\{16\}\)$,\1 \3,p' |
		while read -r img k; do
			if [ "$k" != "$key" ] && unclaimed "$k"; then
				podman rmi "$img:$k" >/dev/null 2>&1 || true # in use: next time
			fi
		done
	for f in "$claims"/*; do # keys whose images are gone
		k=${f##*/}
		[ "$k" = lock ] || [ "$k" = "$key" ] || ! unclaimed "$k" ||
			podman image exists "kiln-test/debian:$k" || rm -f "$f"
	done
) 8>"$claims/lock"
