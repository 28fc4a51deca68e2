# lib-remote.sh: action repositories served on loopback for the t47xx
# remote-action tests — a bare path, `git daemon` (git://) and smart HTTP
# (`git http-backend` behind tests/e2e/git-http-server.py, optionally
# demanding a token). Source after tests/lib.sh. Start servers at the top
# level of a test script (not inside a test body): they are killed at exit.

SRV="$TRASH/srv"
mkdir -p "$SRV"
_srv_pids=
_srv_cleanup() {
	for p in $_srv_pids; do kill "$p" 2>/dev/null; done
	_cleanup
}
trap _srv_cleanup EXIT

# a fresh kiln data directory (so a fresh action cache): use_home NAME
use_home() {
	export KILN_HOME="$TRASH/home-$1"
	mkdir -p "$KILN_HOME"
}

# action_repo OWNER/REPO: an empty work repository at work/OWNER/REPO
action_repo() {
	mkdir -p "work/$1" &&
	git -C "work/$1" init -q
}

# commit_all OWNER/REPO MESSAGE
commit_all() {
	git -C "work/$1" add -A &&
	git -C "work/$1" commit -q -m "$2"
}

# publish OWNER/REPO: mirror the work repository's branches and tags into
# the served bare repository srv/OWNER/REPO
publish() {
	if [ ! -d "$SRV/$1" ]; then
		mkdir -p "$SRV/$1" && git -C "$SRV/$1" init -q --bare
	fi
	git -C "work/$1" push -q --mirror "$SRV/$1"
}

# wait (bounded: 10 s) until 127.0.0.1:$1 accepts connections
_wait_port() {
	python3 - "$1" <<-\PY
	import socket, sys, time
	for _ in range(100):
	    try:
	        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
	        sys.exit(0)
	    except OSError:
	        time.sleep(0.1)
	sys.exit(1)
	PY
}

# start_git_daemon: git://127.0.0.1:$GIT_PORT/OWNER/REPO, pid in $GIT_DAEMON_PID
start_git_daemon() {
	GIT_PORT=$(free_port)
	git daemon --reuseaddr --export-all --base-path="$SRV" --listen=127.0.0.1 \
		--port="$GIT_PORT" >"$TRASH/git-daemon.log" 2>&1 &
	GIT_DAEMON_PID=$!
	_srv_pids="$_srv_pids $GIT_DAEMON_PID"
	_wait_port "$GIT_PORT"
}

# start_http [TOKEN]: http://127.0.0.1:$HTTP_PORT/OWNER/REPO, pid in $HTTP_PID;
# with TOKEN, basic auth with that password is required
start_http() {
	rm -f "$TRASH/http.port"
	python3 "$TEST_ROOT/e2e/git-http-server.py" "$SRV" "$TRASH/http.port" "$@" \
		>>"$TRASH/http.log" 2>&1 &
	HTTP_PID=$!
	_srv_pids="$_srv_pids $HTTP_PID"
	for _ in $(seq 100); do
		[ -s "$TRASH/http.port" ] && break
		sleep 0.1
	done
	HTTP_PORT=$(cat "$TRASH/http.port")
	_wait_port "$HTTP_PORT"
}
