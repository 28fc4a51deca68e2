# tests/lib-pg.sh: a real PostgreSQL for tests, in a temporary directory,
# on a free loopback port; sourced by tests/with-pg and by e2e tests run
# with KILN_TEST_DB=pg (lib-serve.sh). Debian's server binaries live in
# /usr/lib/postgresql/N/bin (`make deps` installs postgresql).
#
#   pg_start     initdb + pg_ctl start; sets PG_URL (postgresql://kiln@127.0.0.1:PORT/kiln)
#                and PG_DIR; returns 1 (with a message) when PostgreSQL is not installed
#   pg_stop      stop the server and remove its directory
#   pg_psql SQL  run SQL as the kiln user: rows as "a|b", one a line (like sqlite3)
#
# initdb refuses to run as root: as root the cluster belongs to `nobody`
# (runuser); the directory is made for it outside the root-only test dir.

. "$(dirname "${BASH_SOURCE[0]}")/lib-port.sh"

pg_bindir() {
	local d
	d=$(pg_config --bindir 2>/dev/null)
	[ -x "$d/initdb" ] || d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -x "$d/initdb" ] && echo "$d"
}

# run a PostgreSQL server program as the cluster's owner
pg_as_owner() {
	if [ "$(id -u)" = 0 ]; then
		(cd "$PG_DIR" && runuser -u nobody -- "$@")
	else
		(cd "$PG_DIR" && "$@")
	fi
}

pg_start() {
	PG_BIN=$(pg_bindir) || { echo "PostgreSQL is not installed (make deps installs it)" >&2; return 1; }
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kiln-pg.XXXXXX") || return 1
	chmod 755 "$PG_DIR"
	[ "$(id -u)" = 0 ] && chown nobody "$PG_DIR"
	pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U kiln --auth=trust -E UTF8 --no-locale \
		--no-sync >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
	local port try
	# another test may take the port between the probe and the bind: retry
	for try in 1 2 3; do
		port=$(free_port)
		pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 \
			-o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
			start >/dev/null 2>&1 && break
		port=
	done
	[ -n "$port" ] || { echo "PostgreSQL did not start:" >&2; cat "$PG_DIR/log" >&2; return 1; }
	PG_PORT=$port
	PG_URL="postgresql://kiln@127.0.0.1:$port/kiln"
	"$PG_BIN/psql" -q -h 127.0.0.1 -p "$port" -U kiln -d postgres -c 'CREATE DATABASE kiln' \
		>/dev/null || return 1
	export PG_BIN PG_DIR PG_PORT PG_URL
}

pg_psql() {
	"$PG_BIN/psql" -X -q -A -t -F '|' -h 127.0.0.1 -p "$PG_PORT" -U kiln -d kiln \
		-v ON_ERROR_STOP=1 -c "$1"
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$PG_DIR"
	PG_DIR=
}
