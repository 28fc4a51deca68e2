# tests/e2e/lib-haproxy.sh: HAProxy in front of kiln serve (one or more
# replicas), sourced after lib.sh. Kill it at exit with haproxy_kill.
#
#   free_port                 (tests/lib-port.sh) a free TCP port on 127.0.0.1
#   haproxy_start [--check] [--reload] PORT BIND SERVER...   HAProxy on 127.0.0.1:PORT,
#                             extra bind options BIND (e.g. "ssl crt FILE", "" for none),
#                             round robin over SERVER (host:port); with ssl it sets
#                             X-Forwarded-Proto. --check: each server health-checked
#                             every 300 ms (down after one failure, up after one
#                             success), a failed request retried on another (retries 3,
#                             option redispatch). --reload: an HAProxy started before
#                             hands over to the new one (haproxy -sf, a seamless
#                             reload: new server ports), else a first one starts
#   haproxy_wait URL [CURL ARGS]   until URL answers (bounded: 10 s)
#   haproxy_kill              kill -9 the HAProxy started

test_have_prereq HAPROXY || test_skip_all "haproxy is not installed"

haproxy_start() {
	local check= reload= port bind n=0 s
	while :; do
		case $1 in
		--check) check=" check inter 300 fall 1 rise 1" ;;
		--reload) reload=1 ;;
		*) break ;;
		esac
		shift
	done
	port=$1 bind=$2
	shift 2
	{
		printf 'global\n  pidfile %s\ndefaults\n  mode http\n' "$TRASH/haproxy.pid"
		printf '  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n'
		[ -z "$check" ] || printf '  retries 3\n  option redispatch\n'
		printf 'frontend kiln\n  bind 127.0.0.1:%s%s\n' "$port" "${bind:+ $bind}"
		case $bind in *ssl*) printf '  http-request set-header X-Forwarded-Proto https\n' ;; esac
		printf '  default_backend replicas\nbackend replicas\n  balance roundrobin\n'
		for s; do n=$((n + 1)); printf '  server s%d %s%s\n' $n "$s" "$check"; done
	} >"$TRASH/haproxy.cfg" &&
	if [ -n "$reload" ] && [ -f "$TRASH/haproxy.pid" ]; then
		haproxy -f "$TRASH/haproxy.cfg" -D -sf "$(cat "$TRASH/haproxy.pid")"
	else
		haproxy -f "$TRASH/haproxy.cfg" -D
	fi
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
