/*
 * migrations: the numbered schema of the SQLite store. Append only: never
 * edit a migration that has shipped; add a new one. Index i is schema
 * version i + 1.
 */
#include "store/migrations.h"

const char *const db_migrations[] = {
	/* 1: bookkeeping */
	"CREATE TABLE IF NOT EXISTS kiln_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
	/* 2: deploy: releases, the append-only audit log, instances, app state */
	"CREATE TABLE deploy_releases (id INTEGER PRIMARY KEY, app TEXT NOT NULL, version TEXT NOT NULL,"
	" strategy TEXT NOT NULL, user TEXT NOT NULL DEFAULT '', started_at TEXT NOT NULL,"
	" finished_at TEXT, duration_ms INTEGER, outcome TEXT NOT NULL DEFAULT 'running', reason TEXT);"
	"CREATE INDEX deploy_releases_app ON deploy_releases(app, id);"
	"CREATE TABLE deploy_audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, app TEXT NOT NULL,"
	" release_id INTEGER, event TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');"
	"CREATE TRIGGER deploy_audit_no_update BEFORE UPDATE ON deploy_audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER deploy_audit_no_delete BEFORE DELETE ON deploy_audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TABLE deploy_instances (app TEXT NOT NULL, slot INTEGER NOT NULL, release_id INTEGER,"
	" version TEXT, port INTEGER, pid INTEGER, role TEXT NOT NULL, PRIMARY KEY (app, slot));"
	"CREATE TABLE deploy_apps (app TEXT PRIMARY KEY, stable_release INTEGER, stable_version TEXT,"
	" maintenance INTEGER NOT NULL DEFAULT 0);",
	/* 3: secrets (src/secret): values sealed with crypto_secretbox; env '' is
	 * repository-level */
	"CREATE TABLE secrets (env TEXT NOT NULL, name TEXT NOT NULL, nonce BLOB NOT NULL,"
	" box BLOB NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (env, name));",
	/* 4: run history (src/store/runs.c): times are unix milliseconds, logs are
	 * zstd-compressed chunks in order of seq */
	"CREATE TABLE runs (id INTEGER PRIMARY KEY, workflow TEXT NOT NULL, name TEXT NOT NULL,"
	" number INTEGER NOT NULL, event TEXT NOT NULL, ref TEXT NOT NULL DEFAULT '',"
	" sha TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, conclusion TEXT,"
	" started_at INTEGER NOT NULL, finished_at INTEGER, UNIQUE (workflow, number));"
	"CREATE TABLE jobs (id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, name TEXT NOT NULL,"
	" status TEXT NOT NULL, conclusion TEXT, started_at INTEGER, finished_at INTEGER);"
	"CREATE INDEX jobs_run ON jobs (run_id);"
	"CREATE TABLE steps (id INTEGER PRIMARY KEY,"
	" job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE, number INTEGER NOT NULL,"
	" name TEXT NOT NULL, status TEXT NOT NULL, conclusion TEXT, started_at INTEGER,"
	" finished_at INTEGER);"
	"CREATE INDEX steps_job ON steps (job_id);"
	"CREATE TABLE logs (job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	" seq INTEGER NOT NULL, raw_len INTEGER NOT NULL, data BLOB NOT NULL,"
	" PRIMARY KEY (job_id, seq));",
	/* 5: server access (src/store/users.c, src/server/auth.c): local users
	 * (Argon2id password strings), groups for required reviewers, API tokens
	 * stored as SHA-256 hex, failed-login back-off, and the append-only
	 * server audit log (src/store/audit.c); times are unix milliseconds */
	"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, pwhash TEXT,"
	" role TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
	"CREATE TABLE user_groups (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);"
	"CREATE TABLE user_group_members (group_name TEXT NOT NULL"
	" REFERENCES user_groups(name) ON DELETE CASCADE,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" PRIMARY KEY (group_name, user_id));"
	"CREATE TABLE api_tokens (id INTEGER PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, name TEXT NOT NULL,"
	" hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL, created_at INTEGER NOT NULL,"
	" expires_at INTEGER, last_used_at INTEGER, revoked_at INTEGER);"
	"CREATE INDEX api_tokens_user ON api_tokens (user_id);"
	"CREATE TABLE login_failures (key TEXT PRIMARY KEY, failures INTEGER NOT NULL,"
	" last_at INTEGER NOT NULL, locked_until INTEGER NOT NULL);"
	"CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,"
	" action TEXT NOT NULL, repo TEXT NOT NULL DEFAULT '', target TEXT NOT NULL DEFAULT '',"
	" detail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX audit_log_at ON audit_log (at);"
	"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
	/* 6: environments (src/store/envs.c): protection rules, variables,
	 * sealed secrets, deployments (the DORA record) and their reviews */
	"CREATE TABLE environments (id INTEGER PRIMARY KEY, repo TEXT NOT NULL, name TEXT NOT NULL,"
	" wait_timer_ms INTEGER NOT NULL DEFAULT 0, prevent_self_review INTEGER NOT NULL DEFAULT 0,"
	" approval_timeout_ms INTEGER NOT NULL, custom_branches INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL, UNIQUE (repo, name));"
	"CREATE TABLE env_reviewers (env_id INTEGER NOT NULL REFERENCES environments(id)"
	" ON DELETE CASCADE, seq INTEGER NOT NULL, reviewer TEXT NOT NULL, PRIMARY KEY (env_id, seq));"
	"CREATE TABLE env_patterns (env_id INTEGER NOT NULL REFERENCES environments(id)"
	" ON DELETE CASCADE, seq INTEGER NOT NULL, pattern TEXT NOT NULL, PRIMARY KEY (env_id, seq));"
	"CREATE TABLE env_variables (env_id INTEGER NOT NULL REFERENCES environments(id)"
	" ON DELETE CASCADE, name TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL,"
	" PRIMARY KEY (env_id, name));"
	"CREATE TABLE env_secrets (env_id INTEGER NOT NULL REFERENCES environments(id)"
	" ON DELETE CASCADE, name TEXT NOT NULL, box BLOB NOT NULL, updated_at INTEGER NOT NULL,"
	" PRIMARY KEY (env_id, name));"
	"CREATE TABLE deployments (id INTEGER PRIMARY KEY, repo TEXT NOT NULL,"
	" environment TEXT NOT NULL, run_id INTEGER NOT NULL, job_id INTEGER NOT NULL,"
	" job TEXT NOT NULL DEFAULT '', ref TEXT NOT NULL DEFAULT '', sha TEXT NOT NULL DEFAULT '',"
	" actor TEXT NOT NULL DEFAULT '', commit_at INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,"
	" reason TEXT NOT NULL DEFAULT '', approved_by TEXT NOT NULL DEFAULT '',"
	" release_app TEXT NOT NULL DEFAULT '', release_id INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL, started_at INTEGER NOT NULL DEFAULT 0,"
	" finished_at INTEGER NOT NULL DEFAULT 0, UNIQUE (run_id, job_id));"
	"CREATE INDEX deployments_env ON deployments (repo, environment, state, id);"
	"CREATE TABLE deployment_reviews (id INTEGER PRIMARY KEY,"
	" deployment_id INTEGER NOT NULL REFERENCES deployments(id), reviewer TEXT NOT NULL,"
	" decision TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '', at INTEGER NOT NULL);",
	/* 7: server (src/store/repos.c): repositories with their sealed webhook
	 * secret, the refs polling last saw, and accepted events (a delivery id
	 * is stored once per source) */
	"CREATE TABLE repos (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL,"
	" mirror TEXT NOT NULL, default_branch TEXT NOT NULL DEFAULT '', secret_box BLOB NOT NULL,"
	" poll_ms INTEGER NOT NULL DEFAULT 0, polled_at INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE repo_refs (repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
	" ref TEXT NOT NULL, sha TEXT NOT NULL, PRIMARY KEY (repo_id, ref));"
	"CREATE TABLE events (id INTEGER PRIMARY KEY,"
	" repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE, source TEXT NOT NULL,"
	" delivery TEXT, kind TEXT NOT NULL, action TEXT NOT NULL DEFAULT '',"
	" ref TEXT NOT NULL DEFAULT '', before_sha TEXT NOT NULL DEFAULT '',"
	" sha TEXT NOT NULL DEFAULT '', actor TEXT NOT NULL DEFAULT '',"
	" fork INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0, payload TEXT NOT NULL,"
	" status TEXT NOT NULL, received_at INTEGER NOT NULL, UNIQUE (source, delivery));"
	"CREATE INDEX events_queue ON events (status, id);",
	/* 8: notification webhooks (src/store/hooks.c): per repository or
	 * environment, the URL sealed (src/secret) with only its host in clear */
	"CREATE TABLE notify_hooks (id INTEGER PRIMARY KEY, repo TEXT NOT NULL,"
	" environment TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL, events TEXT NOT NULL DEFAULT '',"
	" host TEXT NOT NULL, url_box BLOB NOT NULL, created_at INTEGER NOT NULL);"
	"CREATE INDEX notify_hooks_repo ON notify_hooks (repo, environment);",
	/* 9: run history survives a crash (src/store/recover.c): the repository
	 * of a run (absolute work tree), its owning kiln process (owner.h) so
	 * the next kiln closes the runs of dead processes, the reason such a run
	 * was closed, and log lines not yet in a compressed chunk (log_tail,
	 * stored per event-loop turn, folded into `logs` per chunk) */
	"ALTER TABLE runs ADD COLUMN repo TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE runs ADD COLUMN owner_host TEXT;"
	"ALTER TABLE runs ADD COLUMN owner_boot TEXT;"
	"ALTER TABLE runs ADD COLUMN owner_pid INTEGER;"
	"ALTER TABLE runs ADD COLUMN owner_start INTEGER;"
	"ALTER TABLE runs ADD COLUMN reason TEXT;"
	"CREATE INDEX runs_open ON runs (id) WHERE status = 'in_progress';"
	"CREATE INDEX runs_repo ON runs (repo, id);"
	"CREATE TABLE log_tail (job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	" seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (job_id, seq));",
	/* 10: the server's queue (src/server/queue.c): when an event's run
	 * started and ended, how (exit status of its `kiln run`), and why it
	 * ended abnormally ("server restarted", "cancelled") */
	"ALTER TABLE events ADD COLUMN started_at INTEGER;"
	"ALTER TABLE events ADD COLUMN finished_at INTEGER;"
	"ALTER TABLE events ADD COLUMN exit_code INTEGER;"
	"ALTER TABLE events ADD COLUMN reason TEXT NOT NULL DEFAULT '';",
	/* 11: commit statuses back to the forge (src/server/status.c): which
	 * forge's API, its base URL, the project path there, the token sealed
	 * (secret_seal "status:REPO") */
	"ALTER TABLE repos ADD COLUMN status_forge TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE repos ADD COLUMN status_api TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE repos ADD COLUMN status_project TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE repos ADD COLUMN status_token_box BLOB;",
	/* 12: a job's step summaries ($GITHUB_STEP_SUMMARY, masked Markdown;
	 * the web UI renders them) */
	"ALTER TABLE jobs ADD COLUMN summary TEXT;",
	/* 13: re-runs (src/server/api_runs.c): an event re-run is a new event
	 * with the next attempt, pointing at the event it repeats */
	"ALTER TABLE events ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE events ADD COLUMN rerun_of INTEGER;",
	/* 14: what a run leaves besides logs (src/store/artifacts.c,
	 * annotations.c): artifacts uploaded by actions/upload-artifact (the
	 * blob kept under <data>/artifacts/<digest>.tzst until expires_at) and
	 * the ::error/::warning/::notice annotations of its jobs */
	"CREATE TABLE artifacts (id INTEGER PRIMARY KEY,"
	" run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, job_id BIGINT,"
	" name TEXT NOT NULL, size BIGINT NOT NULL, files BIGINT NOT NULL, digest TEXT NOT NULL,"
	" created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,"
	" expired INTEGER NOT NULL DEFAULT 0, UNIQUE (run_id, name));"
	"CREATE INDEX artifacts_expiry ON artifacts (expired, expires_at);"
	"CREATE TABLE annotations (id INTEGER PRIMARY KEY,"
	" run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	" job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE, level TEXT NOT NULL,"
	" step TEXT NOT NULL DEFAULT '', file TEXT NOT NULL DEFAULT '', line INTEGER NOT NULL DEFAULT 0,"
	" col INTEGER NOT NULL DEFAULT 0, title TEXT NOT NULL DEFAULT '', message TEXT NOT NULL,"
	" created_at BIGINT NOT NULL);"
	"CREATE INDEX annotations_run ON annotations (run_id, id);",
	/* 15: a repository's runs in the bubblewrap sandbox (kiln run
	 * --isolate): '' the server's default, 'off', 'on', 'no-network' */
	"ALTER TABLE repos ADD COLUMN isolate TEXT NOT NULL DEFAULT '';",
	/* 16: `kiln agent` workers (src/store/agents.c, docs/internals/agents.md):
	 * registration tokens and agents (token hashes, labels), jobs handed to
	 * agents as leasable rows (lease_acked: the agent confirmed the lease
	 * answer reached it), and the log events agents uploaded for them */
	"CREATE TABLE agent_reg_tokens (id INTEGER PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE,"
	" created_by TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT,"
	" revoked_at BIGINT);"
	"CREATE TABLE agents (id INTEGER PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL,"
	" token_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, seen_at BIGINT,"
	" revoked_at BIGINT);"
	"CREATE TABLE agent_jobs (id INTEGER PRIMARY KEY, run_id BIGINT NOT NULL,"
	" job_id BIGINT NOT NULL, repo TEXT NOT NULL, name TEXT NOT NULL, labels TEXT NOT NULL,"
	" spec TEXT NOT NULL, secrets_box TEXT, source TEXT NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'queued', reason TEXT NOT NULL DEFAULT '',"
	" attempt INTEGER NOT NULL DEFAULT 1, lease_owner BIGINT, lease_expires_at BIGINT,"
	" cancel INTEGER NOT NULL DEFAULT 0, log_seq BIGINT NOT NULL DEFAULT 0, result TEXT,"
	" outputs TEXT, summary TEXT, created_at BIGINT NOT NULL, leased_at BIGINT,"
	" finished_at BIGINT, lease_acked INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX agent_jobs_open ON agent_jobs (status, id);"
	"CREATE TABLE agent_logs (ajob_id BIGINT NOT NULL, seq BIGINT NOT NULL,"
	" event TEXT NOT NULL, PRIMARY KEY (ajob_id, seq));",
	/* 17: a server run names its event and repository (set by `kiln run
	 * --server-repo --server-event`, src/server/queue.c) and its attempt
	 * (github.run_attempt); runs recorded before are linked by their work
	 * tree <data>/work/<event>/src once, here */
	"ALTER TABLE runs ADD COLUMN event_id BIGINT;"
	"ALTER TABLE runs ADD COLUMN repo_name TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;"
	"UPDATE runs SET event_id = CAST(replace(substr(repo, 1, length(repo) - 4),"
	" rtrim(substr(repo, 1, length(repo) - 4), replace(substr(repo, 1, length(repo) - 4), '/', '')),"
	" '') AS INTEGER) WHERE repo LIKE '%/work/%/src';"
	"UPDATE runs SET event_id = NULL WHERE event_id IS NOT NULL AND (event_id <= 0 OR NOT EXISTS"
	" (SELECT 1 FROM events e WHERE e.id = runs.event_id) OR substr(repo, 1,"
	" length(repo) - length(CAST(event_id AS TEXT)) - 4) NOT LIKE '%/work/');"
	"UPDATE runs SET repo_name = (SELECT p.name FROM events e JOIN repos p ON p.id = e.repo_id"
	" WHERE e.id = runs.event_id), attempt = (SELECT e.attempt FROM events e"
	" WHERE e.id = runs.event_id) WHERE event_id IS NOT NULL;"
	"CREATE INDEX runs_event ON runs (event_id);"
	"CREATE INDEX runs_repo_name ON runs (repo_name, id);",
	/* 18: per-line log times (src/store/runs.c): when each line of a
	 * chunk (logs) or of a synced piece (log_tail) was written, unix ms as
	 * varints (the first absolute, then deltas); zstd-compressed in logs.
	 * NULL for logs recorded before */
	"ALTER TABLE logs ADD COLUMN times BLOB;"
	"ALTER TABLE log_tail ADD COLUMN times BLOB;",
	/* 19: `concurrency:` groups shared by every kiln process of a store
	 * (src/store/concurrency.c): one row per workflow run or job instance
	 * that asked for a group */
	"CREATE TABLE concurrency (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, grp TEXT NOT NULL,"
	" run_id BIGINT NOT NULL, job TEXT NOT NULL DEFAULT '', state TEXT NOT NULL,"
	" reason TEXT NOT NULL DEFAULT '', created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
	"CREATE INDEX concurrency_group ON concurrency (scope, grp, state);",
	/* 20: re-running only the failed jobs (src/server/api_runs.c): the run
	 * whose successful jobs an event's run reuses, and each job's outputs
	 * (JSON object) so a later attempt can hand them to its needs */
	"ALTER TABLE events ADD COLUMN reuse_run BIGINT;"
	"ALTER TABLE jobs ADD COLUMN outputs TEXT;",
	/* 21: gitops (src/deploy/gitops.c): the config repository commit a
	 * release applied and the hash of the app's file there; per app the
	 * last sync (a failed one is not retried until the file changes) */
	"ALTER TABLE deploy_releases ADD COLUMN config_commit TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE deploy_releases ADD COLUMN config_hash TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE deploy_sync (app TEXT PRIMARY KEY, config_hash TEXT NOT NULL,"
	" config_commit TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	" at BIGINT NOT NULL);",
	/* 22: re-running one job (src/server/api_runs.c, POST
	 * /api/v1/jobs/{id}/rerun): the display name of the job the event's
	 * run runs again (with reuse_run); NULL for every other event */
	"ALTER TABLE events ADD COLUMN rerun_job TEXT;",
	/* 23: server replicas (src/server/queue.c): one row per `kiln serve`
	 * start, its seen_at renewed every second on PostgreSQL; an event
	 * names the replica running it, so another replica fails the events
	 * of one that stopped renewing (NULL: claimed before this migration) */
	"CREATE TABLE replicas (id INTEGER PRIMARY KEY, host TEXT NOT NULL, data_dir TEXT NOT NULL,"
	" pid BIGINT NOT NULL, started_at BIGINT NOT NULL, seen_at BIGINT NOT NULL);"
	"ALTER TABLE events ADD COLUMN replica BIGINT;"
	"CREATE INDEX events_status ON events (status, replica);",
	/* 24: blobs in the store (src/store/blobs.c), shared by replicas: a
	 * run's files for agents, the artifacts agents upload; content
	 * addressed (BLAKE2b-256), chunks keyed by offset, the blobs row
	 * written last (complete) */
	"CREATE TABLE blobs (digest TEXT PRIMARY KEY, kind TEXT NOT NULL, size BIGINT NOT NULL,"
	" created_at BIGINT NOT NULL, used_at BIGINT NOT NULL);"
	"CREATE TABLE blob_chunks (digest TEXT NOT NULL, seq BIGINT NOT NULL, size BIGINT NOT NULL,"
	" data BLOB NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (digest, seq));",
	/* 25: caches of agent jobs (src/store/caches.c, actions/cache on a
	 * `kiln agent`): per repository, key and version (hash of the path
	 * list), the first writer of a key wins; the bytes are a blob of kind
	 * cache */
	"CREATE TABLE caches (id INTEGER PRIMARY KEY, repo TEXT NOT NULL, key TEXT NOT NULL,"
	" version TEXT NOT NULL, digest TEXT NOT NULL, size BIGINT NOT NULL,"
	" created_at BIGINT NOT NULL, UNIQUE (repo, key, version));"
	"CREATE INDEX caches_digest ON caches (repo, digest);",
	/* 26: deliveries of the GitOps config repository's webhook
	 * (src/server/hooks.c): a delivery id acted on once, like an event's
	 * (source, delivery); kept 30 days */
	"CREATE TABLE config_deliveries (source TEXT NOT NULL, delivery TEXT NOT NULL,"
	" received_at BIGINT NOT NULL, PRIMARY KEY (source, delivery));",
	/* 27: who uploaded a blob (src/server/agentd.c): per blob and run, the
	 * agent job and how many bytes it sent, each checked against the
	 * stored ones (a blob already in the store must be sent again: a
	 * digest is not a capability); an agent's artifact is recorded only
	 * for a blob its own run uploaded whole. The blob sweep's lookups by
	 * digest get their indexes. */
	"CREATE TABLE blob_uploads (digest TEXT NOT NULL, run_id BIGINT NOT NULL,"
	" job_id BIGINT NOT NULL, size BIGINT NOT NULL, created_at BIGINT NOT NULL,"
	" PRIMARY KEY (digest, run_id));"
	"CREATE INDEX artifacts_digest ON artifacts (digest);"
	"CREATE INDEX caches_by_digest ON caches (digest);",
};

const int db_nmigrations = (int)(sizeof(db_migrations) / sizeof(db_migrations[0]));
