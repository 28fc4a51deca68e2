#!/usr/bin/env bash
# containers-demo: the shape of seed 001's CI — a job with PostgreSQL and
# Redis as `services:` (health-checked with pg_isready / redis-cli ping),
# whose steps create a table and write and read through both from the host
# and then from a `container:` job — on podman, offline: the images are
# built from Debian's packages (tests/containers/images.sh, cached under
# build/test-images). Skipped when podman or mmdebstrap is missing.
set -euo pipefail
KILN=${1:-build/kiln}
KILN=$(cd "$(dirname "$KILN")" && pwd)/$(basename "$KILN")
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null; then
	echo "containers-demo: skipped (podman and mmdebstrap are needed: make deps)"
	exit 0
fi
export CONTAINERS_CONF="$here/../build/test-images/containers.conf"
echo "== test images (built once from Debian packages, then cached)"
"$here/../tests/containers/images.sh" "$here/../build"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-containers-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export KILN_HOME="$tmp/kiln-home" GIT_CONFIG_NOSYSTEM=1
git() { command git -c user.name=demo -c user.email=demo@example.com -c init.defaultBranch=main "$@"; }

mkdir -p "$tmp/repo/.github/workflows"
cd "$tmp/repo"
cat >.github/workflows/ci.yml <<'YML'
name: api
on: push
jobs:
  host:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: kiln-test/postgres
        env: { POSTGRES_PASSWORD: demo, POSTGRES_DB: app }
        ports: ["5432"]
        options: --health-cmd pg_isready --health-interval 1s --health-retries 30
      redis:
        image: kiln-test/redis
        ports: ["6379"]
        options: --health-cmd "redis-cli ping" --health-interval 1s --health-retries 30
    env:
      PGPASSWORD: demo
    steps:
      - name: write through PostgreSQL and Redis from the host
        run: |
          psql -h 127.0.0.1 -p ${{ job.services.postgres.ports['5432'] }} -U postgres -d app \
            -c "CREATE TABLE visits (n int)" -c "INSERT INTO visits VALUES (42)"
          redis-cli -p ${{ job.services.redis.ports['6379'] }} set greeting hello
      - name: read back
        run: |
          psql -h 127.0.0.1 -p ${{ job.services.postgres.ports['5432'] }} -U postgres -d app -At -c "SELECT n FROM visits"
          redis-cli -p ${{ job.services.redis.ports['6379'] }} get greeting
  in-container:
    runs-on: ubuntu-latest
    container: kiln-test/postgres
    services:
      postgres:
        image: kiln-test/postgres
        env: { POSTGRES_PASSWORD: demo }
        options: --health-cmd pg_isready --health-interval 1s --health-retries 30
    env:
      PGPASSWORD: demo
    steps:
      - name: the service by its id as host name
        run: |
          psql -h postgres -U postgres -At -c "SELECT 'from the job container, ' || version()"
YML
git init -q && git add -A && git commit -q -m "ci with services"
echo "== the workflow"
cat .github/workflows/ci.yml
echo
echo "== kiln run"
"$KILN" run -p 2
