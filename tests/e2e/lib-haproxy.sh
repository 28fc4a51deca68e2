# tests/e2e/lib-haproxy.sh: HAProxy in front of kiln serve (one or more
# replicas), sourced after lib.sh. Kill it at exit with haproxy_kill.
#
#   free_port                 (tests/lib-port.sh) a free TCP port on 127.0.0.1
#   haproxy_start PORT BIND SERVER...   HAProxy on 127.0.0.1:PORT, extra bind options
#                             BIND (e.g. "ssl crt FILE", "" for none), round robin over
#                             SERVER (host:port); with ssl it sets X-Forwarded-Proto
#   haproxy_wait URL [CURL ARGS]   until URL answers (bounded: 10 s)
#   haproxy_kill              kill -9 the HAProxy started

test_have_prereq HAPROXY || test_skip_all "haproxy is not installed"

haproxy_start() {
	local port=$1 bind=$2 n=0 s
	shift 2
	{
		printf 'global\n  pidfile %s\ndefaults\n  mode http\n' "$TRASH/haproxy.pid"
		printf '  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n'
		printf 'frontend kiln\n  bind 127.0.0.1:%s%s\n' "$port" "${bind:+ $bind}"
		case $bind in *ssl*) printf '  http-request set-header X-Forwarded-Proto https\n' ;; esac
		printf '  default_backend replicas\nbackend replicas\n  balance roundrobin\n'
		for s; do n=$((n + 1)); printf '  server s%d %s\n' $n "$s"; done
	} >"$TRASH/haproxy.cfg" &&
	haproxy -f "$TRASH/haproxy.cfg" -D
}

haproxy_wait() {
	local url=$1 i
	shift
	for i in $(seq 1 100); do
		curl -sf "$@" "$url" >/dev/null && return 0
		sleep 0.1
	done
	echo "HAProxy does not answer at $url" >&2
	return 1
}

haproxy_kill() {
	local p
	p=$(cat "$TRASH/haproxy.pid" 2>/dev/null) && [ -n "$p" ] && kill -9 "$p" 2>/dev/null
	return 0
}
