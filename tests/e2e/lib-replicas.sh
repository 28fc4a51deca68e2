# tests/e2e/lib-replicas.sh: several `kiln serve` replicas on one PostgreSQL
# (PG_URL: tests/lib-pg.sh), each with its own data directory $TRASH/NAME.
#
#   replica NAME [ARGS]   start one (ARGS: more kiln serve options); its pid in
#                         $TRASH/NAME.pid, its port in $TRASH/NAME.port
#   url NAME              its base URL

replica() {
	local name=$1
	shift
	kiln serve --listen 127.0.0.1:0 --data "$TRASH/$name" --db "$PG_URL" --jobs 2 "$@" \
		>"$TRASH/$name.out" 2>>"$TRASH/$name.log" &
	echo $! >"$TRASH/$name.pid"
	local i port
	for i in $(seq 1 200); do
		port=$(sed -n 's/^listening //p' "$TRASH/$name.out")
		[ -n "$port" ] && { echo "$port" >"$TRASH/$name.port"; return 0; }
		sleep 0.05
	done
	cat "$TRASH/$name.log" >&2
	return 1
}

url() { echo "http://127.0.0.1:$(cat "$TRASH/$1.port")"; }
