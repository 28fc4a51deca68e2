/*
 * agentd: the server side of `kiln agent` workers (docs/internals/agents.md,
 * docs/api.md "Agents"): registration tokens exchanged for agent tokens,
 * the long-polled lease of queued agent jobs, source download, log upload
 * in sequence, heartbeats and completion; a 1 s sweep re-queues (or fails)
 * jobs whose agent's lease expired and says why a queued job waits ("no
 * agent with labels [gpu]").
 *
 * Agent calls carry `Authorization: Bearer kagt_...` (agents table, kept as
 * SHA-256); an unknown or revoked token is answered 401. A call about a job
 * whose lease the agent no longer holds is answered 409 `lease_lost`.
 */
#ifndef KILN_SERVER_AGENTD_H
#define KILN_SERVER_AGENTD_H

#include "store/sql.h"
#include <stdint.h>

#include "base/buf.h"

struct srv;
struct agentd;

#define AGENT_TOKEN_PREFIX "kagt_"
#define AGENT_REG_PREFIX "kreg_"

/* close what a previous server left open, register the routes, start the
 * sweep; 0 or -1 with err */
int agentd_new(struct srv *s, struct agentd **out, struct buf *err);
/* end the waiting long-polls and stop the sweep (SIGTERM) */
void agentd_stop(struct agentd *a);
void agentd_free(struct agentd *a);

/* a new registration token (clear, appended to token_out) for actor,
 * valid ttl_ms (0: no expiry); audited. 0 or -1 with err */
int agentd_regtoken_create(struct db *db, const char *actor, int64_t ttl_ms, struct buf *token_out,
			   int64_t *id, struct buf *err);

#endif
