#!/bin/bash
test_description='kiln serve: a run names its event and repository (runs.event_id, runs.repo_name); older runs are linked by the migration'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

# a data directory whose own path holds "/work/": the link must not
# depend on parsing paths
DATA="$TRASH/work/7/data"
export KILN_HOME="$DATA"
ZERO=0000000000000000000000000000000000000000

test_expect_success 'setup: a repository and the server' '
	test_create_repo src &&
	write_workflow src ci <<-\EOF &&
	name: CI
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo built
	EOF
	kiln repo add acme/app "$TRASH/src" >secret
'

start_serve --jobs 1
SECRET=$(cat secret)
TOKEN=$(cat "$DATA/initial-admin-token")

test_expect_success 'a server run records its repository, event and attempt' '
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" l1 >out &&
	wait_status 1 success &&
	kiln runs --all >out &&
	test_grep "^ID .* REPO$" out &&
	test_grep "CI .* push .* success .* acme/app$" out &&
	test_grep -v " src$" out &&
	kiln runs --all --json >runs.json &&
	python3 -c "import json; r=json.load(open(\"runs.json\"))[0]; assert r[\"repo_name\"]==\"acme/app\" and r[\"event_id\"]==1 and r[\"attempt\"]==1, r" &&
	curl -sS -H "Authorization: Bearer $TOKEN" "$(serve_url)/api/v1/runs?repo=acme/app" >api.json &&
	python3 -c "import json; r=json.load(open(\"api.json\"))[\"runs\"]; assert len(r)==1 and r[0][\"repo\"]==\"acme/app\" and r[0][\"event_id\"]==1 and r[0][\"actor\"]==\"alice\" and r[0][\"attempt\"]==1, r" &&
	curl -sS -H "Authorization: Bearer $TOKEN" "$(serve_url)/api/v1/runs?repo=other/app" >api.json &&
	python3 -c "import json; r=json.load(open(\"api.json\"))[\"runs\"]; assert r==[], r"
'

test_expect_success 'a local run names no repository or event' '
	(cd src && kiln run push >/dev/null 2>&1) &&
	kiln runs --all --json >runs.json &&
	python3 -c "import json; r=json.load(open(\"runs.json\"))[0]; assert r[\"repo_name\"] is None and r[\"event_id\"] is None and r[\"repo\"].endswith(\"/src\"), r" &&
	curl -sS -H "Authorization: Bearer $TOKEN" "$(serve_url)/api/v1/runs" >api.json &&
	python3 -c "import json; r=json.load(open(\"api.json\"))[\"runs\"]; assert r[0][\"repo\"]==\"\" and r[0][\"event_id\"] is None and r[1][\"repo\"]==\"acme/app\", r"
'

test_expect_success SQLITESTORE 'migration 17 links the server runs recorded before it (by work tree, once)' '
	stop_serve &&
	python3 - "$DATA/kiln.db" <<-\PY &&
	import sqlite3, sys
	db = sqlite3.connect(sys.argv[1])
	# back to schema 14: the run of event 1 as an older kiln recorded it
	db.executescript("DROP INDEX runs_event; DROP INDEX runs_repo_name;"
	                 "ALTER TABLE runs DROP COLUMN event_id; ALTER TABLE runs DROP COLUMN repo_name;"
	                 "ALTER TABLE runs DROP COLUMN attempt;"
	                 # and before 18 (per-line log times)
	                 "ALTER TABLE logs DROP COLUMN times; ALTER TABLE log_tail DROP COLUMN times;"
	                 # and before 19 (concurrency groups)
	                 "DROP TABLE concurrency;"
	                 # and before 20 (re-running the failed jobs)
	                 "ALTER TABLE events DROP COLUMN reuse_run; ALTER TABLE jobs DROP COLUMN outputs;"
	                 # and before 21 (gitops: the config commit of a release, the last sync)
	                 "ALTER TABLE deploy_releases DROP COLUMN config_commit;"
	                 "ALTER TABLE deploy_releases DROP COLUMN config_hash; DROP TABLE deploy_sync;"
	                 # and before 22 (one-job re-runs)
	                 "ALTER TABLE events DROP COLUMN rerun_job;"
	                 # and before 23 (server replicas), 24 (blobs in the store), 25
	                 # (the caches agents keep on the server) and 26 (config
	                 # webhook deliveries)
	                 "DROP INDEX events_status; ALTER TABLE events DROP COLUMN replica;"
	                 "DROP TABLE replicas; DROP TABLE blob_chunks; DROP TABLE blobs;"
	                 "DROP TABLE caches; DROP TABLE config_deliveries;"
	                 # and before 27 (blob uploaders, digest indexes)
	                 "DROP TABLE blob_uploads; DROP INDEX artifacts_digest;"
	                 # an older kiln kept the version in user_version alone
	                 "DROP TABLE schema_version; PRAGMA user_version = 16;")
	db.commit()
	PY
	kiln runs --all --json >runs.json &&
	python3 - <<-\PY
	import json
	r = json.load(open("runs.json"))
	local, server = r[0], r[1]
	assert server["repo_name"] == "acme/app" and server["event_id"] == 1, server
	assert local["repo_name"] is None and local["event_id"] is None, local
	PY
'

test_done
