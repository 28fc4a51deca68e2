# tests/e2e/lib-gitops.sh: a config repository for `kiln deployd
# --config-repo` tests, sourced after lib-deploy.sh. The repository is a
# real bare repository (config.git) with a work clone (cfg/) the tests
# edit and push, as a person or CI would.
#
#   cfg_init                      config.git + cfg/ on branch main
#   cfg_app NAME [PORT] <<EOF     cfg/apps/NAME.yml: the demo app (command or image
#                                 as lib-deploy's write_app) plus the given keys
#   cfg_demo NAME PORT VERSION AUTOMATED [LINE...]
#                                 cfg_app NAME PORT ("" = $PORT) with the health check
#                                 (/health every 100ms), progressDeadline $DEADLINE,
#                                 version VERSION, automated AUTOMATED ("-" = none: a
#                                 manual sync) and the given YAML lines
#   cfg_push MSG                  commit everything in cfg/ and push; prints the commit
#   start_gitopsd ARGS...         kiln deployd --config-repo config.git (or $CFG_URL) --path apps ARGS
#   app_field APP COLUMN          SYNC, HEALTH, WANT or LIVE of APP in `kiln status`
#   hook_push SECRET [REF]        POST a signed GitHub push of REF to the webhook
#
# With lib-serve.sh and lib-ui.sh too (kiln serve running the controller):
#   api_app APP FIELD             a field of GET /api/v1/apps/APP (a.b for nested; "" if null)
#   api_app_has APP FIELD VALUE   the field says VALUE now
#   api_app_is APP SYNC HEALTH LIVE   the API says so now
#   config_hook FORGE SECRET [REF]    a signed push of REF to /hooks/config/FORGE: status, body

cfg_init() {
	git init -q --bare -b main "$TRASH/config.git" &&
	git clone -q "$TRASH/config.git" "$TRASH/cfg" 2>/dev/null &&
	git -C "$TRASH/cfg" checkout -q -b main &&
	git -C "$TRASH/cfg" config user.name "CI" &&
	git -C "$TRASH/cfg" config user.email ci@example.com &&
	mkdir -p "$TRASH/cfg/apps"
}

cfg_app() {
	local name=$1 port=${2:-$PORT}
	write_app "$name" &&
	sed "s/^listen: .*/listen: 127.0.0.1:$port/" "$TRASH/repo/.kiln/apps/$name.yml" >"$TRASH/cfg/apps/$name.yml" &&
	rm "$TRASH/repo/.kiln/apps/$name.yml" &&
	if [ "$DEPLOY_KIND" = process ]; then
		# the releases live beside the repository, not in it
		sed -i "s|^dir: .*|dir: $TRASH/repo/releases/\$KILN_RELEASE|" "$TRASH/cfg/apps/$name.yml"
	fi
}

cfg_demo() {
	local name=$1 port=${2:-$PORT} version=$3 automated=$4
	shift 4
	{
		[ $# = 0 ] || printf '%s\n' "$@"
		echo "health: {http: {path: /health}, interval: 100ms, timeout: 1s}"
		echo "progressDeadline: $DEADLINE"
		echo "version: $version"
		[ "$automated" = - ] || echo "automated: $automated"
	} | cfg_app "$name" "$port"
}

cfg_push() {
	git -C "$TRASH/cfg" add -A &&
	git -C "$TRASH/cfg" commit -q -m "$1" &&
	git -C "$TRASH/cfg" push -q origin main 2>/dev/null &&
	git -C "$TRASH/cfg" rev-parse HEAD
}

start_gitopsd() {
	kiln deployd --config-repo "${CFG_URL:-$TRASH/config.git}" --path apps "$@" >>"$TRASH/deployd.log" 2>&1 &
	local DEPLOYD_PID=$!
	echo $DEPLOYD_PID >"$TRASH/deployd.pid"
	local i
	for i in $(seq 1 600); do
		[ -S "$KILN_DEPLOY_STATE/deployd.sock" ] && [ -S "$KILN_DEPLOY_STATE/haproxy.sock" ] &&
			kiln status >/dev/null 2>&1 && return 0
		kill -0 "$DEPLOYD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "deployd did not start:" >&2
	cat "$TRASH/deployd.log" >&2
	return 1
}

# app_field APP SYNC|HEALTH|WANT|LIVE
app_field() {
	kiln status | awk -v app="$1" -v col="$2" '
		$1 == "APP" { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == app { print $idx[col] }'
}

# app_is APP SYNC HEALTH LIVE: the app is in that state now
app_is() {
	[ "$(app_field "$1" SYNC)" = "$2" ] && [ "$(app_field "$1" HEALTH)" = "$3" ] &&
	[ "$(app_field "$1" LIVE)" = "$4" ]
}

# hook_push SECRET [REF]: a GitHub push delivery of REF (refs/heads/main),
# signed with SECRET ("-" = unsigned, "bad" = a wrong key); prints the status
hook_push() {
	local body sig
	body=$(printf '{"ref":"%s","before":"%040d","after":"%040d","repository":{"full_name":"acme/config","clone_url":"%s"},"sender":{"login":"ci"}}' \
		"${2:-refs/heads/main}" 0 1 "$TRASH/config.git")
	sig=$(python3 -c 'import hmac,hashlib,sys; print("sha256=" + hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$1" "$body")
	if [ "$1" = - ]; then
		curl -s -o /dev/null -w '%{http_code}' -H "X-GitHub-Event: push" -H "Content-Type: application/json" \
			--data-binary "$body" "http://127.0.0.1:$HOOK_PORT/"
	else
		curl -s -o /dev/null -w '%{http_code}' -H "X-GitHub-Event: push" -H "Content-Type: application/json" \
			-H "X-Hub-Signature-256: $sig" --data-binary "$body" "http://127.0.0.1:$HOOK_PORT/"
	fi
}

api_app() {
	curl -s -H "Authorization: Bearer $(ui_admin_token)" "$(serve_url)/api/v1/apps/$1" |
	python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$2"
}

api_app_has() {
	[ "$(api_app "$1" "$2")" = "$3" ]
}

api_app_is() {
	api_app_has "$1" sync "$2" && api_app_has "$1" health "$3" && api_app_has "$1" live "$4"
}

config_hook() {
	local event=push
	[ "$1" = gitlab ] && event="Push Hook"
	HOOK_PATH=hooks/config hook "$1" "$event" \
		"{\"ref\":\"${3:-refs/heads/main}\",\"before\":\"$(printf %040d 0)\",\"after\":\"$(printf %040d 1)\",\"repository\":{\"full_name\":\"acme/config\"},\"sender\":{\"login\":\"ci\"}}" \
		"" "$2"
}
